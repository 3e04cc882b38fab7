#include "gateway/uplink.h"

#include <boost/json/serialize.hpp>

#include "api/sbi/codec.h"
#include "api/sbi/peer_answer.h"
#include "common/logging.h"

namespace msgin5g::gateway {

namespace {
constexpr const char* kMessagePath = "/msgs-msgdelivery/v1/deliver-ue-message";
constexpr const char* kReportPath = "/msgs-msgdelivery/v1/deliver-report";
}  // namespace

Uplink::Uplink(boost::asio::io_context& ioc, Store& store, Options options)
    : ioc_(ioc),
      options_(std::move(options)),
      client_(std::make_unique<api::http::H2Client>(ioc, options_.client)),
      outbox_(
          ioc, store, options_.outbox,
          [this](Outbox::Job& job, Outbox::Finish finish) { Send(job, std::move(finish)); },
          [](Outbox::Job&) { return Outbox::Outcome{}; }) {
  while (!options_.api_root.empty() && options_.api_root.back() == '/') options_.api_root.pop_back();
  if (options_.tokens) {
    tokens_ = std::make_unique<api::auth::OutboundTokens>(*client_, *options_.tokens);
  }
}

// Not client_->Close(): that posts to the core, which may still run (a configuration error
// returns before main stops it) and would then use the destroyed client. Stop() closes on the
// core; the client's destructor closes whatever is left once the core has stopped.
Uplink::~Uplink() = default;

void Uplink::Start() { outbox_.Start(); }
void Uplink::Stop() {
  outbox_.Stop();
  client_->Close();
}

Uplink::Prepared Uplink::PrepareMessage(Batch& batch, const api::sbi::UEMessageDelivery& m) {
  boost::json::object rec{{"path", kMessagePath}, {"body", api::sbi::Encode(m)}};
  std::string key = outbox_.Prepare(batch, rec);
  return {std::move(key), std::move(rec)};
}

Uplink::Prepared Uplink::PrepareReport(Batch& batch, const api::sbi::DeliveryStatusReport& r) {
  boost::json::object rec{{"path", kReportPath}, {"body", api::sbi::Encode(r)}};
  std::string key = outbox_.Prepare(batch, rec);
  return {std::move(key), std::move(rec)};
}

Uplink::Prepared Uplink::PrepareReportOn(Batch& batch, const api::sbi::Address& reporter,
                                         const api::sbi::Address& originator,
                                         const std::string& msg_id, bool delivered,
                                         std::optional<std::string> failure_cause) {
  api::sbi::DeliveryStatusReport r;
  r.oriAddr = reporter;
  r.destAddr = originator;
  r.msgId = msg_id;
  r.delivSt = delivered ? "REPT_DELY_SUCCESS" : "REPT_DELY_FAILED";
  r.failureCause = std::move(failure_cause);
  return PrepareReport(batch, r);
}

void Uplink::Send(Outbox::Job& job, Outbox::Finish finish) {
  const auto* path = job.rec.if_contains("path");
  const auto* body = job.rec.if_contains("body");
  if (path == nullptr || !path->is_string() || body == nullptr || !body->is_string()) {
    Outbox::Outcome o;
    o.kind = Outbox::Outcome::Kind::kFailed;
    o.cause = "malformed stored uplink item";
    return finish(std::move(o));
  }
  api::http::ClientRequest req;
  req.url = options_.api_root + std::string(path->as_string());
  req.headers.push_back({"content-type", "application/json"});
  req.body = std::string(body->as_string());
  auto send = [this, key = job.key, finish](api::http::ClientRequest r, std::string token) {
    if (!token.empty()) r.headers.push_back({"authorization", "Bearer " + token});
    client_->Send(std::move(r), [this, key, finish, token](Result<api::http::Response> res) {
      api::sbi::PeerAnswer a = api::sbi::ClassifyAnswer(res);
      Outbox::Outcome o;
      o.cause = a.detail;
      if (a.kind == api::sbi::PeerAnswer::Kind::kAccepted) {
        o.kind = Outbox::Outcome::Kind::kDone;
      } else if (a.kind == api::sbi::PeerAnswer::Kind::kTransient || a.status == 401) {
        // 401: our token was refused (expired early, keys rotated): a fresh one may pass.
        if (a.status == 401 && tokens_) tokens_->Invalidate(token);
        o.kind = Outbox::Outcome::Kind::kRetry;
        o.retry_after = a.retry_after;
        LOG_WARN_LIMITED("uplink", "msgin5gd did not take %s (will retry): %s", key.c_str(),
                         a.detail.c_str());
      } else {
        o.kind = Outbox::Outcome::Kind::kFailed;
        ++refused_;
        std::string detail = res.ok() ? res->body.substr(0, 300) : "";
        LOG_WARN_LIMITED("uplink", "msgin5gd refused %s for good, dropped: %s %s", key.c_str(),
                         a.detail.c_str(), detail.c_str());
      }
      finish(std::move(o));
    });
  };
  if (!tokens_) return send(std::move(req), "");
  tokens_->Get([send, req = std::move(req), finish](Result<std::string> token) mutable {
    if (!token.ok()) {
      Outbox::Outcome o;
      o.kind = Outbox::Outcome::Kind::kRetry;
      o.cause = "no OAuth2 token: " + token.status().message();
      return finish(std::move(o));
    }
    send(std::move(req), *token);
  });
}

}  // namespace msgin5g::gateway
