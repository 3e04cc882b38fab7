// Crash test (RocksDB's black-box kill test, applied to the whole daemon): concurrent senders,
// kill -9 of msgin5gd at a random moment, restart on the same data, repeat; at the end every
// acknowledged message must be stored exactly once. Cycles: MSGIN5G_CRASH_CYCLES (default 20).
#include <signal.h>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/store_load.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
using api::http::ClientRequest;
using api::http::Response;

using ts::AdminGet;
using ts::Loader;

ClientRequest Message(const std::string& sbi, const std::string& msg_id) {
  return ts::StoredMessage(sbi, "crash-as", "crash-ue", msg_id);
}

TEST(Crash, AcknowledgedMessagesSurviveKill9) {
  int cycles = 20;
  if (const char* env = std::getenv("MSGIN5G_CRASH_CYCLES")) cycles = std::atoi(env);
  std::mt19937 rng(std::random_device{}());
  unsigned seed = rng();
  rng.seed(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  ts::TempDir dir;
  const std::string data = dir.File("data");
  std::mutex mu;
  std::set<std::string> acked;
  std::vector<std::string> sent;

  for (int cycle = 0; cycle < cycles; ++cycle) {
    // Every message goes to one UE: its queue must hold them all (the default per-recipient
    // bound would answer DELY_FAILED QUEUE_FULL past 1,000; this test is about durability).
    ts::Daemon d(data, dir.path(), {"--set", "broker.max_queued_messages_per_recipient=100000000",
                                    "--set", "broker.max_queued_bytes_per_recipient=1073741824"});
    ASSERT_TRUE(d.ok()) << "cycle " << cycle;
    {
      Loader loader;
      // Everything acknowledged so far is still there (one cheap check per cycle).
      auto q = loader.Call(AdminGet(d, "/queues/UE/crash-ue"));
      ASSERT_TRUE(q.ok()) << q.status().ToString();
      auto count = boost::json::parse(q->body).as_object().at("count").to_number<std::uint64_t>();
      {
        std::lock_guard<std::mutex> lock(mu);
        ASSERT_GE(count, acked.size()) << "cycle " << cycle << ": acknowledged messages lost";
      }

      std::atomic<bool> stop{false};
      std::atomic<int> in_flight{0};
      std::thread sender([&] {
        for (int i = 0; !stop.load(); ++i) {
          if (in_flight.load() >= 64) {
            std::this_thread::sleep_for(100us);
            continue;
          }
          std::string id = "c" + std::to_string(cycle) + "-" + std::to_string(i);
          {
            std::lock_guard<std::mutex> lock(mu);
            sent.push_back(id);
          }
          ++in_flight;
          loader.Send(Message(d.sbi(), id), [&, id](Result<Response> r) {
            // Acknowledged = stored: a 200 saying DELY_FAILED stored nothing.
            if (r.ok() && r->status == 200 && r->body.find("DELY_STORED") != std::string::npos) {
              std::lock_guard<std::mutex> lock(mu);
              acked.insert(id);
            }
            --in_flight;
          });
        }
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
      auto code = d.proc().Stop(SIGKILL, 10s);
      stop.store(true);
      sender.join();
      ASSERT_TRUE(ts::WaitFor([&] { return in_flight.load() == 0; }, 10s));
      ASSERT_TRUE(code.has_value());
      EXPECT_EQ(*code, 128 + SIGKILL);
    }
  }

  // Final restart: every acknowledged message is stored exactly once.
  ts::Daemon d(data, dir.path());
  ASSERT_TRUE(d.ok());
  Loader loader;
  std::size_t present = 0, missing_acked = 0;
  for (const auto& id : sent) {
    auto r = loader.Call(AdminGet(d, "/messages/AS/crash-as/" + id));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->status == 200) {
      ++present;
      auto m = boost::json::parse(r->body).as_object();
      EXPECT_EQ(m.at("recipients").as_array().size(), 1u) << id;
      EXPECT_EQ(m.at("outcome").as_string(), "DELY_STORED") << id;
    } else if (acked.count(id) != 0) {
      ++missing_acked;
      ADD_FAILURE() << "acknowledged message " << id << " is lost";
    }
  }
  auto q = loader.Call(AdminGet(d, "/queues/UE/crash-ue"));
  ASSERT_TRUE(q.ok());
  auto count = boost::json::parse(q->body).as_object().at("count").to_number<std::uint64_t>();
  // Exactly once: one queue entry per stored message, no duplicates from retries or recovery.
  EXPECT_EQ(count, present);
  EXPECT_EQ(missing_acked, 0u);
  EXPECT_GE(present, acked.size());
  EXPECT_GT(acked.size(), 0u);
  std::printf("crash test: %d cycles, %zu sent, %zu acknowledged, %zu stored, 0 lost\n", cycles,
              sent.size(), acked.size(), present);
}

}  // namespace
}  // namespace msgin5g
