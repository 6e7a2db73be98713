// fuzz_period.cpp: the period algebra of period.hpp. The input is a list of
// points separated by whitespace or newlines: integers (microseconds since
// 2000-01-01, saturated to int64), "inf" and "-inf"; other tokens are
// skipped. Taken in pairs they make periods. Properties are checked on the
// points clamped into timestamptz's range (the contract of Micros) against
// naive references: check_period throws 22000 exactly when from >= to;
// intersect is [max from, min to) when that is not empty and empty
// otherwise; boundaries is the sorted distinct set of ends; to_iso matches a
// civil-calendar rendering; next_stamp is max(clock, last + 1), strictly
// increasing, and throws 22008 only when no finite stamp follows. The raw
// points (out of range too) must not crash or trip a sanitizer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "fuzz_util.hpp"
#include "period.hpp"

using chronicle::core::Error;
using chronicle::core::kInfinity;
using chronicle::core::kMinusInfinity;
using chronicle::core::Micros;
using chronicle::core::Period;
namespace core = chronicle::core;
namespace fuzz = chronicle::fuzz;
using fuzz::show;

namespace {

constexpr Micros kMicrosPerDay = 86400LL * 1000000LL;

// days_from_civil counts days from 1970-01-01 to y-m-d (proleptic Gregorian;
// Howard Hinnant's algorithm).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

// civil_from_days is days_from_civil's inverse.
void civil_from_days(long long z, long long* y, unsigned* m, unsigned* d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<long long>(yoe) + era * 400 + (*m <= 2);
}

// reference_iso renders t as to_iso documents, by plain arithmetic.
std::string reference_iso(Micros t) {
  if (t == kInfinity) return "infinity";
  if (t == kMinusInfinity) return "-infinity";
  const long long epoch_days = days_from_civil(2000, 1, 1);
  const Micros first = (days_from_civil(1400, 1, 1) - epoch_days) * kMicrosPerDay;
  const Micros last = (days_from_civil(10000, 1, 1) - epoch_days) * kMicrosPerDay - 1;
  if (t < first || t > last) return "@" + std::to_string(t);
  long long days = t / kMicrosPerDay;
  Micros rem = t % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  long long y;
  unsigned m, d;
  civil_from_days(days + epoch_days, &y, &m, &d);
  long long secs = rem / 1000000, micros = rem % 1000000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", y, m, d, secs / 3600, secs / 60 % 60,
                secs % 60);
  std::string out = buf;
  if (micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", micros);
    out += buf;
  }
  return out + "Z";
}

// check_period_throws tells whether check_period refuses [from, to), failing
// on any other exception or a wrong SQLSTATE.
bool check_period_throws(Micros from, Micros to) {
  try {
    core::check_period(from, to);
    return false;
  } catch (const Error& e) {
    FUZZ_CHECK(e.sqlstate() == "22000", "check_period threw " + e.sqlstate());
    return true;
  }
}

// next_stamp_or reports next_stamp's result, or nullopt when it throws 22008.
std::optional<Micros> next_stamp_or(Micros clock, Micros last) {
  try {
    return core::next_stamp(clock, last);
  } catch (const Error& e) {
    FUZZ_CHECK(e.sqlstate() == "22008", "next_stamp threw " + e.sqlstate());
    return std::nullopt;
  }
}

// exercise runs every function on raw points, for crashes and sanitizers only.
void exercise(const std::vector<Micros>& raw) {
  std::vector<Period> periods;
  for (std::size_t i = 0; i + 1 < raw.size(); i += 2) periods.push_back(Period{raw[i], raw[i + 1]});
  for (Micros t : raw) (void)core::to_iso(t);
  for (std::size_t i = 0; i + 1 < raw.size(); ++i) {
    check_period_throws(raw[i], raw[i + 1]);
    next_stamp_or(raw[i], raw[i + 1]);
  }
  for (const Period& a : periods)
    for (const Period& b : periods) (void)core::intersect(a, b);
  (void)core::boundaries(periods);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Micros> raw;
  for (std::string_view line : fuzz::lines(text))
    for (std::string_view tok : fuzz::tokens(line))
      if (auto t = fuzz::to_micros(tok); t && raw.size() < 32) raw.push_back(*t);
  exercise(raw);

  std::vector<Micros> points;
  for (Micros t : raw) points.push_back(fuzz::in_range(t));
  std::vector<Period> periods;
  for (std::size_t i = 0; i + 1 < points.size(); i += 2) periods.push_back(Period{points[i], points[i + 1]});

  // check_period and Period::empty agree with from < to.
  for (const Period& p : periods) {
    FUZZ_CHECK(check_period_throws(p.from, p.to) == !(p.from < p.to), "check_period " + show(p));
    FUZZ_CHECK(p.empty() == !(p.from < p.to), "empty " + show(p));
  }

  // intersect against [max from, min to); contains agrees pointwise.
  for (const Period& a : periods)
    for (const Period& b : periods) {
      Period got = core::intersect(a, b);
      Period want{std::max(a.from, b.from), std::min(a.to, b.to)};
      auto what = [&] { return "intersect(" + show(a) + ", " + show(b) + ") = " + show(got); };
      if (want.empty())
        FUZZ_CHECK(got.empty(), what() + ", not empty");
      else
        FUZZ_CHECK(got == want, what() + ", expected " + show(want));
      FUZZ_CHECK(core::intersect(b, a).empty() == got.empty(), what() + " is not symmetric");
      for (Micros t : points)
        FUZZ_CHECK(got.contains(t) == (a.contains(t) && b.contains(t)), what() + " at " + show(t));
    }

  // boundaries: sorted, distinct, and exactly the ends.
  std::vector<Micros> bounds = core::boundaries(periods);
  std::set<Micros> ends;
  for (const Period& p : periods) ends.insert({p.from, p.to});
  FUZZ_CHECK(std::vector<Micros>(ends.begin(), ends.end()) == bounds, "boundaries are not the sorted distinct ends");

  // to_iso against the civil-calendar rendering.
  for (Micros t : points) {
    std::string got = core::to_iso(t), want = reference_iso(t);
    FUZZ_CHECK(got == want, "to_iso(" + show(t) + ") = " + got + ", expected " + want);
  }

  // next_stamp: each point is a clock reading, the first the last stamp.
  if (!points.empty()) {
    Micros last = points[0];
    for (std::size_t i = 1; i < points.size(); ++i) {
      Micros clock = points[i];
      std::optional<Micros> stamp = next_stamp_or(clock, last);
      Micros after_last = last == kInfinity ? kInfinity : last + 1;
      Micros want = std::max(clock, after_last);
      auto what = [&] { return "next_stamp(" + show(clock) + ", " + show(last) + ")"; };
      if (want == kInfinity || want == kMinusInfinity) {
        FUZZ_CHECK(!stamp, what() + " = " + (stamp ? show(*stamp) : "") + ", expected 22008");
        continue;
      }
      FUZZ_CHECK(stamp.has_value(), what() + " threw, expected " + show(want));
      FUZZ_CHECK(*stamp == want, what() + " = " + show(*stamp) + ", expected " + show(want));
      FUZZ_CHECK(*stamp > last && *stamp >= clock, what() + " is not monotonic");
      last = *stamp;
    }
  }
  return 0;
}
