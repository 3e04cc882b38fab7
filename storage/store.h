// The durable store: RocksDB with one column family per record kind, and a group-commit writer.
//
// Durability contract: an operation's `done` is called with OK only after the WriteBatch holding
// its writes was written with sync=true (WAL fsync'd), unless StoreOptions::sync is false (a
// benchmark setting that logs a warning). Many operations share one batch and one fsync.
//
// Threads: one writer thread runs every operation's body (`fn`) in submission order, each against
// a Txn whose reads see the writes of earlier operations in the same batch, then writes the batch
// (WAL + memtable, no fsync) and goes on with the next batch. A sync thread fsyncs the WAL once for
// every batch written meanwhile and then calls their `done`s, in submission order. So no answer
// leaves before the fsync covering it and everything it read. State kept in memory by the caller
// (caches) may be read and changed from `fn` without locks (one thread); `done` runs on the sync
// thread and must only touch thread-safe state. One reader thread serves Query() from committed
// (written, possibly not yet fsync'd) data. No call blocks the caller.
//
// Failure: a failed batch write is sticky (leveldb's background error): every later operation gets
// Unavailable, healthy() turns false, one error line is logged. The operator restarts.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "metrics/registry.h"
#include "storage/records.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Env;
class Snapshot;
}  // namespace rocksdb

namespace msgin5g::storage {

struct StoreOptions {
  // Data directory (created if missing). Default: ./msgin5g-data
  std::string path = "./msgin5g-data";
  // fsync the WAL before acknowledging. Default: true. false is for measuring what durability
  // costs; it can lose acknowledged writes on power loss (not on a process crash).
  bool sync = true;
  // Most operations in one batch (one fsync). Default: 1024.
  std::size_t max_batch_ops = 1024;
  // Bounded queue: operations waiting for the writer, and their bytes. Past either, Submit answers
  // ResourceExhausted at once (the API maps it to 503 + Retry-After). Defaults: 65536, 256 MiB.
  std::size_t max_pending_ops = 65536;
  std::size_t max_pending_bytes = 256u << 20;
  // RocksDB block cache for reads. Default: 64 MiB.
  std::size_t block_cache_bytes = 64u << 20;
  // Tests only: an Env to open RocksDB with (fault injection). Not owned.
  rocksdb::Env* env_for_testing = nullptr;
};

class Store;
struct Overlay;

// Reads and writes inside one writer operation. Reads see committed data plus the writes of
// earlier operations in the same batch (the kinds that can be read here: idempotency records,
// segments and segment sets). All methods run on the writer thread.
class Txn {
 public:
  // A record past its expiry reads as absent.
  std::optional<IdempotencyRecord> GetIdempotency(const Address& origin, std::string_view msg_id);
  void PutIdempotency(const Address& origin, std::string_view msg_id, const IdempotencyRecord& r);

  // Assigns a sequence number (stable across restarts: recovered from the last stored message).
  std::uint64_t NextSeq();
  void PutMessage(const MessageRecord& m);
  // Queues message `m` for `recipient`, due at `due_ms`: a queue entry, plus a per-recipient
  // state record when the message has several recipients (m.recipient_count > 1; a single
  // recipient's state is the message's own: queued while it exists).
  void Enqueue(const MessageRecord& m, const Address& recipient, std::int64_t due_ms);

  // Delivery outcomes. A finished entry leaves the queue; for a fan-out message its recipient state
  // becomes `state` (kept for the admin view while other recipients are pending). When it was the
  // message's `last` pending entry, the message (and a fan-out's recipient states) are deleted.
  void FinishEntry(const QueueEntryRecord& e, RecipientState state, bool last, bool fan_out);
  // Moves a queue entry to a new due time (a retry), counting the attempt. (A fan-out recipient's
  // state record keeps its first due time: it is for the admin view only.)
  void RescheduleEntry(const QueueEntryRecord& e, std::int64_t due_ms, std::uint32_t attempts);
  // A committed message (not one written earlier in the same batch).
  std::optional<MessageRecord> GetCommittedMessage(std::uint64_t seq);

  void PutAsRegistration(const AsRegistrationRecord& r);
  void DeleteAsRegistration(const std::string& registration_id);
  void PutGroup(const GroupRecord& g);
  void DeleteGroup(const std::string& group_id);
  void PutTopicSubscription(const TopicSubscriptionRecord& s);
  void DeleteTopicSubscription(const std::string& topic, const Address& subscriber);
  void PutRoutingRule(const RoutingRuleRecord& r);
  void DeleteRoutingRule(const std::string& name);
  void PutUeRegistration(const UeRegistrationRecord& r);
  void DeleteUeRegistration(const std::string& ue_id);
  void PutClientPolicy(const ClientPolicyRecord& p);
  void DeleteClientPolicy(const std::string& client_id);

