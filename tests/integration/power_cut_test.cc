// Power cuts, failing fsyncs and a full disk under concurrent load, against the real broker on
// real RocksDB, through a file system that forgets what was never synced
// (tests/support/power_cut_fs.h). Each cycle: open, load from several threads (messages, AS
// registrations, delivery reports), the fault at a random moment, probes that must be refused,
// close, drop what a power cut would lose, reopen, and check that every acknowledged write of
// every cycle so far is there. The data directory and the acknowledged sets carry over from cycle
// to cycle, so later cycles also check what earlier crashes left.
//
// Cycles per fault: 20 (MSGIN5G_POWER_CUT_CYCLES overrides; bench/power_cut.sh runs more).
// Each fault prints "acked N present N lost 0"; the seed is printed to replay a failure
// (MSGIN5G_POWER_CUT_SEED).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "broker/durable_broker.h"
#include "common/logging.h"
#include "storage/store.h"
#include "tests/support/async_wait.h"
#include "tests/support/power_cut_fs.h"

namespace msgin5g::broker {
namespace {

using testing_support::Await;
using testing_support::PowerCutFs;
using Fault = PowerCutFs::Fault;
using namespace std::chrono_literals;

constexpr int kThreads = 6;
const Address kLoadAs{AddressType::kAs, "as-load"};
const Address kReportAs{AddressType::kAs, "as-reports"};
const Address kReporter{AddressType::kUe, "ue-reporter"};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kPowerCut: return "power cut";
    case Fault::kSyncError: return "fsync error";
    case Fault::kNoSpace: return "ENOSPC";
    case Fault::kNone: break;
  }
  return "none";
}

// What was acknowledged, by kind.
struct Acked {
  std::mutex mu;
  std::set<std::string> messages, registrations, reports;
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return messages.size() + registrations.size() + reports.size();
  }
};

class PowerCutTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override {
    dir_ = testing_support::FreshDir("powercut");
    // Every cycle makes RocksDB and the store log the injected errors: only the unexpected.
    log::SetLevel(log::Level::kError);
  }
  void TearDown() override {
    broker_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Opens on `fs` (nullptr: the real file system alone).
  void Open(const std::shared_ptr<PowerCutFs>& fs) {
    env_.reset();
    if (fs) env_ = rocksdb::NewCompositeEnv(fs);
    storage::StoreOptions so;
    so.path = dir_;
    so.env_for_testing = env_.get();
    auto s = storage::Store::Open(so, nullptr);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
    auto b = DurableBroker::Create(*store_, BrokerOptions{}, nullptr, nullptr);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(b.value());
  }
  void Close() {
    broker_.reset();
    store_.reset();
    env_.reset();
  }

  template <class T, class F>
  T Call(F&& start) {
    std::promise<T> p;
    auto f = p.get_future();
    start([&p](T v) { p.set_value(std::move(v)); });
    return Await(std::move(f));
  }
  Result<AcceptOutcome> SubmitMessage(const std::string& id, int ue) {
    Message m;
    m.origin = kLoadAs;
    m.destination = Address{AddressType::kUe, "ue-" + std::to_string(ue)};
    m.msg_id = id;
    m.payload = "payload of " + id;
    m.store_and_forward = true;
    return Call<Result<AcceptOutcome>>(
        [&](auto done) { broker_->SubmitMessage(std::move(m), std::move(done)); });
  }
  Result<AsRegistration> Register(const std::string& svc) {
    AsRegistration r;
    r.as_svc_id = svc;
    return Call<Result<AsRegistration>>(
        [&](auto done) { broker_->RegisterAs(std::move(r), std::move(done)); });
  }
  Result<AcceptOutcome> SubmitReport(const std::string& id) {
    Report rep;
    rep.origin = kReporter;
    rep.destination = kReportAs;
    rep.msg_id = id;
    rep.status = ReportStatus::kSuccess;
    return Call<Result<AcceptOutcome>>(
        [&](auto done) { broker_->SubmitReport(std::move(rep), std::move(done)); });
  }

  // Load from kThreads threads until `stop`; every acknowledged write goes into acked_.
  void Load(int cycle, std::atomic<bool>& stop, std::atomic<int>& refused) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; !stop.load(); ++k) {
          const std::string id = std::to_string(cycle) + "-" + std::to_string(t) + "-" +
                                 std::to_string(k);
          bool ok = false;
          std::set<std::string>* into = nullptr;
          switch (k % 3) {
            case 0:
              ok = SubmitMessage("m-" + id, t).ok();
              into = &acked_.messages;
              break;
            case 1:
              ok = Register("as-" + id).ok();
              into = &acked_.registrations;
              break;
            default:
              ok = SubmitReport("r-" + id).ok();
              into = &acked_.reports;
              break;
          }
          if (!ok) {
            refused.fetch_add(1);
            std::this_thread::sleep_for(1ms);
            continue;
          }
          std::lock_guard<std::mutex> lock(acked_.mu);
          into->insert((k % 3 == 0 ? "m-" : k % 3 == 1 ? "as-" : "r-") + id);
        }
      });
    }
    for (auto& th : threads) th.join();
  }

  // Counts what of acked_ is stored; adds a description of each missing item to `lost`.
  std::size_t Present(std::vector<std::string>* lost) {
    std::size_t present = 0;
    std::lock_guard<std::mutex> lock(acked_.mu);
    for (const auto& id : acked_.messages) {
      auto v = Call<Result<MessageView>>(
          [&](auto done) { broker_->FindMessage(kLoadAs, id, std::move(done)); });
      if (v.ok()) {
        ++present;
      } else {
        lost->push_back("message " + id);
      }
    }
    auto regs = Call<Result<RegistrationList>>(
        [&](auto done) { broker_->ListRegistrations("", 0, std::move(done)); });
    EXPECT_TRUE(regs.ok()) << regs.status().ToString();
    std::set<std::string> svcs;
    if (regs.ok()) {
      for (const auto& r : regs->as) svcs.insert(r.as_svc_id);
    }
    for (const auto& id : acked_.registrations) {
      if (svcs.count(id) != 0) {
        ++present;
      } else {
        lost->push_back("registration " + id);
      }
    }
    std::promise<std::set<std::string>> p;
    auto f = p.get_future();
    store_->Query([&](storage::Reader& r) {
      std::set<std::string> ids;
      for (const auto& e : r.ListQueue(kReportAs, 1u << 24)) {
        if (auto m = r.GetMessage(e.seq)) ids.insert(m->msg_id);
      }
      p.set_value(std::move(ids));
    });
    const auto reports = Await(std::move(f));
    for (const auto& id : acked_.reports) {
      if (reports.count(id) != 0) {
        ++present;
      } else {
        lost->push_back("report " + id);
      }
    }
    return present;
  }

  std::string dir_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<DurableBroker> broker_;
  Acked acked_;
};

