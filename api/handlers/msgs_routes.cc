#include "api/handlers/msgs_routes.h"

#include <atomic>

#include "api/auth/scope.h"
#include "api/http/problem.h"
#include "api/sbi/codec.h"

namespace msgin5g::api {

namespace {

using http::InvalidParam;
using http::MakeProblem;
using http::Request;
using http::Responder;
using http::Response;
namespace cause = http::cause;

constexpr std::string_view kRegistrationsPath = "/msgs-asregistration/v1/registrations";

bool IsJsonMediaType(std::string_view ct) {
  // "application/json" with optional parameters, case-insensitive type.
  auto semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != 16) return false;
  static constexpr std::string_view kJson = "application/json";
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  }
  return true;
}

// Checks shared by every JSON POST: length known (411), media type (415), body present (400).
std::optional<Response> CheckJsonBody(const Request& req) {
  if (!req.length_known) {
    return MakeProblem(411, cause::kIncorrectLength,
                       "Content-Length (or chunked transfer coding) is required");
  }
  std::string_view ct = req.header("content-type");
  if (!IsJsonMediaType(ct)) {
    return MakeProblem(415, cause::kUnsupportedMediaType,
                       ct.empty() ? "Content-Type application/json is required"
                                  : "unsupported Content-Type " + std::string(ct) +
                                        "; expected application/json",
                       {{"Content-Type", "must be application/json"}});
  }
  if (req.body.empty()) {
    return MakeProblem(400, cause::kInvalidMsgFormat, "a JSON request body is required");
  }
  return std::nullopt;
}

Response FromDecodeError(const sbi::DecodeError& e) {
  return MakeProblem(400, e.cause, e.detail, e.invalid_params);
}

// Semantic checks beyond the schema, gathered like the codec's so one answer lists them all.
class Semantics {
 public:
  void Bad(std::string ptr, std::string reason, bool mandatory) {
    params_.push_back({std::move(ptr), std::move(reason)});
    severity_ = std::max(severity_, mandatory ? 2 : 1);
  }
  void Missing(std::string ptr) {
    params_.push_back({std::move(ptr), "is required"});
    severity_ = 3;
  }
  std::optional<Response> Problem() const {
    if (params_.empty()) return std::nullopt;
    std::string_view c = severity_ == 3   ? cause::kMandatoryIeMissing
                         : severity_ == 2 ? cause::kMandatoryIeIncorrect
                                          : cause::kOptionalIeIncorrect;
    std::string detail = params_.size() == 1 ? params_[0].param + " " + params_[0].reason
                                             : std::to_string(params_.size()) + " invalid members";
    return MakeProblem(400, c, std::move(detail), params_);
  }

 private:
  std::vector<InvalidParam> params_;
  int severity_ = 0;
};

using broker::ParseAddressType;

// Identifiers become storage keys: bounded, and free of control characters (which also keeps
// them apart from the broker's internal key spaces).
constexpr std::size_t kMaxIdBytes = 1024;
void CheckId(Semantics& s, const std::string& ptr, std::string_view id, bool mandatory) {
  if (id.size() > kMaxIdBytes) {
    s.Bad(ptr, "must be at most " + std::to_string(kMaxIdBytes) + " bytes", mandatory);
    return;
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      s.Bad(ptr, "must not contain control characters", mandatory);
      return;
    }
  }
}

// Free text that is stored (failureCause, the AS profile): bounded like identifiers, but any
// character allowed (it is JSON-escaped wherever it goes).
constexpr std::size_t kMaxTextBytes = 1024;
constexpr std::size_t kMaxListItems = 64;
void CheckText(Semantics& s, const std::string& ptr, std::string_view text, bool mandatory) {
  if (text.size() > kMaxTextBytes) {
    s.Bad(ptr, "must be at most " + std::to_string(kMaxTextBytes) + " bytes", mandatory);
  }
}

// A value quoted back in a reason, cut short: an answer need not repeat a megabyte it refuses.
std::string Quoted(std::string_view v) {
  constexpr std::size_t kMax = 64;
  return "'" + std::string(v.substr(0, kMax)) + (v.size() > kMax ? "...'" : "'");
}

std::atomic<std::int64_t> g_max_ttl_s{30 * 86400};

