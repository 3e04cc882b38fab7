#include "common/systemd/service_notify.h"

#include <systemd/sd-daemon.h>

#include <boost/asio/post.hpp>

#include <cerrno>
#include <ctime>
#include <string>

#include "common/logging.h"

namespace msgin5g::systemd {
namespace {

void Notify(const std::string& state) {
  // 0: no NOTIFY_SOCKET (not under systemd); < 0: the socket went away. Neither is fatal.
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0) LOG_WARN_LIMITED("systemd", "sd_notify failed: %s", strerror(-rc));
}

}  // namespace

void NotifyReady(std::string_view status) {
  Notify("READY=1\nSTATUS=" + std::string(status));
}

void NotifyStopping(std::string_view status) {
  Notify("STOPPING=1\nSTATUS=" + std::string(status));
}

void NotifyStatus(std::string_view status) { Notify("STATUS=" + std::string(status)); }

std::optional<std::chrono::microseconds> WatchdogPeriod() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

int WaitForSignal(const sigset_t& signals, const std::function<bool()>& alive) {
  const auto period = WatchdogPeriod();
  if (!period) {
    int sig = 0;
    sigwait(&signals, &sig);
    return sig;
  }
  const auto half = *period / 2;
  for (;;) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(half.count() / 1000000);
    ts.tv_nsec = static_cast<long>((half.count() % 1000000) * 1000);
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno != EAGAIN && errno != EINTR) return SIGTERM;  // cannot wait: stop cleanly
    if (!alive || alive()) {
      Notify("WATCHDOG=1");
    } else {
      LOG_ERROR_LIMITED("systemd", "a service thread is stuck: no watchdog ping (systemd will "
                        "restart the service)");
    }
  }
}

LoopHeartbeat::LoopHeartbeat(std::vector<boost::asio::any_io_executor> loops)
    : loops_(std::move(loops)), pending_(std::make_shared<std::atomic<std::size_t>>(0)) {}

bool LoopHeartbeat::operator()() {
  const bool all_ran = pending_->load() == 0;
  if (all_ran) {
    pending_->store(loops_.size());
    for (auto& ex : loops_) {
      boost::asio::post(ex, [p = pending_] { p->fetch_sub(1); });
    }
  }
  return all_ran;
}

}  // namespace msgin5g::systemd
