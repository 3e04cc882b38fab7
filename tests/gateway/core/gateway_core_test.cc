// The gateway's durable core: the group-commit Store, the Outbox's at-least-once contract across
// a restart (a stored job runs again; a finished one never), the identity map's rules, and the
// receipt-id spellings. Real RocksDB in a temp dir; the io_context is run by the test.
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/identity_map.h"
#include "gateway/l3g/receipt_ids.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "tests/support/test_util.h"

namespace msgin5g::gateway {
namespace {

using namespace std::chrono_literals;
using testing_support::TempDir;
using ::testing::UnorderedElementsAre;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  auto s = Store::Open(Store::Options{path});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s.value());
}

Status WriteSync(Store& store, Batch b) {
  std::promise<Status> p;
  store.Write(std::move(b), [&p](Status st) { p.set_value(st); });
  return p.get_future().get();
}

TEST(GatewayStoreTest, BatchesAreAtomicDurableAndScannedInKeyOrder) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    Batch b;
    b.Put("a/2", "two");
    b.Put("a/1", "one");
    b.Put("b/1", "other");
    ASSERT_TRUE(WriteSync(*store, std::move(b)).ok());
    Batch d;
    d.Delete("a/2");
    ASSERT_TRUE(WriteSync(*store, std::move(d)).ok());
  }
  auto store = OpenStore(dir.path());  // reopened: what was acknowledged is there
  EXPECT_EQ(store->Get("a/1"), "one");
  EXPECT_FALSE(store->Get("a/2").has_value());
  auto all = store->Scan("a/", 10);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, "a/1");
  EXPECT_EQ(store->Scan("b/", 10).size(), 1u);
  // Paging: after the last key of a page.
  Batch more;
  for (int i = 2; i <= 5; ++i) more.Put("a/" + std::to_string(i), "v");
  ASSERT_TRUE(WriteSync(*store, std::move(more)).ok());
  auto page = store->Scan("a/", 2);
  ASSERT_EQ(page.size(), 2u);
  auto next = store->Scan("a/", 10, page.back().first);
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0].first, "a/3");
}

TEST(GatewayStoreTest, ManyConcurrentWritersShareSyncs) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kWrites = 2000;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites / 4; ++i) {
        Batch b;
        b.Put("k/" + std::to_string(t) + "/" + std::to_string(i), "v");
        if (WriteSync(*store, std::move(b)).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kWrites);
  EXPECT_EQ(store->Scan("k/", kWrites + 1).size(), static_cast<std::size_t>(kWrites));
  // Group commit: batches queued meanwhile went out in one write (one fsync).
  EXPECT_LT(store->syncs(), static_cast<std::uint64_t>(kWrites));
}

// Runs an io_context on a thread for the test's duration.
struct Core {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~Core() {
    work.reset();
    ioc.stop();
    thread.join();
  }
  template <class F>
  void Run(F fn) {
    std::promise<void> p;
    boost::asio::post(ioc, [&] {
      fn();
      p.set_value();
    });
    p.get_future().wait();
  }
};

TEST(GatewayOutboxTest, AcceptedJobsSurviveARestartAndFinishedOnesDoNot) {
  TempDir dir;
  Outbox::Options o;
  o.name = "test";
  o.prefix = "ob/t/";
  o.retry_initial = 10ms;
  o.retry_max = 20ms;
  // First life: two jobs accepted; the handler finishes "done-me" and leaves "keep-me" running
  // (as a crash mid-job would).
  {
    auto store = OpenStore(dir.path());
    Core core;
    std::promise<void> finished;
    std::vector<Outbox::Finish> held;
    Outbox box(core.ioc, *store, o,
               [&](Outbox::Job& job, Outbox::Finish finish) {
                 if (job.rec.at("name").as_string() == "done-me") {
                   Outbox::Outcome out;
                   out.then.Put("result/done-me", "ok");
                   out.committed = [&finished] { finished.set_value(); };
                   finish(std::move(out));
                 } else {
                   held.push_back(std::move(finish));  // never finished in this life
                 }
               },
               [](Outbox::Job&) { return Outbox::Outcome{}; });
    core.Run([&] {
      box.Start();
      for (const char* name : {"keep-me", "done-me"}) {
        Batch b;
        boost::json::object rec{{"name", name}};
        std::string key = box.Prepare(b, rec);
        ASSERT_TRUE(WriteSync(*store, std::move(b)).ok());
        box.Adopt(key, rec);
      }
    });
    ASSERT_EQ(finished.get_future().wait_for(10s), std::future_status::ready);
    EXPECT_EQ(store->Get("result/done-me"), "ok");  // the outcome, atomically with the deletion
    core.Run([&] { box.Stop(); });
  }
  // Second life: only the unfinished job runs again, and retries until it succeeds.
  auto store = OpenStore(dir.path());
  Core core;
  std::vector<std::string> ran;
  int attempts = 0;
  std::promise<void> done;
  Outbox box(core.ioc, *store, o,
             [&](Outbox::Job& job, Outbox::Finish finish) {
               ran.push_back(std::string(job.rec.at("name").as_string()));
               Outbox::Outcome out;
               if (++attempts < 3) {
                 out.kind = Outbox::Outcome::Kind::kRetry;
               } else {
                 out.committed = [&done] { done.set_value(); };
               }
               finish(std::move(out));
             },
             [](Outbox::Job&) { return Outbox::Outcome{}; });
  core.Run([&] { box.Start(); });
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ran, (std::vector<std::string>{"keep-me", "keep-me", "keep-me"}));
  core.Run([&] {
    EXPECT_EQ(box.stats().replayed, 1u);
    EXPECT_EQ(box.stats().retries, 2u);
    EXPECT_EQ(box.size(), 0u);
    box.Stop();
  });
  EXPECT_TRUE(store->Scan("ob/t/", 10).empty());
}

