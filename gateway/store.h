// The gateway's durable state on RocksDB: one key space per record kind (prefixes, see
// gateway/records.h), written through a group-commit writer.
//
// Durability contract (as msgin5gd's): Write's `done` is called with OK only after the WriteBatch
// holding its changes was written with sync=true (WAL fsync'd), unless `sync` is false (a
// benchmark setting that logs a warning). Batches submitted meanwhile share one write and one
// fsync. Reads (Get, Scan) see committed data, from any thread. Nothing here blocks the caller
// on disk: Write queues (bounded; beyond, done(ResourceExhausted) at once) and returns.
//
// Failure: a failed write is sticky (as leveldb's background error): every later Write gets
// Unavailable and healthy() turns false; the operator restarts.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rocksdb {
class DB;
}

namespace msgin5g::gateway {

// Puts and deletes applied together, atomically.
class Batch {
 public:
  void Put(std::string key, std::string value) { ops_.push_back({std::move(key), std::move(value), false}); }
  void Delete(std::string key) { ops_.push_back({std::move(key), {}, true}); }
  bool empty() const { return ops_.empty(); }
  std::size_t bytes() const;

 private:
  friend class Store;
  struct Op {
    std::string key, value;
    bool del;
  };
  std::vector<Op> ops_;
};

class Store {
 public:
  struct Options {
    std::string path;
    bool sync = true;
    std::size_t max_pending_batches = 65536;
    std::size_t max_pending_bytes = 256u << 20;
  };
  static Result<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();  // finishes queued writes, then closes

  // `done` runs on the writer thread: keep it short, post elsewhere for more.
  void Write(Batch batch, std::function<void(Status)> done);
  std::optional<std::string> Get(std::string_view key) const;
  // Every (key, value) whose key starts with `prefix`, in key order, at most `limit`, starting
  // after `after` when given (for paging).
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix, std::size_t limit,
                                                        std::string_view after = {}) const;
  bool healthy() const { return !failed_.load(); }
  std::uint64_t bytes_written() const { return bytes_written_.load(); }
  std::uint64_t syncs() const { return syncs_.load(); }

 private:
  explicit Store(Options o);
  void WriterLoop();

  struct Pending {
    Batch batch;
    std::function<void(Status)> done;
  };
  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;
  std::size_t pending_bytes_ = 0;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> bytes_written_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::thread writer_;
};

}  // namespace msgin5g::gateway
