// One destination's circuit breaker (an AS targetUri, a gateway, a UE endpoint).
//
//   closed     sends up to the destination's in-flight limit;
//   open       sends nothing until blocked_until: opened by `threshold` transient failures in a
//              row, by a failed probe, or by a Retry-After from the peer;
//   half-open  after a pause: one request at a time (the probe) until an answer closes it.
//
// Each opening pauses longer (Backoff by the number of openings in a row), so a destination that
// stays down costs one probe per pause, not a retry per message. Failures of requests still in
// flight when it opened do not open it again. Time is passed in (unix ms), never read.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "broker/backoff.h"

namespace msgin5g::broker {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  State state(std::int64_t now) const {
    return blocked(now) ? State::kOpen : half_open_ ? State::kHalfOpen : State::kClosed;
  }
  static const char* StateName(State s) {
    return s == State::kOpen ? "open" : s == State::kHalfOpen ? "half-open" : "closed";
  }
  bool blocked(std::int64_t now) const { return blocked_until_ > now; }
  // One request at a time (a probe) after a pause.
  bool half_open() const { return half_open_; }
  std::int64_t blocked_until() const { return blocked_until_; }
  std::uint32_t failures() const { return failures_; }

  // The destination answered (delivered, or refused this message): it is alive.
  void OnAnswer() {
    failures_ = 0;
    opens_ = 0;
    half_open_ = false;
  }
  // It is known to be reachable some other way (a UE was just heard from): forget everything.
  void Reset() {
    OnAnswer();
    blocked_until_ = 0;
  }
  // A transient failure at `now`; `retry_after` is the peer's (0: none). Returns the pause when
  // this failure opened the breaker, zero otherwise (a Retry-After blocks without counting as an
  // opening).
  std::chrono::milliseconds OnTransientFailure(std::int64_t now, std::chrono::milliseconds retry_after,
                                               std::uint32_t threshold, Backoff& backoff) {
    std::chrono::milliseconds opened{0};
    ++failures_;
    if (!blocked(now) && (half_open_ || failures_ >= threshold)) {
      ++opens_;
      half_open_ = true;
      opened = backoff.Next(opens_);
      blocked_until_ = now + opened.count();
    }
    if (retry_after.count() > 0) {
      blocked_until_ = std::max(blocked_until_, now + retry_after.count());
      half_open_ = true;
    }
    return opened;
  }

 private:
  std::uint32_t failures_ = 0;  // consecutive transient failures
  std::uint32_t opens_ = 0;     // consecutive openings (the backoff exponent)
  std::int64_t blocked_until_ = 0;
  bool half_open_ = false;
};

}  // namespace msgin5g::broker
