// MSGin5G-1: the CoAP (RFC 7252) endpoint UEs talk to, on libcoap 4.3.1, over UDP and DTLS-PSK.
// Wire format (docs/coap.md): every request is POST /msgin5g with a JSON body (Content-Format 50)
// whose "msgType" is REG, DEREG, MSG, IMDN, SEGREC or SEGCONFIR; members mirror TS 29.538
// (oriAddr, destAddr, msgId, payload, delivStReqInd, segParams, ...). Answers carry JSON too; errors
// a ProblemDetails with the CoAP code matching the SBI's HTTP status (4.00, 4.03, 4.04, 4.13, 5.03).
//
// It is also the DeliveryChannel for Route::kUe: the server sends a confirmable POST /msgin5g (MSG
// or IMDN) to the UE over the session of its last request (the NAT binding), with RFC 7252
// retransmission; the UE's 2.xx response (its MSGRESP) means delivered. A UE that never answers is
// reported to the broker as asleep; its messages wait until it is heard from again.
//
// Threads: libcoap 4.3.1 is not thread-safe, so every libcoap call runs on one thread ("coap-io"),
// which waits on libcoap's epoll fd and an eventfd; other threads (broker completions, the
// delivery engine) hand it work through a locked queue. Answers to requests that reach the broker
// are RFC 7252 separate responses (empty ACK first, the result after the fsync).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "broker/broker.h"
#include "broker/delivery.h"
#include "common/status.h"
#include "metrics/registry.h"

namespace msgin5g::api::coap {

struct CoapOptions {
  std::string listen = "127.0.0.1:5683";  // UDP (coap://); empty: off
  // UDP on libcoap instead of our own datagram loop (api/coap/udp_endpoint.h), whose cost per
  // message does not grow with the number of UEs (docs/coap.md).
  bool udp_libcoap = false;
  std::string dtls_listen;                // DTLS with PSK (coaps://); empty: off
  // DTLS-PSK keys by identity (the identity must be the UE Service ID the UE registers).
  std::function<bool(std::string_view identity, std::string* key)> psk_lookup;
  // DTLS with certificates (coaps://), on an endpoint of its own: libcoap 4.3.1's OpenSSL
  // flavour cannot serve PSK and certificates on one (docs/notes/libcoap-4.3.1.md §5). UE
  // certificates must chain to `dtls_ca_file`; their CN (or first subjectAltName) is the UE.
  std::string dtls_cert_listen;
  std::string dtls_cert_file, dtls_key_file, dtls_ca_file;
  // Segment recovery (SEGREC) for UE-originated segment sets that stall; 0 requests: off.
  std::chrono::milliseconds segment_recovery_after{5000};
  int segment_recovery_requests = 3;
  // How long a finished set is remembered (a late segment does not reopen it): the broker's
  // segment timeout.
  std::chrono::milliseconds segment_finished_memory{60000};
  // RFC 7252 transmission parameters for requests to UEs.
  std::chrono::milliseconds ack_timeout{2000};
  int max_retransmit = 4;
  std::size_t max_body_bytes = 65536;  // larger request bodies: 4.13
};

class CoapServer final : public broker::DeliveryChannel {
 public:
  CoapServer(CoapOptions options, broker::Broker& broker, metrics::Registry* metrics);
  ~CoapServer() override;  // Stop()

  // Binds the endpoints (InvalidArgument / Unavailable) and starts the I/O thread.
  Status Start();
  // Stops the I/O thread; pending deliveries fail as transient. Idempotent.
  void Stop();
  // Bound ports (0 when off), for --ready-file and tests.
  std::uint16_t udp_port() const;
  std::uint16_t dtls_port() const;
  std::uint16_t dtls_cert_port() const;

  void Deliver(const broker::Route& route, const broker::Outbound& out,
               std::function<void(broker::DeliveryResult)> done) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msgin5g::api::coap
