#include "api/sbi/codec.h"

#include <algorithm>
#include <ctime>
#include <unordered_set>

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/url/parse.hpp>

namespace msgin5g::api::sbi {

namespace json = boost::json;

namespace {

constexpr const char* kDateTimeRangeReason =
    "is out of range (years 1678 to 2261 are accepted)";

// Collects violations while walking a body; `mandatory` says whether the IE being read sits under
// mandatory IEs all the way up (a required member of an optional object makes that object
// incorrect, not the message).
class Checker {
 public:
  void Missing(const std::string& ptr, bool mandatory) {
    Add(ptr, "is required", mandatory ? 3 : 1);
  }
  void Bad(const std::string& ptr, std::string reason, bool mandatory) {
    Add(ptr, std::move(reason), mandatory ? 2 : 1);
  }
  bool failed() const { return severity_ > 0; }

  DecodeError Error() const {
    DecodeError e;
    e.cause = severity_ == 3   ? std::string(http::cause::kMandatoryIeMissing)
              : severity_ == 2 ? std::string(http::cause::kMandatoryIeIncorrect)
                               : std::string(http::cause::kOptionalIeIncorrect);
    e.detail = params_.size() == 1 ? params_[0].param + " " + params_[0].reason
                                   : std::to_string(params_.size()) + " invalid members";
    e.invalid_params = params_;
    return e;
  }

 private:
  void Add(const std::string& ptr, std::string reason, int severity) {
    if (params_.size() < 32) params_.push_back({ptr, std::move(reason)});
    severity_ = std::max(severity_, severity);
  }
  std::vector<http::InvalidParam> params_;
  int severity_ = 0;
};

struct Ctx {
  Checker& check;
  std::string ptr;
  bool mandatory;
  Ctx At(std::string_view key, bool required) const {
    return Ctx{check, ptr + "/" + std::string(key), mandatory && required};
  }
};

// --- leaf readers: return false (and record why) when the value has the wrong type ---

bool Read(const Ctx& c, const json::value& v, std::string& out) {
  if (!v.is_string()) {
    c.check.Bad(c.ptr, "must be a string", c.mandatory);
    return false;
  }
  out.assign(v.get_string().data(), v.get_string().size());
  return true;
}

bool Read(const Ctx& c, const json::value& v, bool& out) {
  if (!v.is_bool()) {
    c.check.Bad(c.ptr, "must be a boolean", c.mandatory);
    return false;
  }
  out = v.get_bool();
  return true;
}

bool Read(const Ctx& c, const json::value& v, std::int64_t& out) {
  if (v.is_int64()) {
    out = v.get_int64();
    return true;
  }
  if (v.is_uint64()) {
    c.check.Bad(c.ptr, "is out of range", c.mandatory);
    return false;
  }
  if (v.is_double()) {
    double d = v.get_double();
    // JSON has one number type; 3.0 is an integer value, 3.5 is not.
    // Range first: converting an out-of-range double to int64 is undefined behaviour.
    if (d > -9.2e18 && d < 9.2e18 && d == static_cast<double>(static_cast<std::int64_t>(d))) {
      out = static_cast<std::int64_t>(d);
      return true;
    }
  }
  c.check.Bad(c.ptr, "must be an integer", c.mandatory);
  return false;
}

bool Read(const Ctx& c, const json::value& v, std::vector<std::string>& out) {
  if (!v.is_array()) {
    c.check.Bad(c.ptr, "must be an array of strings", c.mandatory);
    return false;
  }
  const auto& arr = v.get_array();
  if (arr.empty()) {
    c.check.Bad(c.ptr, "must have at least 1 item", c.mandatory);
    return false;
  }
  bool ok = true;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string s;
    if (Read(c.At(std::to_string(i), true), arr[i], s)) {
      out.push_back(std::move(s));
    } else {
      ok = false;
    }
  }
  return ok;
}

// --- member helpers ---

template <class T>
void Required(const Ctx& c, const json::object& o, std::string_view key, T& out) {
  Ctx f = c.At(key, true);
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    f.check.Missing(f.ptr, f.mandatory);
    return;
  }
  Read(f, *v, out);
}

template <class T>
void Optional(const Ctx& c, const json::object& o, std::string_view key, std::optional<T>& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return;
  Ctx f = c.At(key, false);
  T tmp{};
  if (Read(f, *v, tmp)) out = std::move(tmp);
}

