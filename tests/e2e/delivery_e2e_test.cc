// The delivery engine end to end, as in the issue's checks: the real msgin5gd forwards to a real
// HTTP/2 test AS and test gateways (tests/support/receiver.h) on loopback. Nothing is mocked.
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/auth/secret_hash.h"
#include "api/sbi/codec.h"
#include "tests/support/metric_value.h"
#include "tests/support/client_thread.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/json_util.h"
#include "tests/support/receiver.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
using ts::Json;
using ts::Str;
using ts::Addr;
using api::http::ClientRequest;

const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";
const std::string kDeliverUe = "/msgs-msgdelivery/v1/deliver-ue-message";

class DeliveryE2E : public ::testing::Test {
 protected:
  // The daemon with fast retries and the receiver as gateway "l3g-1" (segments of at most
  // `segment` bytes; 0: none).
  void Start(std::vector<std::string> extra = {}, std::size_t segment = 0) {
    std::vector<std::string> args = {
        "--set", "gateways.l3g-1.type=l3g",
        "--set", "gateways.l3g-1.api_root=" + gw_.url(),
        "--set", "gateways.l3g-1.max_segment_bytes=" + std::to_string(segment),
        "--set", "delivery.retry_initial_ms=200",
        "--set", "delivery.retry_max_ms=2000",
        "--set", "delivery.request_timeout_ms=1000",
        "--set", "delivery.connect_timeout_ms=500"};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<ts::Daemon>(dir_.File("data"), dir_.path(), args);
  }
  ts::Daemon& d() { return *daemon_; }

  api::http::Response Post(const std::string& path, const std::string& body) {
    ClientRequest req;
    req.url = "http://" + d().sbi() + path;
    req.headers.push_back({"content-type", "application/json"});
    req.body = body;
    auto r = client_.Call(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : api::http::Response{};
  }
  ts::CurlResult Admin(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    return d().Admin(method, path, body);
  }
  void RegisterAs(const std::string& svc, const std::string& target) {
    auto r = Post("/msgs-asregistration/v1/registrations",
                  R"({"asSvcId":")" + svc + R"(","targetUri":")" + target + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // Every UE goes through gateway "l3g-1" (the receiver).
  void RouteUesToGateway() {
    ASSERT_EQ(Admin("PUT", "/routing-rules/sms", R"({"pattern":"ue-*","gateway":"l3g-1"})").status,
              200);
  }
  // An AS message with `payload` to UE `ue`, accepted.
  void SendPayload(const std::string& ue, const std::string& msg_id, const std::string& payload) {
    ASSERT_EQ(Post(kDeliverAs, R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":")" +
                                   ue + R"("},"msgId":")" + msg_id +
                                   R"(","stoAndFwInd":true,"payload":")" + payload + R"("})")
                  .status,
              200);
  }
  std::uint64_t QueueCount(const std::string& type, const std::string& addr) {
    auto j = Json(Admin("GET", "/queues/" + type + "/" + addr).body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : ~0ull;
  }
  // Polls until the queue of (type, addr) is empty.
  bool QueueDrains(const std::string& type, const std::string& addr, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (QueueCount(type, addr) == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  static std::string Message(const std::string& from_type, const std::string& from,
                             const std::string& to_type, const std::string& to,
                             const std::string& msg_id, const std::string& extra = "") {
    return R"({"oriAddr":{"addrType":")" + from_type + R"(","addr":")" + from +
           R"("},"destAddr":{"addrType":")" + to_type + R"(","addr":")" + to + R"("},"msgId":")" +
           msg_id + R"(","stoAndFwInd":true,"payload":"hello )" + msg_id + "\"" + extra + "}";
  }

  ts::TempDir dir_;
  ts::Receiver gw_;  // gateways and ASs
  ts::ClientThread client_;
  std::unique_ptr<ts::Daemon> daemon_;
};

