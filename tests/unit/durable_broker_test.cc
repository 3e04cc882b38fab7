// Unit tests for broker/durable_broker.h: DurableBroker through its Broker and Admin interfaces,
// on a real Store (RocksDB in a temporary directory), including restarts (broker and store
// destroyed, then reopened on the same path).

#include "common/clock.h"
#include "tests/support/async_wait.h"
#include "tests/support/failing_sync_fs.h"
#include "tests/support/metric_value.h"
#include "tests/support/writer_gate.h"
#include "broker/durable_broker.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "metrics/registry.h"
#include "storage/store.h"

namespace msgin5g::broker {
namespace {

using testing_support::Await;
using testing_support::FreshDir;
using testing_support::WriterGate;

using namespace std::chrono_literals;
using storage::MessageRecord;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::Not;
using testing::UnorderedElementsAre;
using Kind = AcceptOutcome::Kind;

// Calls `start(done)` and waits for `done(T)`.
template <class T, class F>
T Call(F start) {
  std::promise<T> p;
  auto f = p.get_future();
  start([&p](T v) { p.set_value(std::move(v)); });
  return Await(std::move(f));
}


Address Ue(std::string id) { return Address{AddressType::kUe, std::move(id)}; }
Address As(std::string id) { return Address{AddressType::kAs, std::move(id)}; }
Address Group(std::string id) { return Address{AddressType::kGroup, std::move(id)}; }
Address Topic(std::string id) { return Address{AddressType::kTopic, std::move(id)}; }

Message Msg(Address origin, Address destination, std::string msg_id, bool store_and_forward,
            std::string payload = "hello") {
  Message m;
  m.ingress = origin.type == AddressType::kAs ? Ingress::kAs : Ingress::kUe;
  m.origin = std::move(origin);
  m.destination = std::move(destination);
  m.app_id = "app-1";
  m.msg_id = std::move(msg_id);
  m.payload = std::move(payload);
  m.store_and_forward = store_and_forward;
  return m;
}

Message Segment(Address origin, Address destination, std::string msg_id, std::string seg_id,
                std::uint32_t number, std::uint32_t total, std::string payload) {
  Message m = Msg(std::move(origin), std::move(destination), std::move(msg_id), true,
                  std::move(payload));
  m.segment = SegmentInfo{std::move(seg_id), total, number, number == total};
  return m;
}

double Sample(const std::string& text, const std::string& series) {
  return testing_support::MetricValue(text, series);
}

std::uint64_t TotalQueued(const BrokerStats& s) {
  return s.queued_by_priority[0] + s.queued_by_priority[1] + s.queued_by_priority[2];
}

class DurableBrokerTest : public testing::Test {
 protected:
  void SetUp() override {
    store_options_.path = FreshDir("broker");
    // The gateways the tests' routing rules name (nothing is delivered: no channel here).
    for (const char* name : {"gw-1", "gw-a", "gw-b"}) {
      broker_options_.gateways.push_back({name, GatewayKind::kL3g, "http://127.0.0.1:1", 0});
    }
    broker_options_.gateways.push_back({"cbc", GatewayKind::kBg, "http://127.0.0.1:1", 0});
  }
  void TearDown() override {
    Close();
    std::error_code ec;
    std::filesystem::remove_all(store_options_.path, ec);
  }

  void Open() {
    auto s = storage::Store::Open(store_options_, registry_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
    auto b = DurableBroker::Create(*store_, broker_options_, registry_.get(), channel_);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(b.value());
  }
  void Close() {
    broker_.reset();
    store_.reset();
  }
  void Reopen() {
    Close();
    Open();
  }

  // --- Broker ---
  Result<AcceptOutcome> Submit(Message m) {
    return Call<Result<AcceptOutcome>>(
        [&](auto done) { broker_->SubmitMessage(std::move(m), std::move(done)); });
  }
  // Submits and expects a successful answer of `kind`.
  AcceptOutcome SubmitOk(Message m, Kind kind) {
    const std::string id = m.msg_id;
    auto r = Submit(std::move(m));
    EXPECT_TRUE(r.ok()) << id << ": " << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->kind, kind) << id << ": " << r->failure_cause;
    return r.value();
  }
  Result<AcceptOutcome> SubmitReport(Report rep) {
    return Call<Result<AcceptOutcome>>(
        [&](auto done) { broker_->SubmitReport(std::move(rep), std::move(done)); });
  }
  Result<AsRegistration> Register(std::string svc, std::string target_uri) {
    AsRegistration r;
    r.as_svc_id = std::move(svc);
    r.app_id = "app-1";
    r.target_uri = std::move(target_uri);
    return Call<Result<AsRegistration>>(
        [&](auto done) { broker_->RegisterAs(std::move(r), std::move(done)); });
  }
  Status Deregister(std::string id) {
    return Call<Status>([&](auto done) { broker_->DeregisterAs(std::move(id), "", std::move(done)); });
  }

