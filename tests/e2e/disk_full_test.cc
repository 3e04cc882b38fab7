// Disk full, for real: msgin5gd's data directory on a small tmpfs. When RocksDB cannot write, the
// daemon answers 503 (never a 200 for something not stored), /readyz turns false, and after space
// returns a restart recovers every acknowledged message. Needs root for mount(8), as CI runs.
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;

class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    auto r = ts::Run({"mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir});
    mounted_ = r.exit_code == 0;
    error_ = r.err;
  }
  ~TmpfsMount() {
    if (mounted_) ts::Run({"umount", "-l", dir_});
  }
  bool Resize(const std::string& size) {
    return ts::Run({"mount", "-o", "remount,size=" + size, dir_}).exit_code == 0;
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(DiskFull, RefusesWithout200AndRecoversWhenSpaceReturns) {
  ASSERT_EQ(geteuid(), 0u) << "this test mounts a tmpfs and must run as root (CI does)";
  ts::TempDir dir;
  TmpfsMount mnt(dir.File("mnt"), "24m");
  ASSERT_TRUE(mnt.mounted()) << mnt.error();
  const std::string data = dir.File("mnt") + "/data";
  const std::string payload(60000, 'x');

  std::vector<std::string> acked;
  {
    // One UE's queue must be able to outgrow the 24 MiB disk (its own bounds would answer
    // DELY_FAILED QUEUE_FULL first at the defaults: 8 MiB).
    ts::Daemon d(data, dir.path(),
                 {"--set", "broker.max_queued_bytes_per_recipient=1073741824", "--set",
                  "broker.max_queued_messages_per_recipient=100000"});
    ASSERT_TRUE(d.ok());
    ts::WriteFile(dir.File("body.json"), "");
    int refused = 0;
    for (int i = 0; i < 2000 && refused < 3; ++i) {
      std::string id = "full-" + std::to_string(i);
      ts::WriteFile(dir.File("body.json"),
                    R"({"oriAddr":{"addrType":"AS","addr":"as-d"},"destAddr":{"addrType":"UE","addr":"ue-d"},"msgId":")" +
                        id + R"(","stoAndFwInd":true,"payload":")" + payload + R"("})");
      auto r = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json",
                         "--data-binary", "@" + dir.File("body.json"),
                         "http://" + d.sbi() + "/msgs-msgdelivery/v1/deliver-as-message"});
      ASSERT_EQ(r.exit_code, 0) << r.err << d.log();
      if (r.status == 200) {
        ASSERT_EQ(refused, 0) << "a write was acknowledged after the store failed";
        acked.push_back(id);
      } else {
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_NE(r.headers.find("retry-after:"), std::string::npos);
        ++refused;
      }
    }
    ASSERT_EQ(refused, 3) << "the 24 MiB tmpfs never filled up";
    EXPECT_GT(acked.size(), 10u);
    auto ready = ts::Curl({"http://" + d.metrics() + "/readyz"});
    EXPECT_EQ(ready.status, 503);
    auto metrics = ts::Run({"curl", "-sS", "http://" + d.metrics() + "/metrics"});
    EXPECT_NE(metrics.out.find("msgin5g_storage_write_failures_total 1"), std::string::npos);
    EXPECT_TRUE(d.proc().running()) << "the daemon must not crash on a full disk";
    d.proc().Stop(SIGTERM, 20s);
  }

  ASSERT_TRUE(mnt.Resize("512m"));
  ts::Daemon d(data, dir.path());
  ASSERT_TRUE(d.ok()) << d.log();
  for (const auto& id : acked) {
    auto r = d.Admin("GET", "/messages/AS/as-d/" + id);
    EXPECT_EQ(r.status, 200) << "acknowledged " << id << " lost";
  }
  auto after = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                         R"({"oriAddr":{"addrType":"AS","addr":"as-d"},"destAddr":{"addrType":"UE","addr":"ue-d"},"msgId":"after","stoAndFwInd":true})",
                         "http://" + d.sbi() + "/msgs-msgdelivery/v1/deliver-as-message"});
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(ts::Curl({"http://" + d.metrics() + "/readyz"}).status, 200);
}

}  // namespace
}  // namespace msgin5g