// A2P to a UE routed to an L3G: the gateway gets a body valid against TS29538_MSGG_L3GDelivery, and
// with delivStReqInd the AS then gets REPT_DELY_SUCCESS at its targetUri.
TEST_F(DeliveryE2E, AsToUeThroughL3gReportComesFromTheGateway) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", gw_.as_target("as-1"));
  RouteUesToGateway();
  auto ack = Post(kDeliverAs, Message("AS", "as-1", "UE", "ue-1", "m-1",
                                      R"(,"delivStReqInd":true,"appId":"app-9")"));
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_FALSE(Json(ack.body).contains("status")) << ack.body;  // reachable: accepted

  ASSERT_TRUE(gw_.WaitFor("/msgg-l3gdelivery/v1/deliver-message", 1, 10s)) << d().log();
  auto got = gw_.received("/msgg-l3gdelivery/v1/deliver-message").front();
  auto decoded = api::sbi::DecodeL3gMessageDelivery(got.body);
  ASSERT_TRUE(decoded.ok()) << got.body;
  EXPECT_EQ(decoded.value->oriAddr.addrType, "AS");
  EXPECT_EQ(decoded.value->oriAddr.addr, "as-1");
  EXPECT_EQ(decoded.value->destAddr.addrType, "UE");
  EXPECT_EQ(decoded.value->destAddr.addr, "ue-1");
  EXPECT_EQ(decoded.value->msgId, "m-1");
  EXPECT_EQ(decoded.value->appId, "app-9");
  EXPECT_EQ(decoded.value->payload, "hello m-1");
  EXPECT_EQ(decoded.value->delivStReqInd, true);
  EXPECT_FALSE(decoded.value->segInd.has_value());

  // The gateway took it: it reports itself (TS 23.554 8.6.1 4a/5b), msgin5gd adds no report of
  // its own for the hand-over. Here the gateway's report comes in as a real gateway sends it.
  EXPECT_TRUE(QueueDrains("UE", "ue-1", 5s));
  EXPECT_TRUE(gw_.received("/as/as-1/deliver-report").empty());
  ASSERT_EQ(Post("/msgs-msgdelivery/v1/deliver-report",
                 R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},"destAddr":{"addrType":"AS","addr":"as-1"},)"
                 R"("msgId":"m-1","delivSt":"REPT_DELY_SUCCESS"})")
                .status,
            200);
  ASSERT_TRUE(gw_.WaitFor("/as/as-1/deliver-report", 1, 10s)) << d().log();
  auto report = api::sbi::DecodeDeliveryStatusReport(
      gw_.received("/as/as-1/deliver-report").front().body);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.value->delivSt, "REPT_DELY_SUCCESS");
  EXPECT_EQ(report.value->msgId, "m-1");
  EXPECT_EQ(report.value->oriAddr.addr, "ue-1");   // who reports: the recipient
  EXPECT_EQ(report.value->destAddr.addr, "as-1");  // to the originator
  EXPECT_TRUE(QueueDrains("UE", "ue-1", 5s));
  EXPECT_TRUE(QueueDrains("AS", "as-1", 5s));  // the report left the queue too

  // Exactly once here: nothing delivered twice when the peer answers.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(gw_.received("/deliver-message").size(), 1u);
  EXPECT_EQ(gw_.received("/deliver-report").size(), 1u);
  // The metrics say so too.
  auto metrics = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  EXPECT_NE(metrics.find(R"(msgin5g_delivery_attempts_total{channel="l3g",result="delivered"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(msgin5g_delivery_finished_total{outcome="delivered"} 2)"),
            std::string::npos);
}

// Messages for UEs without a route wait (parked); a routing rule added later sends them, and a
// GROUP message reaches every member once, after which nothing of it is left.
TEST_F(DeliveryE2E, StoredMessagesGoOutWhenARouteAppearsAndGroupsFanOut) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  for (int i = 0; i < 5; ++i) {
    auto ack = Post(kDeliverAs, Message("AS", "as-1", "UE", "ue-late", "late-" + std::to_string(i)));
    EXPECT_EQ(Str(Json(ack.body), "status"), "DELY_STORED") << ack.body;
  }
  ASSERT_EQ(Admin("POST", "/groups",
                  R"({"groupId":"g1","members":[{"addrType":"UE","addr":"ue-a"},)"
                  R"({"addrType":"UE","addr":"ue-b"},{"addrType":"UE","addr":"ue-c"}]})")
                .status,
            201);
  ASSERT_EQ(Post(kDeliverAs, Message("AS", "as-1", "GROUP", "g1", "g-1")).status, 200);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(gw_.received().empty());
  EXPECT_EQ(QueueCount("UE", "ue-late"), 5u);

  RouteUesToGateway();
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 8, 10s)) << d().log();
  EXPECT_TRUE(QueueDrains("UE", "ue-late", 5s));
  std::set<std::string> group_recipients;
  for (const auto& r : gw_.received("/deliver-message")) {
    auto v = api::sbi::DecodeL3gMessageDelivery(r.body);
    ASSERT_TRUE(v.ok());
    if (v.value->msgId == "g-1") group_recipients.insert(v.value->destAddr.addr);
  }
  EXPECT_EQ(group_recipients, (std::set<std::string>{"ue-a", "ue-b", "ue-c"}));
  for (const char* ue : {"ue-a", "ue-b", "ue-c"}) EXPECT_TRUE(QueueDrains("UE", ue, 5s));
  // The message itself is gone once its last recipient has it; its msgId is still known.
  auto view = Json(Admin("GET", "/messages/AS/as-1/g-1").body);
  EXPECT_EQ(Str(view, "outcome"), "DELY_STORED") << boost::json::serialize(view);  // no route then
  EXPECT_EQ(Str(view, "state"), "FINISHED") << boost::json::serialize(view);
  EXPECT_FALSE(view.contains("payloadBytes")) << boost::json::serialize(view);
}

