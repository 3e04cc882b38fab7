// Unit tests for the pure pieces of the delivery engine: SplitPayload (broker/segmented_send.h),
// RouteTable::Resolve and GlobMatch (broker/route_table.h), and the wire format and answer
// classification of HttpDeliveryChannel (api/delivery/http_delivery_channel.h); and the engine's
// UeRouteChanged on a recording channel and an in-memory sink. No I/O.

#include "api/delivery/http_delivery_channel.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/http/message.h"
#include "api/http/problem.h"
#include "api/sbi/codec.h"
#include "api/sbi/models.h"
#include "broker/delivery.h"
#include "broker/delivery_engine.h"
#include "broker/route_table.h"
#include "common/status.h"
#include "storage/records.h"
#include "tests/support/async_wait.h"
#include "tests/support/manual_clock.h"

namespace msgin5g {
namespace {

using api::HttpDeliveryChannel;
using api::http::ClientRequest;
using broker::DeliveryResult;
using broker::GatewayKind;
using broker::Outbound;
using broker::Route;
using broker::RouteTable;
using storage::Address;
using storage::AddressType;
using storage::MessageKind;
using storage::MessageRecord;
using storage::Priority;
using storage::ReportStatus;
using testing::ElementsAre;
using testing::HasSubstr;
namespace sbi = api::sbi;

Address Ue(std::string id) { return Address{AddressType::kUe, std::move(id)}; }
Address As(std::string id) { return Address{AddressType::kAs, std::move(id)}; }

// ---------------------------------------------------------------------------------------------
// SplitPayload
// ---------------------------------------------------------------------------------------------

std::string Repeat(std::string_view s, int n) {
  std::string r;
  for (int i = 0; i < n; ++i) r += s;
  return r;
}

// Parts are non-empty, at most `max` bytes, never start inside a UTF-8 sequence, and rebuild `in`.
std::vector<std::string_view> SplitChecked(std::string_view in, std::size_t max) {
  std::vector<std::string_view> parts = broker::SplitPayload(in, max);
  std::string joined;
  for (std::string_view p : parts) {
    EXPECT_FALSE(p.empty());
    EXPECT_LE(p.size(), max);
    if (!p.empty()) {
      EXPECT_NE(static_cast<unsigned char>(p.front()) & 0xC0, 0x80) << "part starts mid-sequence";
    }
    joined += p;
  }
  EXPECT_EQ(joined, in);
  return parts;
}

TEST(SplitPayloadTest, FittingPayloadIsOnePart) {
  const std::string in = "hello";
  auto parts = broker::SplitPayload(in, 5);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], in);
  EXPECT_EQ(parts[0].data(), in.data());  // a view into the input, not a copy
}

TEST(SplitPayloadTest, MaxZeroNeverSplits) {
  const std::string in(1000, 'x');
  auto parts = broker::SplitPayload(in, 0);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], in);
}

TEST(SplitPayloadTest, EmptyPayloadIsOneEmptyPart) {
  auto parts = broker::SplitPayload("", 10);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].empty());
}

TEST(SplitPayloadTest, AsciiSplitsIntoFullParts) {
  std::string in;
  for (int i = 0; i < 250; ++i) in.push_back(static_cast<char>('a' + i % 26));
  auto parts = SplitChecked(in, 100);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), 100u);
  EXPECT_EQ(parts[1].size(), 100u);
  EXPECT_EQ(parts[2].size(), 50u);
}

TEST(SplitPayloadTest, NeverSplitsInsideUtf8Sequence) {
  const std::string e_acute = Repeat("\xC3\xA9", 10);  // "é": 2 bytes, 20 in all
  auto parts = SplitChecked(e_acute, 5);
  ASSERT_EQ(parts.size(), 5u);
  for (auto p : parts) EXPECT_EQ(p.size(), 4u);

  const std::string euro = Repeat("\xE2\x82\xAC", 10);  // "€": 3 bytes, 30 in all
  parts = SplitChecked(euro, 7);
  ASSERT_EQ(parts.size(), 5u);
  for (auto p : parts) EXPECT_EQ(p.size(), 6u);

  SplitChecked("a" + euro + "b" + e_acute, 4);  // mixed widths
}

// ---------------------------------------------------------------------------------------------
// RouteTable
// ---------------------------------------------------------------------------------------------

RouteTable Table() {
  RouteTable t;
  t.as_targets["as-1"] = "http://as1.example:8080/cb";
  t.as_targets["as-empty"] = "";
  t.gateways["sms"] = broker::GatewayInfo{"sms", GatewayKind::kL3g, "https://l3g.example", 140};
  t.gateways["wifi"] = broker::GatewayInfo{"wifi", GatewayKind::kN3g, "https://n3g.example", 0};
  t.gateways["cell"] = broker::GatewayInfo{"cell", GatewayKind::kBg, "https://bg.example", 1000};
  t.rules = {
      storage::RoutingRuleRecord{"direct", "ue-direct-*", "", 10},
      storage::RoutingRuleRecord{"lost", "ue-lost-*", "nowhere", 20},
      storage::RoutingRuleRecord{"sms", "ue-sms-*", "sms", 30},
      storage::RoutingRuleRecord{"rest", "ue-*", "wifi", 40},
  };
  return t;
}

