// msgin5gd with a CAPIF core function (TS 29.222): tests/support/ccf_server.py plays the CCF,
// over TLS, checking what it receives against TS29222_CAPIF_Publish_Service_API.yaml.
// - Publish_Service_API: both APIs published on start, also when the CCF comes up late; the same
//   serviceApiIds updated after a restart; published anew when the CCF forgot them.
// - The CCF's token keys: a token with only iss, scope and exp (TS 29.222 AccessTokenClaims)
//   signed with a fetched key is accepted; a rotated key is picked up; a retired one stops
//   working; the CCF going down keeps the keys in use.
// - trustedInvokers: in security.mode tls, an invoker whose certificate names no configured
//   client is let in on the CCF's word only, for the APIs it grants; while the CCF is down its
//   cached answer holds for the TTL, then 503.
// - TLS-PSK keys from the CCF: an invoker the CCF onboarded connects with the key the CCF's
//   answer carries (authenticationInfo), fetched before the handshake; a wrong key fails the
//   handshake, an identity the CCF does not know gets 401 (no identity), and the CCF down gets
//   503 once the cached key has expired; nothing else is stored.
// - Revocation through the admin API: the invoker's authorization revoked at the CCF
//   (trustedInvokers/{id}/delete, a SecurityNotification checked against the YAML) and its cached
//   allow dropped at once; forgetting alone makes the next request ask the CCF again.
#include <chrono>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/auth/jwks.h"
#include "api/auth/jwt.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/http1_server.h"
#include "tests/support/json_util.h"
#include "tests/support/metric_value.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
namespace auth = api::auth;
using ts::Json;
using ts::Str;

const std::string kIssuer = "ccf.test";

class CapifE2E : public ::testing::Test {
 protected:
  CapifE2E() : certs_(ts::MakeTestCerts(pki_.path())) {
    ts::WriteFile(pki_.File("invokers.json"), "{}");
  }

  void StartCcf(int port = 0) {
    ccf_.reset();
    ccf_ = std::make_unique<ts::Http1Server>(ts::Http1Server::Options{
        .tls = &certs_, .script = "ccf_server.py",
        .args = {"--keys", pki_.File("jwks.json"), "--invokers", pki_.File("invokers.json")},
        .port = port});
    ASSERT_TRUE(ccf_->ok());
  }
  std::string CcfRoot(int port) const { return "https://127.0.0.1:" + std::to_string(port); }

  void StartDaemon(int ccf_port, std::vector<std::string> extra = {}) {
    daemon_.reset();
    std::vector<std::string> args = {"--set", "capif.enabled=true",
                                     "--set", "capif.api_root=" + CcfRoot(ccf_port),
                                     "--set", "capif.apf_id=apf-1",
                                     "--set", "capif.tls_ca_file=" + certs_.ca_cert};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<ts::Daemon>(data_.File("data"), data_.path(), args);
    ASSERT_TRUE(daemon_->ok());
  }
  ts::Daemon& d() { return *daemon_; }

  // The CCF, then msgin5gd in security.mode tls (invoker answers cached 3 s) with `extra`; once
  // msgs-msgdelivery is published, its serviceApiId (empty if it never was).
  std::string StartPublishedTlsDaemon(std::vector<std::string> extra = {}) {
    int port = ts::FreePort();
    StartCcf(port);
    std::vector<std::string> args = {"--set", "security.mode=tls", "--set", "tls.enabled=true",
                                     "--set", "tls.cert_file=" + certs_.server_cert,
                                     "--set", "tls.key_file=" + certs_.server_key,
                                     "--set", "capif.invoker_cache_ttl_s=3"};
    args.insert(args.end(), extra.begin(), extra.end());
    StartDaemon(port, args);
    if (!daemon_->ok() ||
        !ts::WaitFor([&] { return Metric(R"(msgin5g_capif_published{api="msgs-msgdelivery"})") == 1; },
                     20s)) {
      ADD_FAILURE() << "msgs-msgdelivery not published:\n" << d().log();
      return {};
    }
    return Str(Json(ts::ReadFile(data_.File("data") + "/capif-published.json")), "msgs-msgdelivery");
  }
  double Metric(const std::string& series) {
    return ts::MetricValue(ts::Curl({"http://" + d().metrics() + "/metrics"}).body, series);
  }

  // The publish requests the CCF answered with `status`.
  std::vector<ts::Http1Request> Answered(const std::string& method, int status) {
    std::vector<ts::Http1Request> out;
    for (auto& r : ccf_->received()) {
      if (r.method == method && r.status == status) out.push_back(r);
    }
    return out;
  }

