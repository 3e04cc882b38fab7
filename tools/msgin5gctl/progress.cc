#include "tools/msgin5gctl/progress.h"

#include <unistd.h>

#include <algorithm>

namespace msgin5gctl {

std::string RenderBar(std::uint64_t done, std::uint64_t total, std::size_t width) {
  std::size_t filled = 0;
  unsigned percent = 0;
  if (total > 0) {
    done = std::min(done, total);
    // In long double: byte counts times the width could overflow 64 bits.
    const long double f = static_cast<long double>(done) / static_cast<long double>(total);
    filled = static_cast<std::size_t>(f * static_cast<long double>(width));
    percent = static_cast<unsigned>(f * 100.0L);
  }
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '-') + "] ";
  std::string p = std::to_string(percent) + "%";
  return bar + std::string(4 - std::min<std::size_t>(4, p.size()), ' ') + p;
}

std::string RenderElapsed(std::chrono::steady_clock::duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 60) return std::to_string(s) + " s";
  const auto rest = s % 60;
  return std::to_string(s / 60) + " min " + (rest < 10 ? "0" : "") + std::to_string(rest) + " s";
}

bool Progress::IsTerminal(std::FILE* f) { return ::isatty(::fileno(f)) == 1; }

Progress::Progress(std::string label, std::FILE* out)
    : Progress(std::move(label), out, IsTerminal(out)) {}

Progress::Progress(std::string label, std::FILE* out, bool tty)
    : label_(std::move(label)), out_(out), tty_(tty) {}

Progress::~Progress() { Done(); }

void Progress::Update(std::uint64_t done, std::uint64_t total, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  if (!tty_) {
    if (last_plain_ != std::chrono::steady_clock::time_point{} &&
        now - last_plain_ < std::chrono::milliseconds(900)) {  // callers tick once a second
      return;
    }
    last_plain_ = now;
    const std::string elapsed = total > 0 ? "" : " (" + RenderElapsed(now - start_) + ")";
    std::fprintf(out_, "%s: %s%s\n", label_.c_str(), detail.c_str(), elapsed.c_str());
    std::fflush(out_);
    return;
  }
  const std::string where =
      total > 0 ? RenderBar(done, total, 30) : "(" + RenderElapsed(now - start_) + ")";
  // \r back to the line's start, \x1b[K clears what a longer previous line left.
  std::fprintf(out_, "\r%s %s %s\x1b[K", label_.c_str(), where.c_str(), detail.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void Progress::Done() {
  if (!drawn_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace msgin5gctl