TEST(RouteTableTest, AsRoutes) {
  const RouteTable t = Table();
  auto r = t.Resolve(As("as-1"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, Route::Kind::kAs);
  EXPECT_EQ(r->base, "http://as1.example:8080/cb");
  EXPECT_FALSE(t.Resolve(As("as-empty")).has_value());  // registered without targetUri
  EXPECT_FALSE(t.Resolve(As("as-unknown")).has_value());
}

TEST(RouteTableTest, UeTakesFirstMatchingRule) {
  RouteTable t = Table();
  auto r = t.Resolve(Ue("ue-sms-1"));  // matches "ue-sms-*" and "ue-*": the first wins
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, Route::Kind::kGateway);
  EXPECT_EQ(r->gateway, GatewayKind::kL3g);
  EXPECT_EQ(r->base, "https://l3g.example");
  EXPECT_EQ(r->max_segment_bytes, 140u);

  r = t.Resolve(Ue("ue-7"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->gateway, GatewayKind::kN3g);
  EXPECT_EQ(r->base, "https://n3g.example");
  EXPECT_EQ(r->max_segment_bytes, 0u);

  // Vector order decides, not specificity: with the catch-all first, it takes ue-sms-1 too.
  std::swap(t.rules[2], t.rules[3]);
  r = t.Resolve(Ue("ue-sms-1"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->gateway, GatewayKind::kN3g);
}

TEST(RouteTableTest, UeUnrouted) {
  const RouteTable t = Table();
  EXPECT_FALSE(t.Resolve(Ue("ue-direct-1")).has_value());  // direct; no fall-through to "ue-*"
  EXPECT_FALSE(t.Resolve(Ue("ue-lost-1")).has_value());    // unconfigured gateway
  EXPECT_FALSE(t.Resolve(Ue("other")).has_value());        // no rule matches
}

TEST(RouteTableTest, BroadcastGroupTopic) {
  RouteTable t = Table();
  t.rules.push_back(storage::RoutingRuleRecord{"all", "*", "sms", 50});
  EXPECT_FALSE(t.Resolve(Address{AddressType::kBroadcast, "area-1"}).has_value());
  t.broadcast_gateway = "cell";
  auto r = t.Resolve(Address{AddressType::kBroadcast, "area-1"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, Route::Kind::kGateway);
  EXPECT_EQ(r->gateway, GatewayKind::kBg);
  EXPECT_EQ(r->base, "https://bg.example");
  EXPECT_EQ(r->max_segment_bytes, 1000u);
  // An area's own gateway wins over the catch-all; areas it does not serve still fall back.
  t.gateways["north"] = broker::GatewayInfo{"north", GatewayKind::kBg, "https://north.example", 0};
  t.broadcast_areas = {{"north-*", "north"}, {"area-9", "north"}};
  r = t.Resolve(Address{AddressType::kBroadcast, "north-3"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->base, "https://north.example");
  r = t.Resolve(Address{AddressType::kBroadcast, "area-9"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->base, "https://north.example");
  r = t.Resolve(Address{AddressType::kBroadcast, "area-1"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->base, "https://bg.example");
  t.broadcast_areas.clear();
  t.broadcast_gateway = "nowhere";
  EXPECT_FALSE(t.Resolve(Address{AddressType::kBroadcast, "area-1"}).has_value());
  EXPECT_FALSE(t.Resolve(Address{AddressType::kGroup, "g1"}).has_value());
  EXPECT_FALSE(t.Resolve(Address{AddressType::kTopic, "t1"}).has_value());
}

TEST(RouteTableTest, KeyTellsKindsApart) {
  Route as;
  as.kind = Route::Kind::kAs;
  as.base = "http://peer.example";
  Route l3g = as;
  l3g.kind = Route::Kind::kGateway;
  l3g.gateway = GatewayKind::kL3g;
  Route n3g = l3g;
  n3g.gateway = GatewayKind::kN3g;
  EXPECT_NE(as.Key(), l3g.Key());
  EXPECT_NE(l3g.Key(), n3g.Key());
  EXPECT_EQ(as.Key(), Route(as).Key());
}

TEST(GlobMatchTest, Stars) {
  EXPECT_TRUE(broker::GlobMatch("ue-*", "ue-"));
  EXPECT_TRUE(broker::GlobMatch("ue-*", "ue-123"));
  EXPECT_TRUE(broker::GlobMatch("*", ""));
  EXPECT_TRUE(broker::GlobMatch("a*c", "abbbc"));
  EXPECT_TRUE(broker::GlobMatch("*b*", "abc"));
  EXPECT_TRUE(broker::GlobMatch("exact", "exact"));
  EXPECT_FALSE(broker::GlobMatch("a*c", "abcd"));
  EXPECT_FALSE(broker::GlobMatch("ue-*", "u"));
  EXPECT_FALSE(broker::GlobMatch("exact", "exactly"));
}

// ---------------------------------------------------------------------------------------------
// HttpDeliveryChannel::BuildRequest
// ---------------------------------------------------------------------------------------------

MessageRecord BaseMessage() {
  MessageRecord m;
  m.origin = As("as-origin");
  m.destination = Address{AddressType::kGroup, "g1"};
  m.app_id = "app-1";
  m.msg_id = "m-1";
  m.payload = "hello";
  return m;
}

MessageRecord Report(ReportStatus status, std::string cause) {
  MessageRecord m;
  m.kind = MessageKind::kReport;
  m.origin = Ue("ue-1");  // who reports
  m.destination = As("as-1");
  m.msg_id = "m-1";
  m.report_status = status;
  m.failure_cause = std::move(cause);
  return m;
}

// The whole message for `recipient`; payload is a view into the shared record.
Outbound Out(const MessageRecord& m, Address recipient) {
  Outbound o;
  o.message = std::make_shared<const MessageRecord>(m);
  o.recipient = std::move(recipient);
  o.payload = o.message->payload;
  return o;
}

Route AsRoute(std::string base) {
  Route r;
  r.kind = Route::Kind::kAs;
  r.base = std::move(base);
  return r;
}

Route GwRoute(GatewayKind kind, std::string base) {
  Route r;
  r.kind = Route::Kind::kGateway;
  r.gateway = kind;
  r.base = std::move(base);
  return r;
}

ClientRequest Build(const Route& route, const Outbound& out) {
  std::string error;
  ClientRequest req = HttpDeliveryChannel::BuildRequest(route, out, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(api::http::FindHeader(req.headers, "content-type"), "application/json");
  return req;
}

TEST(BuildRequestTest, AsMessage) {
  MessageRecord m = BaseMessage();
  m.origin = Ue("ue-9");
  m.report_requested = true;
  m.store_and_forward = true;
  m.expiry_ms = 1'800'000'000'250;
  ClientRequest req = Build(AsRoute("http://as1.example:8080/cb"), Out(m, As("as-1")));
  EXPECT_EQ(req.url, "http://as1.example:8080/cb/deliver-message");
  auto d = sbi::DecodeUEMessageDelivery(req.body);
  ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
  const sbi::UEMessageDelivery& v = *d.value;
  EXPECT_EQ(v.oriAddr.addrType, "UE");
  EXPECT_EQ(v.oriAddr.addr, "ue-9");
  EXPECT_EQ(v.destAddr.addrType, "AS");  // the recipient, not the GROUP the message was sent to
  EXPECT_EQ(v.destAddr.addr, "as-1");
  EXPECT_EQ(v.appId.value_or("<none>"), "app-1");
  EXPECT_EQ(v.msgId, "m-1");
  EXPECT_EQ(v.payload.value_or("<none>"), "hello");
  EXPECT_TRUE(v.delivStReqInd.value_or(false));
  EXPECT_TRUE(v.stoAndFwInd);
  ASSERT_TRUE(v.stoAndFwParams.has_value() && v.stoAndFwParams->exprTime.has_value());
  auto expiry = sbi::ParseDateTime(*v.stoAndFwParams->exprTime);
  ASSERT_TRUE(expiry.has_value()) << *v.stoAndFwParams->exprTime;
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(expiry->time_since_epoch())
                .count(),
            m.expiry_ms);
  EXPECT_FALSE(v.segInd.has_value());
}

TEST(BuildRequestTest, AsMessageWithoutStoreOrReportAndSlashedBase) {
  MessageRecord m = BaseMessage();
  ClientRequest req = Build(AsRoute("http://as1.example/cb/"), Out(m, As("as-1")));
  EXPECT_EQ(req.url, "http://as1.example/cb/deliver-message");
  auto d = sbi::DecodeUEMessageDelivery(req.body);
  ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
  EXPECT_FALSE(d.value->stoAndFwInd);
  EXPECT_FALSE(d.value->stoAndFwParams.has_value());
  EXPECT_FALSE(d.value->delivStReqInd.has_value());
}

TEST(BuildRequestTest, Reports) {
  ClientRequest req =
      Build(AsRoute("http://as1.example/cb"), Out(Report(ReportStatus::kSuccess, ""), As("as-1")));
  EXPECT_EQ(req.url, "http://as1.example/cb/deliver-report");
  auto d = sbi::DecodeDeliveryStatusReport(req.body);
  ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
  EXPECT_EQ(d.value->oriAddr.addrType, "UE");
  EXPECT_EQ(d.value->oriAddr.addr, "ue-1");
  EXPECT_EQ(d.value->destAddr.addrType, "AS");
  EXPECT_EQ(d.value->destAddr.addr, "as-1");
  EXPECT_EQ(d.value->msgId, "m-1");
  EXPECT_EQ(d.value->delivSt, "REPT_DELY_SUCCESS");
  EXPECT_FALSE(d.value->failureCause.has_value());

  req = Build(GwRoute(GatewayKind::kL3g, "https://l3g.example"),
              Out(Report(ReportStatus::kFailed, "UE_NOT_REACHABLE"), Ue("ue-5")));
  EXPECT_EQ(req.url, "https://l3g.example/msgg-l3gdelivery/v1/deliver-report");
  d = sbi::DecodeDeliveryStatusReport(req.body);
  ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
  EXPECT_EQ(d.value->destAddr.addr, "ue-5");
  EXPECT_EQ(d.value->delivSt, "REPT_DELY_FAILED");
  EXPECT_EQ(d.value->failureCause.value_or("<none>"), "UE_NOT_REACHABLE");
}

TEST(BuildRequestTest, L3gAndN3gMessages) {
  const MessageRecord m = BaseMessage();  // to GROUP g1; this copy goes to member ue-1
  ClientRequest req = Build(GwRoute(GatewayKind::kL3g, "https://l3g.example/"), Out(m, Ue("ue-1")));
  EXPECT_EQ(req.url, "https://l3g.example/msgg-l3gdelivery/v1/deliver-message");
  EXPECT_EQ(req.body.find("stoAndFwInd"), std::string::npos);  // not in the gateway schemas
  auto l3g = sbi::DecodeL3gMessageDelivery(req.body);
  ASSERT_TRUE(l3g.ok()) << l3g.error.detail << " in " << req.body;
  EXPECT_EQ(l3g.value->oriAddr.addr, "as-origin");
  EXPECT_EQ(l3g.value->destAddr.addrType, "UE");
  EXPECT_EQ(l3g.value->destAddr.addr, "ue-1");
  EXPECT_EQ(l3g.value->msgId, "m-1");
  EXPECT_EQ(l3g.value->payload.value_or("<none>"), "hello");

  req = Build(GwRoute(GatewayKind::kN3g, "https://n3g.example"), Out(m, Ue("ue-2")));
  EXPECT_EQ(req.url, "https://n3g.example/msgg-n3gdelivery/v1/deliver-message");
  auto n3g = sbi::DecodeN3gMessageDelivery(req.body);
  ASSERT_TRUE(n3g.ok()) << n3g.error.detail << " in " << req.body;
  EXPECT_EQ(n3g.value->destAddr.addr, "ue-2");
  EXPECT_EQ(n3g.value->payload.value_or("<none>"), "hello");
}

// payload is optional in every *MessageDelivery: a message accepted without one is delivered
// without one (not with "payload":""), to ASs and gateways alike.
TEST(BuildRequestTest, AMessageWithoutPayloadIsSentWithoutOne) {
  MessageRecord m = BaseMessage();
  m.payload.clear();
  for (const auto& route : {AsRoute("http://as1.example/cb"),
                            GwRoute(GatewayKind::kL3g, "https://l3g.example")}) {
    ClientRequest req = Build(route, Out(m, route.kind == Route::Kind::kAs ? As("as-1") : Ue("ue-1")));
    EXPECT_EQ(req.body.find("payload"), std::string::npos) << req.body;
  }
  m.payload = "x";
  ClientRequest req = Build(AsRoute("http://as1.example/cb"), Out(m, As("as-1")));
  EXPECT_NE(req.body.find(R"("payload":"x")"), std::string::npos) << req.body;
}

TEST(BuildRequestTest, BgMessagesCarryPriorityAndRefuseReports) {
  const std::pair<Priority, std::string> cases[] = {
      {Priority::kHigh, "HIGH"}, {Priority::kMiddle, "MIDDLE"}, {Priority::kLow, "LOW"}};
  for (const auto& [priority, name] : cases) {
    MessageRecord m = BaseMessage();
    m.priority = priority;
    ClientRequest req = Build(GwRoute(GatewayKind::kBg, "https://bg.example"),
                              Out(m, Address{AddressType::kBroadcast, "area-1"}));
    EXPECT_EQ(req.url, "https://bg.example/msgg-bgdelivery/v1/deliver-message");
    auto d = sbi::DecodeBgMessageDelivery(req.body);
    ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
    EXPECT_EQ(d.value->priority.value_or("<none>"), name);
    EXPECT_EQ(d.value->destAddr.addrType, "BC");
  }
  std::string error;
  (void)HttpDeliveryChannel::BuildRequest(GwRoute(GatewayKind::kBg, "https://bg.example"),
                                          Out(Report(ReportStatus::kSuccess, ""), Ue("ue-1")),
                                          &error);
  EXPECT_FALSE(error.empty());
}

TEST(BuildRequestTest, Segment) {
  MessageRecord m = BaseMessage();
  m.payload = "0123456789";
  Outbound out = Out(m, Ue("ue-1"));
  out.payload = std::string_view(out.message->payload).substr(4, 4);
  out.segment = broker::SegmentInfo{"m-1", 3, 2, false};
  ClientRequest req = Build(GwRoute(GatewayKind::kL3g, "https://l3g.example"), out);
  auto d = sbi::DecodeL3gMessageDelivery(req.body);
  ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
  EXPECT_TRUE(d.value->segInd.value_or(false));
  ASSERT_TRUE(d.value->segParams.has_value());
  const sbi::MessageSegmentParameters& s = *d.value->segParams;
  EXPECT_EQ(s.segId.value_or("<none>"), "m-1");
  EXPECT_EQ(s.totalSegCount.value_or(-1), 3);
  EXPECT_EQ(s.segNumb.value_or(-1), 2);
  EXPECT_FALSE(s.lastSegFlag.value_or(true));
  EXPECT_EQ(d.value->msgId, "m-1#2");
  EXPECT_EQ(d.value->payload.value_or("<none>"), "4567");
}

TEST(BuildRequestTest, PayloadEscapingRoundTrips) {
  MessageRecord m = BaseMessage();
  m.payload = std::string("quote \" backslash \\ newline \n tab \t bell \x07 nul ") + '\0' +
              " del \x7f euro \xE2\x82\xAC {\"json\": [1]}";
  ClientRequest req = Build(AsRoute("http://as1.example"), Out(m, As("as-1")));
  auto d = sbi::DecodeUEMessageDelivery(req.body);
  ASSERT_TRUE(d.ok()) << d.error.detail << " in " << req.body;
  EXPECT_EQ(d.value->payload.value_or("<none>"), m.payload);
}

// ---------------------------------------------------------------------------------------------
// HttpDeliveryChannel::Classify
// ---------------------------------------------------------------------------------------------

DeliveryResult ClassifyHttp(int status, std::string retry_after = "", std::string body = "") {
  api::http::Response r;
  r.status = status;
  if (!retry_after.empty()) r.headers.push_back({"retry-after", std::move(retry_after)});
  r.body = std::move(body);
  return HttpDeliveryChannel::Classify(Result<api::http::Response>(std::move(r)));
}

DeliveryResult ClassifyError(Status s) {
  return HttpDeliveryChannel::Classify(Result<api::http::Response>(std::move(s)));
}

TEST(ClassifyTest, Success) {
  for (int status : {200, 204}) {
    DeliveryResult r = ClassifyHttp(status);
    EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << status;
    EXPECT_EQ(r.retry_after.count(), 0) << status;
  }
}

TEST(ClassifyTest, PermanentAndTransientStatuses) {
  for (int status : {400, 403, 404}) {
    DeliveryResult r = ClassifyHttp(status);
    EXPECT_EQ(r.kind, DeliveryResult::Kind::kPermanent) << status;
    EXPECT_THAT(r.detail, HasSubstr(std::to_string(status)));
  }
  for (int status : {408, 500, 502}) {
    EXPECT_EQ(ClassifyHttp(status).kind, DeliveryResult::Kind::kTransient) << status;
  }
  // A body that is not ProblemDetails changes nothing.
  EXPECT_EQ(ClassifyHttp(500, "", "<html>oops</html>").kind, DeliveryResult::Kind::kTransient);
}

TEST(ClassifyTest, RetryAfter) {
  for (int status : {429, 503}) {
    DeliveryResult r = ClassifyHttp(status, "7");
    EXPECT_EQ(r.kind, DeliveryResult::Kind::kTransient) << status;
    EXPECT_EQ(r.retry_after.count(), 7000) << status;
  }
  DeliveryResult date = ClassifyHttp(503, "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(date.kind, DeliveryResult::Kind::kTransient);
  EXPECT_EQ(date.retry_after.count(), 0);
  EXPECT_EQ(ClassifyHttp(503).retry_after.count(), 0);
  EXPECT_EQ(ClassifyHttp(500, "7").retry_after.count(), 0);  // only honoured on 429/503
}

TEST(ClassifyTest, ProblemCauseInDetail) {
  api::http::ProblemDetails p;
  p.status = 503;
  p.title = "Service Unavailable";
  p.cause = "NF_CONGESTION";
  DeliveryResult r = ClassifyHttp(503, "", api::http::EncodeProblemDetails(p));
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kTransient);
  EXPECT_THAT(r.detail, HasSubstr("503"));
  EXPECT_THAT(r.detail, HasSubstr("NF_CONGESTION"));
}

TEST(ClassifyTest, ClientErrors) {
  DeliveryResult r = ClassifyError(Status::Unavailable("connection refused"));
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kTransient);
  EXPECT_THAT(r.detail, HasSubstr("connection refused"));
  EXPECT_EQ(ClassifyError(Status(StatusCode::kDeadlineExceeded, "timed out")).kind,
            DeliveryResult::Kind::kTransient);
  EXPECT_EQ(ClassifyError(Status::InvalidArgument("bad url")).kind,
            DeliveryResult::Kind::kPermanent);
}

// ---------------------------------------------------------------------------------------------
// DeliveryEngine::UeRouteChanged
// ---------------------------------------------------------------------------------------------

constexpr auto kWaitLimit = std::chrono::seconds(30);

// A DeliveryChannel that records every request. While holding, it keeps the answers back until
// the test gives them (so entries stay in flight and the per-UE limit binds); otherwise it answers
// "delivered" at once.
class RecordingChannel : public broker::DeliveryChannel {
 public:
  struct Sent {
    Route route;
    std::string recipient;
    std::uint64_t seq = 0;
  };

  void Deliver(const Route& route, const Outbound& out,
               std::function<void(DeliveryResult)> done) override {
    bool hold;
    {
      std::lock_guard<std::mutex> lock(mu_);
      sent_.push_back(Sent{route, out.recipient.id, out.message->seq});
      hold = hold_;
      if (hold) held_.push_back(std::move(done));
    }
    cv_.notify_all();
    if (!hold) done(DeliveryResult{});
  }

  void Hold(bool hold) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  // Answers the requests held so far, oldest first.
  void AnswerHeld(DeliveryResult::Kind kind) {
    AnswerHeldWith(DeliveryResult{kind, {}, "answered by the test"});
  }
  // Answers the requests held so far with `r`.
  void AnswerHeldWith(const DeliveryResult& r) {
    std::vector<std::function<void(DeliveryResult)>> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
    }
    for (auto& done : held) done(r);
  }
  // Answers the `n` oldest held requests with `kind`; the rest stay held.
  void AnswerFirst(std::size_t n, DeliveryResult::Kind kind) {
    std::vector<std::function<void(DeliveryResult)>> first;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = std::min(n, held_.size());
      for (std::size_t i = 0; i < n; ++i) first.push_back(std::move(held_[i]));
      held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (auto& done : first) done(DeliveryResult{kind, {}, "answered by the test"});
  }
  // Stops holding and answers what was held "delivered".
  void ReleaseAll() {
    Hold(false);
    AnswerHeld(DeliveryResult::Kind::kDelivered);
  }
  // False when fewer than `n` requests were made within the limit.
  bool WaitForSent(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return sent_.size() >= n; });
  }
  std::vector<Sent> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Sent> sent_;
  std::vector<std::function<void(DeliveryResult)>> held_;
  bool hold_ = false;
};

// An OutcomeSink in memory: every write succeeds at once; messages are read back from what the
// test queued (parked entries are kept without their payload and read back when they leave).
class MemorySink : public broker::OutcomeSink {
 public:
  void Keep(std::shared_ptr<const MessageRecord> m) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_[m->seq] = std::move(m);
  }

  void Finish(const storage::QueueEntryRecord& entry, std::shared_ptr<const MessageRecord>,
              Final final, std::string, std::function<void(Status)> done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_.emplace_back(entry.seq, final);
    }
    cv_.notify_all();
    done(Status::Ok());
  }
  void Reschedule(const storage::QueueEntryRecord&, std::int64_t, std::uint32_t,
                  std::function<void(Status)> done) override {
    done(Status::Ok());
  }
  void LoadMessages(
      std::vector<std::uint64_t> seqs,
      std::function<void(std::vector<std::shared_ptr<const MessageRecord>>)> done) override {
    std::vector<std::shared_ptr<const MessageRecord>> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto seq : seqs) {
        auto it = messages_.find(seq);
        out.push_back(it == messages_.end() ? nullptr : it->second);
      }
    }
    done(std::move(out));
  }

  bool WaitForFinished(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return finished_.size() >= n; });
  }
  std::vector<std::pair<std::uint64_t, Final>> finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, std::shared_ptr<const MessageRecord>> messages_;
  std::vector<std::pair<std::uint64_t, Final>> finished_;
};

