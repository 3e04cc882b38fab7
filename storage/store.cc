#include "storage/store.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <unordered_map>

#include "common/clock.h"
#include "common/logging.h"
#include "storage/codec.h"
#include "storage/format_version.h"
#include "storage/keys.h"
#include "storage/rocks_logger.h"

namespace msgin5g::storage {

namespace {

bool Expired(const IdempotencyRecord& r) { return r.expiry_ms != 0 && r.expiry_ms <= UnixMillis(); }

// Drops idempotency records whose dedup window is over, as compactions pass over them: the index
// stays bounded without a sweeper and without an expiry index written per message.
class IdempotencyExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    IdempotencyRecord r;
    return codec::Decode(std::string_view(value.data(), value.size()), &r) && Expired(r);
  }
  const char* Name() const override { return "msgin5g.IdempotencyExpiry"; }
};

// The prefix of a queue key: the recipient's address (type, u16 length, id) and the priority.
// Not a RocksDB prefix_extractor (nothing on disk depends on it): the memtable keeps one insert
// hint per prefix, and a recipient's entries come in rising due time and seq, so each insert
// starts next to the previous one of its queue instead of searching the skip list from the top.
class QueueKeyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "msgin5g.QueueKeyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), Length(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() >= 3 && Length(key) <= key.size();
  }

 private:
  static std::size_t Length(const rocksdb::Slice& key) {
    const auto* p = reinterpret_cast<const unsigned char*>(key.data());
    return 3 + ((std::size_t{p[1]} << 8) | p[2]) + 1;
  }
};

std::string RocksError(const char* what, const rocksdb::Status& s) {
  return std::string(what) + ": " + s.ToString();
}

bool StartsWith(const rocksdb::Slice& s, const std::string& prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}
}  // namespace

// What storage counts.
class Store::Metrics {
 public:
  explicit Metrics(metrics::Registry* r) {
    if (r == nullptr) return;
    auto& p = r->prom();
    batch_ops_ = &prometheus::BuildHistogram()
                      .Name("msgin5g_storage_batch_operations")
                      .Help("Operations committed per group-commit batch (one fsync each)")
                      .Register(p)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                         256, 512, 1024});
    sync_seconds_ = &prometheus::BuildHistogram()
                         .Name("msgin5g_storage_sync_seconds")
                         .Help("Duration of one synced batch write (WAL append + fsync)")
                         .Register(p)
                         .Add({}, metrics::LatencyBuckets());
    write_failures_ = &prometheus::BuildCounter()
                           .Name("msgin5g_storage_write_failures_total")
                           .Help("Batch writes that failed; the store then refuses writes")
                           .Register(p)
                           .Add({});
    rejected_ = &prometheus::BuildCounter()
                     .Name("msgin5g_storage_rejected_total")
                     .Help("Operations refused because the writer queue was full (503)")
                     .Register(p)
                     .Add({});
    pending_ = &prometheus::BuildGauge()
                    .Name("msgin5g_storage_pending_operations")
                    .Help("Operations waiting for the writer")
                    .Register(p)
                    .Add({});
    written_bytes_ = &prometheus::BuildCounter()
                          .Name("msgin5g_storage_written_bytes_total")
                          .Help("Bytes of keys and values committed")
                          .Register(p)
                          .Add({});
  }
  void Batch(std::size_t ops, double seconds, std::size_t bytes) {
    if (batch_ops_ == nullptr) return;
    batch_ops_->Observe(static_cast<double>(ops));
    sync_seconds_->Observe(seconds);
    written_bytes_->Increment(static_cast<double>(bytes));
  }
  void WriteFailure() {
    if (write_failures_) write_failures_->Increment();
  }
  void Rejected() {
    if (rejected_) rejected_->Increment();
  }
  void Pending(std::size_t n) {
    if (pending_) pending_->Set(static_cast<double>(n));
  }

 private:
  prometheus::Histogram* batch_ops_ = nullptr;
  prometheus::Histogram* sync_seconds_ = nullptr;
  prometheus::Counter* write_failures_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;
  prometheus::Gauge* pending_ = nullptr;
  prometheus::Counter* written_bytes_ = nullptr;
};

