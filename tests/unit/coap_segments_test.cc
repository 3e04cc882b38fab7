// Segment recovery bookkeeping of the CoAP endpoint (api/coap/inbound_segments.h,
// api/coap/sent_segments.h): which SEGRECs and SEGCONFIRs are due, and what a UE's SEGREC can be
// answered with. Time is passed in, so the deadlines are exact.
#include <gtest/gtest.h>

#include "api/coap/inbound_segments.h"
#include "api/coap/sent_segments.h"

namespace msgin5g::api::coap {
namespace {

using namespace std::chrono_literals;
using Kind = InboundSegments::Action::Kind;
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

InboundSegments Tracker(int requests = 2) {
  InboundSegments::Options o;
  o.recovery_after = 1000ms;
  o.max_requests = requests;
  o.max_sets = 3;
  o.max_missing_listed = 4;
  return InboundSegments(o);
}

TEST(InboundSegments, ACompleteSetNeedsNothing) {
  auto t = Tracker();
  EXPECT_TRUE(t.Stored("ue", "s", 3, 1, t0).empty());
  EXPECT_TRUE(t.Stored("ue", "s", 3, 3, t0).empty());
  EXPECT_TRUE(t.Stored("ue", "s", 3, 3, t0).empty());  // a duplicate changes nothing
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.Stored("ue", "s", 3, 2, t0).empty());  // complete without asking: no SEGCONFIR
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.Due(t0 + 1h).empty());
}

TEST(InboundSegments, AStalledSetIsAskedForThenConfirmed) {
  auto t = Tracker();
  t.Stored("ue", "s", 4, 1, t0);
  t.Stored("ue", "s", 4, 4, t0 + 500ms);
  EXPECT_TRUE(t.Due(t0 + 1499ms).empty()) << "silence counts from the last segment";
  auto due = t.Due(t0 + 1500ms);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, Kind::kRequest);
  EXPECT_EQ(due[0].ue, "ue");
  EXPECT_EQ(due[0].seg_id, "s");
  EXPECT_EQ(due[0].missing, (std::vector<std::uint32_t>{2, 3}));
  EXPECT_TRUE(t.Due(t0 + 2000ms).empty()) << "the next prompt waits a full period";
  EXPECT_TRUE(t.Stored("ue", "s", 4, 2, t0 + 2100ms).empty());
  auto done = t.Stored("ue", "s", 4, 3, t0 + 2200ms);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].kind, Kind::kConfirmSuccess);
  EXPECT_EQ(done[0].seg_id, "s");
  EXPECT_EQ(t.size(), 0u);
}

// Only the first segment carries the total (and the last tells it by lastSegFlag, passed here as
// total = its number): before either arrived, the gaps below the highest number are missing.
TEST(InboundSegments, WithTheTotalUnknownTheGapsAreAskedFor) {
  auto t = Tracker();
  EXPECT_TRUE(t.Stored("ue", "s", 0, 3, t0).empty());
  EXPECT_TRUE(t.Stored("ue", "s", 0, 4, t0).empty());
  EXPECT_EQ(t.size(), 1u);
  auto due = t.Due(t0 + 1s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].missing, (std::vector<std::uint32_t>{1, 2}));
  // The first one says 5: 2 and 5 are missing now; the last one (5) completes it.
  EXPECT_TRUE(t.Stored("ue", "s", 5, 1, t0 + 1100ms).empty());
  EXPECT_EQ(t.Due(t0 + 2100ms).at(0).missing, (std::vector<std::uint32_t>{2, 5}));
  EXPECT_TRUE(t.Stored("ue", "s", 0, 2, t0 + 2200ms).empty());
  auto done = t.Stored("ue", "s", 5, 5, t0 + 2300ms);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].kind, Kind::kConfirmSuccess);
  EXPECT_EQ(t.size(), 0u);
  // A total below a number already stored is ignored (the broker refuses it).
  t.Stored("ue", "u", 0, 4, t0);
  t.Stored("ue", "u", 3, 1, t0);
  EXPECT_EQ(t.Due(t0 + 1s).at(0).missing, (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(InboundSegments, GivesUpAfterMaxRequests) {
  auto t = Tracker(2);
  t.Stored("ue", "s", 3, 2, t0);
  EXPECT_EQ(t.Due(t0 + 1s).at(0).kind, Kind::kRequest);
  EXPECT_EQ(t.Due(t0 + 2s).at(0).kind, Kind::kRequest);
  auto last = t.Due(t0 + 3s);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].kind, Kind::kConfirmFailure);
  EXPECT_EQ(last[0].missing, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.Due(t0 + 10s).empty());
}

TEST(InboundSegments, AFinishedSetIsNotOpenedAgain) {
  InboundSegments::Options o;
  o.recovery_after = 1000ms;
  o.max_requests = 1;
  o.remember_finished = 5s;
  InboundSegments t(o);
  t.Stored("ue", "done", 2, 1, t0);
  t.Stored("ue", "done", 2, 2, t0);
  EXPECT_EQ(t.finished(), 1u);
  t.Stored("ue", "done", 2, 2, t0 + 1s);  // a repeat (answered 2.01 from the idempotency record)
  EXPECT_EQ(t.size(), 0u) << "no SEGREC for a delivered set";
  t.Stored("ue", "lost", 2, 1, t0);
  t.Due(t0 + 1s);                                      // SEGREC
  EXPECT_EQ(t.Due(t0 + 2s).at(0).kind, Kind::kConfirmFailure);
  EXPECT_TRUE(t.Stored("ue", "lost", 2, 2, t0 + 3s).empty()) << "no SUCCESS after FAILURE";
  EXPECT_EQ(t.size(), 0u);
  t.Stored("ue", "done", 2, 1, t0 + 6s);  // remembered 5 s: a new set of that id is tracked
  EXPECT_EQ(t.size(), 1u);
}