  std::optional<SegmentSetRecord> GetSegmentSet(const Address& origin, const std::string& seg_id);
  void PutSegmentSet(const SegmentSetRecord& s);
  void DeleteSegmentSet(const SegmentSetRecord& s);
  bool HasSegment(const Address& origin, const std::string& seg_id, std::uint32_t number);
  std::optional<SegmentRecord> GetSegment(const Address& origin, const std::string& seg_id,
                                          std::uint32_t number);
  void PutSegment(const Address& origin, const std::string& seg_id, const SegmentRecord& s);
  // Reads every stored segment of a set, in segment-number order, and deletes them.
  std::vector<SegmentRecord> TakeSegments(const Address& origin, const std::string& seg_id);

  // Bytes written by this operation so far.
  std::size_t bytes() const { return bytes_; }
  // A read that failed (I/O error, corruption) rather than found nothing. The operation is then
  // refused whatever `fn` returned, and the store fails (sticky), since a miss it cannot trust
  // could store a duplicate or complete a segment set early.
  const Status& read_error() const { return read_error_; }

 private:
  friend class Store;
  Txn(Store& store, rocksdb::WriteBatch& batch, Overlay& overlay)
      : store_(store), batch_(batch), overlay_(overlay) {}
  bool Get(int cf, const std::string& key, std::string* value);
  void Put(int cf, const std::string& key, const std::string& value);
  void Delete(int cf, const std::string& key);
  void Remember(int cf, const std::string& key, const std::string* value);  // null: deleted
  void Rollback();  // undoes this operation's writes (batch and overlay)

  Store& store_;
  rocksdb::WriteBatch& batch_;
  Overlay& overlay_;
  // (overlay key, previous overlay entry) per write, to undo a failed operation.
  std::vector<std::pair<std::string, std::optional<std::optional<std::string>>>> undo_;
  std::size_t bytes_ = 0;
  Status read_error_;
};

// One page of the UE registrations, in UE Service ID order.
struct UeRegistrationPage {
  std::vector<UeRegistrationRecord> ues;
  bool more = false;  // registrations past the page exist
};

// Read-only access to committed data, on the reader thread.
class Reader {
 public:
  std::optional<IdempotencyRecord> GetIdempotency(const Address& origin, std::string_view msg_id);
  std::optional<MessageRecord> GetMessage(std::uint64_t seq);
  std::vector<RecipientRecord> Recipients(std::uint64_t seq);
  QueueSummary SummarizeQueue(const Address& recipient);
  // Up to `limit` queue entries of `recipient`, in delivery order (priority, due time, seq).
  std::vector<QueueEntryRecord> ListQueue(const Address& recipient, std::size_t limit);

  // The registry kinds, in key order (storage/registry_reads.cc). Unavailable when the scan
  // failed: a list cut short would look complete.
  Result<std::vector<AsRegistrationRecord>> AsRegistrations();
  Result<std::vector<GroupRecord>> Groups();                         // by group id
  Result<std::vector<TopicSubscriptionRecord>> TopicSubscriptions();  // every topic
  Result<std::vector<TopicSubscriptionRecord>> TopicSubscribers(const std::string& topic);
  Result<std::vector<RoutingRuleRecord>> RoutingRules();  // by name
  Result<std::vector<ClientPolicyRecord>> ClientPolicies();  // by client id
  // Up to `limit` UE registrations with ids after `after` ("" = from the first).
  Result<UeRegistrationPage> UeRegistrations(std::string_view after, std::size_t limit);

 private:
  friend class Store;
  explicit Reader(Store& store) : store_(store) {}
  Store& store_;
};

// Everything loaded at startup.
struct RecoveredState {
  std::vector<AsRegistrationRecord> registrations;
  std::vector<GroupRecord> groups;
  std::vector<TopicSubscriptionRecord> topics;
  std::vector<RoutingRuleRecord> routing_rules;
  std::vector<ClientPolicyRecord> client_policies;
  std::vector<UeRegistrationRecord> ue_registrations;
  std::uint64_t messages = 0;
  std::uint64_t queue_entries_by_priority[3] = {0, 0, 0};
  std::uint64_t queued_bytes = 0;
  std::vector<SegmentSetRecord> open_segment_sets;
  std::chrono::milliseconds took{0};
};

class Store {
 public:
  using Op = std::function<Status(Txn&)>;
  using Done = std::function<void(Status)>;

