// Unit tests for broker/ledger.h: the queue-entry ledger on a real Store (RocksDB in a temporary
// directory), without a delivery engine: what it stores, what it counts, and how an outcome
// takes an entry off (the last entry of a fan-out message takes the message with it).

#include "broker/ledger.h"

#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/broker_metrics.h"
#include "common/clock.h"
#include "storage/store.h"
#include "tests/support/async_wait.h"

namespace msgin5g::broker {
namespace {

using storage::MessageRecord;
using storage::QueueEntryRecord;
using storage::Txn;
using testing_support::Await;
using testing_support::FreshDir;
using Final = OutcomeSink::Final;

Address Ue(std::string id) { return Address{AddressType::kUe, std::move(id)}; }
Address As(std::string id) { return Address{AddressType::kAs, std::move(id)}; }

class LedgerTest : public testing::Test {
 protected:
  void SetUp() override {
    options_.path = FreshDir("ledger");
    auto s = storage::Store::Open(options_, nullptr);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
    limits_.max_queued_messages = 4;
    metrics_ = std::make_unique<BrokerMetrics>(nullptr, limits_, SegmentSetBounds{});
    ledger_ = std::make_unique<Ledger>(*store_, limits_, 60'000, *metrics_);
  }
  void TearDown() override {
    ledger_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(options_.path, ec);
  }

  // Runs `fn` through the ledger and waits until it is durable (or refused).
  Status Write(std::function<Status(Txn&)> fn) {
    std::promise<Status> p;
    ledger_->Submit(std::move(fn), [&p](Status st) { p.set_value(st); });
    return Await(p.get_future());
  }
  template <class F>
  auto Read(F fn) {
    std::promise<decltype(fn(std::declval<storage::Reader&>()))> p;
    store_->Query([&](storage::Reader& r) { p.set_value(fn(r)); });
    return Await(p.get_future());
  }

  // Stores a message from AS "as-1" queued for every one of `to`; returns it.
  std::shared_ptr<const MessageRecord> Accept(std::vector<Address> to, bool report = false) {
    auto m = std::make_shared<MessageRecord>();
    Status st = Write([&](Txn& txn) {
      m->seq = txn.NextSeq();
      m->origin = As("as-1");
      m->destination = to.front();
      m->msg_id = "m-" + std::to_string(m->seq);
      m->payload = "0123456789";
      m->priority = Priority::kHigh;
      m->report_requested = report;
      m->accepted_ms = UnixMillis();
      m->expiry_ms = m->accepted_ms + 60'000;
      m->recipient_count = static_cast<std::uint32_t>(to.size());
      MSGIN5G_RETURN_IF_ERROR(ledger_->AdmitQueued(to.size(), to.size() * m->payload.size()));
      txn.PutMessage(*m);
      ledger_->TrackFanOut(m->seq, m->recipient_count);
      for (const auto& r : to) ledger_->Enqueue(txn, m, r, m->accepted_ms);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return m;
  }
  Status Finish(const Address& recipient, const std::shared_ptr<const MessageRecord>& m,
                Final final) {
    auto entries = Read([&](storage::Reader& r) { return r.ListQueue(recipient, 10); });
    EXPECT_EQ(entries.size(), 1u);
    if (entries.empty()) return Status::NotFound("no entry");
    std::promise<Status> p;
    ledger_->Finish(entries.front(), m, final, "test", [&p](Status st) { p.set_value(st); });
    return Await(p.get_future());
  }
  bool Stored(std::uint64_t seq) {
    return Read([seq](storage::Reader& r) { return r.GetMessage(seq).has_value(); });
  }

  storage::StoreOptions options_;
  QueueLimits limits_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<BrokerMetrics> metrics_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, EnqueuedEntriesAreStoredAndCounted) {
  auto m = Accept({Ue("ue-1"), Ue("ue-2")});
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kHigh)), 2u);
  EXPECT_EQ(ledger_->queued_bytes(), 2 * m->payload.size());
  auto list = ledger_->ListQueues(10);
  EXPECT_EQ(list.recipients, 2u);
  for (const char* ue : {"ue-1", "ue-2"}) {
    auto entries = Read([&](storage::Reader& r) { return r.ListQueue(Ue(ue), 10); });
    ASSERT_EQ(entries.size(), 1u) << ue;
    EXPECT_EQ(entries[0].seq, m->seq);
  }
}

TEST_F(LedgerTest, TheTotalBoundRefusesBeforeAnythingIsStored) {
  Accept({Ue("ue-1"), Ue("ue-2"), Ue("ue-3")});
  std::uint64_t seq = 0;
  Status st = Write([&](Txn& txn) {
    seq = txn.NextSeq();
    return ledger_->AdmitQueued(2, 0);  // 3 + 2 > max_queued_messages 4
  });
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("broker.max_queued_messages"), std::string::npos);
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kHigh)), 3u);
  EXPECT_FALSE(Stored(seq));
}