// What was sent to `recipient`, in sending order: the sequence numbers, and the endpoints.
std::vector<std::uint64_t> SeqsFor(const std::vector<RecordingChannel::Sent>& sent,
                                   const std::string& recipient) {
  std::vector<std::uint64_t> seqs;
  for (const auto& s : sent) {
    if (s.recipient == recipient) seqs.push_back(s.seq);
  }
  return seqs;
}

std::vector<std::string> BasesFor(const std::vector<RecordingChannel::Sent>& sent,
                                  const std::string& recipient) {
  std::vector<std::string> bases;
  for (const auto& s : sent) {
    if (s.recipient == recipient) bases.push_back(s.route.base);
  }
  return bases;
}

// An engine on a recording channel and a memory sink, its UE routes in a shared UeDirectory the
// test changes the way DurableBroker::PublishUe does (Put or Erase, then UeRouteChanged).
class UeRouteChangedTest : public ::testing::Test {
 protected:
  using Counts = broker::DeliveryEngine::Counts;

  void StartEngine(std::size_t max_in_flight_per_ue, broker::DeliveryOptions options = {}) {
    options.max_in_flight_per_ue = max_in_flight_per_ue;
    engine_ = std::make_unique<broker::DeliveryEngine>(options, channel_, sink_, nullptr);
    engine_->Start();
    auto table = std::make_shared<RouteTable>();  // no rules: every UE is reached directly
    table->ues = ues_;
    engine_->SetRoutes(table);
  }
  void TearDown() override {
    if (engine_) engine_->Stop();
  }

