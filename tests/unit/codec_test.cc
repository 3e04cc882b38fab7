// Unit tests for api/sbi/codec.h: the TS 29.538 JSON codecs, checked against the schemas in
// /work/shared/spec/openapi/TS29538_*.yaml.

#include "api/sbi/codec.h"

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msgin5g::api::sbi {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::sys_days;
using std::chrono::system_clock;
using testing::ElementsAre;
using testing::UnorderedElementsAre;
using testing::UnorderedElementsAreArray;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// A decode result with the value type erased, so one table drives every Decode* function.
struct Outcome {
  bool ok = false;
  DecodeError error;
};

template <class T>
Outcome Erase(const Decoded<T>& d) {
  return Outcome{d.ok(), d.error};
}

std::vector<std::string> Params(const DecodeError& e) {
  std::vector<std::string> out;
  for (const auto& p : e.invalid_params) out.push_back(p.param);
  return out;
}

// Splits an RFC 6901 pointer into its parent pointer and last reference token.
std::pair<std::string, std::string> SplitPointer(const std::string& ptr) {
  auto slash = ptr.rfind('/');
  return {ptr.substr(0, slash), ptr.substr(slash + 1)};
}

json::value* Find(json::value& root, const std::string& ptr) {
  json::error_code ec;
  json::value* v = root.find_pointer(ptr, ec);
  EXPECT_NE(v, nullptr) << "no " << ptr << " in test body " << json::serialize(root);
  return v;
}

// Removes the member `ptr` points at (object members only).
std::string Without(const std::string& body, const std::string& ptr) {
  json::value root = json::parse(body);
  auto [parent, key] = SplitPointer(ptr);
  json::value* p = Find(root, parent);
  if (p == nullptr || !p->is_object()) {
    ADD_FAILURE() << parent << " is not an object";
    return body;
  }
  EXPECT_EQ(p->as_object().erase(key), 1u) << ptr;
  return json::serialize(root);
}

// Replaces (or adds) the value at `ptr` (object members or existing array elements).
std::string With(const std::string& body, const std::string& ptr, json::value value) {
  json::value root = json::parse(body);
  auto [parent, key] = SplitPointer(ptr);
  json::value* p = Find(root, parent);
  if (p == nullptr) return body;
  if (p->is_object()) {
    p->as_object()[key] = std::move(value);
  } else if (p->is_array()) {
    p->as_array().at(std::stoul(key)) = std::move(value);
  } else {
    ADD_FAILURE() << parent << " is neither object nor array";
  }
  return json::serialize(root);
}

// A value of a JSON type different from `v`'s (and not null).
json::value WrongTypeFor(const json::value& v) {
  if (v.is_string()) return 42;
  if (v.is_bool()) return "true";
  if (v.is_number()) return "5";
  if (v.is_array()) return "not-an-array";
  if (v.is_object()) return 7;
  return json::array{};
}

std::set<std::string> Keys(const std::string& encoded) {
  std::set<std::string> out;
  json::value v = json::parse(encoded);
  for (const auto& kv : v.as_object()) out.emplace(kv.key());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fully populated values and bodies (every member of every schema)
// ---------------------------------------------------------------------------------------------

MessageSegmentParameters FullSegParams() {
  MessageSegmentParameters p;
  p.segId = "seg-7";
  p.totalSegCount = 3;
  p.segNumb = 2;
  p.lastSegFlag = false;
  return p;
}

template <class T>
void FillCommon(T& m) {
  m.oriAddr = {"AS", "as-svc-1"};
  m.destAddr = {"UE", "msisdn-46701234567"};
  m.appId = "app-weather";
  m.msgId = "msg-0001";
  m.delivStReqInd = true;
  m.payload = "aGVsbG8gd29ybGQ=";
  m.segInd = true;
  m.segParams = FullSegParams();
}

ASMessageDelivery FullAsMessage() {
  ASMessageDelivery m;
  FillCommon(m);
  m.priority = "HIGH";
  m.stoAndFwInd = true;
  m.stoAndFwParams = StoreAndForwardParameters{"2026-11-27T10:00:00Z"};
  m.latency = 250;
  return m;
}

UEMessageDelivery FullUeMessage() {
  UEMessageDelivery m;
  FillCommon(m);
  m.oriAddr = {"UE", "msisdn-46701234567"};
  m.destAddr = {"AS", "as-svc-1"};
  m.stoAndFwInd = true;
  m.stoAndFwParams = StoreAndForwardParameters{"2026-11-27T10:00:00.250+02:00"};
  return m;
}

L3gMessageDelivery FullL3g() {
  L3gMessageDelivery m;
  FillCommon(m);
  return m;
}

N3gMessageDelivery FullN3g() {
  N3gMessageDelivery m;
  FillCommon(m);
  return m;
}

BgMessageDelivery FullBg() {
  BgMessageDelivery m;
  FillCommon(m);
  m.destAddr = {"BC", "area-51"};
  m.priority = "LOW";
  return m;
}

MessageDeliveryAck FullAck() {
  MessageDeliveryAck a;
  a.oriAddr = {"AS", "as-svc-1"};
  a.msgId = "msg-0001";
  a.status = "DELY_FAILED";
  a.failureCause = "recipient unreachable";
  return a;
}

DeliveryStatusReport FullReport() {
  DeliveryStatusReport r;
  r.oriAddr = {"UE", "msisdn-46701234567"};
  r.destAddr = {"AS", "as-svc-1"};
  r.msgId = "msg-0001";
  r.failureCause = "memory full";
  r.delivSt = "REPT_DELY_FAILED";
  return r;
}

ASRegistration FullRegistration() {
  ASRegistration r;
  r.asSvcId = "as-svc-1";
  r.appId = "app-weather";
  r.targetUri = "https://as.example.com:8443/callbacks/v1";
  r.asProf = ASProfile{"Weather", std::vector<std::string>{"ACME", "Globex"},
                       std::vector<std::string>{"V2X", "IoT"}, "utility", "ACTIVE"};
  return r;
}

ASRegistrationAck FullRegistrationAck() {
  ASRegistrationAck a;
  a.asSvcId = "as-svc-1";
  a.result.type = "https://msgin5g.example/problems/registration";
  a.result.title = "Bad Request";
  a.result.status = 400;
  a.result.detail = "2 invalid members";
  a.result.instance = "/msgs-asregistration/v1/registrations";
  a.result.cause = "MANDATORY_IE_INCORRECT";
  a.result.invalid_params = {{"/targetUri", "must be an absolute URI"}, {"/appId", ""}};
  return a;
}

constexpr std::string_view kSegParamsJson =
    R"({"segId":"seg-7","totalSegCount":3,"segNumb":2,"lastSegFlag":false})";

std::string CommonJson(std::string_view ori, std::string_view dest) {
  return std::string(R"({"oriAddr":)") + std::string(ori) + R"(,"destAddr":)" + std::string(dest) +
         R"(,"appId":"app-weather","msgId":"msg-0001","delivStReqInd":true,)"
         R"("payload":"aGVsbG8gd29ybGQ=","segInd":true,"segParams":)" +
         std::string(kSegParamsJson);
}

constexpr std::string_view kAsAddr = R"({"addrType":"AS","addr":"as-svc-1"})";
constexpr std::string_view kUeAddr = R"({"addrType":"UE","addr":"msisdn-46701234567"})";

std::string AsMessageJson() {
  return CommonJson(kAsAddr, kUeAddr) +
         R"(,"priority":"HIGH","stoAndFwInd":true,)"
         R"("stoAndFwParams":{"exprTime":"2026-11-27T10:00:00Z"},"latency":250})";
}

std::string UeMessageJson() {
  return CommonJson(kUeAddr, kAsAddr) +
         R"(,"stoAndFwInd":true,"stoAndFwParams":{"exprTime":"2026-11-27T10:00:00.250+02:00"}})";
}

std::string L3gJson() { return CommonJson(kAsAddr, kUeAddr) + "}"; }
std::string N3gJson() { return CommonJson(kAsAddr, kUeAddr) + "}"; }

std::string BgJson() {
  return CommonJson(kAsAddr, R"({"addrType":"BC","addr":"area-51"})") + R"(,"priority":"LOW"})";
}

std::string AckJson() {
  return R"({"oriAddr":{"addrType":"AS","addr":"as-svc-1"},"msgId":"msg-0001",)"
         R"("status":"DELY_FAILED","failureCause":"recipient unreachable"})";
}

std::string ReportJson() {
  return R"({"oriAddr":{"addrType":"UE","addr":"msisdn-46701234567"},)"
         R"("destAddr":{"addrType":"AS","addr":"as-svc-1"},"msgId":"msg-0001",)"
         R"("failureCause":"memory full","delivSt":"REPT_DELY_FAILED"})";
}

std::string RegistrationJson() {
  return R"({"asSvcId":"as-svc-1","appId":"app-weather",)"
         R"("targetUri":"https://as.example.com:8443/callbacks/v1",)"
         R"("asProf":{"appName":"Weather","appProviders":["ACME","Globex"],)"
         R"("appSenarios":["V2X","IoT"],"appCategory":"utility","asStatus":"ACTIVE"}})";
}

std::string RegistrationAckJson() {
  return R"({"asSvcId":"as-svc-1","result":{)"
         R"("type":"https://msgin5g.example/problems/registration","title":"Bad Request",)"
         R"("status":400,"detail":"2 invalid members",)"
         R"("instance":"/msgs-asregistration/v1/registrations","cause":"MANDATORY_IE_INCORRECT",)"
         R"("invalidParams":[{"param":"/targetUri","reason":"must be an absolute URI"},)"
         R"({"param":"/appId"}]}})";
}

// ---------------------------------------------------------------------------------------------
// Member-by-member comparison
// ---------------------------------------------------------------------------------------------

void ExpectSame(const Address& a, const Address& e) {
  EXPECT_EQ(a.addrType, e.addrType);
  EXPECT_EQ(a.addr, e.addr);
}

void ExpectSame(const std::optional<MessageSegmentParameters>& a,
                const std::optional<MessageSegmentParameters>& e) {
  ASSERT_EQ(a.has_value(), e.has_value());
  if (!a) return;
  EXPECT_EQ(a->segId, e->segId);
  EXPECT_EQ(a->totalSegCount, e->totalSegCount);
  EXPECT_EQ(a->segNumb, e->segNumb);
  EXPECT_EQ(a->lastSegFlag, e->lastSegFlag);
}

void ExpectSame(const std::optional<StoreAndForwardParameters>& a,
                const std::optional<StoreAndForwardParameters>& e) {
  ASSERT_EQ(a.has_value(), e.has_value());
  if (a) {
    EXPECT_EQ(a->exprTime, e->exprTime);
  }
}

template <class T>
void ExpectSameCommon(const T& a, const T& e) {
  ExpectSame(a.oriAddr, e.oriAddr);
  ExpectSame(a.destAddr, e.destAddr);
  EXPECT_EQ(a.appId, e.appId);
  EXPECT_EQ(a.msgId, e.msgId);
  EXPECT_EQ(a.delivStReqInd, e.delivStReqInd);
  EXPECT_EQ(a.payload, e.payload);
  EXPECT_EQ(a.segInd, e.segInd);
  ExpectSame(a.segParams, e.segParams);
}

void ExpectSame(const ASMessageDelivery& a, const ASMessageDelivery& e) {
  ExpectSameCommon(a, e);
  EXPECT_EQ(a.priority, e.priority);
  EXPECT_EQ(a.stoAndFwInd, e.stoAndFwInd);
  ExpectSame(a.stoAndFwParams, e.stoAndFwParams);
  EXPECT_EQ(a.latency, e.latency);
}

void ExpectSame(const UEMessageDelivery& a, const UEMessageDelivery& e) {
  ExpectSameCommon(a, e);
  EXPECT_EQ(a.stoAndFwInd, e.stoAndFwInd);
  ExpectSame(a.stoAndFwParams, e.stoAndFwParams);
}

void ExpectSame(const L3gMessageDelivery& a, const L3gMessageDelivery& e) { ExpectSameCommon(a, e); }
void ExpectSame(const N3gMessageDelivery& a, const N3gMessageDelivery& e) { ExpectSameCommon(a, e); }

void ExpectSame(const BgMessageDelivery& a, const BgMessageDelivery& e) {
  ExpectSameCommon(a, e);
  EXPECT_EQ(a.priority, e.priority);
}

void ExpectSame(const MessageDeliveryAck& a, const MessageDeliveryAck& e) {
  ExpectSame(a.oriAddr, e.oriAddr);
  EXPECT_EQ(a.msgId, e.msgId);
  EXPECT_EQ(a.status, e.status);
  EXPECT_EQ(a.failureCause, e.failureCause);
}

void ExpectSame(const DeliveryStatusReport& a, const DeliveryStatusReport& e) {
  ExpectSame(a.oriAddr, e.oriAddr);
  ExpectSame(a.destAddr, e.destAddr);
  EXPECT_EQ(a.msgId, e.msgId);
  EXPECT_EQ(a.failureCause, e.failureCause);
  EXPECT_EQ(a.delivSt, e.delivSt);
}

void ExpectSame(const ASRegistration& a, const ASRegistration& e) {
  EXPECT_EQ(a.asSvcId, e.asSvcId);
  EXPECT_EQ(a.appId, e.appId);
  EXPECT_EQ(a.targetUri, e.targetUri);
  ASSERT_EQ(a.asProf.has_value(), e.asProf.has_value());
  if (!a.asProf) return;
  EXPECT_EQ(a.asProf->appName, e.asProf->appName);
  EXPECT_EQ(a.asProf->appProviders, e.asProf->appProviders);
  EXPECT_EQ(a.asProf->appSenarios, e.asProf->appSenarios);
  EXPECT_EQ(a.asProf->appCategory, e.asProf->appCategory);
  EXPECT_EQ(a.asProf->asStatus, e.asProf->asStatus);
}

void ExpectSame(const http::ProblemDetails& a, const http::ProblemDetails& e) {
  EXPECT_EQ(a.type, e.type);
  EXPECT_EQ(a.title, e.title);
  EXPECT_EQ(a.status, e.status);
  EXPECT_EQ(a.detail, e.detail);
  EXPECT_EQ(a.instance, e.instance);
  EXPECT_EQ(a.cause, e.cause);
  ASSERT_EQ(a.invalid_params.size(), e.invalid_params.size());
  for (std::size_t i = 0; i < a.invalid_params.size(); ++i) {
    EXPECT_EQ(a.invalid_params[i].param, e.invalid_params[i].param) << i;
    EXPECT_EQ(a.invalid_params[i].reason, e.invalid_params[i].reason) << i;
  }
}

void ExpectSame(const ASRegistrationAck& a, const ASRegistrationAck& e) {
  EXPECT_EQ(a.asSvcId, e.asSvcId);
  ExpectSame(a.result, e.result);
}

// ---------------------------------------------------------------------------------------------
// Full bodies decode with every member
// ---------------------------------------------------------------------------------------------

TEST(Codec, AsRegistrationFullBodyDecodesEveryMember) {
  auto d = DecodeASRegistration(RegistrationJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullRegistration());
}

TEST(Codec, AsRegistrationAckFullBodyDecodesEveryMember) {
  auto d = DecodeASRegistrationAck(RegistrationAckJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullRegistrationAck());
}

TEST(Codec, AsMessageDeliveryFullBodyDecodesEveryMember) {
  auto d = DecodeASMessageDelivery(AsMessageJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullAsMessage());
}

TEST(Codec, UeMessageDeliveryFullBodyDecodesEveryMember) {
  auto d = DecodeUEMessageDelivery(UeMessageJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullUeMessage());
}

TEST(Codec, MessageDeliveryAckFullBodyDecodesEveryMember) {
  auto d = DecodeMessageDeliveryAck(AckJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullAck());
}

TEST(Codec, DeliveryStatusReportFullBodyDecodesEveryMember) {
  auto d = DecodeDeliveryStatusReport(ReportJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullReport());
}

TEST(Codec, L3gMessageDeliveryFullBodyDecodesEveryMember) {
  auto d = DecodeL3gMessageDelivery(L3gJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullL3g());
}

TEST(Codec, N3gMessageDeliveryFullBodyDecodesEveryMember) {
  auto d = DecodeN3gMessageDelivery(N3gJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullN3g());
}

TEST(Codec, BgMessageDeliveryFullBodyDecodesEveryMember) {
  auto d = DecodeBgMessageDelivery(BgJson());
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullBg());
}

TEST(Codec, ProblemDetailsFullBodyDecodesEveryMember) {
  auto d = DecodeProblemDetails(json::serialize(json::parse(RegistrationAckJson()).at("result")));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullRegistrationAck().result);
}

