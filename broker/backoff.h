// Exponential backoff with jitter, for retries of a queue entry and for the pauses of a circuit
// breaker: attempt n waits initial * 2^(n-1), capped at max, of which half is fixed and half
// random. The fixed half means a retry never comes at once; the random half spreads the retries of
// many entries that failed together (an AS that went down) instead of sending them in one burst.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace msgin5g::broker {

class Backoff {
 public:
  // `seed` fixes the jitter (tests); by default it comes from std::random_device.
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::uint64_t seed);

  // The wait before attempt n + 1 after n failures (n >= 1; 0 counts as 1). Not thread-safe: one
  // Backoff per thread (the engine's).
  std::chrono::milliseconds Next(std::uint32_t n);
  // The longest wait Next(n) can return; the shortest is Ceiling(n) - Ceiling(n) / 2.
  std::chrono::milliseconds Ceiling(std::uint32_t n) const;

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
};

}  // namespace msgin5g::broker
