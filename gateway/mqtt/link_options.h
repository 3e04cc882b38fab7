// What an MqttLink is configured with, and the counters it reports.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
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
  // 0 (none) or 5..65535 s. A PINGREQ goes out every keepalive; a connection that brings
  // nothing in for 1.5 keepalives is dropped. Also bounds a TCP/TLS connect and CONNACK wait
  // (30 s when keepalive is 0).
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
  // later (it is resent after a reconnect until then), so the caller's retry can duplicate.
  std::chrono::milliseconds publish_timeout{10000};
  std::size_t max_in_flight = 1000;  // 1..65535 publishes awaiting their outcome
  std::size_t max_inbound_payload = 1024 * 1024;  // larger inbound messages are dropped
  // Inbound messages handed to OnMessage and not yet acknowledged; at this many the link stops
  // reading until Acks come (the executor's queue stays bounded).
  std::size_t max_inbound_unacked = 1000;
};

struct LinkStats {
  std::uint64_t connects = 0;          // CONNACKs accepted
  std::uint64_t disconnects = 0;       // losses of an accepted connection (Stop included)
  std::uint64_t connect_failures = 0;  // attempts that ended before an accepted CONNACK
  std::uint64_t published = 0;         // publishes accepted by Publish
  std::uint64_t puback = 0;            // their outcome: PUBACK (QoS 1), PUBCOMP (2), sent (0)
  std::uint64_t publish_timeouts = 0;  // no outcome within publish_timeout
  std::uint64_t publish_refused = 0;   // failed at once: not connected, full, bad arguments
  std::uint64_t messages_received = 0;  // inbound messages handed to OnMessage
  std::uint64_t dropped_oversize = 0;   // inbound payload above max_inbound_payload
  std::uint64_t dropped_invalid = 0;    // inbound topic outside our subscriptions
  std::uint64_t redelivered = 0;        // inbound messages with DUP set (sent before)
  std::uint64_t protocol_errors = 0;    // malformed or unexpected packets from the broker
};

// InvalidArgument naming the first option that MQTT would refuse.
Status ValidateLinkOptions(const LinkOptions& options);

}  // namespace msgin5g::gateway::mqtt
