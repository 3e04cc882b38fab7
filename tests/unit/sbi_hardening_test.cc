// Fixes from the SBI attack report below the HTTP layer: TargetUriPolicy
// (api/delivery/target_uri.h) — which AS targetUris are accepted, their normal form, and the
// delivery channel refusing a stored one that fails (without sending anything); the exprTime cap
// (broker.max_ttl_s) and the failureCause bound in the shared SBI/CoAP mappings (msgs_routes.h).
#include "api/delivery/target_uri.h"

#include <future>

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/delivery/http_delivery_channel.h"
#include "api/handlers/msgs_routes.h"
#include "api/sbi/codec.h"
#include "storage/records.h"

namespace msgin5g {
namespace {

using api::TargetUriPolicy;
namespace ip = boost::asio::ip;

std::string Normal(const TargetUriPolicy& p, std::string_view uri) {
  auto r = p.Check(uri);
  return r.ok() ? *r : "REFUSED: " + r.status().message();
}

bool Refused(const TargetUriPolicy& p, std::string_view uri) { return !p.Check(uri).ok(); }

TEST(TargetUri, NormalFormLowersSchemeAndHostAndRemovesDotSegments) {
  TargetUriPolicy p;
  EXPECT_EQ(Normal(p, "HTTP://AS.Example.COM:8080/CallBacks/v1"),
            "http://as.example.com:8080/CallBacks/v1");
  EXPECT_EQ(Normal(p, "HtTpS://as.example.com"), "https://as.example.com");
  EXPECT_EQ(Normal(p, "http://as.example.com/a/./b/../c"), "http://as.example.com/a/c");
  EXPECT_EQ(Normal(p, "http://as.example.com/a/%2e%2E/c"), "http://as.example.com/c");
  EXPECT_EQ(Normal(p, "http://as.example.com/%7euser/%2fx"), "http://as.example.com/~user/%2Fx");
  EXPECT_EQ(Normal(p, "http://as.example.com:/x"), "http://as.example.com/x");  // empty port
  EXPECT_EQ(Normal(p, "http://as.example.com:0080/x"), "http://as.example.com:80/x");
  EXPECT_EQ(Normal(p, "http://[2001:DB8::1]:8443/x"), "http://[2001:db8::1]:8443/x");
  EXPECT_EQ(Normal(p, "http://%61s.example.com/x"), "http://as.example.com/x");
}

TEST(TargetUri, RefusesWhatWouldChangeTheDeliveryRequest) {
  TargetUriPolicy p;
  for (const char* bad : {
           "http://as.example.com/base?q=",       // suffix swallowed into the query
           "http://as.example.com/base?",         // an empty query is still a query
           "http://as.example.com/base#frag",     // suffix dropped
           "http://as.example.com/base#",         //
           "http://user:pw@as.example.com/base",  // userinfo
           "http://@as.example.com/base",         //
           "http://as.example.com/../admin",      // climbs above the root
           "http://as.example.com/a/../../admin", //
           "http://as.example.com/%2e%2e/admin",  //
           "ftp://as.example.com/x",              // scheme
           "urn:x:y",                             //
           "http:/relative",                      // no host
           "http://as.example.com:65536/x",       // port out of range
           "http://as.example.com:0/x",           //
           "http://[v1.fe]/x",                    // IPvFuture
           "http://a%20b.example.com/x",          // not a DNS name once decoded
           "not a uri",
       }) {
    EXPECT_TRUE(Refused(p, bad)) << bad << " -> " << Normal(p, bad);
  }
  EXPECT_TRUE(Refused(p, "http://as.example.com/" + std::string(TargetUriPolicy::kMaxBytes, 'a')));
}

TEST(TargetUri, LinkLocalAndUnspecifiedAreAlwaysRefused) {
  TargetUriPolicy lax(true);
  for (const char* bad : {"http://169.254.169.254/latest/meta-data", "http://169.254.0.1:8080/x",
                          "http://[fe80::1]/x", "http://[febf::1]/x", "http://0.0.0.0:8080/x",
                          "http://[::]/x", "http://[::ffff:169.254.169.254]/x",
                          // the resolver's other IPv4 spellings of 169.254.169.254
                          "http://2852039166/x", "http://0xa9fea9fe/x", "http://0251.0376.0251.0376/x",
                          "http://169.254.43518/x"}) {
    auto r = lax.Check(bad);
    EXPECT_FALSE(r.ok()) << bad << " -> " << *r;
  }
}

TEST(TargetUri, PrivateRangesOnlyWhenAllowed) {
  TargetUriPolicy strict(false);
  TargetUriPolicy lax(true);
  for (const char* priv : {"http://127.0.0.1:9000/x", "http://127.1:9000/x", "http://[::1]/x",
                           "http://localhost:9000/x", "http://LOCALHOST./x", "http://a.localhost/x",
                           "http://10.1.2.3/x", "http://172.16.0.1/x", "http://172.31.255.255/x",
                           "http://192.168.1.1/x", "http://[fc00::1]/x", "http://[fdff::1]/x",
                           "http://[::ffff:10.0.0.1]/x", "http://0x7f000001/x"}) {
    EXPECT_TRUE(Refused(strict, priv)) << priv;
    EXPECT_FALSE(Refused(lax, priv)) << priv << " -> " << Normal(lax, priv);
  }
  // Neighbours of the private ranges are public.
  for (const char* pub : {"http://172.32.0.1/x", "http://172.15.255.255/x", "http://192.169.0.1/x",
                          "http://11.0.0.1/x", "http://[fe00::1]/x", "http://[2001:db8::1]/x",
                          "http://169.255.0.1/x", "http://as.example.com/x"}) {
    EXPECT_FALSE(Refused(strict, pub)) << pub << " -> " << Normal(strict, pub);
  }
  // The numeric spellings are stored as the address the resolver would use.
  EXPECT_EQ(Normal(lax, "http://127.1:9000/x"), "http://127.0.0.1:9000/x");
  EXPECT_EQ(Normal(lax, "http://[::ffff:10.0.0.1]/x"), "http://[::ffff:10.0.0.1]/x");
}

TEST(TargetUri, OwnListenersAreRefusedEvenWhenPrivateTargetsAreAllowed) {
  TargetUriPolicy p(true);
  p.AddOwnListener(ip::make_address("127.0.0.1"), 8081);  // admin
  p.AddOwnListener(ip::make_address("0.0.0.0"), 9464);    // metrics on every address
  p.AddOwnListener(ip::make_address("::"), 8443);
  EXPECT_TRUE(Refused(p, "http://127.0.0.1:8081/admin/v1"));
  EXPECT_TRUE(Refused(p, "http://localhost:8081/admin/v1"));
  EXPECT_TRUE(Refused(p, "http://[::ffff:127.0.0.1]:8081/admin/v1"));
  EXPECT_TRUE(Refused(p, "http://127.0.0.1:9464/metrics"));
  EXPECT_TRUE(Refused(p, "http://127.0.0.7:9464/metrics"));  // loopback: this host
  EXPECT_TRUE(Refused(p, "http://[::1]:8443/x"));
  EXPECT_TRUE(Refused(p, "https://127.0.0.1:8443/x"));
  p.AddOwnListener(ip::make_address("127.0.0.1"), 80);
  EXPECT_TRUE(Refused(p, "http://127.0.0.1/x")) << "the default port counts";
  // Another port, or another loopback address than a specific listener's, is not us.
  EXPECT_FALSE(Refused(p, "http://127.0.0.1:8082/x"));
  EXPECT_FALSE(Refused(p, "http://127.0.0.2:8081/x"));
  EXPECT_FALSE(Refused(p, "https://127.0.0.1/x"));
}

TEST(TargetUri, PlaintextTargetsParseToTheNormalFormChecksCompare) {
  auto parse = [](std::string_view t) {
    auto r = TargetUriPolicy::ParsePlaintextTarget(t);
    if (!r.ok()) return "REFUSED: " + r.status().message();
    return r->host + (r->port ? ":" + std::to_string(*r->port) : std::string(" any"));
  };
  EXPECT_EQ(parse("AS.Example.Net"), "as.example.net any");
  EXPECT_EQ(parse("as.example.net:8080"), "as.example.net:8080");
  EXPECT_EQ(parse("0x7f.1:80"), "127.0.0.1:80") << "read as the resolver reads it";
  EXPECT_EQ(parse("[FD00::1]:9"), "[fd00::1]:9");
  for (const char* bad : {"", "as.example.net:0", "as.example.net:65536", "http://as.example.net",
                          "as.example.net/cb", "u@as.example.net", "as.example.net?q", "a b",
                          "[fd00::1"}) {
    EXPECT_TRUE(parse(bad).rfind("REFUSED: ", 0) == 0) << bad << " -> " << parse(bad);
  }
}

TEST(TargetUri, TlsRequiredRefusesHttpButToTheListedPlaintextTargets) {
  auto entry = [](std::string_view t) { return *TargetUriPolicy::ParsePlaintextTarget(t); };
  TargetUriPolicy p(/*allow_private=*/true, /*require_tls=*/true,
                    {entry("as.example.net"), entry("192.0.2.7:8080"), entry("[fd00::1]:9")});
  EXPECT_EQ(Normal(p, "https://192.0.2.1/cb"), "https://192.0.2.1/cb");
  EXPECT_EQ(Normal(p, "http://AS.example.net:1234/cb"), "http://as.example.net:1234/cb");
  EXPECT_EQ(Normal(p, "http://192.0.2.7:8080/cb"), "http://192.0.2.7:8080/cb");
  EXPECT_EQ(Normal(p, "http://[fd00::1]:9/cb"), "http://[fd00::1]:9/cb");
  EXPECT_EQ(Normal(p, "http://3221225991:8080/cb"), "http://192.0.2.7:8080/cb")
      << "the same address written as a number";
  for (const char* plain : {"http://192.0.2.7/cb", "http://192.0.2.7:8081/cb",
                            "http://other.example.net/cb", "http://[fd00::1]/cb",
                            "HTTP://192.0.2.1/cb"}) {
    auto r = p.Check(plain);
    ASSERT_FALSE(r.ok()) << plain;
    EXPECT_NE(r.status().message().find("https://"), std::string::npos) << r.status().message();
  }
  // The transport rule alone (configured destinations): no address rules, the same TLS rule.
  EXPECT_TRUE(p.CheckTransport("https://169.254.1.1/x").ok());
  EXPECT_TRUE(p.CheckTransport("http://as.example.net/x").ok());
  EXPECT_FALSE(p.CheckTransport("http://gw.example.net/x").ok());
  EXPECT_FALSE(p.CheckTransport("http://192.0.2.7/x").ok()) << "port 80 is not 8080";
  // Without TLS required, http:// goes anywhere the address rules allow.
  TargetUriPolicy off(true, false);
  EXPECT_EQ(Normal(off, "http://192.0.2.1/cb"), "http://192.0.2.1/cb");
  EXPECT_TRUE(off.CheckTransport("http://gw.example.net/x").ok());
}

// A registration stored before these checks: the channel fails it permanently and sends nothing
// (the target is unreachable anyway; a send would come back as a transient connect error).
TEST(TargetUri, DeliveryChannelRefusesAStoredTargetThatFails) {
  auto policy = std::make_shared<TargetUriPolicy>(false);
  api::http::ClientOptions opts;
  opts.connect_timeout = std::chrono::milliseconds(200);
  opts.request_timeout = std::chrono::milliseconds(200);
  api::HttpDeliveryChannel channel(opts, std::nullopt, policy);
  storage::MessageRecord m;
  m.kind = storage::MessageKind::kMessage;
  m.msg_id = "m-1";
  broker::Outbound out;
  out.message = std::make_shared<storage::MessageRecord>(m);
  for (const char* stored : {"http://169.254.169.254/latest", "http://127.0.0.1:1/as?q=",
                             "http://10.0.0.1:1/as"}) {
    broker::Route route;
    route.kind = broker::Route::Kind::kAs;
    route.base = stored;
    std::promise<broker::DeliveryResult> got;
    channel.Deliver(route, out, [&](broker::DeliveryResult r) { got.set_value(std::move(r)); });
    auto r = got.get_future().get();
    EXPECT_EQ(r.kind, broker::DeliveryResult::Kind::kPermanent) << stored << ": " << r.detail;
    EXPECT_THAT(r.detail, ::testing::HasSubstr("targetUri refused")) << stored;
  }
}

// --- exprTime cap and free-text bounds (UeMessageToBroker / ReportToBroker serve SBI and CoAP) ---

api::sbi::UEMessageDelivery UeMessage(std::optional<std::string> expr_time) {
  api::sbi::UEMessageDelivery m;
  m.oriAddr = {"UE", "ue-1"};
  m.destAddr = {"AS", "as-1"};
  m.msgId = "m-1";
  m.payload = "x";
  m.stoAndFwInd = true;
  if (expr_time) m.stoAndFwParams = api::sbi::StoreAndForwardParameters{expr_time};
  return m;
}

TEST(MaxTtl, ALaterExprTimeIsCappedNotRefused) {
  api::SetMaxMessageTtl(std::chrono::seconds(3600));
  const auto before = std::chrono::system_clock::now();
  auto in = UeMessage("2200-01-01T00:00:00Z");
  auto mapped = api::UeMessageToBroker(in, broker::Ingress::kUe);
  const auto after = std::chrono::system_clock::now();
  ASSERT_TRUE(std::holds_alternative<broker::Message>(mapped));
  const auto& m = std::get<broker::Message>(mapped);
  ASSERT_TRUE(m.expiry.has_value());
  EXPECT_GE(*m.expiry, before + std::chrono::seconds(3600));
  EXPECT_LE(*m.expiry, after + std::chrono::seconds(3600));

  // Within the cap, exprTime is kept as given.
  api::SetMaxMessageTtl(std::chrono::seconds(200LL * 365 * 86400));
  auto kept = UeMessage("2200-01-01T00:00:00Z");
  auto m2 = api::UeMessageToBroker(kept, broker::Ingress::kUe);
  ASSERT_TRUE(std::holds_alternative<broker::Message>(m2));
  EXPECT_EQ(std::get<broker::Message>(m2).expiry, api::sbi::ParseDateTime("2200-01-01T00:00:00Z"));
  api::SetMaxMessageTtl(std::chrono::seconds(30 * 86400));
}

TEST(MaxTtl, TheDefaultCapIsThirtyDays) {
  // (The previous test restores the default; this one relies on nothing else having changed it.)
  auto in = UeMessage("2100-01-01T00:00:00Z");
  auto mapped = api::UeMessageToBroker(in, broker::Ingress::kUe);
  ASSERT_TRUE(std::holds_alternative<broker::Message>(mapped));
  EXPECT_LE(*std::get<broker::Message>(mapped).expiry,
            std::chrono::system_clock::now() + std::chrono::hours(24 * 30));
}

api::sbi::DeliveryStatusReport Report(std::string failure_cause) {
  api::sbi::DeliveryStatusReport r;
  r.oriAddr = {"UE", "ue-1"};
  r.destAddr = {"AS", "as-1"};
  r.msgId = "m-1";
  r.delivSt = "REPT_DELY_FAILED";
  r.failureCause = std::move(failure_cause);
  return r;
}

TEST(FreeText, FailureCauseIsBounded) {
  EXPECT_TRUE(std::holds_alternative<broker::Report>(api::ReportToBroker(Report(std::string(1024, 'c')))));
  auto mapped = api::ReportToBroker(Report(std::string(1025, 'c')));
  ASSERT_TRUE(std::holds_alternative<api::http::Response>(mapped));
  const auto& r = std::get<api::http::Response>(mapped);
  EXPECT_EQ(r.status, 400);
  auto problem = boost::json::parse(r.body).as_object();
  EXPECT_EQ(problem["cause"], "OPTIONAL_IE_INCORRECT");
  EXPECT_EQ(problem["invalidParams"].as_array()[0].as_object()["param"], "/failureCause");
}

TEST(FreeText, RefusedValuesAreNotEchoedInFull) {
  auto in = Report("c");
  in.delivSt = std::string(100000, 'S');
  auto mapped = api::ReportToBroker(in);
  ASSERT_TRUE(std::holds_alternative<api::http::Response>(mapped));
  EXPECT_LT(std::get<api::http::Response>(mapped).body.size(), 1000u);
}

}  // namespace
}  // namespace msgin5g
