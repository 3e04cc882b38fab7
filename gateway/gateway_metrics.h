// The gateway's Prometheus metrics (msgin5g_gateway_*). The counters live in the modules (plain
// counters on the core thread, atomics in the SMPP session); once a second, on the core, their
// changes are copied into prometheus-cpp families, so a scrape can be up to a second behind.
// Labels are bounded: role, outcome, state, outbox — never a UE, MSISDN or message id.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "metrics/registry.h"

namespace msgin5g::gateway {

class Store;
class Uplink;
class DownlinkIntake;
namespace l3g {
class SmsRole;
}
namespace smpp {
class EsmeSession;
}
namespace n3g {
class N3gRole;
}
namespace bg {
class BgRole;
}
namespace mqtt {
class MqttLink;
}

class GatewayMetrics {
 public:
  struct Sources {
    Store* store = nullptr;
    Uplink* uplink = nullptr;
    DownlinkIntake* intake = nullptr;
    l3g::SmsRole* sms = nullptr;         // null: L3G off
    smpp::EsmeSession* esme = nullptr;   // null: L3G off
    n3g::N3gRole* n3g = nullptr;         // null: N3G off
    bg::BgRole* bg = nullptr;            // null: BG off
    mqtt::MqttLink* mqtt = nullptr;      // null: neither N3G nor BG
  };
  GatewayMetrics(metrics::Registry& registry, boost::asio::io_context& core, Sources sources);
  ~GatewayMetrics();

  void Start();  // on the core
  void Stop();   // on the core
  void SetSmsc(bool bound, const std::string& smsc);  // on the core
  const std::string& current_smsc() const { return smsc_; }
  // The submit_sm -> submit_sm_resp latency of one accepted part (any thread).
  void ObserveSubmit(double seconds);

 private:
  void Refresh();
  // Adds to `c` what `now` grew by since the last refresh.
  void Bump(prometheus::Counter& c, std::uint64_t now);

  boost::asio::io_context& core_;
  Sources src_;
  boost::asio::steady_timer timer_;
  std::map<prometheus::Counter*, std::uint64_t> last_;
  std::string smsc_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  prometheus::Family<prometheus::Gauge>& role_;
  prometheus::Gauge& smsc_bound_;
  prometheus::Gauge& window_in_use_;
  prometheus::Gauge& smpp_queued_;
  prometheus::Family<prometheus::Gauge>& outbox_jobs_;
  prometheus::Family<prometheus::Counter>& outbox_replayed_;
  prometheus::Family<prometheus::Counter>& parts_;
  prometheus::Counter& possible_duplicates_;
  prometheus::Family<prometheus::Counter>& receipts_;
  prometheus::Family<prometheus::Counter>& reports_;
  prometheus::Family<prometheus::Counter>& mo_;
  prometheus::Family<prometheus::Counter>& downlink_;
  prometheus::Family<prometheus::Counter>& uplink_;
  prometheus::Family<prometheus::Counter>& smpp_;
  prometheus::Gauge& receipt_groups_;
  prometheus::Gauge& segment_sets_;
  prometheus::Counter& store_bytes_;
  prometheus::Counter& store_syncs_;
  prometheus::Histogram& submit_latency_;
  prometheus::Gauge& mqtt_connected_;
  prometheus::Family<prometheus::Counter>& mqtt_;
  prometheus::Family<prometheus::Counter>& n3g_;
};

}  // namespace msgin5g::gateway
