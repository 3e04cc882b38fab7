// Unit tests for broker/registry.h on a real Store (RocksDB in a temporary directory): who the
// recipients of an address are, what the bounds and owners refuse, what reaches the route sink,
// and that what a refused change leaves is what a restart loads.

#include "broker/registry.h"

#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "storage/store.h"
#include "tests/support/async_wait.h"

namespace msgin5g::broker {
namespace {

using storage::Txn;
using testing::ElementsAre;
using testing::Field;
using testing::UnorderedElementsAre;
using testing_support::Await;
using testing_support::FreshDir;

Address Ue(std::string id) { return Address{AddressType::kUe, std::move(id)}; }
Address As(std::string id) { return Address{AddressType::kAs, std::move(id)}; }

class RegistryTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("registry");
    options_.limits.max_as_registrations = 2;
    options_.gateways.push_back({"gw-1", GatewayKind::kL3g, "http://127.0.0.1:1", 0});
    Open();
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Open() {
    registry_.reset();
    store_.reset();
    storage::StoreOptions so;
    so.path = dir_;
    auto s = storage::Store::Open(so, nullptr);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
    registry_ = std::make_unique<Registry>(options_, metrics_);
    registry_->SetRouteSink({[this](std::shared_ptr<const RouteTable> t) { tables_.push_back(t); },
                             [this](const std::string& ue) { ue_changes_.push_back(ue); }});
    auto state = store_->Recover();
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    ASSERT_TRUE(Write([&](Txn&) {
                  registry_->Load(*state);
                  return Status::Ok();
                }).ok());
  }
  // Runs `fn` on the writer thread as one storage operation and waits until it is durable.
  Status Write(std::function<Status(Txn&)> fn) {
    std::promise<Status> p;
    store_->Submit(std::move(fn), [&p](Status st) { p.set_value(st); });
    return Await(p.get_future());
  }
  std::vector<Registry::Resolved> Resolve(const Address& dest, Status* st = nullptr) {
    std::vector<Registry::Resolved> out;
    Status s = Write([&](Txn&) { return registry_->Resolve(dest, UnixMillis(), &out); });
    if (st != nullptr) *st = s;
    return out;
  }
  Result<AsRegistration> RegisterAs(std::string svc, std::string owner) {
    AsRegistration reg, out;
    reg.as_svc_id = std::move(svc);
    reg.owner = std::move(owner);
    reg.target_uri = "http://127.0.0.1:1/" + reg.as_svc_id;
    Status st = Write([&](Txn& txn) { return registry_->RegisterAs(txn, reg, &out); });
    if (!st.ok()) return st;
    return out;
  }