  // --- Admin ---
  Status PutGroup(std::string id, std::vector<Address> members) {
    return Call<Status>([&](auto done) {
      broker_->PutGroup(GroupRecord{std::move(id), std::move(members)}, std::move(done));
    });
  }
  Status Subscribe(std::string topic, Address sub, std::int64_t expiry_ms = 0) {
    return Call<Status>([&](auto done) {
      broker_->Subscribe(TopicSubscriptionRecord{std::move(topic), std::move(sub), expiry_ms},
                         std::move(done));
    });
  }
  Status PutRule(std::string name, std::string pattern, std::string gateway,
                 std::uint32_t order = 100) {
    return Call<Status>([&](auto done) {
      broker_->PutRoutingRule(RoutingRuleRecord{std::move(name), std::move(pattern),
                                                std::move(gateway), order},
                              std::move(done));
    });
  }
  QueueSummary Queue(Address a) {
    auto r = Call<Result<QueueSummary>>(
        [&](auto done) { broker_->SummarizeQueue(std::move(a), std::move(done)); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : QueueSummary{};
  }
  Result<MessageView> Find(Address origin, std::string msg_id) {
    return Call<Result<MessageView>>([&](auto done) {
      broker_->FindMessage(std::move(origin), std::move(msg_id), std::move(done));
    });
  }
  BrokerStats Stats() {
    auto r = Call<Result<BrokerStats>>([&](auto done) { broker_->Stats(std::move(done)); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : BrokerStats{};
  }

  // --- committed data, read directly ---
  std::optional<MessageRecord> StoredMessage(std::uint64_t seq) {
    std::promise<std::optional<MessageRecord>> p;
    auto f = p.get_future();
    store_->Query([&](storage::Reader& r) { p.set_value(r.GetMessage(seq)); });
    return Await(std::move(f));
  }
  std::vector<storage::QueueEntryRecord> ListQueue(Address a) {
    std::promise<std::vector<storage::QueueEntryRecord>> p;
    auto f = p.get_future();
    store_->Query([&](storage::Reader& r) { p.set_value(r.ListQueue(a, 100)); });
    return Await(std::move(f));
  }

  storage::StoreOptions store_options_;
  BrokerOptions broker_options_;
  std::unique_ptr<metrics::Registry> registry_;  // optional; outlives the store and broker
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<DurableBroker> broker_;
  DeliveryChannel* channel_ = nullptr;  // set before Open to run the delivery engine
};

// ---------------------------------------------------------------------------------------------
// A2P to a UE: stored or failed
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, UnreachableUeWithStoreAndForwardIsStored) {
  Open();
  Message m = Msg(As("svc-1"), Ue("ue-5"), "m-1", true, "twelve bytes");
  m.priority = Priority::kHigh;
  const std::int64_t expiry = UnixMillis() + 3'600'000;
  m.expiry = TimePoint(std::chrono::milliseconds(expiry));
  AcceptOutcome o = SubmitOk(m, Kind::kStored);
  EXPECT_EQ(o.failure_cause, "");

  QueueSummary q = Queue(Ue("ue-5"));
  EXPECT_EQ(q.count, 1u);
  EXPECT_EQ(q.by_priority[0], 1u);
  EXPECT_EQ(q.by_priority[1], 0u);
  EXPECT_EQ(q.by_priority[2], 0u);
  EXPECT_EQ(q.bytes, 12u);
  EXPECT_GT(q.oldest_due_ms, 0);

  auto v = Find(As("svc-1"), "m-1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->outcome, "DELY_STORED");
  EXPECT_EQ(v->kind, "MESSAGE");
  EXPECT_NE(v->seq, 0u);
  EXPECT_EQ(v->destination, Ue("ue-5"));
  EXPECT_EQ(v->priority, Priority::kHigh);
  EXPECT_EQ(v->payload_bytes, 12u);
  EXPECT_EQ(v->expiry_ms, expiry);
  ASSERT_EQ(v->recipients.size(), 1u);
  EXPECT_EQ(v->recipients[0].recipient, Ue("ue-5"));
  EXPECT_EQ(v->recipients[0].state, "QUEUED");
  EXPECT_EQ(v->recipients[0].priority, Priority::kHigh);

  BrokerStats s = Stats();
  EXPECT_EQ(s.queued_by_priority[0], 1u);
  EXPECT_EQ(s.queued_bytes, 12u);
  EXPECT_TRUE(s.storage_healthy);
}

TEST_F(DurableBrokerTest, DefaultTtlAppliesWithoutExpiry) {
  broker_options_.default_ttl = 600s;
  Open();
  const std::int64_t before = UnixMillis();
  SubmitOk(Msg(As("svc-1"), Ue("ue-5"), "m-1", true), Kind::kStored);
  auto v = Find(As("svc-1"), "m-1");
  ASSERT_TRUE(v.ok());
  EXPECT_GE(v->expiry_ms, before + 600'000);
  EXPECT_LE(v->expiry_ms, UnixMillis() + 600'000);
}

TEST_F(DurableBrokerTest, UnreachableUeWithoutStoreAndForwardFails) {
  Open();
  AcceptOutcome o = SubmitOk(Msg(As("svc-1"), Ue("ue-5"), "m-1", false), Kind::kFailed);
  EXPECT_THAT(o.failure_cause, Not(IsEmpty()));
  EXPECT_EQ(Queue(Ue("ue-5")).count, 0u);
  EXPECT_EQ(TotalQueued(Stats()), 0u);
  auto v = Find(As("svc-1"), "m-1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->outcome, "DELY_FAILED");
  EXPECT_EQ(v->seq, 0u);  // nothing stored
  EXPECT_THAT(v->recipients, IsEmpty());
  EXPECT_EQ(Find(As("svc-1"), "never-sent").status().code(), StatusCode::kNotFound);
}

TEST_F(DurableBrokerTest, RepeatedMessageIdGivesTheFirstOutcomeAndStoresNothingNew) {
  Open();
  SubmitOk(Msg(As("svc-1"), Ue("ue-5"), "m-1", true), Kind::kStored);
  SubmitOk(Msg(As("svc-1"), Ue("ue-5"), "m-1", true, "other payload"), Kind::kStored);
  EXPECT_EQ(Queue(Ue("ue-5")).count, 1u);

  // A failed first answer is repeated even when the recipient became reachable since.
  AcceptOutcome first = SubmitOk(Msg(As("svc-1"), Ue("ue-6"), "m-2", false), Kind::kFailed);
  ASSERT_TRUE(PutRule("gw", "ue-6", "gw-1").ok());
  AcceptOutcome again = SubmitOk(Msg(As("svc-1"), Ue("ue-6"), "m-2", false), Kind::kFailed);
  EXPECT_EQ(again, first);
  EXPECT_EQ(Queue(Ue("ue-6")).count, 0u);

  // The same msgId from another originator is another message.
  SubmitOk(Msg(As("svc-2"), Ue("ue-5"), "m-1", true), Kind::kStored);
  EXPECT_EQ(Queue(Ue("ue-5")).count, 2u);

  Reopen();
  SubmitOk(Msg(As("svc-1"), Ue("ue-5"), "m-1", true), Kind::kStored);
  AcceptOutcome after = SubmitOk(Msg(As("svc-1"), Ue("ue-6"), "m-2", false), Kind::kFailed);
  EXPECT_EQ(after, first);
  EXPECT_EQ(Queue(Ue("ue-5")).count, 2u);
  EXPECT_EQ(Queue(Ue("ue-6")).count, 0u);
  EXPECT_EQ(TotalQueued(Stats()), 2u);
}

TEST_F(DurableBrokerTest, RepeatedMessagesSubmittedTogetherAreStoredOnce) {
  Open();
  // Many copies in flight at once (the same batch): the later ones see the first one's record.
  constexpr int kCopies = 20;
  std::vector<std::promise<Result<AcceptOutcome>>> answers(kCopies);
  for (auto& a : answers) {
    broker_->SubmitMessage(Msg(As("svc-1"), Ue("ue-5"), "m-1", true),
                           [&a](Result<AcceptOutcome> r) { a.set_value(std::move(r)); });
  }
  for (auto& a : answers) {
    auto r = Await(a.get_future());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, Kind::kStored);
  }
  EXPECT_EQ(Queue(Ue("ue-5")).count, 1u);
  EXPECT_EQ(TotalQueued(Stats()), 1u);
}

// ---------------------------------------------------------------------------------------------
// AS destinations and registrations
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, AsDestinationNeedsARegistration) {
  Open();
  auto r = Submit(Msg(Ue("ue-1"), As("svc-a"), "m-1", true));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Find(Ue("ue-1"), "m-1").status().code(), StatusCode::kNotFound);  // nothing kept

  auto reg = Register("svc-a", "https://as.example/callback");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_THAT(reg->registration_id, Not(IsEmpty()));
  EXPECT_EQ(reg->as_svc_id, "svc-a");

  // The refused msgId was not remembered: the retry is accepted.
  SubmitOk(Msg(Ue("ue-1"), As("svc-a"), "m-1", false), Kind::kAccepted);
  EXPECT_EQ(Queue(As("svc-a")).count, 1u);
  auto v = Find(Ue("ue-1"), "m-1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->outcome, "ACCEPTED");
  ASSERT_EQ(v->recipients.size(), 1u);
  EXPECT_EQ(v->recipients[0].recipient, As("svc-a"));

  // Registered without a target URI: known but not reachable.
  ASSERT_TRUE(Register("svc-b", "").ok());
  SubmitOk(Msg(Ue("ue-1"), As("svc-b"), "m-2", true), Kind::kStored);
  SubmitOk(Msg(Ue("ue-1"), As("svc-b"), "m-3", false), Kind::kFailed);
  EXPECT_EQ(Queue(As("svc-b")).count, 1u);
}

TEST_F(DurableBrokerTest, UnknownAsIsStoredWhenConfigured) {
  broker_options_.store_for_unknown_recipient = true;
  Open();
  SubmitOk(Msg(Ue("ue-1"), As("svc-unknown"), "m-1", true), Kind::kStored);
  EXPECT_EQ(Queue(As("svc-unknown")).count, 1u);
}

TEST_F(DurableBrokerTest, RegisteringTheSameServiceAgainReplacesTheRegistration) {
  Open();
  auto r1 = Register("svc-x", "https://old.example/cb");
  ASSERT_TRUE(r1.ok());
  auto r2 = Register("svc-x", "");  // the AS restarted, now without a callback
  ASSERT_TRUE(r2.ok());
  EXPECT_NE(r1->registration_id, r2->registration_id);
  EXPECT_EQ(Stats().registrations, 1u);
  // The new registration is the one used: no target URI, so not reachable.
  SubmitOk(Msg(Ue("ue-1"), As("svc-x"), "m-1", false), Kind::kFailed);

  EXPECT_EQ(Deregister(r1->registration_id).code(), StatusCode::kNotFound);
  Reopen();  // the old registration is gone on disk too
  EXPECT_EQ(Stats().registrations, 1u);
  ASSERT_EQ(broker_->recovered().registrations.size(), 1u);
  EXPECT_EQ(broker_->recovered().registrations[0].registration_id, r2->registration_id);
  EXPECT_EQ(Deregister(r1->registration_id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Deregister(r2->registration_id).ok());
  EXPECT_EQ(Deregister(r2->registration_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(Submit(Msg(Ue("ue-1"), As("svc-x"), "m-2", true)).status().code(),
            StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(Stats().registrations, 0u);
  EXPECT_EQ(Submit(Msg(Ue("ue-1"), As("svc-x"), "m-3", true)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(DurableBrokerTest, ReportToARegisteredAsIsQueued) {
  Open();
  ASSERT_TRUE(Register("svc-r", "https://as.example/cb").ok());
  Report rep;
  rep.origin = Ue("ue-r");
  rep.destination = As("svc-r");
  rep.msg_id = "orig-1";
  rep.status = ReportStatus::kFailed;
  rep.failure_cause = "UE out of coverage";
  auto r = SubmitReport(rep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kAccepted);
  EXPECT_EQ(Queue(As("svc-r")).count, 1u);

  // Repeated: same answer, not queued twice.
  auto again = SubmitReport(rep);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), r.value());
  EXPECT_EQ(Queue(As("svc-r")).count, 1u);

  // A message with the report's msgId from the same UE is not mistaken for the report.
  ASSERT_TRUE(Register("svc-m", "https://as.example/m").ok());
  SubmitOk(Msg(Ue("ue-r"), As("svc-m"), "orig-1", false), Kind::kAccepted);

  auto entries = ListQueue(As("svc-r"));
  ASSERT_EQ(entries.size(), 1u);
  auto stored = StoredMessage(entries[0].seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->kind, storage::MessageKind::kReport);
  EXPECT_EQ(stored->origin, Ue("ue-r"));
  EXPECT_EQ(stored->destination, As("svc-r"));
  EXPECT_EQ(stored->msg_id, "orig-1");
  EXPECT_EQ(stored->report_status, ReportStatus::kFailed);
  EXPECT_EQ(stored->failure_cause, "UE out of coverage");

  // To an unregistered AS: NotFound.
  Report lost = rep;
  lost.destination = As("svc-none");
  lost.msg_id = "orig-2";
  EXPECT_EQ(SubmitReport(lost).status().code(), StatusCode::kNotFound);
  // To an AS without a callback: stored.
  ASSERT_TRUE(Register("svc-s", "").ok());
  Report later = rep;
  later.destination = As("svc-s");
  later.msg_id = "orig-3";
  auto st = SubmitReport(later);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->kind, Kind::kStored);
  EXPECT_EQ(Queue(As("svc-s")).count, 1u);
}

// ---------------------------------------------------------------------------------------------
// Groups and topics
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, GroupMessageIsQueuedOncePerMemberAndStoredOnce) {
  Open();
  ASSERT_TRUE(PutGroup("g1", {Ue("ue-g3"), Ue("ue-g1"), Ue("ue-g2"), Ue("ue-g1")}).ok());
  SubmitOk(Msg(As("svc-1"), Group("g1"), "m-1", true, "group payload"), Kind::kStored);
  for (const char* id : {"ue-g1", "ue-g2", "ue-g3"}) EXPECT_EQ(Queue(Ue(id)).count, 1u) << id;
  EXPECT_EQ(Queue(Group("g1")).count, 0u);
  EXPECT_EQ(TotalQueued(Stats()), 3u);

  auto v = Find(As("svc-1"), "m-1");
  ASSERT_TRUE(v.ok());
  std::vector<Address> recipients;
  for (const auto& r : v->recipients) recipients.push_back(r.recipient);
  EXPECT_THAT(recipients, UnorderedElementsAre(Ue("ue-g1"), Ue("ue-g2"), Ue("ue-g3")));
  // One stored message shared by the three queue entries.
  std::vector<std::uint64_t> seqs;
  for (const char* id : {"ue-g1", "ue-g2", "ue-g3"}) {
    auto q = ListQueue(Ue(id));
    ASSERT_EQ(q.size(), 1u);
    seqs.push_back(q[0].seq);
  }
  EXPECT_THAT(seqs, ElementsAre(v->seq, v->seq, v->seq));
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->recipient_count, 3u);
  EXPECT_EQ(stored->payload, "group payload");

  // One member reachable through a gateway: accepted, all three still queued.
  ASSERT_TRUE(PutRule("gw", "ue-g2", "gw-1").ok());
  SubmitOk(Msg(As("svc-1"), Group("g1"), "m-2", false), Kind::kAccepted);
  EXPECT_EQ(Queue(Ue("ue-g2")).count, 2u);
  // Without store-and-forward, the unreachable members are dropped.
  EXPECT_EQ(Queue(Ue("ue-g1")).count, 1u);
}

TEST_F(DurableBrokerTest, MixedGroupWithReportRequestedReportsTheDroppedMembers) {
  Open();
  ASSERT_TRUE(PutGroup("g1", {Ue("ue-a"), Ue("ue-b")}).ok());
  ASSERT_TRUE(PutRule("gw", "ue-a", "gw-1").ok());
  Message m = Msg(As("svc-1"), Group("g1"), "m-1", false);
  m.report_requested = true;
  SubmitOk(m, Kind::kAccepted);
  EXPECT_EQ(Queue(Ue("ue-a")).count, 1u);
  EXPECT_EQ(Queue(Ue("ue-b")).count, 0u);
  auto reports = ListQueue(As("svc-1"));
  ASSERT_EQ(reports.size(), 1u);
  auto r = StoredMessage(reports[0].seq);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, storage::MessageKind::kReport);
  EXPECT_EQ(r->origin, Ue("ue-b"));
  EXPECT_EQ(r->report_status, ReportStatus::kFailed);
}

TEST_F(DurableBrokerTest, UndefinedOrEmptyGroup) {
  Open();
  auto r = Submit(Msg(As("svc-1"), Group("nope"), "m-1", true));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(TotalQueued(Stats()), 0u);

  ASSERT_TRUE(PutGroup("empty", {}).ok());
  AcceptOutcome o = SubmitOk(Msg(As("svc-1"), Group("empty"), "m-2", true), Kind::kFailed);
  EXPECT_THAT(o.failure_cause, HasSubstr("no members"));

  EXPECT_TRUE(Call<Status>([&](auto done) { broker_->DeleteGroup("empty", done); }).ok());
  EXPECT_EQ(Call<Status>([&](auto done) { broker_->DeleteGroup("empty", done); }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Submit(Msg(As("svc-1"), Group("empty"), "m-3", true)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(DurableBrokerTest, UndefinedGroupIsStoredForTheGroupWhenConfigured) {
  broker_options_.store_for_unknown_recipient = true;
  Open();
  SubmitOk(Msg(As("svc-1"), Group("nope"), "m-1", true), Kind::kStored);
  EXPECT_EQ(Queue(Group("nope")).count, 1u);
}

TEST_F(DurableBrokerTest, GroupMembershipChanges) {
  Open();
  ASSERT_TRUE(PutGroup("g", {Ue("a")}).ok());
  auto add = [&](Address m) {
    return Call<Status>([&](auto done) { broker_->AddGroupMember("g", m, done); });
  };
  auto remove = [&](Address m) {
    return Call<Status>([&](auto done) { broker_->RemoveGroupMember("g", m, done); });
  };
  EXPECT_TRUE(add(Ue("b")).ok());
  EXPECT_TRUE(add(Ue("b")).ok());  // idempotent
  EXPECT_TRUE(remove(Ue("a")).ok());
  EXPECT_EQ(remove(Ue("a")).code(), StatusCode::kNotFound);
  EXPECT_EQ(Call<Status>([&](auto done) { broker_->AddGroupMember("none", Ue("a"), done); }).code(),
            StatusCode::kNotFound);
  SubmitOk(Msg(As("svc-1"), Group("g"), "m-1", true), Kind::kStored);
  EXPECT_EQ(Queue(Ue("a")).count, 0u);
  EXPECT_EQ(Queue(Ue("b")).count, 1u);
}

TEST_F(DurableBrokerTest, TopicMessageGoesToEachCurrentSubscriber) {
  Open();
  const std::int64_t now = UnixMillis();
  ASSERT_TRUE(Subscribe("news", Ue("ue-t1")).ok());
  ASSERT_TRUE(Subscribe("news", Ue("ue-t2"), now + 3'600'000).ok());
  ASSERT_TRUE(Subscribe("news", Ue("ue-t3"), now - 1000).ok());  // expired
  SubmitOk(Msg(As("svc-1"), Topic("news"), "m-1", true), Kind::kStored);
  EXPECT_EQ(Queue(Ue("ue-t1")).count, 1u);
  EXPECT_EQ(Queue(Ue("ue-t2")).count, 1u);
  EXPECT_EQ(Queue(Ue("ue-t3")).count, 0u);
  auto v = Find(As("svc-1"), "m-1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->recipients.size(), 2u);
  EXPECT_EQ(TotalQueued(Stats()), 2u);

  AcceptOutcome none = SubmitOk(Msg(As("svc-1"), Topic("quiet"), "m-2", true), Kind::kFailed);
  EXPECT_THAT(none.failure_cause, HasSubstr("no subscribers"));

  // Only expired subscribers: none.
  ASSERT_TRUE(Subscribe("stale", Ue("ue-t4"), now - 1).ok());
  SubmitOk(Msg(As("svc-1"), Topic("stale"), "m-3", true), Kind::kFailed);
  EXPECT_EQ(Queue(Ue("ue-t4")).count, 0u);

  // Unsubscribed: no longer a recipient.
  ASSERT_TRUE(Call<Status>([&](auto done) { broker_->Unsubscribe("news", Ue("ue-t1"), done); })
                  .ok());
  EXPECT_EQ(
      Call<Status>([&](auto done) { broker_->Unsubscribe("news", Ue("ue-t1"), done); }).code(),
      StatusCode::kNotFound);
  SubmitOk(Msg(As("svc-1"), Topic("news"), "m-4", true), Kind::kStored);
  EXPECT_EQ(Queue(Ue("ue-t1")).count, 1u);
  EXPECT_EQ(Queue(Ue("ue-t2")).count, 2u);
}

// ---------------------------------------------------------------------------------------------
// Routing rules
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, RoutingRuleToAnUnconfiguredGatewayIsRefused) {
  Open();
  EXPECT_EQ(PutRule("r1", "ue-*", "no-such-gw").code(), StatusCode::kInvalidArgument);
  SubmitOk(Msg(As("svc-1"), Ue("ue-1"), "m-1", false), Kind::kFailed);  // still unrouted
}

TEST_F(DurableBrokerTest, RoutingRuleMakesMatchingUesReachable) {
  Open();
  ASSERT_TRUE(PutRule("r1", "ue-1*", "gw-a").ok());
  SubmitOk(Msg(As("svc-1"), Ue("ue-17"), "m-1", false), Kind::kAccepted);
  EXPECT_EQ(Queue(Ue("ue-17")).count, 1u);
  SubmitOk(Msg(As("svc-1"), Ue("ue-1"), "m-2", false), Kind::kAccepted);  // '*' matches nothing
  SubmitOk(Msg(As("svc-1"), Ue("ue-2"), "m-3", false), Kind::kFailed);
  SubmitOk(Msg(As("svc-1"), Ue("xue-17"), "m-4", false), Kind::kFailed);
  EXPECT_EQ(Queue(Ue("ue-2")).count, 0u);

  // The first matching rule (by order) decides: a direct rule before the gateway one.
  ASSERT_TRUE(PutRule("r0", "ue-13", "", 10).ok());
  SubmitOk(Msg(As("svc-1"), Ue("ue-13"), "m-5", false), Kind::kFailed);
  SubmitOk(Msg(As("svc-1"), Ue("ue-14"), "m-6", false), Kind::kAccepted);

  auto rules = Call<Result<std::vector<RoutingRuleRecord>>>(
      [&](auto done) { broker_->ListRoutingRules(done); });
  ASSERT_TRUE(rules.ok());
  std::vector<std::string> names;
  for (const auto& r : rules.value()) names.push_back(r.name);
  EXPECT_THAT(names, ElementsAre("r0", "r1"));

  EXPECT_TRUE(Call<Status>([&](auto done) { broker_->DeleteRoutingRule("r1", done); }).ok());
  EXPECT_EQ(Call<Status>([&](auto done) { broker_->DeleteRoutingRule("r1", done); }).code(),
            StatusCode::kNotFound);
  SubmitOk(Msg(As("svc-1"), Ue("ue-18"), "m-7", false), Kind::kFailed);

  // Replacing a rule by name.
  ASSERT_TRUE(PutRule("r0", "ue-2*", "gw-b", 10).ok());
  SubmitOk(Msg(As("svc-1"), Ue("ue-2"), "m-8", false), Kind::kAccepted);
  SubmitOk(Msg(As("svc-1"), Ue("ue-13"), "m-9", false), Kind::kFailed);
  EXPECT_EQ(Stats().routing_rules, 1u);
}

TEST_F(DurableBrokerTest, BroadcastNeedsAGateway) {
  broker_options_.broadcast_gateway = "cbc";
  Open();
  SubmitOk(Msg(As("svc-1"), Address{AddressType::kBroadcast, "area-1"}, "m-1", false),
           Kind::kAccepted);
  broker_options_.broadcast_gateway.clear();
  Reopen();
  SubmitOk(Msg(As("svc-1"), Address{AddressType::kBroadcast, "area-1"}, "m-2", false),
           Kind::kFailed);
}

// A receiver that reports about each part of a segmented delivery ("M#n", "M~a#n") or about
// the set it reassembled ("M~a"): the originator hears about M, the id it sent, once for
// success and once for failure at most, and nothing after a failure.
TEST_F(DurableBrokerTest, ReportsAboutPartsOfAMessageNameTheMessage) {
  Open();
  ASSERT_TRUE(Register("svc-r", "https://as.example/cb").ok());
  SubmitOk(Msg(As("svc-r"), Ue("ue-r"), "big", true), Kind::kStored);
  SubmitOk(Msg(As("svc-r"), Ue("ue-r"), "lit", true), Kind::kStored);
  SubmitOk(Msg(As("svc-r"), Ue("ue-r"), "lit#2", true), Kind::kStored);
  auto report = [&](const std::string& id, ReportStatus status) {
    Report rep;
    rep.origin = Ue("ue-r");
    rep.destination = As("svc-r");
    rep.msg_id = id;
    rep.status = status;
    auto r = SubmitReport(rep);
    EXPECT_TRUE(r.ok()) << id << ": " << r.status().ToString();
  };
  auto reports = [&] {
    std::vector<std::pair<std::string, ReportStatus>> out;
    for (const auto& e : ListQueue(As("svc-r"))) {
      auto m = StoredMessage(e.seq);
      if (m) out.emplace_back(m->msg_id, m->report_status);
    }
    return out;
  };
  using P = std::pair<std::string, ReportStatus>;
  report("big#1", ReportStatus::kSuccess);
  report("big~1#2", ReportStatus::kSuccess);  // a second success: not passed on again
  EXPECT_EQ(reports(), (std::vector<P>{{"big", ReportStatus::kSuccess}}));
  report("big~1#3", ReportStatus::kFailed);  // a part failed: the message did
  report("big~1", ReportStatus::kFailed);
  report("big#4", ReportStatus::kSuccess);
  EXPECT_EQ(reports(), (std::vector<P>{{"big", ReportStatus::kSuccess}, {"big", ReportStatus::kFailed}}));
  // Ids that only look like parts: "lit#2" was sent as such, "other" was never sent.
  report("lit#2", ReportStatus::kSuccess);
  report("other#1", ReportStatus::kSuccess);
  auto all = reports();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[2].first, "lit#2");
  EXPECT_EQ(all[3].first, "other#1");
}

// ---------------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, SegmentsOutOfOrderAreReassembledIntoOneMessage) {
  Open();
  const Address origin = As("svc-seg");
  const Address dest = Ue("ue-seg");
  const std::string parts[] = {"", "one|", "two|", "three|", "four|"};
  for (std::uint32_t n : {3u, 1u, 4u}) {
    SubmitOk(Segment(origin, dest, "seg-msg-" + std::to_string(n), "S1", n, 4, parts[n]),
             Kind::kAccepted);
    EXPECT_EQ(Queue(dest).count, 0u) << "after segment " << n;
    EXPECT_EQ(Stats().open_segment_sets, 1u);
  }
  // The last one completes the set: its answer is the whole message's.
  SubmitOk(Segment(origin, dest, "seg-msg-2", "S1", 2, 4, parts[2]), Kind::kStored);
  EXPECT_EQ(Queue(dest).count, 1u);
  BrokerStats s = Stats();
  EXPECT_EQ(TotalQueued(s), 1u);
  EXPECT_EQ(s.open_segment_sets, 0u);

  const std::string whole = "one|two|three|four|";
  auto v = Find(origin, "S1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->msg_id, "S1");
  EXPECT_EQ(v->outcome, "DELY_STORED");
  EXPECT_EQ(v->payload_bytes, whole.size());
  EXPECT_EQ(v->destination, dest);
  ASSERT_EQ(v->recipients.size(), 1u);
  EXPECT_EQ(v->recipients[0].recipient, dest);
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->payload, whole);
  EXPECT_EQ(stored->msg_id, "S1");
  auto q = ListQueue(dest);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].seq, v->seq);

  // A segment sent again: the first answer, nothing new.
  SubmitOk(Segment(origin, dest, "seg-msg-3", "S1", 3, 4, parts[3]), Kind::kAccepted);
  EXPECT_EQ(Queue(dest).count, 1u);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  Reopen();
  EXPECT_EQ(Queue(dest).count, 1u);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  EXPECT_TRUE(broker_->recovered().open_segment_sets.empty());
}

// A segment number sent again under a new msgId: the same bytes are a repeat (counted once), other
// bytes are refused and change nothing (they used to be answered 200 and dropped).
TEST_F(DurableBrokerTest, SegmentSentTwiceUnderANewMsgIdIsCountedOnce) {
  Open();
  const Address origin = As("svc-seg");
  const Address dest = Ue("ue-seg");
  SubmitOk(Segment(origin, dest, "a", "S", 1, 3, "A"), Kind::kAccepted);
  SubmitOk(Segment(origin, dest, "b", "S", 2, 3, "B"), Kind::kAccepted);
  SubmitOk(Segment(origin, dest, "b2", "S", 2, 3, "B"), Kind::kAccepted);  // number 2 again
  auto other = Submit(Segment(origin, dest, "b3", "S", 2, 3, "X"));     // and with other bytes
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("other content"), std::string::npos);
  EXPECT_FALSE(Find(origin, "b3").ok()) << "nothing stored for the refused segment";
  EXPECT_EQ(Queue(dest).count, 0u);
  SubmitOk(Segment(origin, dest, "c", "S", 3, 3, "C"), Kind::kStored);
  auto v = Find(origin, "S");
  ASSERT_TRUE(v.ok());
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->payload, "ABC");
}

TEST_F(DurableBrokerTest, SegmentsInFlightTogetherAreReassembledOnce) {
  Open();
  const Address origin = As("svc-seg");
  const Address dest = Group("g");
  ASSERT_TRUE(PutGroup("g", {Ue("ue-a"), Ue("ue-b")}).ok());
  // All submitted before any answer: typically one batch, each op reading the earlier ones'
  // segment and set writes through the batch.
  constexpr std::uint32_t kTotal = 6;
  std::vector<std::promise<Result<AcceptOutcome>>> answers(kTotal);
  const std::uint32_t order[kTotal] = {5, 2, 6, 1, 4, 3};
  for (std::uint32_t i = 0; i < kTotal; ++i) {
    const std::uint32_t n = order[i];
    broker_->SubmitMessage(
        Segment(origin, dest, "m" + std::to_string(n), "S", n, kTotal, std::to_string(n)),
        [&answers, i](Result<AcceptOutcome> r) { answers[i].set_value(std::move(r)); });
  }
  for (std::uint32_t i = 0; i < kTotal; ++i) {
    auto r = Await(answers[i].get_future());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->kind, i + 1 == kTotal ? Kind::kStored : Kind::kAccepted) << "answer " << i;
  }
  EXPECT_EQ(Queue(Ue("ue-a")).count, 1u);
  EXPECT_EQ(Queue(Ue("ue-b")).count, 1u);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  auto v = Find(origin, "S");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->recipients.size(), 2u);
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->payload, "123456");
}

TEST_F(DurableBrokerTest, SingleSegmentSetCompletesAtOnce) {
  Open();
  SubmitOk(Segment(As("svc-seg"), Ue("ue-1"), "m1", "S", 1, 1, "only"), Kind::kStored);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  auto v = Find(As("svc-seg"), "S");
  ASSERT_TRUE(v.ok());
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->payload, "only");
  Reopen();
  EXPECT_TRUE(broker_->recovered().open_segment_sets.empty());
}

TEST_F(DurableBrokerTest, OpenSegmentSetSurvivesReopen) {
  Open();
  const Address origin = As("svc-seg");
  const Address dest = Ue("ue-seg");
  SubmitOk(Segment(origin, dest, "m2", "S", 2, 3, "22"), Kind::kAccepted);
  SubmitOk(Segment(origin, dest, "m1", "S", 1, 3, "1"), Kind::kAccepted);
  Reopen();
  EXPECT_EQ(Stats().open_segment_sets, 1u);
  ASSERT_EQ(broker_->recovered().open_segment_sets.size(), 1u);
  EXPECT_EQ(broker_->recovered().open_segment_sets[0].received, 2u);
  SubmitOk(Segment(origin, dest, "m1", "S", 1, 3, "1"), Kind::kAccepted);  // repeat after restart
  SubmitOk(Segment(origin, dest, "m3", "S", 3, 3, "333"), Kind::kStored);
  auto v = Find(origin, "S");
  ASSERT_TRUE(v.ok());
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->payload, "122333");
  EXPECT_EQ(Stats().open_segment_sets, 0u);
}

TEST_F(DurableBrokerTest, InconsistentSegmentsAreRejected) {
  Open();
  const Address origin = As("svc-seg");
  const Address dest = Ue("ue-seg");
  SubmitOk(Segment(origin, dest, "m1", "S", 1, 3, "a"), Kind::kAccepted);
  auto bad = Submit(Segment(origin, dest, "m2", "S", 2, 4, "b"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto other_dest = Submit(Segment(origin, Ue("ue-other"), "m2", "S", 2, 3, "b"));
  ASSERT_FALSE(other_dest.ok());
  EXPECT_EQ(other_dest.status().code(), StatusCode::kInvalidArgument);

  // The refused segments stored nothing: the same msgId with consistent parameters still counts.
  SubmitOk(Segment(origin, dest, "m2", "S", 2, 3, "b"), Kind::kAccepted);
  SubmitOk(Segment(origin, dest, "m3", "S", 3, 3, "c"), Kind::kStored);
  auto v = Find(origin, "S");
  ASSERT_TRUE(v.ok());
  auto stored = StoredMessage(v->seq);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->payload, "abc");

  // An unknown recipient is refused on the first segment, and no set is opened.
  auto unknown = Submit(Segment(origin, As("svc-none"), "n1", "T", 1, 2, "x"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
}

// TS 23.554 8.5: only the first segment carries the total; the last one carries lastSegFlag.
// Segments that arrive before either are held with the total unknown.
TEST_F(DurableBrokerTest, TheTotalMayComeOnlyWithTheFirstOrTheLastSegment) {
  Open();
  const Address origin = As("svc-seg");
  const Address dest = Ue("ue-seg");
  auto part = [&](const std::string& id, const std::string& set, std::uint32_t n,
                  std::uint32_t total, bool last, const std::string& bytes) {
    Message m = Segment(origin, dest, id, set, n, total, bytes);
    m.segment->last = last;
    return m;
  };
  // Total from the first segment, which arrives last.
  SubmitOk(part("a3", "A", 3, 0, false, "3"), Kind::kAccepted);
  SubmitOk(part("a2", "A", 2, 0, false, "2"), Kind::kAccepted);
  EXPECT_EQ(Stats().open_segment_sets, 1u);
  Reopen();  // an open set with the total unknown survives a restart
  EXPECT_EQ(Stats().open_segment_sets, 1u);
  SubmitOk(part("a1", "A", 1, 3, false, "1"), Kind::kStored);
  auto a = Find(origin, "A");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(StoredMessage(a->seq)->payload, "123");

  // Total from the last segment's flag: 1 and 2 carry none.
  SubmitOk(part("b2", "B", 2, 0, false, "y"), Kind::kAccepted);
  SubmitOk(part("b3", "B", 3, 0, true, "z"), Kind::kAccepted);
  SubmitOk(part("b1", "B", 1, 0, false, "x"), Kind::kStored);
  auto b = Find(origin, "B");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(StoredMessage(b->seq)->payload, "xyz");
  EXPECT_EQ(Stats().open_segment_sets, 0u);

  // What contradicts the set is refused and changes nothing.
  SubmitOk(part("c4", "C", 4, 0, false, "4"), Kind::kAccepted);
  auto too_small = Submit(part("c1", "C", 1, 3, false, "1"));  // but segment 4 was received
  ASSERT_FALSE(too_small.ok());
  EXPECT_EQ(too_small.status().code(), StatusCode::kInvalidArgument);
  auto early_last = Submit(part("c2", "C", 2, 5, true, "2"));  // lastSegFlag on 2 of 5
  EXPECT_EQ(early_last.status().code(), StatusCode::kInvalidArgument);
  SubmitOk(part("c1", "C", 1, 5, false, "1"), Kind::kAccepted);
  auto beyond = Submit(part("c6", "C", 6, 0, false, "6"));  // the set has 5
  EXPECT_EQ(beyond.status().code(), StatusCode::kInvalidArgument);
  auto last_mismatch = Submit(part("c3", "C", 3, 0, true, "3"));  // 3 cannot be the last of 5
  EXPECT_EQ(last_mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Find(origin, "c6").ok()) << "nothing stored for a refused segment";
  for (std::uint32_t n : {2u, 3u}) {
    SubmitOk(part("c" + std::to_string(n), "C", n, 0, false, std::to_string(n)), Kind::kAccepted);
  }
  SubmitOk(part("c5", "C", 5, 0, true, "5"), Kind::kStored);
  auto c = Find(origin, "C");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(StoredMessage(c->seq)->payload, "12345");
}

TEST_F(DurableBrokerTest, TimedOutSegmentSetIsDroppedWithAFailureReport) {
  broker_options_.segment_timeout = 200ms;
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  const Address origin = Ue("ue-orig");
  const Address quiet_origin = Ue("ue-quiet");
  const Address dest = As("svc-d");
  ASSERT_TRUE(Register("svc-d", "https://as.example/d").ok());
  Message first = Segment(origin, dest, "first-msg", "S", 2, 3, "bb");
  first.report_requested = true;
  SubmitOk(first, Kind::kAccepted);
  SubmitOk(Segment(quiet_origin, dest, "q1", "Q", 1, 2, "q"), Kind::kAccepted);  // no report
  EXPECT_EQ(Stats().open_segment_sets, 2u);

  // The ticker sweeps once a second.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Stats().open_segment_sets != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(Stats().open_segment_sets, 0u);

  EXPECT_EQ(Queue(quiet_origin).count, 0u);
  EXPECT_EQ(Queue(dest).count, 0u);
  auto reports = ListQueue(origin);
  ASSERT_EQ(reports.size(), 1u);
  auto r = StoredMessage(reports[0].seq);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, storage::MessageKind::kReport);
  EXPECT_EQ(r->destination, origin);
  EXPECT_EQ(r->origin, dest);
  EXPECT_EQ(r->msg_id, "first-msg");
  EXPECT_EQ(r->report_status, ReportStatus::kFailed);
  EXPECT_THAT(r->failure_cause, HasSubstr("timed out"));
  EXPECT_EQ(TotalQueued(Stats()), 1u);
  // The queue gauge counts the report as soon as it is queued.
  EXPECT_EQ(Sample(registry_->Serialize(), "msgin5g_broker_queued_messages{priority=\"MIDDLE\"}"),
            1);

  // Dropped for good: not reopened after a restart.
  Reopen();
  EXPECT_TRUE(broker_->recovered().open_segment_sets.empty());
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  EXPECT_EQ(Queue(origin).count, 1u);
}

// The segment that completes a set is refused (the AS was deregistered meanwhile): its writes are
// rolled back, so the set stays open on disk — and must stay open in the broker's memory too, to
// be timed out (with its failure report) like any other incomplete set.
TEST_F(DurableBrokerTest, SetWhoseCompletionIsRefusedStaysOpenAndTimesOut) {
  broker_options_.segment_timeout = 200ms;
  Open();
  const Address origin = Ue("ue-orig");
  auto reg = Register("svc-d", "https://as.example/d");
  ASSERT_TRUE(reg.ok());
  Message first = Segment(origin, As("svc-d"), "s1", "S", 1, 2, "a");
  first.report_requested = true;
  SubmitOk(first, Kind::kAccepted);
  ASSERT_TRUE(Deregister(reg->registration_id).ok());

  auto last = Submit(Segment(origin, As("svc-d"), "s2", "S", 2, 2, "b"));
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Stats().open_segment_sets, 1u);  // as on disk

  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Queue(origin).count == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  auto reports = ListQueue(origin);
  ASSERT_EQ(reports.size(), 1u) << "the incomplete set was never timed out";
  auto r = StoredMessage(reports[0].seq);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, storage::MessageKind::kReport);
  EXPECT_EQ(r->msg_id, "s1");
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  Reopen();
  EXPECT_TRUE(broker_->recovered().open_segment_sets.empty());
}

// Sweeps of many timed-out sets go in slices; a write that arrives during a sweep is answered
// after the slice in progress, not after the whole sweep (a sweep used to be one writer operation:
// 50k sets held every write for a minute).
class SegmentSweepTest : public DurableBrokerTest {
 protected:
  void SetUp() override {
    DurableBrokerTest::SetUp();
    broker_options_.segment_timeout = 0ms;        // every open set is timed out at once...
    broker_options_.segment_sweep_interval = 1h;  // ...but only swept when the test says
    broker_options_.segment_sweep_slice_sets = 10;
    broker_options_.segment_sweep_slice_time = 1h;  // slices bounded by count only
  }
  // `n` open sets (segment 1 of 2) from `origin`; every `report_every`-th asks for a report.
  void OpenSets(const Address& origin, int n, int report_every = 0) {
    std::vector<std::promise<Result<AcceptOutcome>>> answers(n);
    for (int i = 0; i < n; ++i) {
      Message m = Segment(origin, Ue("ue-d"), "part-" + std::to_string(i), "S" + std::to_string(i),
                          1, 2, "x");
      m.report_requested = report_every > 0 && i % report_every == 0;
      broker_->SubmitMessage(std::move(m), [&answers, i](Result<AcceptOutcome> r) {
        answers[i].set_value(std::move(r));
      });
    }
    for (auto& a : answers) {
      auto r = Await(a.get_future());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  DurableBroker::SegmentSweepResult Sweep() {
    std::promise<DurableBroker::SegmentSweepResult> p;
    auto f = p.get_future();
    EXPECT_TRUE(broker_->SweepExpiredSegments([&p](auto r) { p.set_value(r); }));
    return Await(std::move(f));
  }
};

TEST_F(SegmentSweepTest, WriteDuringASweepIsAnsweredBeforeTheSweepEnds) {
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  const Address origin = As("svc-seg");
  OpenSets(origin, 35, 7);  // 5 of them ask for a failure report
  ASSERT_EQ(Stats().open_segment_sets, 35u);

  std::atomic<bool> sweep_ended{false};
  std::promise<DurableBroker::SegmentSweepResult> swept;
  std::promise<bool> ended_when_answered;
  {
    WriterGate gate(*store_);  // the sweep's first slice and the write queue up behind it
    ASSERT_TRUE(broker_->SweepExpiredSegments([&](auto r) {
      sweep_ended.store(true);
      swept.set_value(r);
    }));
    EXPECT_FALSE(broker_->SweepExpiredSegments());  // one sweep at a time
    broker_->SubmitMessage(Msg(origin, Ue("ue-other"), "during-sweep", true),
                           [&](Result<AcceptOutcome> r) {
                             EXPECT_TRUE(r.ok()) << r.status().ToString();
                             ended_when_answered.set_value(sweep_ended.load());
                           });
    gate.Release();
  }
  EXPECT_FALSE(Await(ended_when_answered.get_future()))
      << "the write was answered only after the whole sweep";
  auto r = Await(swept.get_future());
  EXPECT_EQ(r.sets, 35u);
  EXPECT_GE(r.slices, 4u);  // at most 10 sets per writer operation
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  EXPECT_EQ(Queue(origin).count, 5u);  // the failure reports
  EXPECT_EQ(Queue(Ue("ue-other")).count, 1u);
  const std::string text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_open_segment_sets"), 0);
  EXPECT_EQ(Sample(text, "msgin5g_broker_segment_sets_expired_total"), 35);
  Reopen();
  EXPECT_TRUE(broker_->recovered().open_segment_sets.empty());
  EXPECT_EQ(Queue(origin).count, 5u);
}

TEST_F(SegmentSweepTest, ShutdownStopsASweepBetweenSlicesAndTheRestartFinishesIt) {
  Open();
  const Address origin = As("svc-seg");
  OpenSets(origin, 60);
  std::promise<DurableBroker::SegmentSweepResult> swept;
  {
    WriterGate gate(*store_);
    ASSERT_TRUE(broker_->SweepExpiredSegments([&](auto r) { swept.set_value(r); }));
    broker_->BeginShutdown();  // SIGTERM while the sweep's first slice waits
    EXPECT_FALSE(broker_->SweepExpiredSegments());
    gate.Release();
  }
  auto r = Await(swept.get_future());
  EXPECT_TRUE(r.stopped);
  EXPECT_LE(r.sets, 10u);  // one slice at most
  Close();                 // returns without sweeping the rest

  Open();
  const std::size_t left = broker_->recovered().open_segment_sets.size();
  EXPECT_EQ(left, 60u - r.sets);
  EXPECT_EQ(Stats().open_segment_sets, left);
  auto again = Sweep();  // resumes in slices
  EXPECT_EQ(again.sets, left);
  EXPECT_GE(again.slices, (left + 9) / 10);
  EXPECT_FALSE(again.stopped);
  EXPECT_EQ(Stats().open_segment_sets, 0u);
  Reopen();
  EXPECT_TRUE(broker_->recovered().open_segment_sets.empty());
}

// A segment that would open a set past the bounds is refused and stores nothing; segments of open
// sets are still taken; the counts are rebuilt from storage after a restart.
TEST_F(DurableBrokerTest, OpenSegmentSetsAreBoundedInAllAndPerOriginator) {
  broker_options_.max_open_segment_sets = 3;
  broker_options_.max_open_segment_sets_per_originator = 2;
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  const Address a = As("svc-a"), b = As("svc-b"), c = As("svc-c");
  const Address dest = Ue("ue-d");
  SubmitOk(Segment(a, dest, "a1-1", "A1", 1, 3, "1"), Kind::kAccepted);
  SubmitOk(Segment(a, dest, "a2-1", "A2", 1, 3, "1"), Kind::kAccepted);
  auto per_originator = Submit(Segment(a, dest, "a3-1", "A3", 1, 3, "1"));
  ASSERT_FALSE(per_originator.ok());
  EXPECT_EQ(per_originator.status().code(), StatusCode::kRateLimited);
  EXPECT_THAT(per_originator.status().message(), HasSubstr("svc-a"));
  EXPECT_EQ(Find(a, "a3-1").status().code(), StatusCode::kNotFound);  // nothing stored
  // Below the bounds' reach: more segments of an open set, and a set complete at once.
  SubmitOk(Segment(a, dest, "a1-2", "A1", 2, 3, "2"), Kind::kAccepted);
  SubmitOk(Segment(a, dest, "single", "A9", 1, 1, "whole"), Kind::kStored);
  EXPECT_EQ(Stats().open_segment_sets, 2u);

  SubmitOk(Segment(b, dest, "b1-1", "B1", 1, 3, "1"), Kind::kAccepted);  // 3 open: the total
  for (const Address& o : {b, c}) {
    auto total = Submit(Segment(o, dest, "x-1", "X", 1, 3, "1"));
    ASSERT_FALSE(total.ok()) << o.id;
    EXPECT_EQ(total.status().code(), StatusCode::kResourceExhausted) << o.id;
    EXPECT_EQ(Find(o, "x-1").status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(Stats().open_segment_sets, 3u);
  std::string text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_open_segment_sets"), 3);
  EXPECT_EQ(Sample(text, "msgin5g_broker_segment_sets_refused_total{bound=\"originator\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_segment_sets_refused_total{bound=\"total\"}"), 2);

  // The counts come back from storage.
  Reopen();
  EXPECT_EQ(Stats().open_segment_sets, 3u);
  EXPECT_EQ(Sample(registry_->Serialize(), "msgin5g_broker_open_segment_sets"), 3);
  EXPECT_EQ(Submit(Segment(b, dest, "x-1", "X", 1, 3, "1")).status().code(),
            StatusCode::kResourceExhausted);
  SubmitOk(Segment(a, dest, "a1-3", "A1", 3, 3, "3"), Kind::kStored);  // completes A1
  EXPECT_EQ(Stats().open_segment_sets, 2u);
  EXPECT_EQ(Sample(registry_->Serialize(), "msgin5g_broker_open_segment_sets"), 2);
  // The refused segment, sent again now that there is room, is taken (its refusal recorded
  // nothing); then the per-originator bound holds for b.
  SubmitOk(Segment(b, dest, "x-1", "X", 1, 3, "1"), Kind::kAccepted);
  EXPECT_EQ(Submit(Segment(c, dest, "c1-1", "C1", 1, 3, "1")).status().code(),
            StatusCode::kResourceExhausted);
  Reopen();
  EXPECT_EQ(Stats().open_segment_sets, 3u);
  EXPECT_EQ(Submit(Segment(b, dest, "b3-1", "B3", 1, 3, "1")).status().code(),
            StatusCode::kResourceExhausted);
}

// ---------------------------------------------------------------------------------------------
// Bounds on queues and registrations (docs/limits.md)
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, TotalQueuedEntriesAndBytesAreBoundedWith503AndNothingStored) {
  broker_options_.limits.max_queued_messages = 4;
  broker_options_.limits.max_queued_bytes = 100;
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  const Address as = As("svc-1");
  ASSERT_TRUE(PutGroup("g", {Ue("g-1"), Ue("g-2")}).ok());
  SubmitOk(Msg(as, Ue("ue-1"), "m-1", true, "1234567890"), Kind::kStored);
  SubmitOk(Msg(as, Ue("ue-2"), "m-2", true, "1234567890"), Kind::kStored);
  SubmitOk(Msg(as, Ue("ue-3"), "m-3", true, "1234567890"), Kind::kStored);  // 3 of 4
  // Two entries do not fit in the one left: the whole group message is refused.
  auto group = Submit(Msg(as, Group("g"), "m-g", true, "x"));
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(group.status().message(), HasSubstr("broker.max_queued_messages"));
  EXPECT_EQ(Find(as, "m-g").status().code(), StatusCode::kNotFound);  // nothing stored
  EXPECT_EQ(Queue(Ue("g-1")).count, 0u);
  // The bytes bound: 30 queued, 71 more would pass 100.
  auto big = Submit(Msg(as, Ue("ue-4"), "m-big", true, std::string(71, 'b')));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("broker.max_queued_bytes"));
  EXPECT_EQ(Find(as, "m-big").status().code(), StatusCode::kNotFound);
  SubmitOk(Msg(as, Ue("ue-4"), "m-4", true, std::string(70, 'b')), Kind::kStored);  // 4 of 4
  auto fifth = Submit(Msg(as, Ue("ue-5"), "m-5", true, "y"));
  EXPECT_EQ(fifth.status().code(), StatusCode::kResourceExhausted);
  // Reports from clients count too.
  Report rep;
  rep.origin = Ue("ue-1");
  rep.destination = Ue("ue-9");
  rep.msg_id = "r-1";
  EXPECT_EQ(SubmitReport(rep).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(TotalQueued(Stats()), 4u);

  std::string text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_usage{bound=\"queued_messages\"}"), 4);
  EXPECT_EQ(Sample(text, "msgin5g_broker_usage{bound=\"queued_bytes\"}"), 100);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit{bound=\"queued_messages\"}"), 4);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit{bound=\"queued_bytes\"}"), 100);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"queued_messages\"}"), 3);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"queued_bytes\"}"), 1);

  // The counts come back from storage: still full after a restart.
  Close();
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  EXPECT_EQ(Submit(Msg(as, Ue("ue-5"), "m-5", true, "y")).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(Find(as, "m-5").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Sample(registry_->Serialize(), "msgin5g_broker_usage{bound=\"queued_messages\"}"), 4);
}