// Writes of the batch being built, so that an operation reads what earlier operations of the same
// batch wrote (a plain WriteBatch is not readable). Keyed by cf byte + key; nullopt = deleted.
// Cheaper than a WriteBatchWithIndex: one hash insert per write instead of a skiplist insert.
struct Overlay {
  std::unordered_map<std::string, std::optional<std::string>> entries;
  // Segment keys (overlay keys) written in this batch, by segment set (the segment key without its
  // number): TakeSegments looks up only its own set's writes instead of scanning every entry, so a
  // batch that takes many sets (a sweep) costs time linear in its writes. Append-only: a key whose
  // write was rolled back is no longer in `entries` and is skipped.
  std::unordered_map<std::string, std::vector<std::string>> segments_by_set;
};

namespace {
std::string OverlayKey(int cf, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back(static_cast<char>(cf));
  k.append(key);
  return k;
}
}  // namespace

namespace {
// Column families read inside a Txn: only their writes are kept in the overlay (copying message
// payloads and queue entries there would cost the writer thread for nothing).
bool ReadInTxn(int cf) {
  return cf == keys::kIdempotency || cf == keys::kSegments || cf == keys::kSegmentSets;
}
}  // namespace

// --- Txn ---

bool Txn::Get(int cf, const std::string& key, std::string* value) {
  assert(ReadInTxn(cf));
  auto it = overlay_.entries.find(OverlayKey(cf, key));
  if (it != overlay_.entries.end()) {
    if (!it->second) return false;
    *value = *it->second;
    return true;
  }
  rocksdb::Status s = store_.db_->Get(rocksdb::ReadOptions(), store_.cfs_[cf], key, value);
  if (!s.ok() && !s.IsNotFound() && read_error_.ok()) {
    read_error_ = Status::Unavailable(RocksError("read failed", s));
  }
  return s.ok();
}

void Txn::Remember(int cf, const std::string& key, const std::string* value) {
  std::string k = OverlayKey(cf, key);
  auto it = overlay_.entries.find(k);
  if (it == overlay_.entries.end()) {
    if (cf == keys::kSegments && key.size() >= 4) {
      overlay_.segments_by_set[key.substr(0, key.size() - 4)].push_back(k);
    }
    undo_.emplace_back(k, std::nullopt);
    overlay_.entries.emplace(std::move(k),
                             value ? std::optional<std::string>(*value) : std::nullopt);
  } else {
    undo_.emplace_back(k, std::move(it->second));
    it->second = value ? std::optional<std::string>(*value) : std::nullopt;
  }
}

void Txn::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->second) {
      overlay_.entries[it->first] = std::move(*it->second);
    } else {
      overlay_.entries.erase(it->first);
    }
  }
  undo_.clear();
}

void Txn::Put(int cf, const std::string& key, const std::string& value) {
  batch_.Put(store_.cfs_[cf], key, value);
  if (ReadInTxn(cf)) Remember(cf, key, &value);
  bytes_ += key.size() + value.size();
}

void Txn::Delete(int cf, const std::string& key) {
  batch_.Delete(store_.cfs_[cf], key);
  if (ReadInTxn(cf)) Remember(cf, key, nullptr);
  bytes_ += key.size();
}

std::optional<IdempotencyRecord> Txn::GetIdempotency(const Address& origin,
                                                     std::string_view msg_id) {
  std::string v;
  IdempotencyRecord r;
  if (!Get(keys::kIdempotency, keys::Idempotency(origin, msg_id), &v) || !codec::Decode(v, &r) ||
      Expired(r)) {
    return std::nullopt;
  }
  return r;
}

void Txn::PutIdempotency(const Address& origin, std::string_view msg_id,
                         const IdempotencyRecord& r) {
  Put(keys::kIdempotency, keys::Idempotency(origin, msg_id), codec::Encode(r));
}

std::uint64_t Txn::NextSeq() { return store_.next_seq_++; }

void Txn::PutMessage(const MessageRecord& m) {
  Put(keys::kMessages, keys::Message(m.seq), codec::Encode(m));
}

void Txn::Enqueue(const MessageRecord& m, const Address& recipient, std::int64_t due_ms) {
  QueueEntryRecord q;
  q.seq = m.seq;
  q.payload_bytes = static_cast<std::uint32_t>(m.payload.size());
  q.expiry_ms = m.expiry_ms;
  Put(keys::kQueue, keys::Queue(recipient, m.priority, due_ms, m.seq), codec::Encode(q));
  if (m.recipient_count <= 1) return;
  RecipientRecord r;
  r.recipient = recipient;
  r.state = RecipientState::kQueued;
  r.due_ms = due_ms;
  r.priority = m.priority;
  Put(keys::kRecipients, keys::Recipient(m.seq, recipient), codec::Encode(r));
}

