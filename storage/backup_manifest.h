// A backup directory's table of contents, `msgin5g-backup.json`: what was copied, how big each
// file is and its SHA-256, the data format version and when it was taken. Written last (and
// atomically), so a directory with a manifest is a complete backup; restore checks every file
// against it before anything is put into place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace msgin5g::storage {

inline constexpr std::string_view kManifestFile = "msgin5g-backup.json";

struct BackupFile {
  std::string name;  // a plain file name: backups are flat, like RocksDB's directory
  std::uint64_t bytes = 0;
  std::string sha256;  // lowercase hex
};

struct BackupManifest {
  std::string name;       // the backup's directory name
  std::string directory;  // its full path (not stored: where it was read or written)
  int format_version = 0;
  std::uint64_t sequence = 0;  // RocksDB's sequence number of the copy
  std::int64_t created_ms = 0;
  std::int64_t took_ms = 0;
  std::vector<BackupFile> files;
  std::uint64_t bytes = 0;  // sum of the files
};

// Hashes every regular file in `dir` (the manifest aside), fills m->files and m->bytes and writes
// the manifest atomically.
Status WriteManifest(const std::string& dir, BackupManifest* m);

// Reads and checks the shape of `dir`'s manifest (file names flat, hashes 64 hex digits).
// NotFound when there is none (not a backup, or one cut short), Corruption when it is unreadable.
Result<BackupManifest> ReadManifest(const std::string& dir);

// True for a name a backup may have: 1..128 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool ValidBackupName(std::string_view name);

}  // namespace msgin5g::storage