TEST_F(DurableBrokerTest, FullRecipientQueueGivesDelyFailedQueueFullAndStoresNothing) {
  broker_options_.limits.max_queued_messages_per_recipient = 2;
  broker_options_.limits.max_queued_bytes_per_recipient = 10;
  broker_options_.limits.max_queued_messages_per_as = 3;
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  const Address as = As("svc-1");
  SubmitOk(Msg(as, Ue("ue-1"), "m-1", true, "a"), Kind::kStored);
  SubmitOk(Msg(as, Ue("ue-1"), "m-2", true, "b"), Kind::kStored);
  AcceptOutcome full = SubmitOk(Msg(as, Ue("ue-1"), "m-3", true, "c"), Kind::kFailed);
  EXPECT_THAT(full.failure_cause, HasSubstr("QUEUE_FULL"));
  EXPECT_THAT(full.failure_cause, HasSubstr("UE:ue-1"));
  EXPECT_THAT(full.failure_cause, HasSubstr("broker.max_queued_messages_per_recipient"));
  EXPECT_FALSE(full.remembered);
  EXPECT_EQ(Find(as, "m-3").status().code(), StatusCode::kNotFound);  // not even the msgId
  EXPECT_EQ(Queue(Ue("ue-1")).count, 2u);
  // The same msgId again: considered afresh (still full), not answered from a cache.
  SubmitOk(Msg(as, Ue("ue-1"), "m-3", true, "c"), Kind::kFailed);
  // Bytes: 8 + 3 would pass 10 for ue-2.
  SubmitOk(Msg(as, Ue("ue-2"), "b-1", true, "12345678"), Kind::kStored);
  AcceptOutcome bytes = SubmitOk(Msg(as, Ue("ue-2"), "b-2", true, "123"), Kind::kFailed);
  EXPECT_THAT(bytes.failure_cause, HasSubstr("broker.max_queued_bytes_per_recipient"));
  SubmitOk(Msg(as, Ue("ue-2"), "b-3", true, "12"), Kind::kStored);  // exactly 10 fits
  // Other recipients are not affected.
  SubmitOk(Msg(as, Ue("ue-3"), "o-1", true, "a"), Kind::kStored);

  // A group: the full member is left out (with a failure report when one was asked for), the
  // other gets its copy.
  ASSERT_TRUE(PutGroup("g", {Ue("ue-1"), Ue("ue-4")}).ok());
  Message gm = Msg(as, Group("g"), "g-1", true, "g");
  gm.report_requested = true;
  SubmitOk(gm, Kind::kStored);
  EXPECT_EQ(Queue(Ue("ue-4")).count, 1u);
  EXPECT_EQ(Queue(Ue("ue-1")).count, 2u);
  auto reports = ListQueue(as);
  ASSERT_EQ(reports.size(), 1u);
  auto report = StoredMessage(reports[0].seq);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->kind, storage::MessageKind::kReport);
  EXPECT_EQ(report->origin, Ue("ue-1"));
  EXPECT_THAT(report->failure_cause, HasSubstr("QUEUE_FULL"));

  // An AS recipient has its own bound (3); registered, it is reachable (no delivery here).
  ASSERT_TRUE(Register("svc-2", "http://127.0.0.1:1/as").ok());
  SubmitOk(Msg(Ue("ue-7"), As("svc-2"), "u-1", true, "u"), Kind::kAccepted);
  SubmitOk(Msg(Ue("ue-7"), As("svc-2"), "u-2", true, "u"), Kind::kAccepted);
  SubmitOk(Msg(Ue("ue-7"), As("svc-2"), "u-3", true, "u"), Kind::kAccepted);
  AcceptOutcome as_full = SubmitOk(Msg(Ue("ue-7"), As("svc-2"), "u-4", true, "u"), Kind::kFailed);
  EXPECT_THAT(as_full.failure_cause, HasSubstr("broker.max_queued_messages_per_as"));

  std::string text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"recipient_queued_messages\"}"),
            3);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"recipient_queued_bytes\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"as_queued_messages\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit{bound=\"recipient_queued_messages\"}"), 2);
  EXPECT_EQ(Sample(text, "msgin5g_broker_queued_recipients"), 6);  // ue-1..4, svc-1, svc-2
  // ue-1 (2 of 2), ue-2 (2 of 2 and 10 of 10 bytes), svc-2 (3 of 3)
  EXPECT_EQ(Sample(text, "msgin5g_broker_recipients_near_limit{bound=\"recipient_queued_messages\"}"),
            3);
  EXPECT_EQ(Sample(text, "msgin5g_broker_recipients_near_limit{bound=\"recipient_queued_bytes\"}"),
            1);

  // Rebuilt from the queue after a restart.
  Reopen();
  SubmitOk(Msg(as, Ue("ue-1"), "m-4", true, "d"), Kind::kFailed);
  SubmitOk(Msg(Ue("ue-7"), As("svc-2"), "u-5", true, "u"), Kind::kFailed);
  SubmitOk(Msg(as, Ue("ue-3"), "o-2", true, "b"), Kind::kStored);
  EXPECT_EQ(Find(as, "m-4").status().code(), StatusCode::kNotFound);
}

