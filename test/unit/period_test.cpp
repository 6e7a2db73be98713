// period_test.cpp: periods, their algebra with infinities, ISO rendering and
// transaction-time stamps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error.hpp"
#include "period.hpp"

namespace chronicle::core {
namespace {

constexpr Micros kSecond = 1000000;
constexpr Micros kDay = 86400 * kSecond;
// Reference points, computed independently of Boost (Python's datetime).
constexpr Micros k1970 = -946684800000000;                // 1970-01-01T00:00:00Z
constexpr Micros k2026 = 820540800000000;                 // 2026-01-01T00:00:00Z
constexpr Micros kLeapDay = 762525296500000;              // 2024-02-29T12:34:56.5Z
constexpr Micros kFirstRendered = -18934128000000000;     // 1400-01-01T00:00:00Z
constexpr Micros kLastRendered = 252455615999999999;      // 9999-12-31T23:59:59.999999Z

// period_error returns the Error check_period throws (fails the test when
// it does not throw).
Error period_error(Micros from, Micros to) {
  try {
    check_period(from, to);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "check_period accepted [" << from << ", " << to << ")";
  return Error("00000", "no error");
}

TEST(Period, DefaultIsEverything) {
  Period p;
  EXPECT_EQ(p.from, kMinusInfinity);
  EXPECT_EQ(p.to, kInfinity);
  EXPECT_FALSE(p.empty());
  EXPECT_TRUE(p.contains(kMinusInfinity));
  EXPECT_TRUE(p.contains(0));
  EXPECT_FALSE(p.contains(kInfinity));
}

TEST(Period, HalfOpen) {
  Period p{10, 20};
  EXPECT_TRUE(p.contains(10));
  EXPECT_TRUE(p.contains(19));
  EXPECT_FALSE(p.contains(20));
  EXPECT_FALSE(p.contains(9));
  EXPECT_TRUE((Period{5, 5}).empty());
  EXPECT_TRUE((Period{6, 5}).empty());
}

TEST(CheckPeriod, AcceptsOrderedBounds) {
  EXPECT_NO_THROW(check_period(0, 1));
  EXPECT_NO_THROW(check_period(k1970, k2026));
  EXPECT_NO_THROW(check_period(kMinusInfinity, kInfinity));
  EXPECT_NO_THROW(check_period(kMinusInfinity, 0));
  EXPECT_NO_THROW(check_period(0, kInfinity));
  EXPECT_NO_THROW(check_period(kInfinity - 1, kInfinity));
}

TEST(CheckPeriod, RefusesEmptyOrReversed) {
  Error e = period_error(k2026 + kDay, k2026);
  EXPECT_EQ(e.sqlstate(), "22000");
  EXPECT_STREQ(e.what(), "valid_from must be earlier than valid_to");
  EXPECT_EQ(e.detail(), "valid_from is 2026-01-02T00:00:00Z and valid_to is 2026-01-01T00:00:00Z.");
  EXPECT_EQ(period_error(k2026, k2026).sqlstate(), "22000");
  EXPECT_EQ(period_error(kInfinity, kInfinity).detail(), "valid_from is infinity and valid_to is infinity.");
  EXPECT_EQ(period_error(kMinusInfinity, kMinusInfinity).sqlstate(), "22000");
  EXPECT_EQ(period_error(kInfinity, kMinusInfinity).detail(), "valid_from is infinity and valid_to is -infinity.");
  EXPECT_EQ(period_error(0, kMinusInfinity).sqlstate(), "22000");
  EXPECT_EQ(period_error(kInfinity, 0).sqlstate(), "22000");
}

TEST(Intersect, Overlapping) {
  EXPECT_EQ(intersect(Period{0, 10}, Period{5, 20}), (Period{5, 10}));
  EXPECT_EQ(intersect(Period{5, 20}, Period{0, 10}), (Period{5, 10}));
  EXPECT_EQ(intersect(Period{0, 100}, Period{20, 30}), (Period{20, 30}));
  EXPECT_EQ(intersect(Period{20, 30}, Period{0, 100}), (Period{20, 30}));
  EXPECT_EQ(intersect(Period{3, 7}, Period{3, 7}), (Period{3, 7}));
  EXPECT_EQ(intersect(Period{0, 10}, Period{9, 20}), (Period{9, 10}));
}

TEST(Intersect, DisjointOrAdjacentIsEmpty) {
  EXPECT_TRUE(intersect(Period{0, 10}, Period{10, 20}).empty());
  EXPECT_TRUE(intersect(Period{10, 20}, Period{0, 10}).empty());
  EXPECT_TRUE(intersect(Period{0, 10}, Period{30, 40}).empty());
  EXPECT_TRUE(intersect(Period{30, 40}, Period{0, 10}).empty());
  EXPECT_TRUE(intersect(Period{0, 0}, Period{-5, 5}).empty());
}

TEST(Intersect, Infinities) {
  Period all{};
  EXPECT_EQ(intersect(all, all), all);
  EXPECT_EQ(intersect(all, Period{k1970, k2026}), (Period{k1970, k2026}));
  EXPECT_EQ(intersect(Period{kMinusInfinity, k2026}, Period{k1970, kInfinity}), (Period{k1970, k2026}));
  EXPECT_EQ(intersect(Period{kMinusInfinity, 0}, all), (Period{kMinusInfinity, 0}));
  EXPECT_EQ(intersect(Period{0, kInfinity}, all), (Period{0, kInfinity}));
  EXPECT_EQ(intersect(Period{kMinusInfinity, 0}, Period{kMinusInfinity, 5}), (Period{kMinusInfinity, 0}));
  EXPECT_EQ(intersect(Period{0, kInfinity}, Period{5, kInfinity}), (Period{5, kInfinity}));
  EXPECT_TRUE(intersect(Period{kMinusInfinity, 0}, Period{0, kInfinity}).empty());
  EXPECT_TRUE(intersect(Period{kInfinity, kInfinity}, all).empty());
  EXPECT_TRUE(intersect(Period{kMinusInfinity, kMinusInfinity}, all).empty());
}

TEST(Intersect, NearTheLimitsNoOverflow) {
  EXPECT_EQ(intersect(Period{kInfinity - 3, kInfinity - 1}, Period{kInfinity - 2, kInfinity}),
            (Period{kInfinity - 2, kInfinity - 1}));
  EXPECT_EQ(intersect(Period{kMinusInfinity + 2, 0}, Period{kMinusInfinity, kMinusInfinity + 4}),
            (Period{kMinusInfinity + 2, kMinusInfinity + 4}));
}

TEST(Boundaries, SortedAndDistinct) {
  EXPECT_TRUE(boundaries({}).empty());
  EXPECT_EQ(boundaries({Period{20, 30}, Period{0, 10}, Period{10, 30}}), (std::vector<Micros>{0, 10, 20, 30}));
  EXPECT_EQ(boundaries({Period{}, Period{5, kInfinity}, Period{kMinusInfinity, 5}}),
            (std::vector<Micros>{kMinusInfinity, 5, kInfinity}));
  EXPECT_EQ(boundaries({Period{-3, 4}}), (std::vector<Micros>{-3, 4}));
}

TEST(ToIso, EpochAndMicroseconds) {
  EXPECT_EQ(to_iso(0), "2000-01-01T00:00:00Z");
  EXPECT_EQ(to_iso(1), "2000-01-01T00:00:00.000001Z");
  EXPECT_EQ(to_iso(-1), "1999-12-31T23:59:59.999999Z");
  EXPECT_EQ(to_iso(kSecond / 2), "2000-01-01T00:00:00.500000Z");
  EXPECT_EQ(to_iso(kDay + 3723 * kSecond), "2000-01-02T01:02:03Z");
}

TEST(ToIso, CalendarDates) {
  EXPECT_EQ(to_iso(k1970), "1970-01-01T00:00:00Z");
  EXPECT_EQ(to_iso(k2026), "2026-01-01T00:00:00Z");
  EXPECT_EQ(to_iso(k2026 - 1), "2025-12-31T23:59:59.999999Z");
  EXPECT_EQ(to_iso(kLeapDay), "2024-02-29T12:34:56.500000Z");
  EXPECT_EQ(to_iso(kLeapDay + 12 * 3600 * kSecond), "2024-03-01T00:34:56.500000Z");
}

TEST(ToIso, InfinitiesAndOutOfCalendar) {
  EXPECT_EQ(to_iso(kInfinity), "infinity");
  EXPECT_EQ(to_iso(kMinusInfinity), "-infinity");
  EXPECT_EQ(to_iso(kFirstRendered), "1400-01-01T00:00:00Z");
  EXPECT_EQ(to_iso(kFirstRendered - 1), "@" + std::to_string(kFirstRendered - 1));
  EXPECT_EQ(to_iso(kLastRendered), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(to_iso(kLastRendered + 1), "@" + std::to_string(kLastRendered + 1));
  EXPECT_EQ(to_iso(kInfinity - 1), "@9223372036854775806");
  EXPECT_EQ(to_iso(kMinusInfinity + 1), "@-9223372036854775807");
}

TEST(NextStamp, ClockAheadWins) {
  EXPECT_EQ(next_stamp(k2026, k2026 - kSecond), k2026);
  EXPECT_EQ(next_stamp(k2026, kMinusInfinity), k2026);
  EXPECT_EQ(next_stamp(0, -1), 0);
}

TEST(NextStamp, StalledOrBackwardClockStepsPastLast) {
  EXPECT_EQ(next_stamp(k2026, k2026), k2026 + 1);
  EXPECT_EQ(next_stamp(k2026 - kDay, k2026), k2026 + 1);
  EXPECT_EQ(next_stamp(kMinusInfinity + 5, -1), 0);
}

TEST(NextStamp, StrictlyIncreasingWhateverTheClock) {
  std::vector<Micros> clock = {100, 100, 99, 250, 250, 10, 251, 1000, 999, 999};
  Micros last = kMinusInfinity;
  std::vector<Micros> stamps;
  for (Micros now : clock) {
    last = next_stamp(now, last);
    stamps.push_back(last);
  }
  EXPECT_EQ(stamps, (std::vector<Micros>{100, 101, 102, 250, 251, 252, 253, 1000, 1001, 1002}));
}

TEST(NextStamp, NoStampPastInfinity) {
  for (Micros last : {kInfinity, kInfinity - 1}) {
    try {
      next_stamp(k2026, last);
      ADD_FAILURE() << "stamped after " << last;
    } catch (const Error& e) {
      EXPECT_EQ(e.sqlstate(), "22008");
      EXPECT_STREQ(e.what(), "timestamp out of range");
    }
  }
  EXPECT_THROW(next_stamp(kInfinity, 0), Error);
  EXPECT_EQ(next_stamp(k2026, kInfinity - 2), kInfinity - 1);
}

}  // namespace
}  // namespace chronicle::core
