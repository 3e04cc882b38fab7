// The gateway as a consumer of msgin5gd's MSGS_MSGDelivery: messages from legacy / non-3GPP UEs
// (POST {server.api_root}/msgs-msgdelivery/v1/deliver-ue-message, UEMessageDelivery) and delivery
// status reports (POST .../deliver-report, DeliveryStatusReport), over HTTP/2 (h2c or TLS) with an
// OAuth2 client-credentials token when configured.
//
// Every item is first stored in the "uplink" Outbox (in the same batch as whatever made it: an MO
// SMS, a receipt), so nothing the gateway acknowledged to an SMSC or MQTT broker is lost by a
// crash; it is sent until msgin5gd answers 2xx (retrying transient answers with backoff, honouring
// Retry-After), or dropped, logged and counted when msgin5gd refuses it for good (4xx): such an
// item can never be accepted.
//
// Threads: the io_context given at construction (the H2Client and the Outbox run there).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/auth/token_client.h"
#include "api/http/h2_client.h"
#include "api/sbi/models.h"
#include "gateway/outbox.h"

namespace msgin5g::gateway {

class Uplink {
 public:
  struct Options {
    std::string api_root;  // http(s)://host:port[/root]
    api::http::ClientOptions client;
    std::optional<api::auth::OutboundTokenOptions> tokens;
    Outbox::Options outbox;
  };
  struct Prepared {
    std::string key;
    boost::json::object rec;
  };

  Uplink(boost::asio::io_context& ioc, Store& store, Options options);
  ~Uplink();
  void Start();
  void Stop();

  // Adds the item to `batch`; after the batch is durable call Adopt (on the io_context).
  Prepared PrepareMessage(Batch& batch, const api::sbi::UEMessageDelivery& m);
  Prepared PrepareReport(Batch& batch, const api::sbi::DeliveryStatusReport& r);
  // The report on a message: `reporter` (its recipient) tells `originator` about `msg_id`.
  Prepared PrepareReportOn(Batch& batch, const api::sbi::Address& reporter,
                           const api::sbi::Address& originator, const std::string& msg_id,
                           bool delivered, std::optional<std::string> failure_cause = {});
  void Adopt(Prepared p) { outbox_.Adopt(p.key, std::move(p.rec)); }

  const Outbox& outbox() const { return outbox_; }
  std::uint64_t refused() const { return refused_; }

 private:
  void Send(Outbox::Job& job, Outbox::Finish finish);

  boost::asio::io_context& ioc_;
  Options options_;
  std::unique_ptr<api::http::H2Client> client_;
  std::unique_ptr<api::auth::OutboundTokens> tokens_;
  Outbox outbox_;
  std::uint64_t refused_ = 0;
};

}  // namespace msgin5g::gateway