  void Register(const std::string& ue, const std::string& endpoint) {
    ues_->Put(ue, RouteTable::UeRoute{endpoint, 0});
    engine_->UeRouteChanged(ue);
  }
  void Sleep(const std::string& ue) {
    ues_->Erase(ue);
    engine_->UeRouteChanged(ue);
  }

  // One entry for `ue` (its message at hand, as after an accepted write).
  broker::QueuedEntry Entry(const std::string& ue, std::uint64_t seq, Priority priority) {
    auto m = std::make_shared<MessageRecord>();
    m->seq = seq;
    m->origin = As("as-1");
    m->destination = Ue(ue);
    m->msg_id = "m-" + std::to_string(seq);
    m->payload = "payload " + std::to_string(seq);
    m->priority = priority;
    m->store_and_forward = true;
    sink_.Keep(m);
    broker::QueuedEntry q;
    q.entry.recipient = Ue(ue);
    q.entry.priority = priority;
    q.entry.seq = seq;
    q.entry.payload_bytes = static_cast<std::uint32_t>(m->payload.size());
    q.message = std::move(m);
    return q;
  }
  // Queues entries in one Add, as one durable write does: the engine places all of them before
  // it dispatches (one Add each would let the first go out before the others arrive).
  void QueueAll(std::vector<broker::QueuedEntry> entries) { engine_->Add(std::move(entries)); }
  void Queue(const std::string& ue, std::uint64_t seq, Priority priority) {
    std::vector<broker::QueuedEntry> one;
    one.push_back(Entry(ue, seq, priority));
    QueueAll(std::move(one));
  }
  // Six entries for `ue`, queued in seq order with mixed priorities: they leave as 2 4 3 6 1 5.
  void QueueSix(const std::string& ue) {
    const Priority p[] = {Priority::kLow,    Priority::kHigh, Priority::kMiddle,
                          Priority::kHigh,   Priority::kLow,  Priority::kMiddle};
    std::vector<broker::QueuedEntry> six;
    for (std::uint64_t seq = 1; seq <= 6; ++seq) six.push_back(Entry(ue, seq, p[seq - 1]));
    QueueAll(std::move(six));
  }

