// msgin5gd --restore NAME|DIR: the offline half of backup and restore. Puts a backup taken by
// POST /admin/v1/backups into storage.path, which must be missing or empty, verifying every file
// and the store itself first (storage/restore.h); then exits. NAME is a backup under
// storage.backup_dir; anything with a '/' is a directory path.
#pragma once

#include <string>

#include "daemon/config.h"

namespace msgin5g::daemon {

// Exit codes: 0 restored, 65 the backup is damaged or of another data format, 66 no backup there,
// 73 storage.path is not empty, 74 I/O error. One line on stdout (success) or stderr (failure).
int RunRestore(const Config& cfg, const std::string& what);

}  // namespace msgin5g::daemon