const json::object* AsObject(const Ctx& c, const json::value& v) {
  if (!v.is_object()) {
    c.check.Bad(c.ptr.empty() ? "/" : c.ptr, "must be an object", c.mandatory);
    return nullptr;
  }
  return &v.get_object();
}

// --- structured readers ---

bool Read(const Ctx& c, const json::value& v, Address& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Required(c, *o, "addrType", out.addrType);
  Required(c, *o, "addr", out.addr);
  return true;
}

bool Read(const Ctx& c, const json::value& v, MessageSegmentParameters& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Optional(c, *o, "segId", out.segId);
  Optional(c, *o, "totalSegCount", out.totalSegCount);
  Optional(c, *o, "segNumb", out.segNumb);
  Optional(c, *o, "lastSegFlag", out.lastSegFlag);
  return true;
}

struct DateTimeString {
  std::string text;
};

bool Read(const Ctx& c, const json::value& v, DateTimeString& out) {
  if (!Read(c, v, out.text)) return false;
  std::chrono::system_clock::time_point t;
  switch (ParseDateTime(out.text, &t)) {
    case DateTimeParse::kOk:
      return true;
    case DateTimeParse::kOutOfRange:
      c.check.Bad(c.ptr, kDateTimeRangeReason, c.mandatory);
      return false;
    case DateTimeParse::kMalformed:
      break;
  }
  c.check.Bad(c.ptr, "must be an RFC 3339 date-time", c.mandatory);
  return false;
}

struct UriString {
  std::string text;
};

bool Read(const Ctx& c, const json::value& v, UriString& out) {
  if (!Read(c, v, out.text)) return false;
  if (!boost::urls::parse_uri(out.text)) {
    c.check.Bad(c.ptr, "must be an absolute URI", c.mandatory);
    return false;
  }
  return true;
}

template <class T>
void OptionalAs(const Ctx& c, const json::object& o, std::string_view key,
                std::optional<std::string>& out) {
  std::optional<T> tmp;
  Optional(c, o, key, tmp);
  if (tmp) out = std::move(tmp->text);
}

bool Read(const Ctx& c, const json::value& v, StoreAndForwardParameters& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  OptionalAs<DateTimeString>(c, *o, "exprTime", out.exprTime);
  return true;
}

bool Read(const Ctx& c, const json::value& v, ASProfile& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Optional(c, *o, "appName", out.appName);
  Optional(c, *o, "appProviders", out.appProviders);
  Optional(c, *o, "appSenarios", out.appSenarios);
  Optional(c, *o, "appCategory", out.appCategory);
  Optional(c, *o, "asStatus", out.asStatus);
  return true;
}

bool Read(const Ctx& c, const json::value& v, http::InvalidParam& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Required(c, *o, "param", out.param);
  std::optional<std::string> reason;
  Optional(c, *o, "reason", reason);
  if (reason) out.reason = *reason;
  return true;
}

bool Read(const Ctx& c, const json::value& v, std::vector<http::InvalidParam>& out) {
  if (!v.is_array() || v.get_array().empty()) {
    c.check.Bad(c.ptr, "must be a non-empty array", c.mandatory);
    return false;
  }
  const auto& arr = v.get_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    http::InvalidParam p;
    if (Read(c.At(std::to_string(i), true), arr[i], p)) out.push_back(std::move(p));
  }
  return true;
}

bool Read(const Ctx& c, const json::value& v, http::ProblemDetails& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  std::optional<std::string> s;
  auto take = [&](std::string_view key, std::string& dst) {
    s.reset();
    Optional(c, *o, key, s);
    if (s) dst = *s;
  };
  take("type", out.type);
  take("title", out.title);
  take("detail", out.detail);
  take("instance", out.instance);
  take("cause", out.cause);
  std::optional<std::int64_t> status;
  Optional(c, *o, "status", status);
  if (status) out.status = static_cast<int>(*status);
  std::optional<std::vector<http::InvalidParam>> params;
  Optional(c, *o, "invalidParams", params);
  if (params) out.invalid_params = std::move(*params);
  return true;
}

