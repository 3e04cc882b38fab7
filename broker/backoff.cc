#include "broker/backoff.h"

#include <algorithm>

namespace msgin5g::broker {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : Backoff(initial, max, std::random_device{}()) {}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(initial), max_(max), rng_(seed) {}

std::chrono::milliseconds Backoff::Ceiling(std::uint32_t n) const {
  std::int64_t d = initial_.count();
  for (std::uint32_t i = 1; i < n && d < max_.count(); ++i) d *= 2;  // stops before overflow
  return std::chrono::milliseconds(std::min<std::int64_t>(d, max_.count()));
}

std::chrono::milliseconds Backoff::Next(std::uint32_t n) {
  const std::int64_t d = Ceiling(n).count();
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(d / 2, 0));
  return std::chrono::milliseconds(d - d / 2 + jitter(rng_));
}

}  // namespace msgin5g::broker