TEST(GatewayOutboxTest, AJobOutOfAttemptsIsHandedToExhaustedAndRemoved) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  Core core;
  Outbox::Options o;
  o.name = "test";
  o.prefix = "ob/t/";
  o.retry_initial = 1ms;
  o.retry_max = 2ms;
  o.max_attempts = 4;
  int runs = 0;
  std::promise<void> gave_up;
  Outbox box(core.ioc, *store, o,
             [&](Outbox::Job&, Outbox::Finish finish) {
               ++runs;
               Outbox::Outcome out;
               out.kind = Outbox::Outcome::Kind::kRetry;
               finish(std::move(out));
             },
             [&](Outbox::Job&) {
               Outbox::Outcome out;
               out.then.Put("report/failed", "1");
               out.committed = [&gave_up] { gave_up.set_value(); };
               return out;
             });
  core.Run([&] {
    box.Start();
    Batch b;
    boost::json::object rec{{"name", "x"}};
    auto key = box.Prepare(b, rec);
    ASSERT_TRUE(WriteSync(*store, std::move(b)).ok());
    box.Adopt(key, rec);
  });
  ASSERT_EQ(gave_up.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(runs, 4);
  EXPECT_EQ(store->Get("report/failed"), "1");
  EXPECT_TRUE(store->Scan("ob/t/", 10).empty());
  core.Run([&] { box.Stop(); });
}

TEST(GatewayIdentityMapTest, StoredEntriesOverrideConfiguredOnesAndMsisdnsStayUnique) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    IdentityMap ids(*store);
    ASSERT_TRUE(ids.Load({{"ue-1", "4670000001", true}}).ok());
    std::promise<Status> p1;
    ids.Put("ue-2", "4670000001", [&](Status st) { p1.set_value(st); });  // ue-1's MSISDN
    EXPECT_EQ(p1.get_future().get().code(), StatusCode::kConflict);
    std::promise<Status> p2;
    ids.Put("ue-2", "+4670000002", [&](Status st) { p2.set_value(st); });
    EXPECT_TRUE(p2.get_future().get().ok());
    std::promise<Status> p3;
    ids.Put("ue-3", "12ab", [&](Status st) { p3.set_value(st); });
    EXPECT_EQ(p3.get_future().get().code(), StatusCode::kInvalidArgument);
    std::promise<Status> p4;
    ids.Remove("ue-1", [&](Status st) { p4.set_value(st); });  // from the configuration file
    EXPECT_EQ(p4.get_future().get().code(), StatusCode::kConflict);
  }
  auto store = OpenStore(dir.path());
  IdentityMap ids(*store);
  ASSERT_TRUE(ids.Load({{"ue-1", "4670000001", true}}).ok());
  EXPECT_EQ(ids.MsisdnOf("ue-2"), "+4670000002");  // survived the restart
  EXPECT_EQ(ids.UeOf("4670000001"), "ue-1");
  EXPECT_EQ(ids.UeOf("4670000002"), "ue-2");  // with or without the '+'
  EXPECT_EQ(ids.UeOf("+4670000002"), "ue-2");
  EXPECT_FALSE(ids.MsisdnOf("ue-3").has_value());
  // A configuration that now gives ue-9 the MSISDN stored for ue-2 is refused at start.
  IdentityMap clash(*store);
  EXPECT_FALSE(clash.Load({{"ue-9", "+4670000002", true}}).ok());
}

TEST(GatewayReceiptIdsTest, HexAndDecimalSpellingsOfOneId) {
  EXPECT_THAT(l3g::OtherSpellings("255"),
              UnorderedElementsAre("ff", "FF", "00000000000000ff", "597"));  // 255 is hex too
  EXPECT_THAT(l3g::OtherSpellings("ce55661100"), UnorderedElementsAre("886196015360"));
  EXPECT_TRUE(l3g::OtherSpellings("msg-1").empty());
  EXPECT_TRUE(l3g::OtherSpellings("").empty());
  EXPECT_THAT(l3g::OtherSpellings("18446744073709551615"),
              UnorderedElementsAre("ffffffffffffffff", "FFFFFFFFFFFFFFFF", "ffffffffffffffff"));
}

}  // namespace
}  // namespace msgin5g::gateway