// The members every message-delivery schema shares.
template <class T>
void ReadMessageCommon(const Ctx& c, const json::object& o, T& out) {
  Required(c, o, "oriAddr", out.oriAddr);
  Required(c, o, "destAddr", out.destAddr);
  Optional(c, o, "appId", out.appId);
  Required(c, o, "msgId", out.msgId);
  Optional(c, o, "delivStReqInd", out.delivStReqInd);
  Optional(c, o, "payload", out.payload);
  Optional(c, o, "segInd", out.segInd);
  Optional(c, o, "segParams", out.segParams);
}

bool Read(const Ctx& c, const json::value& v, ASMessageDelivery& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  ReadMessageCommon(c, *o, out);
  Optional(c, *o, "priority", out.priority);
  Required(c, *o, "stoAndFwInd", out.stoAndFwInd);
  Optional(c, *o, "stoAndFwParams", out.stoAndFwParams);
  Optional(c, *o, "latency", out.latency);
  return true;
}

bool Read(const Ctx& c, const json::value& v, UEMessageDelivery& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  ReadMessageCommon(c, *o, out);
  Required(c, *o, "stoAndFwInd", out.stoAndFwInd);
  Optional(c, *o, "stoAndFwParams", out.stoAndFwParams);
  return true;
}

bool Read(const Ctx& c, const json::value& v, L3gMessageDelivery& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  ReadMessageCommon(c, *o, out);
  return true;
}

bool Read(const Ctx& c, const json::value& v, N3gMessageDelivery& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  ReadMessageCommon(c, *o, out);
  return true;
}

bool Read(const Ctx& c, const json::value& v, BgMessageDelivery& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  ReadMessageCommon(c, *o, out);
  Optional(c, *o, "priority", out.priority);
  return true;
}

bool Read(const Ctx& c, const json::value& v, MessageDeliveryAck& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Required(c, *o, "oriAddr", out.oriAddr);
  Required(c, *o, "msgId", out.msgId);
  Optional(c, *o, "status", out.status);
  Optional(c, *o, "failureCause", out.failureCause);
  return true;
}

bool Read(const Ctx& c, const json::value& v, DeliveryStatusReport& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Required(c, *o, "oriAddr", out.oriAddr);
  Required(c, *o, "destAddr", out.destAddr);
  Required(c, *o, "msgId", out.msgId);
  Optional(c, *o, "failureCause", out.failureCause);
  Required(c, *o, "delivSt", out.delivSt);
  return true;
}

bool Read(const Ctx& c, const json::value& v, ASRegistration& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Required(c, *o, "asSvcId", out.asSvcId);
  Optional(c, *o, "appId", out.appId);
  OptionalAs<UriString>(c, *o, "targetUri", out.targetUri);
  Optional(c, *o, "asProf", out.asProf);
  return true;
}

bool Read(const Ctx& c, const json::value& v, ASRegistrationAck& out) {
  const json::object* o = AsObject(c, v);
  if (o == nullptr) return false;
  Required(c, *o, "asSvcId", out.asSvcId);
  Required(c, *o, "result", out.result);
  return true;
}

template <class T>
Decoded<T> DecodeBody(std::string_view text) {
  Decoded<T> out;
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  // The parsed tree lives only until it is copied into the typed struct: a monotonic arena on the
  // stack makes that dozens of allocations fewer per request (it spills to the heap if needed).
  alignas(std::max_align_t) unsigned char arena[16384];
  json::monotonic_resource mr(arena, sizeof(arena));
  json::value v = json::parse(text, ec, &mr, opts);
  if (ec) {
    out.error.cause = std::string(http::cause::kInvalidMsgFormat);
    out.error.detail = "request body is not valid JSON: " + ec.message();
    return out;
  }
  if (!v.is_object()) {
    out.error.cause = std::string(http::cause::kInvalidMsgFormat);
    out.error.detail = "request body must be a JSON object";
    return out;
  }
  // The tree above kept only one of two equal member names; which one the sender meant cannot be
  // known, and another JSON reader on the path may have taken the other.
  if (auto dup = FindDuplicateMember(text)) {
    out.error.cause = std::string(http::cause::kInvalidMsgFormat);
    out.error.detail = "duplicate member " + *dup;
    out.error.invalid_params = {{*dup, "is a duplicate member name"}};
    return out;
  }
  Checker check;
  T value{};
  Read(Ctx{check, "", true}, v, value);
  if (check.failed()) {
    out.error = check.Error();
    return out;
  }
  out.value = std::move(value);
  return out;
}

// --- encoding ---

