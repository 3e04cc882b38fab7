#include "storage/restore.h"

#include <filesystem>
#include <memory>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "storage/file_util.h"
#include "storage/format_version.h"
#include "storage/keys.h"

namespace msgin5g::storage {
namespace fs = std::filesystem;

namespace {

// Opens `dir` read-only, checks its format version and every block checksum.
Status VerifyStore(const std::string& dir) {
  rocksdb::DBOptions db_opts;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_opts, dir, &names);
  if (!s.ok()) {
    return Status(StatusCode::kCorruption, "the restored copy is not a RocksDB store: " + s.ToString());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(db_opts, dir, cfs, &handles, &raw);
  if (!s.ok()) {
    return Status(StatusCode::kCorruption, "the restored copy does not open: " + s.ToString());
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  Status result;
  std::string version;
  s = db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), std::string(keys::kFormatVersionKey),
              &version);
  if (!s.ok()) {
    result = Status(StatusCode::kCorruption,
                    "the restored copy has no data format version: " + s.ToString());
  } else {
    result = CheckFormatVersion(version, "the backup");
  }
  if (result.ok()) {
    s = db->VerifyChecksum();
    if (!s.ok()) {
      result = Status(StatusCode::kCorruption, "the restored copy fails its checksums: " + s.ToString());
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db->Close().PermitUncheckedError();
  return result;
}

}  // namespace

Result<BackupManifest> RestoreBackup(const std::string& backup_dir, const std::string& target_in,
                                     const std::function<void(const RestoreProgress&)>& progress) {
  // "dir/" and "dir" are one target; the staging directory must be its sibling, not its child.
  std::string target = fs::path(target_in).lexically_normal().string();
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  auto manifest = ReadManifest(backup_dir);
  if (!manifest.ok()) return manifest.status();
  if (manifest->format_version != kCurrentFormatVersion) {
    Status st = CheckFormatVersion(std::to_string(manifest->format_version), "backup " + backup_dir);
    if (!st.ok()) return st;
  }

  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec) || !fs::is_empty(target, ec)) {
      return Status::Conflict("storage.path " + target +
                              " is not empty: a restore goes into a new or empty directory (move "
                              "the old one aside; is msgin5gd still running on it?)");
    }
  }
  const std::string staging = target + ".restoring";
  fs::remove_all(staging, ec);  // a restore that was cut short: ours, never a live store
  fs::create_directories(staging, ec);
  if (ec) return Status::Unavailable("cannot create " + staging + ": " + ec.message());
  auto fail = [&](Status st) -> Result<BackupManifest> {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    return st;
  };

  RestoreProgress where;
  where.files_total = manifest->files.size();
  for (const auto& f : manifest->files) where.bytes_total += f.bytes;
  for (const auto& f : manifest->files) {
    std::uint64_t bytes = 0;
    auto hash = CopyFileSynced(backup_dir + "/" + f.name, staging + "/" + f.name, &bytes);
    if (!hash.ok()) return fail(hash.status());
    if (bytes != f.bytes || *hash != f.sha256) {
      return fail(Status(StatusCode::kCorruption,
                         "backup " + backup_dir + ": " + f.name + " differs from the manifest (" +
                             std::to_string(bytes) + " bytes, expected " +
                             std::to_string(f.bytes) + "; SHA-256 " +
                             (*hash == f.sha256 ? "matches" : "differs") + ")"));
    }
    ++where.files_done;
    where.bytes_done += bytes;
    if (progress) progress(where);
  }
  Status st = SyncDirectory(staging);
  if (!st.ok()) return fail(st);
  where.verifying = true;
  if (progress) progress(where);
  st = VerifyStore(staging);
  if (!st.ok()) return fail(st);
  if (fs::exists(target, ec)) fs::remove(target, ec);  // the empty directory checked above
  fs::rename(staging, target, ec);
  if (ec) return fail(Status::Unavailable("cannot rename " + staging + " to " + target + ": " + ec.message()));
  fs::path parent = fs::absolute(target, ec).parent_path();
  st = SyncDirectory(parent.string());
  if (!st.ok()) return st;
  return manifest;
}

}  // namespace msgin5g::storage
