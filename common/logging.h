// Minimal structured logging to stderr (journald picks it up under systemd).
// One line per event, "ts level module: message key=value ...". Thread-safe.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace msgin5g::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
// Parses "debug" | "info" | "warn" | "error"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* out);

void Write(Level level, std::string_view module, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace msgin5g::log

#define MSGIN5G_LOG(level, module, ...)                                            \
  do {                                                                             \
    if (static_cast<int>(level) >= static_cast<int>(::msgin5g::log::GetLevel())) { \
      ::msgin5g::log::Write(level, module, __VA_ARGS__);                           \
    }                                                                              \
  } while (0)
#define LOG_DEBUG(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kDebug, module, __VA_ARGS__)
#define LOG_INFO(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kInfo, module, __VA_ARGS__)
#define LOG_WARN(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kWarn, module, __VA_ARGS__)
#define LOG_ERROR(module, ...) MSGIN5G_LOG(::msgin5g::log::Level::kError, module, __VA_ARGS__)
