// Admin API for a planned stop (docs/admin-api.md, docs/operations.md "Drain"):
//   POST /admin/v1/drain {"deadlineS"?: 1..3600, default 60} -> 202 + the drain's state: new
//        messages and reports are refused (503 + Retry-After, CoAP 5.03) and /readyz turns false;
//        deliveries (and registrations, so that a UE can come for its messages) go on until
//        nothing deliverable is left or the deadline passes; then msgin5gd stops as on SIGTERM.
//        What is left stays stored for the next start. 409 DRAINING when one is under way.
//   GET  /admin/v1/drain -> 200 the state (pending, deliverable, inFlight, deadline)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "api/http/router.h"
#include "common/status.h"

namespace msgin5g::api {

struct DrainState {
  bool draining = false;
  std::int64_t deadline_ms = 0;  // Unix ms; 0 when not draining
  std::uint64_t pending = 0;     // queue entries the delivery engine holds
  std::uint64_t deliverable = 0; // of which have a route (the rest wait for a UE or gateway)
  std::uint64_t in_flight = 0;
};

class DrainControl {
 public:
  virtual ~DrainControl() = default;
  // Conflict when a drain is under way.
  virtual Status Start(std::chrono::seconds deadline) = 0;
  // `done` may run on any thread.
  virtual void State(std::function<void(DrainState)> done) = 0;
};

void AddDrainRoutes(http::Router& router, DrainControl& drain);

}  // namespace msgin5g::api