// ---------------------------------------------------------------------------------------------
// Rules shared by every schema, driven by one table
// ---------------------------------------------------------------------------------------------

struct Schema {
  std::string name;
  std::function<Outcome(std::string_view)> decode;
  std::string full_body;
  // Pointers of required members (including required members of required objects).
  std::vector<std::string> required;
  // Pointers of optional members (and of anything nested inside an optional member).
  std::vector<std::string> optional;
  // The optional members at the top level and inside required objects: without all of them the
  // body must still decode.
  std::vector<std::string> removable;
};

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<std::string> kCommonRequired = {
    "/oriAddr", "/oriAddr/addrType", "/oriAddr/addr", "/destAddr",
    "/destAddr/addrType", "/destAddr/addr", "/msgId"};
const std::vector<std::string> kCommonOptional = {
    "/appId",          "/delivStReqInd",         "/payload",
    "/segInd",         "/segParams",             "/segParams/segId",
    "/segParams/totalSegCount", "/segParams/segNumb", "/segParams/lastSegFlag"};
const std::vector<std::string> kCommonRemovable = {"/appId", "/delivStReqInd", "/payload",
                                                   "/segInd", "/segParams"};

std::vector<Schema> AllSchemas() {
  return {
      {"ASRegistration",
       [](std::string_view b) { return Erase(DecodeASRegistration(b)); },
       RegistrationJson(),
       {"/asSvcId"},
       {"/appId", "/targetUri", "/asProf", "/asProf/appName", "/asProf/appProviders",
        "/asProf/appProviders/0", "/asProf/appSenarios", "/asProf/appSenarios/1",
        "/asProf/appCategory", "/asProf/asStatus"},
       {"/appId", "/targetUri", "/asProf"}},
      {"ASRegistrationAck",
       [](std::string_view b) { return Erase(DecodeASRegistrationAck(b)); },
       RegistrationAckJson(),
       {"/asSvcId", "/result"},
       {"/result/type", "/result/title", "/result/status", "/result/detail", "/result/instance",
        "/result/cause", "/result/invalidParams", "/result/invalidParams/0/param",
        "/result/invalidParams/0/reason"},
       {"/result/type", "/result/title", "/result/status", "/result/detail", "/result/instance",
        "/result/cause", "/result/invalidParams"}},
      {"ASMessageDelivery",
       [](std::string_view b) { return Erase(DecodeASMessageDelivery(b)); },
       AsMessageJson(),
       Concat(kCommonRequired, {"/stoAndFwInd"}),
       Concat(kCommonOptional,
              {"/priority", "/stoAndFwParams", "/stoAndFwParams/exprTime", "/latency"}),
       Concat(kCommonRemovable, {"/priority", "/stoAndFwParams", "/latency"})},
      {"UEMessageDelivery",
       [](std::string_view b) { return Erase(DecodeUEMessageDelivery(b)); },
       UeMessageJson(),
       Concat(kCommonRequired, {"/stoAndFwInd"}),
       Concat(kCommonOptional, {"/stoAndFwParams", "/stoAndFwParams/exprTime"}),
       Concat(kCommonRemovable, {"/stoAndFwParams"})},
      {"MessageDeliveryAck",
       [](std::string_view b) { return Erase(DecodeMessageDeliveryAck(b)); },
       AckJson(),
       {"/oriAddr", "/oriAddr/addrType", "/oriAddr/addr", "/msgId"},
       {"/status", "/failureCause"},
       {"/status", "/failureCause"}},
      {"DeliveryStatusReport",
       [](std::string_view b) { return Erase(DecodeDeliveryStatusReport(b)); },
       ReportJson(),
       {"/oriAddr", "/oriAddr/addrType", "/oriAddr/addr", "/destAddr", "/destAddr/addrType",
        "/destAddr/addr", "/msgId", "/delivSt"},
       {"/failureCause"},
       {"/failureCause"}},
      {"L3gMessageDelivery",
       [](std::string_view b) { return Erase(DecodeL3gMessageDelivery(b)); },
       L3gJson(),
       kCommonRequired,
       kCommonOptional,
       kCommonRemovable},
      {"N3gMessageDelivery",
       [](std::string_view b) { return Erase(DecodeN3gMessageDelivery(b)); },
       N3gJson(),
       kCommonRequired,
       kCommonOptional,
       kCommonRemovable},
      {"BgMessageDelivery",
       [](std::string_view b) { return Erase(DecodeBgMessageDelivery(b)); },
       BgJson(),
       kCommonRequired,
       Concat(kCommonOptional, {"/priority"}),
       Concat(kCommonRemovable, {"/priority"})},
  };
}

