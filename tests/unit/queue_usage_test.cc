// QueueUsage::Largest: the top of the per-recipient counts that GET /admin/v1/queues lists.
#include <random>

#include <gtest/gtest.h>

#include "broker/queue_limits.h"

namespace msgin5g::broker {
namespace {

using storage::Address;
using storage::AddressType;

std::vector<std::string> Names(const std::vector<std::pair<Address, QueueUsage::Use>>& v) {
  std::vector<std::string> out;
  for (const auto& [a, u] : v) out.push_back(a.id + "=" + std::to_string(u.messages));
  return out;
}

TEST(QueueUsageLargest, MostEntriesFirstTiesByAddressAndAtMostTheLimit) {
  QueueUsage usage{QueueLimits{}};
  const std::vector<std::pair<std::string, int>> counts = {
      {"d", 1}, {"a", 5}, {"c", 3}, {"b", 3}, {"e", 7}, {"f", 2}};
  for (const auto& [id, n] : counts) {
    for (int i = 0; i < n; ++i) usage.Add(Address{AddressType::kUe, id}, 10);
  }
  EXPECT_EQ(Names(usage.Largest(3)), (std::vector<std::string>{"e=7", "a=5", "b=3"}));
  EXPECT_EQ(Names(usage.Largest(100)),
            (std::vector<std::string>{"e=7", "a=5", "b=3", "c=3", "f=2", "d=1"}));
  EXPECT_TRUE(usage.Largest(0).empty());
  auto top = usage.Largest(1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].first.type, AddressType::kUe);
  EXPECT_EQ(top[0].second.bytes, 70u);
  // A drained queue leaves the list.
  for (int i = 0; i < 7; ++i) usage.Remove(Address{AddressType::kUe, "e"}, 10);
  EXPECT_EQ(Names(usage.Largest(1)), (std::vector<std::string>{"a=5"}));
}

TEST(QueueUsageLargest, MatchesAFullSortOnRandomCounts) {
  QueueUsage usage{QueueLimits{}};
  std::mt19937 rng(7);
  std::vector<std::pair<Address, QueueUsage::Use>> all;
  for (int r = 0; r < 500; ++r) {
    Address a{r % 3 == 0 ? AddressType::kAs : AddressType::kUe, "r" + std::to_string(r)};
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) usage.Add(a, 1);
    all.push_back({a, QueueUsage::Use{static_cast<std::uint32_t>(n), static_cast<std::uint64_t>(n)}});
  }
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
    if (x.second.messages != y.second.messages) return x.second.messages > y.second.messages;
    return x.first < y.first;
  });
  auto top = usage.Largest(37);
  ASSERT_EQ(top.size(), 37u);
  for (std::size_t i = 0; i < top.size(); ++i) {
    EXPECT_EQ(top[i].first, all[i].first) << i;
    EXPECT_EQ(top[i].second.messages, all[i].second.messages) << i;
  }
}

}  // namespace
}  // namespace msgin5g::broker