TEST(InboundSegments, BoundsAndForgetting) {
  auto t = Tracker();
  EXPECT_TRUE(t.Stored("ue", "one", 1, 1, t0).empty());  // a single segment is not tracked
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.Stored("ue", "bad", 3, 0, t0).empty());
  EXPECT_TRUE(t.Stored("ue", "bad", 3, 4, t0).empty());
  EXPECT_EQ(t.size(), 0u);
  t.Stored("a", "s1", 9, 1, t0);
  t.Stored("a", "s2", 9, 1, t0);
  t.Stored("b", "s1", 9, 1, t0);
  t.Stored("c", "s1", 9, 1, t0);  // over max_sets: not tracked
  EXPECT_EQ(t.size(), 3u);
  auto due = t.Due(t0 + 1s);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].missing, (std::vector<std::uint32_t>{2, 3, 4, 5})) << "at most 4 listed";
  t.Forget("b", "s1");
  EXPECT_EQ(t.size(), 2u);
  t.ForgetUe("a");
  EXPECT_EQ(t.size(), 0u);
  // A segment whose total disagrees with its set's is ignored (the broker refuses it too).
  t.Stored("d", "s", 3, 1, t0);
  t.Stored("d", "s", 5, 2, t0);
  t.Stored("d", "s", 3, 2, t0);
  EXPECT_EQ(t.Stored("d", "s", 3, 3, t0).size(), 0u);
  EXPECT_EQ(t.size(), 0u);
}

SentSegments Window(std::size_t max_bytes = 100) {
  SentSegments::Options o;
  o.max_bytes = max_bytes;
  o.keep_for = 10s;
  return SentSegments(o);
}

TEST(SentSegments, KeepsFindsAndForgets) {
  auto w = Window();
  w.Sent("ue", "s", 1, "one", t0);
  w.Sent("ue", "s", 2, "two", t0);
  w.Sent("ue2", "s", 1, "other", t0);
  ASSERT_NE(w.Find("ue", "s", 2), nullptr);
  EXPECT_EQ(*w.Find("ue", "s", 2), "two");
  EXPECT_EQ(w.Find("ue", "s", 3), nullptr);
  EXPECT_EQ(w.Find("ue3", "s", 1), nullptr);
  EXPECT_EQ(w.bytes(), 11u);
  w.Sent("ue", "s", 2, "TWO!", t0);  // sent again: replaced, counted once
  EXPECT_EQ(*w.Find("ue", "s", 2), "TWO!");
  EXPECT_EQ(w.bytes(), 12u);
  w.Forget("ue", "s");
  EXPECT_EQ(w.Find("ue", "s", 1), nullptr);
  EXPECT_EQ(w.bytes(), 5u);
  EXPECT_EQ(w.sets(), 1u);
}

TEST(SentSegments, DropsTheOldestOverTheByteBoundAndAfterKeepFor) {
  auto w = Window(10);
  w.Sent("a", "s", 1, "12345", t0);
  w.Sent("b", "s", 1, "12345", t0 + 1s);
  w.Sent("c", "s", 1, "12345", t0 + 2s);  // 15 bytes: a's set goes
  EXPECT_EQ(w.Find("a", "s", 1), nullptr);
  EXPECT_NE(w.Find("b", "s", 1), nullptr);
  EXPECT_EQ(w.bytes(), 10u);
  w.Sent("b", "s", 2, "", t0 + 3s);  // b's set is now the newest
  w.Sent("d", "s", 1, "12345", t0 + 4s);
  EXPECT_EQ(w.Find("c", "s", 1), nullptr) << "c was sent to longest ago";
  EXPECT_NE(w.Find("b", "s", 1), nullptr);
  w.Trim(t0 + 13s);  // b last sent at +3 s: kept for 10 s
  EXPECT_EQ(w.Find("b", "s", 1), nullptr);
  EXPECT_NE(w.Find("d", "s", 1), nullptr);
  w.Trim(t0 + 14s);
  EXPECT_EQ(w.sets(), 0u);
  EXPECT_EQ(w.bytes(), 0u);
  w.Sent("big", "s", 1, std::string(11, 'x'), t0);  // larger than the whole window: not kept
  EXPECT_EQ(w.sets(), 0u);
}

TEST(SentSegments, TheOrderQueueStaysBounded) {
  auto w = Window(1 << 20);
  w.Sent("pinned", "s", 1, "x", t0);  // stays at the front for the whole loop
  for (int i = 0; i < 10000; ++i) w.Sent("busy", "s", static_cast<std::uint32_t>(i % 50 + 1), "y", t0);
  EXPECT_EQ(w.sets(), 2u);
  EXPECT_LT(w.order_entries(), 2000u);
  EXPECT_NE(w.Find("pinned", "s", 1), nullptr);
}

}  // namespace
}  // namespace msgin5g::api::coap
