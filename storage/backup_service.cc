#include "storage/backup_service.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "common/logging.h"
#include "storage/file_util.h"
#include "storage/format_version.h"
#include "storage/store.h"

namespace msgin5g::storage {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPartialPrefix = ".partial-";
constexpr std::size_t kMaxJobs = 16;  // Create and List requests waiting: past it, refused

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class BackupService::Metrics {
 public:
  explicit Metrics(metrics::Registry* r) {
    if (r == nullptr) return;
    auto& family = prometheus::BuildCounter()
                       .Name("msgin5g_backups_total")
                       .Help("Online backups taken (outcome ok) or abandoned (outcome failed)")
                       .Register(r->prom());
    ok_ = &family.Add({{"outcome", "ok"}});
    failed_ = &family.Add({{"outcome", "failed"}});
    last_ok_ = &prometheus::BuildGauge()
                    .Name("msgin5g_backup_last_success_timestamp_seconds")
                    .Help("When the last successful backup started (Unix time; 0: none since start)")
                    .Register(r->prom())
                    .Add({});
    last_duration_ = &prometheus::BuildGauge()
                          .Name("msgin5g_backup_last_duration_seconds")
                          .Help("How long the last successful backup took")
                          .Register(r->prom())
                          .Add({});
  }
  void Done(const Result<BackupManifest>& r) {
    if (ok_ == nullptr) return;
    if (!r.ok()) {
      failed_->Increment();
      return;
    }
    ok_->Increment();
    last_ok_->Set(static_cast<double>(r->created_ms) / 1000.0);
    last_duration_->Set(static_cast<double>(r->took_ms) / 1000.0);
  }

 private:
  prometheus::Counter* ok_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Gauge* last_ok_ = nullptr;
  prometheus::Gauge* last_duration_ = nullptr;
};

BackupService::BackupService(Store& store, BackupOptions options, metrics::Registry* metrics)
    : store_(store), options_(std::move(options)), metrics_(std::make_unique<Metrics>(metrics)) {
  // What a crash or a failed backup left: never a backup, only space taken.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kPartialPrefix, 0) == 0 && e.is_directory()) {
      fs::remove_all(e.path(), ec);
      LOG_WARN("backup", "removed %s, left by a backup that did not finish", e.path().c_str());
    }
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "backup");
    Loop();
  });
}

BackupService::~BackupService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackupService::Create(std::string name, std::function<void(Result<BackupManifest>)> done) {
  if (!ValidBackupName(name)) {
    return done(Status::InvalidArgument(
        "a backup name is 1 to 128 of A-Z a-z 0-9 . _ - and does not start with . or -"));
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!creating_.empty()) {
      lock.unlock();
      return done(Status(StatusCode::kRateLimited,
                         "backup " + creating_ + " is in progress; one runs at a time"));
    }
    if (jobs_.size() >= kMaxJobs || stopping_) {
      lock.unlock();
      return done(Status::ResourceExhausted("the backup thread is busy"));
    }
    creating_ = name;
    jobs_.push_back([this, name = std::move(name), done = std::move(done)] {
      auto r = Take(name);
      metrics_->Done(r);
      if (r.ok()) {
        LOG_INFO("backup", "backup %s: %zu files, %llu bytes, sequence %llu, %lld ms",
                 r->directory.c_str(), r->files.size(), static_cast<unsigned long long>(r->bytes),
                 static_cast<unsigned long long>(r->sequence), static_cast<long long>(r->took_ms));
      } else {
        LOG_WARN("backup", "backup %s failed: %s", name.c_str(), r.status().message().c_str());
      }
      {
        std::lock_guard<std::mutex> relock(mu_);
        creating_.clear();
      }
      done(std::move(r));
    });
  }
  cv_.notify_one();
}

void BackupService::List(std::function<void(Result<std::vector<BackupManifest>>)> done) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (jobs_.size() >= kMaxJobs || stopping_) {
      lock.unlock();
      return done(Status::ResourceExhausted("the backup thread is busy"));
    }
    jobs_.push_back([this, done = std::move(done)] {
      std::vector<BackupManifest> out;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(options_.root, ec)) {
        const std::string name = e.path().filename().string();
        if (!e.is_directory() || !ValidBackupName(name)) continue;
        auto m = ReadManifest(e.path().string());
        if (!m.ok()) continue;  // not a backup (or not ours): listed nowhere, touched never
        m->name = name;         // the directory's name is the backup's name, even if renamed
        out.push_back(std::move(*m));
      }
      if (ec && ec != std::errc::no_such_file_or_directory) {
        return done(Status::Unavailable("cannot list " + options_.root + ": " + ec.message()));
      }
      std::sort(out.begin(), out.end(), [](const BackupManifest& a, const BackupManifest& b) {
        return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.name < b.name;
      });
      done(std::move(out));
    });
  }
  cv_.notify_one();
}

Result<BackupManifest> BackupService::Take(const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  const std::string dir = options_.root + "/" + name;
  const std::string partial = options_.root + "/" + std::string(kPartialPrefix) + name;
  std::error_code ec;
  if (fs::exists(dir, ec)) return Status::Conflict("backup " + dir + " exists");
  fs::create_directories(options_.root, ec);
  if (ec) return Status::Unavailable("cannot create " + options_.root + ": " + ec.message());
  fs::remove_all(partial, ec);

  BackupManifest m;
  m.name = name;
  m.directory = dir;
  m.format_version = kCurrentFormatVersion;
  m.created_ms = NowMs();
  auto fail = [&](Status st) -> Result<BackupManifest> {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    return st;
  };
  Status st = store_.CreateCheckpoint(partial, &m.sequence);
  if (!st.ok()) return fail(st);
  for (const auto& extra : options_.extra_files) {
    if (!fs::exists(extra, ec)) continue;
    auto copied = CopyFileSynced(extra, partial + "/" + fs::path(extra).filename().string());
    if (!copied.ok()) return fail(copied.status());
  }
  m.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  st = WriteManifest(partial, &m);
  if (!st.ok()) return fail(st);
  st = SyncDirectory(partial);
  if (!st.ok()) return fail(st);
  if (fs::exists(dir, ec)) return fail(Status::Conflict("backup " + dir + " exists"));
  fs::rename(partial, dir, ec);
  if (ec) return fail(Status::Unavailable("cannot rename " + partial + ": " + ec.message()));
  st = SyncDirectory(options_.root);
  if (!st.ok()) return st;
  return m;
}

void BackupService::Loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace msgin5g::storage
