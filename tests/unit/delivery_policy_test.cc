// The delivery engine's rules on their own, time passed in: retry backoff (doubling, cap, jitter
// bounds), a destination's circuit breaker (closed -> open -> half-open -> closed) and a segmented
// send (window, fresh set per retry, worst answer decides).
#include <set>

#include <gtest/gtest.h>

#include "broker/backoff.h"
#include "broker/circuit_breaker.h"
#include "broker/segmented_send.h"

namespace msgin5g::broker {
namespace {

using std::chrono::milliseconds;
using State = CircuitBreaker::State;

TEST(BackoffTest, DoublesPerAttemptUpToTheCap) {
  Backoff b(milliseconds(1000), milliseconds(10000), 1);
  EXPECT_EQ(b.Ceiling(0), milliseconds(1000));  // 0 counts as the first
  EXPECT_EQ(b.Ceiling(1), milliseconds(1000));
  EXPECT_EQ(b.Ceiling(2), milliseconds(2000));
  EXPECT_EQ(b.Ceiling(4), milliseconds(8000));
  EXPECT_EQ(b.Ceiling(5), milliseconds(10000));
  EXPECT_EQ(b.Ceiling(4000000000u), milliseconds(10000));  // no overflow however many attempts
}

TEST(BackoffTest, HalfFixedHalfRandomAndSpread) {
  Backoff b(milliseconds(1000), milliseconds(300000), 7);
  std::set<long long> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto d = b.Next(3).count();  // ceiling 4000
    EXPECT_GE(d, 2000);
    EXPECT_LE(d, 4000);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 100u);  // spread, not one value
  // The same seed gives the same waits (tests can rely on it).
  Backoff x(milliseconds(500), milliseconds(60000), 42), y(milliseconds(500), milliseconds(60000), 42);
  for (std::uint32_t n = 1; n < 20; ++n) EXPECT_EQ(x.Next(n), y.Next(n));
}

class CircuitBreakerTest : public ::testing::Test {
 protected:
  // Pauses of exactly 1 s, 2 s, 4 s... (initial == cap per step is not needed: jitter bounds
  // are checked instead).
  Backoff backoff_{milliseconds(1000), milliseconds(60000), 3};
  CircuitBreaker b_;
  static constexpr std::uint32_t kThreshold = 3;
  std::int64_t now_ = 1'000'000;
};

TEST_F(CircuitBreakerTest, OpensAfterThresholdFailuresInARow) {
  EXPECT_EQ(b_.state(now_), State::kClosed);
  EXPECT_EQ(b_.OnTransientFailure(now_, {}, kThreshold, backoff_), milliseconds(0));
  EXPECT_EQ(b_.OnTransientFailure(now_, {}, kThreshold, backoff_), milliseconds(0));
  EXPECT_EQ(b_.state(now_), State::kClosed);
  const auto pause = b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  EXPECT_GE(pause, milliseconds(500));
  EXPECT_LE(pause, milliseconds(1000));
  EXPECT_EQ(b_.state(now_), State::kOpen);
  EXPECT_TRUE(b_.blocked(now_ + pause.count() - 1));
  EXPECT_EQ(b_.blocked_until(), now_ + pause.count());
  EXPECT_EQ(b_.failures(), 3u);
}

TEST_F(CircuitBreakerTest, AnAnswerInBetweenStartsTheCountAgain) {
  b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  b_.OnAnswer();  // e.g. a permanent refusal: the destination is alive
  b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  EXPECT_EQ(b_.state(now_), State::kClosed);
}

TEST_F(CircuitBreakerTest, FailuresOfRequestsInFlightWhenItOpenedDoNotExtendThePause) {
  for (std::uint32_t i = 0; i < kThreshold; ++i) b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  const auto until = b_.blocked_until();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(b_.OnTransientFailure(now_ + 10, {}, kThreshold, backoff_), milliseconds(0));
  }
  EXPECT_EQ(b_.blocked_until(), until);
}

