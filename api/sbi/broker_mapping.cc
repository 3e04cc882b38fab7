#include "api/sbi/broker_mapping.h"

#include <atomic>

#include "api/http/problem.h"
#include "api/sbi/codec.h"
#include "api/sbi/request_checks.h"

namespace msgin5g::api {

namespace {

using http::Response;
using sbi::Semantics;
namespace cause = http::cause;

std::atomic<std::int64_t> g_max_ttl_s{30 * 86400};

broker::Address ToBroker(Semantics& s, const sbi::Address& a, const std::string& ptr) {
  sbi::CheckAddress(s, a, ptr);
  broker::Address out;
  if (auto t = broker::ParseAddressType(a.addrType)) out.type = *t;
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
  if (broker::ParseAddressType(in.oriAddr.addrType) && m.origin.type != expected_origin) {
    s.Bad("/oriAddr/addrType",
          expected_origin == broker::AddressType::kAs ? "must be AS for deliver-as-message"
                                                      : "must be UE for deliver-ue-message",
          true);
  }
  sbi::CheckMessageIds(s, in.msgId, in.appId);
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
  sbi::CheckSegmentation(s, in.segInd, in.segParams);
  if (in.segInd.value_or(false) && in.segParams) {
    const auto& p = *in.segParams;
    broker::SegmentInfo seg;
    seg.segment_id = p.segId.value_or("");
    seg.total = static_cast<std::uint32_t>(p.totalSegCount.value_or(0));
    seg.number = static_cast<std::uint32_t>(p.segNumb.value_or(0));
    // Without the flag, the segment whose number is the total is the last (0: total not given).
    seg.last = p.lastSegFlag.value_or(seg.total != 0 && seg.number == seg.total);
    m.segment = seg;
  }
  return m;
}

template <class T>
std::variant<broker::Message, Response> MessageToBroker(T& in, broker::Ingress ingress,
                                                       broker::AddressType expected_origin) {
  Semantics s;
  broker::Message m = ToBrokerMessage(s, in, ingress, expected_origin);
  if (auto bad = s.Problem()) return std::move(*bad);
  return m;
}

}  // namespace

std::variant<broker::Message, Response> AsMessageToBroker(sbi::ASMessageDelivery& in,
                                                          broker::Ingress ingress) {
  return MessageToBroker(in, ingress, broker::AddressType::kAs);
}

std::variant<broker::Message, Response> UeMessageToBroker(sbi::UEMessageDelivery& in,
                                                          broker::Ingress ingress) {
  return MessageToBroker(in, ingress, broker::AddressType::kUe);
}

std::variant<broker::Report, Response> ReportToBroker(const sbi::DeliveryStatusReport& in) {
  Semantics s;
  broker::Report rep;
  rep.origin = ToBroker(s, in.oriAddr, "/oriAddr");
  rep.destination = ToBroker(s, in.destAddr, "/destAddr");
  sbi::CheckMessageIds(s, in.msgId, std::nullopt);
  rep.msg_id = in.msgId;
  if (in.delivSt == "REPT_DELY_SUCCESS") {
    rep.status = broker::ReportStatus::kSuccess;
  } else if (in.delivSt == "REPT_DELY_FAILED") {
    rep.status = broker::ReportStatus::kFailed;
  } else {
    s.Bad("/delivSt", "unsupported delivery status " + sbi::Quoted(in.delivSt), true);
  }
  // Stored with the report and passed on to the originator.
  if (in.failureCause) sbi::CheckText(s, "/failureCause", *in.failureCause, false);
  rep.failure_cause = in.failureCause.value_or("");
  if (auto bad = s.Problem()) return std::move(*bad);
  return rep;
}

Response MessageAck(const sbi::Address& ori, const std::string& msg_id,
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

Response FromBrokerError(const Status& st, std::string_view not_found_cause) {
  if (st.code() == StatusCode::kNotFound) return http::ProblemFromStatus(st, not_found_cause);
  return http::ProblemFromStatus(st);
}

Response MessageError(const Status& st) { return FromBrokerError(st, cause::kUnknownRecipient); }

void SetMaxMessageTtl(std::chrono::seconds ttl) {
  g_max_ttl_s.store(ttl.count(), std::memory_order_relaxed);
}

}  // namespace msgin5g::api