// A report that a gateway hands in on deliver-report travels on to the original originator's
// targetUri the same way.
TEST_F(DeliveryE2E, InboundReportIsForwardedToTheOriginator) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", gw_.as_target("as-1"));
  auto ack = Post("/msgs-msgdelivery/v1/deliver-report",
                  R"({"oriAddr":{"addrType":"UE","addr":"ue-5"},"destAddr":{"addrType":"AS","addr":"as-1"},)"
                  R"("msgId":"orig-7","delivSt":"REPT_DELY_FAILED","failureCause":"UE memory full"})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  ASSERT_TRUE(gw_.WaitFor("/as/as-1/deliver-report", 1, 10s)) << d().log();
  auto report = api::sbi::DecodeDeliveryStatusReport(
      gw_.received("/as/as-1/deliver-report").front().body);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.value->msgId, "orig-7");
  EXPECT_EQ(report.value->delivSt, "REPT_DELY_FAILED");
  EXPECT_EQ(report.value->failureCause, "UE memory full");
  EXPECT_EQ(report.value->oriAddr.addr, "ue-5");
  EXPECT_EQ(report.value->destAddr.addr, "as-1");
  EXPECT_TRUE(QueueDrains("AS", "as-1", 5s));
}

// A payload larger than the gateway's max segment size goes out as segments.
TEST_F(DeliveryE2E, LargePayloadIsSegmentedForTheGateway) {
  Start({}, 100);
  ASSERT_TRUE(d().ok()) << d().log();
  RouteUesToGateway();
  std::string payload;
  for (int i = 0; i < 250; ++i) payload.push_back(static_cast<char>('a' + i % 26));
  SendPayload("ue-2", "big-1", payload);
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 3, 10s)) << d().log();
  auto parts = gw_.received("/deliver-message");
  ASSERT_EQ(parts.size(), 3u);
  std::vector<std::pair<std::int64_t, std::string>> pieces;
  std::set<std::string> msg_ids;
  for (const auto& p : parts) {
    auto v = api::sbi::DecodeL3gMessageDelivery(p.body);
    ASSERT_TRUE(v.ok()) << p.body;
    ASSERT_TRUE(v.value->segParams.has_value());
    EXPECT_EQ(v.value->segInd, true);
    EXPECT_EQ(v.value->segParams->segId, "big-1");  // first attempt: the msgId
    EXPECT_EQ(v.value->segParams->totalSegCount, 3);
    EXPECT_EQ(v.value->segParams->lastSegFlag, v.value->segParams->segNumb == 3);
    EXPECT_LE(v.value->payload->size(), 100u);
    msg_ids.insert(v.value->msgId);
    pieces.push_back({*v.value->segParams->segNumb, *v.value->payload});
  }
  EXPECT_EQ(msg_ids.size(), 3u);  // each segment is a message of its own
  std::sort(pieces.begin(), pieces.end());
  EXPECT_EQ(pieces[0].second + pieces[1].second + pieces[2].second, payload);
  EXPECT_TRUE(QueueDrains("UE", "ue-2", 5s));
}

