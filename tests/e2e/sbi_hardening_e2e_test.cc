// The SBI attack report's findings against the real msgin5gd: targetUri aimed at metadata
// services, our own listeners, or rewritten by a query, fragment or "../"; exprTime past 2262;
// duplicate member names; unbounded failureCause. Every refusal is a 400 ProblemDetails with the
// member's pointer and stores nothing; what is accepted is delivered where it should be.
#include <signal.h>

#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/auth/secret_hash.h"
#include "api/http/tls_context.h"
#include "api/sbi/codec.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/http1_server.h"
#include "tests/support/json_util.h"
#include "tests/support/metric_value.h"
#include "tests/support/receiver.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
using ts::Json;
using ts::Str;

const std::string kRegistrations = "/msgs-asregistration/v1/registrations";
const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";
const std::string kDeliverUe = "/msgs-msgdelivery/v1/deliver-ue-message";
const std::string kReport = "/msgs-msgdelivery/v1/deliver-report";

class SbiHardeningE2E : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    daemon_.reset();
    data_ = std::make_unique<ts::TempDir>();
    daemon_ = std::make_unique<ts::Daemon>(data_->File("data"), data_->path(), std::move(extra));
    ASSERT_TRUE(daemon_->ok());
  }
  ts::Daemon& d() { return *daemon_; }

  ts::CurlResult Post(const std::string& path, const std::string& body,
                      const std::string& bearer = "") {
    std::vector<std::string> args = {"--http2-prior-knowledge", "-H",
                                     "content-type: application/json", "--data-binary", body};
    if (!bearer.empty()) args.insert(args.end(), {"-H", "authorization: Bearer " + bearer});
    args.push_back("http://" + d().sbi() + path);
    return ts::Curl(args);
  }
  boost::json::object Admin(const std::string& path) {
    return Json(d().Admin("GET", path).body);
  }
  std::int64_t Registrations() { return Admin("/stats")["registrations"].to_number<std::int64_t>(); }
  std::int64_t QueuedBytes() { return Admin("/stats")["queuedBytes"].to_number<std::int64_t>(); }

  // A 400 whose cause is `cause` and whose first invalidParam is `pointer`.
  void Expect400(const ts::CurlResult& r, const std::string& cause, const std::string& pointer,
                 const std::string& what) {
    EXPECT_EQ(r.status, 400) << what << ": " << r.body;
    EXPECT_NE(r.headers.find("content-type: application/problem+json"), std::string::npos) << what;
    auto p = Json(r.body);
    EXPECT_EQ(Str(p, "cause"), cause) << what << ": " << r.body;
    const auto* params = p.if_contains("invalidParams");
    ASSERT_TRUE(params != nullptr && params->is_array() && !params->as_array().empty())
        << what << ": " << r.body;
    EXPECT_EQ(Str(params->as_array()[0].as_object(), "param"), pointer) << what << ": " << r.body;
  }

  static std::string Registration(const std::string& svc, const std::string& target) {
    boost::json::object o{{"asSvcId", svc}, {"targetUri", target}};
    return boost::json::serialize(o);
  }

  std::unique_ptr<ts::TempDir> data_;
  std::unique_ptr<ts::Daemon> daemon_;
};

TEST_F(SbiHardeningE2E, TargetUrisThatAimElsewhereAreRefusedAndStoreNothing) {
  Start();
  const std::vector<std::string> bad = {
      "http://169.254.169.254/latest/meta-data",  // cloud metadata
      "http://2852039166/latest",                 // the same, as the resolver reads a number
      "http://[fe80::1]:8080/cb",                 // IPv6 link-local
      "http://" + d().admin() + "/admin/v1",      // our own admin API
      "http://" + d().metrics() + "/",            // our own metrics
      "http://" + d().sbi() + "/msgs-msgdelivery/v1",  // ourselves
      "http://127.0.0.1:9/base?q=",               // {targetUri}/deliver-message would be a query
      "http://127.0.0.1:9/base#frag",             // ... or dropped
      "http://127.0.0.1:9/../admin",              // above the root
      "http://user:pw@127.0.0.1:9/base",          // userinfo
      "ftp://127.0.0.1:9/base",
  };
  for (const auto& target : bad) {
    Expect400(Post(kRegistrations, Registration("as-bad", target)), "MANDATORY_IE_INCORRECT",
              "/targetUri", target);
  }
  EXPECT_EQ(Registrations(), 0) << "refused registrations store nothing";
}

