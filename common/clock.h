// Wall-clock time as stored on disk and compared with message expiry: unix milliseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace msgin5g {

inline std::int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace msgin5g