void Txn::FinishEntry(const QueueEntryRecord& e, RecipientState state, bool last, bool fan_out) {
  Delete(keys::kQueue, keys::Queue(e.recipient, e.priority, e.due_ms, e.seq));
  if (!fan_out) {
    // A single recipient's state is the message's existence.
  } else if (last) {
    // Every other recipient finished earlier: one range tombstone for all their states (only
    // fan-out messages pay for it).
    batch_.DeleteRange(store_.cfs_[keys::kRecipients], keys::RecipientPrefix(e.seq),
                       keys::RecipientPrefix(e.seq + 1));
    bytes_ += 16;
  } else {
    RecipientRecord r;
    r.recipient = e.recipient;
    r.state = state;
    r.due_ms = e.due_ms;
    r.priority = e.priority;
    Put(keys::kRecipients, keys::Recipient(e.seq, e.recipient), codec::Encode(r));
  }
  if (last) Delete(keys::kMessages, keys::Message(e.seq));
}

void Txn::RescheduleEntry(const QueueEntryRecord& e, std::int64_t due_ms, std::uint32_t attempts) {
  Delete(keys::kQueue, keys::Queue(e.recipient, e.priority, e.due_ms, e.seq));
  QueueEntryRecord q = e;
  q.due_ms = due_ms;
  q.attempts = attempts;
  Put(keys::kQueue, keys::Queue(e.recipient, e.priority, due_ms, e.seq), codec::Encode(q));
}

std::optional<MessageRecord> Txn::GetCommittedMessage(std::uint64_t seq) {
  std::string v;
  MessageRecord m;
  rocksdb::Status s =
      store_.db_->Get(rocksdb::ReadOptions(), store_.cfs_[keys::kMessages], keys::Message(seq), &v);
  if (!s.ok()) {
    if (!s.IsNotFound() && read_error_.ok()) {
      read_error_ = Status::Unavailable(RocksError("read failed", s));
    }
    return std::nullopt;
  }
  if (!codec::Decode(v, &m)) return std::nullopt;
  return m;
}

void Txn::PutAsRegistration(const AsRegistrationRecord& r) {
  Put(keys::kAsRegistrations, r.registration_id, codec::Encode(r));
}
void Txn::DeleteAsRegistration(const std::string& id) { Delete(keys::kAsRegistrations, id); }
void Txn::PutGroup(const GroupRecord& g) { Put(keys::kGroups, g.group_id, codec::Encode(g)); }
void Txn::DeleteGroup(const std::string& id) { Delete(keys::kGroups, id); }
void Txn::PutTopicSubscription(const TopicSubscriptionRecord& s) {
  Put(keys::kTopics, keys::Topic(s.topic, s.subscriber), codec::Encode(s));
}
void Txn::DeleteTopicSubscription(const std::string& topic, const Address& subscriber) {
  Delete(keys::kTopics, keys::Topic(topic, subscriber));
}
void Txn::PutRoutingRule(const RoutingRuleRecord& r) {
  Put(keys::kRouting, r.name, codec::Encode(r));
}
void Txn::DeleteRoutingRule(const std::string& name) { Delete(keys::kRouting, name); }
void Txn::PutUeRegistration(const UeRegistrationRecord& r) {
  Put(keys::kMeta, std::string(keys::kUeRegistrationPrefix) + r.ue_id, codec::Encode(r));
}
void Txn::DeleteUeRegistration(const std::string& ue_id) {
  Delete(keys::kMeta, std::string(keys::kUeRegistrationPrefix) + ue_id);
}
void Txn::PutClientPolicy(const ClientPolicyRecord& p) {
  Put(keys::kMeta, std::string(keys::kClientPolicyPrefix) + p.client_id, p.json);
}
void Txn::DeleteClientPolicy(const std::string& client_id) {
  Delete(keys::kMeta, std::string(keys::kClientPolicyPrefix) + client_id);
}

std::optional<SegmentSetRecord> Txn::GetSegmentSet(const Address& origin,
                                                   const std::string& seg_id) {
  std::string v;
  SegmentSetRecord r;
  if (!Get(keys::kSegmentSets, keys::SegmentSet(origin, seg_id), &v) || !codec::Decode(v, &r)) {
    return std::nullopt;
  }
  return r;
}