// Many segments (more than the engine sends at once) all arrive and reassemble.
TEST_F(DeliveryE2E, ManySegmentsAllArrive) {
  Start({}, 100);
  ASSERT_TRUE(d().ok()) << d().log();
  RouteUesToGateway();
  std::string payload;
  for (int i = 0; i < 2000; ++i) payload.push_back(static_cast<char>('A' + i % 26));
  SendPayload("ue-4", "big-3", payload);
  ASSERT_TRUE(QueueDrains("UE", "ue-4", 10s)) << d().log();
  std::map<std::int64_t, std::string> pieces;
  for (const auto& r : gw_.received("/deliver-message")) {
    auto v = api::sbi::DecodeL3gMessageDelivery(r.body);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value->segParams->totalSegCount, 20);
    pieces[*v.value->segParams->segNumb] = *v.value->payload;
  }
  ASSERT_EQ(pieces.size(), 20u);
  std::string joined;
  for (const auto& [n, piece] : pieces) joined += piece;
  EXPECT_EQ(joined, payload);
}

// A destination that keeps failing is paused by its circuit breaker instead of being hammered
// with every pending message; a message sent without stoAndFwInd (to another destination of the
// same peer) gives up after delivery.max_attempts_without_store attempts with REPT_DELY_FAILED.
TEST_F(DeliveryE2E, FailingAsIsPausedAndUnstoredMessagesGiveUp) {
  ts::Receiver failing;
  failing.set_status(500);
  Start({"--set", "delivery.retry_initial_ms=500"});
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", gw_.as_target("as-1"));
  RegisterAs("as-500", failing.as_target("as-500"));
  RegisterAs("as-500b", failing.as_target("as-500b"));  // another destination, same failing peer
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(Post(kDeliverAs, Message("AS", "as-1", "AS", "as-500", "f-" + std::to_string(i)))
                  .status,
              200);
  }
  auto no_store = R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"AS","addr":"as-500b"},)"
                  R"("msgId":"ns-1","stoAndFwInd":false,"delivStReqInd":true,"payload":"x"})";
  ASSERT_EQ(Post(kDeliverAs, no_store).status, 200);
  std::this_thread::sleep_for(3s);
  // Without the breaker every message would have been tried about three times by now (500 ms,
  // then ~1 s, ...): 150+ requests. With it: the first burst, then one probe per pause.
  const auto attempts = failing.received("/as/as-500/deliver-message").size();
  EXPECT_LT(attempts, 110u) << attempts;
  EXPECT_GE(attempts, 5u);
  auto metrics = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  EXPECT_GT(ts::MetricValue(metrics, R"(msgin5g_delivery_attempts_total{channel="as",result="transient_failure"})"),
            0.0);
  // Breakers and retries are counted by channel: the failing AS's, not the gateway's.
  EXPECT_TRUE(ts::WaitFor([&] {
    auto m = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
    return ts::MetricValue(m, R"(msgin5g_delivery_breakers_open{channel="as"})") >= 1.0;
  }, 5s));
  EXPECT_EQ(ts::MetricValue(metrics, R"(msgin5g_delivery_breakers_open{channel="l3g"})"), 0.0);
  EXPECT_GT(ts::MetricValue(metrics, R"(msgin5g_delivery_retries_total{channel="as"})"), 0.0);
  // The unstored message: at most 3 attempts, then the failure report to its originator.
  ASSERT_TRUE(gw_.WaitFor("/as/as-1/deliver-report", 1, 30s)) << d().log();
  EXPECT_EQ(failing.received("/as/as-500b/deliver-message").size(), 3u);
  auto report = api::sbi::DecodeDeliveryStatusReport(
      gw_.received("/as/as-1/deliver-report").front().body);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.value->msgId, "ns-1");
  EXPECT_EQ(report.value->delivSt, "REPT_DELY_FAILED");
  EXPECT_NE(report.value->failureCause.value_or("").find("3 attempts"), std::string::npos)
      << report.value->failureCause.value_or("");
  // The stored ones are still waiting.
  EXPECT_EQ(QueueCount("AS", "as-500"), static_cast<std::uint64_t>(kMessages));
}

// A failed segmented delivery is retried as a fresh set (new segId, new msgIds): the receiver may
// have dropped the first partial set but still remember its segments as seen.
TEST_F(DeliveryE2E, SegmentedRetryIsAFreshSet) {
  Start({}, 100);
  ASSERT_TRUE(d().ok()) << d().log();
  RouteUesToGateway();
  gw_.set_status(503);
  SendPayload("ue-3", "big-2", std::string(150, 'x'));
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 2, 10s));
  gw_.set_status(204);
  ASSERT_TRUE(QueueDrains("UE", "ue-3", 10s)) << d().log();
  std::set<std::string> seg_ids, msg_ids;
  for (const auto& r : gw_.received("/deliver-message")) {
    auto v = api::sbi::DecodeL3gMessageDelivery(r.body);
    ASSERT_TRUE(v.ok());
    seg_ids.insert(*v.value->segParams->segId);
    msg_ids.insert(v.value->msgId);
  }
  EXPECT_EQ(seg_ids.count("big-2"), 1u);
  EXPECT_EQ(seg_ids.count("big-2~1"), 1u) << "the retry is a set of its own";
  EXPECT_EQ(msg_ids.count("big-2~1#1"), 1u);
  EXPECT_EQ(msg_ids.count("big-2~1#2"), 1u);
}

