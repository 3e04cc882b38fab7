// The gateway's L3G role (SMS over SMPP 3.4) end to end, with nothing mocked: a real HTTP/2 AS
// (tests/support/receiver.h) -> the real msgin5gd -> the real msgin5g-gatewayd -> a real
// third-party SMSC (npm smpp under Node, tests/support/fake_smsc.h), and back (receipts, MO SMS).
//
// Wiring: the gateway's API listens on a port picked before msgin5gd starts (so msgin5gd's
// gateways.l3g-1.api_root stays right when the gateway is killed and restarted); everything else
// takes port 0 and is read from ready files.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/client_thread.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/fake_smsc.h"
#include "tests/support/gateway_harness.h"
#include "tests/support/json_util.h"
#include "tests/support/receiver.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
namespace json = boost::json;
using api::http::ClientRequest;
using ts::Json;
using ts::Str;

const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";
const std::string kGwDeliver = "/msgg-l3gdelivery/v1/deliver-message";
const std::string kAsReport = "/as/as-1/deliver-report";
const std::string kAsMessage = "/as/as-1/deliver-message";

// The identity map every test's gateway has.
const std::vector<std::pair<std::string, std::string>> kUes = {
    {"ue-sms-1", "4670000001"}, {"ue-sms-2", "4670000002"}, {"ue-sms-3", "4670000003"},
    {"ue-sms-4", "4670000004"}, {"ue-sms-5", "4670000005"}};
const std::string kBinaryApp = "bin-app";

std::string Utf16Be(std::u16string_view s) {
  std::string out;
  for (char16_t c : s) {
    out += static_cast<char>(c >> 8);
    out += static_cast<char>(c & 0xff);
  }
  return out;
}

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto b = [&](std::size_t j) {
      return static_cast<unsigned>(static_cast<unsigned char>(in[j]));
    };
    unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Describe(const ts::SmscSubmit& s) {
  return "submit_sm{seq=" + std::to_string(s.sequence_number) + " dst=" + s.destination_addr +
         " src=" + s.source_addr + " esm=" + std::to_string(s.esm_class) +
         " dc=" + std::to_string(s.data_coding) + " rd=" + std::to_string(s.registered_delivery) +
         " sm=" + ts::ToHex(s.short_message) + " status=" + std::to_string(s.status) + "}";
}
std::string Describe(const std::vector<ts::SmscSubmit>& v) {
  std::string out;
  for (const auto& s : v) out += Describe(s) + "\n";
  return out;
}

class GatewaySmsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    smsc_ = std::make_unique<ts::FakeSmsc>();
    gw_port_ = ts::FreePort();
  }

  // The gateway's configuration as every test starts from.
  ts::GatewayConfig BaseConfig() {
    ts::GatewayConfig c;
    c.api_listen = "127.0.0.1:" + std::to_string(gw_port_);
    c.server_api_root = daemon_ ? "http://" + daemon_->sbi() : "http://127.0.0.1:9";
    c.smsc = {smsc_->host() + ":" + std::to_string(smsc_->port())};
    c.binary_app_ids = {kBinaryApp};
    c.ues = kUes;
    return c;
  }

  // msgin5gd with gateway "l3g-1" at the gateway's (future) address, the AS registered and
  // ue-sms-* routed to l3g-1; then the gateway with `cfg` (BaseConfig() by default), bound.
  void StartAll(std::optional<ts::GatewayConfig> cfg = std::nullopt) {
    std::vector<std::string> args = {
        "--set", "gateways.l3g-1.type=l3g",
        "--set", "gateways.l3g-1.api_root=http://127.0.0.1:" + std::to_string(gw_port_),
        "--set", "delivery.retry_initial_ms=200",
        "--set", "delivery.retry_max_ms=1000",
        "--set", "delivery.request_timeout_ms=3000",
        "--set", "delivery.connect_timeout_ms=500"};
    daemon_ = std::make_unique<ts::Daemon>(dir_.File("server-data"), dir_.path(), args);
    ASSERT_TRUE(daemon_->ok()) << daemon_->log();
    RegisterAs("as-1");
    ASSERT_EQ(DaemonAdmin("PUT", "/routing-rules/sms",
                          R"({"pattern":"ue-sms-*","gateway":"l3g-1","order":10})")
                  .status,
              200);
    cfg_ = cfg ? *cfg : BaseConfig();
    cfg_.server_api_root = "http://" + daemon_->sbi();
    StartGateway();
  }

  void StartGateway(std::vector<std::string> extra = {}) {
    gw_.reset();
    gw_ = std::make_unique<ts::Gateway>(dir_.File("gateway-data"), dir_.path(), cfg_, extra);
    ASSERT_TRUE(gw_->ok()) << gw_->log();
    ASSERT_TRUE(gw_->WaitBound(15s)) << gw_->AdminGet("/admin/v1/smsc").body << "\n"
                                     << gw_->log() << "\n" << smsc_->Transcript();
  }

  ts::CurlResult DaemonAdmin(const std::string& method, const std::string& path,
                             const std::string& body = "") {
    return (*daemon_).Admin(method, path, body);
  }

  api::http::Response PostDaemon(const std::string& path, const std::string& body) {
    ClientRequest req;
    req.url = "http://" + daemon_->sbi() + path;
    req.headers.push_back({"content-type", "application/json"});
    req.body = body;
    auto r = client_.Call(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : api::http::Response{};
  }

  void RegisterAs(const std::string& svc) {
    json::object reg{{"asSvcId", svc}, {"targetUri", as_.as_target(svc)}};
    auto r = PostDaemon("/msgs-asregistration/v1/registrations", json::serialize(reg));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  static std::string AsMessage(const std::string& ue, const std::string& msg_id,
                               const std::string& payload, const std::string& app_id = "",
                               bool report = true) {
    json::object m{{"oriAddr", {{"addrType", "AS"}, {"addr", "as-1"}}},
                   {"destAddr", {{"addrType", "UE"}, {"addr", ue}}},
                   {"msgId", msg_id},
                   {"payload", payload},
                   {"stoAndFwInd", true}};
    if (report) m["delivStReqInd"] = true;
    if (!app_id.empty()) m["appId"] = app_id;
    return json::serialize(m);
  }

  // The AS sends `payload` to `ue` through msgin5gd; msgin5gd accepts it.
  void SendAs(const std::string& ue, const std::string& msg_id, const std::string& payload,
              const std::string& app_id = "", bool report = true) {
    auto r = PostDaemon(kDeliverAs, AsMessage(ue, msg_id, payload, app_id, report));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // Every report the AS got about `msg_id`.
  std::vector<json::object> ReportsFor(const std::string& msg_id) {
    std::vector<json::object> out;
    for (const auto& r : as_.received(kAsReport)) {
      auto j = Json(r.body);
      if (Str(j, "msgId") == msg_id) out.push_back(j);
    }
    return out;
  }
  // Waits for a report about `msg_id` with `deliv_st`.
  std::optional<json::object> WaitReport(const std::string& msg_id, const std::string& deliv_st,
                                         std::chrono::milliseconds timeout = 15s) {
    std::optional<json::object> found;
    ts::WaitFor(
        [&] {
          for (auto& j : ReportsFor(msg_id)) {
            if (Str(j, "delivSt") == deliv_st) {
              found = j;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }
  std::string AllReports() {
    std::string out;
    for (const auto& r : as_.received(kAsReport)) out += r.body + "\n";
    return out;
  }
  // The submit_sm (from index `from`) to `msisdn`.
  std::vector<ts::SmscSubmit> SubmitsTo(const std::string& msisdn, std::size_t from = 0) {
    std::vector<ts::SmscSubmit> out;
    for (auto& s : smsc_->submits(from)) {
      if (s.destination_addr == msisdn) out.push_back(std::move(s));
    }
    return out;
  }
  std::vector<ts::SmscSubmit> WaitSubmitsTo(const std::string& msisdn, std::size_t n,
                                            std::chrono::milliseconds timeout = 15s,
                                            std::size_t from = 0) {
    ts::WaitFor([&] { return SubmitsTo(msisdn, from).size() >= n; }, timeout);
    return SubmitsTo(msisdn, from);
  }
  // What msgin5gd still holds for as-1 (~0 when it cannot say).
  std::uint64_t AsQueueCount() {
    auto j = Json(DaemonAdmin("GET", "/queues/AS/as-1").body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : ~0ull;
  }
  // Waits until the gateway's metric `name{labels}` is at least `min`.
  bool WaitMetricAtLeast(const std::string& name, const std::map<std::string, std::string>& labels,
                         double min, std::chrono::milliseconds timeout = 10s) {
    return ts::WaitFor([&] { return gw_->Metric(name, labels) >= min; }, timeout);
  }
  std::string Logs() {
    return "--- gateway log ---\n" + (gw_ ? gw_->log() : std::string("(none)")) +
           "\n--- msgin5gd log ---\n" + (daemon_ ? daemon_->log() : std::string("(none)")) +
           "\n--- AS reports ---\n" + AllReports();
  }

  ts::TempDir dir_;
  ts::Receiver as_;
  ts::ClientThread client_;
  std::unique_ptr<ts::FakeSmsc> smsc_;
  int gw_port_ = 0;
  std::unique_ptr<ts::Daemon> daemon_;
  ts::GatewayConfig cfg_;
  std::unique_ptr<ts::Gateway> gw_;
};

// ---------------------------------------------------------------------------------------------
// 1. A2P with receipts.

// A short text of GSM 7-bit characters: one submit_sm, data_coding 0, one septet per octet (the
// GSM default alphabet, not ASCII: '@' is 0x00, '£' 0x01, 'è' 0x04), source l3g.source_addr,
// destination the UE's MSISDN, registered_delivery 1; the SMSC's DELIVRD receipt becomes
// REPT_DELY_SUCCESS at the AS.
TEST_F(GatewaySmsE2E, ShortGsmTextIsOneSubmitAndDelivrdIsReportedSuccess) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SendAs("ue-sms-1", "m-short", "Hello @ \xC2\xA3" "10 \xC3\xA8");  // "Hello @ £10 è"

  auto subs = WaitSubmitsTo("4670000001", 1);
  ASSERT_EQ(subs.size(), 1u) << Describe(smsc_->submits()) << Logs();
  const auto& s = subs[0];
  EXPECT_EQ(s.status, 0u);
  EXPECT_EQ(s.source_addr, "MSGin5G");
  EXPECT_EQ(s.destination_addr, "4670000001");
  EXPECT_EQ(s.data_coding, 0);
  EXPECT_EQ(s.esm_class & 0x40, 0) << "no UDH for a single part";
  EXPECT_EQ(s.registered_delivery & 3, 1);
  EXPECT_EQ(ts::ToHex(s.short_message), ts::ToHex(std::string("Hello \x00 \x01" "10 \x04", 13)));

  auto rep = WaitReport("m-short", "REPT_DELY_SUCCESS");
  ASSERT_TRUE(rep) << Logs();
  EXPECT_EQ(ts::Addr(*rep, "oriAddr"), "ue-sms-1");
  EXPECT_EQ(ts::Addr(*rep, "destAddr"), "as-1");
  // The gateway matched the SMSC's receipt (not merely msgin5gd's hand-over to the gateway).
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_receipts_total",
                                {{"state", "any"}, {"match", "matched"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}}, 1))
      << gw_->GatewayMetrics();
  // Once the gateway's report went up and msgin5gd has nothing left for the AS, no FAILED.
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_uplink_total", {{"outcome", "done"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  EXPECT_FALSE(WaitReport("m-short", "REPT_DELY_FAILED", 1ms)) << AllReports();
}

// 400 ASCII characters: three parts, each with esm_class 0x40 and UDH 05 00 03 ref 03 seq (one
// ref for all), 153 + 153 + 94 septets; the parts put together are the text.
TEST_F(GatewaySmsE2E, LongTextIsThreeConcatenatedParts) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  std::string text;
  for (int i = 0; text.size() < 400; ++i) {
    text += "part of a long message " + std::to_string(i) + ". ";
  }
  text.resize(400);
  SendAs("ue-sms-1", "m-long", text);

  auto subs = WaitSubmitsTo("4670000001", 3);
  ASSERT_EQ(subs.size(), 3u) << Describe(smsc_->submits()) << Logs();
  std::sort(subs.begin(), subs.end(), [](const ts::SmscSubmit& a, const ts::SmscSubmit& b) {
    return a.short_message.size() > 5 && b.short_message.size() > 5 &&
           a.short_message[5] < b.short_message[5];
  });
  std::string joined;
  const std::size_t septets[] = {153, 153, 94};
  for (int i = 0; i < 3; ++i) {
    const auto& s = subs[i];
    SCOPED_TRACE(Describe(s));
    EXPECT_EQ(s.data_coding, 0);
    EXPECT_EQ(s.esm_class & 0x40, 0x40);
    EXPECT_EQ(s.registered_delivery & 3, 1);
    ASSERT_GE(s.short_message.size(), 6u);
    const auto& sm = s.short_message;
    EXPECT_EQ(ts::ToHex(sm.substr(0, 3)), "050003");
    EXPECT_EQ(sm[2 + 1 + 1], '\x03') << "total";
    EXPECT_EQ(sm[5], static_cast<char>(i + 1)) << "seq";
    EXPECT_EQ(sm[3], subs[0].short_message[3]) << "one ref for all parts";
    EXPECT_EQ(sm.size() - 6, septets[i]);
    joined += sm.substr(6);
  }
  EXPECT_EQ(joined, text);
  ASSERT_TRUE(WaitReport("m-long", "REPT_DELY_SUCCESS")) << Logs();
  // ... and it is the gateway's report (a report msgin5gd made up on hand-over would not count
  // here, see AsGetsOneReportPerMessageNotAlsoTheHandOver).
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}}, 1))
      << gw_->GatewayMetrics();
  // All three receipts were matched to the message.
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_receipts_total",
                                {{"state", "any"}, {"match", "matched"}}, 3))
      << gw_->GatewayMetrics();
}

