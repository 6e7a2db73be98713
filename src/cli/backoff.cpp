// backoff.cpp: exponential backoff with jitter (backoff.hpp).
#include "backoff.hpp"

#include <algorithm>
#include <cmath>

namespace chronicle::cli {

Backoff::Backoff(double initial_seconds, double max_seconds, double jitter, std::uint64_t seed)
    : initial_(initial_seconds), max_(std::max(max_seconds, initial_seconds)),
      jitter_(std::clamp(jitter, 0.0, 1.0)), state_(seed == 0 ? 1 : seed) {}

// next returns the next delay and counts the attempt.
double Backoff::next() {
  // initial * 2^attempts, capped (the exponent too, against overflow).
  double base = std::min(max_, initial_ * std::ldexp(1.0, std::min(attempts_, 60)));
  ++attempts_;
  // xorshift64*: enough randomness for jitter, reproducible in tests.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  double unit = static_cast<double>((state_ * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;  // [0, 1)
  return base * (1.0 - jitter_ * unit);
}

}  // namespace chronicle::cli
