// Per-client token buckets for admission control: a client over its rate gets 429 with
// Retry-After instead of queueing work. Striped locks keep I/O threads from contending on one mutex.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace msgin5g::api::auth {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // Takes one token from `client`'s bucket (rate per second, `burst` capacity). Returns 0 when
  // admitted, else the seconds until a token is available (>= 1, for Retry-After).
  int Take(const std::string& client, double rate, double burst, Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };
  struct Stripe {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  std::array<Stripe, 16> stripes_;
};

}  // namespace msgin5g::api::auth
