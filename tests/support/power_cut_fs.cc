#include "tests/support/power_cut_fs.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace msgin5g::testing_support {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

constexpr std::uint64_t kMaxRestoredBytes = 1 << 20;

// A writable file that reports what it wrote and synced to the file system, and refuses what
// the fault forbids.
class PowerCutFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  PowerCutFile(std::unique_ptr<rocksdb::FSWritableFile> f, PowerCutFs* fs, std::string path,
               std::uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), path_(std::move(path)), size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kAppend); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::Append(data, o, d);
    if (s.ok()) Grew(size_ + data.size());
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& v, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kAppend); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::Append(data, o, v, d);
    if (s.ok()) Grew(size_ + data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, std::uint64_t offset, const IOOptions& o,
                            IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kAppend); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, d);
    if (s.ok()) Grew(std::max(size_, offset + data.size()));
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, std::uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& v, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kAppend); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, v, d);
    if (s.ok()) Grew(std::max(size_, offset + data.size()));
    return s;
  }
  IOStatus Truncate(std::uint64_t size, const IOOptions& o, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kOther); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::Truncate(size, o, d);
    if (s.ok()) Grew(size);
    return s;
  }
  IOStatus Flush(const IOOptions& o, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kOther); !refused.ok()) return refused;
    return FSWritableFileOwnerWrapper::Flush(o, d);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kSync); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::Sync(o, d);
    if (s.ok()) fs_->Synced(path_, size_);
    return s;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kSync); !refused.ok()) return refused;
    IOStatus s = FSWritableFileOwnerWrapper::Fsync(o, d);
    if (s.ok()) fs_->Synced(path_, size_);
    return s;
  }
  // sync_file_range: data on its way, nothing promised (no metadata): not counted as durable.
  IOStatus RangeSync(std::uint64_t offset, std::uint64_t nbytes, const IOOptions& o,
                     IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kSync); !refused.ok()) return refused;
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, o, d);
  }
  IOStatus Close(const IOOptions& o, IODebugContext* d) override {
    // The descriptor is released by the owned file's destructor either way.
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kOther); !refused.ok()) return refused;
    return FSWritableFileOwnerWrapper::Close(o, d);
  }

 private:
  void Grew(std::uint64_t size) {
    size_ = size;
    fs_->Appended(path_, size_);
  }
  PowerCutFs* fs_;
  std::string path_;
  std::uint64_t size_;
};

class PowerCutDir : public rocksdb::FSDirectoryWrapper {
 public:
  PowerCutDir(std::unique_ptr<rocksdb::FSDirectory> d, PowerCutFs* fs, std::string path)
      : FSDirectoryWrapper(std::move(d)), fs_(fs), path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kDirSync); !refused.ok()) return refused;
    IOStatus s = FSDirectoryWrapper::Fsync(o, d);
    if (s.ok()) fs_->DirectorySynced(path_);
    return s;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* d,
                               const rocksdb::DirFsyncOptions& opts) override {
    if (IOStatus refused = fs_->Check(PowerCutFs::Op::kDirSync); !refused.ok()) return refused;
    IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(o, d, opts);
    if (s.ok()) fs_->DirectorySynced(path_);
    return s;
  }

 private:
  PowerCutFs* fs_;
  std::string path_;
};

}  // namespace

PowerCutFs::PowerCutFs(const std::shared_ptr<rocksdb::FileSystem>& base)
    : FileSystemWrapper(base) {}

std::string PowerCutFs::Normal(const std::string& path) {
  std::string n = std::filesystem::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

std::string PowerCutFs::DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : slash == 0 ? "/" : path.substr(0, slash);
}

IOStatus PowerCutFs::Check(Op op) {
  IOStatus s;
  switch (fault_.load()) {
    case Fault::kNone:
      break;
    case Fault::kPowerCut:
      s = IOStatus::IOError("power cut (injected)");
      break;
    case Fault::kSyncError:
      if (op == Op::kSync || op == Op::kDirSync) s = IOStatus::IOError("fsync failed (injected)");
      break;
    case Fault::kNoSpace:
      if (op == Op::kAppend || op == Op::kCreate) s = IOStatus::NoSpace("no space left (injected)");
      break;
  }
  if (!s.ok()) refusals_.fetch_add(1);
  return s;
}

void PowerCutFs::Track(const std::string& path, bool truncated) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it != files_.end()) {
    if (truncated) it->second.size = it->second.synced = 0;
    return;
  }
  FileState st;
  std::uint64_t size = 0;
  const bool existed = target()->GetFileSize(path, IOOptions(), &size, nullptr).ok();
  // A file that was there before we saw it is durable as it is (written by an earlier run).
  st.entry_durable = existed;
  st.size = st.synced = truncated ? 0 : size;
  files_.emplace(path, st);
}

void PowerCutFs::Wrap(const std::string& path, std::unique_ptr<rocksdb::FSWritableFile>* r) {
  std::uint64_t size = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size = files_[path].size;
  }
  *r = std::make_unique<PowerCutFile>(std::move(*r), this, path, size);
}

void PowerCutFs::Appended(const std::string& path, std::uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path].size = size;
}

