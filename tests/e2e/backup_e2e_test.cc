// Online backup and offline restore with the real msgin5gd: a backup taken while senders run holds
// every message acknowledged before it was asked for; a restored store serves them; a damaged
// backup, a non-empty target and a store of a newer data format are refused with their exit codes.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/store_load.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
namespace fs = std::filesystem;
using api::http::ClientRequest;
using api::http::Response;

using ts::AdminGet;
using ts::Loader;

ClientRequest Message(const std::string& sbi, const std::string& msg_id) {
  return ts::StoredMessage(sbi, "bk-as", "bk-ue", msg_id);
}

std::vector<std::string> QueueFlags() {
  return {"--set", "broker.max_queued_messages_per_recipient=100000000", "--set",
          "broker.max_queued_bytes_per_recipient=1073741824"};
}

ts::RunResult Restore(const std::string& what, const std::string& target,
                      const std::string& backup_dir = "") {
  return ts::Run({ts::DaemonPath(), "--set", "storage.path=" + target, "--set",
                  "storage.backup_dir=" + backup_dir, "--restore", what});
}

TEST(BackupE2E, EveryMessageAcknowledgedBeforeTheBackupIsInTheRestoredStore) {
  ts::TempDir dir;
  const std::string backups = dir.File("backups");
  std::vector<std::string> flags = QueueFlags();
  flags.insert(flags.end(), {"--set", "storage.backup_dir=" + backups});
  std::mutex mu;
  std::set<std::string> acked;
  std::set<std::string> before;  // acknowledged when the backup was asked for
  {
    ts::Daemon d(dir.File("data"), dir.path(), flags);
    ASSERT_TRUE(d.ok()) << d.log();
    Loader loader;
    std::atomic<bool> stop{false};
    std::atomic<int> in_flight{0};
    std::thread sender([&] {
      for (int i = 0; !stop.load(); ++i) {
        if (in_flight.load() >= 64) {
          std::this_thread::sleep_for(100us);
          continue;
        }
        std::string id = "b-" + std::to_string(i);
        ++in_flight;
        loader.Send(Message(d.sbi(), id), [&, id](Result<Response> r) {
          if (r.ok() && r->status == 200 && r->body.find("DELY_STORED") != std::string::npos) {
            std::lock_guard<std::mutex> lock(mu);
            acked.insert(id);
          }
          --in_flight;
        });
      }
    });
    ASSERT_TRUE(ts::WaitFor([&] {
      std::lock_guard<std::mutex> lock(mu);
      return acked.size() >= 2000;
    }, 60s));
    {
      std::lock_guard<std::mutex> lock(mu);
      before = acked;
    }
    auto b = d.Admin("POST", "/backups", R"({"name":"under-load"})");
    // Writes go on while the copy is taken; and after it.
    const std::size_t acked_at_reply = [&] {
      std::lock_guard<std::mutex> lock(mu);
      return acked.size();
    }();
    ASSERT_TRUE(ts::WaitFor([&] {
      std::lock_guard<std::mutex> lock(mu);
      return acked.size() >= acked_at_reply + 500;
    }, 60s));
    stop.store(true);
    sender.join();
    ASSERT_TRUE(ts::WaitFor([&] { return in_flight.load() == 0; }, 20s));
    ASSERT_EQ(b.status, 201) << b.body;
    auto body = boost::json::parse(b.body).as_object();
    EXPECT_EQ(body.at("name").as_string(), "under-load");
    EXPECT_EQ(body.at("directory").as_string(), backups + "/under-load");
    EXPECT_EQ(body.at("formatVersion").as_int64(), 1);
    EXPECT_GT(body.at("files").as_int64(), 0);
    EXPECT_NE(b.headers.find("location: /admin/v1/backups/under-load"), std::string::npos);

    auto list = d.Admin("GET", "/backups");
    ASSERT_EQ(list.status, 200) << list.body;
    auto arr = boost::json::parse(list.body).as_object().at("backups").as_array();
    ASSERT_EQ(arr.size(), 1u) << list.body;
    EXPECT_EQ(arr[0].as_object().at("name").as_string(), "under-load");
    // The backup metric moved: dashboards and the "no recent backup" alert read it.
    auto m = ts::Curl({"-s", "http://" + d.metrics() + "/metrics"});
    EXPECT_NE(m.body.find("msgin5g_backups_total{outcome=\"ok\"} 1"), std::string::npos);
    ASSERT_EQ(d.proc().Stop(SIGTERM, 20s), 0);
  }

  const std::string restored = dir.File("restored");
  auto r = Restore("under-load", restored, backups);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("restored backup " + backups + "/under-load into " + restored),
            std::string::npos)
      << r.out;

  ts::Daemon d(restored, dir.path());
  ASSERT_TRUE(d.ok()) << d.log();
  Loader loader;
  std::size_t present = 0;
  for (const auto& id : before) {
    auto m = loader.Call(AdminGet(d, "/messages/AS/bk-as/" + id));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    if (m->status == 200) {
      ++present;
    } else {
      ADD_FAILURE() << "message " << id << ", acknowledged before the backup, is not restored";
    }
  }
  EXPECT_EQ(present, before.size());
  // What was acknowledged after the backup finished is not in it: the copy is of one moment.
  auto q = loader.Call(AdminGet(d, "/queues/UE/bk-ue"));
  ASSERT_TRUE(q.ok());
  auto count = boost::json::parse(q->body).as_object().at("count").to_number<std::uint64_t>();
  EXPECT_GE(count, before.size());
  EXPECT_LT(count, acked.size());
  std::printf("backup under load: %zu acknowledged before it, all restored; %llu in the backup, "
              "%zu acknowledged in all\n",
              before.size(), static_cast<unsigned long long>(count), acked.size());
}

