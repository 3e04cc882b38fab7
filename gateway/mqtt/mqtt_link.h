// An MQTT 3.1.1 client connection to the operator's broker, on Boost.Asio with our own packet
// codec (mqtt_packets.h): the N3G role's downlink publishes and uplink/report subscriptions, and
// the BG role's broadcast publishes.
//
// Inbound messages are acknowledged by the receiver, not by the link: OnMessage's handler gets
// an Ack to call once the message is safe (stored) or deliberately dropped, and only then does
// the broker get the PUBACK (PUBREC for QoS 2), in the order the messages came. A message whose
// Ack was not called when the connection drops is sent again by the broker on the next
// connection (persistent session): at least once, never lost by a crash of ours. (libmosquitto
// 2.0, used before, acknowledges before the application sees the message.)
//
// Threads: one I/O thread per link ("mqtt-io") runs the connection, the reconnect backoff, the
// keepalive and the publish timeouts. It never runs user code: every callback (Publish's done,
// OnMessage's and OnConnected's handlers) is posted to the executor given to the constructor,
// never called from inside the API call. Every error means "reconnect after the backoff".
// Publish, an Ack, connected() and stats() may be called from any thread. Set the handlers
// before Start(). Start/Stop/the destructor must not run concurrently with each other; they
// block (Stop joins the I/O thread), but never wait for the executor, so they may run on it.
// Lifetime: the executor must outlive the link or be stopped first. Once the destructor has
// started, OnMessage/OnConnected deliveries still queued on the executor are dropped; Publish's
// done is always called exactly once (unless the executor is destroyed with it queued).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "gateway/mqtt/link_options.h"

namespace msgin5g::gateway::mqtt {

class MqttLink {
 public:
  // Given with each inbound message; call it once, from any thread. A call after the
  // connection the message came on is gone does nothing (the broker sends the message again).
  class Ack {
   public:
    Ack() = default;
    explicit Ack(std::function<void(bool stored, std::string_view why)> fn) : fn_(std::move(fn)) {}
    // Stored, or dropped on purpose: the broker may let go of it.
    void operator()() const {
      if (fn_) fn_(true, {});
    }
    // Could not be stored: the link drops the connection (and connects again after the
    // backoff), so the broker sends this message and the ones after it again.
    void Fail(std::string_view why) const {
      if (fn_) fn_(false, why);
    }

   private:
    std::function<void(bool, std::string_view)> fn_;
  };
  // At most LinkOptions::max_inbound_unacked messages wait for their Ack; beyond that the link
  // stops reading from the broker until Acks come.
  using MessageHandler = std::function<void(std::string topic, std::string payload, Ack ack)>;
  // up = true once connected and every subscription is acknowledged (SUBACK); false when a
  // connection that was announced up is lost or stopped. Repeats on every reconnect. A refused
  // subscription is logged and counts as acknowledged.
  using ConnectedHandler = std::function<void(bool up)>;
  using Done = std::function<void(Status)>;

  MqttLink(boost::asio::any_io_executor executor, LinkOptions options);
  ~MqttLink();  // Stop()s
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  void OnMessage(MessageHandler handler);
  void OnConnected(ConnectedHandler handler);

  // Validates the options and starts connecting; returns at once (the broker may be down: the
  // link keeps retrying). InvalidArgument for bad options, Conflict when already started.
  // Start after Stop is allowed and resumes the persistent session (same client_id).
  Status Start();
  // Sends DISCONNECT (waits up to 1 s for it to go out), joins the I/O thread; every pending
  // publish completes with Unavailable (the caller retries those).
  void Stop();

  // Sends `payload` to `topic` (a concrete topic: no wildcards). done(Ok) when the broker has
  // taken responsibility for the message: PUBACK for QoS 1, PUBCOMP for QoS 2, written to the
  // socket for QoS 0. While not connected (or stopped), done(Unavailable) at once: the caller's
  // durable outbox retries, and nothing piles up in libmosquitto's memory. done(Unavailable)
  // also when publish_timeout passes without the outcome, or Stop() comes first.
  // ResourceExhausted when max_in_flight publishes are pending; InvalidArgument for a bad
  // topic or qos; PayloadTooLarge above MQTT's 256 MiB.
  void Publish(std::string topic, std::string payload, int qos, bool retain, Done done);

  // Connected to the broker (CONNACK accepted); publishing is possible. May be true shortly
  // before OnConnected(true), which also waits for the SUBACKs.
  bool connected() const;
  LinkStats stats() const;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace msgin5g::gateway::mqtt