// Answers every delivery "delivered" at once.
class DeliveredChannel : public DeliveryChannel {
 public:
  void Deliver(const Route&, const Outbound&, std::function<void(DeliveryResult)> done) override {
    done(DeliveryResult{});
  }
};

TEST_F(DurableBrokerTest, DeliveredEntriesFreeTheirRecipientsBound) {
  broker_options_.limits.max_queued_messages_per_recipient = 2;
  DeliveredChannel channel;
  channel_ = &channel;
  Open();
  const Address as = As("svc-1");
  SubmitOk(Msg(as, Ue("ue-1"), "m-1", true, "a"), Kind::kStored);
  SubmitOk(Msg(as, Ue("ue-1"), "m-2", true, "b"), Kind::kStored);
  SubmitOk(Msg(as, Ue("ue-1"), "m-3", true, "c"), Kind::kFailed);  // full
  // The UE registers: its two messages are delivered and leave the queue.
  UeRegistration reg;
  reg.ue_id = "ue-1";
  reg.endpoint = "coap://127.0.0.1:1";
  ASSERT_TRUE(Call<Status>([&](auto done) { broker_->RegisterUe(reg, std::move(done)); }).ok());
  for (int i = 0; i < 3000 && TotalQueued(Stats()) != 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(TotalQueued(Stats()), 0u);
  // The message refused while the queue was full, sent again with its msgId, is taken now.
  SubmitOk(Msg(as, Ue("ue-1"), "m-3", true, "c"), Kind::kAccepted);
  ASSERT_TRUE(Find(as, "m-3").ok());
  // The broker goes before `channel` does: its engine may still be delivering m-3 to it.
  Close();
}

TEST_F(DurableBrokerTest, UeAndAsRegistrationsAreBoundedKnownOnesMayRegisterAgain) {
  broker_options_.limits.max_ue_registrations = 2;
  broker_options_.limits.max_as_registrations = 1;
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  auto reg_ue = [&](const std::string& id, const std::string& endpoint) {
    UeRegistration r;
    r.ue_id = id;
    r.endpoint = endpoint;
    return Call<Status>([&](auto done) { broker_->RegisterUe(r, std::move(done)); });
  };
  ASSERT_TRUE(reg_ue("ue-1", "coap://127.0.0.1:1").ok());
  ASSERT_TRUE(reg_ue("ue-2", "coap://127.0.0.1:2").ok());
  Status third = reg_ue("ue-3", "coap://127.0.0.1:3");
  EXPECT_EQ(third.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(third.message(), HasSubstr("broker.max_ue_registrations"));
  EXPECT_TRUE(reg_ue("ue-1", "coap://127.0.0.1:11").ok());  // known: always
  auto as1 = Register("svc-1", "http://127.0.0.1:1/a");
  ASSERT_TRUE(as1.ok());
  auto as2 = Register("svc-2", "http://127.0.0.1:1/b");
  EXPECT_EQ(as2.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Register("svc-1", "http://127.0.0.1:1/a2").ok());  // re-registration replaces
  std::string text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_usage{bound=\"ue_registrations\"}"), 2);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit{bound=\"ue_registrations\"}"), 2);
  EXPECT_EQ(Sample(text, "msgin5g_broker_usage{bound=\"as_registrations\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"ue_registrations\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_limit_refused_total{bound=\"as_registrations\"}"), 1);

  // After a restart the stored registrations count.
  Reopen();
  EXPECT_EQ(reg_ue("ue-3", "coap://127.0.0.1:3").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Register("svc-2", "http://127.0.0.1:1/b").status().code(),
            StatusCode::kResourceExhausted);
  ASSERT_TRUE(Call<Status>([&](auto done) {
                broker_->DeregisterUe("ue-2", "", std::move(done));
              }).ok());
  EXPECT_TRUE(reg_ue("ue-3", "coap://127.0.0.1:3").ok());
}

// ---------------------------------------------------------------------------------------------
// Restart
// ---------------------------------------------------------------------------------------------

TEST_F(DurableBrokerTest, StateSurvivesReopen) {
  Open();
  auto reg = Register("svc-1", "https://as.example/1");
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE(Register("svc-2", "").ok());
  ASSERT_TRUE(PutGroup("g1", {Ue("ue-b"), Ue("ue-a")}).ok());
  ASSERT_TRUE(Call<Status>([&](auto done) { broker_->AddGroupMember("g1", Ue("ue-c"), done); })
                  .ok());
  ASSERT_TRUE(PutGroup("g2", {Ue("ue-x")}).ok());
  ASSERT_TRUE(Call<Status>([&](auto done) { broker_->DeleteGroup("g2", done); }).ok());
  ASSERT_TRUE(Subscribe("t1", Ue("ue-a")).ok());
  ASSERT_TRUE(Subscribe("t1", Ue("ue-b")).ok());
  ASSERT_TRUE(Call<Status>([&](auto done) { broker_->Unsubscribe("t1", Ue("ue-b"), done); }).ok());
  ASSERT_TRUE(Subscribe("t2", Ue("ue-c"), UnixMillis() + 3'600'000).ok());
  ASSERT_TRUE(PutRule("r-gw", "ue-1*", "gw-1", 10).ok());
  ASSERT_TRUE(PutRule("r-direct", "*", "", 20).ok());

  Message high = Msg(As("svc-9"), Ue("ue-5"), "m-1", true, "12345");
  high.priority = Priority::kHigh;
  SubmitOk(high, Kind::kStored);
  Message low = Msg(As("svc-9"), Group("g1"), "m-2", true, "xy");
  low.priority = Priority::kLow;
  SubmitOk(low, Kind::kStored);
  SubmitOk(Msg(Ue("ue-1"), As("svc-1"), "m-3", false, "abc"), Kind::kAccepted);

  const BrokerStats before = Stats();
  EXPECT_EQ(before.queued_by_priority[0], 1u);
  EXPECT_EQ(before.queued_by_priority[1], 1u);
  EXPECT_EQ(before.queued_by_priority[2], 3u);
  EXPECT_EQ(before.queued_bytes, 5u + 3 * 2u + 3u);
  EXPECT_EQ(before.registrations, 2u);
  EXPECT_EQ(before.groups, 1u);
  EXPECT_EQ(before.topic_subscriptions, 2u);
  EXPECT_EQ(before.routing_rules, 2u);

  Reopen();
  const BrokerStats after = Stats();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(after.queued_by_priority[i], before.queued_by_priority[i]);
  EXPECT_EQ(after.queued_bytes, before.queued_bytes);
  EXPECT_EQ(after.registrations, 2u);
  EXPECT_EQ(after.groups, 1u);
  EXPECT_EQ(after.topic_subscriptions, 2u);
  EXPECT_EQ(after.routing_rules, 2u);
  EXPECT_EQ(after.open_segment_sets, 0u);
  EXPECT_TRUE(after.storage_healthy);

  auto groups = Call<Result<std::vector<GroupRecord>>>([&](auto done) { broker_->ListGroups(done); });
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups.value()[0].group_id, "g1");
  EXPECT_THAT(groups.value()[0].members, ElementsAre(Ue("ue-a"), Ue("ue-b"), Ue("ue-c")));
  auto subs = Call<Result<std::vector<TopicSubscriptionRecord>>>(
      [&](auto done) { broker_->ListSubscribers("t1", done); });
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ(subs.value()[0].subscriber, Ue("ue-a"));
  auto rules = Call<Result<std::vector<RoutingRuleRecord>>>(
      [&](auto done) { broker_->ListRoutingRules(done); });
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ(rules.value()[0].name, "r-gw");  // kept in (order, name) order
  EXPECT_EQ(rules.value()[1].name, "r-direct");

  // The restored state is used for routing.
  SubmitOk(Msg(As("svc-9"), Ue("ue-17"), "m-4", false), Kind::kAccepted);      // rule
  SubmitOk(Msg(Ue("ue-1"), As("svc-1"), "m-5", false), Kind::kAccepted);       // registration
  SubmitOk(Msg(Ue("ue-1"), As("svc-2"), "m-6", false), Kind::kFailed);         // no target URI
  SubmitOk(Msg(As("svc-9"), Group("g1"), "m-7", true), Kind::kStored);         // group
  SubmitOk(Msg(As("svc-9"), Topic("t2"), "m-8", true), Kind::kStored);         // topic
  EXPECT_EQ(Queue(Ue("ue-c")).count, 3u);  // m-2, m-7, m-8
  EXPECT_EQ(Queue(Ue("ue-5")).count, 1u);
  EXPECT_TRUE(Deregister(reg->registration_id).ok());

  // Counters keep counting from the recovered values.
  const BrokerStats later = Stats();
  EXPECT_EQ(TotalQueued(later), TotalQueued(before) + 1 + 1 + 3 + 1);
}