// Text outside the GSM alphabet (Cyrillic and an emoji, a surrogate pair) goes as UCS-2
// (data_coding 8, UTF-16BE); a payload of an appId in l3g.binary_app_ids is base64 of binary
// data, sent as data_coding 4 with the decoded octets.
TEST_F(GatewaySmsE2E, Ucs2TextAndBinaryPayload) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // "Привет, мир 😀"
  const std::string utf8 =
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\xBC\xD0\xB8\xD1\x80 \xF0\x9F\x98\x80";
  SendAs("ue-sms-2", "m-ucs2", utf8);
  const std::string bytes("\x00\x01\x02\x7f\x80\xfe\xff" "ABC", 10);
  SendAs("ue-sms-3", "m-bin", Base64(bytes), kBinaryApp);

  auto ucs = WaitSubmitsTo("4670000002", 1);
  ASSERT_EQ(ucs.size(), 1u) << Describe(smsc_->submits()) << Logs();
  EXPECT_EQ(ucs[0].data_coding, 8);
  EXPECT_EQ(ucs[0].esm_class & 0x40, 0);
  EXPECT_EQ(ts::ToHex(ucs[0].short_message),
            ts::ToHex(Utf16Be(
                u"\u041F\u0440\u0438\u0432\u0435\u0442, \u043C\u0438\u0440 \U0001F600")));

  auto bin = WaitSubmitsTo("4670000003", 1);
  ASSERT_EQ(bin.size(), 1u) << Describe(smsc_->submits()) << Logs();
  EXPECT_EQ(bin[0].data_coding, 4);
  EXPECT_EQ(bin[0].esm_class & 0x40, 0);
  EXPECT_EQ(ts::ToHex(bin[0].short_message), ts::ToHex(bytes));

  EXPECT_TRUE(WaitReport("m-ucs2", "REPT_DELY_SUCCESS")) << Logs();
  EXPECT_TRUE(WaitReport("m-bin", "REPT_DELY_SUCCESS")) << Logs();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}}, 2))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_uplink_total", {{"outcome", "done"}}, 2))
      << gw_->GatewayMetrics();
}

// The SMSC says UNDELIV (err 005) for one MSISDN: the AS gets REPT_DELY_FAILED whose cause names
// UNDELIV; a message to another MSISDN at the same time still succeeds.
TEST_F(GatewaySmsE2E, UndelivReceiptIsReportedFailed) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  smsc_->SetReceiptRule("4670000004", "UNDELIV", 5);
  SendAs("ue-sms-4", "m-undeliv", "this one will not arrive");
  SendAs("ue-sms-5", "m-fine", "this one will");

  auto rep = WaitReport("m-undeliv", "REPT_DELY_FAILED");
  ASSERT_TRUE(rep) << Logs();
  EXPECT_NE(Str(*rep, "failureCause").find("UNDELIV"), std::string::npos) << json::serialize(*rep);
  EXPECT_NE(Str(*rep, "failureCause").find("005"), std::string::npos) << json::serialize(*rep);
  EXPECT_EQ(ts::Addr(*rep, "oriAddr"), "ue-sms-4");
  EXPECT_TRUE(WaitReport("m-fine", "REPT_DELY_SUCCESS")) << Logs();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_FAILED"}, {"reason", "any"}}, 1))
      << gw_->GatewayMetrics();
}

