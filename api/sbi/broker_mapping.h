// The SBI <-> broker mapping of the MSGin5G Server: a decoded TS 29.538 body becomes a broker
// request after the semantic checks of request_checks.h, and a broker outcome becomes the answer.
// Shared by the SBI routes (api/handlers) and the MSGin5G-1 endpoint (api/coap), so a UE's MSG and
// IMDN get exactly the checks and answers of deliver-ue-message and deliver-report. The Message
// Gateway does not link this (it has no broker).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "api/http/message.h"
#include "api/sbi/models.h"
#include "broker/broker.h"

namespace msgin5g::api {

// Message bodies: ASMessageDelivery (deliver-as-message, origin AS) and UEMessageDelivery
// (deliver-ue-message and CoAP MSG, origin UE): the broker request, or the 400 ProblemDetails.
std::variant<broker::Message, http::Response> AsMessageToBroker(sbi::ASMessageDelivery& in,
                                                                broker::Ingress ingress);
std::variant<broker::Message, http::Response> UeMessageToBroker(sbi::UEMessageDelivery& in,
                                                                broker::Ingress ingress);
std::variant<broker::Report, http::Response> ReportToBroker(const sbi::DeliveryStatusReport& in);

// The MessageDeliveryAck of an accepted message (200), and the ProblemDetails of a broker error
// (NotFound answered with `not_found_cause`).
http::Response MessageAck(const sbi::Address& ori, const std::string& msg_id,
                          const broker::AcceptOutcome& outcome);
http::Response MessageError(const Status& st);
http::Response FromBrokerError(const Status& st, std::string_view not_found_cause);

// The longest a message may be stored: a later stoAndFwParams.exprTime is brought forward to now +
// `ttl` (not refused). Process-wide, as the SBI and CoAP share the mapping; msgin5gd sets
// broker.max_ttl_s once at start. Default 30 days.
void SetMaxMessageTtl(std::chrono::seconds ttl);

}  // namespace msgin5g::api