  void WriteKeys(const std::vector<std::pair<const auth::SigningKey*, std::string>>& keys) {
    std::string jwks = "{\"keys\":[";
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto jwk = auth::ToJwk(*keys[i].first, keys[i].second);
      ASSERT_TRUE(jwk.ok()) << jwk.status().ToString();
      jwks += (i ? "," : "") + *jwk;
    }
    ts::WriteFile(pki_.File("jwks.json.tmp"), jwks + "]}");
    std::rename(pki_.File("jwks.json.tmp").c_str(), pki_.File("jwks.json").c_str());
  }

  // A token as a CCF issues it: iss, scope and exp only, the key's kid in the header.
  static std::string CcfToken(auth::SigningKey key, const std::string& kid) {
    key.kid = kid;
    auth::TokenClaims c;
    c.iss = kIssuer;
    c.scope = "3gpp#msgin5g:msgs-msgdelivery";
    c.exp = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch()).count() + 300;
    auto t = auth::SignToken(key, c);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : "";
  }

  // POSTs a message to ue-1 with `token`; counts the 200s in accepted_.
  int Deliver(const std::string& token, const std::string& msg_id) {
    int status = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-H",
                     "authorization: Bearer " + token, "--data-binary",
                     R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},)"
                     R"("msgId":")" + msg_id + R"(","stoAndFwInd":true,"payload":"hi"})",
                     "http://" + d().sbi() + "/msgs-msgdelivery/v1/deliver-as-message"})
                     .status;
    if (status == 200) ++accepted_;
    return status;
  }
  std::uint64_t Queued() {
    auto j = Json(d().Admin("GET", "/queues/UE/ue-1").body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : 0;
  }

  ts::TempDir pki_;
  ts::TestCerts certs_;
  ts::TempDir data_;
  std::unique_ptr<ts::Http1Server> ccf_;
  std::unique_ptr<ts::Daemon> daemon_;
  std::uint64_t accepted_ = 0;
};

TEST_F(CapifE2E, PublishesBothApisAndUpdatesThemAfterARestart) {
  int port = ts::FreePort();
  // The CCF is not up yet: msgin5gd serves anyway and keeps trying.
  StartDaemon(port);
  EXPECT_EQ(Metric(R"(msgin5g_capif_published{api="msgs-msgdelivery"})"), 0);
  StartCcf(port);
  ASSERT_TRUE(ts::WaitFor([&] { return Answered("POST", 201).size() == 2; }, 20s)) << d().log();
  std::map<std::string, std::string> ids;  // apiName -> path of the published resource
  for (const auto& r : Answered("POST", 201)) {
    EXPECT_EQ(r.path, "/published-apis/v1/apf-1/service-apis");
    auto desc = Json(r.body);
    auto& profile = desc["aefProfiles"].as_array()[0].as_object();
    EXPECT_EQ(Str(profile, "aefId"), "msgin5g");  // security.server_id
    EXPECT_EQ(Str(profile, "protocol"), "HTTP_2");
    auto& iface = profile["interfaceDescriptions"].as_array()[0].as_object();
    EXPECT_EQ(Str(iface, "ipv4Addr"), "127.0.0.1");
    EXPECT_EQ(std::to_string(iface["port"].as_int64()),
              d().sbi().substr(d().sbi().rfind(':') + 1));
    ids[Str(desc, "apiName")] = "";
  }
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_TRUE(ids.contains("msgs-asregistration") && ids.contains("msgs-msgdelivery"));
  ASSERT_TRUE(ts::WaitFor(
      [&] { return Metric(R"(msgin5g_capif_published{api="msgs-msgdelivery"})") == 1; }, 5s));
  EXPECT_NE(d().log().find("published at"), std::string::npos);

  // Restarted, msgin5gd updates what it published (PUT to the same ids) instead of adding more.
  StartDaemon(port);
  ASSERT_TRUE(ts::WaitFor([&] { return Answered("PUT", 200).size() == 2; }, 20s)) << d().log();
  EXPECT_EQ(Answered("POST", 201).size(), 2u);
  std::set<std::string> put_paths;
  for (const auto& r : Answered("PUT", 200)) put_paths.insert(r.path);
  EXPECT_EQ(put_paths.size(), 2u);

  // A CCF that forgot them (restarted: it keeps them in memory) answers 404: published anew.
  StartCcf(port);
  StartDaemon(port);
  ASSERT_TRUE(ts::WaitFor([&] { return Answered("POST", 201).size() == 2; }, 20s)) << d().log();
  EXPECT_EQ(Answered("PUT", 404).size(), 2u);
  EXPECT_TRUE(Answered("POST", 400).empty()) << "every description met the schema";
}

