// Reconnect delays: doubling from `initial` to `max`, each jittered down to half of itself so
// that many gateways restarted together do not reconnect to the SMSC in lock step.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace msgin5g::gateway::smpp {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(std::max(initial, std::chrono::milliseconds(1))),
        max_(std::max(max, initial_)),
        next_(initial_) {}

  // The delay before this attempt, in [d/2, d] for the current d; doubles d for the next one.
  template <typename Rng>
  std::chrono::milliseconds Next(Rng& rng) {
    const auto d = next_;
    next_ = std::min(max_, next_ * 2);
    std::uniform_int_distribution<long long> jitter(d.count() / 2, d.count());
    return std::chrono::milliseconds(jitter(rng));
  }

  void Reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
};

}  // namespace msgin5g::gateway::smpp
