// An SMPP 3.4 ESME client: binds to one SMSC out of a failover list, submits short messages
// within a window and a rate, hands every deliver_sm (MO message or delivery receipt) to the
// caller, and keeps the bind alive (enquire_link, reconnect with backoff).
//
// Threading: everything runs on the caller's io_context. Call the API (except PostSubmit and
// stats()) only from that io_context's thread; every callback (Submit's done, OnDeliver's
// handler and its respond, OnState's handler) runs on it too, never from inside the API call
// that caused it (completions are posted), so a callback may call the API again.
// Lifetime: the io_context must outlive the session. Destroying the session stops it like
// Stop() but drops the completions still owed (they would call into a caller that is going
// away): call Stop() first to have them. Destroy it on the io thread or with the io_context
// not running.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "gateway/smpp/pdu.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace msgin5g::gateway::smpp {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// One connection in one mode. A transmitter + receiver pair is two sessions; the gateway uses
// one transceiver. A kReceiver session refuses Submit (kTransient "not bound as transmitter").
enum class BindMode { kTransceiver, kTransmitter, kReceiver };

struct EsmeOptions {
  // Tried in order: a failed connect or bind moves to the next one at once; after a whole
  // round fails, the next round waits for the backoff. A bind that held for bind_stable_after
  // makes its SMSC the first one tried again when it drops.
  std::vector<Endpoint> smsc;
  std::string system_id;    // max 15
  std::string password;     // max 8
  std::string system_type;  // max 12
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;  // max 40
  BindMode bind_mode = BindMode::kTransceiver;

  std::size_t window = 10;            // submit_sm sent and not yet answered, at most
  std::size_t max_queued = 10000;     // waiting for the window; beyond: kTransient "queue full"
  double max_submits_per_second = 0;  // 0: unlimited
  double submit_burst = 1;            // tokens the rate limiter can save up

  std::chrono::milliseconds enquire_link_interval{30000};
  std::chrono::milliseconds response_timeout{10000};  // per request (bind, submit, enquire_link)
  std::chrono::milliseconds connect_timeout{10000};   // resolve + TCP connect
  std::chrono::milliseconds reconnect_initial{1000};
  std::chrono::milliseconds reconnect_max{30000};
  std::chrono::milliseconds throttle_pause{1000};  // nothing submitted this long after RTHROTTLED
  std::chrono::milliseconds bind_stable_after{30000};
  std::chrono::milliseconds unbind_timeout{1000};  // Stop() waits this long for unbind_resp
};

struct SubmitResult {
  enum class Kind { kAccepted, kTransient, kPermanent };
  Kind kind = Kind::kTransient;
  std::string message_id;            // kAccepted: the SMSC's id, the key of its receipts
  std::uint32_t command_status = 0;  // the SMSC's status when it answered with one
  // kTransient/kPermanent: "throttled", "SMSC queue full", "timeout", "connection lost",
  // "not bound", "queue full", "stopped", "refused locally: ...", or the status name.
  std::string reason;
  // The submit_sm was written to an SMSC. With kTransient that means it may still have been
  // accepted (connection lost, timeout): a retry can deliver a duplicate.
  bool sent = false;
};

// Counters for the metrics exporter; atomics, so any thread may read them.
struct EsmeStats {
  std::atomic<std::uint64_t> connect_failures{0};  // resolve/connect failed or timed out
  std::atomic<std::uint64_t> binds_ok{0};
  std::atomic<std::uint64_t> binds_failed{0};  // refused, timed out or nacked
  std::atomic<std::uint64_t> reconnects{0};    // connection attempts after the first
  std::atomic<std::uint64_t> submits_sent{0};
  std::atomic<std::uint64_t> submits_accepted{0};
  std::atomic<std::uint64_t> submits_transient{0};  // every kTransient completion
  std::atomic<std::uint64_t> submits_permanent{0};
  std::atomic<std::uint64_t> submit_timeouts{0};
  std::atomic<std::uint64_t> throttled{0};  // ESME_RTHROTTLED answers
  std::atomic<std::uint64_t> enquire_links_sent{0};
  std::atomic<std::uint64_t> enquire_link_timeouts{0};
  std::atomic<std::uint64_t> deliver_sm_received{0};
  std::atomic<std::uint64_t> malformed_pdus_received{0};  // bad body or lost framing
  std::atomic<std::uint64_t> unknown_commands_received{0};
  std::atomic<std::uint64_t> generic_nacks_sent{0};
  std::atomic<std::uint64_t> generic_nacks_received{0};
};

class EsmeSession {
 public:
  using SubmitDone = std::function<void(SubmitResult)>;
  // Sends the deliver_sm_resp with this status. Call it once, on the io thread, whenever the
  // message is safe (at once, or after it is stored); later calls, and a call after the
  // connection it came on was lost, do nothing (the SMSC will deliver it again).
  using Respond = std::function<void(std::uint32_t command_status)>;
  using DeliverHandler = std::function<void(DeliverSm, Respond)>;
  // bound, and the SMSC as "host:port".
  using StateHandler = std::function<void(bool bound, std::string smsc)>;

  EsmeSession(boost::asio::io_context& io, EsmeOptions options);
  ~EsmeSession();
  EsmeSession(const EsmeSession&) = delete;
  EsmeSession& operator=(const EsmeSession&) = delete;

  // Starts connecting. Refuses options that cannot work (no SMSC, window 0, bind fields over
  // their maxima) and a second Start.
  Status Start();
  // Sends unbind if bound, waits up to unbind_timeout for unbind_resp, closes. Everything
  // outstanding or queued completes kTransient "stopped" at once. Final: no restart.
  void Stop();

  // Completes kTransient at once when not bound, kPermanent when the PDU is invalid (with the
  // status an SMSC would give), else queues it behind the window and the rate limiter.
  // Ownership of sequence numbers is the session's; pdu needs only its fields.
  void Submit(SubmitSm pdu, SubmitDone done);
  // Submit from any thread (posted to the io_context).
  void PostSubmit(SubmitSm pdu, SubmitDone done);

  // Without a handler every deliver_sm is answered ESME_RX_T_APPN (try later).
  void OnDeliver(DeliverHandler handler);
  void OnState(StateHandler handler);

  bool bound() const;
  std::size_t in_flight() const;  // submit_sm awaiting their resp (window in use)
  std::size_t queued() const;     // waiting for the window
  const EsmeStats& stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with its pending handlers
};

}  // namespace msgin5g::gateway::smpp