json::object ToJson(const Address& a) { return {{"addrType", a.addrType}, {"addr", a.addr}}; }

json::object ToJson(const MessageSegmentParameters& p) {
  json::object o;
  if (p.segId) o["segId"] = *p.segId;
  if (p.totalSegCount) o["totalSegCount"] = *p.totalSegCount;
  if (p.segNumb) o["segNumb"] = *p.segNumb;
  if (p.lastSegFlag) o["lastSegFlag"] = *p.lastSegFlag;
  return o;
}

template <class T>
void PutIf(json::object& o, std::string_view key, const std::optional<T>& v) {
  if (v) o[key] = *v;
}

template <class T>
json::object MessageCommonToJson(const T& m) {
  json::object o;
  o["oriAddr"] = ToJson(m.oriAddr);
  o["destAddr"] = ToJson(m.destAddr);
  PutIf(o, "appId", m.appId);
  o["msgId"] = m.msgId;
  PutIf(o, "delivStReqInd", m.delivStReqInd);
  PutIf(o, "payload", m.payload);
  PutIf(o, "segInd", m.segInd);
  if (m.segParams) o["segParams"] = ToJson(*m.segParams);
  return o;
}

void PutStoreAndForward(json::object& o, bool ind, const std::optional<StoreAndForwardParameters>& p) {
  o["stoAndFwInd"] = ind;
  if (p) {
    json::object s;
    if (p->exprTime) s["exprTime"] = *p->exprTime;
    o["stoAndFwParams"] = std::move(s);
  }
}

json::object ProblemToJson(const http::ProblemDetails& p) {
  return json::parse(http::EncodeProblemDetails(p)).as_object();
}

}  // namespace

Decoded<ASRegistration> DecodeASRegistration(std::string_view j) { return DecodeBody<ASRegistration>(j); }
Decoded<ASRegistrationAck> DecodeASRegistrationAck(std::string_view j) { return DecodeBody<ASRegistrationAck>(j); }
Decoded<ASMessageDelivery> DecodeASMessageDelivery(std::string_view j) { return DecodeBody<ASMessageDelivery>(j); }
Decoded<UEMessageDelivery> DecodeUEMessageDelivery(std::string_view j) { return DecodeBody<UEMessageDelivery>(j); }
Decoded<MessageDeliveryAck> DecodeMessageDeliveryAck(std::string_view j) { return DecodeBody<MessageDeliveryAck>(j); }
Decoded<DeliveryStatusReport> DecodeDeliveryStatusReport(std::string_view j) { return DecodeBody<DeliveryStatusReport>(j); }
Decoded<L3gMessageDelivery> DecodeL3gMessageDelivery(std::string_view j) { return DecodeBody<L3gMessageDelivery>(j); }
Decoded<N3gMessageDelivery> DecodeN3gMessageDelivery(std::string_view j) { return DecodeBody<N3gMessageDelivery>(j); }
Decoded<BgMessageDelivery> DecodeBgMessageDelivery(std::string_view j) { return DecodeBody<BgMessageDelivery>(j); }
Decoded<http::ProblemDetails> DecodeProblemDetails(std::string_view j) { return DecodeBody<http::ProblemDetails>(j); }

std::string Encode(const ASRegistration& v) {
  json::object o;
  o["asSvcId"] = v.asSvcId;
  PutIf(o, "appId", v.appId);
  PutIf(o, "targetUri", v.targetUri);
  if (v.asProf) {
    json::object p;
    PutIf(p, "appName", v.asProf->appName);
    auto arr = [](const std::vector<std::string>& xs) {
      json::array a;
      for (const auto& x : xs) a.emplace_back(x);
      return a;
    };
    if (v.asProf->appProviders) p["appProviders"] = arr(*v.asProf->appProviders);
    if (v.asProf->appSenarios) p["appSenarios"] = arr(*v.asProf->appSenarios);
    PutIf(p, "appCategory", v.asProf->appCategory);
    PutIf(p, "asStatus", v.asProf->asStatus);
    o["asProf"] = std::move(p);
  }
  return json::serialize(o);
}

std::string Encode(const ASRegistrationAck& v) {
  json::object o;
  o["asSvcId"] = v.asSvcId;
  o["result"] = ProblemToJson(v.result);
  return json::serialize(o);
}

