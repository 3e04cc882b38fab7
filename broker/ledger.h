// Ledger: the durable broker's queue entries. It puts messages and reports on recipients' queues,
// takes an entry off or moves it along when the delivery engine reports an outcome (it is the
// engine's OutcomeSink), and keeps the counts the bounds, the gauges and the admin reads use.
//
// Both accept (DurableBroker) and the delivery engine call it, and it calls only the store, so
// the direction is one way: engine -> ledger -> storage, broker -> ledger -> storage. Every
// broker write goes through Submit, which is also where "after durability" lives: the entries an
// operation queued reach the engine, and the accept outcomes it decided are counted, only once
// its batch is fsync'd; a refused (rolled back) operation leaves neither.
//
// Threads: Submit's `fn` and every method taking a Txn run on the store's writer thread, which
// owns the fan-out counts and is the only writer of the totals and the per-recipient usage. The
// totals are atomics (read from any thread); the usage is changed under a mutex so that
// ListQueues may read it from the reader thread (the writer reads it without, as its only
// writer).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/admin.h"
#include "broker/broker_metrics.h"
#include "broker/delivery_engine.h"
#include "broker/queue_limits.h"
#include "storage/store.h"

namespace msgin5g::broker {

class Ledger final : public OutcomeSink {
 public:
  // `store` and `metrics` must outlive the ledger. Reports it queues live default_ttl_ms.
  Ledger(storage::Store& store, const QueueLimits& limits, std::int64_t default_ttl_ms,
         BrokerMetrics& metrics);

  // --- recovery (before any writer operation) ---
  // Each entry of the store's recovery scan: counted against its recipient's bounds.
  void AddRecovered(const storage::QueueEntryRecord& q);
  // After the scan: fan-out messages with several entries left get their count. Then, on the
  // writer thread, the totals the store recovered.
  void FinishRecovery();
  void SetTotals(const std::uint64_t by_priority[3], std::uint64_t bytes);

  // The engine queued entries are handed to (null: messages are only stored). Set before the
  // first write.
  void SetEngine(DeliveryEngine* engine) { engine_ = engine; }

  // Runs `fn` on the writer thread in a storage operation; `done` after its batch is durable
  // (or with the refusal). See Store::Submit for `bytes_hint` and `bounded`.
  void Submit(storage::Store::Op fn, storage::Store::Done done, std::size_t bytes_hint = 0,
              bool bounded = true);

  // --- writer thread, inside Submit's `fn` ---
  // Counts an accept outcome once the running operation is durable.
  void CountAccepted(const char* operation, AddressType dest, storage::OutcomeKind outcome) {
    op_after_.accepted.push_back({operation, dest, outcome});
  }
  // Refuses `entries` more queue entries with `bytes` payload bytes past the total bounds
  // (ResourceExhausted, counted).
  Status AdmitQueued(std::uint64_t entries, std::uint64_t bytes);
  // Per-recipient use, for the per-recipient bounds.
  const QueueUsage& usage() const { return usage_; }
  // Stores a queue entry of `m` for `recipient`, due at `due_ms`, and counts it; the engine gets
  // it once the operation is durable. `m` must already be in the batch (Txn::PutMessage).
  void Enqueue(storage::Txn& txn, const std::shared_ptr<const storage::MessageRecord>& m,
               const Address& recipient, std::int64_t due_ms);
  // Stores a delivery report for `to` about `about_recipient`'s copy of `msg_id`, and queues it.
  void QueueReport(storage::Txn& txn, const Address& to, const Address& about_recipient,
                   const std::string& msg_id, storage::ReportStatus status,
                   const std::string& cause, std::int64_t now_ms);
  // A message queued for `recipients` entries: from two on, its entries are counted down so
  // that the last one removes it.
  void TrackFanOut(std::uint64_t seq, std::uint32_t recipients) {
    if (recipients > 1) remaining_[seq] = recipients;
  }
  // Sets the queue gauges and the bounds' usage.
  void UpdateMetrics();

  // --- any thread ---
  std::uint64_t queued(std::size_t priority) const { return queued_[priority].load(); }
  std::uint64_t queued_bytes() const { return queued_bytes_.load(); }
  // The recipients with queued entries and the `limit` largest queues. Holds the usage lock for
  // one pass over every recipient (O(n log limit)); never waits for a batch or an fsync.
  QueueList ListQueues(std::size_t limit) const;

  // OutcomeSink (the delivery engine).
  void Finish(const storage::QueueEntryRecord& entry,
              std::shared_ptr<const storage::MessageRecord> message, Final final, std::string cause,
              std::function<void(Status)> done) override;
  void Reschedule(const storage::QueueEntryRecord& entry, std::int64_t due_ms,
                  std::uint32_t attempts, std::function<void(Status)> done) override;
  void LoadMessages(
      std::vector<std::uint64_t> seqs,
      std::function<void(std::vector<std::shared_ptr<const storage::MessageRecord>>)> done) override;

 private:
  std::uint64_t TotalQueued() const { return queued_[0] + queued_[1] + queued_[2]; }
  // A message that did not reach a recipient leaves a trace: a log line, and the recipient's
  // final state kept with the message's idempotency record. Writer thread.
  void RecordUndelivered(storage::Txn& txn, const storage::MessageRecord& m,
                         const storage::QueueEntryRecord& entry, storage::RecipientState state,
                         const std::string& cause);

  storage::Store& store_;
  const QueueLimits limits_;
  const std::int64_t default_ttl_ms_;
  BrokerMetrics& metrics_;
  DeliveryEngine* engine_ = nullptr;

  // What the running operation leaves for after its write is durable (moved out when it returns
  // OK, dropped when it was refused). Writer thread.
  struct AcceptCount {
    const char* operation;
    AddressType dest;
    storage::OutcomeKind outcome;
  };
  struct AfterDurable {
    std::vector<QueuedEntry> queued;
    std::vector<AcceptCount> accepted;
  };
  AfterDurable op_after_;

  // Fan-out messages with two or more entries still queued: seq -> how many. A message not here
  // has one entry left (or none). Writer thread (and recovery before it).
  std::unordered_map<std::uint64_t, std::uint32_t> remaining_;
  std::vector<std::uint64_t> recovered_seqs_;  // during recovery only

  std::atomic<std::uint64_t> queued_[3] = {0, 0, 0};
  std::atomic<std::uint64_t> queued_bytes_{0};
  QueueUsage usage_;  // queued entries per recipient; changed under usage_mu_
  mutable std::mutex usage_mu_;
};

}  // namespace msgin5g::broker
