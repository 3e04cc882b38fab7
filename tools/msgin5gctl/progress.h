// Progress of a long job (drain, backup, restore, purge) on stderr. On a terminal: one line
// redrawn in place, with a bar when the amount of work is known and the elapsed time otherwise.
// Anywhere else (a pipe, a log file, a test): a plain line per update, at most one a second, so
// that logs stay readable and scripts can follow them.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <string>

namespace msgin5gctl {

// "[#########-----------]  45%" (`width` characters between the brackets); total 0: empty bar.
std::string RenderBar(std::uint64_t done, std::uint64_t total, std::size_t width);
// "7 s", "2 min 05 s".
std::string RenderElapsed(std::chrono::steady_clock::duration d);

class Progress {
 public:
  // `tty`: whether `out` is a terminal (IsTerminal(out) by default).
  explicit Progress(std::string label, std::FILE* out = stderr);
  Progress(std::string label, std::FILE* out, bool tty);
  ~Progress();  // Done()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` units (total 0: unknown, the elapsed time is shown instead), and a short
  // description of where the job is. Plain output prints "LABEL: DETAIL" ("LABEL: DETAIL (7 s)"
  // when the total is unknown).
  void Update(std::uint64_t done, std::uint64_t total, const std::string& detail);
  // Ends the redrawn line on a terminal; nothing otherwise. Idempotent.
  void Done();

  bool tty() const { return tty_; }
  static bool IsTerminal(std::FILE* f);

 private:
  std::string label_;
  std::FILE* out_;
  bool tty_;
  bool drawn_ = false;  // a line is on the terminal, not ended
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_plain_{};
};

// Runs `call` (one blocking admin request) on a thread. While it runs longer than a second, the
// elapsed time is shown: redrawn on a terminal, a plain line every five seconds otherwise.
template <class F>
auto WaitShowingElapsed(const std::string& label, F call) -> decltype(call()) {
  auto job = std::async(std::launch::async, std::move(call));
  const auto start = std::chrono::steady_clock::now();
  if (job.wait_for(std::chrono::seconds(1)) == std::future_status::ready) return job.get();
  Progress progress(label);
  auto next_plain = start;
  do {
    const auto now = std::chrono::steady_clock::now();
    if (progress.tty() || now >= next_plain) {
      progress.Update(0, 0, "waiting for msgin5gd");
      next_plain = now + std::chrono::seconds(5);
    }
  } while (job.wait_for(std::chrono::milliseconds(progress.tty() ? 200 : 1000)) !=
           std::future_status::ready);
  progress.Done();
  return job.get();
}

}  // namespace msgin5gctl
