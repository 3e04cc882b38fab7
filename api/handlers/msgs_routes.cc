#include "api/handlers/msgs_routes.h"

#include "api/auth/scope.h"
#include "api/http/problem.h"
#include "api/sbi/broker_mapping.h"
#include "api/sbi/codec.h"
#include "api/sbi/request_checks.h"

namespace msgin5g::api {

namespace {

using http::Request;
using http::Responder;
using http::Response;
namespace cause = http::cause;
using sbi::CheckId;
using sbi::CheckJsonBody;
using sbi::CheckText;
using sbi::FromDecodeError;
using sbi::kMaxListItems;
using sbi::Semantics;

constexpr std::string_view kRegistrationsPath = "/msgs-asregistration/v1/registrations";

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


template <class T, class DecodeFn, class MapFn>
void HandleMessage(broker::Broker& broker, auth::Authorizer& auth, Request& req, Responder responder,
                   DecodeFn decode, MapFn map, broker::Ingress ingress) {
  if (auto bad = CheckJsonBody(req)) return responder.Send(std::move(*bad));
  auto decoded = decode(req.body);
  if (!decoded.ok()) return responder.Send(FromDecodeError(decoded.error));
  T& in = *decoded.value;
  auto mapped = map(in, ingress);
  if (auto* bad = std::get_if<Response>(&mapped)) return responder.Send(std::move(*bad));
  broker::Message& m = std::get<broker::Message>(mapped);
  if (auto refused = auth.AdmitAddresses(req, m.origin, &m.destination)) {
    return responder.Send(std::move(*refused));
  }
  broker.SubmitMessage(std::move(m), [r = std::move(responder), ori = in.oriAddr,
                                      id = in.msgId](Result<broker::AcceptOutcome> out) mutable {
    if (!out.ok()) return r.Send(FromBrokerError(out.status(), cause::kUnknownRecipient));
    r.Send(MessageAck(ori, id, *out));
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
    r.Send(MessageAck(ori, id, *out));
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
                                                     AsMessageToBroker, broker::Ingress::kAs);
             }));
  router.Add("POST", "/msgs-msgdelivery/v1/deliver-ue-message", "msgs-msgdelivery.deliver-ue-message",
             auth.Guard(msg_api, [&broker, &auth](Request& req, Responder r) {
               HandleMessage<sbi::UEMessageDelivery>(broker, auth, req, std::move(r),
                                                     sbi::DecodeUEMessageDelivery,
                                                     UeMessageToBroker, broker::Ingress::kGateway);
             }));
  router.Add("POST", "/msgs-msgdelivery/v1/deliver-report", "msgs-msgdelivery.deliver-report",
             auth.Guard(msg_api, [&broker, &auth](Request& req, Responder r) {
               HandleReport(broker, auth, req, std::move(r));
             }));
}

}  // namespace msgin5g::api
