#include "api/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace msgin5g::api::auth {

int RateLimiter::Take(const std::string& client, double rate, double burst, Clock::time_point now) {
  if (rate <= 0) return 0;
  // A bucket must hold at least one whole token, or it could never admit anything.
  double cap = std::max(1.0, burst > 0 ? burst : rate);
  Stripe& s = stripes_[std::hash<std::string>()(client) % stripes_.size()];
  std::lock_guard<std::mutex> lock(s.mu);
  auto [it, fresh] = s.buckets.try_emplace(client);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = cap;
    b.last = now;
  }
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(cap, b.tokens + elapsed * rate);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate)));
}

}  // namespace msgin5g::api::auth