broker::Address ToBroker(Semantics& s, const sbi::Address& a, const std::string& ptr) {
  broker::Address out;
  if (auto t = ParseAddressType(a.addrType)) {
    out.type = *t;
  } else {
    s.Bad(ptr + "/addrType", "unsupported address type " + Quoted(a.addrType), true);
  }
  if (a.addr.empty()) s.Bad(ptr + "/addr", "must not be empty", true);
  CheckId(s, ptr + "/addr", a.addr, true);
  out.id = a.addr;
  return out;
}

broker::Priority ToBrokerPriority(const std::optional<std::string>& p) {
  // Priority is an extensible enumeration: a value from a later release is served as MIDDLE.
  if (!p || *p == "MIDDLE") return broker::Priority::kMiddle;
  if (*p == "HIGH") return broker::Priority::kHigh;
  if (*p == "LOW") return broker::Priority::kLow;
  return broker::Priority::kMiddle;
}

template <class T>
broker::Message ToBrokerMessage(Semantics& s, T& in, broker::Ingress ingress,
                                broker::AddressType expected_origin) {
  broker::Message m;
  m.ingress = ingress;
  m.origin = ToBroker(s, in.oriAddr, "/oriAddr");
  m.destination = ToBroker(s, in.destAddr, "/destAddr");
  if (ParseAddressType(in.oriAddr.addrType) && m.origin.type != expected_origin) {
    s.Bad("/oriAddr/addrType",
          expected_origin == broker::AddressType::kAs ? "must be AS for deliver-as-message"
                                                      : "must be UE for deliver-ue-message",
          true);
  }
  if (in.msgId.empty()) s.Bad("/msgId", "must not be empty", true);
  CheckId(s, "/msgId", in.msgId, true);
  if (in.appId) CheckId(s, "/appId", *in.appId, false);
  m.msg_id = in.msgId;
  m.app_id = in.appId.value_or("");
  if (in.payload) m.payload = std::move(*in.payload);  // the largest member: moved, not copied
  if constexpr (requires { in.priority; }) m.priority = ToBrokerPriority(in.priority);
  if constexpr (requires { in.latency; }) {
    if (in.latency && *in.latency < 0) s.Bad("/latency", "must not be negative", false);
    m.latency = in.latency;
  }
  m.report_requested = in.delivStReqInd.value_or(false);
  m.store_and_forward = in.stoAndFwInd;
  if (in.stoAndFwParams && in.stoAndFwParams->exprTime) {
    // Format and range (years 1678-2261) checked by the codec.
    auto t = sbi::ParseDateTime(*in.stoAndFwParams->exprTime);
    const auto now = std::chrono::system_clock::now();
    if (t && *t <= now) {
      s.Bad("/stoAndFwParams/exprTime", "is in the past", false);
    } else if (t) {
      // Capped, not refused: the sender asked for "at least until then", and broker.max_ttl_s is
      // how long this server is willing to hold anything.
      const auto cap = now + std::chrono::seconds(g_max_ttl_s.load(std::memory_order_relaxed));
      if (*t > cap) t = std::chrono::time_point_cast<std::chrono::system_clock::duration>(cap);
    }
    m.expiry = t;
  }
  if (in.segInd.value_or(false)) {
    if (!in.segParams) {
      s.Missing("/segParams");
    } else {
      const auto& p = *in.segParams;
      if (!p.segId || p.segId->empty()) s.Missing("/segParams/segId");
      if (p.segId) CheckId(s, "/segParams/segId", *p.segId, true);
      if (!p.totalSegCount) s.Missing("/segParams/totalSegCount");
      if (!p.segNumb) s.Missing("/segParams/segNumb");
      if (p.totalSegCount && (*p.totalSegCount < 1 || *p.totalSegCount > 65535)) {
        s.Bad("/segParams/totalSegCount", "must be between 1 and 65535", true);
      }
      if (p.segNumb && p.totalSegCount &&
          ((*p.segNumb) < 1 || (*p.segNumb) > (*p.totalSegCount))) {
        s.Bad("/segParams/segNumb", "must be between 1 and totalSegCount", true);
      }
      broker::SegmentInfo seg;
      seg.segment_id = p.segId.value_or("");
      seg.total = static_cast<std::uint32_t>(p.totalSegCount.value_or(0));
      seg.number = static_cast<std::uint32_t>(p.segNumb.value_or(0));
      seg.last = p.lastSegFlag.value_or(seg.number == seg.total);
      m.segment = seg;
    }
  }
  return m;
}