void Txn::PutSegmentSet(const SegmentSetRecord& s) {
  Put(keys::kSegmentSets, keys::SegmentSet(s.origin, s.seg_id), codec::Encode(s));
}

void Txn::DeleteSegmentSet(const SegmentSetRecord& s) {
  Delete(keys::kSegmentSets, keys::SegmentSet(s.origin, s.seg_id));
}

bool Txn::HasSegment(const Address& origin, const std::string& seg_id, std::uint32_t number) {
  std::string v;
  return Get(keys::kSegments, keys::Segment(origin, seg_id, number), &v);
}

std::optional<SegmentRecord> Txn::GetSegment(const Address& origin, const std::string& seg_id,
                                             std::uint32_t number) {
  std::string v;
  SegmentRecord s;
  if (!Get(keys::kSegments, keys::Segment(origin, seg_id, number), &v) || !codec::Decode(v, &s)) {
    return std::nullopt;
  }
  return s;
}

void Txn::PutSegment(const Address& origin, const std::string& seg_id, const SegmentRecord& s) {
  Put(keys::kSegments, keys::Segment(origin, seg_id, s.number), codec::Encode(s));
}

std::vector<SegmentRecord> Txn::TakeSegments(const Address& origin, const std::string& seg_id) {
  // Committed segments, then this batch's writes to this set on top. Cost: the set's segments,
  // whatever else the batch holds or deleted before.
  const std::string prefix = keys::SegmentPrefix(origin, seg_id);
  std::map<std::string, std::optional<std::string>> merged;
  // Bounded to this set's keys (prefix + u32 number): the scan stops at the bound instead of
  // stepping over the tombstones of the sets deleted before it (a sweep deletes them in age
  // order, which the segIds may make any key order).
  const std::string bound = prefix + std::string(5, '\xff');
  const rocksdb::Slice upper(bound);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(store_.db_->NewIterator(ro, store_.cfs_[keys::kSegments]));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    merged[it->key().ToString()] = it->value().ToString();
  }
  if (!it->status().ok() && read_error_.ok()) {
    read_error_ = Status::Unavailable(RocksError("segment scan failed", it->status()));
  }
  if (auto idx = overlay_.segments_by_set.find(prefix); idx != overlay_.segments_by_set.end()) {
    for (const auto& k : idx->second) {
      auto e = overlay_.entries.find(k);
      if (e != overlay_.entries.end()) merged[k.substr(1)] = e->second;
    }
  }
  std::vector<SegmentRecord> out;
  for (const auto& [k, v] : merged) {
    if (!v) continue;
    SegmentRecord s;
    if (codec::Decode(*v, &s)) out.push_back(std::move(s));
    Delete(keys::kSegments, k);
  }
  return out;
}

// --- Reader ---

std::optional<IdempotencyRecord> Reader::GetIdempotency(const Address& origin,
                                                        std::string_view msg_id) {
  std::string v;
  IdempotencyRecord r;
  auto s = store_.db_->Get(rocksdb::ReadOptions(), store_.cfs_[keys::kIdempotency],
                           keys::Idempotency(origin, msg_id), &v);
  if (!s.ok() || !codec::Decode(v, &r) || Expired(r)) return std::nullopt;
  return r;
}

std::optional<MessageRecord> Reader::GetMessage(std::uint64_t seq) {
  std::string v;
  MessageRecord r;
  auto s = store_.db_->Get(rocksdb::ReadOptions(), store_.cfs_[keys::kMessages],
                           keys::Message(seq), &v);
  if (!s.ok() || !codec::Decode(v, &r)) return std::nullopt;
  return r;
}

std::vector<RecipientRecord> Reader::Recipients(std::uint64_t seq) {
  std::vector<RecipientRecord> out;
  std::string prefix = keys::RecipientPrefix(seq);
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), store_.cfs_[keys::kRecipients]));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    RecipientRecord r;
    if (codec::Decode(std::string_view(it->value().data(), it->value().size()), &r)) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