// The accepted form is normalised before it is stored: scheme and host case, dot segments.
TEST_F(SbiHardeningE2E, AnUpperCaseSchemeWithDotSegmentsIsNormalisedAndDelivered) {
  ts::Receiver as;
  Start();
  // Before the fix "HTTP://" was refused at registration (and the client would have refused it).
  std::string url = as.url();  // http://127.0.0.1:PORT
  std::string target = "HTTP://" + url.substr(7) + "/as/x/./../as-1";
  auto reg = Post(kRegistrations, Registration("as-1", target));
  ASSERT_EQ(reg.status, 201) << reg.body;
  auto ue = Post(kDeliverUe, R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},)"
                             R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"n-1",)"
                             R"("stoAndFwInd":true,"payload":"hi"})");
  ASSERT_EQ(ue.status, 200) << ue.body;
  ASSERT_TRUE(as.WaitFor("/deliver-message", 1, 20s)) << d().log();
  auto got = as.received("/deliver-message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/as/as-1/deliver-message");
}

TEST_F(SbiHardeningE2E, PrivateTargetsNeedTheirKeyWhenSecurityIsOn) {
  const std::string conf_text = "[security]\nmode = \"oauth2\"\ntoken_endpoint = true\n"
                                "[clients.as-1]\nsecret_hash = \"" +
                                api::auth::HashSecret("pw") + "\"\n";
  ts::TempDir conf_dir;
  ts::WriteFile(conf_dir.File("oauth2.toml"), conf_text);
  auto token = [&] {
    auto r = ts::Curl({"--http2-prior-knowledge", "-d", "grant_type=client_credentials", "-d",
                       "client_id=as-1", "-d", "client_secret=pw",
                       "http://" + d().sbi() + "/oauth2/token"});
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(Json(r.body), "access_token");
  };

  // The hosts below may be named over http:// (TLS is otherwise required in this mode: see
  // HttpTargetsNeedTlsWhenSecurityIsOn): this test is about their address ranges.
  const std::string plaintext =
      R"(delivery.plaintext_targets=["10.0.0.1","127.0.0.1","localhost","[fd00::1]",)"
      R"("192.168.1.10","192.0.2.1","169.254.169.254"])";
  Start({"--config", conf_dir.File("oauth2.toml"), "--set", plaintext});
  std::string t = token();
  for (const char* priv : {"http://10.0.0.1/cb", "http://127.0.0.1:9/cb", "http://localhost:9/cb",
                           "http://[fd00::1]/cb", "http://192.168.1.10/cb"}) {
    Expect400(Post(kRegistrations, Registration("as-1", priv), t), "MANDATORY_IE_INCORRECT",
              "/targetUri", priv);
  }
  EXPECT_EQ(Registrations(), 0);
  EXPECT_EQ(Post(kRegistrations, Registration("as-1", "http://192.0.2.1/cb"), t).status, 201);

  Start({"--config", conf_dir.File("oauth2.toml"), "--set", "delivery.allow_private_targets=true",
         "--set", plaintext});
  t = token();
  EXPECT_EQ(Post(kRegistrations, Registration("as-1", "http://10.0.0.1/cb"), t).status, 201);
  // Link-local and our own listeners stay refused whatever the key says.
  Expect400(Post(kRegistrations, Registration("as-2", "http://169.254.169.254/"), t),
            "MANDATORY_IE_INCORRECT", "/targetUri", "link-local");
  Expect400(Post(kRegistrations, Registration("as-2", "http://" + d().admin() + "/admin/v1"), t),
            "MANDATORY_IE_INCORRECT", "/targetUri", "admin listener");
  EXPECT_EQ(Registrations(), 1);
}