class EverySchema : public testing::TestWithParam<Schema> {};

TEST_P(EverySchema, FullBodyDecodes) {
  Outcome o = GetParam().decode(GetParam().full_body);
  EXPECT_TRUE(o.ok) << o.error.cause << ": " << o.error.detail;
}

TEST_P(EverySchema, BodyWithOnlyRequiredMembersDecodes) {
  std::string body = GetParam().full_body;
  for (const auto& ptr : GetParam().removable) body = Without(body, ptr);
  Outcome o = GetParam().decode(body);
  EXPECT_TRUE(o.ok) << body << " -> " << o.error.cause << ": " << o.error.detail;
}

TEST_P(EverySchema, InvalidJsonIsInvalidMsgFormat) {
  const std::string& full = GetParam().full_body;
  for (const std::string& body :
       {full.substr(0, full.size() - 1), std::string(), std::string("{"),
        std::string(R"({"msgId": "x",})"), std::string(R"({'msgId': 'x'})"), full + "}"}) {
    Outcome o = GetParam().decode(body);
    EXPECT_FALSE(o.ok) << body;
    EXPECT_EQ(o.error.cause, "INVALID_MSG_FORMAT") << body;
    EXPECT_FALSE(o.error.detail.empty()) << body;
  }
}

TEST_P(EverySchema, NonObjectRootIsInvalidMsgFormat) {
  for (const char* body : {"[]", "[{}]", R"("text")", "42", "true", "null"}) {
    Outcome o = GetParam().decode(body);
    EXPECT_FALSE(o.ok) << body;
    EXPECT_EQ(o.error.cause, "INVALID_MSG_FORMAT") << body;
  }
}

