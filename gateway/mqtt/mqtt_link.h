// An MQTT 3.1.1 client connection to the operator's broker, on libmosquitto 2.0: the N3G role's
// downlink publishes and uplink/report subscriptions, and the BG role's broadcast publishes.
//
// Threads: one I/O thread per link ("mqtt-io") runs libmosquitto's loop (mosquitto_loop, in
// libmosquitto's threaded mode), its callbacks, the reconnect backoff and the publish timeouts.
// It never runs user code: every callback (Publish's done, OnMessage's and OnConnected's
// handlers) is posted to the executor given to the constructor, never called from inside the
// API call. (Not mosquitto_loop_start: its mosquitto_loop_forever gives up for good after a
// TLS or protocol error, e.g. a failed first TLS handshake, without telling anyone; this loop
// treats every error as "reconnect after the backoff".)
// Publish, connected() and stats() may be called from any thread. Set the handlers before
// Start(). Start/Stop/the destructor must not run concurrently with each other; they block
// (Stop joins the I/O thread), but never wait for the executor, so they may run on it.
// Lifetime: the executor must outlive the link or be stopped first. Once the destructor has
// started, OnMessage/OnConnected deliveries still queued on the executor are dropped; Publish's
// done is always called exactly once (unless the executor is destroyed with it queued).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway::mqtt {

struct Subscription {
  std::string filter;  // e.g. "msgin5g/+/up"
  int qos = 1;
};

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;    // the broker's CA (PEM); empty: OpenSSL's default trust store
  std::string cert_file;  // client certificate (PEM), with key_file; empty: none
  std::string key_file;
  bool insecure = false;  // true skips the broker host name check (test brokers only)
};

struct LinkOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  // Required when clean_session is false: the broker keys the persistent session by it.
  std::string client_id;
  // false: a persistent session, so QoS 1 messages for our subscriptions that arrive while we
  // are disconnected (or stopped) are queued by the broker and delivered when we come back.
  bool clean_session = false;
  // 0 (none) or 5..65535 s. Also bounds a TCP/TLS connect that never completes (libmosquitto
  // drops a connection without a CONNACK after keepalive seconds).
  std::chrono::seconds keepalive{30};
  std::string username;                // empty: no credentials sent
  std::string password;
  TlsOptions tls;
  // After a failed connect or a lost connection the next attempt waits min, doubling up to max
  // (each delay jittered to [d/2, d] so gateways do not stampede a restarted broker). Back to
  // min after an accepted CONNACK.
  std::chrono::milliseconds reconnect_delay_min{1000};
  std::chrono::milliseconds reconnect_delay_max{30000};
  // (Re)issued after every CONNACK; inbound messages matching none of them are dropped.
  std::vector<Subscription> subscriptions;
  // No PUBACK within this long: done(Unavailable). The message may still reach the broker
  // later (libmosquitto resends it after a reconnect), so the caller's retry can duplicate.
  std::chrono::milliseconds publish_timeout{10000};
  std::size_t max_in_flight = 1000;  // 1..65535 publishes awaiting their outcome
  std::size_t max_inbound_payload = 1024 * 1024;  // larger inbound messages are dropped
};

struct LinkStats {
  std::uint64_t connects = 0;          // CONNACKs accepted
  std::uint64_t disconnects = 0;       // losses of an accepted connection (Stop included)
  std::uint64_t connect_failures = 0;  // attempts that ended before an accepted CONNACK
  std::uint64_t published = 0;         // publishes handed to libmosquitto
  std::uint64_t puback = 0;            // their outcome: PUBACK (QoS 1), PUBCOMP (2), sent (0)
  std::uint64_t publish_timeouts = 0;  // no outcome within publish_timeout
  std::uint64_t publish_refused = 0;   // failed at once: not connected, full, bad arguments
  std::uint64_t messages_received = 0;  // inbound messages handed to OnMessage
  std::uint64_t dropped_oversize = 0;   // inbound payload above max_inbound_payload
  std::uint64_t dropped_invalid = 0;    // inbound topic outside our subscriptions
};

class MqttLink {
 public:
  using MessageHandler = std::function<void(std::string topic, std::string payload)>;
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
  // publish completes with Unavailable.
  // libmosquitto's copies of unacknowledged messages are dropped (the caller retries those).
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
