// Minimal structured logging to stderr, one line per event. Thread-safe. Three formats:
//   text     "2026-12-03T06:15:00.123Z INFO module: message"            (a terminal, a file)
//   journal  "<6>INFO module: message": the sd-daemon priority prefix, no timestamp (journald
//            stamps every line itself and keeps the priority: `journalctl -p warning` works)
//   json     {"ts":"…","level":"info","module":"…","msg":"…"}               (log shippers)
// DefaultFormat() picks journal when stderr is the journal (systemd's JOURNAL_STREAM), else text.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace msgin5g::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();

enum class Format { kText, kJournal, kJson };
void SetFormat(Format format);
Format GetFormat();
// kJournal when stderr is connected to the journal (JOURNAL_STREAM names its device:inode),
// else kText.
Format DefaultFormat();
// "auto" (DefaultFormat()), "text", "json"; false on anything else.
bool ParseFormat(std::string_view text, Format* out);
// The line Write would print for these parts (without the newline). For tests.
std::string FormatLine(Format format, Level level, std::string_view module, std::string_view msg,
                       std::chrono::system_clock::time_point when);
// Parses "debug" | "info" | "warn" | "error"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* out);

void Write(Level level, std::string_view module, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// A log line that anyone outside can cause (a malformed datagram, a refused request) must not
// let them fill the disk: each such call site gets `burst` lines per `window`, and the first line
// written after some were dropped says how many. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(int burst, std::chrono::milliseconds window) : burst_(burst), window_(window) {}

  // True when a line may be written now; then `*suppressed` is the number dropped before it.
  bool Allow(std::uint64_t* suppressed, std::chrono::steady_clock::time_point now =
                                            std::chrono::steady_clock::now());

 private:
  std::mutex mu_;
  const int burst_;
  const std::chrono::milliseconds window_;
  std::chrono::steady_clock::time_point window_start_{};
  int used_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace msgin5g::log

#define MSGIN5G_LOG(level, module, ...)                                            \
  do {                                                                             \
    if (static_cast<int>(level) >= static_cast<int>(::msgin5g::log::GetLevel())) { \
      ::msgin5g::log::Write(level, module, __VA_ARGS__);                           \
    }                                                                              \
  } while (0)
// At most `burst` lines per 10 s from this call site; `fmt` must be a string literal.
#define MSGIN5G_LOG_LIMITED(level, burst, module, fmt, ...)                                \
  do {                                                                                     \
    if (static_cast<int>(level) >= static_cast<int>(::msgin5g::log::GetLevel())) {         \
      static ::msgin5g::log::RateLimiter msgin5g_limiter_(burst, std::chrono::seconds(10)); \
      std::uint64_t msgin5g_dropped_ = 0;                                                  \
      if (msgin5g_limiter_.Allow(&msgin5g_dropped_)) {                                     \
        if (msgin5g_dropped_ == 0) {                                                       \
          ::msgin5g::log::Write(level, module, fmt __VA_OPT__(, ) __VA_ARGS__);            \
        } else {                                                                           \
          ::msgin5g::log::Write(level, module, fmt " (%llu similar lines suppressed)"      \
                                __VA_OPT__(, ) __VA_ARGS__,                                \
                                static_cast<unsigned long long>(msgin5g_dropped_));        \
        }                                                                                  \
      }                                                                                    \
    }                                                                                      \
  } while (0)
// 10 lines per 10 s per call site.
#define LOG_WARN_LIMITED(module, ...) \
  MSGIN5G_LOG_LIMITED(::msgin5g::log::Level::kWarn, 10, module, __VA_ARGS__)
#define LOG_ERROR_LIMITED(module, ...) \
  MSGIN5G_LOG_LIMITED(::msgin5g::log::Level::kError, 10, module, __VA_ARGS__)
#define LOG_DEBUG(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kDebug, module, __VA_ARGS__)
#define LOG_INFO(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kInfo, module, __VA_ARGS__)
#define LOG_WARN(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kWarn, module, __VA_ARGS__)
#define LOG_ERROR(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kError, module, __VA_ARGS__)
