// The clock-driven parts of MqttLink without a broker: the pending-publish table (acks, timeouts,
// Stop) and the reconnect backoff.
#include <gtest/gtest.h>

#include <vector>

#include "gateway/mqtt/pending_publishes.h"
#include "gateway/mqtt/reconnect_backoff.h"

namespace msgin5g::gateway::mqtt {
namespace {

using Clock = PendingPublishes::Clock;
using std::chrono::milliseconds;

TEST(PendingPublishes, AckTimeoutAndAll) {
  PendingPublishes p;
  std::vector<int> got;
  const auto t0 = Clock::now();
  for (int mid : {1, 2, 3}) {
    PendingPublishes::Done d = [&got, mid](Status) { got.push_back(mid); };
    ASSERT_TRUE(p.Add(mid, t0 + milliseconds(mid * 100), d));
    EXPECT_FALSE(d);  // moved into the table
  }
  PendingPublishes::Done dup = [](Status) {};
  EXPECT_FALSE(p.Add(2, t0, dup));
  EXPECT_TRUE(dup);  // untouched on refusal
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.NextDeadline(), t0 + milliseconds(100));

  auto acked = p.Take(2);
  ASSERT_TRUE(acked);
  acked(Status::Ok());
  EXPECT_FALSE(p.Take(2));  // a second (late) ack finds nothing

  auto expired = p.TakeExpired(t0 + milliseconds(150));
  ASSERT_EQ(expired.size(), 1u);
  expired[0](Status::Ok());
  EXPECT_EQ(p.NextDeadline(), t0 + milliseconds(300));
  EXPECT_TRUE(p.TakeExpired(t0 + milliseconds(299)).empty());

  auto all = p.TakeAll();
  ASSERT_EQ(all.size(), 1u);
  all[0](Status::Ok());
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.NextDeadline(), std::nullopt);
  EXPECT_EQ(got, (std::vector<int>{2, 1, 3}));
}

TEST(PendingPublishes, SameDeadlineKeepsBoth) {
  PendingPublishes p;
  const auto t = Clock::now();
  PendingPublishes::Done a = [](Status) {}, b = [](Status) {};
  ASSERT_TRUE(p.Add(10, t, a));
  ASSERT_TRUE(p.Add(11, t, b));
  EXPECT_TRUE(p.Take(10));
  EXPECT_EQ(p.TakeExpired(t).size(), 1u);
}

TEST(ReconnectBackoff, DoublesUpToMaxWithJitterInHalfToFull) {
  const milliseconds min(100), max(1000);
  EXPECT_EQ(ReconnectDelay(0, min, max, 1.0), milliseconds(100));
  EXPECT_EQ(ReconnectDelay(0, min, max, 0.0), milliseconds(50));
  EXPECT_EQ(ReconnectDelay(1, min, max, 1.0), milliseconds(200));
  EXPECT_EQ(ReconnectDelay(3, min, max, 1.0), milliseconds(800));
  EXPECT_EQ(ReconnectDelay(4, min, max, 1.0), milliseconds(1000));
  EXPECT_EQ(ReconnectDelay(1000, min, max, 1.0), milliseconds(1000));
  EXPECT_EQ(ReconnectDelay(1000, min, max, 0.0), milliseconds(500));
  EXPECT_EQ(ReconnectDelay(2, min, max, 7.0), milliseconds(400));  // clamped
}

}  // namespace
}  // namespace msgin5g::gateway::mqtt
