// Wall-clock time as stored on disk and compared with message expiry: unix milliseconds.
//
// Code with timers (the delivery engine: retries, circuit breakers, expiry) reads the time through
// a Clock so that tests can drive it by hand (tests/support/manual_clock.h) instead of sleeping.
// It is wall-clock time, not steady time, because it is compared with the due and expiry times
// stored with each queue entry, which must mean the same after a restart.
#pragma once

#include <chrono>
#include <cstdint>

namespace msgin5g {

inline std::int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowMs() const = 0;  // unix milliseconds
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMs() const override { return UnixMillis(); }
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace msgin5g