// An accept is counted once its write is durable: one that storage refused (a failed fsync) got
// an error answer and is not in the counts.
TEST_F(DurableBrokerTest, AcceptsAreCountedOnlyOnceDurable) {
  auto fs = std::make_shared<testing_support::FailingSyncFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  ASSERT_NE(env, nullptr);
  store_options_.env_for_testing = env.get();
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  const std::string stored =
      "msgin5g_broker_accepted_messages_total{dest_type=\"UE\",operation=\"deliver-as-message\","
      "outcome=\"DELY_STORED\"}";
  SubmitOk(Msg(As("svc-1"), Ue("ue-1"), "m-1", true, "one"), Kind::kStored);
  EXPECT_EQ(Sample(registry_->Serialize(), stored), 1);

  fs->failing = true;
  auto refused = Submit(Msg(As("svc-1"), Ue("ue-1"), "m-2", true, "two"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_GT(fs->failures.load(), 0);
  EXPECT_EQ(Sample(registry_->Serialize(), stored), 1);
  Close();  // before `env` goes
}

TEST_F(DurableBrokerTest, MetricsCountOutcomesAndQueuedEntries) {
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  Message high = Msg(As("svc-1"), Ue("ue-5"), "m-1", true, "1234");
  high.priority = Priority::kHigh;
  SubmitOk(high, Kind::kStored);
  SubmitOk(high, Kind::kStored);  // a repeat is answered, and counted, again
  SubmitOk(Msg(As("svc-1"), Ue("ue-6"), "m-2", false), Kind::kFailed);
  std::string text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_accepted_messages_total{dest_type=\"UE\","
                         "operation=\"deliver-as-message\",outcome=\"DELY_STORED\"}"),
            1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_accepted_messages_total{dest_type=\"UE\","
                         "operation=\"deliver-as-message\",outcome=\"DELY_FAILED\"}"),
            1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_queued_messages{priority=\"HIGH\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_queued_messages{priority=\"MIDDLE\"}"), 0);
  EXPECT_EQ(Sample(text, "msgin5g_broker_queued_bytes"), 4);

  // A restarted process (new registry) starts its gauges from what was recovered.
  Close();
  registry_ = std::make_unique<metrics::Registry>();
  Open();
  text = registry_->Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_broker_queued_messages{priority=\"HIGH\"}"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_broker_queued_bytes"), 4);
}

// ---------------------------------------------------------------------------------------------
// GlobMatch
// ---------------------------------------------------------------------------------------------

TEST(GlobMatchTest, Cases) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Case cases[] = {
      {"", "", true},           {"", "a", false},           {"*", "", true},
      {"*", "anything", true},  {"**", "x", true},          {"ue-1*", "ue-1", true},
      {"ue-1*", "ue-17", true}, {"ue-1*", "ue-123", true},  {"ue-1*", "ue-2", false},
      {"ue-1*", "xue-1", false}, {"ue-1*", "ue-", false},   {"*-1", "ue-1", true},
      {"*-1", "ue-12", false},  {"a*b*c", "abc", true},     {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "acb", false},  {"a*b*c", "abcx", false},   {"*ab", "aab", true},
      {"*ab", "abab", true},    {"a*a*a", "aaa", true},     {"a*a*a", "aa", false},
      {"abc", "abc", true},     {"abc", "abcd", false},     {"abcd", "abc", false},
      {"ue-?", "ue-?", true},   {"ue-?", "ue-1", true},     {"ue-?", "ue-12", false},
      {"UE-1", "ue-1", false},
      {"*.example.*", "as.example.com", true},              {"*.example.*", "example.com", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match)
        << "pattern '" << c.pattern << "' text '" << c.text << "'";
  }
}

// ---------------------------------------------------------------------------------------------
// Admin reads off the writer
// ---------------------------------------------------------------------------------------------

// Whether `start(done)` calls done within `within` (the call itself must not block either).
template <class T, class F>
std::optional<T> Within(std::chrono::milliseconds within, F start) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  start([p](T v) { p->set_value(std::move(v)); });
  if (f.wait_for(within) != std::future_status::ready) return std::nullopt;
  return f.get();
}

