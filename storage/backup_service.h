// Online backups of the store, taken while it serves traffic, one at a time, on a thread of their
// own (a backup flushes, links or copies and hashes files: seconds to minutes).
//
// A backup is a directory {root}/{name}: a RocksDB checkpoint of the store (hard links to its
// table files when root is on the same filesystem), copies of the `extra_files` that exist (the
// token signing key), and last the manifest (backup_manifest.h). It is built as
// {root}/.partial-{name} and renamed into place once complete, so a crash or failure mid-way leaves
// no directory that looks like a backup; leftovers are removed when the service starts.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "metrics/registry.h"
#include "storage/backup_manifest.h"

namespace msgin5g::storage {

class Store;

struct BackupOptions {
  std::string root;                      // where backups go (created if missing)
  std::vector<std::string> extra_files;  // full paths, copied when present
};

class BackupService {
 public:
  // `store` must outlive the service.
  BackupService(Store& store, BackupOptions options, metrics::Registry* metrics);
  ~BackupService();  // waits for the job in progress

  // Takes backup `name` (ValidBackupName). `done` runs on the backup thread with the manifest, or
  // InvalidArgument (name), Conflict (the name exists), RateLimited (another backup is queued or
  // in progress; retry when it is done),
  // Unavailable (checkpoint or file error; nothing is left behind).
  void Create(std::string name, std::function<void(Result<BackupManifest>)> done);

  // The complete backups under root, oldest first. `done` runs on the backup thread (after a
  // backup in progress).
  void List(std::function<void(Result<std::vector<BackupManifest>>)> done);

  const std::string& root() const { return options_.root; }

 private:
  class Metrics;
  Result<BackupManifest> Take(const std::string& name);
  void Loop();

  Store& store_;
  BackupOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::string creating_;  // the backup queued or in progress; empty when none
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace msgin5g::storage
