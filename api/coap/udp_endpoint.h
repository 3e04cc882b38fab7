// CoAP over plain UDP (RFC 7252 §4, RFC 7959) without libcoap: msgin5gd's own datagram loop for
// `coap.listen`, so that the cost of a message does not grow with the number of UEs.
//
// libcoap 4.3.1 walks every session of an endpoint once per read call and once per new session
// (docs/coap.md, "Cost with many UEs"); with 100,000 awake UEs that walk was nearly all of the CPU.
// Here every step is a hash lookup or a heap operation: a peer is its address, datagrams are read
// and written in batches (recvmmsg / sendmmsg), duplicates are found in a bounded table keyed by
// (peer, Message ID), retransmissions wait in a timer heap. A peer costs nothing while no exchange
// with it is open. DTLS stays on libcoap.
//
// What it does of the protocol:
// - requests in: confirmable ones answered piggybacked (Exchange::Now) or as a separate response
//   (Exchange::Later: an empty ACK at once, then a confirmable response, retransmitted until the
//   peer acknowledges it); retransmitted requests get the same answer again without reaching the
//   handler; a large answer goes block-wise (Block2, the later blocks served from a copy);
//   Block1 requests reach the handler block by block (it answers 2.31 to each but the last);
// - requests out (Send): confirmable POST /msgin5g with a JSON body, block-wise (Block1) past one
//   block, retransmitted with exponential back-off, then reported as unanswered; the response may
//   be piggybacked or separate;
// - a malformed confirmable message, or a response nobody waits for, is answered with Reset; an
//   empty confirmable message (a CoAP ping) likewise.
//
// Single-threaded: every call on the thread that owns it (msgin5gd's coap-io thread).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/coap/wire.h"
#include "common/status.h"

namespace msgin5g::api::coap {

// A UDP peer: its address and port.
struct UdpPeer {
  sockaddr_storage addr{};
  socklen_t len = 0;
  // "coap://ip:port" ("coap://[ip6]:port"): the UE's endpoint as the broker stores it.
  std::string Endpoint() const;
  // The address and port in a few bytes, for hash keys.
  std::string Key() const;
};

struct UdpAnswer {
  std::uint8_t code = wire::kChanged;
  std::string body;       // JSON (Content-Format 50) when not empty
  int max_age = -1;       // Max-Age seconds (RFC 8516 for 5.03 / 4.29), -1: none
  std::optional<wire::Block> block1;  // echoed on answers to Block1 requests
};

class UdpEndpoint {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds ack_timeout{2000};
    int max_retransmit = 4;
    std::size_t block_size = 1024;  // Block1 / Block2 size
    // Duplicate detection: answers kept per (peer, Message ID) for EXCHANGE_LIFETIME, at most this
    // many (the oldest go first past it: a retransmission that late is then handled again).
    std::size_t max_remembered = 131072;
    std::size_t max_remembered_bytes = 16 << 20;  // and at most this many bytes of answers
    std::size_t max_block2_copies = 4096;  // large answers kept for their later blocks,
    std::size_t max_block2_bytes = 8 << 20;  // and at most this many bytes of them
    // Peers whose next Message ID is kept (RFC 7252 §4.4: no reuse towards one peer within
    // EXCHANGE_LIFETIME); a peer past it, or forgotten after EXCHANGE_LIFETIME, starts again at a
    // random one.
    std::size_t max_mid_peers = 262144;
    // Confirmable messages of ours waiting for an ACK, beyond which a separate response goes out
    // non-confirmable (no retransmission state kept): whoever floods us with requests from many
    // addresses cannot make us hold a retransmission per request. Our own requests (Send) are
    // bounded by the delivery engine (one outstanding per UE).
    std::size_t max_outstanding = 65536;
    // How long a request acknowledged empty waits for its separate response.
    std::chrono::milliseconds separate_timeout{30000};
  };

  // A request as it arrived.
  struct Request {
    const UdpPeer& peer;
    const std::string& endpoint;
    std::uint8_t code;            // 0.01..0.31 (POST is 0.02)
    std::string path;             // the Uri-Path segments joined with '/'
    std::optional<wire::Block> block1;
    bool bad_block1 = false;      // a Block1 option that does not decode
    std::uint16_t bad_option = 0;  // an unrecognised critical option (RFC 7252 §5.4.1), or 0
    std::string_view payload;
  };

  // How a request is answered: Now (during the handler call) or the function Later returns
  // (afterwards, any number of loop passes later, on the owning thread). One of the two, once.
  class Exchange {
   public:
    void Now(UdpAnswer a);
    std::function<void(UdpAnswer)> Later();

   private:
    friend class UdpEndpoint;
    Exchange(UdpEndpoint* ep, const UdpPeer* peer, const wire::Message* m)
        : ep_(ep), peer_(peer), m_(m) {}
    UdpEndpoint* ep_;
    const UdpPeer* peer_;
    const wire::Message* m_;
    bool answered_ = false, deferred_ = false;
  };
  using Handler = std::function<void(const Request&, Exchange&)>;

  // What became of a request we sent: its final response's code, or no answer (a Reset, or
  // every retransmission unanswered).
  struct Outcome {
    bool answered = false;
    std::uint8_t code = 0;
    bool reset = false;
    bool acked = false;  // unanswered, but the peer acknowledged it (it is awake)
  };
  using OutcomeFn = std::function<void(Outcome)>;