// What the AS learns about a message must be one story: the gateway's report (from the SMSC's
// receipt), not also msgin5gd's own REPT_DELY_SUCCESS for handing the message to the gateway. An
// AS that is told SUCCESS and then FAILED about one msgId cannot know which is true.
TEST_F(GatewaySmsE2E, AsGetsOneReportPerMessageNotAlsoTheHandOver) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  smsc_->SetReceiptRule("4670000004", "UNDELIV", 5);
  SendAs("ue-sms-4", "m-one-undeliv", "not delivered");
  SendAs("ue-sms-5", "m-one-fine", "delivered");
  ASSERT_TRUE(WaitReport("m-one-undeliv", "REPT_DELY_FAILED")) << Logs();
  ASSERT_TRUE(WaitReport("m-one-fine", "REPT_DELY_SUCCESS")) << Logs();
  // Both of the gateway's reports are in, and msgin5gd has nothing left for the AS (a report of
  // its own would have been queued when the gateway answered 204, before those).
  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s)) << AsQueueCount();
  EXPECT_EQ(ReportsFor("m-one-undeliv").size(), 1u) << AllReports();
  EXPECT_EQ(ReportsFor("m-one-fine").size(), 1u) << AllReports();
  EXPECT_FALSE(WaitReport("m-one-undeliv", "REPT_DELY_SUCCESS", 1ms))
      << "the AS was told SUCCESS about a message the SMSC says is UNDELIV:\n" << AllReports();
}

// ---------------------------------------------------------------------------------------------
// 2. Bad input straight to the gateway's API.

class GatewayApiE2E : public GatewaySmsE2E {
 protected:
  // The gateway alone (no msgin5gd: nothing here goes uplink).
  void StartGatewayOnly() {
    cfg_ = BaseConfig();
    StartGateway();
  }
  ts::CurlResult PostGw(const std::string& body,
                        const std::string& content_type = "application/json", bool h2 = false) {
    std::vector<std::string> args = {"-X", "POST", "-H", "content-type: " + content_type,
                                     "--data-binary", body};
    if (h2) args.insert(args.begin(), "--http2-prior-knowledge");
    args.push_back(gw_->api_url() + kGwDeliver);
    return ts::Curl(args);
  }
  static std::string Msg(const std::string& dest_type, const std::string& dest,
                         const std::string& msg_id, const std::string& payload = "hi") {
    json::object m{{"oriAddr", {{"addrType", "AS"}, {"addr", "as-1"}}},
                   {"destAddr", {{"addrType", dest_type}, {"addr", dest}}},
                   {"payload", payload}};
    if (!msg_id.empty()) m["msgId"] = msg_id;
    return json::serialize(m);
  }
  // A ProblemDetails with `status` and `cause`; with `param`, invalidParams names it.
  void ExpectProblem(const ts::CurlResult& r, int status, const std::string& cause,
                     const std::string& param = "") {
    SCOPED_TRACE(r.headers + r.body);
    EXPECT_EQ(r.status, status);
    EXPECT_NE(r.headers.find("content-type: application/problem+json"), std::string::npos);
    auto j = Json(r.body);
    EXPECT_EQ(Str(j, "cause"), cause);
    if (const auto* st = j.if_contains("status")) {
      EXPECT_EQ(st->to_number<int>(), status);
    }
    if (!param.empty()) {
      const auto* ip = j.if_contains("invalidParams");
      ASSERT_TRUE(ip != nullptr && ip->is_array());
      bool named = false;
      for (const auto& p : ip->as_array()) {
        if (p.is_object() && Str(p.as_object(), "param").find(param) != std::string::npos) {
          named = true;
        }
      }
      EXPECT_TRUE(named) << "invalidParams should name " << param;
    }
  }
};

TEST_F(GatewayApiE2E, BadRequestsAreProblemsAndSendNothing) {
  ASSERT_NO_FATAL_FAILURE(StartGatewayOnly());
  ExpectProblem(PostGw("this is not json"), 400, "INVALID_MSG_FORMAT");
  ExpectProblem(PostGw(R"({"oriAddr":{"addrType":"AS","addr":"as-1"},)"), 400,
                "INVALID_MSG_FORMAT");
  ExpectProblem(PostGw(Msg("UE", "ue-sms-1", "")), 400, "MANDATORY_IE_MISSING", "msgId");
  ExpectProblem(PostGw(Msg("AS", "as-2", "bad-dest")), 400, "MANDATORY_IE_INCORRECT", "destAddr");
  ExpectProblem(PostGw(Msg("UE", "ue-unknown", "no-msisdn")), 404, "UNKNOWN_RECIPIENT");
  ExpectProblem(PostGw(Msg("UE", "ue-sms-1", "wrong-type"), "text/plain"), 415,
                "UNSUPPORTED_MEDIA_TYPE");
  // The same over h2c.
  ExpectProblem(PostGw("{{{", "application/json", /*h2=*/true), 400, "INVALID_MSG_FORMAT");
  ExpectProblem(PostGw(Msg("UE", "ue-unknown", "no-msisdn-h2"), "application/json", true), 404,
                "UNKNOWN_RECIPIENT");

  // A good one is sent; the same (oriAddr, msgId) again is 204 and sends nothing new.
  auto ok = PostGw(Msg("UE", "ue-sms-1", "good-1"), "application/json", true);
  EXPECT_EQ(ok.status, 204) << ok.body;
  ASSERT_EQ(smsc_->WaitForSubmits(1, 10s).size(), 1u) << gw_->log();
  auto again = PostGw(Msg("UE", "ue-sms-1", "good-1"));
  EXPECT_EQ(again.status, 204) << again.body;
  // Wait for something that must come after a second submit would have: a later message's.
  EXPECT_EQ(PostGw(Msg("UE", "ue-sms-2", "good-2")).status, 204);
  ASSERT_EQ(WaitSubmitsTo("4670000002", 1, 10s).size(), 1u) << gw_->log();
  EXPECT_EQ(SubmitsTo("4670000001").size(), 1u) << Describe(smsc_->submits());
  EXPECT_EQ(smsc_->submits().size(), 2u) << Describe(smsc_->submits());
  auto health = gw_->MetricsGet("/healthz");
  EXPECT_EQ(health.status, 200);
}

// Segments straight to the gateway (as msgin5gd sends a payload beyond the gateway's
// max_segment_bytes): only the first carries totalSegCount, the last lastSegFlag (TS 23.554
// 8.5). The gateway answers each, sends one SMS with the whole text once the set is complete, and
// refuses a segment that contradicts the set.
TEST_F(GatewayApiE2E, SegmentsNeedTheTotalOnlyOnTheFirstAndBecomeOneSms) {
  ASSERT_NO_FATAL_FAILURE(StartGatewayOnly());
  auto seg = [](const std::string& msg_id, json::object params, const std::string& payload) {
    params["segId"] = "gw-seg";
    json::object m{{"oriAddr", {{"addrType", "AS"}, {"addr", "as-1"}}},
                   {"destAddr", {{"addrType", "UE"}, {"addr", "ue-sms-1"}}},
                   {"msgId", msg_id},
                   {"payload", payload},
                   {"segInd", true},
                   {"segParams", params}};
    return json::serialize(m);
  };
  EXPECT_EQ(PostGw(seg("gw-seg#3", {{"segNumb", 3}, {"lastSegFlag", true}}, "three")).status, 204);
  EXPECT_EQ(PostGw(seg("gw-seg#2", {{"segNumb", 2}}, "two ")).status, 204);
  // The open set, its total not known yet, is on disk: kill -9 loses none of it.
  gw_->Kill();
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  // The first without its total; then a total below a number received: refused.
  ExpectProblem(PostGw(seg("gw-seg#1", {{"segNumb", 1}}, "one ")), 400, "MANDATORY_IE_MISSING",
                "/segParams/totalSegCount");
  ExpectProblem(PostGw(seg("gw-seg#1", {{"segNumb", 1}, {"totalSegCount", 2}}, "one ")), 400,
                "MANDATORY_IE_INCORRECT", "/segParams/totalSegCount");
  EXPECT_TRUE(smsc_->submits().empty()) << Describe(smsc_->submits());
  EXPECT_EQ(PostGw(seg("gw-seg#1", {{"segNumb", 1}, {"totalSegCount", 3}}, "one ")).status, 204);
  auto subs = WaitSubmitsTo("4670000001", 1, 10s);
  ASSERT_EQ(subs.size(), 1u) << Describe(smsc_->submits()) << gw_->log();
  EXPECT_EQ(subs[0].short_message, "one two three");
  // A segment past the completed set's total: nothing more is sent.
  auto beyond = PostGw(seg("gw-seg#4", {{"segNumb", 4}}, "four"));
  EXPECT_EQ(beyond.status / 100, 2) << "answered as the completed set: " << beyond.body;
  EXPECT_EQ(smsc_->submits().size(), 1u) << Describe(smsc_->submits());
}

// ---------------------------------------------------------------------------------------------
// 3. MO SMS.

// Messages the AS got from msgin5gd (deliver-message), from `ue`.
std::vector<json::object> AsMessagesFrom(ts::Receiver& as, const std::string& ue) {
  std::vector<json::object> out;
  for (const auto& r : as.received(kAsMessage)) {
    auto j = Json(r.body);
    if (ts::Addr(j, "oriAddr") == ue) out.push_back(j);
  }
  return out;
}