namespace {
bool ParseQueueKey(const rocksdb::Slice& key, std::size_t prefix_len, QueueEntryRecord* q) {
  std::string_view k(key.data(), key.size());
  if (k.size() != prefix_len + 1 + 8 + 8) return false;
  q->priority = static_cast<Priority>(static_cast<unsigned char>(k[prefix_len]));
  q->due_ms = static_cast<std::int64_t>(keys::ReadU64(k, prefix_len + 1) ^ (std::uint64_t{1} << 63));
  q->seq = keys::ReadU64(k, prefix_len + 9);
  return true;
}
}  // namespace

QueueSummary Reader::SummarizeQueue(const Address& recipient) {
  QueueSummary s;
  std::string prefix = keys::QueuePrefix(recipient);
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), store_.cfs_[keys::kQueue]));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    QueueEntryRecord q;
    if (!ParseQueueKey(it->key(), prefix.size(), &q)) continue;
    codec::Decode(std::string_view(it->value().data(), it->value().size()), &q);
    ++s.count;
    s.bytes += q.payload_bytes;
    auto p = static_cast<std::size_t>(q.priority);
    if (p < 3) ++s.by_priority[p];
    if (s.count == 1 || q.due_ms < s.oldest_due_ms) s.oldest_due_ms = q.due_ms;
  }
  return s;
}

std::vector<QueueEntryRecord> Reader::ListQueue(const Address& recipient, std::size_t limit) {
  std::vector<QueueEntryRecord> out;
  std::string prefix = keys::QueuePrefix(recipient);
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), store_.cfs_[keys::kQueue]));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix) && out.size() < limit;
       it->Next()) {
    QueueEntryRecord q;
    if (!ParseQueueKey(it->key(), prefix.size(), &q)) continue;
    codec::Decode(std::string_view(it->value().data(), it->value().size()), &q);
    q.recipient = recipient;
    out.push_back(std::move(q));
  }
  return out;
}

// --- Store ---

Store::Store(const StoreOptions& options, metrics::Registry* registry)
    : options_(options), metrics_(std::make_unique<Metrics>(registry)) {}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options,
                                           metrics::Registry* registry) {
  std::unique_ptr<Store> store(new Store(options, registry));
  Status st = store->OpenDb();
  if (!st.ok()) return st;
  if (!options.sync) {
    LOG_WARN("storage", "storage.sync=false: acknowledged messages can be lost on power failure");
  }
  store->writer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "store-writer");
    s->WriterLoop();
  });
  store->syncer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "store-sync");
    s->SyncLoop();
  });
  store->reader_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "store-reader");
    s->ReaderLoop();
  });
  return store;
}

