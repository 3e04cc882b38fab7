#include "gateway/store.h"

#include <pthread.h>

#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "common/logging.h"
#include "storage/rocks_logger.h"

namespace msgin5g::gateway {

std::size_t Batch::bytes() const {
  std::size_t n = 0;
  for (const auto& op : ops_) n += op.key.size() + op.value.size() + 16;
  return n;
}

Result<std::unique_ptr<Store>> Store::Open(const Options& options) {
  std::unique_ptr<Store> store(new Store(options));
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::Unavailable("cannot create " + options.path + ": " + ec.message());
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.compression = rocksdb::kLZ4Compression;
  opts.max_background_jobs = 2;
  opts.max_total_wal_size = 64u << 20;
  // kill -9 or power loss mid-append: recover to the last intact WAL record (never loses a synced
  // write).
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  opts.info_log = std::make_shared<storage::RocksLogger>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, options.path, &raw);
  if (!s.ok()) return Status::Unavailable("cannot open RocksDB at " + options.path + ": " + s.ToString());
  store->db_.reset(raw);
  if (!options.sync) {
    LOG_WARN("store", "storage.sync=false: accepted messages can be lost on power failure");
  }
  store->writer_ = std::thread([st = store.get()] {
    pthread_setname_np(pthread_self(), "gw-store");
    st->WriterLoop();
  });
  return store;
}

Store::Store(Options o) : options_(std::move(o)) {}

Store::~Store() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void Store::Write(Batch batch, std::function<void(Status)> done) {
  const std::size_t bytes = batch.bytes();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failed_.load()) {
      done(Status::Unavailable("storage failed; restart the gateway"));
      return;
    }
    if (stopping_) {
      done(Status::Unavailable("the gateway is stopping"));
      return;
    }
    if (pending_.size() >= options_.max_pending_batches ||
        pending_bytes_ + bytes > options_.max_pending_bytes) {
      done(Status::ResourceExhausted("storage writer queue is full"));
      return;
    }
    pending_bytes_ += bytes;
    pending_.push_back({std::move(batch), std::move(done)});
  }
  cv_.notify_one();
}

void Store::WriterLoop() {
  for (;;) {
    std::deque<Pending> work;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left
      // Group commit: everything queued meanwhile shares this write and its fsync.
      work.swap(pending_);
      pending_bytes_ = 0;
    }
    rocksdb::WriteBatch wb;
    std::size_t bytes = 0;
    for (auto& p : work) {
      for (auto& op : p.batch.ops_) {
        bytes += op.key.size() + op.value.size();
        if (op.del) {
          wb.Delete(op.key);
        } else {
          wb.Put(op.key, op.value);
        }
      }
    }
    Status st;
    if (failed_.load()) {
      st = Status::Unavailable("storage failed; restart the gateway");
    } else if (wb.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      rocksdb::Status s = db_->Write(wo, &wb);
      if (!s.ok()) {
        failed_.store(true);
        LOG_ERROR("store", "write failed, refusing all further writes: %s", s.ToString().c_str());
        st = Status::Unavailable("storage write failed: " + s.ToString());
      } else {
        bytes_written_.fetch_add(bytes);
        syncs_.fetch_add(1);
      }
    }
    for (auto& p : work) p.done(st);
  }
}

std::optional<std::string> Store::Get(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (!s.ok()) return std::nullopt;
  return value;
}

std::vector<std::pair<std::string, std::string>> Store::Scan(std::string_view prefix,
                                                             std::size_t limit,
                                                             std::string_view after) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  if (after.empty()) {
    it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  } else {
    it->Seek(rocksdb::Slice(after.data(), after.size()));
    if (it->Valid() && it->key().ToStringView() == after) it->Next();
  }
  for (; it->Valid() && out.size() < limit; it->Next()) {
    std::string_view k = it->key().ToStringView();
    if (k.substr(0, prefix.size()) != prefix) break;
    out.emplace_back(std::string(k), it->value().ToString());
  }
  return out;
}

}  // namespace msgin5g::gateway
