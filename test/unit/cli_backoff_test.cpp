// cli_backoff_test.cpp: reconnection backoff of the chronicle client
// (src/cli/backoff.hpp).
#include <gtest/gtest.h>

#include "backoff.hpp"

using chronicle::cli::Backoff;

namespace {

TEST(CliBackoff, DoublesUpToTheCap) {
  Backoff b(0.5, 4.0, 0.0);
  EXPECT_DOUBLE_EQ(b.next(), 0.5);
  EXPECT_DOUBLE_EQ(b.next(), 1.0);
  EXPECT_DOUBLE_EQ(b.next(), 2.0);
  EXPECT_DOUBLE_EQ(b.next(), 4.0);
  EXPECT_DOUBLE_EQ(b.next(), 4.0);
  EXPECT_EQ(b.attempts(), 5);
  for (int i = 0; i < 200; ++i) EXPECT_DOUBLE_EQ(b.next(), 4.0);  // no overflow
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_DOUBLE_EQ(b.next(), 0.5);
}

TEST(CliBackoff, JitterStaysInRangeAndVaries) {
  Backoff b(1.0, 30.0, 0.2, 42);
  double prev = -1;
  bool varied = false;
  for (int i = 0; i < 100; ++i) {
    double base = std::min(30.0, static_cast<double>(1LL << std::min(i, 20)));
    double d = b.next();
    EXPECT_LE(d, base);
    EXPECT_GE(d, base * 0.8);
    if (i > 10 && prev >= 0 && d != prev) varied = true;
    prev = d;
  }
  EXPECT_TRUE(varied);
}

TEST(CliBackoff, DifferentSeedsDiffer) {
  Backoff a(1.0, 30.0, 0.5, 1), b(1.0, 30.0, 0.5, 2);
  EXPECT_NE(a.next(), b.next());
}

}  // namespace