TEST_F(LedgerTest, TheLastEntryOfAFanOutMessageTakesTheMessageWithIt) {
  auto m = Accept({Ue("ue-1"), Ue("ue-2")});
  ASSERT_TRUE(Finish(Ue("ue-1"), m, Final::kDelivered).ok());
  EXPECT_TRUE(Stored(m->seq)) << "one recipient still waits for it";
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kHigh)), 1u);
  ASSERT_TRUE(Finish(Ue("ue-2"), m, Final::kFailed).ok());
  EXPECT_FALSE(Stored(m->seq));
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kHigh)), 0u);
  EXPECT_EQ(ledger_->queued_bytes(), 0u);
  EXPECT_EQ(ledger_->ListQueues(10).recipients, 0u);
}

TEST_F(LedgerTest, AnOutcomeQueuesTheRequestedReportButAHandOverDoesNot) {
  auto delivered = Accept({Ue("ue-1")}, /*report=*/true);
  ASSERT_TRUE(Finish(Ue("ue-1"), delivered, Final::kDelivered).ok());
  auto reports = Read([](storage::Reader& r) { return r.ListQueue(As("as-1"), 10); });
  ASSERT_EQ(reports.size(), 1u);
  auto report = Read([&](storage::Reader& r) { return r.GetMessage(reports[0].seq); });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->kind, storage::MessageKind::kReport);
  EXPECT_EQ(report->msg_id, delivered->msg_id);
  EXPECT_EQ(report->report_status, storage::ReportStatus::kSuccess);
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kMiddle)), 1u);

  auto handed = Accept({Ue("ue-2")}, /*report=*/true);
  ASSERT_TRUE(Finish(Ue("ue-2"), handed, Final::kHandedOver).ok());
  EXPECT_EQ(Read([](storage::Reader& r) { return r.ListQueue(As("as-1"), 10); }).size(), 1u)
      << "the gateway that took it reports itself";
}

TEST_F(LedgerTest, RescheduleMovesTheEntryToItsNewDueTime) {
  auto m = Accept({Ue("ue-1")});
  auto before = Read([](storage::Reader& r) { return r.ListQueue(Ue("ue-1"), 10); });
  ASSERT_EQ(before.size(), 1u);
  const std::int64_t later = before[0].due_ms + 30'000;
  std::promise<Status> p;
  ledger_->Reschedule(before[0], later, 3, [&p](Status st) { p.set_value(st); });
  ASSERT_TRUE(Await(p.get_future()).ok());
  auto after = Read([](storage::Reader& r) { return r.ListQueue(Ue("ue-1"), 10); });
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].due_ms, later);
  EXPECT_EQ(after[0].attempts, 3u);
  EXPECT_EQ(after[0].seq, m->seq);
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kHigh)), 1u) << "still one entry";
}

TEST_F(LedgerTest, RecoveryCountsFanOutEntriesSoOnlyTheLastRemovesTheMessage) {
  auto m = Accept({Ue("ue-1"), Ue("ue-2"), Ue("ue-3")});
  // A new ledger that learns the queue from the store's recovery scan, as at startup.
  ledger_ = std::make_unique<Ledger>(*store_, limits_, 60'000, *metrics_);
  auto state = store_->Recover([&](const QueueEntryRecord& q) { ledger_->AddRecovered(q); });
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ledger_->FinishRecovery();
  ASSERT_TRUE(Write([&](Txn&) {
                ledger_->SetTotals(state->queue_entries_by_priority, state->queued_bytes);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(ledger_->queued(static_cast<std::size_t>(Priority::kHigh)), 3u);
  EXPECT_EQ(ledger_->ListQueues(10).recipients, 3u);
  ASSERT_TRUE(Finish(Ue("ue-1"), nullptr, Final::kDelivered).ok());
  ASSERT_TRUE(Finish(Ue("ue-2"), nullptr, Final::kDelivered).ok());
  EXPECT_TRUE(Stored(m->seq));
  ASSERT_TRUE(Finish(Ue("ue-3"), nullptr, Final::kDelivered).ok());
  EXPECT_FALSE(Stored(m->seq));
}

}  // namespace
}  // namespace msgin5g::broker