  // Opens (creating if needed) the database, checks the format version, recovers the sequence.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options, metrics::Registry* metrics);
  ~Store();  // drains the queue, stops the threads, closes RocksDB

  // Queues `fn` for the writer. `done` runs on the sync thread after the batch is durable (OK),
  // or with fn's error (its writes are rolled back), Unavailable (store failed) or
  // ResourceExhausted (queue full; then `done` runs on the caller's thread before Submit returns).
  // `bytes_hint` counts toward max_pending_bytes. Operations whose number is bounded elsewhere
  // (delivery outcomes: at most one per delivery in flight) pass bounded = false and are never
  // refused for a full queue, so that overload cannot turn a delivered message into a redelivery.
  void Submit(Op fn, Done done, std::size_t bytes_hint = 0, bool bounded = true);

  // Runs `fn` on the reader thread against committed data.
  void Query(std::function<void(Reader&)> fn);

  // Scans what the broker keeps in memory. Call before serving. `on_queue_entry`, if set, sees
  // every queue entry (recipient, priority, due, seq, attempts, bytes, expiry).
  Result<RecoveredState> Recover(
      const std::function<void(const QueueEntryRecord&)>& on_queue_entry = nullptr);

  bool healthy() const { return !failed_.load(); }
  std::size_t pending() const;

  // Waits until every submitted operation and query completed.
  void Drain();

  // Compacts every column family now (blocking; maintenance and tests): expired idempotency
  // records are dropped on the way.
  Status CompactAll();

  // A consistent copy of the whole store as of now in `dir` (which must not exist; created with
  // its parent): RocksDB Checkpoint, hard links to the immutable table files where `dir` is on
  // the same filesystem, copies otherwise, plus the live WAL. Every write whose `done` ran before
  // the call is in it. Blocking (flushes the memtables, links or copies files): call it from a
  // maintenance thread, never an I/O thread; writers go on meanwhile. `sequence`: RocksDB's
  // sequence number of the copy.
  Status CreateCheckpoint(const std::string& dir, std::uint64_t* sequence);

  // Approximate number of keys in the idempotency index (tests, stats).
  std::uint64_t ApproximateIdempotencyKeys() const;

 private:
  friend class Txn;
  friend class Reader;
  struct Pending {
    Op fn;
    Done done;
    std::size_t bytes;
  };
  class Metrics;

  Store(const StoreOptions& options, metrics::Registry* registry);
  Status OpenDb();
  void WriterLoop();
  void SyncLoop();
  bool SyncedAll();
  void ReaderLoop();
  void Fail(const Status& st);

  StoreOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::uint64_t next_seq_ = 1;       // writer thread only (after Open)
  std::uint64_t persisted_seq_ = 0;  // the high-water mark last written to meta

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_cv_;
  std::deque<Pending> queue_;
  std::size_t queued_bytes_ = 0;
  bool in_flight_ = false;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  std::thread writer_;

  // Batches written but not yet fsync'd, for the sync thread.
  struct Committed {
    std::vector<Pending> ops;
    std::vector<Status> results;
    std::size_t bytes = 0;
    bool wrote = false;
  };
  // One batch written ahead of the fsync in progress: on 2 cores deeper pipelines measured slower
  // (smaller batches, more switching; bench/RESULTS.md).
  static constexpr std::size_t kMaxUnsynced = 1;
  // Held around the writer's WAL write and the syncer's check-and-SyncWAL, so that a SyncWAL never
  // starts on a WAL writer whose append just failed: RocksDB 7.8 asserts on that (Debian builds it
  // with assertions on, so it would abort the process on a full disk) where it should return the
  // error. The writer still builds its next batch during an fsync; only the Write call waits.
  std::mutex wal_mu_;
  std::mutex smu_;
  std::condition_variable scv_;
  std::deque<Committed> unsynced_;
  std::size_t unsynced_batches_ = 0;
  bool sync_stopping_ = false;
  std::thread syncer_;

  std::mutex rmu_;
  std::condition_variable rcv_;
  std::deque<std::function<void(Reader&)>> rqueue_;
  std::condition_variable rdrained_cv_;
  bool rbusy_ = false;
  bool rstopping_ = false;
  std::thread reader_;
};

}  // namespace msgin5g::storage
