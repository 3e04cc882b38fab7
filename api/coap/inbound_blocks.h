// Reassembly of block-wise (RFC 7959 Block1) request bodies from UEs.
//
// Why our own: libcoap 4.3.1's "single body" mode reassembles Block1 itself, and it dereferences
// a null body when a transfer completes without any block having carried data (two datagrams:
// block 0 with the more-flag and no payload, then block 1 with no payload): a remote crash. We
// run libcoap in per-block mode instead (it still answers 2.31 Continue and tracks the exchange)
// and put the body together here, with rules a hostile peer cannot bend:
// - blocks arrive in order: a block must start where the body so far ends (a repeat of a block
//   already held is accepted and changes nothing); anything else is 4.08 Request Entity
//   Incomplete and the transfer is dropped;
// - a body never grows past `max_body_bytes` (4.13);
// - at most `max_transfers` open transfers in all (one per peer endpoint, as libcoap tracks
//   them), each forgotten after `idle_timeout` without a block: a flood of block 0s cannot grow
//   memory past max_transfers x max_body_bytes.
// Not thread-safe: the CoAP I/O thread owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace msgin5g::api::coap {

class InboundBlocks {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::size_t max_body_bytes = 65536;
    std::size_t max_transfers = 4096;
    std::chrono::milliseconds idle_timeout{30000};  // RFC 7252 EXCHANGE_LIFETIME is ~247 s
  };

  struct Step {
    enum class Kind {
      kComplete,  // `body` is the whole request body
      kContinue,  // more blocks to come: answer 2.31
      kRefused,   // answer `status` with `detail`; the transfer is dropped
    };
    Kind kind = Kind::kComplete;
    std::string body;
    int status = 0;  // CoAP code as HTTP-like number: 408, 413, 503
    std::string detail;
  };

  explicit InboundBlocks(Options options) : options_(options) {}

  // One block from `peer` (its endpoint): its byte `offset` in the body, whether more follow,
  // and its data. A request without a Block1 option is offset 0, more = false.
  Step Add(const std::string& peer, std::size_t offset, bool more, std::string_view data,
           Clock::time_point now);

  // Drops `peer`'s open transfer, if any (it deregistered, or its session is gone).
  void Forget(const std::string& peer);

  std::size_t open_transfers() const { return transfers_.size(); }

 private:
  struct Transfer {
    std::string body;
    Clock::time_point last;
    std::list<std::string>::iterator age;  // its place in `by_age_`
  };

  static Step Refuse(int status, std::string detail);
  void Expire(Clock::time_point now);

  Options options_;
  std::unordered_map<std::string, Transfer> transfers_;
  std::list<std::string> by_age_;  // peers, least recently used first
};

}  // namespace msgin5g::api::coap
