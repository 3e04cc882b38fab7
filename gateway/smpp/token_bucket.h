// Submit rate limiting: a token bucket refilled at `rate` tokens per second, holding at most
// `burst`. The clock is passed in so tests need no sleeps.
#pragma once

#include <algorithm>
#include <chrono>

namespace msgin5g::gateway::smpp {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0: unlimited. burst < 1 is taken as 1 (a token must fit to be taken at all).
  TokenBucket(double rate, double burst)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  // Takes a token if one is there at `now` and returns zero; otherwise takes nothing and returns
  // how long until one will be.
  Clock::duration TryTake(Clock::time_point now) {
    if (rate_ <= 0) return Clock::duration::zero();
    if (started_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      if (elapsed > 0) tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    started_ = true;
    last_ = now;
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return Clock::duration::zero();
    }
    const auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate_);
    // Rounded up so the retry at now + wait finds the token, never one tick short of it.
    return std::chrono::ceil<Clock::duration>(wait) + Clock::duration(1);
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  bool started_ = false;
  Clock::time_point last_{};
};

}  // namespace msgin5g::gateway::smpp