Status Store::OpenDb() {
  std::error_code ec;
  std::filesystem::create_directories(options_.path, ec);
  if (ec) return Status::Unavailable("cannot create " + options_.path + ": " + ec.message());

  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.compression = rocksdb::kLZ4Compression;
  opts.bottommost_compression = rocksdb::kZSTD;
  opts.max_background_jobs = 2;
  opts.max_total_wal_size = 256u << 20;
  // One writer thread: the lock-free concurrent memtable insert path only costs us.
  opts.allow_concurrent_memtable_write = false;
  opts.enable_write_thread_adaptive_yield = false;
  // Crash consistency: recover up to the last intact record of the WAL; a torn tail write (kill -9
  // or power loss mid-append) is dropped, which never loses a synced (acknowledged) write.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  if (options_.env_for_testing != nullptr) opts.env = options_.env_for_testing;
  opts.info_log = std::make_shared<RocksLogger>();
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_opts(opts);
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Most idempotency lookups miss (a new msgId): a memtable bloom filter answers those without
  // walking the skiplists.
  cf_opts.memtable_whole_key_filtering = true;
  cf_opts.memtable_prefix_bloom_size_ratio = 0.02;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < keys::kCfCount; ++i) descriptors.emplace_back(keys::CfName(i), cf_opts);
  static IdempotencyExpiryFilter idempotency_filter;  // stateless, shared by every store
  descriptors[keys::kIdempotency].options.compaction_filter = &idempotency_filter;
  // Insert hints (memtable only; see QueueKeyPrefix): messages are keyed by a rising seq, so a
  // prefix of its high 4 bytes makes nearly every insert an append; queue entries by recipient.
  descriptors[keys::kMessages].options.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(4));
  descriptors[keys::kQueue].options.memtable_insert_with_hint_prefix_extractor =
      std::make_shared<QueueKeyPrefix>();
  rocksdb::DB* raw = nullptr;
  rocksdb::DBOptions db_opts(opts);
  rocksdb::Status s = rocksdb::DB::Open(db_opts, options_.path, descriptors, &cfs_, &raw);
  if (!s.ok()) return Status::Unavailable(RocksError("cannot open RocksDB", s));
  db_.reset(raw);

  std::string version;
  s = db_->Get(rocksdb::ReadOptions(), cfs_[keys::kMeta], std::string(keys::kFormatVersionKey),
               &version);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db_->Put(wo, cfs_[keys::kMeta], std::string(keys::kFormatVersionKey),
                 std::to_string(kCurrentFormatVersion));
    if (!s.ok()) return Status::Unavailable(RocksError("cannot write format version", s));
  } else if (!s.ok()) {
    return Status::Unavailable(RocksError("cannot read format version", s));
  } else {
    Status st = CheckFormatVersion(version, "storage.path " + options_.path);
    if (!st.ok()) return st;
  }

  // The sequence continues after the last stored message.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cfs_[keys::kMessages]));
  it->SeekToLast();
  if (it->Valid() && it->key().size() == 8) {
    next_seq_ = keys::ReadU64(std::string_view(it->key().data(), 8), 0) + 1;
  }
  std::string mark;
  if (db_->Get(rocksdb::ReadOptions(), cfs_[keys::kMeta], std::string(keys::kNextSeqKey), &mark)
          .ok() &&
      mark.size() == 8) {
    next_seq_ = std::max(next_seq_, keys::ReadU64(mark, 0));
  }
  persisted_seq_ = next_seq_;
  return Status::Ok();
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(smu_);
    sync_stopping_ = true;
  }
  scv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  {
    std::lock_guard<std::mutex> lock(rmu_);
    rstopping_ = true;
  }
  rcv_.notify_all();
  if (reader_.joinable()) reader_.join();
  if (db_) {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    cfs_.clear();
    db_->Close().PermitUncheckedError();  // closing after a failure may report it again
    db_.reset();
  }
}

void Store::Submit(Op fn, Done done, std::size_t bytes_hint, bool bounded) {
  if (failed_.load()) {
    if (done) done(Status::Unavailable("storage is refusing writes after a write failure"));
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (bounded && (queue_.size() >= options_.max_pending_ops ||
                    queued_bytes_ + bytes_hint > options_.max_pending_bytes)) {
      lock.unlock();
      metrics_->Rejected();
      if (done) done(Status::ResourceExhausted("storage write queue is full"));
      return;
    }
    queue_.push_back(Pending{std::move(fn), std::move(done), bytes_hint});
    queued_bytes_ += bytes_hint;
    metrics_->Pending(queue_.size());
  }
  cv_.notify_one();
}

void Store::Query(std::function<void(Reader&)> fn) {
  {
    std::lock_guard<std::mutex> lock(rmu_);
    rqueue_.push_back(std::move(fn));
  }
  rcv_.notify_one();
}

bool Store::SyncedAll() {
  std::lock_guard<std::mutex> lock(smu_);
  return unsynced_batches_ == 0;
}

std::size_t Store::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Store::Drain() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    drained_cv_.wait(lock, [this] { return queue_.empty() && !in_flight_ && SyncedAll(); });
  }
  std::unique_lock<std::mutex> lock(rmu_);
  rdrained_cv_.wait(lock, [this] { return rqueue_.empty() && !rbusy_; });
}

Status Store::CreateCheckpoint(const std::string& dir, std::uint64_t* sequence) {
  if (failed_.load()) return Status::Unavailable("storage is refusing writes after a write failure");
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return Status::Internal(RocksError("cannot start a checkpoint", s));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: flush the memtables first, so the copy is mostly table files (hard
  // links) and opens without a long WAL replay.
  s = checkpoint->CreateCheckpoint(dir, 0, sequence);
  if (!s.ok()) return Status::Unavailable(RocksError(("checkpoint into " + dir + " failed").c_str(), s));
  return Status::Ok();
}

Status Store::CompactAll() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : cfs_) {
    rocksdb::Status s = db_->CompactRange(o, cf, nullptr, nullptr);
    if (!s.ok()) return Status::Unavailable(RocksError("compaction failed", s));
  }
  return Status::Ok();
}

std::uint64_t Store::ApproximateIdempotencyKeys() const {
  std::uint64_t n = 0;
  db_->GetIntProperty(cfs_[keys::kIdempotency], "rocksdb.estimate-num-keys", &n);
  return n;
}

