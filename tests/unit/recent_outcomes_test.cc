#include "broker/recent_outcomes.h"

#include <gtest/gtest.h>

namespace msgin5g::broker {
namespace {

TEST(RecentOutcomes, RemembersTheFirstAnswerPerOriginAndMsgId) {
  RecentOutcomes r(1024);
  Address as{AddressType::kAs, "as-1"};
  EXPECT_FALSE(r.Find(as, "m1").has_value());
  r.Add(as, "m1", {AcceptOutcome::Kind::kStored, ""});
  r.Add(as, "m1", {AcceptOutcome::Kind::kFailed, "later answers never replace the first"});
  ASSERT_TRUE(r.Find(as, "m1").has_value());
  EXPECT_EQ(r.Find(as, "m1")->kind, AcceptOutcome::Kind::kStored);
  // Same id from another origin, or another type with the same name, is another message.
  EXPECT_FALSE(r.Find({AddressType::kAs, "as-2"}, "m1").has_value());
  EXPECT_FALSE(r.Find({AddressType::kUe, "as-1"}, "m1").has_value());
  // The separator keeps ("a", "bc") and ("ab", "c") apart.
  r.Add({AddressType::kAs, "a"}, "bc", {});
  EXPECT_FALSE(r.Find({AddressType::kAs, "ab"}, "c").has_value());
}

TEST(RecentOutcomes, IsBoundedOldestFirst) {
  RecentOutcomes r(160);  // 16 shards x 11
  Address as{AddressType::kAs, "as-1"};
  for (int i = 0; i < 10000; ++i) r.Add(as, "m" + std::to_string(i), {});
  int kept = 0;
  for (int i = 0; i < 10000; ++i) kept += r.Find(as, "m" + std::to_string(i)).has_value() ? 1 : 0;
  EXPECT_LE(kept, 16 * 11);
  EXPECT_GT(kept, 0);
  EXPECT_TRUE(r.Find(as, "m9999").has_value());  // the newest survive
  EXPECT_FALSE(r.Find(as, "m0").has_value());    // the oldest went first
}

}  // namespace
}  // namespace msgin5g::broker
