// The data directory (storage.path) before RocksDB opens it: private to the daemon's user, and
// held by one daemon at a time (msgin5gd and msgin5g-gatewayd alike).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace msgin5g::daemon {

// A write lock (fcntl) on {storage.path}/{owner}.pid (msgin5gd.pid, msgin5g-gatewayd.pid), which holds the holder's pid, for as long
// as this object lives. The file is left behind on exit (removing it would race with the next
// start); the lock, not the file, says whether a daemon runs.
class DataDirLock {
 public:
  DataDirLock() = default;
  explicit DataDirLock(int fd) : fd_(fd) {}
  DataDirLock(DataDirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& o) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  int fd_ = -1;
};

struct PreparedDataDir {
  DataDirLock lock;
  // What was made private ("DIR: mode 0755 -> 0700"), to be logged as a warning.
  std::vector<std::string> tightened;
};

// Creates `path` (mode 0700) if missing; if it exists with group or other permission bits, clears
// them on the directory and on the files directly in it (RocksDB's layout is flat); then locks it.
// Errors: kConflict "storage.path DIR is in use by another OWNER (pid N)" when another process
// holds the lock; kUnavailable when the directory cannot be created, made private or locked.
// `owner`: the daemon's name, which names the pid file.
Result<PreparedDataDir> PrepareDataDir(const std::string& path, const std::string& owner = "msgin5gd");

}  // namespace msgin5g::daemon