Response AckResponse(const sbi::Address& ori, const std::string& msg_id,
                     const broker::AcceptOutcome& outcome) {
  sbi::MessageDeliveryAck ack;
  ack.oriAddr = ori;
  ack.msgId = msg_id;
  switch (outcome.kind) {
    case broker::AcceptOutcome::Kind::kAccepted:
      break;
    case broker::AcceptOutcome::Kind::kStored:
      ack.status = "DELY_STORED";
      break;
    case broker::AcceptOutcome::Kind::kFailed:
      ack.status = "DELY_FAILED";
      ack.failureCause = outcome.failure_cause;
      break;
  }
  return Response::Json(200, sbi::Encode(ack));
}

// What an audit line needs of a request, without its body (answers come later, on another thread).
Request AuditCopy(const Request& req) {
  Request c;
  c.method = req.method;
  c.path = req.path;
  c.peer_address = req.peer_address;
  c.peer_identity = req.peer_identity;
  c.client_id = req.client_id;
  return c;
}

Response FromBrokerError(const Status& st, std::string_view not_found_cause) {
  if (st.code() == StatusCode::kNotFound) return http::ProblemFromStatus(st, not_found_cause);
  return http::ProblemFromStatus(st);
}

template <class T, class DecodeFn>
void HandleMessage(broker::Broker& broker, auth::Authorizer& auth, Request& req, Responder responder, DecodeFn decode,
                   broker::Ingress ingress, broker::AddressType expected_origin) {
  if (auto bad = CheckJsonBody(req)) return responder.Send(std::move(*bad));
  auto decoded = decode(req.body);
  if (!decoded.ok()) return responder.Send(FromDecodeError(decoded.error));
  T& in = *decoded.value;
  Semantics s;
  broker::Message m = ToBrokerMessage(s, in, ingress, expected_origin);
  if (auto bad = s.Problem()) return responder.Send(std::move(*bad));
  // (UeMessageToBroker below is the same mapping for the CoAP endpoint.)
  if (auto refused = auth.AdmitAddresses(req, m.origin, &m.destination)) {
    return responder.Send(std::move(*refused));
  }
  broker.SubmitMessage(std::move(m), [r = std::move(responder), ori = in.oriAddr,
                                      id = in.msgId](Result<broker::AcceptOutcome> out) mutable {
    if (!out.ok()) return r.Send(FromBrokerError(out.status(), cause::kUnknownRecipient));
    r.Send(AckResponse(ori, id, *out));
  });
}

void HandleReport(broker::Broker& broker, auth::Authorizer& auth, Request& req,
                  Responder responder) {
  if (auto bad = CheckJsonBody(req)) return responder.Send(std::move(*bad));
  auto decoded = sbi::DecodeDeliveryStatusReport(req.body);
  if (!decoded.ok()) return responder.Send(FromDecodeError(decoded.error));
  const auto& in = *decoded.value;
  auto mapped = ReportToBroker(in);
  if (auto* bad = std::get_if<Response>(&mapped)) return responder.Send(std::move(*bad));
  broker::Report& rep = std::get<broker::Report>(mapped);
  if (auto refused = auth.AdmitAddresses(req, rep.origin, &rep.destination)) {
    return responder.Send(std::move(*refused));
  }
  broker.SubmitReport(std::move(rep), [r = std::move(responder), ori = in.oriAddr,
                                       id = in.msgId](Result<broker::AcceptOutcome> out) mutable {
    if (!out.ok()) return r.Send(FromBrokerError(out.status(), cause::kUnknownRecipient));
    r.Send(AckResponse(ori, id, *out));
  });
}

// A registration owned by another client (PermissionDenied) is 403 MODIFICATION_NOT_ALLOWED,
// audited like every other refusal.
Response FromRegistrationError(auth::Authorizer& auth, const Request& req, const Status& st) {
  if (st.code() == StatusCode::kPermissionDenied) {
    auth.Refused(req, auth::outcome::kNotOwner, st.message());
    return http::ProblemFromStatus(st, cause::kModificationNotAllowed);
  }
  return FromBrokerError(st, cause::kRegistrationNotFound);
}

