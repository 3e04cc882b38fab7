// A Clock the test moves by hand: timers (backoff, breaker pauses, expiry) are tested in
// milliseconds of real time however long they are. Thread-safe (the engine reads it on its thread).
#pragma once

#include <atomic>
#include <chrono>

#include "common/clock.h"

namespace msgin5g::testing_support {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = UnixMillis()) : now_(start_ms) {}
  std::int64_t NowMs() const override { return now_.load(); }
  void Advance(std::chrono::milliseconds d) { now_ += d.count(); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace msgin5g::testing_support
