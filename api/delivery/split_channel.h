// Sends each delivery to the transport of its route: UEs registered over MSGin5G-1 to the CoAP
// endpoint, ASs and gateways to HTTP/2. The CoAP endpoint needs the broker and the broker needs its
// channel, so the UE side is attached after both exist (SetUeChannel).
#pragma once

#include <atomic>

#include "broker/delivery.h"

namespace msgin5g::api {

class SplitDeliveryChannel final : public broker::DeliveryChannel {
 public:
  explicit SplitDeliveryChannel(broker::DeliveryChannel* http) : http_(http) {}
  void SetUeChannel(broker::DeliveryChannel* ue) { ue_.store(ue); }

  void Deliver(const broker::Route& route, const broker::Outbound& out,
               std::function<void(broker::DeliveryResult)> done) override {
    broker::DeliveryChannel* c = route.kind == broker::Route::Kind::kUe ? ue_.load() : http_;
    if (c == nullptr) {
      done({broker::DeliveryResult::Kind::kTransient, {},
            route.kind == broker::Route::Kind::kUe ? "the CoAP endpoint is off"
                                                   : "delivery over HTTP is off"});
      return;
    }
    c->Deliver(route, out, std::move(done));
  }

 private:
  broker::DeliveryChannel* http_;
  std::atomic<broker::DeliveryChannel*> ue_{nullptr};
};

}  // namespace msgin5g::api