// The AS is down for a while, and msgin5gd is killed with -9 in the middle of the retries: after
// the restart and the AS's return every message arrives (duplicates allowed, losses not).
TEST_F(DeliveryE2E, AsDownThenUpAndCrashInBetweenLosesNothing) {
  const auto down_for = std::chrono::seconds(ts::EnvInt("MSGIN5G_AS_DOWN_SECONDS", 30));
  ts::Receiver as;
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-down", as.as_target("as-down"));
  const auto down_at = std::chrono::steady_clock::now();
  as.Stop();
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    auto ack = Post(kDeliverUe, Message("UE", "ue-9", "AS", "as-down", "d-" + std::to_string(i)));
    ASSERT_EQ(ack.status, 200) << ack.body;
  }
  std::this_thread::sleep_for(3s);  // retries are going on
  EXPECT_GT(ts::MetricValue(ts::Curl({"http://" + d().metrics() + "/metrics"}).body,
                            R"(msgin5g_delivery_retries_total{channel="as"})"),
            0.0);
  ASSERT_TRUE(d().proc().Stop(SIGKILL, 5s).has_value());
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  EXPECT_EQ(QueueCount("AS", "as-down"), static_cast<std::uint64_t>(kMessages));
  std::this_thread::sleep_until(down_at + down_for);
  as.Start();
  // The breaker's pause is at most retry_max (2 s) after the AS returns.
  ASSERT_TRUE(QueueDrains("AS", "as-down", 30s)) << d().log();
  std::set<std::string> ids;
  for (const auto& r : as.received("/as/as-down/deliver-message")) {
    auto v = api::sbi::DecodeUEMessageDelivery(r.body);
    ASSERT_TRUE(v.ok()) << r.body;
    ids.insert(v.value->msgId);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kMessages));
}

// exprTime 2 s to a recipient that cannot be reached: REPT_DELY_FAILED to the originator, and the
// entry is gone from the queue.
TEST_F(DeliveryE2E, ExpiredMessageFailsWithReportAndLeavesTheQueue) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", gw_.as_target("as-1"));
  const std::string expiry = api::sbi::FormatDateTime(std::chrono::system_clock::now() + 2s);
  auto ack = Post(kDeliverAs,
                  Message("AS", "as-1", "UE", "ue-nowhere", "x-1",
                          R"(,"delivStReqInd":true,"stoAndFwParams":{"exprTime":")" + expiry + "\"}"));
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(Str(Json(ack.body), "status"), "DELY_STORED");
  EXPECT_EQ(QueueCount("UE", "ue-nowhere"), 1u);
  ASSERT_TRUE(gw_.WaitFor("/as/as-1/deliver-report", 1, 10s)) << d().log();
  auto report = api::sbi::DecodeDeliveryStatusReport(
      gw_.received("/as/as-1/deliver-report").front().body);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.value->delivSt, "REPT_DELY_FAILED");
  EXPECT_EQ(report.value->msgId, "x-1");
  EXPECT_EQ(report.value->oriAddr.addr, "ue-nowhere");
  EXPECT_TRUE(report.value->failureCause.has_value());
  EXPECT_EQ(QueueCount("UE", "ue-nowhere"), 0u);
  EXPECT_TRUE(gw_.received("/deliver-message").empty());
}

