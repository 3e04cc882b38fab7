// What a daemon tells systemd when it runs as a Type=notify service (sd_notify(3)): READY=1 once
// recovery is done and the listeners are up, STOPPING=1 when it starts to drain, a STATUS= line
// for `systemctl status`, and WATCHDOG=1 pings while WatchdogSec= is set. Every call is a no-op
// when NOTIFY_SOCKET is not set (started by hand, by a test, by another supervisor).
#pragma once

#include <signal.h>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace msgin5g::systemd {

void NotifyReady(std::string_view status);
void NotifyStopping(std::string_view status);
void NotifyStatus(std::string_view status);

// The watchdog period systemd expects pings within (WATCHDOG_USEC for this process), if any.
std::optional<std::chrono::microseconds> WatchdogPeriod();

// Waits for one of `signals` (blocked in every thread) and returns it. While systemd's watchdog
// is on, wakes every half period and sends WATCHDOG=1 — but only while `alive()` says the
// daemon's own threads are still turning, so a wedged daemon is restarted rather than kept
// alive by its main thread alone.
int WaitForSignal(const sigset_t& signals, const std::function<bool()>& alive);

// A liveness probe for WaitForSignal over some event loops: each call posts a no-op to every
// executor and answers whether all the no-ops posted by the previous call have run.
class LoopHeartbeat {
 public:
  explicit LoopHeartbeat(std::vector<boost::asio::any_io_executor> loops);
  bool operator()();

 private:
  std::vector<boost::asio::any_io_executor> loops_;
  std::shared_ptr<std::atomic<std::size_t>> pending_;
};

}  // namespace msgin5g::systemd