  std::string dir_;
  Registry::Options options_;
  BrokerMetrics metrics_{nullptr, QueueLimits{}, SegmentSetBounds{}};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::shared_ptr<const RouteTable>> tables_;
  std::vector<std::string> ue_changes_;
};

TEST_F(RegistryTest, GroupsResolveToMembersAndTopicsToSubscribersNotExpired) {
  GroupRecord g;
  g.group_id = "g-1";
  g.members = {Ue("ue-2"), Ue("ue-1"), Ue("ue-2")};
  ASSERT_TRUE(Write([&](Txn& txn) { return registry_->PutGroup(txn, g); }).ok());
  EXPECT_THAT(Resolve({AddressType::kGroup, "g-1"}),
              ElementsAre(Field(&Registry::Resolved::recipient, Ue("ue-1")),
                          Field(&Registry::Resolved::recipient, Ue("ue-2"))))
      << "members sorted, duplicates dropped";

  const std::int64_t now = UnixMillis();
  ASSERT_TRUE(Write([&](Txn& txn) {
                MSGIN5G_RETURN_IF_ERROR(registry_->Subscribe(txn, {"t-1", Ue("ue-1"), 0}));
                MSGIN5G_RETURN_IF_ERROR(registry_->Subscribe(txn, {"t-1", Ue("ue-2"), now - 1}));
                return registry_->Subscribe(txn, {"t-1", Ue("ue-3"), now + 60'000});
              }).ok());
  EXPECT_THAT(Resolve({AddressType::kTopic, "t-1"}),
              UnorderedElementsAre(Field(&Registry::Resolved::recipient, Ue("ue-1")),
                                   Field(&Registry::Resolved::recipient, Ue("ue-3"))));
  EXPECT_EQ(registry_->sizes().topic_subscriptions.load(), 3u);

  Status st;
  Resolve({AddressType::kGroup, "nobody"}, &st);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  Resolve(As("unregistered"), &st);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, AnAsIsReachableOnceRegisteredAndOnlyItsOwnerReplacesIt) {
  ASSERT_TRUE(RegisterAs("as-1", "client-a").ok());
  auto r = Resolve(As("as-1"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].reachable);
  ASSERT_FALSE(tables_.empty());
  EXPECT_EQ(tables_.back()->as_targets.at("as-1"), "http://127.0.0.1:1/as-1");

  auto other = RegisterAs("as-1", "client-b");
  EXPECT_EQ(other.status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(RegisterAs("as-2", "client-a").ok());
  auto third = RegisterAs("as-3", "client-a");
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted)
      << "max_as_registrations 2: " << third.status().ToString();
  // The owner may replace its own (an AS that restarted), also at the bound.
  ASSERT_TRUE(RegisterAs("as-1", "client-a").ok());
  EXPECT_EQ(registry_->sizes().as_registrations.load(), 2u);

  Open();  // what was refused left nothing behind
  EXPECT_EQ(registry_->sizes().as_registrations.load(), 2u);
  Status st;
  Resolve(As("as-3"), &st);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, AUeIsAwakeFromRegistrationUntilItStopsAnswering) {
  UeRegistration ue;
  ue.ue_id = "ue-1";
  ue.endpoint = "udp:127.0.0.1:5683";
  ASSERT_TRUE(Write([&](Txn& txn) { return registry_->RegisterUe(txn, ue); }).ok());
  EXPECT_TRUE(registry_->UeAwake("ue-1"));
  EXPECT_TRUE(Resolve(Ue("ue-1")).at(0).reachable);
  EXPECT_THAT(ue_changes_, ElementsAre("ue-1"));

  ASSERT_TRUE(Write([&](Txn&) {
                registry_->UeUnreachable("ue-1");
                return Status::Ok();
              }).ok());
  EXPECT_FALSE(registry_->UeAwake("ue-1"));
  EXPECT_FALSE(Resolve(Ue("ue-1")).at(0).reachable);
  EXPECT_EQ(registry_->sizes().ues_asleep.load(), 1u);

  // Contact from another address is refused unless the UE may move; then it is awake again.
  Status st = Write([&](Txn& txn) {
    return registry_->UeContact(txn, "ue-1", "udp:127.0.0.1:9999", /*may_move=*/false);
  });
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(registry_->UeAwake("ue-1"));
  ASSERT_TRUE(Write([&](Txn& txn) {
                return registry_->UeContact(txn, "ue-1", "udp:127.0.0.1:9999", true);
              }).ok());
  EXPECT_TRUE(registry_->UeAwake("ue-1"));
  EXPECT_EQ(registry_->sizes().ues_asleep.load(), 0u);
  EXPECT_THAT(ue_changes_, ElementsAre("ue-1", "ue-1", "ue-1"));
}

TEST_F(RegistryTest, ARoutingRuleMustNameAConfiguredGatewayAndRoutesItsUes) {
  RoutingRuleRecord bad;
  bad.name = "r-bad";
  bad.gateway = "no-such-gateway";
  EXPECT_EQ(Write([&](Txn& txn) { return registry_->PutRoutingRule(txn, bad); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->sizes().routing_rules.load(), 0u);

  RoutingRuleRecord rule;
  rule.name = "r-1";
  rule.pattern = "sms-*";
  rule.gateway = "gw-1";
  ASSERT_TRUE(Write([&](Txn& txn) { return registry_->PutRoutingRule(txn, rule); }).ok());
  EXPECT_TRUE(Resolve(Ue("sms-ue")).at(0).reachable) << "sms-* goes to gw-1 now";
  EXPECT_FALSE(Resolve(Ue("other-ue")).at(0).reachable) << "direct, and not registered";
  ASSERT_TRUE(Write([&](Txn& txn) { return registry_->DeleteRoutingRule(txn, "r-1"); }).ok());
  EXPECT_FALSE(Resolve(Ue("sms-ue")).at(0).reachable);
  EXPECT_EQ(Write([&](Txn& txn) { return registry_->DeleteRoutingRule(txn, "r-1"); }).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace msgin5g::broker
