// The delivery channel for application servers and message gateways, on the HTTP/2 client
// (connections per authority, reused and multiplexed; h2c or h2 over TLS by the URL's scheme).
//
// What goes where (docs/delivery.md):
//   AS       message -> POST {targetUri}/deliver-message  (UEMessageDelivery)
//            report  -> POST {targetUri}/deliver-report   (DeliveryStatusReport)
//   L3G/N3G  message -> POST {apiRoot}/msgg-l3gdelivery/v1/deliver-message (L3gMessageDelivery)
//            report  -> POST {apiRoot}/msgg-l3gdelivery/v1/deliver-report  (DeliveryStatusReport)
//            (msgg-n3gdelivery and N3gMessageDelivery alike)
//   BG       message -> POST {apiRoot}/msgg-bgdelivery/v1/deliver-message  (BgMessageDelivery)
//            reports: the API has none -> permanent failure
// The recipient is the destAddr (a GROUP/TOPIC message reaches each member with its own address).
// An AS targetUri that TargetUriPolicy refuses is a permanent failure, never sent.
// Answers: 2xx delivered; 408, 429, 5xx, connect errors and timeouts transient (Retry-After on
// 429/503 honoured); other statuses permanent. With outbound OAuth2 configured every request
// carries "Authorization: Bearer" (auth::OutboundTokens); a 401 then drops the token and counts
// as transient, so the retry goes out with a fresh one.
#pragma once

#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "api/auth/token_client.h"
#include "api/delivery/target_uri.h"
#include "api/http/h2_client.h"
#include "broker/delivery.h"

namespace msgin5g::api {

class HttpDeliveryChannel final : public broker::DeliveryChannel {
 public:
  // Runs the client on a thread of its own ("delivery-io").
  // `tokens`: outbound OAuth2 client credentials; nullopt: no Authorization header.
  // `targets`: an AS's targetUri is checked again before each delivery (a registration stored
  // before the check existed, or under laxer settings); one it refuses fails permanently, unsent.
  // nullptr: a TargetUriPolicy with private targets allowed and no listeners.
  explicit HttpDeliveryChannel(http::ClientOptions options,
                               std::optional<auth::OutboundTokenOptions> tokens = std::nullopt,
                               std::shared_ptr<const TargetUriPolicy> targets = nullptr);
  ~HttpDeliveryChannel() override;  // closes connections; pending callbacks get Unavailable

  void Deliver(const broker::Route& route, const broker::Outbound& out,
               std::function<void(broker::DeliveryResult)> done) override;

  // The request Deliver would send (for tests of the wire format).
  static http::ClientRequest BuildRequest(const broker::Route& route, const broker::Outbound& out,
                                          std::string* error);
  // The body an AS gets (UEMessageDelivery, or DeliveryStatusReport for a report); UEs over CoAP
  // get the same members.
  static std::string AsBody(const broker::Outbound& out);
  // How an answer is judged.
  static broker::DeliveryResult Classify(const Result<http::Response>& r);

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<http::H2Client> client_;
  std::unique_ptr<auth::OutboundTokens> tokens_;  // used on ioc_ only
  std::shared_ptr<const TargetUriPolicy> targets_;
  std::thread thread_;
};

}  // namespace msgin5g::api
