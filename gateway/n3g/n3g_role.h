// The N3G role (TS 23.554 8.7.1.5, 8.7.2.3, 8.7.3.3; TS 29.538 MSGG_N3GDelivery): MSGin5G
// messages to non-3GPP devices over MQTT through the operator's broker, and theirs back.
//
// Downlink. deliver-message to UE X becomes a job in the "mqtt" Outbox; it is published QoS 1 to
// n3g.down_topic with {ueSvcId} = X (the UE id may not contain '/', '+', '#': it could otherwise
// reach another device's topic) as UEMessageDelivery JSON, the body an AS would get. PUBACK is
// the outcome: the broker took responsibility (a broker-level outcome, not the device's). With
// delivStReqInd, the report is synthesized from the PUBACK (REPT_DELY_SUCCESS), unless
// n3g.device_reports is on: then the device's own report on n3g.report_topic is relayed
// ({"msgId","delivSt"[,"failureCause"]}), or REPT_DELY_FAILED "NO_DEVICE_REPORT" after
// n3g.report_timeout_s. deliver-report for a device is published to its down topic as
// DeliveryStatusReport JSON.
//
// Uplink. Messages on n3g.up_topic (subscribed with '+' for the UE) go to msgin5gd as
// deliver-ue-message from UE {ueSvcId}: a JSON object {"payload", optional "destAddr", "msgId",
// "appId", "delivStReqInd"}, or any other UTF-8 text as the payload itself. Without destAddr: the
// AS or UE that last messaged the device (the messaging transaction, n3g.transaction_ttl_s), else
// n3g.mo_default_destination, else dropped and counted. Which device may publish on which topic
// is the broker's ACL: the gateway trusts the topic.
//
// At least once both ways: an inbound message is PUBACKed only once it is stored (the link's
// Ack), and a downlink job is stored before msgin5gd gets 204 and leaves only after PUBACK.
//
// Threads: the core io_context (the link posts its callbacks there).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/downlink.h"
#include "gateway/mqtt/mqtt_link.h"
#include "gateway/mqtt/topic_template.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "gateway/uplink.h"

namespace msgin5g::gateway::n3g {

struct N3gOptions {
  std::string down_topic = "msgin5g/{ueSvcId}/down";
  std::string up_topic = "msgin5g/{ueSvcId}/up";
  std::string report_topic = "msgin5g/{ueSvcId}/report";
  bool device_reports = false;
  std::chrono::seconds report_timeout{3600};
  std::chrono::seconds transaction_ttl{86400};
  std::string mo_default_destination;  // AS Service ID; empty: drop
  Outbox::Options outbox;
};

struct N3gStats {
  std::uint64_t published = 0, publish_failed = 0, reports_success = 0, reports_failed = 0,
                device_reports = 0, device_reports_unmatched = 0, report_timeouts = 0;
  std::uint64_t up_messages = 0, up_malformed = 0, up_unroutable = 0, up_store_errors = 0;
};

class N3gRole final : public Role {
 public:
  // The topic templates were parsed by Create; the link's subscriptions must include the up and
  // (with device_reports) report filters: Subscriptions() says which.
  static Result<std::unique_ptr<N3gRole>> Create(boost::asio::io_context& core, Store& store,
                                                 Uplink& uplink, mqtt::MqttLink& link,
                                                 N3gOptions options);
  static Result<std::vector<mqtt::Subscription>> Subscriptions(const N3gOptions& options);
  ~N3gRole() override;

  void Start();  // on the core, before the link starts
  void Stop();
  void KickOutbox() { outbox_.Kick(); }

  const char* name() const override { return "n3g"; }
  std::optional<api::http::Response> Admit(const Downlink& d) override;
  std::function<void()> Prepare(Batch& batch, const Downlink& d) override;
  // Inbound MQTT messages (the link's OnMessage, on the core): up and report topics. `ack` is
  // called once the message is in the store (or dropped as malformed or unroutable), so the
  // broker's copy is released only then; a failed store write calls ack.Fail (the link
  // reconnects and the broker sends it again). Returns false, leaving `ack` to the caller, when
  // the topic is neither (another role's).
  bool OnMessage(const std::string& topic, const std::string& payload, const mqtt::MqttLink::Ack& ack);

  const N3gStats& stats() const { return stats_; }
  const Outbox& outbox() const { return outbox_; }

 private:
  N3gRole(boost::asio::io_context& core, Store& store, Uplink& uplink, mqtt::MqttLink& link,
          N3gOptions options, mqtt::TopicTemplate down, mqtt::TopicTemplate up,
          mqtt::TopicTemplate report);
  void Run(Outbox::Job& job, Outbox::Finish finish);
  void OnUp(const std::string& ue, const std::string& payload, const mqtt::MqttLink::Ack& ack);
  void OnDeviceReport(const std::string& ue, const std::string& payload,
                      const mqtt::MqttLink::Ack& ack);
  void Sweep();

  boost::asio::io_context& core_;
  Store& store_;
  Uplink& uplink_;
  mqtt::MqttLink& link_;
  N3gOptions options_;
  mqtt::TopicTemplate down_, up_, report_;
  Outbox outbox_;
  boost::asio::steady_timer sweep_timer_;
  N3gStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msgin5g::gateway::n3g
