#include "daemon/restore_command.h"

#include <chrono>
#include <cstdio>

#include "storage/restore.h"

namespace msgin5g::daemon {

int RunRestore(const Config& cfg, const std::string& what) {
  std::string dir = what;
  if (what.find('/') == std::string::npos) {
    if (cfg.storage_backup_dir.empty()) {
      std::fprintf(stderr,
                   "msgin5gd: --restore %s: storage.backup_dir is empty; give the backup's "
                   "directory path\n",
                   what.c_str());
      return 66;
    }
    dir = cfg.storage_backup_dir + "/" + what;
  }
  const auto start = std::chrono::steady_clock::now();
  // Progress lines on stderr (stdout carries the one-line result): msgin5gctl restore reads them
  // for its progress bar, so their form is fixed (docs/operations.md).
  auto r = storage::RestoreBackup(dir, cfg.storage_path, [](const storage::RestoreProgress& p) {
    if (p.verifying) {
      std::fprintf(stderr, "restore: verifying checksums\n");
    } else {
      std::fprintf(stderr, "restore: copied %zu of %zu files, %llu of %llu bytes\n", p.files_done,
                   p.files_total, static_cast<unsigned long long>(p.bytes_done),
                   static_cast<unsigned long long>(p.bytes_total));
    }
  });
  if (!r.ok()) {
    std::fprintf(stderr, "msgin5gd: restore failed, %s left as it was: %s\n",
                 cfg.storage_path.c_str(), r.status().message().c_str());
    switch (r.status().code()) {
      case StatusCode::kCorruption: return 65;  // EX_DATAERR
      case StatusCode::kNotFound: return 66;    // EX_NOINPUT
      case StatusCode::kConflict: return 73;    // EX_CANTCREAT
      default: return 74;                       // EX_IOERR
    }
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf(
      "restored backup %s into %s: %zu files, %llu bytes, data format %d, sequence %llu, "
      "verified in %lld ms\n",
      dir.c_str(), cfg.storage_path.c_str(), r->files.size(),
      static_cast<unsigned long long>(r->bytes), r->format_version,
      static_cast<unsigned long long>(r->sequence), static_cast<long long>(ms));
  return 0;
}

}  // namespace msgin5g::daemon
