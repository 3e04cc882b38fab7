#include "daemon/drain.h"

#include <signal.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace msgin5g::daemon {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status Drain::Start(std::chrono::seconds deadline) {
  std::int64_t expected = 0;
  const std::int64_t at = NowMs() + std::chrono::duration_cast<std::chrono::milliseconds>(deadline).count();
  if (!deadline_ms_.compare_exchange_strong(expected, at)) {
    return Status::Conflict("a drain is under way");
  }
  ready_.store(false);
  broker_.StopAccepting();
  ::kill(::getpid(), SIGTERM);
  return Status::Ok();
}

void Drain::State(std::function<void(api::DrainState)> done) {
  const std::int64_t deadline = deadline_ms_.load();
  broker_.DeliveryCounts([deadline, done = std::move(done)](broker::DeliveryEngine::Counts c) {
    api::DrainState s;
    s.draining = deadline != 0;
    s.deadline_ms = deadline;
    s.pending = c.pending;
    s.deliverable = c.pending - c.unrouted;
    s.in_flight = c.in_flight;
    done(s);
  });
}

api::DrainState Drain::WaitDelivered() {
  for (;;) {
    std::promise<api::DrainState> p;
    auto f = p.get_future();
    State([&p](api::DrainState s) { p.set_value(s); });
    api::DrainState s = f.get();
    if ((s.deliverable == 0 && s.in_flight == 0) || NowMs() >= s.deadline_ms) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace msgin5g::daemon