// A permanent refusal (4xx) fails at once with a report; 503 + Retry-After is retried.
TEST_F(DeliveryE2E, PermanentRefusalReportsAndRetryAfterIsHonoured) {
  ts::Receiver picky;
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", gw_.as_target("as-1"));
  RegisterAs("as-picky", picky.as_target("as-picky"));
  picky.set_status(400);
  ASSERT_EQ(Post(kDeliverAs, Message("AS", "as-1", "AS", "as-picky", "p-1",
                                     R"(,"delivStReqInd":true)"))
                .status,
            200);
  ASSERT_TRUE(gw_.WaitFor("/as/as-1/deliver-report", 1, 10s)) << d().log();
  auto report = api::sbi::DecodeDeliveryStatusReport(
      gw_.received("/as/as-1/deliver-report").front().body);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.value->delivSt, "REPT_DELY_FAILED");
  EXPECT_NE(report.value->failureCause.value_or("").find("400"), std::string::npos);
  EXPECT_EQ(picky.received("/deliver-message").size(), 1u);  // not retried

  picky.set_status(503, "1");
  ASSERT_EQ(Post(kDeliverAs, Message("AS", "as-1", "AS", "as-picky", "p-2")).status, 200);
  ASSERT_TRUE(picky.WaitFor("/deliver-message", 2, 5s));
  const auto first = picky.received("/deliver-message").back().at;
  picky.set_status(204);
  ASSERT_TRUE(picky.WaitFor("/deliver-message", 3, 10s)) << d().log();
  // Retry-After: 1 holds the destination back for at least a second.
  EXPECT_GE(picky.received("/deliver-message").back().at - first, 900ms);
  EXPECT_TRUE(QueueDrains("AS", "as-picky", 5s));
}

// HIGH before MIDDLE before LOW: messages queued while the gateway is away go out by priority.
TEST_F(DeliveryE2E, HigherPriorityGoesFirst) {
  Start({"--set", "delivery.max_in_flight_per_destination=1"});
  ASSERT_TRUE(d().ok()) << d().log();
  gw_.Stop();
  RouteUesToGateway();
  const char* priorities[] = {"LOW", "MIDDLE", "HIGH"};
  for (int i = 0; i < 9; ++i) {
    ASSERT_EQ(Post(kDeliverAs, Message("AS", "as-1", "UE", "ue-p", "q-" + std::to_string(i),
                                       std::string(R"(,"priority":")") + priorities[i % 3] + "\""))
                  .status,
              200);
  }
  std::this_thread::sleep_for(500ms);
  gw_.Start();
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 9, 20s)) << d().log();
  // Whatever was in flight when the gateway came back may come first; after it, strict order.
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& r : gw_.received("/deliver-message")) {
    auto v = api::sbi::DecodeL3gMessageDelivery(r.body);
    ASSERT_TRUE(v.ok());
    if (seen.insert(v.value->msgId).second) order.push_back(v.value->msgId);
  }
  ASSERT_EQ(order.size(), 9u);
  auto rank = [](const std::string& id) { return 2 - (std::stoi(id.substr(2)) % 3); };  // HIGH 0
  for (std::size_t i = 2; i < order.size(); ++i) {
    EXPECT_LE(rank(order[i - 1]), rank(order[i])) << "position " << i;
  }
}

// A dead (hanging) AS and a healthy AS side by side: the healthy one's latency stays within 2x of
// running alone.
TEST_F(DeliveryE2E, DeadAsDoesNotDelayHealthyAs) {
  ts::Receiver dead;
  dead.set_status(0);  // never answers
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-ok", gw_.as_target("as-ok"));
  RegisterAs("as-dead", dead.as_target("as-dead"));
  // accept -> delivered latency of `n` messages to as-ok sent one at a time: the median.
  int sent = 0;
  auto median_latency = [&](int n) {
    std::vector<std::chrono::microseconds> lat;
    for (int i = 0; i < n; ++i) {
      const std::string id = "ok-" + std::to_string(sent++);
      const auto before = gw_.received("/as/as-ok/deliver-message").size();
      const auto t0 = std::chrono::steady_clock::now();
      EXPECT_EQ(Post(kDeliverUe, Message("UE", "ue-1", "AS", "as-ok", id)).status, 200);
      EXPECT_TRUE(gw_.WaitFor("/as/as-ok/deliver-message", before + 1, 5s));
      lat.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
          gw_.received("/as/as-ok/deliver-message").back().at - t0));
    }
    std::sort(lat.begin(), lat.end());
    return lat[lat.size() / 2];
  };
  const auto alone = median_latency(100);
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(Post(kDeliverUe, Message("UE", "ue-1", "AS", "as-dead", "dead-" + std::to_string(i)))
                  .status,
              200);
  }
  ASSERT_TRUE(dead.WaitFor("/deliver-message", 64, 5s));  // its in-flight slots are all taken
  const auto beside_dead = median_latency(100);
  // 1 ms of slack: medians of a millisecond or two move by that much on a busy 2-core machine.
  EXPECT_LE(beside_dead, 2 * alone + 1ms)
      << "alone " << alone.count() << " us, beside a dead AS " << beside_dead.count() << " us";
  EXPECT_EQ(QueueCount("AS", "as-dead"), 300u);  // still waiting, nothing lost
}