std::string Encode(const ASMessageDelivery& v) {
  json::object o = MessageCommonToJson(v);
  PutIf(o, "priority", v.priority);
  PutStoreAndForward(o, v.stoAndFwInd, v.stoAndFwParams);
  PutIf(o, "latency", v.latency);
  return json::serialize(o);
}

std::string Encode(const UEMessageDelivery& v) {
  json::object o = MessageCommonToJson(v);
  PutStoreAndForward(o, v.stoAndFwInd, v.stoAndFwParams);
  return json::serialize(o);
}

namespace {
// RFC 8259 string escaping for the hand-written hot-path encoder below. Input is valid UTF-8 (it
// came through the JSON parser or from our own constants), so only '"', '\\' and controls need care.
void AppendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}
}  // namespace

// Answered once per accepted message: written directly instead of through a json::object tree.
std::string Encode(const MessageDeliveryAck& v) {
  std::string out;
  out.reserve(64 + v.oriAddr.addr.size() + v.msgId.size() +
              (v.failureCause ? v.failureCause->size() : 0));
  out.append("{\"oriAddr\":{\"addrType\":");
  AppendJsonString(out, v.oriAddr.addrType);
  out.append(",\"addr\":");
  AppendJsonString(out, v.oriAddr.addr);
  out.append("},\"msgId\":");
  AppendJsonString(out, v.msgId);
  if (v.status) {
    out.append(",\"status\":");
    AppendJsonString(out, *v.status);
  }
  if (v.failureCause) {
    out.append(",\"failureCause\":");
    AppendJsonString(out, *v.failureCause);
  }
  out.push_back('}');
  return out;
}

std::string Encode(const DeliveryStatusReport& v) {
  json::object o;
  o["oriAddr"] = ToJson(v.oriAddr);
  o["destAddr"] = ToJson(v.destAddr);
  o["msgId"] = v.msgId;
  PutIf(o, "failureCause", v.failureCause);
  o["delivSt"] = v.delivSt;
  return json::serialize(o);
}

std::string Encode(const L3gMessageDelivery& v) { return json::serialize(MessageCommonToJson(v)); }
std::string Encode(const N3gMessageDelivery& v) { return json::serialize(MessageCommonToJson(v)); }

std::string Encode(const BgMessageDelivery& v) {
  json::object o = MessageCommonToJson(v);
  PutIf(o, "priority", v.priority);
  return json::serialize(o);
}

// --- DateTime ---

DateTimeParse ParseDateTime(std::string_view s, std::chrono::system_clock::time_point* out) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](std::size_t pos, std::size_t n, int* value) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, &year) || s.size() < 20 || s[4] != '-' || !digits(5, 2, &month) ||
      s[7] != '-' || !digits(8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(11, 2, &hour) || s[13] != ':' || !digits(14, 2, &minute) || s[16] != ':' ||
      !digits(17, 2, &second)) {
    return DateTimeParse::kMalformed;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return DateTimeParse::kMalformed;
  }
  std::size_t pos = 19;
  long long nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    long long scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return DateTimeParse::kMalformed;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, &om) || oh > 23 || om > 59) {
      return DateTimeParse::kMalformed;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return DateTimeParse::kMalformed;
  }
  if (pos != s.size()) return DateTimeParse::kMalformed;

  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return DateTimeParse::kMalformed;
  // system_clock counts int64 nanoseconds: only 1677-09-21 to 2262-04-11 fit, and converting a
  // time outside wraps around silently (year 2700 became 2115). Whole years within, with room
  // for any UTC offset and leap second: 1678 to 2261.
  if (year < 1678 || year > 2261) return DateTimeParse::kOutOfRange;
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) - std::chrono::minutes(offset_minutes);
  *out = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      t + std::chrono::nanoseconds(nanos));
  return DateTimeParse::kOk;
}

std::optional<std::chrono::system_clock::time_point> ParseDateTime(std::string_view s) {
  std::chrono::system_clock::time_point t;
  if (ParseDateTime(s, &t) != DateTimeParse::kOk) return std::nullopt;
  return t;
}

// --- duplicate member names ---

