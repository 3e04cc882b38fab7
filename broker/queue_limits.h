// Bounds on what the broker holds (docs/limits.md): queued entries and their payload bytes in all
// and per recipient, UE and AS registrations. QueueUsage counts queued entries per recipient; it
// is changed by the store's writer thread only (the broker takes a lock around changes and
// around the admin queue list), filled from every queue entry at recovery, so a restart does not
// reset the counts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/records.h"

namespace msgin5g::broker {

struct QueueLimits {
  // Queue entries (one per recipient of a message or report) and the payload bytes they
  // reference, in all: past either, a message or report gets 503 NF_CONGESTION + Retry-After.
  std::uint64_t max_queued_messages = 10'000'000;
  std::uint64_t max_queued_bytes = 8ull << 30;
  // Per recipient that is not an AS (UE, group member, topic subscriber, BC): past either, that
  // recipient is not queued (DELY_FAILED with a queue-full failureCause when it was the only one).
  std::uint64_t max_queued_messages_per_recipient = 1000;
  std::uint64_t max_queued_bytes_per_recipient = 8u << 20;
  // Per AS recipient (one AS receives from many UEs, and waits out its outages with them queued).
  std::uint64_t max_queued_messages_per_as = 1'000'000;
  std::uint64_t max_queued_bytes_per_as = 1ull << 30;
  // Stored registrations: a new UE (CoAP REG) / a new asSvcId past it gets 503 (5.03); a known
  // one may always register again.
  std::size_t max_ue_registrations = 5'000'000;
  std::size_t max_as_registrations = 10'000;
};

class QueueUsage {
 public:
  struct Use {
    std::uint32_t messages = 0;
    std::uint64_t bytes = 0;
  };

  explicit QueueUsage(const QueueLimits& limits) : limits_(limits) {}

  const Use* Find(const storage::Address& r) const {
    auto it = by_recipient_.find(Key(r));
    return it == by_recipient_.end() ? nullptr : &it->second;
  }

  // Whether one more entry of `bytes` for `r` (of which `pending` entries and `pending_bytes`
  // are already admitted by the same operation) stays within r's bounds.
  bool Fits(const storage::Address& r, std::uint64_t bytes, std::uint32_t pending = 0,
            std::uint64_t pending_bytes = 0) const {
    const Use* u = Find(r);
    const std::uint64_t m = (u ? u->messages : 0) + pending + 1;
    const std::uint64_t b = (u ? u->bytes : 0) + pending_bytes + bytes;
    return m <= MaxMessages(r) && b <= MaxBytes(r);
  }
  // Which per-recipient bound `r` would pass with one more entry of `bytes`: "messages", "bytes"
  // or nullptr.
  const char* Passed(const storage::Address& r, std::uint64_t bytes) const {
    const Use* u = Find(r);
    if ((u ? u->messages : 0) + 1ull > MaxMessages(r)) return "messages";
    if ((u ? u->bytes : 0) + bytes > MaxBytes(r)) return "bytes";
    return nullptr;
  }

  void Add(const storage::Address& r, std::uint64_t bytes) {
    Use& u = by_recipient_[Key(r)];
    const bool near_m = NearMessages(r, u), near_b = NearBytes(r, u);
    u.messages++;
    u.bytes += bytes;
    near_messages_ += (NearMessages(r, u) ? 1 : 0) - (near_m ? 1 : 0);
    near_bytes_ += (NearBytes(r, u) ? 1 : 0) - (near_b ? 1 : 0);
  }

  void Remove(const storage::Address& r, std::uint64_t bytes) {
    auto it = by_recipient_.find(Key(r));
    if (it == by_recipient_.end()) return;
    Use& u = it->second;
    const bool near_m = NearMessages(r, u), near_b = NearBytes(r, u);
    if (u.messages > 0) u.messages--;
    u.bytes -= std::min(u.bytes, bytes);
    near_messages_ -= (near_m ? 1 : 0) - (NearMessages(r, u) ? 1 : 0);
    near_bytes_ -= (near_b ? 1 : 0) - (NearBytes(r, u) ? 1 : 0);
    if (u.messages == 0) by_recipient_.erase(it);
  }

  // Recipients with at least one queued entry.
  std::size_t recipients() const { return by_recipient_.size(); }

  // The `limit` recipients with the most queued entries, most first (ties: by address). One pass
  // over every recipient with a bounded heap: O(n log limit).
  std::vector<std::pair<storage::Address, Use>> Largest(std::size_t limit) const {
    using Item = std::pair<storage::Address, Use>;
    auto before = [](const Item& a, const Item& b) {  // a ranks before b
      if (a.second.messages != b.second.messages) return a.second.messages > b.second.messages;
      return a.first.type != b.first.type ? a.first.type < b.first.type : a.first.id < b.first.id;
    };
    std::vector<Item> heap;  // the worst-ranked of those kept on top
    if (limit == 0) return heap;
    heap.reserve(std::min(limit, by_recipient_.size()));
    for (const auto& [key, use] : by_recipient_) {
      Item item{storage::Address{static_cast<storage::AddressType>(key[0]), key.substr(1)}, use};
      if (heap.size() < limit) {
        heap.push_back(std::move(item));
        std::push_heap(heap.begin(), heap.end(), before);
      } else if (before(item, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), before);
        heap.back() = std::move(item);
        std::push_heap(heap.begin(), heap.end(), before);
      }
    }
    std::sort_heap(heap.begin(), heap.end(), before);
    return heap;
  }
  // Recipients at 90 % or more of their message / byte bound.
  std::size_t near_messages() const { return near_messages_; }
  std::size_t near_bytes() const { return near_bytes_; }

  std::uint64_t MaxMessages(const storage::Address& r) const {
    return r.type == storage::AddressType::kAs ? limits_.max_queued_messages_per_as
                                               : limits_.max_queued_messages_per_recipient;
  }
  std::uint64_t MaxBytes(const storage::Address& r) const {
    return r.type == storage::AddressType::kAs ? limits_.max_queued_bytes_per_as
                                               : limits_.max_queued_bytes_per_recipient;
  }

 private:
  static std::string Key(const storage::Address& r) {
    std::string k;
    k.reserve(r.id.size() + 1);
    k.push_back(static_cast<char>(r.type));
    k.append(r.id);
    return k;
  }
  bool NearMessages(const storage::Address& r, const Use& u) const {
    return u.messages * 10ull >= MaxMessages(r) * 9ull && u.messages > 0;
  }
  bool NearBytes(const storage::Address& r, const Use& u) const {
    return u.bytes * 10ull >= MaxBytes(r) * 9ull && u.messages > 0;
  }

  QueueLimits limits_;
  std::unordered_map<std::string, Use> by_recipient_;
  std::size_t near_messages_ = 0;
  std::size_t near_bytes_ = 0;
};

}  // namespace msgin5g::broker