TEST_F(CircuitBreakerTest, HalfOpenAfterThePauseAFailedProbeReopensLongerASuccessCloses) {
  for (std::uint32_t i = 0; i < kThreshold; ++i) b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  const std::int64_t after = b_.blocked_until();
  EXPECT_EQ(b_.state(after), State::kHalfOpen);
  EXPECT_TRUE(b_.half_open());
  // The probe fails: open again at once (no threshold in half-open), for the second opening's
  // pause (1-2 s).
  const auto second = b_.OnTransientFailure(after, {}, kThreshold, backoff_);
  EXPECT_GE(second, milliseconds(1000));
  EXPECT_LE(second, milliseconds(2000));
  EXPECT_EQ(b_.state(after), State::kOpen);
  const std::int64_t later = b_.blocked_until();
  const auto third = b_.OnTransientFailure(later, {}, kThreshold, backoff_);
  EXPECT_GE(third, milliseconds(2000));
  EXPECT_LE(third, milliseconds(4000));
  // A probe that gets through closes it, and the next opening starts from the first pause again.
  b_.OnAnswer();
  EXPECT_EQ(b_.state(b_.blocked_until()), State::kClosed);
  EXPECT_EQ(b_.failures(), 0u);
  const std::int64_t t = b_.blocked_until();
  for (std::uint32_t i = 0; i < kThreshold - 1; ++i) b_.OnTransientFailure(t, {}, kThreshold, backoff_);
  EXPECT_LE(b_.OnTransientFailure(t, {}, kThreshold, backoff_), milliseconds(1000));
}

TEST_F(CircuitBreakerTest, RetryAfterBlocksForAtLeastThatLongWithoutCountingAsAnOpening) {
  EXPECT_EQ(b_.OnTransientFailure(now_, milliseconds(30000), kThreshold, backoff_), milliseconds(0));
  EXPECT_EQ(b_.state(now_), State::kOpen);
  EXPECT_EQ(b_.blocked_until(), now_ + 30000);
  EXPECT_EQ(b_.state(now_ + 30000), State::kHalfOpen);
  // A shorter Retry-After never shortens a pause already decided.
  b_.OnTransientFailure(now_ + 100, milliseconds(5), kThreshold, backoff_);
  EXPECT_EQ(b_.blocked_until(), now_ + 30000);
}

TEST_F(CircuitBreakerTest, ResetForgetsThePause) {
  for (std::uint32_t i = 0; i < kThreshold; ++i) b_.OnTransientFailure(now_, {}, kThreshold, backoff_);
  ASSERT_EQ(b_.state(now_), State::kOpen);
  b_.Reset();  // a UE was just heard from
  EXPECT_EQ(b_.state(now_), State::kClosed);
  EXPECT_EQ(b_.blocked_until(), 0);
  EXPECT_EQ(CircuitBreaker::StateName(State::kHalfOpen), std::string("half-open"));
}

DeliveryResult Answer(DeliveryResult::Kind k, milliseconds retry_after = milliseconds(0)) {
  DeliveryResult r;
  r.kind = k;
  r.retry_after = retry_after;
  r.detail = "test";
  return r;
}

// `n` parts of "x".
std::vector<std::string_view> Parts(std::size_t n) {
  return std::vector<std::string_view>(n, std::string_view("x"));
}