void HandleRegister(broker::Broker& broker, auth::Authorizer& auth, const std::string& api_root,
                    const TargetUriPolicy& targets, Request& req, Responder responder) {
  if (auto bad = CheckJsonBody(req)) return responder.Send(std::move(*bad));
  auto decoded = sbi::DecodeASRegistration(req.body);
  if (!decoded.ok()) return responder.Send(FromDecodeError(decoded.error));
  const auto& in = *decoded.value;
  Semantics s;
  if (in.asSvcId.empty()) s.Bad("/asSvcId", "must not be empty", true);
  CheckId(s, "/asSvcId", in.asSvcId, true);
  if (in.appId) CheckId(s, "/appId", *in.appId, false);
  std::string target;
  if (in.targetUri) {
    // Where this server will send requests: a refused target is not an optional member to
    // ignore but a registration that cannot be served as asked, hence MANDATORY_IE_INCORRECT.
    auto checked = targets.Check(*in.targetUri);
    if (checked.ok()) {
      target = std::move(*checked);
    } else {
      s.Bad("/targetUri", checked.status().message(), true);
    }
  }
  if (in.asProf) {
    const auto& p = *in.asProf;
    auto text = [&](const char* ptr, const std::optional<std::string>& v) {
      if (v) CheckText(s, ptr, *v, false);
    };
    text("/asProf/appName", p.appName);
    text("/asProf/appCategory", p.appCategory);
    text("/asProf/asStatus", p.asStatus);
    auto list = [&](const std::string& ptr, const std::optional<std::vector<std::string>>& v) {
      if (!v) return;
      if (v->size() > kMaxListItems) {
        s.Bad(ptr, "must have at most " + std::to_string(kMaxListItems) + " items", false);
      }
      for (std::size_t i = 0; i < v->size() && i < kMaxListItems; ++i) {
        CheckText(s, ptr + "/" + std::to_string(i), (*v)[i], false);
      }
    };
    list("/asProf/appProviders", p.appProviders);
    list("/asProf/appSenarios", p.appSenarios);
  }
  if (auto bad = s.Problem()) return responder.Send(std::move(*bad));
  if (auto refused = auth.AdmitAddresses(req, {broker::AddressType::kAs, in.asSvcId}, nullptr)) {
    return responder.Send(std::move(*refused));
  }

  broker::AsRegistration reg;
  reg.owner = req.client_id;
  reg.as_svc_id = in.asSvcId;
  reg.app_id = in.appId.value_or("");
  reg.target_uri = std::move(target);  // the normal form, as every delivery will use it
  if (in.asProf) {
    broker::AsProfile p;
    p.app_name = in.asProf->appName.value_or("");
    p.app_providers = in.asProf->appProviders.value_or(std::vector<std::string>{});
    p.app_scenarios = in.asProf->appSenarios.value_or(std::vector<std::string>{});
    p.app_category = in.asProf->appCategory.value_or("");
    p.as_status = in.asProf->asStatus.value_or("");
    reg.profile = std::move(p);
  }
  std::string base = req.scheme + "://" + (req.authority.empty() ? "localhost" : req.authority) +
                     api_root + std::string(kRegistrationsPath) + "/";
  broker.RegisterAs(std::move(reg), [r = std::move(responder), base, &auth,
                                     req_copy = AuditCopy(req)](
                                        Result<broker::AsRegistration> out) mutable {
    if (!out.ok()) return r.Send(FromRegistrationError(auth, req_copy, out.status()));
    sbi::ASRegistrationAck ack;
    ack.asSvcId = out->as_svc_id;
    // TS 29.538 makes `result` mandatory even on success (DIGEST Q3): report it as a
    // ProblemDetails with status 201 and cause SUCCESS.
    ack.result.status = 201;
    ack.result.cause = std::string(cause::kSuccess);
    Response resp = Response::Json(201, sbi::Encode(ack));
    resp.headers.push_back({"location", base + out->registration_id});
    r.Send(std::move(resp));
  });
}

void HandleDeregister(broker::Broker& broker, auth::Authorizer& auth, Request& req,
                      Responder responder) {
  std::string id(req.PathParam("registrationId"));
  broker.DeregisterAs(id, req.client_id, [r = std::move(responder), &auth,
                                          req_copy = AuditCopy(req)](Status st) mutable {
    if (!st.ok()) return r.Send(FromRegistrationError(auth, req_copy, st));
    r.Send(Response::Empty(204));
  });
}

}  // namespace

