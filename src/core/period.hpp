// period.hpp: valid-time and transaction-time points and half-open periods,
// on Boost.Date_Time, with PostgreSQL timestamptz's full range and infinities.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace chronicle::core {

// Micros is a timestamptz as PostgreSQL stores it: microseconds since
// 2000-01-01 00:00:00 UTC. kMinusInfinity / kInfinity are PostgreSQL's
// DT_NOBEGIN / DT_NOEND.
using Micros = std::int64_t;
constexpr Micros kMinusInfinity = INT64_MIN;
constexpr Micros kInfinity = INT64_MAX;

// Period is the half-open range [from, to). Valid when from < to.
struct Period {
  Micros from = kMinusInfinity;
  Micros to = kInfinity;
  bool contains(Micros t) const noexcept { return from <= t && t < to; }
  bool empty() const noexcept { return !(from < to); }
  bool operator==(const Period& o) const noexcept { return from == o.from && to == o.to; }
};

// check_period throws Error("22000") when from >= to, naming both bounds.
void check_period(Micros from, Micros to);

// intersect returns the common part of a and b (possibly empty).
Period intersect(const Period& a, const Period& b);

// boundaries returns the sorted, distinct set of all from/to points of periods.
std::vector<Micros> boundaries(const std::vector<Period>& periods);

// to_iso renders t as ISO-8601 UTC ("2026-01-01T00:00:00Z", with
// ".ffffff" when there are microseconds; "infinity" / "-infinity").
// Points outside Boost's calendar (years before 1400 or after 9999) are
// rendered as "@<micros>".
std::string to_iso(Micros t);

// next_stamp returns the transaction-time stamp for a committing
// transaction: the clock reading, or one microsecond past the last stamp
// handed out when the clock has not moved past it (stamps strictly increase
// even if the wall clock steps back).
Micros next_stamp(Micros clock_now, Micros last_stamp);

}  // namespace chronicle::core