std::string AsMessages(ts::Receiver& as) {
  std::string out;
  for (const auto& r : as.received(kAsMessage)) out += r.body + "\n";
  return out;
}

ts::SmscMo Mo(const std::string& from, const std::string& to, const std::string& text) {
  ts::SmscMo mo;
  mo.source = from;
  mo.dest = to;
  mo.text = text;
  return mo;
}

// The deliver_sm_resp status the gateway gave delivery `id` (first attempt); nullopt: none.
std::optional<std::uint32_t> MoStatus(ts::FakeSmsc& smsc, int id) {
  for (const auto& a : smsc.mo_answers()) {
    if (a.delivery_id == id && a.outcome == ts::SmscDeliverAnswer::Outcome::kResponse) {
      return a.status;
    }
  }
  return std::nullopt;
}

// A reply from the MSISDN an AS just messaged goes to that AS (the messaging transaction), as
// deliver-message from UE ue-sms-1 with an "sms-..." msgId; deliver_sm_resp was ESME_ROK.
TEST_F(GatewaySmsE2E, MoReplyGoesToTheAsThatLastMessagedTheMsisdn) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SendAs("ue-sms-1", "m-to-reply", "Reply to this please", "", /*report=*/false);
  ASSERT_EQ(WaitSubmitsTo("4670000001", 1).size(), 1u) << Logs();
  // The transaction is opened with the job: wait until the gateway is done with it.
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_parts_total", {{"outcome", "accepted"}}, 1))
      << gw_->GatewayMetrics();

  int id = smsc_->SendMo(Mo("4670000001", "MSGin5G", "Yes. Here is my answer, 42."));
  auto done = smsc_->WaitForDeliveryDone(id, 15s);
  ASSERT_TRUE(done) << smsc_->Transcript() << Logs();
  EXPECT_EQ(Str(*done, "result"), "delivered") << json::serialize(*done);
  EXPECT_EQ(MoStatus(*smsc_, id), 0u);

  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom(as_, "ue-sms-1").empty(); }, 15s))
      << AsMessages(as_) << Logs();
  auto m = AsMessagesFrom(as_, "ue-sms-1").front();
  EXPECT_EQ(Str(m["oriAddr"].as_object(), "addrType"), "UE") << json::serialize(m);
  EXPECT_EQ(ts::Addr(m, "destAddr"), "as-1") << json::serialize(m);
  EXPECT_EQ(Str(m, "payload"), "Yes. Here is my answer, 42.") << json::serialize(m);
  EXPECT_EQ(Str(m, "msgId").rfind("sms-", 0), 0u) << json::serialize(m);
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_mo_total", {{"outcome", "forwarded"}}, 1))
      << gw_->GatewayMetrics();
}

// A concatenated MO SMS (UDH 05 00 03 ref 02 01 / 02) reaches the AS as one message with the
// whole text, whichever part comes first; the parts are not forwarded on their own.
TEST_F(GatewaySmsE2E, ConcatenatedMoIsReassembled) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SendAs("ue-sms-2", "m-open", "Tell me a story", "", /*report=*/false);
  ASSERT_EQ(WaitSubmitsTo("4670000002", 1).size(), 1u) << Logs();
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_parts_total", {{"outcome", "accepted"}}, 1))
      << gw_->GatewayMetrics();

  const std::string first = "Once upon a time there was a gateway, ";
  const std::string second = "and it put SMS parts together.";
  ts::SmscMo p2 = Mo("4670000002", "MSGin5G", "");
  p2.text.reset();
  p2.esm_class = 0x40;
  p2.short_message = std::string("\x05\x00\x03\x02\x02\x02", 6) + second;
  ts::SmscMo p1 = p2;
  p1.short_message = std::string("\x05\x00\x03\x02\x02\x01", 6) + first;
  int id2 = smsc_->SendMo(p2);  // the second part first
  auto d2 = smsc_->WaitForDeliveryDone(id2, 15s);
  ASSERT_TRUE(d2) << smsc_->Transcript();
  EXPECT_EQ(MoStatus(*smsc_, id2), 0u);
  int id1 = smsc_->SendMo(p1);
  auto d1 = smsc_->WaitForDeliveryDone(id1, 15s);
  ASSERT_TRUE(d1) << smsc_->Transcript();
  EXPECT_EQ(MoStatus(*smsc_, id1), 0u);

  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom(as_, "ue-sms-2").empty(); }, 15s))
      << AsMessages(as_) << Logs();
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_mo_total", {{"outcome", "forwarded"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  auto ms = AsMessagesFrom(as_, "ue-sms-2");
  ASSERT_EQ(ms.size(), 1u) << AsMessages(as_);
  EXPECT_EQ(Str(ms[0], "payload"), first + second) << json::serialize(ms[0]);
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_mo_total", {{"outcome", "forwarded"}}), 1)
      << gw_->GatewayMetrics();
  auto q = Json(gw_->AdminGet("/admin/v1/queues").body);
  EXPECT_EQ(q["mo_sets"].to_number<int>(), 0) << json::serialize(q);
}

// MO SMS that cannot go anywhere are refused with the SMPP status that says why: an MSISDN not
// in the identity map ESME_RINVSRCADR (0x0A); a known MSISDN with no short-code rule, no open
// transaction and no l3g.mo_default_destination ESME_RX_P_APPN (0x65). A short-code rule sends
// an MO to its AS without any transaction. Nothing refused reaches the AS.
TEST_F(GatewaySmsE2E, MoRoutingByShortCodeAndRefusals) {
  auto cfg = BaseConfig();
  cfg.short_codes = {{"72555", "as-1"}};
  ASSERT_NO_FATAL_FAILURE(StartAll(cfg));

  ts::SmscMo unknown = Mo("4679999999", "MSGin5G", "who am I");
  unknown.max_attempts = 1;
  int id_unknown = smsc_->SendMo(unknown);
  ts::SmscMo unroutable = Mo("4670000003", "12345", "to nobody");
  unroutable.max_attempts = 1;
  int id_unroutable = smsc_->SendMo(unroutable);
  int id_short = smsc_->SendMo(Mo("4670000004", "72555", "STOP"));
  for (int id : {id_unknown, id_unroutable, id_short}) {
    ASSERT_TRUE(smsc_->WaitForDeliveryDone(id, 15s)) << smsc_->Transcript();
  }
  EXPECT_EQ(MoStatus(*smsc_, id_unknown), 0x0Au) << smsc_->Transcript();
  EXPECT_EQ(MoStatus(*smsc_, id_unroutable), 0x65u) << smsc_->Transcript();
  EXPECT_EQ(MoStatus(*smsc_, id_short), 0u) << smsc_->Transcript();

  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom(as_, "ue-sms-4").empty(); }, 15s))
      << AsMessages(as_) << Logs();
  EXPECT_EQ(Str(AsMessagesFrom(as_, "ue-sms-4").front(), "payload"), "STOP");
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  EXPECT_EQ(as_.received(kAsMessage).size(), 1u) << AsMessages(as_);
  // (The metrics are refreshed from the core now and then: wait for them.)
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_mo_total", {{"outcome", "unknown_msisdn"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_mo_total", {{"outcome", "unroutable"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_mo_total", {{"outcome", "forwarded"}}, 1));
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_mo_total", {{"outcome", "forwarded"}}), 1)
      << gw_->GatewayMetrics();
}

// ---------------------------------------------------------------------------------------------
// 4. Outages.

// The SMSC goes away for longer than the gateway's first reconnect delays. Messages sent
// meanwhile are accepted (msgin5gd gets 204 and lets go of them), /readyz says 503, and every one
// reaches the SMSC once it is back; each gets its report.
TEST_F(GatewaySmsE2E, SmscOutageMessagesWaitInTheGatewayAndGoOutAfter) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  EXPECT_EQ(gw_->MetricsGet("/readyz").status, 200);
  smsc_->Down();
  ASSERT_TRUE(ts::WaitFor(
      [&] {
        auto j = Json(gw_->AdminGet("/admin/v1/smsc").body);
        return j.contains("bound") && j["bound"].is_bool() && !j["bound"].as_bool();
      },
      10s));
  EXPECT_TRUE(ts::WaitFor([&] { return gw_->MetricsGet("/readyz").status == 503; }, 5s));

  const int kMessages = 5;
  for (int i = 0; i < kMessages; ++i) {
    SendAs("ue-sms-" + std::to_string(i + 1), "m-outage-" + std::to_string(i),
           "sent while the SMSC is down " + std::to_string(i));
  }
  // The gateway took all of them (msgin5gd's hand-over is done) while nothing could be submitted.
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_downlink_total", {{"outcome", "accepted"}},
                                kMessages))
      << gw_->GatewayMetrics() << Logs();
  EXPECT_TRUE(ts::WaitFor(
      [&] {
        return DaemonAdmin("GET", "/queues/UE/ue-sms-1").body.find("\"count\":0") !=
               std::string::npos;
      },
      10s))
      << DaemonAdmin("GET", "/queues/UE/ue-sms-1").body;
  EXPECT_EQ(Json(gw_->AdminGet("/admin/v1/queues").body)["sms"].to_number<int>(), kMessages);
  // Stay down across at least two failed reconnects (the backoff starts at 1 s and doubles).
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_smpp_events_total",
                                {{"event", "connect_failures"}}, 2, 15s))
      << gw_->GatewayMetrics();
  const std::size_t submits_before = smsc_->submits().size();
  EXPECT_EQ(submits_before, 0u);

  std::size_t mark = smsc_->EventCount();
  smsc_->Up();
  ASSERT_TRUE(smsc_->WaitForBinds(1, 25s, mark)) << smsc_->Transcript() << gw_->log();
  auto subs = smsc_->WaitForSubmits(kMessages, 15s);
  ASSERT_EQ(subs.size(), static_cast<std::size_t>(kMessages)) << Describe(subs) << Logs();
  std::set<std::string> dests;
  for (const auto& s : subs) dests.insert(s.destination_addr);
  EXPECT_EQ(dests.size(), static_cast<std::size_t>(kMessages)) << Describe(subs);
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}}, kMessages,
                                15s))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(ts::WaitFor([&] { return gw_->MetricsGet("/readyz").status == 200; }, 5s));
}