  // ue-1 at coap://10.0.0.1:5683 with QueueSix's entries: two in flight there (the per-UE limit,
  // the channel holding its answers), four ready behind them.
  void StartWithTwoInFlight() {
    StartEngine(2);
    Register("ue-1", "coap://10.0.0.1:5683");
    channel_.Hold(true);
    QueueSix("ue-1");
    ASSERT_TRUE(channel_.WaitForSent(2));
  }

  Counts GetCounts() {
    std::promise<Counts> p;
    auto f = p.get_future();
    engine_->GetCounts([&p](Counts c) { p.set_value(c); });
    return testing_support::Await(std::move(f));
  }
  // Returns once everything posted to the engine before the call has been handled, including the
  // sends it started (the pass after it, and a payload read back in the pass after that).
  Counts Settle() {
    GetCounts();
    GetCounts();
    return GetCounts();
  }

  RecordingChannel channel_;
  MemorySink sink_;
  std::shared_ptr<RouteTable::UeDirectory> ues_ = std::make_shared<RouteTable::UeDirectory>();
  std::unique_ptr<broker::DeliveryEngine> engine_;  // last: stopped before the others go
};

TEST_F(UeRouteChangedTest, RegisteredUeGetsItsParkedEntriesInPriorityOrder) {
  StartEngine(2);  // a small per-UE window: the entries leave over several passes
  // Seqs are arrival order; the expected order is HIGH, MIDDLE, LOW, oldest first in each.
  Queue("ue-1", 1, Priority::kLow);
  Queue("ue-1", 2, Priority::kMiddle);
  Queue("ue-2", 3, Priority::kHigh);
  Queue("ue-1", 4, Priority::kHigh);
  Queue("ue-1", 5, Priority::kLow);
  Queue("ue-1", 6, Priority::kMiddle);
  Queue("ue-2", 7, Priority::kLow);
  Queue("ue-1", 8, Priority::kHigh);
  Queue("ue-1", 9, Priority::kMiddle);
  Counts c = Settle();
  EXPECT_EQ(c.pending, 9u);
  EXPECT_EQ(c.unrouted, 9u);
  EXPECT_EQ(c.in_flight, 0u);
  EXPECT_TRUE(channel_.sent().empty());

  Register("ue-1", "coap://10.0.0.1:5683");
  ASSERT_TRUE(channel_.WaitForSent(7));
  ASSERT_TRUE(sink_.WaitForFinished(7));
  c = Settle();
  const auto sent = channel_.sent();
  EXPECT_THAT(SeqsFor(sent, "ue-1"), ElementsAre(4, 8, 2, 6, 9, 1, 5));
  EXPECT_TRUE(SeqsFor(sent, "ue-2").empty());
  EXPECT_EQ(sent.size(), 7u);
  for (const auto& s : sent) {
    EXPECT_EQ(s.route.kind, Route::Kind::kUe);
    EXPECT_EQ(s.route.base, "coap://10.0.0.1:5683");
  }
  for (const auto& [seq, final] : sink_.finished()) {
    EXPECT_EQ(final, broker::OutcomeSink::Final::kDelivered) << seq;
  }
  // Only ue-1 moved: ue-2 (no route) stays parked.
  EXPECT_EQ(c.pending, 2u);
  EXPECT_EQ(c.unrouted, 2u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST_F(UeRouteChangedTest, MovedUeGetsItsWaitingEntriesAtTheNewEndpoint) {
  ASSERT_NO_FATAL_FAILURE(StartWithTwoInFlight());
  Counts c = Settle();
  EXPECT_EQ(c.pending, 6u);
  EXPECT_EQ(c.unrouted, 0u);
  EXPECT_EQ(c.in_flight, 2u);
  EXPECT_THAT(SeqsFor(channel_.sent(), "ue-1"), ElementsAre(2, 4));

  Register("ue-1", "coap://10.0.0.2:6000");  // moved
  Settle();
  channel_.ReleaseAll();
  ASSERT_TRUE(channel_.WaitForSent(6));
  ASSERT_TRUE(sink_.WaitForFinished(6));
  c = Settle();
  const auto sent = channel_.sent();
  EXPECT_THAT(SeqsFor(sent, "ue-1"), ElementsAre(2, 4, 3, 6, 1, 5));
  EXPECT_THAT(BasesFor(sent, "ue-1"),
              ElementsAre("coap://10.0.0.1:5683", "coap://10.0.0.1:5683", "coap://10.0.0.2:6000",
                          "coap://10.0.0.2:6000", "coap://10.0.0.2:6000", "coap://10.0.0.2:6000"));
  EXPECT_EQ(c.pending, 0u);
  EXPECT_EQ(c.unrouted, 0u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST_F(UeRouteChangedTest, AsleepUeKeepsItsEntriesParkedUntilItWakes) {
  ASSERT_NO_FATAL_FAILURE(StartWithTwoInFlight());

  Sleep("ue-1");
  Counts c = Settle();
  EXPECT_EQ(c.pending, 6u);
  EXPECT_EQ(c.unrouted, 4u);  // the ready ones; the two in flight wait for their answers
  EXPECT_EQ(c.in_flight, 2u);

  // The answers to the two in flight free the UE's window; nothing else goes out while it sleeps.
  channel_.AnswerHeld(DeliveryResult::Kind::kDelivered);
  ASSERT_TRUE(sink_.WaitForFinished(2));
  c = Settle();
  EXPECT_EQ(c.pending, 4u);
  EXPECT_EQ(c.unrouted, 4u);
  EXPECT_EQ(c.in_flight, 0u);
  EXPECT_THAT(SeqsFor(channel_.sent(), "ue-1"), ElementsAre(2, 4));

  channel_.Hold(false);
  Register("ue-1", "coap://10.0.0.3:5683");  // awake again, at another address
  ASSERT_TRUE(channel_.WaitForSent(6));
  ASSERT_TRUE(sink_.WaitForFinished(6));
  c = Settle();
  const auto sent = channel_.sent();
  EXPECT_THAT(SeqsFor(sent, "ue-1"), ElementsAre(2, 4, 3, 6, 1, 5));
  for (std::size_t i = 2; i < sent.size(); ++i) EXPECT_EQ(sent[i].route.base, "coap://10.0.0.3:5683");
  EXPECT_EQ(c.pending, 0u);
  EXPECT_EQ(c.unrouted, 0u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST_F(UeRouteChangedTest, EntriesRequeuedWhileAsleepAreParkedToo) {
  ASSERT_NO_FATAL_FAILURE(StartWithTwoInFlight());

  Sleep("ue-1");
  Settle();
  // The channel gives the two in flight back (no answer on the old session): no route, so parked.
  channel_.AnswerHeld(DeliveryResult::Kind::kRequeue);
  Counts c = Settle();
  EXPECT_EQ(c.pending, 6u);
  EXPECT_EQ(c.unrouted, 6u);
  EXPECT_EQ(c.in_flight, 0u);
  EXPECT_EQ(channel_.sent().size(), 2u);
  EXPECT_TRUE(sink_.finished().empty());

  channel_.Hold(false);
  Register("ue-1", "coap://10.0.0.1:5683");
  ASSERT_TRUE(channel_.WaitForSent(8));
  ASSERT_TRUE(sink_.WaitForFinished(6));
  c = Settle();
  // All six again, in priority order (the requeued two first: they are the HIGH ones).
  EXPECT_THAT(SeqsFor(channel_.sent(), "ue-1"), ElementsAre(2, 4, 2, 4, 3, 6, 1, 5));
  EXPECT_EQ(c.pending, 0u);
  EXPECT_EQ(c.unrouted, 0u);
}

// Entries the channel gives back (kRequeue: the UE moved while they waited at its old endpoint)
// leave again oldest first, even when several come back in one pass.
TEST_F(UeRouteChangedTest, RequeuedEntriesKeepTheirArrivalOrder) {
  StartEngine(2);
  Register("ue-1", "coap://10.0.0.1:5683");
  channel_.Hold(true);
  std::vector<broker::QueuedEntry> six;
  for (std::uint64_t seq = 1; seq <= 6; ++seq) six.push_back(Entry("ue-1", seq, Priority::kHigh));
  QueueAll(std::move(six));
  ASSERT_TRUE(channel_.WaitForSent(2));  // 1 and 2 at the old endpoint
  Register("ue-1", "coap://10.0.0.2:5683");
  ASSERT_TRUE(channel_.WaitForSent(4));  // 3 and 4 at the new one
  Settle();
  channel_.AnswerFirst(2, DeliveryResult::Kind::kRequeue);  // 1 and 2 come back
  Settle();
  channel_.ReleaseAll();
  ASSERT_TRUE(sink_.WaitForFinished(6));
  Settle();
  EXPECT_THAT(SeqsFor(channel_.sent(), "ue-1"), ElementsAre(1, 2, 3, 4, 1, 2, 5, 6));
}

// The engine on a clock the test moves: a retry waits its whole backoff (here a minute) and a
// parked entry expires when the clock passes its expiry, checked without waiting for either.
class EngineClockTest : public UeRouteChangedTest {
 protected:
  void StartOnClock(broker::DeliveryOptions options) {
    options.clock = &clock_;
    StartEngine(2, options);
  }
  void Advance(std::chrono::milliseconds d) {
    clock_.Advance(d);
    engine_->Wake();
    Settle();
  }
  broker::DeliveryEngine::DestinationView Destination(const std::string& base) {
    std::promise<std::vector<broker::DeliveryEngine::DestinationView>> p;
    auto f = p.get_future();
    engine_->ListDestinations(true, 100, [&p](auto v) { p.set_value(std::move(v)); });
    for (auto& d : testing_support::Await(std::move(f))) {
      if (d.base == base) return d;
    }
    return {};
  }
  testing_support::ManualClock clock_;
};

TEST_F(EngineClockTest, ARetryWaitsItsWholeBackoffOnTheEnginesClock) {
  broker::DeliveryOptions options;
  options.retry_initial = std::chrono::minutes(1);
  options.retry_max = std::chrono::minutes(1);
  options.breaker_failures = 100;  // the breaker stays out of it
  StartOnClock(options);
  Register("ue-1", "coap://10.0.0.1:5683");
  channel_.Hold(true);
  Queue("ue-1", 1, Priority::kMiddle);
  ASSERT_TRUE(channel_.WaitForSent(1));
  channel_.AnswerHeld(DeliveryResult::Kind::kTransient);
  Settle();
  Advance(std::chrono::seconds(29));  // the shortest wait is half the backoff: 30 s
  EXPECT_EQ(channel_.sent().size(), 1u);
  Advance(std::chrono::seconds(31));  // 60 s: the longest
  ASSERT_TRUE(channel_.WaitForSent(2));
  channel_.ReleaseAll();
  ASSERT_TRUE(sink_.WaitForFinished(1));
  EXPECT_EQ(sink_.finished()[0].second, broker::OutcomeSink::Final::kDelivered);
}

TEST_F(EngineClockTest, ParkedEntryExpiresWhenTheClockPassesItsExpiry) {
  StartOnClock({});
  auto e = Entry("ue-away", 7, Priority::kLow);  // no route: parked
  const std::int64_t expiry = clock_.NowMs() + 3600 * 1000;
  e.entry.expiry_ms = expiry;
  std::const_pointer_cast<MessageRecord>(e.message)->expiry_ms = expiry;
  std::vector<broker::QueuedEntry> one;
  one.push_back(std::move(e));
  QueueAll(std::move(one));
  Advance(std::chrono::minutes(59));
  EXPECT_TRUE(sink_.finished().empty());
  Advance(std::chrono::minutes(2));
  ASSERT_TRUE(sink_.WaitForFinished(1));
  EXPECT_EQ(sink_.finished()[0], std::make_pair(std::uint64_t{7}, broker::OutcomeSink::Final::kExpired));
  EXPECT_TRUE(channel_.sent().empty());
}

TEST_F(EngineClockTest, OpenBreakerSendsNothingUntilItsPauseEndsThenOneProbe) {
  broker::DeliveryOptions options;
  options.breaker_failures = 2;
  options.retry_initial = std::chrono::seconds(10);
  options.retry_max = std::chrono::seconds(10);
  StartOnClock(options);
  Register("ue-1", "coap://10.0.0.1:5683");
  channel_.Hold(true);
  QueueSix("ue-1");  // two in flight (the per-UE limit), four ready
  ASSERT_TRUE(channel_.WaitForSent(2));
  // One failure leaves the breaker closed, so the freed slot takes the next ready entry; the
  // answers are given in two steps because answering both at once races that refill.
  channel_.AnswerFirst(1, DeliveryResult::Kind::kTransient);
  ASSERT_TRUE(channel_.WaitForSent(3));
  channel_.AnswerHeld(DeliveryResult::Kind::kTransient);  // the second in a row opens it
  Settle();
  auto open = Destination("coap://10.0.0.1:5683");
  EXPECT_EQ(open.breaker, "open");
  EXPECT_GE(open.blocked_until_ms, clock_.NowMs() + 5000);
  EXPECT_LE(open.blocked_until_ms, clock_.NowMs() + 10000);
  Advance(std::chrono::seconds(4));
  EXPECT_EQ(channel_.sent().size(), 3u);  // nothing while open
  Advance(std::chrono::seconds(7));       // past the pause: one probe, not the per-UE two
  ASSERT_TRUE(channel_.WaitForSent(4));
  Settle();
  EXPECT_EQ(channel_.sent().size(), 4u);
  EXPECT_EQ(Destination("coap://10.0.0.1:5683").breaker, "half-open");
  channel_.AnswerHeld(DeliveryResult::Kind::kDelivered);  // the probe gets through: closed
  ASSERT_TRUE(channel_.WaitForSent(6));
  EXPECT_EQ(Destination("coap://10.0.0.1:5683").breaker, "closed");
}

// Fairness when the global in-flight limit binds: destinations take turns, so one with a long
// queue cannot keep another waiting behind it (round robin over destinations with ready entries).
TEST_F(EngineClockTest, DestinationsTakeTurnsWhenTheGlobalLimitBinds) {
  broker::DeliveryOptions options;
  options.max_in_flight = 2;
  StartOnClock(options);
  Register("ue-a", "coap://10.0.0.1:5683");
  Register("ue-b", "coap://10.0.0.2:5683");
  channel_.Hold(true);
  std::vector<broker::QueuedEntry> all;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) all.push_back(Entry("ue-a", seq, Priority::kMiddle));
  for (std::uint64_t seq = 4; seq <= 6; ++seq) all.push_back(Entry("ue-b", seq, Priority::kMiddle));
  QueueAll(std::move(all));
  ASSERT_TRUE(channel_.WaitForSent(2));
  Settle();
  ASSERT_EQ(channel_.sent().size(), 2u);  // the global limit
  // One answer at a time: each freed slot goes to the destination whose turn it is.
  for (int answered = 0; answered < 6; ++answered) {
    channel_.AnswerFirst(1, DeliveryResult::Kind::kDelivered);
    Settle();
  }
  ASSERT_TRUE(sink_.WaitForFinished(6));
  std::vector<std::string> order;
  for (const auto& x : channel_.sent()) order.push_back(x.recipient);
  // ue-a filled the window first; the first freed slot went to ue-b, which had waited, and from
  // then on they alternate until ue-a has nothing left.
  EXPECT_THAT(order, ElementsAre("ue-a", "ue-a", "ue-b", "ue-a", "ue-b", "ue-b"));
}

// A peer's Retry-After outlasts a shorter backoff: the entry waits the peer's time.
TEST_F(EngineClockTest, RetryAfterFromThePeerOutlastsAShorterBackoff) {
  broker::DeliveryOptions options;
  options.retry_initial = std::chrono::seconds(1);
  options.retry_max = std::chrono::seconds(1);
  StartOnClock(options);
  Register("ue-1", "coap://10.0.0.1:5683");
  channel_.Hold(true);
  Queue("ue-1", 1, Priority::kHigh);
  ASSERT_TRUE(channel_.WaitForSent(1));
  DeliveryResult busy;
  busy.kind = DeliveryResult::Kind::kTransient;
  busy.retry_after = std::chrono::seconds(30);
  busy.detail = "503 with Retry-After: 30";
  channel_.AnswerHeldWith(busy);
  Settle();
  Advance(std::chrono::seconds(29));
  EXPECT_EQ(channel_.sent().size(), 1u);
  EXPECT_EQ(Destination("coap://10.0.0.1:5683").breaker, "open");  // the peer asked for a pause
  Advance(std::chrono::seconds(2));
  ASSERT_TRUE(channel_.WaitForSent(2));
}

}  // namespace
}  // namespace msgin5g