TEST(BackupE2E, RefusalsAnswerProblemDetailsAndTakeNothing) {
  ts::TempDir dir;
  const std::string backups = dir.File("backups");
  ts::Daemon d(dir.File("data"), dir.path(), {"--set", "storage.backup_dir=" + backups});
  ASSERT_TRUE(d.ok()) << d.log();
  auto bad = d.Admin("POST", "/backups", R"({"name":"../escape"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("\"param\":\"/name\""), std::string::npos) << bad.body;
  auto wrong_type = d.Admin("POST", "/backups", R"({"name":7})");
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
  EXPECT_FALSE(fs::exists(dir.File("escape")));

  // No body: a name from the clock.
  auto first = d.Admin("POST", "/backups", "");
  ASSERT_EQ(first.status, 201) << first.body;
  std::string name(boost::json::parse(first.body).as_object().at("name").as_string());
  EXPECT_EQ(name.rfind("msgin5g-", 0), 0u) << name;
  auto again = d.Admin("POST", "/backups", "{\"name\":\"" + name + "\"}");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("BACKUP_EXISTS"), std::string::npos) << again.body;
  auto one = d.Admin("GET", "/backups/" + name);
  EXPECT_EQ(one.status, 200) << one.body;
  auto none = d.Admin("GET", "/backups/absent");
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_NE(none.headers.find("application/problem+json"), std::string::npos);

  // Only complete backups are listed; a directory without a manifest is not one.
  fs::create_directories(backups + "/not-a-backup");
  auto list = d.Admin("GET", "/backups");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(boost::json::parse(list.body).as_object().at("backups").as_array().size(), 1u)
      << list.body;

  ts::TempDir off_dir;
  ts::Daemon off(off_dir.File("data"), off_dir.path(), {"--set", "storage.backup_dir="});
  ASSERT_TRUE(off.ok()) << off.log();
  auto refused = off.Admin("POST", "/backups", "");
  EXPECT_EQ(refused.status, 404) << refused.body;
  EXPECT_NE(refused.body.find("BACKUPS_OFF"), std::string::npos) << refused.body;
}

TEST(BackupE2E, RestoreRefusesADamagedBackupANonEmptyTargetAndNoBackup) {
  ts::TempDir dir;
  const std::string backups = dir.File("backups");
  {
    ts::Daemon d(dir.File("data"), dir.path(), {"--set", "storage.backup_dir=" + backups});
    ASSERT_TRUE(d.ok()) << d.log();
    auto b = d.Admin("POST", "/backups", R"({"name":"good"})");
    ASSERT_EQ(b.status, 201) << b.body;
  }
  // The daemon's own data directory is not empty: refused, untouched.
  auto busy = Restore("good", dir.File("data"), backups);
  EXPECT_EQ(busy.exit_code, 73) << busy.err;
  EXPECT_NE(busy.err.find("is not empty"), std::string::npos) << busy.err;

  auto missing = Restore(dir.File("nowhere"), dir.File("t1"));
  EXPECT_EQ(missing.exit_code, 66) << missing.err;
  EXPECT_FALSE(fs::exists(dir.File("t1")));

  // One flipped byte in a table file: the SHA-256 check stops the restore before anything lands.
  fs::copy(backups + "/good", backups + "/flipped");
  std::string victim;
  for (const auto& e : fs::directory_iterator(backups + "/flipped")) {
    if (e.path().extension() == ".sst") victim = e.path().string();
  }
  ASSERT_FALSE(victim.empty());
  fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    char c = 0;
    f.read(&c, 1);
    f.seekp(10);
    c = static_cast<char>(c ^ 0x40);
    f.write(&c, 1);
  }
  auto damaged = Restore("flipped", dir.File("t2"), backups);
  EXPECT_EQ(damaged.exit_code, 65) << damaged.err;
  EXPECT_NE(damaged.err.find("differs from the manifest"), std::string::npos) << damaged.err;
  EXPECT_FALSE(fs::exists(dir.File("t2")));
  EXPECT_FALSE(fs::exists(dir.File("t2.restoring")));

  // The good one restores into an empty directory that exists.
  fs::create_directories(dir.File("t3"));
  auto ok = Restore("good", dir.File("t3"), backups);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  ts::Daemon restored(dir.File("t3"), dir.path());
  EXPECT_TRUE(restored.ok()) << restored.log();
}

TEST(DataFormatE2E, AStoreOfANewerFormatRefusesToStartAndSaysSo) {
  ts::TempDir dir;
  const std::string data = dir.File("data");
  {
    ts::Daemon d(data, dir.path());
    ASSERT_TRUE(d.ok()) << d.log();
  }
  {
    // What a later release would leave: the same store, a higher format number.
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), data, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), data, cfs, &handles, &raw).ok());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    EXPECT_TRUE(raw->Put(wo, "format_version", "2").ok());
    for (auto* h : handles) EXPECT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    EXPECT_TRUE(raw->Close().ok());
    delete raw;
  }
  auto r = ts::Run({ts::DaemonPath(), "--set", "storage.path=" + data, "--set",
                    "api.listen=127.0.0.1:0", "--set", "metrics.listen=127.0.0.1:0", "--set",
                    "coap.listen=", "--set", "admin.socket=" + dir.File("a.sock")});
  EXPECT_EQ(r.exit_code, 65) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("was written by a newer msgin5g: data format version 2, this "
                                 "build reads version 1"),
            std::string::npos)
      << r.out << r.err;
}

}  // namespace
}  // namespace msgin5g
