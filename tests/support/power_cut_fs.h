// A RocksDB file system that can lose power. It passes every operation through to the real file
// system and keeps, per file, what has been made durable: the size at the last Sync/Fsync, and
// whether the file's directory entry (its creation, or the rename that gave it its name) has been
// fsync'd with its directory. At a fault it stops taking writes; DropUnsynced then makes the disk
// look as it would after a power cut: each file cut back to its synced size, files whose entry
// was never made durable removed, unsynced renames undone.
//
// Faults (sticky from the moment they are set, as a dying disk behaves):
//   kPowerCut   every mutating call fails (nothing written after this moment reaches the disk)
//   kSyncError  file and directory syncs fail with an I/O error; writes still "succeed"
//   kNoSpace    appends and new files fail with ENOSPC; syncs of what was written still work
//
// Simplifications, each erring on the side of keeping data (so a loss found is a real one):
// deleted files stay deleted (a real power cut could bring back an unsynced delete); a rename
// over an existing file larger than 1 MiB is taken as durable at once.
//
// Threads: any (RocksDB calls from its own threads); one mutex guards the bookkeeping.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <rocksdb/file_system.h>

namespace msgin5g::testing_support {

class PowerCutFs : public rocksdb::FileSystemWrapper {
 public:
  enum class Fault { kNone, kPowerCut, kSyncError, kNoSpace };

  explicit PowerCutFs(const std::shared_ptr<rocksdb::FileSystem>& base);
  const char* Name() const override { return "msgin5g-test-PowerCutFs"; }

  void SetFault(Fault f) { fault_.store(f); }
  Fault fault() const { return fault_.load(); }
  // Calls refused because of the fault so far.
  int refusals() const { return refusals_.load(); }

  // After the database is closed: what a power cut at the fault (or now) leaves on disk.
  // Returns how many files were cut, removed or restored.
  int DropUnsynced();

  // --- rocksdb::FileSystem ---
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override;

  // For the wrapped files and directories.
  enum class Op { kAppend, kSync, kCreate, kDirSync, kOther };
  // The error the current fault gives `op`, or OK.
  rocksdb::IOStatus Check(Op op);
  void Appended(const std::string& path, std::uint64_t size);
  void Synced(const std::string& path, std::uint64_t size);
  void DirectorySynced(const std::string& dir);

 private:
  struct FileState {
    std::uint64_t size = 0;         // bytes written through us
    std::uint64_t synced = 0;       // durable bytes
    bool entry_durable = false;     // its name survives a power cut
    // The file this name held before an unsynced rename over it (restored at a cut).
    std::optional<std::string> replaced_content;
    bool replaced_existed = false;
  };
  static std::string Normal(const std::string& path);
  static std::string DirOf(const std::string& path);
  void Track(const std::string& path, bool truncated);
  void Wrap(const std::string& path, std::unique_ptr<rocksdb::FSWritableFile>* r);

  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> refusals_{0};
  std::mutex mu_;
  std::map<std::string, FileState> files_;  // by normalised path
};

}  // namespace msgin5g::testing_support