// Outbound OAuth2 (issue 5): a second msgin5gd acts as the authorization server; the delivering
// msgin5gd fetches a client-credentials token there, sends it with every request, reuses it, and
// after a 401 from the gateway fetches a fresh one for the retry.
TEST_F(DeliveryE2E, OutboundRequestsCarryATokenRenewedAfter401) {
  ts::TempDir auth_dir;
  ts::WriteFile(auth_dir.File("auth.toml"),
            "[security]\ntoken_endpoint = true\nserver_id = \"gw-side\"\n"
            "[clients.msgin5g-out]\nsecret_hash = \"" + api::auth::HashSecret("pw 1") + "\"\n");
  ts::Daemon auth(auth_dir.File("data"), auth_dir.path(), {"--config", auth_dir.File("auth.toml")});
  ASSERT_TRUE(auth.ok());
  Start({"--set", "delivery.oauth2_token_url=http://" + auth.sbi() + "/oauth2/token",
         "--set", "delivery.oauth2_client_id=msgin5g-out",
         "--set", "delivery.oauth2_client_secret=pw 1",  // form-encoded as pw+1
         "--set", "delivery.oauth2_scope=3gpp#gw-side:msgs-msgdelivery"});
  ASSERT_TRUE(d().ok());
  RouteUesToGateway();
  for (int i = 0; i < 3; ++i) SendPayload("ue-1", "t" + std::to_string(i), "x");
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 3, 10s));
  auto first = gw_.received("/deliver-message");
  ASSERT_EQ(first.size(), 3u);
  const std::string token = first[0].authorization;
  ASSERT_EQ(token.rfind("Bearer ", 0), 0u) << token;
  for (const auto& r : first) EXPECT_EQ(r.authorization, token) << "the token is cached";
  // The token is one msgin5gd issued to msgin5g-out for the gateway's server id.
  std::string payload_b64 = token.substr(token.find('.') + 1);
  payload_b64 = payload_b64.substr(0, payload_b64.find('.'));
  for (auto& c : payload_b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (payload_b64.size() % 4 != 0) payload_b64 += '=';
  auto decoded = ts::Run({"sh", "-c", "printf %s '" + payload_b64 + "' | base64 -d"});
  auto claims = Json(decoded.out);
  EXPECT_EQ(Str(claims, "client_id"), "msgin5g-out") << decoded.out;
  EXPECT_EQ(Str(claims, "scope"), "3gpp#gw-side:msgs-msgdelivery");

  // The gateway now refuses the token: the message is retried with a newly fetched one.
  gw_.set_status(401);
  SendPayload("ue-1", "t3", "x");
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 4, 10s));
  gw_.set_status(204);
  ASSERT_TRUE(QueueDrains("UE", "ue-1", 20s));
  auto all = gw_.received("/deliver-message");
  ASSERT_GE(all.size(), 5u);
  EXPECT_EQ(all[3].authorization, token);
  EXPECT_NE(all.back().authorization, token) << "a fresh token after the 401";
  EXPECT_EQ(all.back().authorization.rfind("Bearer ", 0), 0u);
  EXPECT_EQ(ts::MetricValue(ts::Curl({"http://" + auth.metrics() + "/metrics"}).body,
                            "msgin5g_auth_decisions_total{outcome=\"token_issued\"}"),
            2);
}