// With security.mode tls or oauth2 every destination must be https:// unless the configuration
// names its host (any port) or host and port in delivery.plaintext_targets (mode off allows
// http:// to any host the address rules accept). Refused registrations store nothing.
TEST_F(SbiHardeningE2E, HttpTargetsNeedTlsWhenSecurityIsOn) {
  ts::TempDir conf_dir;
  ts::WriteFile(conf_dir.File("oauth2.toml"),
                "[security]\nmode = \"oauth2\"\ntoken_endpoint = true\n[clients.as-1]\n"
                "secret_hash = \"" + api::auth::HashSecret("pw") + "\"\n");
  Start({"--config", conf_dir.File("oauth2.toml"), "--set",
         R"(delivery.plaintext_targets=["192.0.2.7:8080","AS.Example.Net"])"});
  auto r = ts::Curl({"--http2-prior-knowledge", "-d", "grant_type=client_credentials", "-d",
                     "client_id=as-1", "-d", "client_secret=pw",
                     "http://" + d().sbi() + "/oauth2/token"});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string t = Str(Json(r.body), "access_token");

  for (const char* plain : {"http://192.0.2.1/cb", "http://192.0.2.7/cb" /* port 80, not 8080 */,
                            "HTTP://192.0.2.1:8080/cb", "http://other.example.net/cb"}) {
    auto refused = Post(kRegistrations, Registration("as-1", plain), t);
    Expect400(refused, "MANDATORY_IE_INCORRECT", "/targetUri", plain);
    EXPECT_NE(refused.body.find("https://"), std::string::npos) << plain << ": " << refused.body;
  }
  EXPECT_EQ(Registrations(), 0);
  EXPECT_EQ(Post(kRegistrations, Registration("as-1", "https://192.0.2.1/cb"), t).status, 201);
  EXPECT_EQ(Post(kRegistrations, Registration("as-2", "http://192.0.2.7:8080/cb"), t).status, 201);
  EXPECT_EQ(Post(kRegistrations, Registration("as-3", "http://as.example.net:9000/cb"), t).status,
            201);
  EXPECT_EQ(Registrations(), 3);
}

// Defence in depth: a registration stored while loopback targets were acceptable (mode off) is
// checked again before delivery once the server restarts with security on: the message fails
// permanently and the AS gets nothing.
TEST_F(SbiHardeningE2E, AStoredTargetTheCurrentSettingsRefuseIsNeverSentTo) {
  ts::Receiver as;
  ts::TempDir dir;
  auto daemon = std::make_unique<ts::Daemon>(dir.File("data"), dir.path());
  ASSERT_TRUE(daemon->ok());
  daemon_.swap(daemon);
  ASSERT_EQ(Post(kRegistrations, Registration("as-1", as.as_target("as-1"))).status, 201);
  ASSERT_EQ(d().proc().Stop(SIGTERM, 20s), 0);

  ts::WriteFile(dir.File("oauth2.toml"),
                "[security]\nmode = \"oauth2\"\ntoken_endpoint = true\n[clients.gw-1]\n"
                "secret_hash = \"" + api::auth::HashSecret("pw") + "\"\n");
  daemon_ = std::make_unique<ts::Daemon>(dir.File("data"), dir.path(),
                                         std::vector<std::string>{"--config", dir.File("oauth2.toml")});
  ASSERT_TRUE(d().ok());
  EXPECT_EQ(Registrations(), 1) << "the old registration is still stored";
  auto tok = ts::Curl({"--http2-prior-knowledge", "-d", "grant_type=client_credentials", "-d",
                       "client_id=gw-1", "-d", "client_secret=pw",
                       "http://" + d().sbi() + "/oauth2/token"});
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto sent = Post(kDeliverUe, R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},)"
                               R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"old-1",)"
                               R"("stoAndFwInd":true,"payload":"hi"})",
                   Str(Json(tok.body), "access_token"));
  ASSERT_EQ(sent.status, 200) << sent.body;
  ASSERT_TRUE(ts::WaitFor([&] { return Str(Admin("/messages/UE/ue-1/old-1"), "state") == "FINISHED"; },
                          20s))
      << boost::json::serialize(Admin("/messages/UE/ue-1/old-1")) << d().log();
  EXPECT_TRUE(as.received().empty()) << "nothing was sent to the refused target";
  auto metrics = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  EXPECT_EQ(ts::MetricValue(metrics, "msgin5g_delivery_finished_total{outcome=\"failed\"}"), 1)
      << metrics;

  // The same stored registration, once the settings allow loopback targets again: delivered.
  ASSERT_EQ(d().proc().Stop(SIGTERM, 20s), 0);
  daemon_ = std::make_unique<ts::Daemon>(
      dir.File("data"), dir.path(),
      std::vector<std::string>{"--config", dir.File("oauth2.toml"), "--set",
                               "delivery.allow_private_targets=true", "--set",
                               R"(delivery.plaintext_targets=["127.0.0.1"])"});
  ASSERT_TRUE(d().ok());
  tok = ts::Curl({"--http2-prior-knowledge", "-d", "grant_type=client_credentials", "-d",
                  "client_id=gw-1", "-d", "client_secret=pw", "http://" + d().sbi() + "/oauth2/token"});
  ASSERT_EQ(Post(kDeliverUe, R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},)"
                             R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"old-2",)"
                             R"("stoAndFwInd":true,"payload":"hi"})",
                 Str(Json(tok.body), "access_token"))
                .status,
            200);
  ASSERT_TRUE(as.WaitFor("/as/as-1/deliver-message", 1, 20s)) << d().log();
}