TEST_F(CapifE2E, TokensSignedWithTheCcfsKeysAreAcceptedAsTheKeysRotate) {
  auto a = auth::LoadOrCreateSigningKey(pki_.File("a.pem"));
  auto b = auth::LoadOrCreateSigningKey(pki_.File("b.pem"));
  ASSERT_TRUE(a.ok() && b.ok());
  WriteKeys({{&*a, "k1"}});
  int port = ts::FreePort();
  StartCcf(port);
  StartDaemon(port, {"--set", "security.mode=oauth2", "--set", "capif.publish=false",
                     "--set", "capif.issuer=" + kIssuer,
                     "--set", "capif.keys_url=" + CcfRoot(port) + "/keys",
                     "--set", "capif.keys_refresh_s=1"});
  ASSERT_TRUE(ts::WaitFor([&] { return Metric("msgin5g_capif_keys") == 1; }, 10s)) << d().log();

  EXPECT_EQ(Deliver(CcfToken(*a, "k1"), "m-1"), 200) << d().log();
  // Not yet in the CCF's set: refused, stored nothing.
  std::string with_b = CcfToken(*b, "k2");
  EXPECT_EQ(Deliver(with_b, "m-2"), 401);
  // The CCF rotates: k2 joins. The unknown kid makes msgin5gd fetch the keys again.
  WriteKeys({{&*a, "k1"}, {&*b, "k2"}});
  int n = 2;
  ASSERT_TRUE(ts::WaitFor([&] { return Deliver(with_b, "m-" + std::to_string(++n)) == 200; }, 10s))
      << d().log();
  // k1 retired: refused once the periodic fetch (every second here) has seen it go.
  WriteKeys({{&*b, "k2"}});
  std::string with_a = CcfToken(*a, "k1");
  ASSERT_TRUE(ts::WaitFor([&] { return Deliver(with_a, "m-" + std::to_string(++n)) == 401; }, 10s));
  // The CCF goes down: the keys fetched stay in use.
  ccf_.reset();
  double failed = Metric(R"(msgin5g_capif_key_fetches_total{result="failed"})");
  ASSERT_TRUE(ts::WaitFor(
      [&] { return Metric(R"(msgin5g_capif_key_fetches_total{result="failed"})") > failed; }, 15s));
  EXPECT_EQ(Deliver(with_b, "m-last"), 200);
  // Exactly the accepted ones were stored; every refusal stored nothing.
  EXPECT_GE(accepted_, 3u);
  EXPECT_EQ(Queued(), accepted_);
}

TEST_F(CapifE2E, InvokersByCertificateAreLetInOnTheCcfsWordOnly) {
  const std::string delivery_id = StartPublishedTlsDaemon({"--set", "tls.ca_file=" + certs_.ca_cert});
  ASSERT_FALSE(delivery_id.empty());
  // The invoker: the test certificate, whose identity (its first SAN DNS name) is "localhost".
  auto call = [&](const std::string& path, const std::string& body) {
    return ts::Curl({"--http2", "--cacert", certs_.ca_cert, "--cert", certs_.server_cert, "--key",
                     certs_.server_key, "-H", "content-type: application/json", "--data-binary",
                     body, "https://" + d().sbi() + path});
  };
  std::uint64_t sent = 0, allowed = 0;
  auto deliver = [&] {
    auto res = call("/msgs-msgdelivery/v1/deliver-as-message",
                    R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},)"
                    R"("msgId":"t-)" + std::to_string(++sent) + R"(","stoAndFwInd":true,"payload":"hi"})");
    if (res.status == 200) ++allowed;
    return res;
  };

  // Unknown to the CCF (404): 403, nothing stored.
  auto r = deliver();
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Str(Json(r.body), "cause"), "API_NOT_ALLOWED") << r.body;
  EXPECT_EQ(Queued(), 0u);
  auto asked = ccf_->received();
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(asked.back().path,
            "/capif-security/v1/trustedInvokers/localhost?authenticationInfo=true&authorizationInfo=true");

  // The CCF trusts it now, by PKI, for msgs-msgdelivery only. The refusal above is cached for 3 s.
  ts::WriteFile(pki_.File("invokers.json"),
                R"({"localhost":{"notificationDestination":"https://as.test/notify","securityInfo":[)"
                R"({"aefId":"msgin5g","apiId":")" + delivery_id +
                    R"(","prefSecurityMethods":["PKI"],"selSecurityMethod":"PKI"}]}})");
  std::this_thread::sleep_for(3200ms);
  r = deliver();
  ASSERT_EQ(r.status, 200) << r.body << d().log();
  auto reg = call("/msgs-asregistration/v1/registrations", R"({"asSvcId":"as-x"})");
  EXPECT_EQ(reg.status, 403) << reg.body;  // not granted that API

  // The CCF goes down: its cached answer holds for the TTL, then no answer means 503, never a
  // silent allow.
  ccf_.reset();
  r = deliver();
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(ts::WaitFor([&] { return deliver().status == 503; }, 10s));
  r = deliver();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Str(Json(r.body), "cause"), "CAPIF_UNAVAILABLE") << r.body;
  EXPECT_NE(r.headers.find("retry-after: 5"), std::string::npos) << r.headers;
  EXPECT_EQ(r.headers.find("retry-after:"), r.headers.rfind("retry-after:")) << "one Retry-After";
  EXPECT_GE(allowed, 2u);
  EXPECT_EQ(Queued(), allowed) << "exactly the allowed messages were stored";
}