TEST_F(DurableBrokerTest, AdminReadsAnswerWhileTheWriterIsHeldAndTheWriteQueueIsFull) {
  store_options_.max_pending_ops = 2;
  Open();
  ASSERT_TRUE(PutGroup("g1", {Ue("ue-1"), Ue("ue-2")}).ok());
  ASSERT_TRUE(Subscribe("t1", Ue("ue-3")).ok());
  ASSERT_TRUE(Subscribe("t1", Ue("ue-10")).ok());
  ASSERT_TRUE(PutRule("r-late", "ue-9*", "gw-a", 20).ok());
  ASSERT_TRUE(PutRule("r-early", "ue-8*", "", 10).ok());
  ASSERT_TRUE(Call<Status>([&](auto done) {
                broker_->PutClientPolicy({"client-1", R"({"scopes":[]})"}, std::move(done));
              }).ok());
  ASSERT_TRUE(Register("svc-1", "http://127.0.0.1:1/a").ok());
  for (const char* id : {"ue-c", "ue-a", "ue-b"}) {
    UeRegistration r;
    r.ue_id = id;
    r.endpoint = std::string("coap://127.0.0.1:1/") + id;
    ASSERT_TRUE(Call<Status>([&](auto done) { broker_->RegisterUe(r, std::move(done)); }).ok());
  }
  broker_->UeUnreachable("ue-b");
  SubmitOk(Msg(As("svc-1"), Ue("ue-7"), "m-1", true, "stored"), Kind::kStored);
  // UeUnreachable has no answer: a write behind it shows it ran.
  ASSERT_TRUE(PutGroup("g2", {Ue("ue-1")}).ok());

  WriterGate gate(*store_);  // the writer is inside an operation until released
  // Fill the write queue: the next write is refused at once.
  std::vector<std::future<Status>> queued;
  for (int i = 0; i < 2; ++i) {
    auto p = std::make_shared<std::promise<Status>>();
    queued.push_back(p->get_future());
    broker_->PutGroup(GroupRecord{"q" + std::to_string(i), {Ue("ue-1")}},
                      [p](Status st) { p->set_value(st); });
  }
  auto refused = Within<Status>(5s, [&](auto done) {
    broker_->PutGroup(GroupRecord{"refused", {Ue("ue-1")}}, std::move(done));
  });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code(), StatusCode::kResourceExhausted);

  auto groups = Within<Result<std::vector<GroupRecord>>>(
      5s, [&](auto done) { broker_->ListGroups(std::move(done)); });
  ASSERT_TRUE(groups.has_value()) << "ListGroups waited for the writer";
  ASSERT_TRUE(groups->ok());
  ASSERT_EQ(groups->value().size(), 2u);
  EXPECT_EQ(groups->value()[0].group_id, "g1");
  EXPECT_THAT(groups->value()[0].members, ElementsAre(Ue("ue-1"), Ue("ue-2")));
  EXPECT_EQ(groups->value()[1].group_id, "g2");

  auto subs = Within<Result<std::vector<TopicSubscriptionRecord>>>(
      5s, [&](auto done) { broker_->ListSubscribers("t1", std::move(done)); });
  ASSERT_TRUE(subs.has_value()) << "ListSubscribers waited for the writer";
  ASSERT_TRUE(subs->ok());
  std::vector<std::string> sub_ids;
  for (const auto& s : subs->value()) sub_ids.push_back(s.subscriber.id);
  EXPECT_THAT(sub_ids, ElementsAre("ue-10", "ue-3"));  // by address, not by stored key length

  auto rules = Within<Result<std::vector<RoutingRuleRecord>>>(
      5s, [&](auto done) { broker_->ListRoutingRules(std::move(done)); });
  ASSERT_TRUE(rules.has_value()) << "ListRoutingRules waited for the writer";
  ASSERT_TRUE(rules->ok());
  ASSERT_EQ(rules->value().size(), 2u);
  EXPECT_EQ(rules->value()[0].name, "r-early");  // in the order they are tried
  EXPECT_EQ(rules->value()[1].name, "r-late");

  auto clients = Within<Result<std::vector<ClientPolicyRecord>>>(
      5s, [&](auto done) { broker_->ListClientPolicies(std::move(done)); });
  ASSERT_TRUE(clients.has_value()) << "ListClientPolicies waited for the writer";
  ASSERT_TRUE(clients->ok());
  ASSERT_EQ(clients->value().size(), 1u);
  EXPECT_EQ(clients->value()[0].client_id, "client-1");
  EXPECT_EQ(clients->value()[0].json, R"({"scopes":[]})");

  auto stats = Within<Result<BrokerStats>>(5s, [&](auto done) { broker_->Stats(std::move(done)); });
  ASSERT_TRUE(stats.has_value()) << "Stats waited for the writer";
  ASSERT_TRUE(stats->ok());
  EXPECT_EQ(stats->value().groups, 2u);
  EXPECT_EQ(stats->value().topic_subscriptions, 2u);
  EXPECT_EQ(stats->value().routing_rules, 2u);
  EXPECT_EQ(stats->value().registrations, 1u);
  EXPECT_EQ(TotalQueued(stats->value()), 1u);

  auto queues = Within<Result<QueueList>>(
      5s, [&](auto done) { broker_->ListQueues(10, std::move(done)); });
  ASSERT_TRUE(queues.has_value()) << "ListQueues waited for the writer";
  ASSERT_TRUE(queues->ok());
  EXPECT_EQ(queues->value().recipients, 1u);
  ASSERT_EQ(queues->value().largest.size(), 1u);
  EXPECT_EQ(queues->value().largest[0].recipient, Ue("ue-7"));

  // UEs by id, paged; "ue-b" stopped answering.
  auto page1 = Within<Result<RegistrationList>>(
      5s, [&](auto done) { broker_->ListRegistrations("", 2, std::move(done)); });
  ASSERT_TRUE(page1.has_value()) << "ListRegistrations waited for the writer";
  ASSERT_TRUE(page1->ok());
  const RegistrationList& l1 = page1->value();
  ASSERT_EQ(l1.as.size(), 1u);
  EXPECT_EQ(l1.as[0].as_svc_id, "svc-1");
  ASSERT_EQ(l1.ue.size(), 2u);
  EXPECT_EQ(l1.ue[0].registration.ue_id, "ue-a");
  EXPECT_FALSE(l1.ue[0].asleep);
  EXPECT_EQ(l1.ue[1].registration.ue_id, "ue-b");
  EXPECT_TRUE(l1.ue[1].asleep);
  EXPECT_TRUE(l1.ue_more);
  EXPECT_EQ(l1.ue_total, 3u);
  EXPECT_EQ(l1.ue_asleep, 1u);
  auto page2 = Within<Result<RegistrationList>>(
      5s, [&](auto done) { broker_->ListRegistrations("ue-b", 2, std::move(done)); });
  ASSERT_TRUE(page2.has_value());
  ASSERT_TRUE(page2->ok());
  ASSERT_EQ(page2->value().ue.size(), 1u);
  EXPECT_EQ(page2->value().ue[0].registration.ue_id, "ue-c");
  EXPECT_EQ(page2->value().ue[0].registration.endpoint, "coap://127.0.0.1:1/ue-c");
  EXPECT_FALSE(page2->value().ue_more);

  // Nothing of the queued writes showed: they still wait for the writer.
  for (auto& f : queued) EXPECT_EQ(f.wait_for(0ms), std::future_status::timeout);
  gate.Release();
  for (auto& f : queued) EXPECT_TRUE(Await(std::move(f)).ok());
  auto after = Call<Result<std::vector<GroupRecord>>>(
      [&](auto done) { broker_->ListGroups(std::move(done)); });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 4u);  // g1, g2, q0, q1: "refused" was not stored
  EXPECT_EQ(Stats().groups, 4u);
}

}  // namespace
}  // namespace msgin5g::broker