// kill -9 of the gateway while the SMSC holds every receipt: on restart (same data, same port)
// the stored receipt groups are found again, every receipt released to the new session is
// matched, and the AS gets every report (the SMSC's UNDELIV for one MSISDN makes those reports
// ones only the gateway can have made). Parts the SMSC accepted are not submitted again, unless
// the gateway counts them as possible duplicates.
TEST_F(GatewaySmsE2E, KillDashNineWithReceiptsHeldLosesNoReport) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  smsc_->HoldReceipts();
  smsc_->SetReceiptRule("4670000004", "UNDELIV", 1);
  std::string long_text(300, 'x');  // 2 parts
  // msgId -> parts
  const std::vector<std::tuple<std::string, std::string, std::string>> msgs = {
      {"ue-sms-1", "k-1", "short one"},          {"ue-sms-2", "k-2", long_text},
      {"ue-sms-4", "k-fail-1", "fails, short"},  {"ue-sms-4", "k-fail-2", long_text},
      {"ue-sms-3", "k-3", "another short one"}};
  const std::size_t kParts = 7;
  for (const auto& [ue, id, text] : msgs) SendAs(ue, id, text);
  ASSERT_EQ(smsc_->WaitForSubmits(kParts, 15s).size(), kParts)
      << Describe(smsc_->submits()) << Logs();
  ASSERT_EQ(smsc_->WaitForEvents(ts::EventIs("receipt_held"), kParts, 10s).size(), kParts)
      << smsc_->Transcript();
  // Every part's acceptance is in the gateway's store before the kill.
  ASSERT_TRUE(ts::WaitFor(
      [&] {
        auto q = Json(gw_->AdminGet("/admin/v1/queues").body);
        return q.contains("sms") && q["sms"].to_number<int>() == 0 &&
               q["receipt_groups"].to_number<int>() == static_cast<int>(msgs.size());
      },
      10s))
      << gw_->AdminGet("/admin/v1/queues").body;
  const std::size_t submits_before = smsc_->submits().size();
  const std::size_t events_before = smsc_->EventCount();

  gw_->Kill();
  std::size_t mark = smsc_->EventCount();
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_TRUE(smsc_->WaitForBinds(1, 10s, mark));
  EXPECT_EQ(smsc_->ReleaseReceipts(), static_cast<int>(kParts));

  // The new process matches every receipt and reports every message.
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_receipts_total",
                                {{"state", "any"}, {"match", "matched"}}, kParts, 15s))
      << gw_->GatewayMetrics() << Logs();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_FAILED"}, {"reason", "any"}}, 2))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}}, 3))
      << gw_->GatewayMetrics();
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_sms_receipts_total",
                        {{"state", "any"}, {"match", "unmatched"}}),
            0)
      << gw_->GatewayMetrics();
  for (const char* id : {"k-fail-1", "k-fail-2"}) {
    auto rep = WaitReport(id, "REPT_DELY_FAILED");
    ASSERT_TRUE(rep) << id << "\n" << Logs();
    EXPECT_NE(Str(*rep, "failureCause").find("UNDELIV"), std::string::npos)
        << json::serialize(*rep);
  }
  for (const char* id : {"k-1", "k-2", "k-3"}) {
    EXPECT_TRUE(WaitReport(id, "REPT_DELY_SUCCESS")) << id;
  }
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  // Bounded duplicates: every message reported at least once and at most twice (a report in
  // flight to msgin5gd at the kill may go again).
  for (const char* id : {"k-fail-1", "k-fail-2"}) {
    int failed = 0;
    for (auto& r : ReportsFor(id)) failed += Str(r, "delivSt") == "REPT_DELY_FAILED";
    EXPECT_GE(failed, 1) << AllReports();
    EXPECT_LE(failed, 2) << AllReports();
  }
  for (const char* id : {"k-1", "k-2", "k-3"}) EXPECT_LE(ReportsFor(id).size(), 2u) << AllReports();

  const std::size_t resubmitted = smsc_->submits().size() - submits_before;
  const double counted = gw_->Metric("msgin5g_gateway_sms_possible_duplicates_total");
  EXPECT_LE(static_cast<double>(resubmitted), std::max(0.0, counted))
      << "parts the SMSC had accepted were submitted again:\n"
      << Describe(smsc_->submits(events_before)) << gw_->GatewayMetrics();
  EXPECT_EQ(resubmitted, 0u) << Describe(smsc_->submits(events_before));
}

// kill -9 while the SMSC sits on its submit_sm_resp: the gateway never learnt that those parts
// were accepted, so after the restart it submits them again (at least once: nothing is lost). The
// repeats are bounded by what was in flight and counted (the sms outbox's replayed jobs); the
// receipts for the first copies, which the SMSC sends to the new session, match nothing and
// change nothing; every message is reported.
TEST_F(GatewaySmsE2E, KillDashNineWithSubmitsInFlightResubmitsOnlyThose) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  smsc_->HoldSubmits();
  const std::vector<std::string> ids = {"f-1", "f-2", "f-3"};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    SendAs("ue-sms-" + std::to_string(i + 1), ids[i], "in flight " + ids[i]);
  }
  ASSERT_EQ(smsc_->WaitForSubmits(ids.size(), 15s).size(), ids.size()) << Logs();
  gw_->Kill();
  std::size_t mark = smsc_->EventCount();
  smsc_->ReleaseSubmits();  // into the void: the session is gone
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_TRUE(smsc_->WaitForBinds(1, 10s, mark));

  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}},
                                static_cast<double>(ids.size()), 15s))
      << gw_->GatewayMetrics() << Logs();
  auto again = smsc_->submits(mark);
  std::set<std::string> dests;
  for (const auto& sub : again) dests.insert(sub.destination_addr);
  EXPECT_EQ(dests.size(), ids.size()) << Describe(again);
  EXPECT_LE(again.size(), ids.size()) << "more than the in-flight parts were resubmitted:\n"
                                      << Describe(again);
  const double replayed = gw_->Metric("msgin5g_gateway_outbox_replayed_total", {{"outbox", "sms"}});
  EXPECT_GE(replayed, static_cast<double>(again.size())) << gw_->GatewayMetrics();
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  for (const auto& id : ids) {
    EXPECT_TRUE(WaitReport(id, "REPT_DELY_SUCCESS")) << id << "\n" << AllReports();
    EXPECT_FALSE(WaitReport(id, "REPT_DELY_FAILED", 1ms)) << id << "\n" << AllReports();
    EXPECT_LE(ReportsFor(id).size(), 2u) << AllReports();
  }
}

// The texts in the submits to one destination: a single part's short_message as it is, and
// concatenated parts (UDH 05 00 03 ref total seq) put together per (ref, total) when complete.
std::set<std::string> TextsIn(const std::vector<ts::SmscSubmit>& subs) {
  std::set<std::string> out;
  std::map<std::pair<int, int>, std::map<int, std::string>> sets;
  for (const auto& s : subs) {
    const std::string& sm = s.short_message;
    if ((s.esm_class & 0x40) != 0 && sm.size() >= 6 && sm.compare(0, 3, "\x05\x00\x03", 3) == 0) {
      auto octet = [&](std::size_t i) {
        return static_cast<int>(static_cast<unsigned char>(sm[i]));
      };
      sets[{octet(3), octet(4)}][octet(5)] = sm.substr(6);
    } else {
      out.insert(sm);
    }
  }
  for (const auto& [ref_total, parts] : sets) {
    if (parts.size() != static_cast<std::size_t>(ref_total.second)) continue;
    std::string text;
    for (const auto& [seq, body] : parts) text += body;
    out.insert(text);
  }
  return out;
}

