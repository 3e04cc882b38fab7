// InboundBlocks: Block1 reassembly rules (api/coap/inbound_blocks.h).
#include "api/coap/inbound_blocks.h"

#include <gtest/gtest.h>

namespace msgin5g::api::coap {
namespace {

using Kind = InboundBlocks::Step::Kind;
using namespace std::chrono_literals;

class InboundBlocksTest : public ::testing::Test {
 protected:
  InboundBlocks::Options Small() {
    InboundBlocks::Options o;
    o.max_body_bytes = 10;
    o.max_transfers = 2;
    o.idle_timeout = 1s;
    return o;
  }
  InboundBlocks::Clock::time_point t0_ = InboundBlocks::Clock::now();
};

TEST_F(InboundBlocksTest, OnePieceBodyPassesThrough) {
  InboundBlocks b(Small());
  auto s = b.Add("p", 0, false, "abc", t0_);
  EXPECT_EQ(s.kind, Kind::kComplete);
  EXPECT_EQ(s.body, "abc");
  EXPECT_EQ(b.open_transfers(), 0u);
}

TEST_F(InboundBlocksTest, InOrderBlocksComplete) {
  InboundBlocks b(Small());
  EXPECT_EQ(b.Add("p", 0, true, "ab", t0_).kind, Kind::kContinue);
  EXPECT_EQ(b.Add("p", 2, true, "cd", t0_).kind, Kind::kContinue);
  EXPECT_EQ(b.Add("p", 2, true, "cd", t0_).kind, Kind::kContinue) << "a retransmitted block";
  auto s = b.Add("p", 4, false, "e", t0_);
  EXPECT_EQ(s.kind, Kind::kComplete);
  EXPECT_EQ(s.body, "abcde");
  EXPECT_EQ(b.open_transfers(), 0u);
}

TEST_F(InboundBlocksTest, EmptyTransferIsIncompleteNotAnEmptyBody) {
  InboundBlocks b(Small());
  EXPECT_EQ(b.Add("p", 0, true, "", t0_).kind, Kind::kContinue);
  auto s = b.Add("p", 1024, false, "", t0_);
  EXPECT_EQ(s.kind, Kind::kRefused);
  EXPECT_EQ(s.status, 408);
  EXPECT_EQ(b.open_transfers(), 0u);
}

TEST_F(InboundBlocksTest, GapsOverlapsAndStraysAreRefused) {
  InboundBlocks b(Small());
  EXPECT_EQ(b.Add("p", 4, false, "x", t0_).status, 408) << "no block 0";
  b.Add("p", 0, true, "ab", t0_);
  EXPECT_EQ(b.Add("p", 3, true, "x", t0_).status, 408) << "a gap";
  EXPECT_EQ(b.open_transfers(), 0u) << "the transfer is dropped";
  b.Add("p", 0, true, "ab", t0_);
  EXPECT_EQ(b.Add("p", 1, true, "x", t0_).status, 408) << "other bytes at a held offset";
  b.Add("p", 0, true, "ab", t0_);
  EXPECT_EQ(b.Add("p", 0, false, "z", t0_).body, "z") << "block 0 again restarts";
}

TEST_F(InboundBlocksTest, BodyAndTransfersAreBounded) {
  InboundBlocks b(Small());
  EXPECT_EQ(b.Add("p", 0, false, "01234567890", t0_).status, 413);
  EXPECT_EQ(b.Add("p", 0, true, "0123456", t0_).kind, Kind::kContinue);
  EXPECT_EQ(b.Add("p", 7, false, "7890", t0_).status, 413);
  EXPECT_EQ(b.Add("a", 0, true, "x", t0_).kind, Kind::kContinue);
  EXPECT_EQ(b.Add("b", 0, true, "x", t0_).kind, Kind::kContinue);
  EXPECT_EQ(b.Add("c", 0, true, "x", t0_).status, 503) << "max_transfers";
  // Idle transfers expire and make room.
  EXPECT_EQ(b.Add("c", 0, true, "x", t0_ + 2s).kind, Kind::kContinue);
  EXPECT_EQ(b.open_transfers(), 1u);
  EXPECT_EQ(b.Add("a", 1, false, "y", t0_ + 2s).status, 408) << "a's transfer expired";
}

TEST_F(InboundBlocksTest, ForgetDropsAPeersTransfer) {
  InboundBlocks b(Small());
  b.Add("p", 0, true, "ab", t0_);
  b.Forget("p");
  EXPECT_EQ(b.open_transfers(), 0u);
  EXPECT_EQ(b.Add("p", 2, false, "c", t0_).status, 408);
}

}  // namespace
}  // namespace msgin5g::api::coap