// Outbound TLS (TLS both ways): the daemon checks the AS's certificate against
// delivery.tls_ca_file, presents delivery.tls_cert_file to an AS that asks for one, and once the
// AS restarted, reconnects by resuming the TLS session rather than with a full handshake.
TEST_F(SbiHardeningE2E, DeliveryOverMutualTlsResumesTheSessionAfterTheAsRestarts) {
  ts::TempDir pki;
  auto certs = ts::MakeTestCerts(pki.path());
  api::http::TlsOptions server_tls;
  server_tls.cert_file = certs.server_cert;
  server_tls.key_file = certs.server_key;
  server_tls.ca_file = certs.ca_cert;
  server_tls.require_client_cert = true;
  auto ctx = api::http::MakeServerTlsContext(server_tls);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ts::Receiver as(*ctx);
  ASSERT_EQ(as.url().rfind("https://", 0), 0u);
  const std::vector<std::string> tls_delivery = {
      "--set", "delivery.tls_ca_file=" + certs.ca_cert, "--set", "delivery.retry_initial_ms=100"};
  std::vector<std::string> with_cert = tls_delivery;
  with_cert.insert(with_cert.end(), {"--set", "delivery.tls_cert_file=" + certs.server_cert,
                                     "--set", "delivery.tls_key_file=" + certs.server_key});
  Start(with_cert);
  ASSERT_EQ(Post(kRegistrations, Registration("as-1", as.as_target("as-1"))).status, 201);
  auto send = [&](const std::string& id) {
    return Post(kDeliverUe, R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},)"
                            R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":")" + id +
                                R"(","stoAndFwInd":true,"payload":"hi"})")
        .status;
  };
  ASSERT_EQ(send("tls-1"), 200);
  ASSERT_TRUE(as.WaitFor("/as/as-1/deliver-message", 1, 20s)) << d().log();
  // The AS saw our certificate (its first SAN DNS name).
  EXPECT_EQ(as.received("/deliver-message")[0].peer_identity, "localhost");

  as.Stop();
  as.Start();
  ASSERT_EQ(send("tls-2"), 200);
  ASSERT_TRUE(as.WaitFor("/as/as-1/deliver-message", 2, 20s)) << d().log();
  auto metrics = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  EXPECT_EQ(ts::MetricValue(metrics, R"(msgin5g_delivery_tls_handshakes_total{resumed="false"})"), 1)
      << metrics;
  EXPECT_EQ(ts::MetricValue(metrics, R"(msgin5g_delivery_tls_handshakes_total{resumed="true"})"), 1)
      << metrics;

  // Without a client certificate the AS refuses the handshake: a transient failure, retried,
  // never delivered.
  Start(tls_delivery);
  ASSERT_EQ(Post(kRegistrations, Registration("as-1", as.as_target("as-1"))).status, 201);
  ASSERT_EQ(send("tls-3"), 200);
  ASSERT_TRUE(ts::WaitFor(
      [&] {
        auto m = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
        return ts::MetricValue(
                   m, R"(msgin5g_delivery_attempts_total{channel="as",result="transient_failure"})") >= 2;
      },
      20s))
      << d().log();
  EXPECT_EQ(as.received("/deliver-message").size(), 2u);
}

