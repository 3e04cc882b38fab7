// The BG role (TS 23.554 8.6.1, clause 6.7 broadcast; TS 29.538 MSGG_BGDelivery): a message for a
// Broadcast Area goes to that area's broadcast mechanism. The mechanism this release provides is
// an MQTT topic per Broadcast Area ID (bg.topic, "msgin5g/bc/{areaId}"), published QoS 1 on the
// operator's broker, where the area's devices (or a cell-broadcast / MBS adaptor) subscribe. The
// body is BgMessageDelivery JSON (oriAddr, msgId, appId, payload, priority). The MSGG_BGDelivery
// API has no reports: msgin5gd reports the hand-over itself. The job is stored before the 204 and
// leaves after the broker's PUBACK.
//
// Threads: the core io_context.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "gateway/downlink.h"
#include "gateway/mqtt/mqtt_link.h"
#include "gateway/mqtt/topic_template.h"
#include "gateway/outbox.h"
#include "gateway/store.h"

namespace msgin5g::gateway::bg {

struct BgOptions {
  std::string topic = "msgin5g/bc/{areaId}";
  bool retain = false;  // a device that subscribes later gets the area's last broadcast
  Outbox::Options outbox;
};

class BgRole final : public Role {
 public:
  static Result<std::unique_ptr<BgRole>> Create(boost::asio::io_context& core, Store& store,
                                                mqtt::MqttLink& link, BgOptions options);
  void Start();  // on the core
  void Stop();
  void KickOutbox() { outbox_.Kick(); }

  const char* name() const override { return "bg"; }
  std::optional<api::http::Response> Admit(const Downlink& d) override;
  std::function<void()> Prepare(Batch& batch, const Downlink& d) override;

  const Outbox& outbox() const { return outbox_; }
  std::uint64_t published() const { return published_; }

 private:
  BgRole(boost::asio::io_context& core, Store& store, mqtt::MqttLink& link, BgOptions options,
         mqtt::TopicTemplate topic);
  mqtt::MqttLink& link_;
  BgOptions options_;
  mqtt::TopicTemplate topic_;
  Outbox outbox_;
  std::uint64_t published_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msgin5g::gateway::bg