TEST_P(EverySchema, EachMissingRequiredMemberIsMandatoryIeMissingWithItsPointer) {
  for (const auto& ptr : GetParam().required) {
    Outcome o = GetParam().decode(Without(GetParam().full_body, ptr));
    EXPECT_FALSE(o.ok) << ptr;
    EXPECT_EQ(o.error.cause, "MANDATORY_IE_MISSING") << ptr;
    EXPECT_THAT(Params(o.error), ElementsAre(ptr));
  }
}

TEST_P(EverySchema, EachRequiredMemberWithWrongTypeIsMandatoryIeIncorrectWithItsPointer) {
  json::value full = json::parse(GetParam().full_body);
  for (const auto& ptr : GetParam().required) {
    json::value* original = Find(full, ptr);
    ASSERT_NE(original, nullptr);
    Outcome o = GetParam().decode(With(GetParam().full_body, ptr, WrongTypeFor(*original)));
    EXPECT_FALSE(o.ok) << ptr;
    EXPECT_EQ(o.error.cause, "MANDATORY_IE_INCORRECT") << ptr;
    EXPECT_THAT(Params(o.error), ElementsAre(ptr));
  }
}

TEST_P(EverySchema, EachOptionalMemberWithWrongTypeIsOptionalIeIncorrectWithItsPointer) {
  json::value full = json::parse(GetParam().full_body);
  for (const auto& ptr : GetParam().optional) {
    json::value* original = Find(full, ptr);
    ASSERT_NE(original, nullptr);
    Outcome o = GetParam().decode(With(GetParam().full_body, ptr, WrongTypeFor(*original)));
    EXPECT_FALSE(o.ok) << ptr;
    EXPECT_EQ(o.error.cause, "OPTIONAL_IE_INCORRECT") << ptr;
    EXPECT_THAT(Params(o.error), ElementsAre(ptr));
  }
}

TEST_P(EverySchema, UnknownMembersAreIgnored) {
  std::string body = With(GetParam().full_body, "/vendorExtension",
                          json::parse(R"({"nested":[1,2,{"x":null}],"flag":true})"));
  body = With(body, "/zzz", "unknown");
  Outcome o = GetParam().decode(body);
  EXPECT_TRUE(o.ok) << o.error.cause << ": " << o.error.detail;
}

TEST_P(EverySchema, NestingDeeperThan32IsInvalidMsgFormat) {
  // The root object is level 1; the unknown member adds 40 more levels of arrays.
  std::string deep = std::string(40, '[') + std::string(40, ']');
  std::string body = GetParam().full_body;
  body.insert(1, R"("deep":)" + deep + ",");
  Outcome o = GetParam().decode(body);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error.cause, "INVALID_MSG_FORMAT");
}

std::string SchemaName(const testing::TestParamInfo<Schema>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Codec, EverySchema, testing::ValuesIn(AllSchemas()), SchemaName);

// ---------------------------------------------------------------------------------------------
// Specific decoding rules
// ---------------------------------------------------------------------------------------------

TEST(Codec, MissingMandatoryMemberIsMandatoryIeMissing) {
  auto d = DecodeASMessageDelivery(Without(AsMessageJson(), "/oriAddr/addr"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_MISSING");
  ASSERT_EQ(d.error.invalid_params.size(), 1u);
  EXPECT_EQ(d.error.invalid_params[0].param, "/oriAddr/addr");
  EXPECT_FALSE(d.error.invalid_params[0].reason.empty());
  EXPECT_THAT(d.error.detail, testing::HasSubstr("/oriAddr/addr"));
}

TEST(Codec, NestingWithinTheLimitIsAccepted) {
  // Root object (1) + 31 arrays = 32 levels.
  std::string body = AsMessageJson();
  body.insert(1, R"("deep":)" + std::string(31, '[') + std::string(31, ']') + ",");
  auto d = DecodeASMessageDelivery(body);
  EXPECT_TRUE(d.ok()) << d.error.cause << ": " << d.error.detail;
}

TEST(Codec, NestingOneLevelBeyondTheLimitIsInvalidMsgFormat) {
  // Root object (1) + 32 arrays = 33 levels.
  std::string body = AsMessageJson();
  body.insert(1, R"("deep":)" + std::string(32, '[') + std::string(32, ']') + ",");
  auto d = DecodeASMessageDelivery(body);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "INVALID_MSG_FORMAT");
}

TEST(Codec, PriorityGivenAsNumberIsOptionalIeIncorrect) {
  auto d = DecodeASMessageDelivery(With(AsMessageJson(), "/priority", 3));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/priority"));
}

TEST(Codec, BgPriorityGivenAsNumberIsOptionalIeIncorrect) {
  auto d = DecodeBgMessageDelivery(With(BgJson(), "/priority", 1));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/priority"));
}

TEST(Codec, AddrTypeGivenAsBooleanIsMandatoryIeIncorrect) {
  auto d = DecodeASMessageDelivery(With(AsMessageJson(), "/destAddr/addrType", true));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/destAddr/addrType"));
}

TEST(Codec, DeliveryStatusGivenAsNumberIsOptionalIeIncorrect) {
  auto d = DecodeMessageDeliveryAck(With(AckJson(), "/status", 0));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/status"));
}

TEST(Codec, ReportDeliveryStatusGivenAsNumberIsMandatoryIeIncorrect) {
  auto d = DecodeDeliveryStatusReport(With(ReportJson(), "/delivSt", 1));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/delivSt"));
}

TEST(Codec, UnknownEnumStringValuesAreAccepted) {
  std::string body = With(AsMessageJson(), "/destAddr/addrType", "SATELLITE");
  body = With(body, "/priority", "URGENT");
  auto d = DecodeASMessageDelivery(body);
  ASSERT_TRUE(d.ok()) << d.error.detail;
  EXPECT_EQ(d.value->destAddr.addrType, "SATELLITE");
  EXPECT_EQ(d.value->priority, "URGENT");
}

TEST(Codec, UnknownDeliveryStatusValuesAreAccepted) {
  auto ack = DecodeMessageDeliveryAck(With(AckJson(), "/status", "DELY_QUEUED"));
  ASSERT_TRUE(ack.ok()) << ack.error.detail;
  EXPECT_EQ(ack.value->status, "DELY_QUEUED");
  auto report = DecodeDeliveryStatusReport(With(ReportJson(), "/delivSt", "REPT_DELY_PARTIAL"));
  ASSERT_TRUE(report.ok()) << report.error.detail;
  EXPECT_EQ(report.value->delivSt, "REPT_DELY_PARTIAL");
}

TEST(Codec, SeveralViolationsAreAllListedAndTheMostSevereCauseWins) {
  std::string body = Without(AsMessageJson(), "/msgId");
  body = With(body, "/destAddr/addrType", true);
  body = With(body, "/priority", 3);
  body = With(body, "/latency", "soon");
  auto d = DecodeASMessageDelivery(body);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_MISSING");
  EXPECT_THAT(Params(d.error),
              UnorderedElementsAre("/msgId", "/destAddr/addrType", "/priority", "/latency"));
  EXPECT_EQ(d.error.detail, "4 invalid members");
}

TEST(Codec, MandatoryIncorrectOutranksOptionalIncorrect) {
  std::string body = With(AsMessageJson(), "/stoAndFwInd", "yes");
  body = With(body, "/payload", 12);
  auto d = DecodeASMessageDelivery(body);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), UnorderedElementsAre("/stoAndFwInd", "/payload"));
}

