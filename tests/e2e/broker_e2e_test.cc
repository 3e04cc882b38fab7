// The durable broker end to end, with curl against the real msgin5gd, as in the issue's checks:
// store-and-forward acks, idempotency, group and topic fan-out by reference, out-of-order segment
// reassembly, and state surviving a restart.
#include <signal.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/metric_value.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;

boost::json::object Json(const std::string& s) {
  boost::json::error_code ec;
  auto v = boost::json::parse(s, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

class BrokerE2E : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    daemon_ = std::make_unique<ts::Daemon>(dir_.File("data"), dir_.path(), std::move(extra));
  }
  ts::Daemon& d() { return *daemon_; }

  ts::CurlResult Post(const std::string& path, const std::string& body) {
    return ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d", body,
                     "http://" + d().sbi() + path});
  }
  ts::CurlResult Admin(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    return d().Admin(method, path, body);
  }
  std::uint64_t QueueCount(const std::string& type, const std::string& addr) {
    auto r = Admin("GET", "/queues/" + type + "/" + addr);
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = Json(r.body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : 0;
  }
  static std::string AsMessage(const std::string& dest_type, const std::string& dest,
                               const std::string& msg_id, const std::string& extra = "") {
    return R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":")" + dest_type +
           R"(","addr":")" + dest + R"("},"msgId":")" + msg_id +
           R"(","stoAndFwInd":true,"payload":"hello")" + extra + "}";
  }

  ts::TempDir dir_;
  std::unique_ptr<ts::Daemon> daemon_;
};

const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";

