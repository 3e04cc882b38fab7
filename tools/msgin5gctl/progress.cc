#include "tools/msgin5gctl/progress.h"

#include <unistd.h>

#include <cstdio>

namespace msgin5gctl {

namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Progress::Progress(std::string what)
    : what_(std::move(what)), tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {
  if (tty_) {
    spinner_ = std::thread([this] { Spin(); });
  } else {
    std::fprintf(stderr, "msgin5gctl: %s started\n", what_.c_str());
  }
}

Progress::~Progress() {
  if (!finished_) Finish(false);
}

void Progress::Spin() {
  static const char kFrames[] = {'|', '/', '-', '\\'};
  std::unique_lock lock(mu_);
  for (unsigned i = 0; !stop_; ++i) {
    std::fprintf(stderr, "\r%c %s... %.0f s ", kFrames[i % 4], what_.c_str(),
                 Seconds(std::chrono::steady_clock::now() - start_));
    std::fflush(stderr);
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "\r\033[K");  // a terminal: clear the spinner's line
}

void Progress::Finish(bool ok) {
  if (finished_) return;
  finished_ = true;
  if (spinner_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    spinner_.join();
  }
  std::fprintf(stderr, "msgin5gctl: %s %s %.1f s\n", what_.c_str(), ok ? "done in" : "failed after",
               Seconds(std::chrono::steady_clock::now() - start_));
}

}  // namespace msgin5gctl