TEST(Codec, RequiredMemberInsideOptionalArrayIsOptionalIeIncorrect) {
  // ProblemDetails.invalidParams[].param is required, but invalidParams itself is optional.
  auto d = DecodeASRegistrationAck(Without(RegistrationAckJson(), "/result/invalidParams/1/param"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/result/invalidParams/1/param"));
}

TEST(Codec, WholeRequiredObjectOfWrongTypeIsMandatoryIeIncorrect) {
  auto d = DecodeASMessageDelivery(With(AsMessageJson(), "/oriAddr", json::array{"AS", "x"}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/oriAddr"));
}

TEST(Codec, EmptyAppProvidersIsRejected) {
  auto d = DecodeASRegistration(With(RegistrationJson(), "/asProf/appProviders", json::array{}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/asProf/appProviders"));
}

TEST(Codec, EmptyAppSenariosIsRejected) {
  auto d = DecodeASRegistration(With(RegistrationJson(), "/asProf/appSenarios", json::array{}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/asProf/appSenarios"));
}

TEST(Codec, NonStringAppProviderItemIsRejectedWithItsIndex) {
  auto d = DecodeASRegistration(
      With(RegistrationJson(), "/asProf/appProviders", json::array{"ACME", 5, "Globex"}));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(Params(d.error), ElementsAre("/asProf/appProviders/1"));
}

TEST(Codec, ExprTimeNotRfc3339IsRejected) {
  for (const char* bad : {"2026-11-27 10:00:00Z", "2026-11-27T10:00:00", "tomorrow",
                          "2026-02-30T10:00:00Z", "1764237600", ""}) {
    auto d = DecodeASMessageDelivery(With(AsMessageJson(), "/stoAndFwParams/exprTime", bad));
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT") << bad;
    EXPECT_THAT(Params(d.error), ElementsAre("/stoAndFwParams/exprTime")) << bad;
  }
}

TEST(Codec, UeExprTimeNotRfc3339IsRejected) {
  auto d = DecodeUEMessageDelivery(
      With(UeMessageJson(), "/stoAndFwParams/exprTime", "27/11/2026 10:00"));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(Params(d.error), ElementsAre("/stoAndFwParams/exprTime"));
}

TEST(Codec, TargetUriNotAUriIsRejected) {
  for (const char* bad : {"not a uri", "/callbacks/relative", "http://[::1", "://no-scheme", ""}) {
    auto d = DecodeASRegistration(With(RegistrationJson(), "/targetUri", bad));
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT") << bad;
    EXPECT_THAT(Params(d.error), ElementsAre("/targetUri")) << bad;
  }
}

TEST(Codec, TargetUriAbsoluteUrisAreAccepted) {
  for (const char* good : {"http://10.0.0.1:8080/cb", "https://[2001:db8::1]/x?y=1", "urn:x:y"}) {
    auto d = DecodeASRegistration(With(RegistrationJson(), "/targetUri", good));
    ASSERT_TRUE(d.ok()) << good << ": " << d.error.detail;
    EXPECT_EQ(d.value->targetUri, good);
  }
}

TEST(Codec, IntegerGivenAsFractionIsRejected) {
  auto d = DecodeASMessageDelivery(With(AsMessageJson(), "/latency", 2.5));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  EXPECT_THAT(Params(d.error), ElementsAre("/latency"));
}

TEST(Codec, SegmentCountGivenAsFractionIsRejected) {
  auto d = DecodeL3gMessageDelivery(R"({"oriAddr":{"addrType":"AS","addr":"a"},)"
                                    R"("destAddr":{"addrType":"UE","addr":"u"},"msgId":"m",)"
                                    R"("segParams":{"totalSegCount":2.5,"segNumb":1}})");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(Params(d.error), ElementsAre("/segParams/totalSegCount"));
}

TEST(Codec, IntegerGivenAsTwoPointZeroIsAccepted) {
  std::string body = AsMessageJson();
  auto pos = body.find(R"("latency":250)");
  ASSERT_NE(pos, std::string::npos);
  body.replace(pos, 13, R"("latency":2.0)");
  auto d = DecodeASMessageDelivery(body);
  ASSERT_TRUE(d.ok()) << d.error.detail;
  EXPECT_EQ(d.value->latency, 2);
}

TEST(Codec, IntegerBeyondInt64IsRejected) {
  for (const char* big : {"18446744073709551615", "1e19", "-1e19", "1e300"}) {
    std::string body = AsMessageJson();
    auto pos = body.find(R"("latency":250)");
    ASSERT_NE(pos, std::string::npos);
    body.replace(pos, 13, std::string(R"("latency":)") + big);
    auto d = DecodeASMessageDelivery(body);
    ASSERT_FALSE(d.ok()) << big;
    EXPECT_THAT(Params(d.error), ElementsAre("/latency")) << big;
  }
}

TEST(Codec, NullRequiredMemberIsMandatoryIeMissing) {
  auto d = DecodeASMessageDelivery(With(AsMessageJson(), "/msgId", nullptr));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "MANDATORY_IE_MISSING");
  EXPECT_THAT(Params(d.error), ElementsAre("/msgId"));
}

// ---------------------------------------------------------------------------------------------
// Encode -> Decode round trips, and Encode omitting absent optionals
// ---------------------------------------------------------------------------------------------

TEST(Codec, AsRegistrationRoundTripPreservesEveryMember) {
  auto d = DecodeASRegistration(Encode(FullRegistration()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullRegistration());
}

TEST(Codec, AsRegistrationAckRoundTripPreservesEveryMember) {
  auto d = DecodeASRegistrationAck(Encode(FullRegistrationAck()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullRegistrationAck());
}

TEST(Codec, AsMessageDeliveryRoundTripPreservesEveryMember) {
  auto d = DecodeASMessageDelivery(Encode(FullAsMessage()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullAsMessage());
}

TEST(Codec, UeMessageDeliveryRoundTripPreservesEveryMember) {
  auto d = DecodeUEMessageDelivery(Encode(FullUeMessage()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullUeMessage());
}

TEST(Codec, MessageDeliveryAckRoundTripPreservesEveryMember) {
  auto d = DecodeMessageDeliveryAck(Encode(FullAck()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullAck());
}

TEST(Codec, DeliveryStatusReportRoundTripPreservesEveryMember) {
  auto d = DecodeDeliveryStatusReport(Encode(FullReport()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullReport());
}

TEST(Codec, L3gMessageDeliveryRoundTripPreservesEveryMember) {
  auto d = DecodeL3gMessageDelivery(Encode(FullL3g()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullL3g());
}

TEST(Codec, N3gMessageDeliveryRoundTripPreservesEveryMember) {
  auto d = DecodeN3gMessageDelivery(Encode(FullN3g()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullN3g());
}

TEST(Codec, BgMessageDeliveryRoundTripPreservesEveryMember) {
  auto d = DecodeBgMessageDelivery(Encode(FullBg()));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullBg());
}

TEST(Codec, RoundTripPreservesFalseAndZeroOptionals) {
  // Present-but-falsy optionals must not be mistaken for absent ones.
  ASMessageDelivery m = FullAsMessage();
  m.delivStReqInd = false;
  m.segInd = false;
  m.latency = 0;
  m.payload = "";
  m.stoAndFwInd = false;
  m.stoAndFwParams = StoreAndForwardParameters{};  // present, without exprTime
  auto d = DecodeASMessageDelivery(Encode(m));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, m);
}

TEST(Codec, RoundTripPreservesCharactersNeedingJsonEscapes) {
  L3gMessageDelivery m = FullL3g();
  m.payload = "quote\" backslash\\ newline\n tab\t nul";
  m.payload->push_back('\0');
  m.payload->append(" unicode \xc3\xa9\xe2\x82\xac");
  auto d = DecodeL3gMessageDelivery(Encode(m));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  EXPECT_EQ(d.value->payload, m.payload);
}

TEST(Codec, EncodeAsRegistrationOmitsAbsentOptionals) {
  ASRegistration r;
  r.asSvcId = "as-svc-1";
  EXPECT_THAT(Keys(Encode(r)), ElementsAre("asSvcId"));
}

TEST(Codec, EncodeAsProfileOmitsAbsentOptionals) {
  ASRegistration r;
  r.asSvcId = "as-svc-1";
  r.asProf = ASProfile{};
  r.asProf->appName = "Weather";
  json::value v = json::parse(Encode(r));
  ASSERT_TRUE(v.at("asProf").is_object());
  std::set<std::string> keys;
  for (const auto& kv : v.at("asProf").as_object()) keys.emplace(kv.key());
  EXPECT_THAT(keys, ElementsAre("appName"));
}

TEST(Codec, EncodeAsRegistrationAckOmitsEmptyProblemMembers) {
  ASRegistrationAck a;
  a.asSvcId = "as-svc-1";
  a.result.status = 201;
  a.result.cause = "SUCCESS";
  json::value v = json::parse(Encode(a));
  EXPECT_THAT(Keys(Encode(a)), UnorderedElementsAre("asSvcId", "result"));
  std::set<std::string> keys;
  for (const auto& kv : v.at("result").as_object()) keys.emplace(kv.key());
  EXPECT_THAT(keys, UnorderedElementsAre("status", "cause"));
}

TEST(Codec, EncodeAsMessageDeliveryOmitsAbsentOptionals) {
  ASMessageDelivery m;
  m.oriAddr = {"AS", "a"};
  m.destAddr = {"UE", "u"};
  m.msgId = "m";
  EXPECT_THAT(Keys(Encode(m)),
              UnorderedElementsAre("oriAddr", "destAddr", "msgId", "stoAndFwInd"));
}

TEST(Codec, EncodeUeMessageDeliveryOmitsAbsentOptionals) {
  UEMessageDelivery m;
  m.oriAddr = {"UE", "u"};
  m.destAddr = {"AS", "a"};
  m.msgId = "m";
  EXPECT_THAT(Keys(Encode(m)),
              UnorderedElementsAre("oriAddr", "destAddr", "msgId", "stoAndFwInd"));
}

TEST(Codec, EncodeSegParamsOmitsAbsentOptionals) {
  L3gMessageDelivery m;
  m.oriAddr = {"AS", "a"};
  m.destAddr = {"UE", "u"};
  m.msgId = "m";
  m.segParams = MessageSegmentParameters{};
  m.segParams->segNumb = 1;
  json::value v = json::parse(Encode(m));
  std::set<std::string> keys;
  for (const auto& kv : v.at("segParams").as_object()) keys.emplace(kv.key());
  EXPECT_THAT(keys, ElementsAre("segNumb"));
}

TEST(Codec, EncodeMessageDeliveryAckOmitsAbsentOptionals) {
  MessageDeliveryAck a;
  a.oriAddr = {"AS", "a"};
  a.msgId = "m";
  EXPECT_THAT(Keys(Encode(a)), UnorderedElementsAre("oriAddr", "msgId"));
}

TEST(Codec, EncodeDeliveryStatusReportOmitsAbsentOptionals) {
  DeliveryStatusReport r;
  r.oriAddr = {"UE", "u"};
  r.destAddr = {"AS", "a"};
  r.msgId = "m";
  r.delivSt = "REPT_DELY_SUCCESS";
  EXPECT_THAT(Keys(Encode(r)), UnorderedElementsAre("oriAddr", "destAddr", "msgId", "delivSt"));
}

TEST(Codec, EncodeGatewayDeliveriesOmitAbsentOptionals) {
  L3gMessageDelivery l;
  l.oriAddr = {"AS", "a"};
  l.destAddr = {"UE", "u"};
  l.msgId = "m";
  N3gMessageDelivery n;
  n.oriAddr = l.oriAddr;
  n.destAddr = l.destAddr;
  n.msgId = "m";
  BgMessageDelivery b;
  b.oriAddr = l.oriAddr;
  b.destAddr = {"BC", "area"};
  b.msgId = "m";
  EXPECT_THAT(Keys(Encode(l)), UnorderedElementsAre("oriAddr", "destAddr", "msgId"));
  EXPECT_THAT(Keys(Encode(n)), UnorderedElementsAre("oriAddr", "destAddr", "msgId"));
  EXPECT_THAT(Keys(Encode(b)), UnorderedElementsAre("oriAddr", "destAddr", "msgId"));
}

TEST(Codec, EncodeWritesEveryPresentMember) {
  EXPECT_THAT(Keys(Encode(FullAsMessage())),
              UnorderedElementsAreArray({"oriAddr", "destAddr", "appId", "msgId", "delivStReqInd",
                                         "payload", "priority", "segInd", "segParams",
                                         "stoAndFwInd", "stoAndFwParams", "latency"}));
}

TEST(Codec, EncodeProblemDetailsRoundTripsThroughDecodeProblemDetails) {
  auto d = DecodeProblemDetails(http::EncodeProblemDetails(FullRegistrationAck().result));
  ASSERT_TRUE(d.ok()) << d.error.detail;
  ExpectSame(*d.value, FullRegistrationAck().result);
}

// ---------------------------------------------------------------------------------------------
// ParseDateTime / FormatDateTime
// ---------------------------------------------------------------------------------------------

system_clock::time_point Utc(std::chrono::year_month_day ymd, hours h, minutes m = minutes(0),
                             std::chrono::seconds s = std::chrono::seconds(0)) {
  return system_clock::time_point(sys_days(ymd) + h + m + s);
}

using std::chrono::November;
using namespace std::chrono_literals;

TEST(DateTime, ParsesUtcWithZ) {
  auto t = ParseDateTime("2026-11-27T10:00:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, Utc(2026y / November / 27d, hours(10)));
}

TEST(DateTime, ParsesLowercaseSeparators) {
  auto t = ParseDateTime("2026-11-27t10:20:30z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, Utc(2026y / November / 27d, hours(10), minutes(20), std::chrono::seconds(30)));
}

TEST(DateTime, PositiveOffsetIsTheUtcInstantEarlier) {
  auto t = ParseDateTime("2026-11-27T12:00:00+02:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, Utc(2026y / November / 27d, hours(10)));
  EXPECT_EQ(*t, *ParseDateTime("2026-11-27T10:00:00Z"));
}

TEST(DateTime, NegativeOffsetIsTheUtcInstantLater) {
  auto t = ParseDateTime("2026-11-27T04:30:00-05:30");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, Utc(2026y / November / 27d, hours(10)));
}

TEST(DateTime, OffsetCrossesDayAndYearBoundaries) {
  auto t = ParseDateTime("2026-01-01T01:00:00+02:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, Utc(2025y / std::chrono::December / 31d, hours(23)));
}

TEST(DateTime, ZeroOffsetEqualsZ) {
  EXPECT_EQ(ParseDateTime("2026-11-27T10:00:00+00:00"), ParseDateTime("2026-11-27T10:00:00Z"));
  EXPECT_EQ(ParseDateTime("2026-11-27T10:00:00-00:00"), ParseDateTime("2026-11-27T10:00:00Z"));
}

TEST(DateTime, ParsesFractionalSeconds) {
  auto base = Utc(2026y / November / 27d, hours(10));
  EXPECT_EQ(ParseDateTime("2026-11-27T10:00:00.5Z"), base + milliseconds(500));
  EXPECT_EQ(ParseDateTime("2026-11-27T10:00:00.250Z"), base + milliseconds(250));
  EXPECT_EQ(ParseDateTime("2026-11-27T10:00:00.000001Z"), base + std::chrono::microseconds(1));
  EXPECT_EQ(ParseDateTime("2026-11-27T12:00:00.250+02:00"), base + milliseconds(250));
}

TEST(DateTime, FractionWithMoreThanNanosecondDigitsIsTruncated) {
  auto t = ParseDateTime("2026-11-27T10:00:00.1234567891234Z");
  ASSERT_TRUE(t.has_value());
  auto base = Utc(2026y / November / 27d, hours(10));
  EXPECT_GE(*t - base, std::chrono::microseconds(123456));
  EXPECT_LT(*t - base, std::chrono::microseconds(123457));
}

TEST(DateTime, LeapDayIsValidOnlyInLeapYears) {
  EXPECT_TRUE(ParseDateTime("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseDateTime("2025-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseDateTime("2100-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseDateTime("2000-02-29T00:00:00Z").has_value());
}

TEST(DateTime, RejectsInvalidDates) {
  for (const char* bad : {"2026-02-30T10:00:00Z", "2026-04-31T10:00:00Z", "2026-13-01T10:00:00Z",
                          "2026-00-10T10:00:00Z", "2026-11-00T10:00:00Z", "2026-11-32T10:00:00Z"}) {
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << bad;
  }
}

TEST(DateTime, RejectsInvalidTimesAndOffsets) {
  for (const char* bad : {"2026-11-27T24:00:00Z", "2026-11-27T10:60:00Z", "2026-11-27T10:00:61Z",
                          "2026-11-27T10:00:00+24:00", "2026-11-27T10:00:00+02:60",
                          "2026-11-27T10:00:00+0200", "2026-11-27T10:00:00+02",
                          "2026-11-27T10:00:00+2:00"}) {
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << bad;
  }
}

TEST(DateTime, RejectsGarbage) {
  for (const char* bad :
       {"", "garbage", "2026-11-27", "2026-11-27T10:00:00", "2026-11-27 10:00:00Z",
        "2026-11-27T10:00Z", "2026-11-27T10:00:00.Z", "2026-11-27T10:00:00Zjunk",
        " 2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z ", "26-11-27T10:00:00Z",
        "2026/11/27T10:00:00Z", "2026-1-27T10:00:00Z", "2026-11-27T1a:00:00Z",
        "2026-11-27T10:00:00+02:00Z", "1764237600"}) {
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(DateTime, FormatWritesUtcWithMilliseconds) {
  auto t = Utc(2026y / November / 27d, hours(10), minutes(5), std::chrono::seconds(9)) +
           milliseconds(42);
  EXPECT_EQ(FormatDateTime(t), "2026-11-27T10:05:09.042Z");
}

TEST(DateTime, FormatNormalizesOffsetsToUtc) {
  auto t = ParseDateTime("2026-11-27T12:00:00.250+02:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatDateTime(*t), "2026-11-27T10:00:00.250Z");
}

TEST(DateTime, FormatThenParseRoundTrips) {
  for (auto t : {Utc(2026y / November / 27d, hours(10)) + milliseconds(999),
                 Utc(2024y / std::chrono::February / 29d, hours(23), minutes(59),
                     std::chrono::seconds(59)),
                 system_clock::time_point(milliseconds(0)),
                 Utc(2099y / std::chrono::December / 31d, hours(0)) + milliseconds(1)}) {
    std::string text = FormatDateTime(t);
    auto back = ParseDateTime(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, t) << text;
  }
}

TEST(DateTime, FormatThenParseRoundTripsBeforeTheEpoch) {
  auto t = Utc(1969y / std::chrono::December / 31d, hours(23), minutes(59),
               std::chrono::seconds(59)) +
           milliseconds(500);
  std::string text = FormatDateTime(t);
  EXPECT_EQ(text, "1969-12-31T23:59:59.500Z");
  auto back = ParseDateTime(text);
  ASSERT_TRUE(back.has_value()) << text;
  EXPECT_EQ(*back, t);
}

TEST(DateTime, ParseThenFormatRoundTrips) {
  for (const char* text : {"2026-11-27T10:00:00.000Z", "2026-01-01T00:00:00.001Z",
                           "2000-02-29T12:34:56.789Z"}) {
    auto t = ParseDateTime(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_EQ(FormatDateTime(*t), text);
  }
}

}  // namespace
}  // namespace msgin5g::api::sbi

namespace msgin5g::api::sbi {
namespace {
// The ack encoder is hand-written for speed; it must escape like a JSON library would.
TEST(Codec, MessageDeliveryAckEscapesSpecialCharacters) {
  MessageDeliveryAck ack;
  ack.oriAddr = {"AS", "as-\"quoted\"\\"};
  ack.msgId = std::string("id\n\t\x01") + "é";
  ack.status = "DELY_FAILED";
  ack.failureCause = "cause \"x\"";
  auto back = DecodeMessageDeliveryAck(Encode(ack));
  ASSERT_TRUE(back.ok()) << Encode(ack);
  EXPECT_EQ(back.value->oriAddr.addr, ack.oriAddr.addr);
  EXPECT_EQ(back.value->msgId, ack.msgId);
  EXPECT_EQ(back.value->status, ack.status);
  EXPECT_EQ(back.value->failureCause, ack.failureCause);
}
}  // namespace
}  // namespace msgin5g::api::sbi

// Date-times beyond what int64 nanoseconds hold, and duplicate member names (attack report).
namespace msgin5g::api::sbi {
namespace {

TEST(DateTime, YearsOutsideTheNanosecondRangeAreOutOfRangeNotWrapped) {
  system_clock::time_point t{};
  // Before the fix 2700 came back as a time in 2115 and 2300 as one in the past.
  for (const char* bad : {"2700-01-01T00:00:00Z", "2262-04-12T00:00:00Z", "2300-06-01T12:00:00Z",
                          "2262-01-01T00:00:00+23:59", "9999-12-31T23:59:59Z",
                          "1677-09-22T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    EXPECT_EQ(ParseDateTime(bad, &t), DateTimeParse::kOutOfRange) << bad;
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseDateTime("2700-13-01T00:00:00Z", &t), DateTimeParse::kMalformed);
}

TEST(DateTime, TheLastAndFirstAcceptedYearsParseExactly) {
  auto late = ParseDateTime("2261-12-31T23:59:59-23:59");
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(*late, Utc(2262y / std::chrono::January / 1d, hours(23), minutes(58),
                       std::chrono::seconds(59)));
  auto early = ParseDateTime("1678-01-01T00:00:00+23:59");
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(*early, Utc(1677y / std::chrono::December / 31d, hours(0), minutes(1)));
  EXPECT_EQ(FormatDateTime(*ParseDateTime("2261-12-31T23:59:59Z")), "2261-12-31T23:59:59.000Z");
}

TEST(Codec, ExprTimeOutOfRangeIsOptionalIeIncorrectSayingSo) {
  auto d = DecodeASMessageDelivery(
      With(AsMessageJson(), "/stoAndFwParams/exprTime", "2700-01-01T00:00:00Z"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error.cause, "OPTIONAL_IE_INCORRECT");
  ASSERT_THAT(Params(d.error), ElementsAre("/stoAndFwParams/exprTime"));
  EXPECT_THAT(d.error.invalid_params[0].reason, testing::HasSubstr("out of range"));
}

DecodeError DuplicateError(const std::string& body) {
  auto d = DecodeASMessageDelivery(body);
  EXPECT_FALSE(d.ok()) << body;
  return d.error;
}

TEST(Codec, DuplicateMemberAtTheRootIsInvalidMsgFormatWithItsPointer) {
  // Before the fix the last msgId silently won.
  std::string body = AsMessageJson();
  body.insert(1, R"("msgId":"first",)");
  auto e = DuplicateError(body);
  EXPECT_EQ(e.cause, "INVALID_MSG_FORMAT");
  EXPECT_THAT(Params(e), ElementsAre("/msgId"));
  EXPECT_THAT(e.detail, testing::HasSubstr("duplicate"));
}

TEST(Codec, DuplicateMembersAreFoundAtAnyDepth) {
  const std::string head = R"({"oriAddr":{"addrType":"AS","addr":"as-1"},)"
                           R"("destAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"m","stoAndFwInd":true,)";
  EXPECT_THAT(Params(DuplicateError(R"({"oriAddr":{"addrType":"AS","addr":"a","addr":"b"},)"
                                    R"("destAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"m","stoAndFwInd":true})")),
              ElementsAre("/oriAddr/addr"));
  EXPECT_THAT(Params(DuplicateError(head + R"("stoAndFwParams":{"exprTime":"2099-01-01T00:00:00Z","exprTime":"x"}})")),
              ElementsAre("/stoAndFwParams/exprTime"));
  // Unknown members too, inside arrays, with RFC 6901 escapes and names compared unescaped.
  EXPECT_THAT(Params(DuplicateError(head + R"("x":{"y":[1,{"z":1},{"q":0,"z":1,"z":2}]}})")),
              ElementsAre("/x/y/2/z"));
  EXPECT_THAT(Params(DuplicateError(head + R"("x":{"a/b~":1,"a\/b\u007e":2}})")),
              ElementsAre("/x/a~1b~0"));
  EXPECT_THAT(Params(DuplicateError(head + R"("x":[[],[{"k":{}},{"k":1,"\u006b":2}]]})")),
              ElementsAre("/x/1/1/k"));
}

TEST(Codec, DuplicateAmongManyMembersIsFound) {
  std::string x = R"({"x":{)";
  for (int i = 0; i < 200; ++i) x += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_EQ(FindDuplicateMember(x + R"("k150":0}})"), "/x/k150");
  EXPECT_EQ(FindDuplicateMember(x + R"("k200":0}})"), std::nullopt);
}

TEST(Codec, EqualNamesInDifferentObjectsAreNotDuplicates) {
  for (const auto& body : {AsMessageJson(), UeMessageJson(), ReportJson(), RegistrationJson()}) {
    EXPECT_EQ(FindDuplicateMember(body), std::nullopt) << body;
  }
  EXPECT_EQ(FindDuplicateMember(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})"), std::nullopt);
  EXPECT_EQ(FindDuplicateMember("not json"), std::nullopt);
}

TEST(Codec, EveryDecoderRefusesDuplicates) {
  const std::string dup = R"({"msgId":"a","msgId":"b"})";
  EXPECT_EQ(DecodeASRegistration(R"({"asSvcId":"a","asSvcId":"b"})").error.cause, "INVALID_MSG_FORMAT");
  EXPECT_EQ(DecodeUEMessageDelivery(dup).error.cause, "INVALID_MSG_FORMAT");
  EXPECT_EQ(DecodeDeliveryStatusReport(dup).error.cause, "INVALID_MSG_FORMAT");
  EXPECT_EQ(DecodeASMessageDelivery(dup).error.cause, "INVALID_MSG_FORMAT");
}

}  // namespace
}  // namespace msgin5g::api::sbi
