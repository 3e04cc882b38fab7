#include "api/delivery/http_delivery_channel.h"

#include <pthread.h>

#include "api/sbi/codec.h"
#include "api/sbi/models.h"
#include "api/sbi/peer_answer.h"
#include "broker/segmented_send.h"

namespace msgin5g::api {

namespace {

using broker::DeliveryResult;
using storage::MessageKind;
using storage::MessageRecord;

sbi::Address ToSbi(const storage::Address& a) { return {broker::AddressTypeName(a.type), a.id}; }

std::string Join(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + std::string(path);
}

// The fields every *MessageDelivery shape shares.
template <class T>
T MessageBody(const broker::Outbound& out) {
  const MessageRecord& m = *out.message;
  T v;
  v.oriAddr = ToSbi(m.origin);
  v.destAddr = ToSbi(out.recipient);
  if (!m.app_id.empty()) v.appId = m.app_id;
  v.msgId = m.msg_id;
  if (m.report_requested) v.delivStReqInd = true;
  // payload is optional (TS 29.538): a message that came without one goes out without one, not
  // with an empty string.
  if (!out.payload.empty()) v.payload = std::string(out.payload);
  if (out.segment) {
    v.segInd = true;
    v.segParams = sbi::MessageSegmentParameters{
        out.segment->segment_id, static_cast<std::int64_t>(out.segment->total),
        static_cast<std::int64_t>(out.segment->number), out.segment->last};
    // Each segment is a message of its own: its msgId must differ from its siblings' (and from
    // an earlier attempt's, whose segId differs).
    v.msgId = broker::SegmentMessageId(out.segment->segment_id, out.segment->number);
  }
  return v;
}

std::string ReportBody(const MessageRecord& m, const storage::Address& recipient) {
  sbi::DeliveryStatusReport r;
  r.oriAddr = ToSbi(m.origin);  // who reports: the original message's recipient
  r.destAddr = ToSbi(recipient);
  r.msgId = m.msg_id;
  r.delivSt = m.report_status == storage::ReportStatus::kSuccess ? "REPT_DELY_SUCCESS"
                                                                 : "REPT_DELY_FAILED";
  if (!m.failure_cause.empty()) r.failureCause = m.failure_cause;
  return sbi::Encode(r);
}

const char* GatewayService(broker::GatewayKind k) {
  switch (k) {
    case broker::GatewayKind::kL3g: return "/msgg-l3gdelivery/v1";
    case broker::GatewayKind::kN3g: return "/msgg-n3gdelivery/v1";
    case broker::GatewayKind::kBg: return "/msgg-bgdelivery/v1";
  }
  return "";
}

}  // namespace

HttpDeliveryChannel::HttpDeliveryChannel(http::ClientOptions options,
                                         std::optional<auth::OutboundTokenOptions> tokens,
                                         std::shared_ptr<const TargetUriPolicy> targets)
    : work_(boost::asio::make_work_guard(ioc_)),
      client_(std::make_unique<http::H2Client>(ioc_, std::move(options))),
      targets_(targets ? std::move(targets) : std::make_shared<const TargetUriPolicy>()) {
  if (tokens) tokens_ = std::make_unique<auth::OutboundTokens>(*client_, std::move(*tokens));
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "delivery-io");
    ioc_.run();
  });
}

HttpDeliveryChannel::~HttpDeliveryChannel() {
  client_->Close();
  work_.reset();
  // Let the closes and failed callbacks run, then stop.
  boost::asio::post(ioc_, [this] { ioc_.stop(); });
  if (thread_.joinable()) thread_.join();
  tokens_.reset();
  client_.reset();
}

