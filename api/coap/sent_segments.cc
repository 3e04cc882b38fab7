#include "api/coap/sent_segments.h"

namespace msgin5g::api::coap {

void SentSegments::Sent(const std::string& ue, const std::string& seg_id, std::uint32_t number,
                        std::string body, Clock::time_point now) {
  if (body.size() > options_.max_bytes) return;
  Key key{ue, seg_id};
  Set& s = sets_[key];
  auto [it, fresh] = s.bodies.try_emplace(number);
  if (!fresh) {
    s.bytes -= it->second.size();
    bytes_ -= it->second.size();
  }
  s.bytes += body.size();
  bytes_ += body.size();
  it->second = std::move(body);
  s.last_sent = now;
  s.generation = next_generation_++;
  order_.emplace_back(std::move(key), s.generation);
  if (order_.size() > 2 * sets_.size() + 1024) Compact();
  Trim(now);
}

void SentSegments::Compact() {
  // Only the newest entry of each set counts; the rest are dropped so that a long-lived set at
  // the front cannot let the deque grow with every segment sent behind it.
  std::deque<std::pair<Key, std::uint64_t>> kept;
  for (auto& entry : order_) {
    auto it = sets_.find(entry.first);
    if (it != sets_.end() && it->second.generation == entry.second) kept.push_back(std::move(entry));
  }
  order_.swap(kept);
}

const std::string* SentSegments::Find(const std::string& ue, const std::string& seg_id,
                                      std::uint32_t number) const {
  auto it = sets_.find(Key{ue, seg_id});
  if (it == sets_.end()) return nullptr;
  auto b = it->second.bodies.find(number);
  return b == it->second.bodies.end() ? nullptr : &b->second;
}

void SentSegments::Forget(const std::string& ue, const std::string& seg_id) {
  auto it = sets_.find(Key{ue, seg_id});
  if (it != sets_.end()) Erase(it);
}

void SentSegments::Trim(Clock::time_point now) {
  while (!order_.empty()) {
    auto& [key, generation] = order_.front();
    auto it = sets_.find(key);
    if (it == sets_.end() || it->second.generation != generation) {
      order_.pop_front();  // stale: the set went, or was sent to again later
      continue;
    }
    if (bytes_ <= options_.max_bytes && now - it->second.last_sent < options_.keep_for) break;
    Erase(it);
    order_.pop_front();
  }
}

void SentSegments::Erase(std::map<Key, Set>::iterator it) {
  bytes_ -= it->second.bytes;
  sets_.erase(it);
}

}  // namespace msgin5g::api::coap
