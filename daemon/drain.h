// The daemon side of POST /admin/v1/drain: stops the broker accepting, marks the process not
// ready, and wakes the main thread (a SIGTERM to itself: the main thread takes signals with
// sigwait), which then waits for the deliverable entries to go out before the usual shutdown.
#pragma once

#include <atomic>
#include <chrono>

#include "api/handlers/drain_routes.h"
#include "broker/durable_broker.h"

namespace msgin5g::daemon {

class Drain final : public api::DrainControl {
 public:
  Drain(broker::DurableBroker& broker, std::atomic<bool>& ready) : broker_(broker), ready_(ready) {}

  Status Start(std::chrono::seconds deadline) override;
  void State(std::function<void(api::DrainState)> done) override;

  bool requested() const { return deadline_ms_.load() != 0; }
  // Main thread, after the wake-up: until nothing deliverable is left or in flight, or the
  // deadline. Returns the state it stopped at.
  api::DrainState WaitDelivered();

 private:
  broker::DurableBroker& broker_;
  std::atomic<bool>& ready_;
  std::atomic<std::int64_t> deadline_ms_{0};
};

}  // namespace msgin5g::daemon
