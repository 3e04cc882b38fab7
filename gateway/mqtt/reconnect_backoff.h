// The delay before the next connection attempt: min doubling per failure up to max, then
// jittered to [d/2, d] so that many gateways cut off by one broker restart do not all come back
// in the same instant.
#pragma once

#include <algorithm>
#include <chrono>

namespace msgin5g::gateway::mqtt {

// `unit` is a random number in [0, 1].
inline std::chrono::milliseconds ReconnectDelay(int failures, std::chrono::milliseconds min,
                                                std::chrono::milliseconds max, double unit) {
  std::chrono::milliseconds d = min;
  for (int i = 0; i < failures && d < max; ++i) d *= 2;
  d = std::min(d, max);
  const double factor = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(d.count()) * factor));
}

}  // namespace msgin5g::gateway::mqtt