TEST_F(CapifE2E, PskInvokersConnectWithTheKeyTheCcfGives) {
  const std::string delivery_id = StartPublishedTlsDaemon();  // no CA: PSK clients only
  ASSERT_FALSE(delivery_id.empty());
  const std::string key = "8f2a66c1d04b7e3a9c5d21f0e6b8a47d3c1e9f5b2a7d6c4e8b0f3a1d5c7e9b2a";
  ts::WriteFile(pki_.File("invokers.json"),
                R"({"inv-psk":{"notificationDestination":"https://as.test/notify","securityInfo":[)"
                R"({"aefId":"msgin5g","apiId":")" + delivery_id +
                    R"(","prefSecurityMethods":["PSK"],"selSecurityMethod":"PSK",)"
                    R"("authenticationInfo":")" + key + R"("}]}})");
  std::uint64_t sent = 0, allowed = 0;
  auto deliver = [&](const std::string& identity, const std::string& psk) {
    auto r = ts::SClient(d().sbi(), {"-psk", psk, "-psk_identity", identity}, "POST",
                         "/msgs-msgdelivery/v1/deliver-as-message",
                         R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},)"
                         R"("msgId":"p-)" + std::to_string(++sent) + R"(","stoAndFwInd":true,"payload":"hi"})");
    if (r.status == 200) ++allowed;
    return r;
  };
  auto asked = [&](const std::string& identity) {
    std::size_t n = 0;
    for (const auto& r : ccf_->received()) {
      n += r.path.rfind("/capif-security/v1/trustedInvokers/" + identity + "?", 0) == 0;
    }
    return n;
  };
  auto lookups = [&](const std::string& result) {
    return Metric(R"(msgin5g_capif_psk_key_lookups_total{result=")" + result + R"("})");
  };

  // The CCF's key lets it in, for the API it grants; the key and the verdict came in one answer.
  auto r = deliver("inv-psk", key);
  ASSERT_EQ(r.status, 200) << r.body << r.err << d().log();
  EXPECT_EQ(asked("inv-psk"), 1u);
  EXPECT_EQ(lookups("found"), 1);
  auto reg = ts::SClient(d().sbi(), {"-psk", key, "-psk_identity", "inv-psk"}, "POST",
                         "/msgs-asregistration/v1/registrations", R"({"asSvcId":"as-x"})");
  EXPECT_EQ(reg.status, 403) << reg.body;
  EXPECT_EQ(Str(Json(reg.body), "cause"), "API_NOT_ALLOWED") << reg.body;
  // Another key for that identity: the handshake fails, no HTTP answer.
  r = deliver("inv-psk", std::string(64, 'a'));
  EXPECT_EQ(r.status, 0) << r.body;
  // An identity the CCF does not know (404): the handshake goes on by certificate, so the
  // client has no identity: 401. The CCF's answer is cached.
  for (int i = 0; i < 2; ++i) {
    r = deliver("nobody", key);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Str(Json(r.body), "cause"), "MISSING_ACCESS_TOKEN") << r.body;
  }
  EXPECT_EQ(asked("nobody"), 1u);
  EXPECT_EQ(lookups("none"), 1);

  // The CCF down: the cached key works for the TTL, then 503 with Retry-After, never an allow.
  ccf_.reset();
  r = deliver("inv-psk", key);
  EXPECT_EQ(r.status, 200) << r.body << r.err;
  ASSERT_TRUE(ts::WaitFor([&] { return deliver("inv-psk", key).status == 503; }, 10s));
  r = deliver("inv-psk", key);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Str(Json(r.body), "cause"), "CAPIF_UNAVAILABLE") << r.body;
  EXPECT_NE(r.headers.find("retry-after: 5"), std::string::npos) << r.headers;
  EXPECT_EQ(r.headers.find("retry-after:"), r.headers.rfind("retry-after:")) << "one Retry-After";
  EXPECT_GE(lookups("failed"), 1);
  EXPECT_GE(allowed, 2u);
  EXPECT_EQ(Queued(), allowed) << "exactly the allowed messages were stored";
}

