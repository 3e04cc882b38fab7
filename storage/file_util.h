// File operations that backups and restores need to be crash-safe: content hashed while it is
// read, data fsync'd before it is renamed into place, directories fsync'd after entries change.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace msgin5g::storage {

// SHA-256 of the file's content, lowercase hex; `bytes` gets its size.
Result<std::string> Sha256File(const std::string& path, std::uint64_t* bytes = nullptr);

// Copies `from` to `to` (created, mode 0600, must not exist), fsyncs it and returns the SHA-256
// of what was copied. `bytes` gets the size.
Result<std::string> CopyFileSynced(const std::string& from, const std::string& to,
                                   std::uint64_t* bytes = nullptr);

// Writes `content` to `path` through `path.tmp` + fsync + rename + fsync of the directory: after a
// crash the file is either absent or whole.
Status WriteFileAtomically(const std::string& path, const std::string& content);

// fsync of a directory, making renames and new entries in it durable.
Status SyncDirectory(const std::string& dir);

}  // namespace msgin5g::storage
