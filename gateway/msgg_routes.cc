#include "gateway/msgg_routes.h"

#include "api/sbi/codec.h"
#include "api/sbi/request_checks.h"

namespace msgin5g::gateway {

namespace {

using api::http::Request;
using api::http::Responder;
using api::http::Response;
namespace sbi = api::sbi;

// The recipient type each API serves: a UE for L3G and N3G, a Broadcast Area for BG.
template <class T>
std::optional<Response> Check(const T& in, std::string_view dest_type, std::optional<SegmentOf>* seg) {
  sbi::Semantics s;
  sbi::CheckAddress(s, in.oriAddr, "/oriAddr");
  sbi::CheckAddress(s, in.destAddr, "/destAddr");
  if (sbi::IsKnownAddressType(in.destAddr.addrType) && in.destAddr.addrType != dest_type) {
    s.Bad("/destAddr/addrType", "must be " + std::string(dest_type) + " for this API", true);
  }
  sbi::CheckMessageIds(s, in.msgId, in.appId);
  sbi::CheckSegmentation(s, in.segInd, in.segParams);
  if (auto bad = s.Problem()) return bad;
  if (in.segInd.value_or(false)) {
    const auto& p = *in.segParams;
    // totalSegCount is required on the first segment only; lastSegFlag tells it too.
    const auto number = static_cast<std::uint32_t>(*p.segNumb);
    auto total = static_cast<std::uint32_t>(p.totalSegCount.value_or(0));
    if (total == 0 && p.lastSegFlag.value_or(false)) total = number;
    *seg = SegmentOf{*p.segId, total, number};
  }
  return std::nullopt;
}

template <class T, class DecodeFn>
void HandleMessage(DownlinkIntake& intake, Role& role, std::string_view dest_type,
                   DecodeFn decode, Request& req, Responder r) {
  if (auto bad = sbi::CheckJsonBody(req)) return r.Send(std::move(*bad));
  auto decoded = decode(req.body);
  if (!decoded.ok()) return r.Send(sbi::FromDecodeError(decoded.error));
  T& in = *decoded.value;
  std::optional<SegmentOf> seg;
  if (auto bad = Check(in, dest_type, &seg)) return r.Send(std::move(*bad));
  Downlink d;
  d.ori = std::move(in.oriAddr);
  d.dest = std::move(in.destAddr);
  d.msg_id = std::move(in.msgId);
  d.app_id = std::move(in.appId);
  d.payload = std::move(in.payload).value_or("");
  d.report_wanted = in.delivStReqInd.value_or(false);
  if constexpr (requires { in.priority; }) d.priority = in.priority.value_or("MIDDLE");
  intake.Submit(role, std::move(d), std::move(seg), [r](Response resp) { r.Send(std::move(resp)); });
}

// A report for a legacy / non-3GPP UE about a message it sent (the AS's or UE's answer).
void HandleReport(DownlinkIntake& intake, Role& role, Request& req, Responder r) {
  if (auto bad = sbi::CheckJsonBody(req)) return r.Send(std::move(*bad));
  auto decoded = sbi::DecodeDeliveryStatusReport(req.body);
  if (!decoded.ok()) return r.Send(sbi::FromDecodeError(decoded.error));
  auto& in = *decoded.value;
  sbi::Semantics s;
  sbi::CheckAddress(s, in.oriAddr, "/oriAddr");
  sbi::CheckAddress(s, in.destAddr, "/destAddr");
  if (sbi::IsKnownAddressType(in.destAddr.addrType) && in.destAddr.addrType != "UE") {
    s.Bad("/destAddr/addrType", "must be UE for this API", true);
  }
  sbi::CheckMessageIds(s, in.msgId, std::nullopt);
  if (in.delivSt != "REPT_DELY_SUCCESS" && in.delivSt != "REPT_DELY_FAILED") {
    s.Bad("/delivSt", "unsupported delivery status " + sbi::Quoted(in.delivSt), true);
  }
  if (in.failureCause) sbi::CheckText(s, "/failureCause", *in.failureCause, false);
  if (auto bad = s.Problem()) return r.Send(std::move(*bad));
  Downlink d;
  d.kind = Downlink::Kind::kReport;
  d.ori = std::move(in.oriAddr);
  d.dest = std::move(in.destAddr);
  d.msg_id = std::move(in.msgId);
  d.deliv_st = std::move(in.delivSt);
  d.failure_cause = std::move(in.failureCause);
  intake.Submit(role, std::move(d), std::nullopt, [r](Response resp) { r.Send(std::move(resp)); });
}

}  // namespace

void AddMsggRoutes(api::http::Router& router, DownlinkIntake& intake, Role* l3g, Role* n3g,
                   Role* bg) {
  if (l3g != nullptr) {
    router.Add("POST", "/msgg-l3gdelivery/v1/deliver-message", "msgg-l3gdelivery.deliver-message",
               [&intake, l3g](Request& req, Responder r) {
                 HandleMessage<sbi::L3gMessageDelivery>(intake, *l3g, "UE",
                                                        sbi::DecodeL3gMessageDelivery, req,
                                                        std::move(r));
               });
    router.Add("POST", "/msgg-l3gdelivery/v1/deliver-report", "msgg-l3gdelivery.deliver-report",
               [&intake, l3g](Request& req, Responder r) {
                 HandleReport(intake, *l3g, req, std::move(r));
               });
  }
  if (n3g != nullptr) {
    router.Add("POST", "/msgg-n3gdelivery/v1/deliver-message", "msgg-n3gdelivery.deliver-message",
               [&intake, n3g](Request& req, Responder r) {
                 HandleMessage<sbi::N3gMessageDelivery>(intake, *n3g, "UE",
                                                        sbi::DecodeN3gMessageDelivery, req,
                                                        std::move(r));
               });
    router.Add("POST", "/msgg-n3gdelivery/v1/deliver-report", "msgg-n3gdelivery.deliver-report",
               [&intake, n3g](Request& req, Responder r) {
                 HandleReport(intake, *n3g, req, std::move(r));
               });
  }
  if (bg != nullptr) {
    router.Add("POST", "/msgg-bgdelivery/v1/deliver-message", "msgg-bgdelivery.deliver-message",
               [&intake, bg](Request& req, Responder r) {
                 HandleMessage<sbi::BgMessageDelivery>(intake, *bg, "BC",
                                                       sbi::DecodeBgMessageDelivery, req,
                                                       std::move(r));
               });
  }
}

}  // namespace msgin5g::gateway