TEST_F(CapifE2E, InvokersRevokedThroughTheAdminApiAreRefusedAtOnce) {
  // Answers cached for 300 s: whatever changes below does so through the admin API, not a TTL.
  const std::string delivery_id = StartPublishedTlsDaemon(
      {"--set", "tls.ca_file=" + certs_.ca_cert, "--set", "capif.invoker_cache_ttl_s=300"});
  ASSERT_FALSE(delivery_id.empty());
  const std::string registration_id =
      Str(Json(ts::ReadFile(data_.File("data") + "/capif-published.json")), "msgs-asregistration");
  const std::string trusted =
      R"({"localhost":{"notificationDestination":"https://as.test/notify","securityInfo":[)"
      R"({"aefId":"msgin5g","apiId":")" + delivery_id +
      R"(","prefSecurityMethods":["PKI"],"selSecurityMethod":"PKI"}]}})";
  ts::WriteFile(pki_.File("invokers.json"), trusted);
  std::uint64_t sent = 0;
  auto deliver = [&] {  // as the certificate invoker "localhost"
    return ts::Curl({"--http2", "--cacert", certs_.ca_cert, "--cert", certs_.server_cert, "--key",
                     certs_.server_key, "-H", "content-type: application/json", "--data-binary",
                     R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},)"
                     R"("msgId":"r-)" + std::to_string(++sent) + R"(","stoAndFwInd":true,"payload":"hi"})",
                     "https://" + d().sbi() + "/msgs-msgdelivery/v1/deliver-as-message"});
  };
  auto revocations = [&] { return Answered("POST", 204).size(); };
  ASSERT_EQ(deliver().status, 200) << d().log();

  // Bad requests: ProblemDetails, nothing sent to the CCF.
  for (const auto& [body, param] : std::vector<std::pair<std::string, std::string>>{
           {R"({"cause":"BORED"})", "/cause"},
           {R"({"apis":["msgs-elsewhere"]})", "/apis"},
           {R"({"apis":[]})", "/apis"}}) {
    auto bad = d().Admin("POST", "/capif/invokers/localhost/revoke", body);
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(bad.body.find(param), std::string::npos) << bad.body;
  }
  EXPECT_EQ(revocations(), 0u);

  // Revoked at the CCF for both APIs, and refused here at once despite the cached allow.
  auto rv = d().Admin("POST", "/capif/invokers/localhost/revoke", R"({"cause":"OVERLIMIT_USAGE"})");
  ASSERT_EQ(rv.status, 204) << rv.body << d().log();
  ASSERT_EQ(revocations(), 1u);
  auto sent_note = Json(Answered("POST", 204)[0].body);
  EXPECT_EQ(Str(sent_note, "apiInvokerId"), "localhost");
  EXPECT_EQ(Str(sent_note, "aefId"), "msgin5g");
  EXPECT_EQ(Str(sent_note, "cause"), "OVERLIMIT_USAGE");
  std::set<std::string> ids;
  for (const auto& v : sent_note["apiIds"].as_array()) ids.insert(std::string(v.as_string()));
  EXPECT_EQ(ids, (std::set<std::string>{delivery_id, registration_id}));
  auto r = deliver();
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Str(Json(r.body), "cause"), "API_NOT_ALLOWED") << r.body;

  // Trusted again at the CCF: the refusal is cached for 300 s until it is forgotten.
  ts::WriteFile(pki_.File("invokers.json"), trusted);
  EXPECT_EQ(deliver().status, 403);
  auto fg = d().Admin("DELETE", "/capif/invokers/localhost");
  EXPECT_EQ(fg.status, 204) << fg.body;
  EXPECT_EQ(deliver().status, 200);

  // An invoker the CCF does not know: 404. The CCF down: 503 and nothing forgotten.
  auto unknown = d().Admin("POST", "/capif/invokers/nobody/revoke");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  ccf_.reset();
  auto down = d().Admin("POST", "/capif/invokers/localhost/revoke");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(Str(Json(down.body), "cause"), "CAPIF_UNAVAILABLE") << down.body;
  EXPECT_EQ(deliver().status, 200) << "the cached allow stays when the CCF did not revoke";
  EXPECT_EQ(Queued(), 3u);
}

}  // namespace
}  // namespace msgin5g