namespace {

// A SAX pass over text json::parse has already accepted: tracks the member names of each open
// object and the position in each open array, so the first repeated name can be reported with its
// JSON Pointer. Names are compared unescaped ("a" and "\u0061" are the same member). It runs on
// every request body, so its buffers are kept per thread and reused: no allocation once warm.
struct DuplicateState {
  struct Frame {
    bool object = false;
    std::string key;             // object: the member being read
    std::size_t index = 0;       // array: the element being read
    std::size_t next_index = 0;  // array: elements seen
    std::vector<std::string> keys;  // object: names seen, the first `count` of them valid
    std::size_t count = 0;
    std::unordered_set<std::string> many;  // object: all names, once there are more than 16
  };
  std::vector<Frame> frames;
  std::size_t depth = 0;
  std::string key;
  std::optional<std::string> found;
};

class DuplicateFinder {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  explicit DuplicateFinder(DuplicateState* st) : st_(*st) {
    st_.depth = 0;
    st_.key.clear();
    st_.found.reset();
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    Value();
    Push(true);
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --st_.depth;
    return true;
  }
  bool on_array_begin(json::error_code&) {
    Value();
    Push(false);
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --st_.depth;
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st_.key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    st_.key.append(s.data(), s.size());
    auto& f = st_.frames[st_.depth - 1];
    bool dup;
    if (!f.many.empty()) {
      dup = !f.many.insert(st_.key).second;
    } else {
      dup = std::find(f.keys.begin(), f.keys.begin() + static_cast<std::ptrdiff_t>(f.count),
                      st_.key) != f.keys.begin() + static_cast<std::ptrdiff_t>(f.count);
      if (!dup) {
        if (f.count < f.keys.size()) {
          f.keys[f.count].assign(st_.key);
        } else {
          f.keys.push_back(st_.key);
        }
        // Linear search while small (nearly every body); a set once large, so a body of 100k
        // members costs no quadratic time.
        if (++f.count > 16) {
          f.many.insert(f.keys.begin(), f.keys.begin() + static_cast<std::ptrdiff_t>(f.count));
          f.count = 0;
        }
      }
    }
    f.key.assign(st_.key);
    st_.key.clear();
    if (dup) {
      st_.found = Pointer();
      ec = json::error::extra_data;  // any error: stops the pass
      return false;
    }
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return Value(); }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return Value(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return Value(); }
  bool on_double(double, json::string_view, json::error_code&) { return Value(); }
  bool on_bool(bool, json::error_code&) { return Value(); }
  bool on_null(json::error_code&) { return Value(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // A value starts: in an array it is the next element.
  bool Value() {
    if (st_.depth > 0 && !st_.frames[st_.depth - 1].object) {
      auto& f = st_.frames[st_.depth - 1];
      f.index = f.next_index++;
    }
    return true;
  }
  void Push(bool object) {
    if (st_.frames.size() == st_.depth) st_.frames.emplace_back();
    auto& f = st_.frames[st_.depth++];
    f.object = object;
    f.key.clear();
    f.index = f.next_index = 0;
    f.count = 0;
    if (!f.many.empty()) f.many.clear();
  }
  // RFC 6901: the path to the member just read, '~' and '/' escaped.
  std::string Pointer() const {
    std::string p;
    for (std::size_t i = 0; i < st_.depth; ++i) {
      const auto& f = st_.frames[i];
      p.push_back('/');
      if (!f.object) {
        p += std::to_string(f.index);
        continue;
      }
      for (char c : f.key) {
        if (c == '~') {
          p += "~0";
        } else if (c == '/') {
          p += "~1";
        } else {
          p.push_back(c);
        }
      }
    }
    return p;
  }

  DuplicateState& st_;
};

}  // namespace

std::optional<std::string> FindDuplicateMember(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = 32;
  thread_local DuplicateState state;
  json::basic_parser<DuplicateFinder> p(opts, &state);
  json::error_code ec;
  p.write_some(false, text.data(), text.size(), ec);
  std::optional<std::string> found = std::move(state.found);
  // A body with a huge object should not leave its names held by this thread.
  for (const auto& f : state.frames) {
    if (f.many.bucket_count() > 1024 || f.keys.size() > 64) {
      state = DuplicateState{};
      break;
    }
  }
  return found;
}

std::string FormatDateTime(std::chrono::system_clock::time_point t) {
  // floor, not time_point_cast (which truncates toward zero): before 1970 the millisecond part
  // would otherwise come out negative ("...00:00:00.-500Z").
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03lldZ", static_cast<long long>(ms));
  return buf;
}

}  // namespace msgin5g::api::sbi