void Store::Fail(const Status& st) {
  if (!failed_.exchange(true)) {
    metrics_->WriteFailure();
    LOG_ERROR("storage", "write failed, refusing all further writes until restart: %s",
              st.message().c_str());
  }
}

void Store::WriterLoop() {
  std::vector<Pending> batch_ops;
  std::vector<Status> results;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Group commit: everything queued right now (up to the cap) shares one synced write. No
      // timer: under load the queue refills while we fsync, so batches grow by themselves.
      while (!queue_.empty() && batch_ops.size() < options_.max_batch_ops) {
        queued_bytes_ -= queue_.front().bytes;
        batch_ops.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = true;
      metrics_->Pending(queue_.size());
    }

    rocksdb::WriteBatch batch;
    Overlay overlay;
    results.assign(batch_ops.size(), Status::Ok());
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < batch_ops.size(); ++i) {
      if (failed_.load()) {
        results[i] = Status::Unavailable("storage is refusing writes after a write failure");
        continue;
      }
      batch.SetSavePoint();
      Txn txn(*this, batch, overlay);
      // No exception may leave the writer thread (it would end the process): an operation that
      // throws (bad_alloc) is refused and rolled back like one that returns an error.
      try {
        results[i] = batch_ops[i].fn(txn);
      } catch (const std::exception& e) {
        results[i] = Status::Internal(std::string("storage operation failed: ") + e.what());
      }
      if (!txn.read_error().ok()) {
        results[i] = txn.read_error();
        Fail(txn.read_error());
      }
      if (!results[i].ok()) {
        batch.RollbackToSavePoint().PermitUncheckedError();
        txn.Rollback();
      } else {
        batch.PopSavePoint().PermitUncheckedError();
        bytes += txn.bytes();
      }
    }

    bool wrote = false;
    if (batch.Count() > 0 && !failed_.load()) {
      if (next_seq_ != persisted_seq_) {
        std::string mark;
        keys::AppendU64(&mark, next_seq_);
        batch.Put(cfs_[keys::kMeta], std::string(keys::kNextSeqKey), mark);
      }
      // Written to the WAL and memtable now, made durable by the syncer: while it fsyncs, this
      // thread builds the next batch. Nothing is answered before the fsync that covers it.
      rocksdb::WriteOptions wo;
      wo.sync = false;
      std::unique_lock<std::mutex> wal(wal_mu_);
      rocksdb::Status s = db_->Write(wo, &batch);
      if (!s.ok()) {
        // Unknown outcome: the batch may or may not be on disk. Nothing in it is acknowledged;
        // idempotency by (origin, msgId) makes the client's retry after restart safe.
        Status st = Status::Unavailable(RocksError("batch write failed", s));
        Fail(st);
        for (auto& r : results) {
          if (r.ok()) r = st;
        }
      } else {
        persisted_seq_ = next_seq_;
        wrote = true;
      }
      wal.unlock();
    }

    {
      // At most kMaxUnsynced batches written ahead of the last fsync (bounded memory, and a
      // failed fsync fails at most that many batches besides its own).
      std::unique_lock<std::mutex> lock(smu_);
      scv_.wait(lock, [this] { return unsynced_batches_ < kMaxUnsynced; });
      unsynced_.push_back(Committed{std::move(batch_ops), std::move(results), bytes, wrote});
      ++unsynced_batches_;
    }
    scv_.notify_all();
    batch_ops.clear();
    results.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_ = false;
    }
    drained_cv_.notify_all();
  }
}

