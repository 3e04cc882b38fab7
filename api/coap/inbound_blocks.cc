#include "api/coap/inbound_blocks.h"

#include <utility>

namespace msgin5g::api::coap {

InboundBlocks::Step InboundBlocks::Refuse(int status, std::string detail) {
  Step s;
  s.kind = Step::Kind::kRefused;
  s.status = status;
  s.detail = std::move(detail);
  return s;
}

void InboundBlocks::Expire(Clock::time_point now) {
  while (!by_age_.empty()) {
    auto it = transfers_.find(by_age_.front());
    if (it != transfers_.end() && now - it->second.last < options_.idle_timeout) return;
    if (it != transfers_.end()) transfers_.erase(it);
    by_age_.pop_front();
  }
}

void InboundBlocks::Forget(const std::string& peer) {
  auto it = transfers_.find(peer);
  if (it == transfers_.end()) return;
  by_age_.erase(it->second.age);
  transfers_.erase(it);
}

InboundBlocks::Step InboundBlocks::Add(const std::string& peer, std::size_t offset, bool more,
                                       std::string_view data, Clock::time_point now) {
  Expire(now);
  const std::string too_large = "body over " + std::to_string(options_.max_body_bytes) + " bytes";
  auto it = transfers_.find(peer);
  if (offset == 0 && !more) {  // a body in one piece (or block 0 that says it is the last)
    Forget(peer);
    if (data.size() > options_.max_body_bytes) return Refuse(413, too_large);
    Step s;
    s.body.assign(data);
    return s;
  }
  if (offset == 0) {  // block 0 of several starts (or restarts) this peer's transfer
    Forget(peer);
    if (data.size() > options_.max_body_bytes) return Refuse(413, too_large);
    if (transfers_.size() >= options_.max_transfers) {
      return Refuse(503, "too many block-wise transfers in progress: try again later");
    }
    by_age_.push_back(peer);
    Transfer t{std::string(data), now, std::prev(by_age_.end())};
    transfers_.emplace(peer, std::move(t));
    return Step{Step::Kind::kContinue, {}, 0, {}};
  }
  if (it == transfers_.end()) {
    return Refuse(408, "block at byte " + std::to_string(offset) +
                           " of a transfer that was not started with block 0 (or has expired)");
  }
  Transfer& t = it->second;
  if (offset < t.body.size()) {
    // A retransmitted block we already hold: accepted if it is the same bytes, else the
    // transfer is inconsistent.
    if (offset + data.size() <= t.body.size() &&
        std::string_view(t.body).substr(offset, data.size()) == data && more) {
      t.last = now;
      return Step{Step::Kind::kContinue, {}, 0, {}};
    }
    const std::size_t have = t.body.size();
    Forget(peer);
    return Refuse(408, "block at byte " + std::to_string(offset) + " overlaps the " +
                           std::to_string(have) + " bytes received with other content");
  }
  if (offset > t.body.size()) {
    const std::size_t have = t.body.size();
    Forget(peer);
    return Refuse(408, "block at byte " + std::to_string(offset) + " but only " +
                           std::to_string(have) + " bytes received: a block is missing");
  }
  if (t.body.size() + data.size() > options_.max_body_bytes) {
    Forget(peer);
    return Refuse(413, too_large);
  }
  t.body.append(data);
  t.last = now;
  by_age_.splice(by_age_.end(), by_age_, t.age);
  if (more) return Step{Step::Kind::kContinue, {}, 0, {}};
  Step s;
  s.body = std::move(t.body);
  Forget(peer);
  return s;
}

}  // namespace msgin5g::api::coap