TEST_F(BrokerE2E, OfflineUeIsStoredOnceAndRepeatsAreIdempotent) {
  Start();
  ASSERT_TRUE(d().ok());
  auto reg = Post("/msgs-asregistration/v1/registrations",
                  R"({"asSvcId":"as-1","targetUri":"http://127.0.0.1:1/as-1"})");
  ASSERT_EQ(reg.status, 201) << reg.body;

  auto first = Post(kDeliverAs, AsMessage("UE", "ue-sleepy", "m-1", R"(,"priority":"HIGH")"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Json(first.body)["status"].as_string(), "DELY_STORED");
  EXPECT_EQ(QueueCount("UE", "ue-sleepy"), 1u);

  auto again = Post(kDeliverAs, AsMessage("UE", "ue-sleepy", "m-1", R"(,"priority":"HIGH")"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(QueueCount("UE", "ue-sleepy"), 1u);  // nothing new stored

  auto q = Json(Admin("GET", "/queues/UE/ue-sleepy").body);
  EXPECT_EQ(q["byPriority"].as_object()["HIGH"].to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(q["bytes"].to_number<std::uint64_t>(), 5u);  // "hello"

  auto msg = Admin("GET", "/messages/AS/as-1/m-1");
  ASSERT_EQ(msg.status, 200) << msg.body;
  auto m = Json(msg.body);
  EXPECT_EQ(m["outcome"].as_string(), "DELY_STORED");
  ASSERT_EQ(m["recipients"].as_array().size(), 1u);
  EXPECT_EQ(m["recipients"].as_array()[0].as_object().at("state").as_string(), "QUEUED");

  // stoAndFwInd=false to an unreachable UE: DELY_FAILED, nothing queued.
  auto failed = Post(kDeliverAs, R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-other"},"msgId":"m-2","stoAndFwInd":false})");
  EXPECT_EQ(Json(failed.body)["status"].as_string(), "DELY_FAILED");
  EXPECT_FALSE(Json(failed.body)["failureCause"].as_string().empty());
  EXPECT_EQ(QueueCount("UE", "ue-other"), 0u);
}

TEST_F(BrokerE2E, GroupFansOutByReference) {
  Start();
  ASSERT_TRUE(d().ok());
  auto g = Admin("POST", "/groups",
                 R"({"groupId":"g1","members":[{"addrType":"UE","addr":"ue-a"},{"addrType":"UE","addr":"ue-b"},{"addrType":"UE","addr":"ue-c"}]})");
  ASSERT_EQ(g.status, 201) << g.body;
  auto r = Post(kDeliverAs, AsMessage("GROUP", "g1", "g-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body)["status"].as_string(), "DELY_STORED");
  for (const char* ue : {"ue-a", "ue-b", "ue-c"}) EXPECT_EQ(QueueCount("UE", ue), 1u) << ue;
  auto m = Json(Admin("GET", "/messages/AS/as-1/g-1").body);
  EXPECT_EQ(m["recipients"].as_array().size(), 3u);
  EXPECT_EQ(m["payloadBytes"].to_number<std::uint64_t>(), 5u);  // one stored payload
  auto undefined = Post(kDeliverAs, AsMessage("GROUP", "nope", "g-2"));
  EXPECT_EQ(undefined.status, 404);
  EXPECT_EQ(Json(undefined.body)["cause"].as_string(), "UNKNOWN_RECIPIENT");
}

TEST_F(BrokerE2E, TopicGivesOneEntryPerSubscriber) {
  Start();
  ASSERT_TRUE(d().ok());
  EXPECT_EQ(Admin("PUT", "/topics/weather/subscribers/UE/ue-1").status, 204);
  EXPECT_EQ(Admin("PUT", "/topics/weather/subscribers/UE/ue-2").status, 204);
  EXPECT_EQ(Admin("PUT", "/topics/weather/subscribers/UE/ue-3",
                  R"({"expiry":"2000-01-01T00:00:00Z"})")
                .status,
            204);  // already expired: gets nothing
  auto r = Post(kDeliverAs, AsMessage("TOPIC", "weather", "t-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(QueueCount("UE", "ue-1"), 1u);
  EXPECT_EQ(QueueCount("UE", "ue-2"), 1u);
  EXPECT_EQ(QueueCount("UE", "ue-3"), 0u);
  auto none = Post(kDeliverAs, AsMessage("TOPIC", "empty-topic", "t-2"));
  EXPECT_EQ(Json(none.body)["status"].as_string(), "DELY_FAILED");
}

TEST_F(BrokerE2E, SegmentsOutOfOrderBecomeOneMessage) {
  Start();
  ASSERT_TRUE(d().ok());
  const std::string parts[] = {"AAA", "BBB", "CCC", "DDD"};
  for (int n : {3, 1, 4, 2}) {
    std::string body =
        R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-seg"},"msgId":"seg-part-)" +
        std::to_string(n) + R"(","stoAndFwInd":true,"segInd":true,"payload":")" + parts[n - 1] +
        R"(","segParams":{"segId":"S1","totalSegCount":4,"segNumb":)" + std::to_string(n) +
        R"(,"lastSegFlag":)" + (n == 4 ? "true" : "false") + "}}";
    auto r = Post(kDeliverAs, body);
    ASSERT_EQ(r.status, 200) << r.body;
    if (n != 2) {
      EXPECT_EQ(QueueCount("UE", "ue-seg"), 0u) << "after segment " << n;
    }
  }
  EXPECT_EQ(QueueCount("UE", "ue-seg"), 1u);
  auto m = Json(Admin("GET", "/messages/AS/as-1/S1").body);
  EXPECT_EQ(m["payloadBytes"].to_number<std::uint64_t>(), 12u);
  EXPECT_EQ(m["recipients"].as_array().size(), 1u);
  auto stats = Json(Admin("GET", "/stats").body);
  EXPECT_EQ(stats["openSegmentSets"].to_number<std::uint64_t>(), 0u);
}

std::string Segment(const std::string& msg_id, const std::string& seg_id, int n, int total,
                    const std::string& payload) {
  return R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-seg"},"msgId":")" +
         msg_id + R"(","stoAndFwInd":true,"segInd":true,"payload":")" + payload +
         R"(","segParams":{"segId":")" + seg_id + R"(","totalSegCount":)" + std::to_string(total) +
         R"(,"segNumb":)" + std::to_string(n) + "}}";
}

// TS 23.554 8.5: the total is carried by the first segment, the last segment carries
// lastSegFlag; the others need neither.
TEST_F(BrokerE2E, OnlyTheFirstSegmentNeedsTheTotal) {
  Start();
  ASSERT_TRUE(d().ok());
  auto seg = [](const std::string& id, const std::string& params, const std::string& payload) {
    return R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-seg"},)"
           R"("msgId":")" + id + R"(","stoAndFwInd":true,"segInd":true,"payload":")" + payload +
           R"(","segParams":{"segId":"F1",)" + params + "}}";
  };
  ASSERT_EQ(Post(kDeliverAs, seg("f-2", R"("segNumb":2)", "BB")).status, 200);
  ASSERT_EQ(Post(kDeliverAs, seg("f-3", R"("segNumb":3,"lastSegFlag":true)", "CC")).status, 200);
  // The first segment without its total: 400 naming it, nothing stored.
  auto missing = Post(kDeliverAs, seg("f-1", R"("segNumb":1)", "AA"));
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_NE(missing.body.find("/segParams/totalSegCount"), std::string::npos) << missing.body;
  EXPECT_EQ(QueueCount("UE", "ue-seg"), 0u);
  auto zero = Post(kDeliverAs, seg("f-0", R"("segNumb":0)", "AA"));
  EXPECT_EQ(zero.status, 400) << zero.body;
  EXPECT_NE(zero.body.find("/segParams/segNumb"), std::string::npos) << zero.body;
  ASSERT_EQ(Post(kDeliverAs, seg("f-1", R"("segNumb":1,"totalSegCount":3)", "AA")).status, 200);
  EXPECT_EQ(QueueCount("UE", "ue-seg"), 1u);
  auto m = Json(Admin("GET", "/messages/AS/as-1/F1").body);
  EXPECT_EQ(m["payloadBytes"].to_number<std::uint64_t>(), 6u);
}

// A segment whose msgId equals the segId must not make the reassembled message look like a repeat
// (it would be acknowledged and dropped).
TEST_F(BrokerE2E, SegmentWithMsgIdEqualToSegIdStillReassembles) {
  Start();
  ASSERT_TRUE(d().ok());
  ASSERT_EQ(Post(kDeliverAs, Segment("X", "X", 1, 2, "ab")).status, 200);
  ASSERT_EQ(Post(kDeliverAs, Segment("Y", "X", 2, 2, "cd")).status, 200);
  EXPECT_EQ(QueueCount("UE", "ue-seg"), 1u);
  auto m = Json(Admin("GET", "/messages/AS/as-1/Y").body);  // the completing segment points to it
  EXPECT_EQ(m["payloadBytes"].to_number<std::uint64_t>(), 4u);
}

TEST_F(BrokerE2E, OversizedSegmentSetGets413AndStoresNothingMore) {
  Start({"--set", "broker.max_reassembled_bytes=1024"});
  ASSERT_TRUE(d().ok());
  ASSERT_EQ(Post(kDeliverAs, Segment("s1", "BIG", 1, 3, std::string(600, 'a'))).status, 200);
  auto second = Post(kDeliverAs, Segment("s2", "BIG", 2, 3, std::string(600, 'b')));
  EXPECT_EQ(second.status, 413) << second.body;
  EXPECT_EQ(Json(second.body)["cause"].as_string(), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["openSegmentSets"].to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/s2").status, 404);  // refused: nothing recorded
}

std::string SegmentFrom(const std::string& origin, const std::string& msg_id,
                        const std::string& seg_id, int n, int total) {
  return R"({"oriAddr":{"addrType":"AS","addr":")" + origin +
         R"("},"destAddr":{"addrType":"UE","addr":"ue-seg"},"msgId":")" + msg_id +
         R"(","stoAndFwInd":true,"segInd":true,"payload":"x","segParams":{"segId":")" + seg_id +
         R"(","totalSegCount":)" + std::to_string(total) + R"(,"segNumb":)" + std::to_string(n) +
         "}}";
}

// Open segment sets are bounded: past the per-originator bound a new set gets 429, past the total
// 503, both ProblemDetails with Retry-After that store nothing; segments of open sets still go in;
// the count (and its gauge) is the same after a restart.
TEST_F(BrokerE2E, OpenSegmentSetBoundsAnswer429And503AndStoreNothing) {
  const std::vector<std::string> bounds = {"--set", "broker.max_open_segment_sets=2", "--set",
                                           "broker.max_open_segment_sets_per_originator=1"};
  Start(bounds);
  ASSERT_TRUE(d().ok()) << d().log();
  auto open_sets = [&] {
    return ts::MetricValue(ts::Curl({"http://" + d().metrics() + "/metrics"}).body,
                           "msgin5g_broker_open_segment_sets");
  };
  ASSERT_EQ(Post(kDeliverAs, SegmentFrom("as-1", "a1", "S1", 1, 3)).status, 200);
  auto per_originator = Post(kDeliverAs, SegmentFrom("as-1", "a2", "S2", 1, 3));
  EXPECT_EQ(per_originator.status, 429) << per_originator.body;
  EXPECT_EQ(Json(per_originator.body)["status"].to_number<int>(), 429);
  EXPECT_EQ(Json(per_originator.body)["cause"].as_string(), "NF_CONGESTION_RISK");
  EXPECT_NE(Json(per_originator.body)["detail"].as_string().find("max_open_segment_sets_per_originator"),
            std::string::npos)
      << per_originator.body;
  EXPECT_NE(per_originator.headers.find("retry-after:"), std::string::npos);
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/a2").status, 404);  // nothing stored

  ASSERT_EQ(Post(kDeliverAs, SegmentFrom("as-2", "b1", "T1", 1, 3)).status, 200);
  auto total = Post(kDeliverAs, SegmentFrom("as-3", "c1", "U1", 1, 3));
  EXPECT_EQ(total.status, 503) << total.body;
  EXPECT_EQ(Json(total.body)["status"].to_number<int>(), 503);
  EXPECT_EQ(Json(total.body)["cause"].as_string(), "NF_CONGESTION");
  EXPECT_NE(total.headers.find("retry-after:"), std::string::npos);
  EXPECT_EQ(Admin("GET", "/messages/AS/as-3/c1").status, 404);
  // A segment of an open set is still taken.
  EXPECT_EQ(Post(kDeliverAs, SegmentFrom("as-1", "a1-2", "S1", 2, 3)).status, 200);
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["openSegmentSets"].to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(open_sets(), 2);

  auto code = d().proc().Stop(SIGTERM, 10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << d().log();
  Start(bounds);
  ASSERT_TRUE(d().ok()) << d().log();
  EXPECT_EQ(open_sets(), 2);
  EXPECT_EQ(Post(kDeliverAs, SegmentFrom("as-3", "c1", "U1", 1, 3)).status, 503);
  EXPECT_EQ(Post(kDeliverAs, SegmentFrom("as-1", "a1-3", "S1", 3, 3)).status, 200);  // completes
  EXPECT_EQ(open_sets(), 1);
  EXPECT_EQ(Post(kDeliverAs, SegmentFrom("as-3", "c1", "U1", 1, 3)).status, 200);
  EXPECT_EQ(QueueCount("UE", "ue-seg"), 1u);
}

// The attack report's flood: unique msgIds to offline UEs. The bounds answer before they are
// passed: a full UE gets DELY_FAILED QUEUE_FULL (nothing stored), the total 503 NF_CONGESTION +
// Retry-After (nothing stored), a new asSvcId past its bound 503; the counts survive a restart and
// /metrics shows each bound's limit and use.
TEST_F(BrokerE2E, QueueAndRegistrationBoundsAnswerBeforeTheyArePassedAndSurviveARestart) {
  const std::vector<std::string> bounds = {
      "--set", "broker.max_queued_messages=5",         "--set",
      "broker.max_queued_messages_per_recipient=2",    "--set",
      "broker.max_as_registrations=1",                 "--set",
      "broker.max_queued_bytes_per_recipient=1024"};
  Start(bounds);
  ASSERT_TRUE(d().ok()) << d().log();
  auto metric = [&](const std::string& series) {
    return ts::MetricValue(ts::Curl({"http://" + d().metrics() + "/metrics"}).body, series);
  };
  for (const char* id : {"m-1", "m-2"}) {
    auto r = Post(kDeliverAs, AsMessage("UE", "ue-1", id));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Json(r.body)["status"].as_string(), "DELY_STORED");
  }
  auto full = Post(kDeliverAs, AsMessage("UE", "ue-1", "m-3"));
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(Json(full.body)["status"].as_string(), "DELY_FAILED");
  EXPECT_NE(Json(full.body)["failureCause"].as_string().find("QUEUE_FULL"), std::string::npos)
      << full.body;
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/m-3").status, 404);  // nothing stored
  EXPECT_EQ(QueueCount("UE", "ue-1"), 2u);

  ASSERT_EQ(Post(kDeliverAs, AsMessage("UE", "ue-2", "n-1")).status, 200);
  ASSERT_EQ(Post(kDeliverAs, AsMessage("UE", "ue-2", "n-2")).status, 200);
  ASSERT_EQ(Post(kDeliverAs, AsMessage("UE", "ue-3", "n-3")).status, 200);  // 5 of 5
  auto total = Post(kDeliverAs, AsMessage("UE", "ue-4", "n-4"));
  EXPECT_EQ(total.status, 503) << total.body;
  EXPECT_EQ(Json(total.body)["status"].to_number<int>(), 503);
  EXPECT_EQ(Json(total.body)["cause"].as_string(), "NF_CONGESTION");
  EXPECT_NE(Json(total.body)["detail"].as_string().find("broker.max_queued_messages"),
            std::string::npos);
  EXPECT_NE(total.headers.find("retry-after:"), std::string::npos);
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/n-4").status, 404);
  EXPECT_EQ(QueueCount("UE", "ue-4"), 0u);

  ASSERT_EQ(Post("/msgs-asregistration/v1/registrations",
                 R"({"asSvcId":"as-a","targetUri":"http://127.0.0.1:1/a"})")
                .status,
            201);
  auto as_full = Post("/msgs-asregistration/v1/registrations",
                      R"({"asSvcId":"as-b","targetUri":"http://127.0.0.1:1/b"})");
  EXPECT_EQ(as_full.status, 503) << as_full.body;
  EXPECT_EQ(Json(as_full.body)["cause"].as_string(), "NF_CONGESTION");
  EXPECT_NE(as_full.headers.find("retry-after:"), std::string::npos);

  EXPECT_EQ(metric("msgin5g_broker_usage{bound=\"queued_messages\"}"), 5);
  EXPECT_EQ(metric("msgin5g_broker_limit{bound=\"queued_messages\"}"), 5);
  EXPECT_EQ(metric("msgin5g_broker_limit{bound=\"recipient_queued_messages\"}"), 2);
  EXPECT_EQ(metric("msgin5g_broker_usage{bound=\"as_registrations\"}"), 1);
  EXPECT_EQ(metric("msgin5g_broker_limit_refused_total{bound=\"recipient_queued_messages\"}"), 1);
  EXPECT_EQ(metric("msgin5g_broker_limit_refused_total{bound=\"queued_messages\"}"), 1);
  auto text = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  auto promtool = ts::Run({"promtool", "check", "metrics"}, text);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;

  auto code = d().proc().Stop(SIGTERM, 10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << d().log();
  Start(bounds);
  ASSERT_TRUE(d().ok()) << d().log();
  EXPECT_EQ(metric("msgin5g_broker_usage{bound=\"queued_messages\"}"), 5);
  EXPECT_EQ(Post(kDeliverAs, AsMessage("UE", "ue-4", "n-4")).status, 503);
  EXPECT_EQ(Json(Post(kDeliverAs, AsMessage("UE", "ue-1", "m-3")).body)["status"].as_string(),
            "DELY_FAILED");
  EXPECT_EQ(Post("/msgs-asregistration/v1/registrations",
                 R"({"asSvcId":"as-b","targetUri":"http://127.0.0.1:1/b"})")
                .status,
            503);
  EXPECT_EQ(Post("/msgs-asregistration/v1/registrations",
                 R"({"asSvcId":"as-a","targetUri":"http://127.0.0.1:1/a2"})")
                .status,
            201);  // a known asSvcId registers again
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/n-4").status, 404);
}

TEST_F(BrokerE2E, StateSurvivesRestart) {
  // A gateway nobody listens for: messages routed there stay queued (retried).
  const std::vector<std::string> gateway = {"--set", "gateways.l3g-1.type=l3g", "--set",
                                            "gateways.l3g-1.api_root=http://127.0.0.1:1"};
  Start(gateway);
  ASSERT_TRUE(d().ok());
  ASSERT_EQ(Post("/msgs-asregistration/v1/registrations",
                 R"({"asSvcId":"as-keep","targetUri":"http://127.0.0.1:1/x"})")
                .status,
            201);
  ASSERT_EQ(Admin("PUT", "/routing-rules/l3g", R"({"pattern":"ue-sms-*","gateway":"l3g-1"})").status,
            200);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Post(kDeliverAs, AsMessage("UE", "ue-r", "r-" + std::to_string(i))).status, 200);
  }
  auto code = d().proc().Stop(SIGTERM, 10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << d().log();

  Start(gateway);
  ASSERT_TRUE(d().ok()) << d().log();
  EXPECT_EQ(QueueCount("UE", "ue-r"), 10u);
  // The registration and the routing rule came back: AS and gateway-routed UE are reachable.
  auto to_as = Post(kDeliverAs, AsMessage("AS", "as-keep", "after-1"));
  EXPECT_EQ(to_as.status, 200) << to_as.body;
  EXPECT_FALSE(Json(to_as.body).contains("status"));
  auto to_sms = Post(kDeliverAs, AsMessage("UE", "ue-sms-5", "after-2"));
  EXPECT_FALSE(Json(to_sms.body).contains("status")) << to_sms.body;
  // A repeat of a message accepted before the restart answers as before.
  EXPECT_EQ(Json(Post(kDeliverAs, AsMessage("UE", "ue-r", "r-3")).body)["status"].as_string(),
            "DELY_STORED");
  EXPECT_EQ(QueueCount("UE", "ue-r"), 10u);
  auto stats = Json(Admin("GET", "/stats").body);
  EXPECT_EQ(stats["routingRules"].to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(stats["registrations"].to_number<std::uint64_t>(), 1u);
}

TEST_F(BrokerE2E, AdminBadInputGetsProblemDetails) {
  Start();
  ASSERT_TRUE(d().ok());
  auto bad_group = Admin("POST", "/groups", R"({"members":[{"addrType":"X","addr":""}]})");
  EXPECT_EQ(bad_group.status, 400);
  EXPECT_NE(bad_group.body.find("/groupId"), std::string::npos) << bad_group.body;
  EXPECT_NE(bad_group.body.find("/members/0/addrType"), std::string::npos) << bad_group.body;
  EXPECT_EQ(Admin("DELETE", "/groups/none").status, 404);
  EXPECT_EQ(Admin("GET", "/queues/NOPE/x").status, 400);
  EXPECT_EQ(Admin("PUT", "/routing-rules/r", R"({"gateway":5})").status, 400);
  auto unknown_gw = Admin("PUT", "/routing-rules/r", R"({"pattern":"ue-*","gateway":"nope"})");
  EXPECT_EQ(unknown_gw.status, 400) << unknown_gw.body;
  EXPECT_NE(unknown_gw.body.find("nope"), std::string::npos) << unknown_gw.body;
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["routingRules"].to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(Admin("GET", "/messages/AS/as-1/unknown").status, 404);
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["groups"].to_number<std::uint64_t>(), 0u);
}

}  // namespace
}  // namespace msgin5g
