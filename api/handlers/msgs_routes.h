// The MSGin5G Server's SBI operations (TS 29.538 clause 5.2): MSGS_ASRegistration and
// MSGS_MSGDelivery, translated between the wire schemas and the broker.
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "api/auth/authorizer.h"
#include "api/delivery/target_uri.h"
#include "api/http/router.h"
#include "api/sbi/models.h"
#include "broker/broker.h"

namespace msgin5g::api {

// Adds: POST   /msgs-asregistration/v1/registrations
//       DELETE /msgs-asregistration/v1/registrations/{registrationId}
//       POST   /msgs-msgdelivery/v1/deliver-as-message
//       POST   /msgs-msgdelivery/v1/deliver-ue-message
//       POST   /msgs-msgdelivery/v1/deliver-report
// `api_root` is the router's prefix, used to build Location headers. The broker must outlive the
// router. Each operation runs behind `auth`'s guard (API msgs-asregistration or
// msgs-msgdelivery) and its address admission; `auth` must outlive the router.
// `targets` judges and normalises each registration's targetUri (api/delivery/target_uri.h) and
// must outlive the router; nullptr: a TargetUriPolicy with private targets allowed and no listeners.
void AddMsgsRoutes(http::Router& router, broker::Broker& broker, const std::string& api_root,
                   auth::Authorizer& auth, const TargetUriPolicy* targets = nullptr);

// The longest a message may be stored: a later stoAndFwParams.exprTime is brought forward to now +
// `ttl` (not refused). Process-wide, as the CoAP endpoint shares UeMessageToBroker; msgin5gd sets
// broker.max_ttl_s once at start. Default 30 days.
void SetMaxMessageTtl(std::chrono::seconds ttl);

// Shared with the CoAP endpoint (MSGin5G-1), so a UE's MSG and IMDN get exactly the checks and
// answers of deliver-ue-message and deliver-report: the broker request, or the 400 ProblemDetails.
std::variant<broker::Message, http::Response> UeMessageToBroker(sbi::UEMessageDelivery& in,
                                                                broker::Ingress ingress);
std::variant<broker::Report, http::Response> ReportToBroker(const sbi::DeliveryStatusReport& in);
// The MessageDeliveryAck of an accepted message (200), and the ProblemDetails of a broker error.
http::Response MessageAck(const sbi::Address& ori, const std::string& msg_id,
                          const broker::AcceptOutcome& outcome);
http::Response MessageError(const Status& st);

}  // namespace msgin5g::api