// The SMSC is down for 30 s. Two parts are on the wire when it goes (their submit_sm_resp are
// lost with the session), six messages come while it is down, and the gateway is killed with -9
// in the middle of the outage and again after it, once it has taken the receipts held over the
// outage and while the receipts of what it submitted since are on its socket, unanswered. After
// recovery: every message's every part reached the SMSC, every receipt was answered and matched
// (the ones nobody can match are the first copies of the cut parts), the AS got exactly one
// report per message with the right status (UNDELIV for ue-sms-5: reports only the receipts can
// make), and the only parts submitted twice are the two whose outcome was lost, which the gateway
// counted as possible duplicates.
TEST_F(GatewaySmsE2E, SmscDownThirtySecondsWithGatewayKilledDuringOutageAndDuringReceipts) {
  using Clock = std::chrono::steady_clock;
  ASSERT_NO_FATAL_FAILURE(StartAll());
  smsc_->HoldReceipts();
  smsc_->SetReceiptRule("4670000005", "UNDELIV", 1);  // ue-sms-5: reports only receipts can make
  // A receipt is resent only because a session closed, never because a slow (sanitizer) gateway
  // took over 3 s to answer it: the counts below are of receipts, not of the SMSC's retries.
  smsc_->SetDeliverPolicy(/*response_timeout_ms=*/30000, /*retry_interval_ms=*/1000, /*max_attempts=*/5);
  auto msisdn_of = [](const std::string& ue) {
    for (const auto& [id, msisdn] : kUes) {
      if (id == ue) return msisdn;
    }
    return std::string();
  };
  auto long_text = [](const std::string& tag) {  // 250 GSM characters: 2 parts
    std::string t;
    while (t.size() < 250) t += tag + " is a long message that goes in two parts. ";
    t.resize(250);
    return t;
  };
  struct Msg {
    std::string ue, id, text;
    bool fails;  // to ue-sms-5: UNDELIV
  };
  // Accepted by the SMSC before the outage (5 parts), receipts held.
  const std::vector<Msg> before = {{"ue-sms-1", "o-a1", "a1 short before the outage", false},
                                   {"ue-sms-2", "o-a2", long_text("a2"), false},
                                   {"ue-sms-3", "o-a3", "a3 short before the outage", false},
                                   {"ue-sms-5", "o-a4", "a4 short before and not delivered", true}};
  // Their first parts are submitted, the SMSC sits on the submit_sm_resp, then goes down.
  const std::vector<Msg> cut = {{"ue-sms-4", "o-a5", "a5 submit cut by the outage", false},
                                {"ue-sms-5", "o-a6", long_text("a6"), true}};
  // Sent while the SMSC is down (8 parts).
  const std::vector<Msg> during = {{"ue-sms-1", "o-b1", "b1 sent while the SMSC is down", false},
                                   {"ue-sms-2", "o-b2", "b2 sent while the SMSC is down", false},
                                   {"ue-sms-3", "o-b3", long_text("b3"), false},
                                   {"ue-sms-4", "o-b4", "b4 sent while the SMSC is down", false},
                                   {"ue-sms-5", "o-b5", "b5 sent while down, not delivered", true},
                                   {"ue-sms-1", "o-b6", long_text("b6"), false}};
  std::vector<Msg> all = before;
  all.insert(all.end(), cut.begin(), cut.end());
  all.insert(all.end(), during.begin(), during.end());
  const std::size_t kDistinctParts = 16;  // 5 + 3 + 8
  const std::size_t kCutParts = 2;        // on the wire when the SMSC went down
  std::string earlier_logs;               // of the gateways killed
  auto queues = [&] { return Json(gw_->AdminGet("/admin/v1/queues").body); };
  auto queue = [&](const char* name) {
    auto q = queues();
    return q.contains(name) ? q[name].to_number<int>() : -1;
  };
  auto bound = [&] {
    auto j = Json(gw_->AdminGet("/admin/v1/smsc").body);
    return j.contains("bound") && j["bound"].is_bool() && j["bound"].as_bool();
  };
  const ts::SmscEventPredicate receipt_answered = [](const ts::SmscEvent& e) {
    return ts::EventWith("deliver_sm_resp", "kind", "receipt")(e) &&
           ts::EventWith("deliver_sm_resp", "status", 0)(e);
  };
  auto receipt_answers = [&](std::size_t from) { return smsc_->Matching(receipt_answered, from); };

  // 1. The SMSC is up: `before` is submitted and accepted, and recorded by the gateway.
  for (const auto& m : before) SendAs(m.ue, m.id, m.text);
  ASSERT_EQ(smsc_->WaitForSubmits(5, 15s).size(), 5u) << Describe(smsc_->submits()) << Logs();
  ASSERT_EQ(smsc_->WaitForEvents(ts::EventIs("receipt_held"), 5, 10s).size(), 5u)
      << smsc_->Transcript();
  ASSERT_TRUE(ts::WaitFor([&] { return queue("sms") == 0 && queue("receipt_groups") == 4; }, 10s))
      << json::serialize(queues());
  smsc_->HoldSubmits();
  const std::size_t cut_mark = smsc_->EventCount();
  for (const auto& m : cut) SendAs(m.ue, m.id, m.text);
  const auto cut_subs = smsc_->WaitForSubmits(kCutParts, 15s, cut_mark);
  ASSERT_EQ(cut_subs.size(), kCutParts) << Describe(smsc_->submits()) << Logs();

  // 2. The SMSC goes down with those two outcomes unsent; what it accepted still gets receipts.
  smsc_->Down();
  const auto t_down = Clock::now();
  EXPECT_EQ(smsc_->ReleaseSubmits(), static_cast<int>(kCutParts));  // into the void
  ASSERT_TRUE(ts::WaitFor([&] { return !bound(); }, 10s)) << gw_->AdminGet("/admin/v1/smsc").body;
  // The gateway knows those two parts may have gone: it counts them.
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_possible_duplicates_total", {}, kCutParts, 5s))
      << gw_->GatewayMetrics();
  const double counted_possible_duplicates =
      gw_->Metric("msgin5g_gateway_sms_possible_duplicates_total");
  for (const auto& m : during) SendAs(m.ue, m.id, m.text);
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_downlink_total", {{"outcome", "accepted"}},
                                static_cast<double>(all.size()), 15s))
      << gw_->GatewayMetrics() << Logs();
  ASSERT_TRUE(ts::WaitFor(
      [&] { return queue("sms") == static_cast<int>(cut.size() + during.size()); }, 10s))
      << json::serialize(queues());
  ASSERT_EQ(smsc_->WaitForEvents(ts::EventIs("receipt_held"), 5 + kCutParts, 10s).size(),
            5 + kCutParts)
      << smsc_->Transcript();

  // 3. kill -9 in the middle of the outage; the new gateway (same data, same port) finds every
  // stored job and cannot bind either.
  std::this_thread::sleep_until(t_down + 15s);
  ASSERT_TRUE(Clock::now() - t_down < 25s) << "too slow to kill during the outage";
  gw_->Kill();
  earlier_logs += "--- gateway killed during the outage ---\n" + gw_->log() + "\n";
  gw_.reset();
  gw_ = std::make_unique<ts::Gateway>(dir_.File("gateway-data"), dir_.path(), cfg_);
  ASSERT_TRUE(gw_->ok()) << earlier_logs << gw_->log();
  EXPECT_EQ(queue("sms"), static_cast<int>(cut.size() + during.size()))
      << json::serialize(queues());
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_outbox_replayed_total", {{"outbox", "sms"}},
                                static_cast<double>(cut.size() + during.size()), 5s))
      << gw_->GatewayMetrics();
  EXPECT_FALSE(bound());
  // The four messages awaiting receipts are counted from the store, not only once loaded.
  EXPECT_EQ(queue("receipt_groups"), 4) << json::serialize(queues());
  EXPECT_TRUE(ts::WaitFor(
      [&] { return gw_->Metric("msgin5g_gateway_sms_awaiting_receipts") == 4; }, 3s))
      << gw_->GatewayMetrics();

  // 4. Down for 30 s in all. Just before it comes back, the SMSC lets go of the receipts it held
  // (they wait for the next bind) and holds those that fall due from now on: the receipts of what
  // is submitted after the outage.
  std::this_thread::sleep_until(t_down + 30s + 200ms);
  const auto outage = Clock::now() - t_down;
  EXPECT_EQ(smsc_->submits(cut_mark).size(), kCutParts) << "submitted while the SMSC was down?";
  const std::size_t kEarlyReceipts = 5 + kCutParts;  // 5 matching a1..a4, 2 the cut first copies
  const std::size_t wait_mark = smsc_->EventCount();
  EXPECT_EQ(smsc_->ReleaseReceipts(), static_cast<int>(kEarlyReceipts));
  smsc_->HoldReceipts();
  EXPECT_EQ(
      smsc_->WaitForEvents(ts::EventIs("deliver_sm_waiting"), kEarlyReceipts, 5s, wait_mark).size(),
      kEarlyReceipts)
      << smsc_->Transcript();

  // 5. Up again: the gateway binds (its reconnect backoff may be near 16 s by now), takes the
  // early receipts and submits what was stored: the two cut parts again, a6's second part and
  // the eight from the outage.
  const std::size_t up_mark = smsc_->EventCount();
  smsc_->Up();
  ASSERT_TRUE(smsc_->WaitForBinds(1, 45s, up_mark)) << smsc_->Transcript() << gw_->log();
  const std::size_t kAfterUp = kCutParts + 1 + 8;
  ASSERT_EQ(smsc_->WaitForSubmits(kAfterUp, 20s, up_mark).size(), kAfterUp)
      << Describe(smsc_->submits(up_mark)) << Logs();
  ASSERT_TRUE(ts::WaitFor([&] { return queue("sms") == 0; }, 10s)) << json::serialize(queues());
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_sms_parts_total", {{"outcome", "accepted"}},
                                static_cast<double>(kAfterUp), 10s))
      << gw_->GatewayMetrics();
  ASSERT_EQ(smsc_->WaitForEvents(receipt_answered, kEarlyReceipts, 15s, up_mark).size(),
            kEarlyReceipts)
      << smsc_->Transcript() << Logs();
  // The early receipts found their stored groups (a1..a4, made by the first gateway); the first
  // copies of the cut parts have ids no gateway ever learnt.
  auto receipts_metric = [&](const char* match) {
    return gw_->Metric("msgin5g_gateway_sms_receipts_total", {{"state", "any"}, {"match", match}});
  };
  EXPECT_TRUE(ts::WaitFor(
      [&] {
        return receipts_metric("matched") == 5.0 && receipts_metric("unmatched") == kCutParts;
      },
      5s))
      << gw_->GatewayMetrics();
  const std::size_t kLateReceipts = kAfterUp;
  ASSERT_EQ(smsc_->WaitForEvents(ts::EventIs("receipt_held"), kLateReceipts, 10s, up_mark).size(),
            kLateReceipts)
      << smsc_->Transcript();

  // A barrier: an identity-map write answered by the admin API is durable, and the store writes
  // in order, so every acceptance recorded before it is durable too.
  const auto barrier = ts::Curl({"-X", "PUT", "-H", "content-type: application/json", "-d",
                                 R"({"msisdn":"46799999999"})",
                                 "http://" + gw_->admin() + "/admin/v1/identities/ue-barrier"});
  ASSERT_GE(barrier.status, 200) << barrier.body;
  ASSERT_LT(barrier.status, 300) << barrier.body;
  const std::string gw2_metrics = gw_->GatewayMetrics();
  // The late receipts go to a gateway that cannot answer (SIGSTOP), and it is killed with all of
  // them on its socket.
  ASSERT_EQ(kill(gw_->proc().pid(), SIGSTOP), 0);
  // Answers the gateway sent just before it stopped may still be in the SMSC's socket or on its
  // way to our transcript: let the SMSC read them, then a command round trip (its ack comes after
  // every event it logged before) puts them before the mark.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  smsc_->Command({{"cmd", "counters"}});
  const std::size_t release_mark = smsc_->EventCount();
  EXPECT_EQ(smsc_->ReleaseReceipts(), static_cast<int>(kLateReceipts));
  const auto in_flight = smsc_->WaitForEvents(ts::EventWith("deliver_sm", "kind", "receipt"),
                                              kLateReceipts, 5s, release_mark);
  gw_->Kill();
  ASSERT_EQ(in_flight.size(), kLateReceipts) << smsc_->Transcript();
  ASSERT_TRUE(smsc_->WaitForEvent(ts::EventIs("session_close"), 5s, release_mark))
      << smsc_->Transcript();
  EXPECT_TRUE(receipt_answers(release_mark).empty()) << smsc_->Transcript();
  earlier_logs += "--- gateway killed during the receipts ---\n" + gw_->log() + "\n";
  const std::size_t restart_mark = smsc_->EventCount();
  ASSERT_NO_FATAL_FAILURE(StartGateway());

  // 6. The SMSC sends the unanswered receipts again, to the third gateway: every receipt is
  // taken, every message is reported.
  const std::size_t kReceipts = kEarlyReceipts + kLateReceipts;  // one per part accepted
  ASSERT_EQ(smsc_->WaitForEvents(ts::EventWith("delivery_done", "kind", "receipt"), kReceipts, 30s)
                .size(),
            kReceipts)
      << smsc_->Transcript() << Logs();
  for (const auto& d : smsc_->Matching(ts::EventWith("delivery_done", "kind", "receipt"))) {
    EXPECT_EQ(Str(d, "result"), "delivered") << json::serialize(d);
  }
  for (const auto& m : all) {
    EXPECT_TRUE(WaitReport(m.id, m.fails ? "REPT_DELY_FAILED" : "REPT_DELY_SUCCESS", 20s))
        << m.id << "\n"
        << earlier_logs << Logs();
  }
  EXPECT_TRUE(ts::WaitFor([&] { return queue("uplink") == 0 && queue("sms") == 0; }, 10s))
      << json::serialize(queues());
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s)) << AsQueueCount();
  EXPECT_EQ(smsc_->Counters()["pending_deliveries"].to_number<int>(), 0);

  // Exactly one report per message, with the right status and cause.
  for (const auto& m : all) {
    auto reps = ReportsFor(m.id);
    ASSERT_EQ(reps.size(), 1u) << m.id << "\n" << AllReports();
    EXPECT_EQ(Str(reps[0], "delivSt"), m.fails ? "REPT_DELY_FAILED" : "REPT_DELY_SUCCESS")
        << json::serialize(reps[0]);
    EXPECT_EQ(ts::Addr(reps[0], "oriAddr"), m.ue) << json::serialize(reps[0]);
    if (m.fails) {
      EXPECT_NE(Str(reps[0], "failureCause").find("UNDELIV"), std::string::npos)
          << json::serialize(reps[0]);
    }
  }
  EXPECT_EQ(as_.received(kAsReport).size(), all.size()) << AllReports();

  // Every part reached the SMSC: each destination got each of its texts whole.
  const auto subs = smsc_->submits();
  for (const auto& m : all) {
    const auto texts = TextsIn(SubmitsTo(msisdn_of(m.ue)));
    EXPECT_EQ(texts.count(m.text), 1u) << m.id << " did not reach " << msisdn_of(m.ue) << "\n"
                                       << Describe(subs);
  }
  std::map<std::pair<std::string, std::string>, int> copies;  // (destination, octets) -> submits
  for (const auto& s : subs) {
    EXPECT_EQ(s.status, 0u) << Describe(s);
    EXPECT_EQ(s.registered_delivery & 3, 1) << Describe(s);
    ++copies[{s.destination_addr, s.short_message}];
  }
  EXPECT_EQ(copies.size(), kDistinctParts) << Describe(subs);
  // Duplicates: only the parts whose outcome the outage took, once more each. Nothing was on the
  // wire at the first kill (no session) nor at the second (every part recorded before the
  // receipts were let go), so neither kill may add any.
  const std::size_t duplicates = subs.size() - copies.size();
  EXPECT_LE(duplicates, kCutParts) << Describe(subs);
  for (const auto& [part, n] : copies) {
    const bool was_cut =
        std::any_of(cut_subs.begin(), cut_subs.end(), [&](const ts::SmscSubmit& c) {
          return c.destination_addr == part.first && c.short_message == part.second;
        });
    EXPECT_LE(n, was_cut ? 2 : 1) << part.first << " " << ts::ToHex(part.second) << "\n"
                                  << Describe(subs);
  }
  EXPECT_LE(static_cast<double>(duplicates), counted_possible_duplicates)
      << "more parts were submitted twice than the gateway counted as possible duplicates";

  // The third gateway matched every receipt the second one never answered, and nothing else.
  const std::size_t answered_by_third = receipt_answers(restart_mark).size();
  EXPECT_EQ(answered_by_third, kLateReceipts) << smsc_->Transcript();
  EXPECT_TRUE(ts::WaitFor([&] { return receipts_metric("matched") == kLateReceipts; }, 5s))
      << gw_->GatewayMetrics() << "--- the second gateway's metrics at its SIGSTOP ---\n"
      << gw2_metrics << smsc_->Transcript() << earlier_logs << gw_->log();
  EXPECT_EQ(receipts_metric("unmatched"), 0) << gw_->GatewayMetrics();

  std::printf(
      "[ outage ] SMSC down %.1f s; submits %zu for %zu parts; possible duplicates "
      "counted %g\n",
      std::chrono::duration<double>(outage).count(), subs.size(), copies.size(),
      counted_possible_duplicates);
  EXPECT_GE(std::chrono::duration<double>(outage).count(), 30.0);
}

