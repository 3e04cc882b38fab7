// A RocksDB file system whose file syncs fail once `failing` is set (fault injection for the
// storage and broker unit tests: a failed WAL fsync, as a dying disk gives).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace msgin5g::testing_support {

class FailingSyncFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingSyncFile(std::unique_ptr<rocksdb::FSWritableFile> f, const std::atomic<bool>* failing,
                  std::atomic<int>* failures)
      : FSWritableFileOwnerWrapper(std::move(f)), failing_(failing), failures_(failures) {}

  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (Fail()) return rocksdb::IOStatus::IOError("injected Sync failure");
    return FSWritableFileOwnerWrapper::Sync(o, d);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (Fail()) return rocksdb::IOStatus::IOError("injected Fsync failure");
    return FSWritableFileOwnerWrapper::Fsync(o, d);
  }
  rocksdb::IOStatus RangeSync(std::uint64_t offset, std::uint64_t nbytes,
                              const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (Fail()) return rocksdb::IOStatus::IOError("injected RangeSync failure");
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, o, d);
  }

 private:
  bool Fail() {
    if (!failing_->load()) return false;
    failures_->fetch_add(1);
    return true;
  }
  const std::atomic<bool>* failing_;
  std::atomic<int>* failures_;
};

class FailingSyncFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingSyncFs(const std::shared_ptr<rocksdb::FileSystem>& base)
      : FileSystemWrapper(base) {}
  const char* Name() const override { return "msgin5g-test-FailingSyncFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, d);
    if (s.ok()) Wrap(r);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, d);
    if (s.ok()) Wrap(r);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->ReuseWritableFile(f, old, o, r, d);
    if (s.ok()) Wrap(r);
    return s;
  }

  std::atomic<bool> failing{false};
  std::atomic<int> failures{0};

 private:
  void Wrap(std::unique_ptr<rocksdb::FSWritableFile>* r) {
    *r = std::make_unique<FailingSyncFile>(std::move(*r), &failing, &failures);
  }
};

}  // namespace msgin5g::testing_support