TEST(SegmentedSendTest, AWindowOfPartsWithTheirHeadersAndDoneWhenAllAreAnswered) {
  SegmentedSend set(Parts(10), "m-1", 0);
  EXPECT_EQ(set.segment_id(), "m-1");
  std::vector<SegmentInfo> sent;
  while (auto p = set.Next()) sent.push_back(p->second);
  ASSERT_EQ(sent.size(), SegmentedSend::kWindow);  // 8 of 10 at once
  EXPECT_EQ(sent[0].number, 1u);
  EXPECT_EQ(sent[0].total, 10u);
  EXPECT_FALSE(sent[0].last);
  EXPECT_EQ(sent[0].segment_id, "m-1");
  // Each answer frees a slot for the next part.
  EXPECT_FALSE(set.OnAnswer(Answer(DeliveryResult::Kind::kDelivered)));
  auto ninth = set.Next();
  ASSERT_TRUE(ninth);
  EXPECT_EQ(ninth->second.number, 9u);
  EXPECT_FALSE(set.Next());  // the window is full again
  EXPECT_FALSE(set.OnAnswer(Answer(DeliveryResult::Kind::kDelivered)));
  auto tenth = set.Next();
  ASSERT_TRUE(tenth);
  EXPECT_TRUE(tenth->second.last);
  int done = 0;
  for (int i = 0; i < 8; ++i) done += set.OnAnswer(Answer(DeliveryResult::Kind::kDelivered)) ? 1 : 0;
  EXPECT_EQ(done, 1);  // only the last answer completes it
  EXPECT_EQ(set.TakeResult().kind, DeliveryResult::Kind::kDelivered);
}

TEST(SegmentedSendTest, ARetryIsAFreshSet) {
  EXPECT_EQ(SegmentedSend(Parts(2), "m-1", 3).segment_id(), "m-1~3");
}

TEST(SegmentedSendTest, PartAndSetIdsNameTheirMessage) {
  EXPECT_EQ(SegmentMessageId("m-1~3", 2), "m-1~3#2");
  EXPECT_EQ(MessageIdOfSegmentId("m-1#2"), "m-1");
  EXPECT_EQ(MessageIdOfSegmentId("m-1~3#12"), "m-1");
  EXPECT_EQ(MessageIdOfSegmentId("m-1~3"), "m-1");
  EXPECT_EQ(MessageIdOfSegmentId("a#b#7"), "a#b");
  for (const char* plain : {"m-1", "m-1#", "m-1#x", "#3", "~2", "m~x#3x", "m#12345678901"}) {
    EXPECT_FALSE(MessageIdOfSegmentId(plain).has_value()) << plain;
  }
  EXPECT_EQ(MessageIdOfSegmentId("m~x#3"), "m~x");  // "~x" is no attempt number
}

TEST(SegmentedSendTest, AFailureStopsNewPartsAndTheWorstAnswerDecides) {
  SegmentedSend set(Parts(20), "m-2", 0);
  std::size_t sent = 0;
  while (set.Next()) ++sent;
  ASSERT_EQ(sent, 8u);
  EXPECT_FALSE(set.OnAnswer(Answer(DeliveryResult::Kind::kTransient, milliseconds(2000))));
  EXPECT_FALSE(set.Next());  // no new part after a failure
  EXPECT_FALSE(set.OnAnswer(Answer(DeliveryResult::Kind::kPermanent)));
  EXPECT_FALSE(set.OnAnswer(Answer(DeliveryResult::Kind::kTransient, milliseconds(5000))));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(set.OnAnswer(Answer(DeliveryResult::Kind::kDelivered)));
  EXPECT_TRUE(set.OnAnswer(Answer(DeliveryResult::Kind::kRequeue)));  // the last one out
  auto r = set.TakeResult();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kPermanent);  // permanent over transient
  EXPECT_EQ(r.retry_after, milliseconds(5000));         // the longest Retry-After
}

TEST(SegmentedSendTest, SeverityOrder) {
  EXPECT_LT(Severity(DeliveryResult::Kind::kDelivered), Severity(DeliveryResult::Kind::kRequeue));
  EXPECT_LT(Severity(DeliveryResult::Kind::kRequeue), Severity(DeliveryResult::Kind::kTransient));
  EXPECT_LT(Severity(DeliveryResult::Kind::kTransient), Severity(DeliveryResult::Kind::kPermanent));
}

}  // namespace
}  // namespace msgin5g::broker
