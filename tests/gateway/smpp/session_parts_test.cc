// The session's clock-driven parts, on a hand-driven clock: the submit rate limiter and the
// reconnect backoff.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "gateway/smpp/backoff.h"
#include "gateway/smpp/token_bucket.h"

namespace msgin5g::gateway::smpp {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(SmppTokenBucket, UnlimitedNeverWaits) {
  TokenBucket b(0, 1);
  const Clock::time_point t{};
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.TryTake(t), Clock::duration::zero());
}

TEST(SmppTokenBucket, SpacesTakesAtTheRate) {
  TokenBucket b(10, 1);  // one per 100 ms, no saving up
  Clock::time_point t = Clock::time_point{} + 1h;
  EXPECT_EQ(b.TryTake(t), Clock::duration::zero());
  const Clock::duration wait = b.TryTake(t);
  EXPECT_GT(wait, 99ms);
  EXPECT_LE(wait, 101ms);
  EXPECT_GT(b.TryTake(t + 50ms), 49ms);                     // still not there, and nothing taken
  EXPECT_EQ(b.TryTake(t + wait), Clock::duration::zero());  // exactly when it said
  // A long idle saves up only `burst` tokens.
  t += 10s;
  EXPECT_EQ(b.TryTake(t), Clock::duration::zero());
  EXPECT_GT(b.TryTake(t), Clock::duration::zero());
}

TEST(SmppTokenBucket, BurstAllowsThatManyAtOnce) {
  TokenBucket b(5, 3);
  const Clock::time_point t = Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.TryTake(t), Clock::duration::zero()) << i;
  EXPECT_GT(b.TryTake(t), 150ms);  // the fourth waits ~200 ms
}

TEST(SmppBackoff, DoublesToTheCapWithJitterAndResets) {
  std::mt19937 rng(7);
  Backoff b(100ms, 800ms);
  const long long expected_max[] = {100, 200, 400, 800, 800, 800};
  for (long long hi : expected_max) {
    const auto d = b.Next(rng);
    EXPECT_GE(d.count(), hi / 2);
    EXPECT_LE(d.count(), hi);
  }
  b.Reset();
  const auto d = b.Next(rng);
  EXPECT_GE(d.count(), 50);
  EXPECT_LE(d.count(), 100);
}

TEST(SmppBackoff, JitterActuallyVaries) {
  std::mt19937 rng(11);
  Backoff b(1000ms, 1000ms);
  const auto first = b.Next(rng);
  bool varied = false;
  for (int i = 0; i < 20 && !varied; ++i) varied = b.Next(rng) != first;
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace msgin5g::gateway::smpp