http::ClientRequest HttpDeliveryChannel::BuildRequest(const broker::Route& route,
                                                      const broker::Outbound& out,
                                                      std::string* error) {
  const MessageRecord& m = *out.message;
  const bool report = m.kind == MessageKind::kReport;
  http::ClientRequest req;
  req.method = "POST";
  req.headers.push_back({"content-type", "application/json"});
  if (route.kind == broker::Route::Kind::kUe) {
    *error = "UEs are reached over CoAP, not HTTP";
    return req;
  }
  if (route.kind == broker::Route::Kind::kAs) {
    req.url = Join(route.base, report ? "/deliver-report" : "/deliver-message");
    req.body = AsBody(out);
    return req;
  }
  const std::string service = Join(route.base, GatewayService(route.gateway));
  if (report) {
    if (route.gateway == broker::GatewayKind::kBg) {
      *error = "a broadcast gateway takes no delivery status reports";
      return req;
    }
    req.url = service + "/deliver-report";
    req.body = ReportBody(m, out.recipient);
    return req;
  }
  req.url = service + "/deliver-message";
  switch (route.gateway) {
    case broker::GatewayKind::kL3g:
      req.body = sbi::Encode(MessageBody<sbi::L3gMessageDelivery>(out));
      break;
    case broker::GatewayKind::kN3g:
      req.body = sbi::Encode(MessageBody<sbi::N3gMessageDelivery>(out));
      break;
    case broker::GatewayKind::kBg: {
      auto v = MessageBody<sbi::BgMessageDelivery>(out);
      v.priority = broker::PriorityName(m.priority);
      req.body = sbi::Encode(v);
      break;
    }
  }
  return req;
}

std::string HttpDeliveryChannel::AsBody(const broker::Outbound& out) {
  const MessageRecord& m = *out.message;
  if (m.kind == MessageKind::kReport) return ReportBody(m, out.recipient);
  auto v = MessageBody<sbi::UEMessageDelivery>(out);
  v.stoAndFwInd = m.store_and_forward;
  if (m.store_and_forward && m.expiry_ms != 0) {
    v.stoAndFwParams = sbi::StoreAndForwardParameters{sbi::FormatDateTime(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(m.expiry_ms)))};
  }
  return sbi::Encode(v);
}

DeliveryResult HttpDeliveryChannel::Classify(const Result<http::Response>& r) {
  sbi::PeerAnswer a = sbi::ClassifyAnswer(r);
  DeliveryResult out;
  out.kind = a.kind == sbi::PeerAnswer::Kind::kAccepted    ? DeliveryResult::Kind::kDelivered
             : a.kind == sbi::PeerAnswer::Kind::kTransient ? DeliveryResult::Kind::kTransient
                                                           : DeliveryResult::Kind::kPermanent;
  out.retry_after = a.retry_after;
  out.detail = std::move(a.detail);
  return out;
}

void HttpDeliveryChannel::Deliver(const broker::Route& route, const broker::Outbound& out,
                                  std::function<void(DeliveryResult)> done) {
  std::string error;
  http::ClientRequest req;
  if (route.kind == broker::Route::Kind::kAs) {
    // Registration stores only targets that pass; this catches older records and a policy made
    // stricter since (gateways' api_root comes from the configuration and is trusted). An older
    // record is also sent to its normal form, as a new registration would be.
    auto checked = targets_->Check(route.base);
    if (!checked.ok()) {
      done(DeliveryResult{DeliveryResult::Kind::kPermanent, {},
                          "targetUri refused: " + checked.status().message()});
      return;
    }
    broker::Route normal = route;
    normal.base = std::move(*checked);
    req = BuildRequest(normal, out, &error);
  } else {
    req = BuildRequest(route, out, &error);
  }
  if (!error.empty()) {
    done(DeliveryResult{DeliveryResult::Kind::kPermanent, {}, error});
    return;
  }
  if (!tokens_) {
    client_->Send(std::move(req), [done = std::move(done)](Result<http::Response> r) {
      done(Classify(r));
    });
    return;
  }
  boost::asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
    tokens_->Get([this, req = std::move(req),
                  done = std::move(done)](Result<std::string> token) mutable {
      if (!token.ok()) {
        done(DeliveryResult{DeliveryResult::Kind::kTransient, {}, token.status().message()});
        return;
      }
      req.headers.push_back({"authorization", "Bearer " + *token});
      client_->Send(std::move(req), [this, t = *token,
                                     done = std::move(done)](Result<http::Response> r) {
        DeliveryResult result = Classify(r);
        if (r.ok() && r->status == 401) {
          // Our credential was refused (expired early, revoked, keys rotated): fetch a new one
          // and let the retry carry it.
          tokens_->Invalidate(t);
          result.kind = DeliveryResult::Kind::kTransient;
        }
        done(std::move(result));
      });
    });
  });
}

}  // namespace msgin5g::api
