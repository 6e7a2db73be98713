// period.cpp: valid-time and transaction-time algebra on Boost.Date_Time.
// Periods are boost::date_time::period over a microsecond point whose ends
// are PostgreSQL's infinities; calendar rendering uses boost::posix_time.
#include "period.hpp"

#include <algorithm>
#include <cstdio>

#include <boost/date_time/gregorian/gregorian_types.hpp>
#include <boost/date_time/period.hpp>
#include <boost/date_time/posix_time/posix_time_types.hpp>

#include "error.hpp"

namespace chronicle::core {

namespace {

// Ticks is a signed number of microseconds, the duration type of Point.
struct Ticks {
  Micros n;
  // unit is the smallest step, one microsecond, as boost's period requires.
  static Ticks unit() { return Ticks{1}; }
};

// is_infinite tells whether m is one of the two infinities.
bool is_infinite(Micros m) { return m == kInfinity || m == kMinusInfinity; }

// Point is a timestamptz as Boost's period sees it. The infinities absorb
// arithmetic (infinity - 1 is infinity, as in PostgreSQL) and finite results
// saturate instead of overflowing; no valid timestamptz lies within a
// microsecond of either infinity, so the saturation never changes an answer.
struct Point {
  Micros t;

  // operator+ moves the point forward by d, leaving the infinities in place.
  Point operator+(Ticks d) const {
    Micros r;
    if (is_infinite(t)) return *this;
    if (__builtin_add_overflow(t, d.n, &r)) return Point{d.n > 0 ? kInfinity : kMinusInfinity};
    return Point{r};
  }
  // operator- moves the point back by d, leaving the infinities in place.
  Point operator-(Ticks d) const {
    Micros r;
    if (is_infinite(t)) return *this;
    if (__builtin_sub_overflow(t, d.n, &r)) return Point{d.n > 0 ? kMinusInfinity : kInfinity};
    return Point{r};
  }
  // operator- returns the distance to an earlier point, saturated.
  Ticks operator-(Point o) const {
    Micros r;
    if (__builtin_sub_overflow(t, o.t, &r)) return Ticks{t > o.t ? kInfinity : kMinusInfinity};
    return Ticks{r};
  }
  // The comparison operators order points by time.
  bool operator<(Point o) const { return t < o.t; }
  bool operator>(Point o) const { return t > o.t; }
  bool operator<=(Point o) const { return t <= o.t; }
  bool operator>=(Point o) const { return t >= o.t; }
  bool operator==(Point o) const { return t == o.t; }
  bool operator!=(Point o) const { return t != o.t; }
};

using BoostPeriod = boost::date_time::period<Point, Ticks>;

// to_boost converts a Period to Boost's representation.
BoostPeriod to_boost(const Period& p) { return BoostPeriod(Point{p.from}, Point{p.to}); }

// from_boost converts Boost's representation back to a Period.
Period from_boost(const BoostPeriod& p) { return Period{p.begin().t, p.end().t}; }

namespace pt = boost::posix_time;
namespace greg = boost::gregorian;

static_assert(pt::time_duration::ticks_per_second() == 1000000, "posix_time must have microsecond resolution");

constexpr Micros kMicrosPerDay = 86400LL * 1000000LL;

// epoch returns PostgreSQL's timestamp epoch, 2000-01-01 00:00:00 UTC.
pt::ptime epoch() { return pt::ptime(greg::date(2000, 1, 1)); }

// first_rendered returns the Micros of 1400-01-01 00:00:00, Boost's first day.
Micros first_rendered() { return (greg::date(1400, 1, 1) - greg::date(2000, 1, 1)).days() * kMicrosPerDay; }

// last_rendered returns the Micros of 9999-12-31 23:59:59.999999, Boost's last instant.
Micros last_rendered() {
  return ((greg::date(9999, 12, 31) - greg::date(2000, 1, 1)).days() + 1) * kMicrosPerDay - 1;
}

}  // namespace

// check_period refuses a period whose start is not before its end.
void check_period(Micros from, Micros to) {
  if (to_boost(Period{from, to}).is_null() || !(from < to))
    throw Error("22000", "valid_from must be earlier than valid_to",
                "valid_from is " + to_iso(from) + " and valid_to is " + to_iso(to) + ".");
}

// intersect returns [max(a.from, b.from), min(a.to, b.to)), empty when the
// periods do not overlap.
Period intersect(const Period& a, const Period& b) {
  return from_boost(to_boost(a).intersection(to_boost(b)));
}

// boundaries returns every from and to of periods, sorted and distinct.
std::vector<Micros> boundaries(const std::vector<Period>& periods) {
  std::vector<Micros> out;
  out.reserve(periods.size() * 2);
  for (const Period& p : periods) {
    out.push_back(p.from);
    out.push_back(p.to);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// to_iso renders t in ISO-8601 UTC through boost::posix_time.
std::string to_iso(Micros t) {
  if (t == kInfinity) return "infinity";
  if (t == kMinusInfinity) return "-infinity";
  if (t < first_rendered() || t > last_rendered()) return "@" + std::to_string(t);
  pt::ptime when = epoch() + pt::microseconds(t);
  greg::date day = when.date();
  pt::time_duration tod = when.time_of_day();
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(day.year()),
                        static_cast<int>(day.month()), static_cast<int>(day.day()), static_cast<int>(tod.hours()),
                        static_cast<int>(tod.minutes()), static_cast<int>(tod.seconds()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (auto micros = tod.fractional_seconds(); micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  return out + "Z";
}

// next_stamp returns max(clock_now, last_stamp + 1 microsecond); it throws
// Error("22008") when no finite stamp follows last_stamp.
Micros next_stamp(Micros clock_now, Micros last_stamp) {
  Micros after_last = last_stamp == kInfinity ? kInfinity : last_stamp + 1;
  Micros stamp = std::max(clock_now, after_last);
  if (is_infinite(stamp))
    throw Error("22008", "timestamp out of range",
                "No transaction time stamp follows " + to_iso(last_stamp) + " (clock reads " + to_iso(clock_now) +
                    ").");
  return stamp;
}

}  // namespace chronicle::core
