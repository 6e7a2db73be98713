// backoff.hpp: exponential backoff with jitter for reconnections and
// retried batches. Pure: the caller sleeps.
#pragma once
#include <cstdint>

namespace chronicle::cli {

// Backoff yields delays initial, initial*2, ... capped at max, each
// scaled by a random factor in [1 - jitter, 1] so that many clients do not
// retry in step.
class Backoff {
 public:
  Backoff(double initial_seconds, double max_seconds, double jitter = 0.2, std::uint64_t seed = 0x9e3779b97f4a7c15);

  // next returns the delay before the next attempt, in seconds, and counts
  // the attempt.
  double next();
  // reset starts again from the initial delay (after a success).
  void reset() { attempts_ = 0; }
  // attempts is the number of delays handed out since the last reset.
  int attempts() const { return attempts_; }

 private:
  double initial_, max_, jitter_;
  std::uint64_t state_;
  int attempts_ = 0;
};

}  // namespace chronicle::cli