std::variant<broker::Message, Response> UeMessageToBroker(sbi::UEMessageDelivery& in,
                                                          broker::Ingress ingress) {
  Semantics s;
  broker::Message m = ToBrokerMessage(s, in, ingress, broker::AddressType::kUe);
  if (auto bad = s.Problem()) return std::move(*bad);
  return m;
}

std::variant<broker::Report, Response> ReportToBroker(const sbi::DeliveryStatusReport& in) {
  Semantics s;
  broker::Report rep;
  rep.origin = ToBroker(s, in.oriAddr, "/oriAddr");
  rep.destination = ToBroker(s, in.destAddr, "/destAddr");
  if (in.msgId.empty()) s.Bad("/msgId", "must not be empty", true);
  CheckId(s, "/msgId", in.msgId, true);
  rep.msg_id = in.msgId;
  if (in.delivSt == "REPT_DELY_SUCCESS") {
    rep.status = broker::ReportStatus::kSuccess;
  } else if (in.delivSt == "REPT_DELY_FAILED") {
    rep.status = broker::ReportStatus::kFailed;
  } else {
    s.Bad("/delivSt", "unsupported delivery status " + Quoted(in.delivSt), true);
  }
  // Stored with the report and passed on to the originator.
  if (in.failureCause) CheckText(s, "/failureCause", *in.failureCause, false);
  rep.failure_cause = in.failureCause.value_or("");
  if (auto bad = s.Problem()) return std::move(*bad);
  return rep;
}

Response MessageAck(const sbi::Address& ori, const std::string& msg_id,
                    const broker::AcceptOutcome& outcome) {
  return AckResponse(ori, msg_id, outcome);
}

Response MessageError(const Status& st) { return FromBrokerError(st, cause::kUnknownRecipient); }

void SetMaxMessageTtl(std::chrono::seconds ttl) {
  g_max_ttl_s.store(ttl.count(), std::memory_order_relaxed);
}

void AddMsgsRoutes(http::Router& router, broker::Broker& broker, const std::string& api_root,
                   auth::Authorizer& auth, const TargetUriPolicy* targets) {
  static const TargetUriPolicy kDefaultTargets;
  const TargetUriPolicy& tp = targets != nullptr ? *targets : kDefaultTargets;
  std::string root = api_root;
  while (!root.empty() && root.back() == '/') root.pop_back();
  const std::string reg_api(auth::kApiAsRegistration);
  const std::string msg_api(auth::kApiMsgDelivery);
  router.Add("POST", std::string(kRegistrationsPath), "msgs-asregistration.register",
             auth.Guard(reg_api, [&broker, &auth, root, &tp](Request& req, Responder r) {
               HandleRegister(broker, auth, root, tp, req, std::move(r));
             }));
  router.Add("DELETE", std::string(kRegistrationsPath) + "/{registrationId}",
             "msgs-asregistration.deregister",
             auth.Guard(reg_api, [&broker, &auth](Request& req, Responder r) {
               HandleDeregister(broker, auth, req, std::move(r));
             }));
  router.Add("POST", "/msgs-msgdelivery/v1/deliver-as-message", "msgs-msgdelivery.deliver-as-message",
             auth.Guard(msg_api, [&broker, &auth](Request& req, Responder r) {
               HandleMessage<sbi::ASMessageDelivery>(broker, auth, req, std::move(r),
                                                     sbi::DecodeASMessageDelivery,
                                                     broker::Ingress::kAs, broker::AddressType::kAs);
             }));
  router.Add("POST", "/msgs-msgdelivery/v1/deliver-ue-message", "msgs-msgdelivery.deliver-ue-message",
             auth.Guard(msg_api, [&broker, &auth](Request& req, Responder r) {
               HandleMessage<sbi::UEMessageDelivery>(broker, auth, req, std::move(r),
                                                     sbi::DecodeUEMessageDelivery,
                                                     broker::Ingress::kGateway,
                                                     broker::AddressType::kUe);
             }));
  router.Add("POST", "/msgs-msgdelivery/v1/deliver-report", "msgs-msgdelivery.deliver-report",
             auth.Guard(msg_api, [&broker, &auth](Request& req, Responder r) {
               HandleReport(broker, auth, req, std::move(r));
             }));
}

}  // namespace msgin5g::api