// POST /admin/v1/drain: new messages get 503 and /readyz turns false at once; what has a route is
// still delivered (here once the gateway comes back, well before the deadline); then msgin5gd
// stops by itself with exit 0, keeping what had no route for the next start.
TEST_F(DeliveryE2E, DrainDeliversWhatHasARouteRefusesNewOnesAndStops) {
  gw_.Stop();
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RouteUesToGateway();
  for (int i = 0; i < 5; ++i) SendPayload("ue-d" + std::to_string(i), "d-" + std::to_string(i), "x");
  for (int i = 0; i < 2; ++i) {  // no rule for "direct-*": over CoAP, and not registered
    auto ack = Post(kDeliverAs, Message("AS", "as-1", "UE", "direct-1", "k-" + std::to_string(i)));
    ASSERT_EQ(Str(Json(ack.body), "status"), "DELY_STORED") << ack.body;
  }
  auto bad = Admin("POST", "/drain", R"({"deadlineS":0})");
  EXPECT_EQ(bad.status, 400) << bad.body;

  auto started = Admin("POST", "/drain", R"({"deadlineS":60})");
  ASSERT_EQ(started.status, 202) << started.body;
  auto state = Json(started.body);
  EXPECT_EQ(state["draining"], boost::json::value(true));
  EXPECT_EQ(state["pending"].to_number<int>(), 7) << started.body;
  EXPECT_EQ(state["deliverable"].to_number<int>(), 5) << started.body;
  auto again = Admin("POST", "/drain", "");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("DRAINING"), std::string::npos) << again.body;

  auto refused = Post(kDeliverAs, Message("AS", "as-1", "UE", "ue-d0", "late"));
  EXPECT_EQ(refused.status, 503) << refused.body;
  bool retry_after = false;
  for (const auto& h : refused.headers) retry_after |= h.name == "retry-after";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(ts::Curl({"-s", "http://" + d().metrics() + "/readyz"}).status, 503);

  gw_.Start();
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 5, 20s)) << d().log();
  auto code = d().proc().Wait(20s);
  ASSERT_TRUE(code.has_value()) << "msgin5gd did not stop after the drain\n" << d().log();
  EXPECT_EQ(*code, 0) << d().log();
  EXPECT_NE(d().log().find("drain: 0 deliverable and 0 in flight left, 2 stored entries kept"),
            std::string::npos)
      << d().log();

  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  EXPECT_EQ(QueueCount("UE", "direct-1"), 2u);
  EXPECT_EQ(QueueCount("UE", "ue-d0"), 0u);
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/late").status, 404);  // refused: nothing stored
}

// An operator's resend: a recipient waiting out a long backoff (here a minute) is tried at once,
// one without a route is counted and keeps waiting, and a finished message cannot be resent.
TEST_F(DeliveryE2E, ResendTriesAWaitingRecipientNowAndCountsTheRest) {
  gw_.set_status(503);
  Start({"--set", "delivery.retry_initial_ms=60000", "--set", "delivery.retry_max_ms=60000",
         "--set", "delivery.breaker_failures=100"});
  ASSERT_TRUE(d().ok()) << d().log();
  RouteUesToGateway();
  SendPayload("ue-r1", "r-1", "again");
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 1, 10s)) << d().log();
  auto parked = Post(kDeliverAs, Message("AS", "as-1", "UE", "direct-1", "r-2"));
  ASSERT_EQ(Str(Json(parked.body), "status"), "DELY_STORED") << parked.body;
  gw_.set_status(204);
  // The failed attempt's retry is stored (a minute away) before the resend can see it waiting.
  boost::json::object resent;
  ASSERT_TRUE(ts::WaitFor([&] {
    auto r = Admin("POST", "/messages/AS/as-1/r-1/resend");
    EXPECT_EQ(r.status, 200) << r.body;
    resent = Json(r.body);
    return resent["inFlight"].to_number<int>() == 0;
  }, 10s)) << resent;
  EXPECT_EQ(resent["resent"].to_number<int>(), 1) << resent;
  EXPECT_EQ(resent["noRoute"].to_number<int>(), 0) << resent;
  EXPECT_EQ(resent["breakerOpen"].to_number<int>(), 0) << resent;
  ASSERT_TRUE(gw_.WaitFor("/deliver-message", 2, 10s)) << d().log();
  EXPECT_TRUE(QueueDrains("UE", "ue-r1", 10s));

  auto finished = Admin("POST", "/messages/AS/as-1/r-1/resend");
  EXPECT_EQ(finished.status, 409) << finished.body;
  EXPECT_EQ(Str(Json(finished.body), "cause"), "MESSAGE_FINISHED") << finished.body;
  auto waiting = Json(Admin("POST", "/messages/AS/as-1/r-2/resend").body);
  EXPECT_EQ(waiting["resent"].to_number<int>(), 0) << waiting;
  EXPECT_EQ(waiting["noRoute"].to_number<int>(), 1) << waiting;
  EXPECT_EQ(QueueCount("UE", "direct-1"), 1u);
  auto unknown = Admin("POST", "/messages/AS/as-1/nope/resend");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_NE(unknown.headers.find("content-type: application/problem+json"), std::string::npos)
      << unknown.headers;
}

}  // namespace
}  // namespace msgin5g