TEST_P(PowerCutTest, NothingAcknowledgedIsLost) {
  const Fault fault = GetParam();
  const int cycles = EnvInt("MSGIN5G_POWER_CUT_CYCLES", 20);
  const unsigned seed = static_cast<unsigned>(
      EnvInt("MSGIN5G_POWER_CUT_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  std::printf("[ power cut ] %s: %d cycles, seed %u\n", FaultName(fault), cycles, seed);
  std::fflush(stdout);
  std::mt19937 rng(seed);

  // The AS the reports go to (no callback: its reports are stored).
  Open(nullptr);
  ASSERT_TRUE(Register(kReportAs.id).ok());
  Close();

  int total_refusals = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle) + ", seed " + std::to_string(seed));
    auto fs = std::make_shared<PowerCutFs>(rocksdb::FileSystem::Default());
    ASSERT_NO_FATAL_FAILURE(Open(fs));
    std::atomic<bool> stop{false};
    std::atomic<int> refused{0};
    std::thread load([&] { Load(cycle, stop, refused); });
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(1, 60)(rng)));
    fs->SetFault(fault);
    std::this_thread::sleep_for(20ms);  // the load keeps hammering the failed disk
    stop = true;
    load.join();

    // After the fault nothing more is acknowledged: a write the disk refused leaves the store
    // refusing (sticky), even once the disk answers again.
    const std::string probe = "probe-" + std::to_string(cycle);
    auto first = SubmitMessage(probe + "-a", 0);
    EXPECT_FALSE(first.ok()) << "accepted after the " << FaultName(fault);
    if (fault != Fault::kPowerCut) fs->SetFault(Fault::kNone);
    auto second = SubmitMessage(probe + "-b", 0);
    EXPECT_FALSE(second.ok()) << "the store took writes again after a failed one";
    if (!second.ok()) {
      EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
    }
    total_refusals += fs->refusals();

    Close();
    fs->DropUnsynced();
    ASSERT_NO_FATAL_FAILURE(Open(nullptr));
    std::vector<std::string> lost;
    const std::size_t acked = acked_.size();
    const std::size_t present = Present(&lost);
    EXPECT_EQ(present, acked);
    EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged writes lost, first: " << lost[0];
    for (const auto& id : {probe + "-a", probe + "-b"}) {
      auto v = Call<Result<MessageView>>(
          [&](auto done) { broker_->FindMessage(kLoadAs, id, std::move(done)); });
      EXPECT_FALSE(v.ok()) << id << " was refused yet is stored";
    }
    Close();
    if (HasFailure()) break;
  }
  std::vector<std::string> lost;
  Open(nullptr);
  const std::size_t acked = acked_.size();
  const std::size_t present = Present(&lost);
  std::printf("[ power cut ] %s: acked %zu present %zu lost %zu (disk refusals %d)\n",
              FaultName(fault), acked, present, lost.size(), total_refusals);
  EXPECT_GT(acked, 0u);
  EXPECT_GT(total_refusals, 0);
}

INSTANTIATE_TEST_SUITE_P(Faults, PowerCutTest,
                         ::testing::Values(Fault::kPowerCut, Fault::kSyncError, Fault::kNoSpace),
                         [](const ::testing::TestParamInfo<Fault>& p) {
                           switch (p.param) {
                             case Fault::kPowerCut: return std::string("PowerCut");
                             case Fault::kSyncError: return std::string("FsyncError");
                             case Fault::kNoSpace: return std::string("NoSpace");
                             case Fault::kNone: break;
                           }
                           return std::string("None");
                         });

}  // namespace
}  // namespace msgin5g::broker
