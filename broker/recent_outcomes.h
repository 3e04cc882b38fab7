// RecentOutcomes: the answers given to the most recent (origin, msgId) pairs, so that a client's
// retry of an acknowledged message is answered on the I/O thread without a trip through storage.
//
// Safe because an answer never changes once given (idempotency: the first answer stands) and an
// entry is added only after the batch that recorded it is durable. Bounded: a fixed number of
// entries per shard, oldest evicted first; a miss simply takes the normal path. Thread-safe.
#pragma once

#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "broker/types.h"

namespace msgin5g::broker {

class RecentOutcomes {
 public:
  explicit RecentOutcomes(std::size_t capacity = 65536) : per_shard_(capacity / kShards + 1) {}

  std::optional<AcceptOutcome> Find(const Address& origin, const std::string& msg_id) {
    std::string key = Key(origin, msg_id);
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }

  void Add(const Address& origin, const std::string& msg_id, const AcceptOutcome& outcome) {
    std::string key = Key(origin, msg_id);
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.map.emplace(key, outcome).second) return;
    s.order.push_back(std::move(key));
    if (s.order.size() > per_shard_) {
      s.map.erase(s.order.front());
      s.order.pop_front();
    }
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, AcceptOutcome> map;
    std::deque<std::string> order;
  };
  static std::string Key(const Address& origin, const std::string& msg_id) {
    std::string k;
    k.reserve(origin.id.size() + msg_id.size() + 2);
    k.push_back(static_cast<char>(origin.type));
    k.append(origin.id);
    k.push_back('\0');  // ids carry no control characters (checked by the API)
    k.append(msg_id);
    return k;
  }
  Shard& ShardFor(const std::string& key) { return shards_[std::hash<std::string>()(key) % kShards]; }

  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace msgin5g::broker
