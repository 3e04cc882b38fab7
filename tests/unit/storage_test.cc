// Unit tests for storage/: key encoding (storage/keys.h), the Protobuf record codec
// (storage/codec.h) and the durable Store (storage/store.h) on a real RocksDB in a temporary
// directory, including a write failure injected through a RocksDB FileSystem wrapper.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include "tests/support/async_wait.h"
#include "tests/support/metric_value.h"
#include "tests/support/failing_sync_fs.h"
#include "tests/support/writer_gate.h"
#include "metrics/registry.h"
#include "storage/codec.h"
#include "storage/format_version.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "storage/store.h"

namespace msgin5g::storage {
namespace {

using testing_support::Await;
using testing_support::FreshDir;

using std::chrono::seconds;
using testing::ElementsAre;
using testing::UnorderedElementsAre;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// Bytewise (unsigned) order, as RocksDB's default comparator sorts keys.
bool BytewiseLess(const std::string& a, const std::string& b) {
  const std::size_t n = std::min(a.size(), b.size());
  const int c = std::memcmp(a.data(), b.data(), n);
  return c != 0 ? c < 0 : a.size() < b.size();
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

Address Ue(std::string id) { return Address{AddressType::kUe, std::move(id)}; }
Address As(std::string id) { return Address{AddressType::kAs, std::move(id)}; }

// Field-by-field views of the records (they have no operator==), for round-trip comparisons.
auto Tie(const MessageRecord& r) {
  return std::tie(r.seq, r.kind, r.ingress, r.origin, r.destination, r.app_id, r.msg_id, r.payload,
                  r.priority, r.report_requested, r.store_and_forward, r.expiry_ms, r.accepted_ms,
                  r.latency, r.report_status, r.failure_cause, r.recipient_count);
}
auto Tie(const IdempotencyRecord& r) { return std::tie(r.seq, r.outcome, r.failure_cause); }
auto Tie(const RecipientRecord& r) { return std::tie(r.recipient, r.state, r.due_ms, r.priority); }
auto Tie(const AsProfileRecord& r) {
  return std::tie(r.app_name, r.app_providers, r.app_scenarios, r.app_category, r.as_status);
}
auto Tie(const AsRegistrationRecord& r) {
  return std::tie(r.registration_id, r.as_svc_id, r.app_id, r.target_uri);
}
auto Tie(const GroupRecord& r) { return std::tie(r.group_id, r.members); }
auto Tie(const TopicSubscriptionRecord& r) { return std::tie(r.topic, r.subscriber, r.expiry_ms); }
auto Tie(const RoutingRuleRecord& r) { return std::tie(r.name, r.pattern, r.gateway, r.order); }
auto Tie(const SegmentSetRecord& r) {
  return std::tie(r.origin, r.seg_id, r.destination, r.msg_id, r.first_seen_ms, r.total,
                  r.received, r.report_requested);
}

MessageRecord FullMessage() {
  MessageRecord m;
  m.seq = 0x0102030405060708ull;
  m.kind = MessageKind::kReport;
  m.ingress = Ingress::kGateway;
  m.origin = Ue("ue-origin");
  m.destination = Address{AddressType::kTopic, "topic/a"};
  m.app_id = "app-1";
  m.msg_id = "msg-1";
  m.payload = std::string("bin\0ary\xff payload", 16);
  m.priority = Priority::kLow;
  m.report_requested = true;
  m.store_and_forward = true;
  m.expiry_ms = 1'900'000'000'123;
  m.accepted_ms = -42;
  m.latency = 250;
  m.report_status = ReportStatus::kFailed;
  m.failure_cause = "recipient not reachable";
  m.recipient_count = 7;
  return m;
}

// The counter used by the batch tests: an idempotency record whose seq is the value.
const Address kCounterOrigin = As("counter");
constexpr std::string_view kCounterKey = "c";

std::uint64_t ReadCounter(Txn& txn) {
  auto r = txn.GetIdempotency(kCounterOrigin, kCounterKey);
  return r ? r->seq : 0;
}
void WriteCounter(Txn& txn, std::uint64_t v) {
  IdempotencyRecord r;
  r.seq = v;
  txn.PutIdempotency(kCounterOrigin, kCounterKey, r);
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

TEST(StorageKeysTest, QueueKeysSortByPriorityThenDueTimeThenSeq) {
  const Address r = Ue("ue-1");
  // Listed in the expected delivery order.
  const std::vector<std::string> expected = {
      keys::Queue(r, Priority::kHigh, -5, 9),             // negative due time first
      keys::Queue(r, Priority::kHigh, 0, 3),
      keys::Queue(r, Priority::kHigh, 1000, 2),
      keys::Queue(r, Priority::kHigh, 1000, 256),         // same due: by seq, numerically
      keys::Queue(r, Priority::kHigh, 1000, 1ull << 40),
      keys::Queue(r, Priority::kHigh, 1ll << 40, 1),      // later due, lower seq
      keys::Queue(r, Priority::kMiddle, -1000, 1),        // lower priority, earlier due
      keys::Queue(r, Priority::kMiddle, 5, 1),
      keys::Queue(r, Priority::kLow, 0, 0),
      keys::Queue(r, Priority::kLow, 255, 7),
      keys::Queue(r, Priority::kLow, 256, 7),
  };
  std::vector<std::string> sorted = expected;
  std::mt19937 rng(42);
  std::shuffle(sorted.begin(), sorted.end(), rng);
  std::sort(sorted.begin(), sorted.end(), BytewiseLess);
  EXPECT_EQ(sorted, expected);
  for (const auto& k : expected) EXPECT_TRUE(StartsWith(k, keys::QueuePrefix(r)));
}

TEST(StorageKeysTest, QueueKeysOfOneRecipientAreContiguousAndPrefixIdsDoNotCollide) {
  const Address a = Ue("ue-1");
  const Address b = Ue("ue-10");
  const Address c = As("ue-1");  // same id, other type
  const std::string pa = keys::QueuePrefix(a);
  EXPECT_NE(pa, keys::QueuePrefix(b));
  EXPECT_NE(pa, keys::QueuePrefix(c));
  for (const Address& other : {b, c}) {
    for (auto p : {Priority::kHigh, Priority::kMiddle, Priority::kLow}) {
      const std::string k = keys::Queue(other, p, 0, 1);
      EXPECT_FALSE(StartsWith(k, pa)) << "ue-1's prefix matches a key of " << other.id;
    }
  }
  EXPECT_FALSE(StartsWith(keys::Queue(a, Priority::kLow, 0, 1), keys::QueuePrefix(b)));

  // Sorted together, each recipient's entries form one run.
  std::vector<std::pair<std::string, int>> all;
  for (int i = 0; i < 3; ++i) {
    all.push_back({keys::Queue(a, static_cast<Priority>(i), 100 * i, i), 0});
    all.push_back({keys::Queue(b, static_cast<Priority>(i), 100 * i, i), 1});
    all.push_back({keys::Queue(c, static_cast<Priority>(i), 100 * i, i), 2});
  }
  std::sort(all.begin(), all.end(),
            [](const auto& x, const auto& y) { return BytewiseLess(x.first, y.first); });
  int switches = 0;
  for (std::size_t i = 1; i < all.size(); ++i) switches += all[i].second != all[i - 1].second;
  EXPECT_EQ(switches, 2);
}

TEST(StorageKeysTest, OtherKeysWithPrefixIdsDoNotCollide) {
  // Idempotency: (origin, msgId) pairs whose concatenations are equal.
  EXPECT_NE(keys::Idempotency(Ue("a"), "bc"), keys::Idempotency(Ue("ab"), "c"));
  EXPECT_NE(keys::Idempotency(Ue("a"), "x"), keys::Idempotency(As("a"), "x"));
  // Recipients of one message.
  EXPECT_FALSE(StartsWith(keys::Recipient(5, Ue("ue-10")), keys::Recipient(5, Ue("ue-1"))));
  EXPECT_TRUE(StartsWith(keys::Recipient(5, Ue("ue-1")), keys::RecipientPrefix(5)));
  EXPECT_FALSE(StartsWith(keys::Recipient(6, Ue("ue-1")), keys::RecipientPrefix(5)));
  EXPECT_FALSE(StartsWith(keys::Recipient(256, Ue("x")), keys::RecipientPrefix(1)));
  // Topics: "a" and "ab".
  EXPECT_FALSE(StartsWith(keys::Topic("ab", Ue("x")), keys::TopicPrefix("a")));
  EXPECT_FALSE(StartsWith(keys::Topic("a", Ue("bx")), keys::TopicPrefix("ab")));
  EXPECT_TRUE(StartsWith(keys::Topic("a", Ue("x")), keys::TopicPrefix("a")));
  // Segments: sets "s1" and "s12", and origins "o" / "o1".
  EXPECT_FALSE(StartsWith(keys::Segment(Ue("o"), "s12", 1), keys::SegmentPrefix(Ue("o"), "s1")));
  EXPECT_FALSE(StartsWith(keys::Segment(Ue("o1"), "s", 1), keys::SegmentPrefix(Ue("o"), "1s")));
  EXPECT_NE(keys::SegmentSet(Ue("o"), "1s"), keys::SegmentSet(Ue("o1"), "s"));
  EXPECT_TRUE(StartsWith(keys::Segment(Ue("o"), "s1", 3), keys::SegmentPrefix(Ue("o"), "s1")));
}

TEST(StorageKeysTest, NumericKeysSortNumerically) {
  std::vector<std::string> msgs = {keys::Message(1), keys::Message(255), keys::Message(256),
                                   keys::Message(65536), keys::Message(~0ull)};
  EXPECT_TRUE(std::is_sorted(msgs.begin(), msgs.end(), BytewiseLess));
  const auto q = [](std::int64_t due, std::uint64_t seq) {
    return keys::Queue(Ue("u"), Priority::kHigh, due, seq);
  };
  std::vector<std::string> due = {q(-1, 5), q(0, 9), q(1, 0), q(1, 1), q(1'700'000'000'000, 2)};
  EXPECT_TRUE(std::is_sorted(due.begin(), due.end(), BytewiseLess));
  std::vector<std::string> segs = {keys::Segment(Ue("o"), "s", 1), keys::Segment(Ue("o"), "s", 2),
                                   keys::Segment(Ue("o"), "s", 10),
                                   keys::Segment(Ue("o"), "s", 300)};
  EXPECT_TRUE(std::is_sorted(segs.begin(), segs.end(), BytewiseLess));
}

TEST(StorageKeysTest, IntegersAndAddressesRoundTrip) {
  std::string s;
  keys::AppendU64(&s, 0x0102030405060708ull);
  keys::AppendU32(&s, 0xa1b2c3d4u);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(static_cast<unsigned char>(s[0]), 0x01);  // big-endian
  EXPECT_EQ(keys::ReadU64(s, 0), 0x0102030405060708ull);
  EXPECT_EQ(keys::ReadU32(s, 8), 0xa1b2c3d4u);

  std::string a;
  keys::AppendAddress(&a, Address{AddressType::kGroup, "grp-1"});
  keys::AppendAddress(&a, Address{AddressType::kBroadcast, ""});
  keys::AppendAddress(&a, Ue(std::string(300, 'x')));
  std::size_t at = 0;
  Address out;
  ASSERT_TRUE(keys::ReadAddress(a, &at, &out));
  EXPECT_EQ(out, (Address{AddressType::kGroup, "grp-1"}));
  ASSERT_TRUE(keys::ReadAddress(a, &at, &out));
  EXPECT_EQ(out, (Address{AddressType::kBroadcast, ""}));
  ASSERT_TRUE(keys::ReadAddress(a, &at, &out));
  EXPECT_EQ(out, Ue(std::string(300, 'x')));
  EXPECT_EQ(at, a.size());
  EXPECT_FALSE(keys::ReadAddress(a, &at, &out));  // nothing left

  std::string truncated;
  keys::AppendAddress(&truncated, Ue("abcdef"));
  truncated.pop_back();
  at = 0;
  EXPECT_FALSE(keys::ReadAddress(truncated, &at, &out));
  at = 0;
  EXPECT_FALSE(keys::ReadAddress(truncated.substr(0, 2), &at, &out));
}

TEST(StorageKeysTest, ColumnFamilyNamesAreDistinctAndDefaultIsFirst) {
  EXPECT_STREQ(keys::CfName(keys::kMeta), "default");
  std::vector<std::string> names;
  for (int i = 0; i < keys::kCfCount; ++i) names.emplace_back(keys::CfName(i));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

// ---------------------------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------------------------

TEST(StorageCodecTest, MessageRoundTrips) {
  const MessageRecord m = FullMessage();
  MessageRecord out;
  ASSERT_TRUE(codec::Decode(codec::Encode(m), &out));
  EXPECT_EQ(Tie(out), Tie(m));

  // Without latency: stays unset (not 0).
  MessageRecord m2 = FullMessage();
  m2.latency.reset();
  m2.kind = MessageKind::kMessage;
  m2.ingress = Ingress::kUe;
  m2.payload.clear();
  MessageRecord out2;
  ASSERT_TRUE(codec::Decode(codec::Encode(m2), &out2));
  EXPECT_FALSE(out2.latency.has_value());
  EXPECT_EQ(Tie(out2), Tie(m2));

  MessageRecord m3 = FullMessage();
  m3.latency = 0;  // present and zero
  MessageRecord out3;
  ASSERT_TRUE(codec::Decode(codec::Encode(m3), &out3));
  EXPECT_EQ(out3.latency, std::optional<std::int64_t>(0));
}

TEST(StorageCodecTest, IdempotencyRecipientQueueEntryRoundTrip) {
  IdempotencyRecord i{12345, OutcomeKind::kFailed, "no route"};
  IdempotencyRecord iout;
  ASSERT_TRUE(codec::Decode(codec::Encode(i), &iout));
  EXPECT_EQ(Tie(iout), Tie(i));

  RecipientRecord r{Address{AddressType::kAs, "svc"}, RecipientState::kExpired, -7, Priority::kHigh};
  RecipientRecord rout;
  ASSERT_TRUE(codec::Decode(codec::Encode(r), &rout));
  EXPECT_EQ(Tie(rout), Tie(r));

  QueueEntryRecord q;
  q.recipient = Ue("only-in-key");
  q.priority = Priority::kLow;
  q.due_ms = 99;
  q.seq = 1ull << 50;
  q.attempts = 3;
  q.payload_bytes = 4096;
  QueueEntryRecord qout;
  ASSERT_TRUE(codec::Decode(codec::Encode(q), &qout));
  // Only the value fields are encoded; the rest lives in the key.
  EXPECT_EQ(qout.seq, q.seq);
  EXPECT_EQ(qout.attempts, 3u);
  EXPECT_EQ(qout.payload_bytes, 4096u);
  EXPECT_EQ(qout.recipient, Address{});
}

TEST(StorageCodecTest, AsRegistrationRoundTripsWithAndWithoutProfile) {
  AsRegistrationRecord r;
  r.registration_id = "reg-1";
  r.as_svc_id = "svc-1";
  r.app_id = "app";
  r.target_uri = "https://as.example/cb";
  AsRegistrationRecord out;
  ASSERT_TRUE(codec::Decode(codec::Encode(r), &out));
  EXPECT_EQ(Tie(out), Tie(r));
  EXPECT_FALSE(out.profile.has_value());

  r.profile = AsProfileRecord{"name", {"p1", "p2"}, {"s1"}, "cat", "ACTIVE"};
  AsRegistrationRecord out2;
  ASSERT_TRUE(codec::Decode(codec::Encode(r), &out2));
  EXPECT_EQ(Tie(out2), Tie(r));
  ASSERT_TRUE(out2.profile.has_value());
  EXPECT_EQ(Tie(*out2.profile), Tie(*r.profile));

  // An empty profile is still a profile.
  r.profile = AsProfileRecord{};
  AsRegistrationRecord out3;
  ASSERT_TRUE(codec::Decode(codec::Encode(r), &out3));
  EXPECT_TRUE(out3.profile.has_value());
}

TEST(StorageCodecTest, GroupTopicRoutingRoundTrip) {
  GroupRecord g{"grp", {Ue("a"), As("b"), Address{AddressType::kGroup, "nested"}}};
  GroupRecord gout;
  gout.members.push_back(Ue("stale"));  // Decode replaces, not appends
  ASSERT_TRUE(codec::Decode(codec::Encode(g), &gout));
  EXPECT_EQ(Tie(gout), Tie(g));

  TopicSubscriptionRecord t{"weather", As("svc"), 1'700'000'000'000};
  TopicSubscriptionRecord tout;
  ASSERT_TRUE(codec::Decode(codec::Encode(t), &tout));
  EXPECT_EQ(Tie(tout), Tie(t));

  RoutingRuleRecord rr{"rule", "ue-1*", "gw-a", 7};
  RoutingRuleRecord rrout;
  ASSERT_TRUE(codec::Decode(codec::Encode(rr), &rrout));
  EXPECT_EQ(Tie(rrout), Tie(rr));
}

TEST(StorageCodecTest, SegmentAndSegmentSetRoundTrip) {
  SegmentRecord s;
  s.header = FullMessage();
  s.number = 3;
  s.total = 4;
  s.last = true;
  SegmentRecord sout;
  ASSERT_TRUE(codec::Decode(codec::Encode(s), &sout));
  EXPECT_EQ(Tie(sout.header), Tie(s.header));
  EXPECT_EQ(sout.number, 3u);
  EXPECT_EQ(sout.total, 4u);
  EXPECT_TRUE(sout.last);

  SegmentSetRecord set{Ue("o"), "seg-1", As("svc"), "msg-1", 1'700'000'000'000, 4, 2, true};
  SegmentSetRecord setout;
  ASSERT_TRUE(codec::Decode(codec::Encode(set), &setout));
  EXPECT_EQ(Tie(setout), Tie(set));
}

TEST(StorageCodecTest, CorruptValuesAreRejected) {
  // Field 1 as a length-delimited value of 5 bytes with only 2 present.
  const std::string bad("\x0a\x05" "ab", 4);
  MessageRecord m;
  EXPECT_FALSE(codec::Decode(bad, &m));
  GroupRecord g;
  EXPECT_FALSE(codec::Decode(bad, &g));
  SegmentSetRecord s;
  EXPECT_FALSE(codec::Decode(bad, &s));
  IdempotencyRecord i;
  EXPECT_FALSE(codec::Decode(std::string("\x08\xff", 2), &i));  // unterminated varint
}

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

class StoreTest : public testing::Test {
 protected:
  void SetUp() override { options_.path = FreshDir("store"); }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(options_.path, ec);
  }

  void Open() {
    auto r = Store::Open(options_, registry_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    store_ = std::move(r.value());
  }
  void Reopen() {
    store_.reset();
    Open();
  }

  // Submits `op` and waits for its `done`.
  Status Run(Store::Op op) {
    std::promise<Status> p;
    auto f = p.get_future();
    store_->Submit(std::move(op), [&p](Status st) { p.set_value(std::move(st)); });
    return Await(std::move(f));
  }

  // Runs `fn(Reader&)` on the reader thread and returns its result.
  template <class F>
  auto Read(F fn) {
    using R = decltype(fn(std::declval<Reader&>()));
    std::promise<R> p;
    auto f = p.get_future();
    store_->Query([&](Reader& r) { p.set_value(fn(r)); });
    return Await(std::move(f));
  }

  RecoveredState MustRecover() {
    auto r = store_->Recover();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : RecoveredState{};
  }

  // Optional metrics and fault-injection Env for Open(); members so that they outlive store_ even
  // when a test stops early (TearDown destroys store_ first).
  std::unique_ptr<metrics::Registry> registry_holder_;
  metrics::Registry* registry_ = nullptr;
  std::unique_ptr<rocksdb::Env> env_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

double Sample(const std::string& text, const std::string& series) {
  return testing_support::MetricValue(text, series);
}

using testing_support::WriterGate;

TEST_F(StoreTest, SubmittedOpsAreCommittedAndVisibleAfterReopen) {
  Open();
  std::uint64_t seq = 0;
  Status st = Run([&](Txn& txn) {
    MessageRecord m = FullMessage();
    m.seq = seq = txn.NextSeq();
    m.priority = Priority::kHigh;
    txn.PutMessage(m);
    txn.Enqueue(m, Ue("ue-9"), 1000);  // recipient_count 7: a state record too
    txn.PutIdempotency(m.origin, m.msg_id, IdempotencyRecord{m.seq, OutcomeKind::kStored, ""});
    EXPECT_GT(txn.bytes(), m.payload.size());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(seq, 1u);  // a fresh store starts at 1

  auto check = [&] {
    auto m = Read([&](Reader& r) { return r.GetMessage(seq); });
    ASSERT_TRUE(m.has_value());
    MessageRecord expected = FullMessage();
    expected.seq = seq;
    expected.priority = Priority::kHigh;
    EXPECT_EQ(Tie(*m), Tie(expected));
    auto idem = Read([&](Reader& r) { return r.GetIdempotency(Ue("ue-origin"), "msg-1"); });
    ASSERT_TRUE(idem.has_value());
    EXPECT_EQ(idem->seq, seq);
    EXPECT_EQ(idem->outcome, OutcomeKind::kStored);
    auto q = Read([&](Reader& r) { return r.ListQueue(Ue("ue-9"), 10); });
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].seq, seq);
    EXPECT_EQ(q[0].due_ms, 1000);
    EXPECT_EQ(q[0].priority, Priority::kHigh);
    EXPECT_EQ(q[0].recipient, Ue("ue-9"));
    EXPECT_EQ(q[0].payload_bytes, expected.payload.size());
    auto rec = Read([&](Reader& r) { return r.Recipients(seq); });
    ASSERT_EQ(rec.size(), 1u);
    EXPECT_EQ(rec[0].recipient, Ue("ue-9"));
    EXPECT_EQ(rec[0].state, RecipientState::kQueued);
    auto sum = Read([&](Reader& r) { return r.SummarizeQueue(Ue("ue-9")); });
    EXPECT_EQ(sum.count, 1u);
    EXPECT_EQ(sum.bytes, expected.payload.size());
    EXPECT_EQ(sum.by_priority[0], 1u);
    EXPECT_EQ(sum.oldest_due_ms, 1000);
  };
  check();
  Reopen();
  check();
  EXPECT_FALSE(Read([](Reader& r) { return r.GetMessage(2); }).has_value());
  EXPECT_EQ(Read([](Reader& r) { return r.SummarizeQueue(Ue("ue-90")); }).count, 0u);
}

TEST_F(StoreTest, ReaderListsQueueInDeliveryOrderWithLimit) {
  Open();
  ASSERT_TRUE(Run([](Txn& txn) {
                MessageRecord m;
                m.payload = "x";
                // seq 1: LOW due 1; seq 2: HIGH due 50; seq 3: HIGH due 10; seq 4: MIDDLE due 5
                const std::pair<Priority, std::int64_t> spec[] = {
                    {Priority::kLow, 1}, {Priority::kHigh, 50}, {Priority::kHigh, 10},
                    {Priority::kMiddle, 5}};
                for (const auto& [p, due] : spec) {
                  m.seq = txn.NextSeq();
                  m.priority = p;
                  txn.PutMessage(m);
                  txn.Enqueue(m, Ue("ue-1"), due);
                }
                // Another recipient whose id extends ue-1's: never listed with it.
                m.seq = txn.NextSeq();
                txn.Enqueue(m, Ue("ue-10"), 0);
                return Status::Ok();
              }).ok());
  auto q = Read([](Reader& r) { return r.ListQueue(Ue("ue-1"), 100); });
  std::vector<std::uint64_t> seqs;
  for (const auto& e : q) seqs.push_back(e.seq);
  EXPECT_THAT(seqs, ElementsAre(3u, 2u, 4u, 1u));
  EXPECT_EQ(Read([](Reader& r) { return r.ListQueue(Ue("ue-1"), 2); }).size(), 2u);
  auto s = Read([](Reader& r) { return r.SummarizeQueue(Ue("ue-1")); });
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.by_priority[0], 2u);
  EXPECT_EQ(s.by_priority[1], 1u);
  EXPECT_EQ(s.by_priority[2], 1u);
  EXPECT_EQ(s.oldest_due_ms, 1);  // the LOW entry, although it is listed last
  EXPECT_EQ(Read([](Reader& r) { return r.SummarizeQueue(Ue("ue-10")); }).count, 1u);
}

TEST_F(StoreTest, FailingOpIsRolledBackWhileOthersInTheSameBatchCommit) {
  Open();
  ASSERT_TRUE(Run([](Txn& txn) {
                WriteCounter(txn, 10);
                return Status::Ok();
              }).ok());

  std::vector<std::uint64_t> seen;  // writer thread only until the futures complete
  std::promise<Status> pa, pb, pc;
  std::atomic<bool> b_ran{false};
  {
    WriterGate gate(*store_);
    store_->Submit(
        [&](Txn& txn) {
          seen.push_back(ReadCounter(txn));
          WriteCounter(txn, ReadCounter(txn) + 1);  // 11
          GroupRecord g{"from-a", {Ue("x")}};
          txn.PutGroup(g);
          return Status::Ok();
        },
        [&](Status st) { pa.set_value(st); });
    store_->Submit(
        [&](Txn& txn) {
          b_ran = true;
          seen.push_back(ReadCounter(txn));
          WriteCounter(txn, 1000);
          GroupRecord g{"from-b", {Ue("y")}};
          txn.PutGroup(g);
          txn.PutRoutingRule(RoutingRuleRecord{"rule-b", "*", "gw", 1});
          MessageRecord m;
          m.seq = 77;
          txn.PutMessage(m);
          txn.PutIdempotency(kCounterOrigin, "from-b", IdempotencyRecord{77, {}, {}});
          txn.DeleteGroup("from-a");  // also a delete that must be undone
          return Status::InvalidArgument("b refuses");
        },
        [&](Status st) { pb.set_value(st); });
    store_->Submit(
        [&](Txn& txn) {
          // Sees a's write, not b's rolled-back one.
          seen.push_back(ReadCounter(txn));
          WriteCounter(txn, ReadCounter(txn) + 1);  // 12
          EXPECT_FALSE(txn.GetIdempotency(kCounterOrigin, "from-b").has_value());
          return Status::Ok();
        },
        [&](Status st) { pc.set_value(st); });
    EXPECT_EQ(store_->pending(), 3u);  // all three wait together: one batch
    gate.Release();
    EXPECT_TRUE(gate.Done().ok());
  }
  Status a = Await(pa.get_future());
  Status b = Await(pb.get_future());
  Status c = Await(pc.get_future());
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_EQ(b.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b.message(), "b refuses");
  EXPECT_TRUE(c.ok()) << c.ToString();
  EXPECT_TRUE(b_ran);
  EXPECT_THAT(seen, ElementsAre(10u, 11u, 11u));

  auto check = [&] {
    auto counter = Read([](Reader& r) { return r.GetIdempotency(kCounterOrigin, kCounterKey); });
    ASSERT_TRUE(counter.has_value());
    EXPECT_EQ(counter->seq, 12u);
    EXPECT_FALSE(Read([](Reader& r) { return r.GetMessage(77); }).has_value());
    RecoveredState st = MustRecover();
    ASSERT_EQ(st.groups.size(), 1u);
    EXPECT_EQ(st.groups[0].group_id, "from-a");
    EXPECT_TRUE(st.routing_rules.empty());
  };
  check();
  Reopen();
  check();
}

TEST_F(StoreTest, ReadsInsideABatchSeeEarlierOpsFromManyThreads) {
  Open();
  constexpr int kThreads = 4;
  constexpr int kPerThreadPerPhase = 150;
  constexpr int kTotal = kThreads * kPerThreadPerPhase * 2;

  // seen[t][i]: the counter value op i of thread t read. Written on the writer thread; read here
  // after every `done` was observed through a future.
  std::vector<std::vector<std::uint64_t>> seen(kThreads,
                                               std::vector<std::uint64_t>(2 * kPerThreadPerPhase));
  std::vector<std::vector<std::promise<Status>>> done(kThreads);
  for (auto& d : done) d.resize(2 * kPerThreadPerPhase);

  auto submitter = [&](int t, int phase) {
    for (int j = 0; j < kPerThreadPerPhase; ++j) {
      const int i = phase * kPerThreadPerPhase + j;
      store_->Submit(
          [&seen, t, i](Txn& txn) {
            const std::uint64_t v = ReadCounter(txn);
            seen[t][i] = v;
            WriteCounter(txn, v + 1);
            return Status::Ok();
          },
          [&done, t, i](Status st) { done[t][i].set_value(std::move(st)); });
    }
  };

  // Phase 0: everything queues behind a held writer, so one batch holds all of it.
  {
    WriterGate gate(*store_);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(submitter, t, 0);
    for (auto& th : threads) th.join();
    EXPECT_EQ(store_->pending(), static_cast<std::size_t>(kThreads * kPerThreadPerPhase));
    gate.Release();
  }
  // Phase 1: submitted while the writer runs; batches of any size.
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(submitter, t, 1);
    for (auto& th : threads) th.join();
  }
  for (auto& per_thread : done) {
    for (auto& p : per_thread) {
      Status st = Await(p.get_future());
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }

  std::vector<std::uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    // One thread's operations run in its submission order.
    EXPECT_TRUE(std::is_sorted(seen[t].begin(), seen[t].end())) << "thread " << t;
    all.insert(all.end(), seen[t].begin(), seen[t].end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::uint64_t> expected(kTotal);
  for (int i = 0; i < kTotal; ++i) expected[i] = static_cast<std::uint64_t>(i);
  EXPECT_EQ(all, expected);  // every op saw every earlier one, no lost update

  auto counter = Read([](Reader& r) { return r.GetIdempotency(kCounterOrigin, kCounterKey); });
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(counter->seq, static_cast<std::uint64_t>(kTotal));
  Reopen();
  counter = Read([](Reader& r) { return r.GetIdempotency(kCounterOrigin, kCounterKey); });
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(counter->seq, static_cast<std::uint64_t>(kTotal));
}

TEST_F(StoreTest, DoneRunsAfterTheBatchIsVisibleToReaders) {
  Open();
  std::promise<std::optional<MessageRecord>> seen_in_done;
  store_->Submit(
      [](Txn& txn) {
        MessageRecord m;
        m.seq = txn.NextSeq();
        m.payload = "visible";
        txn.PutMessage(m);
        return Status::Ok();
      },
      [&](Status st) {
        EXPECT_TRUE(st.ok());
        // Committed before done: a reader sees it.
        store_->Query([&](Reader& r) { seen_in_done.set_value(r.GetMessage(1)); });
      });
  auto m = Await(seen_in_done.get_future());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "visible");
}

TEST_F(StoreTest, SegmentsAreReadInNumberOrderAndTakenOnce) {
  Open();
  const Address o = Ue("o");
  ASSERT_TRUE(Run([&](Txn& txn) {
                for (std::uint32_t n : {3u, 1u, 2u}) {
                  SegmentRecord s;
                  s.number = n;
                  s.total = 4;
                  s.header.payload = "p" + std::to_string(n);
                  txn.PutSegment(o, "s1", s);
                }
                SegmentRecord other;  // set "s12" shares the textual prefix
                other.number = 1;
                other.header.payload = "other";
                txn.PutSegment(o, "s12", other);
                txn.PutSegmentSet(SegmentSetRecord{o, "s1", Ue("d"), "m", 5, 4, 3, false});
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(Run([&](Txn& txn) {
                EXPECT_TRUE(txn.HasSegment(o, "s1", 2));
                EXPECT_FALSE(txn.HasSegment(o, "s1", 4));
                SegmentRecord s;  // written in this batch, then taken with the stored ones
                s.number = 4;
                s.header.payload = "p4";
                txn.PutSegment(o, "s1", s);
                auto parts = txn.TakeSegments(o, "s1");
                std::vector<std::string> payloads;
                for (const auto& p : parts) payloads.push_back(p.header.payload);
                EXPECT_THAT(payloads, ElementsAre("p1", "p2", "p3", "p4"));
                EXPECT_TRUE(txn.TakeSegments(o, "s1").empty());  // deleted within the batch
                EXPECT_FALSE(txn.HasSegment(o, "s1", 1));
                auto set = txn.GetSegmentSet(o, "s1");
                EXPECT_TRUE(set.has_value());
                if (set) txn.DeleteSegmentSet(*set);
                return Status::Ok();
              }).ok());
  Reopen();
  ASSERT_TRUE(Run([&](Txn& txn) {
                EXPECT_TRUE(txn.TakeSegments(o, "s1").empty());
                EXPECT_FALSE(txn.GetSegmentSet(o, "s1").has_value());
                EXPECT_TRUE(txn.HasSegment(o, "s12", 1));
                return Status::Ok();
              }).ok());
  EXPECT_TRUE(MustRecover().open_segment_sets.empty());
}

// TakeSegments finds a set's writes of the same batch through the batch's per-set index (not by
// scanning every write of the batch): writes of other sets, writes rolled back with their
// operation, a segment written again after a rollback, and committed segments (read with an
// iterator bounded to the set).
TEST_F(StoreTest, TakeSegmentsSeesOnlyItsSetsLiveWritesOfTheBatch) {
  Open();
  const Address o = Ue("o");
  auto seg = [](std::uint32_t n, std::string payload) {
    SegmentRecord s;
    s.number = n;
    s.total = 9;
    s.header.payload = std::move(payload);
    return s;
  };
  auto payloads = [](const std::vector<SegmentRecord>& parts) {
    std::vector<std::string> out;
    for (const auto& p : parts) out.push_back(p.header.payload);
    return out;
  };
  // Committed before the batch: set "c" with two segments.
  ASSERT_TRUE(Run([&](Txn& txn) {
                txn.PutSegment(o, "c", seg(1, "c1"));
                txn.PutSegment(o, "c", seg(2, "c2"));
                return Status::Ok();
              }).ok());

  std::promise<Status> p1, p2, p3, p4;
  std::vector<std::string> a_first, b_taken, c_taken, a_again, c_again;
  {
    WriterGate gate(*store_);
    store_->Submit(
        [&](Txn& txn) {
          txn.PutSegment(o, "a", seg(2, "a2"));
          txn.PutSegment(o, "a", seg(1, "a1"));
          txn.PutSegment(o, "b", seg(1, "b1"));
          txn.PutSegment(o, "c", seg(3, "c3"));
          for (int i = 0; i < 200; ++i) txn.PutSegment(o, "x" + std::to_string(i), seg(1, "x"));
          return Status::Ok();
        },
        [&](Status st) { p1.set_value(st); });
    store_->Submit(
        [&](Txn& txn) {
          txn.PutSegment(o, "a", seg(3, "a3-rolled-back"));
          txn.PutSegment(o, "c", seg(4, "c4-rolled-back"));
          return Status::InvalidArgument("refused");
        },
        [&](Status st) { p2.set_value(st); });
    store_->Submit(
        [&](Txn& txn) {
          a_first = payloads(txn.TakeSegments(o, "a"));
          b_taken = payloads(txn.TakeSegments(o, "b"));
          c_taken = payloads(txn.TakeSegments(o, "c"));
          txn.PutSegment(o, "a", seg(3, "a3"));  // the key a rolled-back op wrote, written again
          return Status::Ok();
        },
        [&](Status st) { p3.set_value(st); });
    store_->Submit(
        [&](Txn& txn) {
          a_again = payloads(txn.TakeSegments(o, "a"));
          c_again = payloads(txn.TakeSegments(o, "c"));
          return Status::Ok();
        },
        [&](Status st) { p4.set_value(st); });
    gate.Release();
    EXPECT_TRUE(gate.Done().ok());
  }
  EXPECT_TRUE(Await(p1.get_future()).ok());
  EXPECT_EQ(Await(p2.get_future()).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Await(p3.get_future()).ok());
  EXPECT_TRUE(Await(p4.get_future()).ok());
  EXPECT_THAT(a_first, ElementsAre("a1", "a2"));
  EXPECT_THAT(b_taken, ElementsAre("b1"));
  EXPECT_THAT(c_taken, ElementsAre("c1", "c2", "c3"));
  EXPECT_THAT(a_again, ElementsAre("a3"));
  EXPECT_TRUE(c_again.empty());

  // The next batch reads what the last one committed: all taken, x* kept.
  ASSERT_TRUE(Run([&](Txn& txn) {
                EXPECT_TRUE(txn.TakeSegments(o, "a").empty());
                EXPECT_TRUE(txn.TakeSegments(o, "c").empty());
                EXPECT_FALSE(txn.HasSegment(o, "c", 4));
                EXPECT_THAT(payloads(txn.TakeSegments(o, "x7")), ElementsAre("x"));
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(Run([&](Txn& txn) {
                EXPECT_TRUE(txn.TakeSegments(o, "x7").empty());
                EXPECT_TRUE(txn.HasSegment(o, "x8", 1));
                return Status::Ok();
              }).ok());
}

// After a sweep deleted many sets whose keys sort after a set's, taking that set must not step
// over their tombstones (RocksDB's perf counters, on the writer thread, count what an iterator
// skipped): an unbounded scan paid for every earlier deletion, so a sweep whose age order runs
// against the key order cost O(N^2).
TEST_F(StoreTest, TakeSegmentsDoesNotStepOverTheTombstonesOfOtherSets) {
  Open();
  const Address o = Ue("o");
  constexpr int kOthers = 1000;
  auto seg = [] {
    SegmentRecord s;
    s.number = 1;
    s.total = 2;
    s.header.payload = "p";
    return s;
  };
  ASSERT_TRUE(Run([&](Txn& txn) {
                txn.PutSegment(o, "a", seg());  // sorts before every "b..." set
                for (int i = 0; i < kOthers; ++i) txn.PutSegment(o, "b" + std::to_string(i), seg());
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(Run([&](Txn& txn) {
                for (int i = 0; i < kOthers; ++i) {
                  EXPECT_EQ(txn.TakeSegments(o, "b" + std::to_string(i)).size(), 1u);
                }
                return Status::Ok();
              }).ok());
  std::uint64_t skipped = 0;
  std::size_t taken = 0;
  ASSERT_TRUE(Run([&](Txn& txn) {
                rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
                rocksdb::get_perf_context()->Reset();
                taken = txn.TakeSegments(o, "a").size();
                skipped = rocksdb::get_perf_context()->internal_delete_skipped_count;
                rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(taken, 1u);
  EXPECT_LT(skipped, 10u) << "the scan of set a stepped over the other sets' tombstones";
}

TEST_F(StoreTest, NextSeqKeepsIncreasingAcrossReopen) {
  Open();
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Run([&](Txn& txn) {
                  MessageRecord m;
                  m.seq = txn.NextSeq();
                  seqs.push_back(m.seq);
                  txn.PutMessage(m);
                  return Status::Ok();
                }).ok());
  }
  EXPECT_THAT(seqs, ElementsAre(1u, 2u, 3u));
  // A sequence number taken without storing a message (or by a rolled-back op) is never reused
  // while running.
  ASSERT_EQ(Run([&](Txn& txn) {
              seqs.push_back(txn.NextSeq());
              return Status::InvalidArgument("rolled back");
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(seqs.back(), 4u);

  Reopen();
  std::uint64_t after = 0;
  ASSERT_TRUE(Run([&](Txn& txn) {
                MessageRecord m;
                m.seq = after = txn.NextSeq();
                txn.PutMessage(m);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(after, 4u);  // after the last stored message (3)

  // With large sequence numbers (more than one byte): recovered numerically.
  ASSERT_TRUE(Run([&](Txn& txn) {
                MessageRecord m;
                m.seq = 0x1'0000'0100ull;
                txn.PutMessage(m);
                return Status::Ok();
              }).ok());
  Reopen();
  ASSERT_TRUE(Run([&](Txn& txn) {
                after = txn.NextSeq();
                return Status::Ok();
              }).ok());
  EXPECT_EQ(after, 0x1'0000'0101ull);
}

TEST_F(StoreTest, SequenceNumbersAreNotReusedAfterEveryMessageWasDeleted) {
  Open();
  std::uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Run([&](Txn& txn) {
                  MessageRecord m;
                  m.seq = last = txn.NextSeq();
                  m.recipient_count = 1;
                  txn.PutMessage(m);
                  txn.Enqueue(m, Ue("ue-1"), 5);
                  return Status::Ok();
                }).ok());
  }
  // Every message delivered: the messages column family is empty.
  for (auto& q : Read([&](Reader& r) { return r.ListQueue(Ue("ue-1"), 10); })) {
    ASSERT_TRUE(Run([&](Txn& txn) {
                  txn.FinishEntry(q, RecipientState::kDelivered, true, false);
                  return Status::Ok();
                }).ok());
  }
  EXPECT_FALSE(Read([&](Reader& r) { return r.GetMessage(last); }).has_value());
  Reopen();
  std::uint64_t next = 0;
  ASSERT_TRUE(Run([&](Txn& txn) {
                next = txn.NextSeq();
                return Status::Ok();
              }).ok());
  EXPECT_EQ(next, last + 1);  // from the stored high-water mark, not from the (empty) messages
}

TEST_F(StoreTest, SingleRecipientEntryFinishesWithItsMessage) {
  Open();
  MessageRecord m = FullMessage();
  m.recipient_count = 1;
  ASSERT_TRUE(Run([&](Txn& txn) {
                m.seq = txn.NextSeq();
                txn.PutMessage(m);
                txn.Enqueue(m, Ue("ue-1"), 100);
                return Status::Ok();
              }).ok());
  // One recipient: no state record (the message's existence is its state).
  EXPECT_TRUE(Read([&](Reader& r) { return r.Recipients(m.seq); }).empty());
  auto q = Read([&](Reader& r) { return r.ListQueue(Ue("ue-1"), 10); });
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].expiry_ms, m.expiry_ms);  // the engine needs it without reading the message

  // A retry moves the entry to its new due time and counts the attempt.
  ASSERT_TRUE(Run([&](Txn& txn) {
                txn.RescheduleEntry(q[0], 5000, 3);
                return Status::Ok();
              }).ok());
  q = Read([&](Reader& r) { return r.ListQueue(Ue("ue-1"), 10); });
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].due_ms, 5000);
  EXPECT_EQ(q[0].attempts, 3u);

  ASSERT_TRUE(Run([&](Txn& txn) {
                txn.FinishEntry(q[0], RecipientState::kDelivered, true, false);
                return Status::Ok();
              }).ok());
  EXPECT_TRUE(Read([&](Reader& r) { return r.ListQueue(Ue("ue-1"), 10); }).empty());
  EXPECT_FALSE(Read([&](Reader& r) { return r.GetMessage(m.seq); }).has_value());
}

TEST_F(StoreTest, FanOutStatesStayUntilTheLastEntryFinishes) {
  Open();
  MessageRecord m = FullMessage();
  m.recipient_count = 2;
  ASSERT_TRUE(Run([&](Txn& txn) {
                m.seq = txn.NextSeq();
                txn.PutMessage(m);
                txn.Enqueue(m, Ue("ue-a"), 100);
                txn.Enqueue(m, Ue("ue-b"), 100);
                return Status::Ok();
              }).ok());
  auto a = Read([&](Reader& r) { return r.ListQueue(Ue("ue-a"), 1); });
  auto b = Read([&](Reader& r) { return r.ListQueue(Ue("ue-b"), 1); });
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_TRUE(Run([&](Txn& txn) {
                txn.FinishEntry(a[0], RecipientState::kDelivered, false, true);
                return Status::Ok();
              }).ok());
  auto states = Read([&](Reader& r) { return r.Recipients(m.seq); });
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].recipient, Ue("ue-a"));
  EXPECT_EQ(states[0].state, RecipientState::kDelivered);
  EXPECT_EQ(states[1].state, RecipientState::kQueued);
  EXPECT_TRUE(Read([&](Reader& r) { return r.GetMessage(m.seq); }).has_value());

  ASSERT_TRUE(Run([&](Txn& txn) {
                txn.FinishEntry(b[0], RecipientState::kExpired, true, true);
                return Status::Ok();
              }).ok());
  EXPECT_TRUE(Read([&](Reader& r) { return r.Recipients(m.seq); }).empty());
  EXPECT_FALSE(Read([&](Reader& r) { return r.GetMessage(m.seq); }).has_value());
  EXPECT_TRUE(Read([&](Reader& r) { return r.ListQueue(Ue("ue-b"), 1); }).empty());
}

TEST_F(StoreTest, ExpiredIdempotencyRecordsReadAsAbsentAndAreCompactedAway) {
  Open();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  ASSERT_TRUE(Run([&](Txn& txn) {
                for (int i = 0; i < 100; ++i) {
                  txn.PutIdempotency(Ue("o"), "old-" + std::to_string(i),
                                     {0, OutcomeKind::kFailed, "x", now - 1});
                }
                txn.PutIdempotency(Ue("o"), "live", {5, OutcomeKind::kAccepted, "", now + 60000});
                txn.PutIdempotency(Ue("o"), "forever", {6, OutcomeKind::kAccepted, "", 0});
                return Status::Ok();
              }).ok());
  EXPECT_FALSE(Read([&](Reader& r) { return r.GetIdempotency(Ue("o"), "old-1"); }).has_value());
  std::optional<IdempotencyRecord> in_txn;
  ASSERT_TRUE(Run([&](Txn& txn) {
                in_txn = txn.GetIdempotency(Ue("o"), "old-2");
                return Status::Ok();
              }).ok());
  EXPECT_FALSE(in_txn.has_value());
  EXPECT_TRUE(Read([&](Reader& r) { return r.GetIdempotency(Ue("o"), "live"); }).has_value());

  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_EQ(store_->ApproximateIdempotencyKeys(), 2u);  // "live" and "forever" remain
  EXPECT_EQ(Read([&](Reader& r) { return r.GetIdempotency(Ue("o"), "forever"); })->seq, 6u);
}

TEST_F(StoreTest, RecoverReturnsWhatWasStored) {
  Open();
  {
    RecoveredState empty = MustRecover();
    EXPECT_TRUE(empty.registrations.empty());
    EXPECT_TRUE(empty.groups.empty());
    EXPECT_EQ(empty.queued_bytes, 0u);
  }
  ASSERT_TRUE(Run([](Txn& txn) {
                txn.PutAsRegistration({"reg-1", "svc-1", "app-1", "http://a/1", std::nullopt});
                txn.PutAsRegistration(
                    {"reg-2", "svc-2", "app-2", "", AsProfileRecord{"n", {"p"}, {}, "c", "s"}});
                txn.PutAsRegistration({"reg-3", "svc-3", "app-3", "", std::nullopt});
                txn.PutGroup({"g1", {Ue("a"), Ue("b")}});
                txn.PutGroup({"g2", {As("svc-1")}});
                txn.PutTopicSubscription({"t1", Ue("a"), 0});
                txn.PutTopicSubscription({"t1", Ue("b"), 123});
                txn.PutTopicSubscription({"t2", Ue("a"), 0});
                txn.PutRoutingRule({"r1", "ue-1*", "gw-1", 10});
                txn.PutRoutingRule({"r2", "*", "", 100});
                MessageRecord m;
                const std::pair<Priority, std::size_t> spec[] = {
                    {Priority::kHigh, 10}, {Priority::kHigh, 20}, {Priority::kLow, 5}};
                for (const auto& [p, size] : spec) {
                  m.seq = txn.NextSeq();
                  m.priority = p;
                  m.payload.assign(size, 'x');
                  txn.PutMessage(m);
                  txn.Enqueue(m, Ue("a"), 0);
                }
                txn.Enqueue(m, Ue("b"), 0);  // the LOW message to a second recipient
                txn.PutSegmentSet({Ue("o"), "seg-a", Ue("d"), "m1", 100, 3, 1, true});
                txn.PutSegmentSet({Ue("o"), "seg-b", Ue("d"), "m2", 200, 2, 1, false});
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(Run([](Txn& txn) {
                txn.DeleteAsRegistration("reg-3");
                txn.DeleteGroup("g2");
                txn.DeleteTopicSubscription("t2", Ue("a"));
                txn.DeleteRoutingRule("r2");
                return Status::Ok();
              }).ok());

  auto check = [&](bool after_reopen) {
    RecoveredState st = MustRecover();
    std::vector<std::string> regs;
    for (const auto& r : st.registrations) regs.push_back(r.registration_id + "/" + r.as_svc_id);
    EXPECT_THAT(regs, UnorderedElementsAre("reg-1/svc-1", "reg-2/svc-2"));
    for (const auto& r : st.registrations) {
      EXPECT_EQ(r.profile.has_value(), r.registration_id == "reg-2");
    }
    ASSERT_EQ(st.groups.size(), 1u);
    EXPECT_EQ(Tie(st.groups[0]), Tie(GroupRecord{"g1", {Ue("a"), Ue("b")}}));
    std::vector<std::string> topics;
    for (const auto& t : st.topics) {
      topics.push_back(t.topic + "/" + t.subscriber.id + "/" + std::to_string(t.expiry_ms));
    }
    EXPECT_THAT(topics, UnorderedElementsAre("t1/a/0", "t1/b/123"));
    ASSERT_EQ(st.routing_rules.size(), 1u);
    EXPECT_EQ(Tie(st.routing_rules[0]), Tie(RoutingRuleRecord{"r1", "ue-1*", "gw-1", 10}));
    EXPECT_EQ(st.queue_entries_by_priority[0], 2u);
    EXPECT_EQ(st.queue_entries_by_priority[1], 0u);
    EXPECT_EQ(st.queue_entries_by_priority[2], 2u);
    EXPECT_EQ(st.queued_bytes, 10u + 20u + 5u + 5u);
    if (after_reopen) {
      EXPECT_EQ(st.messages, 3u);
    }
    std::vector<std::string> sets;
    for (const auto& s : st.open_segment_sets) sets.push_back(s.seg_id);
    EXPECT_THAT(sets, UnorderedElementsAre("seg-a", "seg-b"));
    for (const auto& s : st.open_segment_sets) {
      if (s.seg_id == "seg-a") {
        EXPECT_EQ(Tie(s), Tie(SegmentSetRecord{Ue("o"), "seg-a", Ue("d"), "m1", 100, 3, 1, true}));
      }
    }
  };
  check(false);
  Reopen();
  check(true);
}

TEST_F(StoreTest, NewerFormatVersionIsRefusedWithAMessageSayingSo) {
  std::filesystem::create_directories(options_.path);
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, options_.path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), std::string(keys::kFormatVersionKey), "2").ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto r = Store::Open(options_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("written by a newer msgin5g: data format version 2, this "
                                      "build reads version 1"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(options_.path), std::string::npos) << r.status().message();
}

TEST_F(StoreTest, FormatVersionThatNoReleaseWroteIsRefusedAsDamage) {
  Open();
  ASSERT_TRUE(Run([](Txn& txn) {
                txn.PutGroup({"g", {}});
                return Status::Ok();
              }).ok());
  store_.reset();

  // Rewrite the version with plain RocksDB, opening every column family the store created.
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options_.path, &names).ok());
    EXPECT_EQ(names.size(), static_cast<std::size_t>(keys::kCfCount));
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), options_.path, cfs, &handles, &raw).ok());
    std::string v;
    EXPECT_TRUE(raw->Get(rocksdb::ReadOptions(), std::string(keys::kFormatVersionKey), &v).ok());
    EXPECT_EQ(v, std::to_string(kCurrentFormatVersion));
    EXPECT_TRUE(raw->Put(rocksdb::WriteOptions(), std::string(keys::kFormatVersionKey), "0").ok());
    for (auto* h : handles) EXPECT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    EXPECT_TRUE(raw->Close().ok());
    delete raw;
  }
  auto r = Store::Open(options_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("format version '0', which no msgin5g release wrote"),
            std::string::npos)
      << r.status().message();
}

TEST_F(StoreTest, MatchingFormatVersionOpens) {
  std::filesystem::create_directories(options_.path);
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, options_.path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), std::string(keys::kFormatVersionKey),
                        std::to_string(kCurrentFormatVersion))
                    .ok());
    ASSERT_TRUE(db->Close().ok());
  }
  Open();
  EXPECT_TRUE(store_->healthy());
}

TEST_F(StoreTest, FullQueueAnswersResourceExhaustedAtOnce) {
  options_.max_pending_ops = 2;
  options_.max_pending_bytes = 1000;
  Open();
  std::promise<Status> p1, p2;
  {
    WriterGate gate(*store_);  // in flight: not counted as pending
    store_->Submit(
        [](Txn& txn) {
          WriteCounter(txn, 1);
          return Status::Ok();
        },
        [&](Status st) { p1.set_value(st); });
    store_->Submit([](Txn&) { return Status::Ok(); }, [&](Status st) { p2.set_value(st); });
    EXPECT_EQ(store_->pending(), 2u);

    // Third operation: refused, and `done` ran on this thread before Submit returned.
    bool ran_fn = false;
    std::optional<Status> third;
    std::thread::id done_thread;
    store_->Submit(
        [&](Txn&) {
          ran_fn = true;
          return Status::Ok();
        },
        [&](Status st) {
          third = st;
          done_thread = std::this_thread::get_id();
        });
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(third->code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(done_thread, std::this_thread::get_id());
    EXPECT_EQ(store_->pending(), 2u);
    gate.Release();
    EXPECT_TRUE(Await(p1.get_future()).ok());
    EXPECT_TRUE(Await(p2.get_future()).ok());
    store_->Drain();
    EXPECT_FALSE(ran_fn);
  }

  // Bytes: one op whose hint alone is past the limit, and one that fits.
  std::optional<Status> big;
  store_->Submit([](Txn&) { return Status::Ok(); }, [&](Status st) { big = st; }, 1001);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->code(), StatusCode::kResourceExhausted);
  std::promise<Status> fits;
  store_->Submit([](Txn&) { return Status::Ok(); }, [&](Status st) { fits.set_value(st); }, 1000);
  EXPECT_TRUE(Await(fits.get_future()).ok());

  // Bytes add up across pending operations.
  {
    WriterGate gate(*store_);
    std::promise<Status> a;
    store_->Submit([](Txn&) { return Status::Ok(); }, [&](Status st) { a.set_value(st); }, 600);
    std::optional<Status> b;
    store_->Submit([](Txn&) { return Status::Ok(); }, [&](Status st) { b = st; }, 600);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->code(), StatusCode::kResourceExhausted);
    gate.Release();
    EXPECT_TRUE(Await(a.get_future()).ok());
  }
  // Once drained, the queue accepts again.
  EXPECT_TRUE(Run([](Txn&) { return Status::Ok(); }).ok());
  EXPECT_TRUE(store_->healthy());
}

TEST_F(StoreTest, MetricsCountBatchesBytesAndRejections) {
  registry_holder_ = std::make_unique<metrics::Registry>();
  registry_ = registry_holder_.get();
  metrics::Registry& registry = *registry_holder_;
  options_.max_pending_ops = 5;
  Open();
  auto put = [](Txn& txn) {
    WriteCounter(txn, ReadCounter(txn) + 1);
    return Status::Ok();
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Run(put).ok());
  EXPECT_EQ(Sample(registry.Serialize(), "msgin5g_storage_batch_operations_count"), 3);
  EXPECT_EQ(Sample(registry.Serialize(), "msgin5g_storage_batch_operations_sum"), 3);
  {
    WriterGate gate(*store_);  // a batch of 1 with no writes: not counted
    std::vector<std::promise<Status>> done(5);
    for (auto& d : done) store_->Submit(put, [&d](Status st) { d.set_value(st); });
    EXPECT_EQ(Sample(registry.Serialize(), "msgin5g_storage_pending_operations"), 5);
    std::optional<Status> refused;
    store_->Submit(put, [&](Status st) { refused = st; });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code(), StatusCode::kResourceExhausted);
    gate.Release();
    for (auto& d : done) EXPECT_TRUE(Await(d.get_future()).ok());
  }
  store_->Drain();
  const std::string text = registry.Serialize();
  EXPECT_EQ(Sample(text, "msgin5g_storage_batch_operations_count"), 4);  // the five: one batch
  EXPECT_EQ(Sample(text, "msgin5g_storage_batch_operations_sum"), 8);
  EXPECT_EQ(Sample(text, "msgin5g_storage_sync_seconds_count"), 4);
  EXPECT_GT(Sample(text, "msgin5g_storage_written_bytes_total"), 0);
  EXPECT_EQ(Sample(text, "msgin5g_storage_rejected_total"), 1);
  EXPECT_EQ(Sample(text, "msgin5g_storage_pending_operations"), 0);
  EXPECT_EQ(Sample(text, "msgin5g_storage_write_failures_total"), 0);
}

// --- Fault injection: tests/support/failing_sync_fs.h ---

using testing_support::FailingSyncFs;

TEST_F(StoreTest, FailedSyncIsStickyAndAcknowledgedWritesSurviveReopen) {
  auto fs = std::make_shared<FailingSyncFs>(rocksdb::FileSystem::Default());
  env_ = rocksdb::NewCompositeEnv(fs);
  ASSERT_NE(env_, nullptr);
  options_.env_for_testing = env_.get();
  registry_holder_ = std::make_unique<metrics::Registry>();
  registry_ = registry_holder_.get();
  metrics::Registry& registry = *registry_holder_;
  Open();

  // Acknowledged before the fault.
  constexpr int kAcked = 20;
  for (int i = 0; i < kAcked; ++i) {
    Status st = Run([i](Txn& txn) {
      MessageRecord m;
      m.seq = txn.NextSeq();
      m.msg_id = "acked-" + std::to_string(i);
      m.payload = "payload-" + std::to_string(i);
      txn.PutMessage(m);
      txn.Enqueue(m, Ue("ue-1"), i);
      txn.PutIdempotency(Ue("origin"), m.msg_id, IdempotencyRecord{m.seq, OutcomeKind::kStored, ""});
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ASSERT_TRUE(store_->healthy());
  EXPECT_EQ(fs->failures.load(), 0);

  fs->failing = true;
  // The op in the failing batch: Unavailable, not OK.
  Status failed = Run([](Txn& txn) {
    MessageRecord m;
    m.seq = txn.NextSeq();
    m.msg_id = "unacked";
    txn.PutMessage(m);
    return Status::Ok();
  });
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.ToString();
  EXPECT_GT(fs->failures.load(), 0);
  EXPECT_FALSE(store_->healthy());
  EXPECT_EQ(Sample(registry.Serialize(), "msgin5g_storage_write_failures_total"), 1);

  // Later operations: Unavailable at once, on the caller's thread, and never run.
  bool ran = false;
  std::optional<Status> later;
  std::thread::id done_thread;
  store_->Submit(
      [&](Txn&) {
        ran = true;
        return Status::Ok();
      },
      [&](Status st) {
        later = st;
        done_thread = std::this_thread::get_id();
      });
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->code(), StatusCode::kUnavailable);
  EXPECT_EQ(done_thread, std::this_thread::get_id());
  store_->Drain();
  EXPECT_FALSE(ran);
  // Reads of committed data still work.
  auto m0 = Read([](Reader& r) { return r.GetMessage(1); });
  ASSERT_TRUE(m0.has_value());
  EXPECT_EQ(m0->payload, "payload-0");

  EXPECT_EQ(Sample(registry.Serialize(), "msgin5g_storage_write_failures_total"), 1);  // once

  // Restart without the fault (the broken env stays in place until the store is gone).
  store_.reset();
  registry_ = nullptr;
  options_.env_for_testing = nullptr;
  Open();
  EXPECT_TRUE(store_->healthy());
  for (int i = 0; i < kAcked; ++i) {
    auto idem = Read([i](Reader& r) {
      return r.GetIdempotency(Ue("origin"), "acked-" + std::to_string(i));
    });
    ASSERT_TRUE(idem.has_value()) << "acknowledged write " << i << " lost";
    auto m = Read([&](Reader& r) { return r.GetMessage(idem->seq); });
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, "payload-" + std::to_string(i));
  }
  EXPECT_EQ(Read([](Reader& r) { return r.SummarizeQueue(Ue("ue-1")); }).count,
            static_cast<std::uint64_t>(kAcked));
  // And it takes writes again.
  std::uint64_t seq = 0;
  Status st = Run([&](Txn& txn) {
    MessageRecord m;
    m.seq = seq = txn.NextSeq();
    m.payload = "after";
    txn.PutMessage(m);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_GT(seq, static_cast<std::uint64_t>(kAcked));
  Reopen();
  auto after = Read([&](Reader& r) { return r.GetMessage(seq); });
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->payload, "after");
}

// The writer runs the next batch while the previous one is being fsync'd, so an operation queued
// behind a failing sync may run; what matters is that it is refused, never acknowledged.
TEST_F(StoreTest, OpsQueuedBehindAFailedSyncAreRefused) {
  auto fs = std::make_shared<FailingSyncFs>(rocksdb::FileSystem::Default());
  env_ = rocksdb::NewCompositeEnv(fs);
  options_.env_for_testing = env_.get();
  Open();
  ASSERT_TRUE(Run([](Txn& txn) {
                WriteCounter(txn, 1);
                return Status::Ok();
              }).ok());

  // Batch 1: the gate writes something and its sync fails. Batch 2: queued meanwhile.
  std::promise<Status> gate_done, queued_done;
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  fs->failing = true;
  store_->Submit(
      [&](Txn& txn) {
        entered.set_value();
        released.wait();
        WriteCounter(txn, 2);
        return Status::Ok();
      },
      [&](Status st) { gate_done.set_value(st); });
  Await(entered.get_future());
  store_->Submit(
      [&](Txn& txn) {
        WriteCounter(txn, 3);
        return Status::Ok();
      },
      [&](Status st) { queued_done.set_value(st); });
  release.set_value();
  EXPECT_EQ(Await(gate_done.get_future()).code(), StatusCode::kUnavailable);
  EXPECT_EQ(Await(queued_done.get_future()).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store_->healthy());

  store_.reset();
  options_.env_for_testing = nullptr;
  Open();
  auto c = Read([](Reader& r) { return r.GetIdempotency(kCounterOrigin, kCounterKey); });
  ASSERT_TRUE(c.has_value());
  // The acknowledged value is there; the unacknowledged ones may or may not be (unknown outcome).
  EXPECT_TRUE(c->seq == 1u || c->seq == 2u || c->seq == 3u) << c->seq;
  EXPECT_TRUE(Run([](Txn& txn) {
                WriteCounter(txn, 4);
                return Status::Ok();
              }).ok());
}

}  // namespace
}  // namespace msgin5g::storage