// An AS whose callback server speaks HTTP/1.1 only (Python's http.server), over cleartext and
// over TLS: messages and reports reach it, msgin5gd finds out once per AS and says so once.
TEST_F(SbiHardeningE2E, AnHttp1OnlyAsReceivesMessagesAndReports) {
  ts::TempDir pki;
  auto certs = ts::MakeTestCerts(pki.path());
  ts::Http1Server plain;
  ts::Http1Server tls({.tls = &certs});
  ASSERT_TRUE(plain.ok() && tls.ok());
  Start({"--set", "delivery.tls_ca_file=" + certs.ca_cert});
  ASSERT_EQ(Post(kRegistrations, Registration("as-1", plain.url() + "/cb")).status, 201);
  ASSERT_EQ(Post(kRegistrations, Registration("as-2", tls.url() + "/cb")).status, 201);
  for (const std::string as : {"as-1", "as-2"}) {
    for (int i = 0; i < 10; ++i) {
      auto r = Post(kDeliverUe, R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},)"
                                R"("destAddr":{"addrType":"AS","addr":")" + as +
                                    R"("},"msgId":")" + as + "-m" + std::to_string(i) +
                                    R"(","stoAndFwInd":true,"payload":"hi"})");
      ASSERT_EQ(r.status, 200) << r.body;
    }
    auto rep = Post(kReport, R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},)"
                             R"("destAddr":{"addrType":"AS","addr":")" + as +
                                 R"("},"msgId":"from-)" + as + R"(","delivSt":"REPT_DELY_SUCCESS"})");
    ASSERT_EQ(rep.status, 200) << rep.body;
  }
  for (auto* as : {&plain, &tls}) {
    ASSERT_TRUE(as->WaitFor("/cb/deliver-message", 10, 20s)) << d().log();
    ASSERT_TRUE(as->WaitFor("/cb/deliver-report", 1, 20s)) << d().log();
    std::set<std::string> ids;
    for (const auto& q : as->received()) {
      EXPECT_EQ(q.version, "HTTP/1.1");
      EXPECT_EQ(q.headers.at("content-type"), "application/json");
      if (q.path == "/cb/deliver-message") {
        auto m = api::sbi::DecodeUEMessageDelivery(q.body);
        ASSERT_TRUE(m.ok()) << q.body;
        EXPECT_EQ(m.value->payload, "hi");
        ids.insert(m.value->msgId);
      } else {
        EXPECT_EQ(q.path, "/cb/deliver-report");
        auto rep = api::sbi::DecodeDeliveryStatusReport(q.body);
        ASSERT_TRUE(rep.ok()) << q.body;
        EXPECT_EQ(rep.value->delivSt, "REPT_DELY_SUCCESS");
      }
    }
    EXPECT_EQ(ids.size(), 10u) << "each message once";
  }
  auto metrics = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  EXPECT_EQ(ts::MetricValue(metrics, "msgin5g_delivery_http1_fallbacks_total"), 2) << metrics;
  std::string log = d().log();
  std::size_t found = 0;
  for (auto at = log.find("speaks HTTP/1.1 only"); at != std::string::npos;
       at = log.find("speaks HTTP/1.1 only", at + 1)) {
    ++found;
  }
  EXPECT_EQ(found, 2u) << log;
  EXPECT_NE(log.find("ALPN http/1.1"), std::string::npos) << log;
}

std::string AsMessage(const std::string& msg_id, const std::string& expr_time) {
  return R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},)"
         R"("msgId":")" + msg_id + R"(","stoAndFwInd":true,"payload":"hi",)"
         R"("stoAndFwParams":{"exprTime":")" + expr_time + R"("}})";
}