  UdpEndpoint(Options options, Handler handler);
  ~UdpEndpoint();
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;

  // Binds HOST:PORT (non-blocking socket). InvalidArgument / Unavailable.
  Status Open(const std::string& hostport);
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

  // Reads and handles up to `max_datagrams` waiting datagrams; true if the socket may hold more.
  bool ReadSome(std::size_t max_datagrams = 1024);
  // Retransmissions and expiries due by `now`; then sends what is queued.
  void RunTimers(Clock::time_point now);
  // When RunTimers has work next (Clock::time_point::max() when none).
  Clock::time_point NextDeadline() const;

  // Sends a confirmable POST /msgin5g with `body` (Content-Format JSON) to `peer`; `done` runs
  // once with the outcome (from ReadSome or RunTimers, never from inside Send).
  void Send(const UdpPeer& peer, std::string body, OutcomeFn done);
  // Requests sent and not yet finished, and answers remembered (for metrics and tests).
  std::size_t outstanding() const { return txs_.size(); }
  std::size_t remembered() const { return seen_.size(); }
  // What the bounded tables hold (answers for duplicates, large answers' copies, their orders).
  struct Usage {
    std::size_t remembered_bytes, copies, copy_bytes, order_entries, mid_peers;
  };
  Usage usage() const {
    return {seen_bytes_, block2_.size(), block2_bytes_,
            seen_order_.size() + block2_order_.size() + mids_order_.size(), mids_.size()};
  }

  // Drops every open exchange; the `done` of each unfinished Send runs with no answer.
  void Close();

 private:
  struct Seen {  // an inbound confirmable request, by (peer, Message ID)
    std::string answer;  // the datagram to send again on a duplicate (empty ACK while deferred)
    Clock::time_point expires;
    std::size_t request_hash = 0;  // a duplicate is the same datagram, not only the same ID
    int replays = 0;               // at most max_retransmit: no amplifier for spoofed floods
  };
  struct Tx {  // a confirmable message of ours waiting for its ACK (and for requests, a response)
    UdpPeer peer;
    std::string key;  // peer key + Message ID, in by_mid_
    std::uint16_t mid = 0;
    std::uint64_t token = 0;  // requests only (0: a separate response)
    std::string datagram;
    int retransmits = 0;
    Clock::time_point deadline;
    bool acked = false;  // an empty ACK came: the response follows separately
    std::string body;    // a block-wise request: the whole body
    std::uint32_t block = 0;       // the block in flight, in units of block_size
    std::uint32_t block_size = 0;  // ours, or the smaller one the peer asked for (RFC 7959 §2.5)
    OutcomeFn done;
  };

  void Handle(const UdpPeer& peer, std::string_view datagram);
  void HandleRequest(const UdpPeer& peer, const wire::Message& m);
  void HandleResponse(const UdpPeer& peer, const wire::Message& m);
  void HandleAckOrReset(const UdpPeer& peer, const wire::Message& m);
  void Answer(const UdpPeer& peer, const wire::Message& req, UdpAnswer a, bool separate);
  void Transmit(const UdpPeer& peer, std::string datagram);
  void Flush();
  std::uint64_t StartTx(Tx tx, wire::Builder b);
  void Arm(std::uint64_t id, Clock::time_point when);
  void Finish(std::uint64_t id, Outcome o);
  void SendBlock(std::uint64_t id);
  void Remember(const std::string& key, std::string answer, Clock::time_point now);
  void ExpireSeen(Clock::time_point now);
  void AckEmpty(const UdpPeer& peer, std::uint16_t mid);
  std::string Reset(std::uint16_t mid) const;
  std::uint16_t NextMid(const UdpPeer& peer);
  Clock::duration ExchangeLifetime() const;
  Clock::duration Timeout(int retransmits) const;

  Options options_;
  Handler handler_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::uint64_t next_token_;
  std::uint64_t next_tx_ = 1;

  std::unordered_map<std::string, Seen> seen_;
  std::deque<std::pair<Clock::time_point, std::string>> seen_order_;  // expiry, oldest first
  std::size_t seen_bytes_ = 0;
  std::size_t request_hash_ = 0;  // of the datagram being handled (Remember files it)
  struct PeerMid {
    std::uint16_t next;
    Clock::time_point expires;
  };
  std::unordered_map<std::string, PeerMid> mids_;  // by peer key
  std::deque<std::pair<Clock::time_point, std::string>> mids_order_;

  struct Copy {  // a large answer, for the peer's requests of its later blocks
    std::string body;
    std::uint8_t code = 0;
    Clock::time_point expires{};
  };
  std::unordered_map<std::string, Copy> block2_;  // by peer key
  std::deque<std::pair<Clock::time_point, std::string>> block2_order_;  // one per copy made
  std::size_t block2_bytes_ = 0;

  std::unordered_map<std::uint64_t, Tx> txs_;
  std::unordered_map<std::string, std::uint64_t> by_mid_;    // peer key + MID -> tx
  std::unordered_map<std::uint64_t, std::uint64_t> by_token_;  // token -> tx (requests)
  using Timer = std::pair<Clock::time_point, std::uint64_t>;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;  // lazily cleaned
  std::vector<std::pair<Outcome, OutcomeFn>> finished_;  // run after the current step

  std::vector<std::pair<UdpPeer, std::string>> out_;  // datagrams to send, until Flush
  std::vector<std::string> rbufs_;
};

}  // namespace msgin5g::api::coap
