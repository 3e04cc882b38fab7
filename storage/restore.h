// Offline restore of a backup (backup_service.h) into an empty data directory, verified end to
// end before it is put into place:
//  1. the manifest is read; the target must be missing or an empty directory;
//  2. every listed file is copied into {target}.restoring, hashed as it is read and fsync'd; a size
//     or SHA-256 that differs from the manifest stops the restore;
//  3. the copy is opened read-only with RocksDB: its data format version must be this build's and
//     every table block must pass its checksum (DB::VerifyChecksum);
//  4. {target}.restoring is renamed to the target and the parent directory fsync'd.
// A failure at any step leaves the target as it was. The daemon must not be running on the target
// (it would not be empty anyway: the daemon's pid file lives there).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "storage/backup_manifest.h"

namespace msgin5g::storage {

// Where a restore is, for a progress display: after each copied file, then once before the
// checksum pass (which reads every table again: for a large store it takes as long as the copy).
struct RestoreProgress {
  std::size_t files_done = 0;
  std::size_t files_total = 0;
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  bool verifying = false;
};

// Errors: NotFound (no backup there), Conflict (target not empty), Corruption (a file differs from
// the manifest, a checksum fails, or the format version is not this build's), Unavailable (I/O).
// `progress`, when set, is called on the calling thread.
Result<BackupManifest> RestoreBackup(
    const std::string& backup_dir, const std::string& target,
    const std::function<void(const RestoreProgress&)>& progress = nullptr);

}  // namespace msgin5g::storage