// An MO SMS the gateway answered ESME_ROK is its responsibility: kill -9 before it could hand it
// to msgin5gd (stopped with SIGSTOP meanwhile), restart, and the AS still gets it, once (the
// stored msgId makes msgin5gd see a repeat as a repeat).
TEST_F(GatewaySmsE2E, MoAnsweredOkSurvivesKillDashNine) {
  auto cfg = BaseConfig();
  cfg.mo_default_destination = "as-1";
  ASSERT_NO_FATAL_FAILURE(StartAll(cfg));
  ASSERT_EQ(kill(daemon_->proc().pid(), SIGSTOP), 0);
  int id = smsc_->SendMo(Mo("4670000005", "MSGin5G", "kept across a crash"));
  auto done = smsc_->WaitForDeliveryDone(id, 15s);
  kill(daemon_->proc().pid(), SIGCONT);  // (also when the wait failed)
  ASSERT_TRUE(done) << smsc_->Transcript();
  // Answered OK: stored. Kill at once, then let msgin5gd run again.
  ASSERT_EQ(MoStatus(*smsc_, id), 0u) << smsc_->Transcript();
  ASSERT_EQ(kill(daemon_->proc().pid(), SIGSTOP), 0);
  gw_->Kill();
  EXPECT_EQ(kill(daemon_->proc().pid(), SIGCONT), 0);
  ASSERT_NO_FATAL_FAILURE(StartGateway());

  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom(as_, "ue-sms-5").empty(); }, 20s))
      << AsMessages(as_) << Logs();
  ASSERT_TRUE(WaitMetricAtLeast("msgin5g_gateway_uplink_total", {{"outcome", "done"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  auto ms = AsMessagesFrom(as_, "ue-sms-5");
  ASSERT_EQ(ms.size(), 1u) << AsMessages(as_);
  EXPECT_EQ(Str(ms[0], "payload"), "kept across a crash");
  // The restarted gateway found it in its store.
  EXPECT_GE(gw_->Metric("msgin5g_gateway_outbox_replayed_total", {{"outbox", "uplink"}}), 1)
      << gw_->GatewayMetrics();
}

// ---------------------------------------------------------------------------------------------
// 5. Garbage from the SMSC.

// PDUs that keep the framing (an unknown command_id, a deliver_sm cut inside its mandatory
// fields, a deliver_sm whose sm_length runs past the PDU) are answered and the session goes on;
// broken framing (command_length huge or below 16, raw garbage) costs the session, and the gateway
// binds again. After each, a message still gets through, and the gateway stays healthy.
TEST_F(GatewaySmsE2E, MalformedPdusAndGarbageFromTheSmsc) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  int n = 0;
  auto message_gets_through = [&](const std::string& after) {
    std::string id = "after-" + after;
    std::size_t from = smsc_->EventCount();
    SendAs("ue-sms-" + std::to_string(n % 5 + 1), id, "still working after " + after, "", false);
    ++n;
    auto subs = smsc_->WaitForSubmits(1, 25s, from);
    EXPECT_EQ(subs.size(), 1u) << "after " << after << "\n" << smsc_->Transcript() << gw_->log();
    EXPECT_TRUE(gw_->proc().running()) << gw_->log();
    EXPECT_EQ(gw_->MetricsGet("/healthz").status, 200);
  };

  for (const char* kind : {"unknown_command", "truncated_deliver_sm", "bad_sm_length"}) {
    SCOPED_TRACE(kind);
    std::size_t mark = smsc_->EventCount();
    smsc_->SendMalformed(kind);
    // The gateway answers (generic_nack, or a response the SMSC had not asked for) ...
    auto answer = smsc_->WaitForEvent(
        [](const ts::SmscEvent& e) {
          auto ev = e.if_contains("event");
          return ev && ev->is_string() &&
                 (ev->as_string() == "generic_nack" || ev->as_string() == "unexpected_response");
        },
        5s, mark);
    EXPECT_TRUE(answer) << smsc_->Transcript();
    message_gets_through(kind);
    // ... and keeps its session.
    EXPECT_TRUE(smsc_->Matching(ts::EventIs("session_close"), mark).empty())
        << smsc_->Transcript();
  }
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_smpp_events_total",
                                {{"event", "malformed_pdus_received"}}, 1))
      << gw_->GatewayMetrics();

  for (const char* kind : {"huge_length", "short_length", "garbage"}) {
    SCOPED_TRACE(kind);
    std::size_t mark = smsc_->EventCount();
    if (std::string(kind) == "garbage") {
      smsc_->SendGarbage("this is not SMPP at all\r\n\x01\x02\x03");
    } else {
      smsc_->SendMalformed(kind);
    }
    // The stream cannot be followed any more: the gateway drops the session and binds again.
    EXPECT_TRUE(smsc_->WaitForEvent(ts::EventIs("session_close"), 5s, mark))
        << smsc_->Transcript();
    EXPECT_TRUE(smsc_->WaitForBinds(1, 25s, mark)) << smsc_->Transcript() << gw_->log();
    message_gets_through(kind);
  }
  EXPECT_EQ(gw_->MetricsGet("/healthz").status, 200);
  EXPECT_TRUE(gw_->WaitBound(5s));
  auto log = gw_->log();
  EXPECT_NE(log.find("WARN"), std::string::npos) << "the gateway said nothing about it:\n" << log;
}

