// What the delivery engine hands to the transports. The broker decides what goes where and when;
// a DeliveryChannel (implemented in api/ on the HTTP/2 client, later CoAP) only moves one request
// and classifies the answer. The broker knows no HTTP: a route names a base URL and a kind.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "broker/types.h"
#include "storage/records.h"

namespace msgin5g::broker {

// TS 29.538 message gateways (MSGin5G-2 / -4): Legacy 3GPP (SMS), non-3GPP, broadcast.
enum class GatewayKind { kL3g, kN3g, kBg };

inline const char* GatewayKindName(GatewayKind k) {
  switch (k) {
    case GatewayKind::kL3g: return "l3g";
    case GatewayKind::kN3g: return "n3g";
    case GatewayKind::kBg: return "bg";
  }
  return "?";
}

struct GatewayInfo {
  std::string name;      // what routing rules and broker.broadcast_gateway refer to
  GatewayKind kind = GatewayKind::kL3g;
  std::string api_root;  // e.g. https://l3g.example.net (the service path is added by the channel)
  // Payloads larger than this go out as segments (segInd/segParams). 0: never segment.
  std::size_t max_segment_bytes = 0;
  // kBg only: the Broadcast Area IDs (globs) this gateway serves. A BC message goes to the first
  // bg gateway (in configuration order) with a matching pattern, else to broker.broadcast_gateway.
  std::vector<std::string> areas;
};

// Where a recipient's messages go right now.
struct Route {
  // kUe: a UE registered over MSGin5G-1 (CoAP); `base` is its endpoint ("coap://ip:port").
  enum class Kind { kAs, kGateway, kUe };
  Kind kind = Kind::kAs;
  GatewayKind gateway = GatewayKind::kL3g;  // kGateway only
  std::string base;                         // AS targetUri, or the gateway's apiRoot
  std::size_t max_segment_bytes = 0;
  // Identifies the destination for fairness, in-flight limits and the circuit breaker.
  std::string Key() const { return std::string(ChannelName()) + " " + base; }
  const char* ChannelName() const {
    return kind == Kind::kAs ? "as" : kind == Kind::kUe ? "ue" : GatewayKindName(gateway);
  }
};

// One request to send: a message (or a delivery status report, by message->kind) for one
// recipient, whole or one segment of it.
struct Outbound {
  std::shared_ptr<const storage::MessageRecord> message;
  Address recipient;
  std::string_view payload;  // the whole payload or this segment's part (points into message)
  std::optional<SegmentInfo> segment;
};

struct DeliveryResult {
  enum class Kind {
    kDelivered,  // the peer took it (2xx)
    kTransient,  // try again later: connect error, timeout, 5xx, 408, 429
    kPermanent,  // the peer refused it for good: other 4xx
    kRequeue,    // not an attempt: the route moved under it (a UE woke up elsewhere); send again
                 // at once, ahead of its priority class, without counting or storing anything
  };
  Kind kind = Kind::kDelivered;
  std::chrono::milliseconds retry_after{0};  // from Retry-After on 429/503; 0: none
  std::string detail;                        // for logs and failure reports
};

class DeliveryChannel {
 public:
  virtual ~DeliveryChannel() = default;
  // Sends `out` along `route`; `done` runs exactly once, on any thread, and must not block.
  // `out.message` stays alive until then.
  virtual void Deliver(const Route& route, const Outbound& out,
                       std::function<void(DeliveryResult)> done) = 0;
};

}  // namespace msgin5g::broker