void PowerCutFs::Synced(const std::string& path, std::uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& st = files_[path];
  st.synced = std::max(st.synced, size);
}

void PowerCutFs::DirectorySynced(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [path, st] : files_) {
    if (DirOf(path) != dir) continue;
    st.entry_durable = true;
    st.replaced_content.reset();
  }
}

IOStatus PowerCutFs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                     std::unique_ptr<rocksdb::FSWritableFile>* r,
                                     IODebugContext* d) {
  if (IOStatus refused = Check(Op::kCreate); !refused.ok()) return refused;
  const std::string path = Normal(f);
  Track(path, /*truncated=*/true);
  IOStatus s = target()->NewWritableFile(f, o, r, d);
  if (s.ok()) Wrap(path, r);
  return s;
}

IOStatus PowerCutFs::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSWritableFile>* r,
                                        IODebugContext* d) {
  if (IOStatus refused = Check(Op::kCreate); !refused.ok()) return refused;
  const std::string path = Normal(f);
  Track(path, /*truncated=*/false);
  IOStatus s = target()->ReopenWritableFile(f, o, r, d);
  if (s.ok()) Wrap(path, r);
  return s;
}

IOStatus PowerCutFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                       const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       IODebugContext* d) {
  if (IOStatus refused = Check(Op::kCreate); !refused.ok()) return refused;
  IOStatus s = target()->ReuseWritableFile(f, old, o, r, d);
  if (!s.ok()) return s;
  const std::string path = Normal(f);
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(Normal(old));
    FileState st;  // a new name over rewritten content: nothing durable yet
    files_[path] = st;
  }
  Wrap(path, r);
  return s;
}

IOStatus PowerCutFs::NewDirectory(const std::string& name, const IOOptions& o,
                                  std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* d) {
  IOStatus s = target()->NewDirectory(name, o, r, d);
  if (s.ok()) *r = std::make_unique<PowerCutDir>(std::move(*r), this, Normal(name));
  return s;
}

IOStatus PowerCutFs::RenameFile(const std::string& src, const std::string& dst,
                                const IOOptions& o, IODebugContext* d) {
  if (IOStatus refused = Check(Op::kOther); !refused.ok()) return refused;
  const std::string from = Normal(src), to = Normal(dst);
  FileState moved;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = files_.find(from); it != files_.end()) {
      moved = it->second;
    } else {
      std::uint64_t size = 0;
      target()->GetFileSize(from, IOOptions(), &size, nullptr);
      moved.size = moved.synced = size;
    }
    moved.entry_durable = false;
    moved.replaced_content.reset();
    moved.replaced_existed = false;
    // What the destination name held, if that was durable: a cut brings it back.
    auto old = files_.find(to);
    const bool old_durable = old == files_.end() || old->second.entry_durable;
    std::uint64_t old_size = 0;
    if (old_durable && target()->GetFileSize(to, IOOptions(), &old_size, nullptr).ok()) {
      if (old_size > kMaxRestoredBytes) {
        moved.entry_durable = true;  // too big to keep a copy of: taken as durable
      } else {
        std::ifstream in(to, std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        std::string bytes = content.str();
        if (old != files_.end()) bytes.resize(std::min<std::uint64_t>(bytes.size(), old->second.synced));
        moved.replaced_content = std::move(bytes);
        moved.replaced_existed = true;
      }
    } else if (old != files_.end() && old->second.replaced_content) {
      moved.replaced_content = old->second.replaced_content;  // a rename over an unsynced rename
      moved.replaced_existed = true;
    }
  }
  IOStatus s = target()->RenameFile(src, dst, o, d);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(from);
  files_[to] = moved;
  return s;
}

IOStatus PowerCutFs::DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* d) {
  if (IOStatus refused = Check(Op::kOther); !refused.ok()) return refused;
  IOStatus s = target()->DeleteFile(f, o, d);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(Normal(f));
  }
  return s;
}

IOStatus PowerCutFs::LinkFile(const std::string& src, const std::string& dst, const IOOptions& o,
                              IODebugContext* d) {
  if (IOStatus refused = Check(Op::kOther); !refused.ok()) return refused;
  IOStatus s = target()->LinkFile(src, dst, o, d);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    FileState st;
    if (auto it = files_.find(Normal(src)); it != files_.end()) st = it->second;
    st.entry_durable = false;
    st.replaced_content.reset();
    files_[Normal(dst)] = st;
  }
  return s;
}

int PowerCutFs::DropUnsynced() {
  std::lock_guard<std::mutex> lock(mu_);
  int changed = 0;
  for (const auto& [path, st] : files_) {
    std::error_code ec;
    if (!st.entry_durable) {
      if (st.replaced_content) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << *st.replaced_content;
      } else {
        std::filesystem::remove(path, ec);
      }
      ++changed;
    } else if (st.size > st.synced) {
      if (::truncate(path.c_str(), static_cast<off_t>(st.synced)) == 0) ++changed;
    }
  }
  files_.clear();
  fault_.store(Fault::kNone);
  return changed;
}

}  // namespace msgin5g::testing_support