void Store::SyncLoop() {
  for (;;) {
    std::deque<Committed> work;
    {
      std::unique_lock<std::mutex> lock(smu_);
      scv_.wait(lock, [this] { return sync_stopping_ || !unsynced_.empty(); });
      if (unsynced_.empty()) return;
      work.swap(unsynced_);
    }
    // One fsync for everything written so far (group commit across batches). Batches that wrote
    // nothing still wait for it: their answers may rest on data written just before.
    Status st;
    std::size_t ops = 0, bytes = 0;
    bool wrote = false;
    for (const auto& c : work) {
      if (!c.wrote) continue;  // counted: operations made durable by this fsync
      ops += c.ops.size();
      bytes += c.bytes;
      wrote = true;
    }
    std::unique_lock<std::mutex> wal(wal_mu_);  // see wal_mu_: no SyncWAL after a failed write
    if (failed_.load()) {
      st = Status::Unavailable("storage is refusing writes after a write failure");
    } else if (wrote && options_.sync) {
      auto start = std::chrono::steady_clock::now();
      rocksdb::Status s = db_->SyncWAL();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!s.ok()) {
        st = Status::Unavailable(RocksError("WAL sync failed", s));
        Fail(st);
      } else {
        metrics_->Batch(ops, secs, bytes);
      }
    } else if (wrote) {
      metrics_->Batch(ops, 0, bytes);
    }
    wal.unlock();
    for (auto& c : work) {
      for (std::size_t i = 0; i < c.ops.size(); ++i) {
        Status r = c.results[i];
        if (r.ok() && !st.ok()) r = st;
        if (c.ops[i].done) c.ops[i].done(r);
      }
    }
    {
      std::lock_guard<std::mutex> lock(smu_);
      unsynced_batches_ -= work.size();
    }
    scv_.notify_all();
    {
      std::lock_guard<std::mutex> lock(mu_);
      drained_cv_.notify_all();
    }
  }
}

void Store::ReaderLoop() {
  Reader reader(*this);
  for (;;) {
    std::function<void(Reader&)> fn;
    {
      std::unique_lock<std::mutex> lock(rmu_);
      rbusy_ = false;
      if (rqueue_.empty()) rdrained_cv_.notify_all();
      rcv_.wait(lock, [this] { return rstopping_ || !rqueue_.empty(); });
      if (rqueue_.empty()) return;
      fn = std::move(rqueue_.front());
      rqueue_.pop_front();
      rbusy_ = true;
    }
    fn(reader);
  }
}

Result<RecoveredState> Store::Recover(
    const std::function<void(const QueueEntryRecord&)>& on_queue_entry) {
  auto start = std::chrono::steady_clock::now();
  RecoveredState out;
  auto scan = [&](int cf, auto&& fn) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[cf]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) fn(it->key(), it->value());
    return it->status();
  };
  auto view = [](const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); };
  // The registry kinds through the reader's scans, so that a restart loads what an admin list
  // shows.
  Reader reader(*this);
  Status listed = Status::Ok();
  auto take = [&listed](auto result, auto* into) {
    if (!listed.ok()) return;
    if (!result.ok()) {
      listed = result.status();
      return;
    }
    *into = std::move(*result);
  };
  take(reader.AsRegistrations(), &out.registrations);
  take(reader.Groups(), &out.groups);
  take(reader.TopicSubscriptions(), &out.topics);
  take(reader.RoutingRules(), &out.routing_rules);
  take(reader.ClientPolicies(), &out.client_policies);
  Result<UeRegistrationPage> ues = reader.UeRegistrations({}, ~std::size_t{0});
  if (listed.ok() && !ues.ok()) listed = ues.status();
  if (!listed.ok()) return Status::Unavailable("recovery scan failed: " + listed.message());
  out.ue_registrations = std::move(ues->ues);
  rocksdb::Status s = scan(keys::kQueue, [&](const rocksdb::Slice& k, const rocksdb::Slice& v) {
    std::string_view key = view(k);
    std::size_t at = 0;
    Address a;
    if (!keys::ReadAddress(key, &at, &a) || at >= key.size()) return;
    auto p = static_cast<std::size_t>(static_cast<unsigned char>(key[at]));
    if (p < 3) ++out.queue_entries_by_priority[p];
    QueueEntryRecord q;
    if (codec::Decode(view(v), &q)) out.queued_bytes += q.payload_bytes;
    if (on_queue_entry && ParseQueueKey(k, at, &q)) {
      q.recipient = std::move(a);
      on_queue_entry(q);
    }
  });
  if (s.ok()) {
    std::uint64_t n = 0;
    db_->GetIntProperty(cfs_[keys::kMessages], "rocksdb.estimate-num-keys", &n);
    out.messages = n;
    s = scan(keys::kSegmentSets, [&](const rocksdb::Slice&, const rocksdb::Slice& v) {
      SegmentSetRecord r;
      if (codec::Decode(view(v), &r)) out.open_segment_sets.push_back(std::move(r));
    });
  }
  if (!s.ok()) return Status::Unavailable(RocksError("recovery scan failed", s));
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace msgin5g::storage