// ---------------------------------------------------------------------------------------------
// 6. Configuration and the data directory.

TEST_F(GatewaySmsE2E, CheckConfigReportsEveryProblemWithFileAndLine) {
  const std::string file = dir_.File("bad.toml");
  ts::WriteFile(file,
                "[server]\n"                         // 1
                "api_root = \"http://127.0.0.1:1\"\n"  // 2
                "\n"                                 // 3
                "[l3g]\n"                            // 4
                "enabled = true\n"                   // 5
                "smsc = [\"127.0.0.1:2775\"]\n"      // 6
                "system_id = \"msgin5g\"\n"          // 7
                "no_such_key = 1\n"                  // 8
                "window = 0\n");                     // 9
  auto r = ts::RunGateway({"--config", file, "--check-config"});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_NE(r.err.find(file + ":8"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("l3g.no_such_key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":9"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("l3g.window"), std::string::npos) << r.err;
  // One line per problem.
  int lines = 0;
  for (char c : r.err) lines += c == '\n';
  EXPECT_EQ(lines, 2) << r.err;

  // The same file without the problems is fine; a bad --set names itself.
  ts::WriteFile(file, "[server]\napi_root = \"http://127.0.0.1:1\"\n[l3g]\nenabled = true\n"
                      "smsc = [\"127.0.0.1:2775\"]\nsystem_id = \"msgin5g\"\n");
  r = ts::RunGateway({"--config", file, "--check-config"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = ts::RunGateway({"--config", file, "--set", "l3g.max_parts=0", "--check-config"});
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("l3g.max_parts"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--set"), std::string::npos) << r.err;
  // A TOML syntax error has its line too.
  ts::WriteFile(file, "[l3g]\nenabled = true\nsmsc = [\"unterminated\n");
  r = ts::RunGateway({"--config", file, "--check-config"});
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find(file + ":3"), std::string::npos) << r.err;
  // Usage errors are 64.
  EXPECT_EQ(ts::RunGateway({"--no-such-option"}).exit_code, 64);
}

TEST_F(GatewaySmsE2E, DataDirectoryInUseIsExit75) {
  auto cfg = BaseConfig();
  cfg_ = cfg;
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto r = ts::RunGateway({"--config", gw_->config_path(), "--set", "api.listen=127.0.0.1:0",
                           "--set", "metrics.listen=127.0.0.1:0", "--set",
                           "admin.listen=127.0.0.1:0", "--set",
                           "storage.path=" + dir_.File("gateway-data")});
  EXPECT_EQ(r.exit_code, 75) << r.out << r.err;
  EXPECT_NE(r.err.find(std::to_string(gw_->proc().pid())), std::string::npos)
      << "the message should name the pid holding it:\n" << r.err;
  EXPECT_TRUE(gw_->proc().running());
  // SIGTERM: a clean stop (exit 0, unbound from the SMSC); then the directory is free again.
  std::size_t mark = smsc_->EventCount();
  EXPECT_EQ(gw_->Stop(), 0) << gw_->log();
  EXPECT_FALSE(smsc_->Matching(ts::EventIs("unbind"), mark).empty()) << smsc_->Transcript();
  ASSERT_NO_FATAL_FAILURE(StartGateway());
}

}  // namespace
}  // namespace msgin5g