TEST_F(SbiHardeningE2E, ExprTimeBeyond2262IsRefusedAndALateOneIsCapped) {
  // (broker.default_ttl_s, 86400 by default, may not exceed the maximum.)
  Start({"--set", "broker.max_ttl_s=86400"});
  // Before the fix: year 2700 was stored as expiring in 2115, and 2300 was "in the past".
  for (const char* when : {"2700-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    auto r = Post(kDeliverAs, AsMessage("late", when));
    Expect400(r, "OPTIONAL_IE_INCORRECT", "/stoAndFwParams/exprTime", when);
    EXPECT_NE(r.body.find("out of range"), std::string::npos) << r.body;
  }
  EXPECT_EQ(QueuedBytes(), 0);

  const auto before = std::chrono::system_clock::now();
  auto ok = Post(kDeliverAs, AsMessage("capped", "2250-01-01T00:00:00Z"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Str(Json(ok.body), "status"), "DELY_STORED");
  auto stored = Admin("/messages/AS/as-1/capped");
  auto expiry = api::sbi::ParseDateTime(Str(stored, "expiry"));
  ASSERT_TRUE(expiry.has_value()) << boost::json::serialize(stored);
  // Stored for at most broker.max_ttl_s (1 s of slack for the millisecond rounding).
  EXPECT_LE(*expiry, std::chrono::system_clock::now() + 86400s);
  EXPECT_GE(*expiry, before + 86400s - 1s);
}

TEST_F(SbiHardeningE2E, DuplicateMemberNamesAreRefusedWithTheirPointer) {
  Start();
  // Before the fix the last value silently won and the message was stored.
  Expect400(Post(kDeliverAs, R"({"oriAddr":{"addrType":"AS","addr":"as-1"},)"
                             R"("destAddr":{"addrType":"UE","addr":"ue-1","addr":"ue-2"},)"
                             R"("msgId":"d-1","stoAndFwInd":true,"payload":"hi"})"),
            "INVALID_MSG_FORMAT", "/destAddr/addr", "nested duplicate");
  Expect400(Post(kDeliverAs, R"({"msgId":"d-2","oriAddr":{"addrType":"AS","addr":"as-1"},)"
                             R"("destAddr":{"addrType":"UE","addr":"ue-1"},)"
                             R"("msgId":"d-3","stoAndFwInd":true,"payload":"hi"})"),
            "INVALID_MSG_FORMAT", "/msgId", "root duplicate");
  Expect400(Post(kRegistrations, R"({"asSvcId":"as-1","targetUri":"http://192.0.2.1/a",)"
                                 R"("targetUri":"http://169.254.169.254/"})"),
            "INVALID_MSG_FORMAT", "/targetUri", "duplicate targetUri");
  EXPECT_EQ(QueuedBytes(), 0);
  EXPECT_EQ(Registrations(), 0);
  EXPECT_EQ(Admin("/messages/AS/as-1/d-1").count("state"), 0u);
}

TEST_F(SbiHardeningE2E, FreeTextIsBounded) {
  Start();
  ASSERT_EQ(Post(kRegistrations, Registration("as-1", "http://192.0.2.1/cb")).status, 201);
  auto report = [](const std::string& cause) {
    return R"({"oriAddr":{"addrType":"UE","addr":"ue-1"},"destAddr":{"addrType":"AS","addr":"as-1"},)"
           R"("msgId":"r-1","delivSt":"REPT_DELY_FAILED","failureCause":")" + cause + "\"}";
  };
  Expect400(Post(kReport, report(std::string(5000, 'c'))), "OPTIONAL_IE_INCORRECT",
            "/failureCause", "long failureCause");
  EXPECT_EQ(QueuedBytes(), 0);
  Expect400(Post(kRegistrations, R"({"asSvcId":"as-2","asProf":{"appName":")" +
                                     std::string(2000, 'n') + R"("}})"),
            "OPTIONAL_IE_INCORRECT", "/asProf/appName", "long appName");
  EXPECT_EQ(Registrations(), 1);
}

}  // namespace
}  // namespace msgin5g
