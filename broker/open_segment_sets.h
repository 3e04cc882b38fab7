// The broker's in-memory view of the segment sets open on disk (segment_sets CF): by key, by age
// (the sweep takes the oldest first and stops at the first one not yet expired, so a sweep costs
// what it removes, not what is open) and counted per originator (for the bounds on open sets).
// Owned by the store's writer thread, like the broker's other caches; no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "storage/records.h"

namespace msgin5g::broker {

class OpenSegmentSets {
 public:
  using Key = std::pair<storage::Address, std::string>;  // (originator, segId)

  static Key KeyOf(const storage::SegmentSetRecord& s) { return {s.origin, s.seg_id}; }

  const storage::SegmentSetRecord* Find(const Key& k) const {
    auto it = sets_.find(k);
    return it == sets_.end() ? nullptr : &it->second;
  }

  // Opens the set or replaces its record (more segments received).
  void Put(const storage::SegmentSetRecord& s) {
    Key k = KeyOf(s);
    auto it = sets_.find(k);
    if (it == sets_.end()) {
      by_age_.emplace(s.first_seen_ms, k);
      ++per_origin_[s.origin];
      sets_.emplace(std::move(k), s);
      return;
    }
    if (it->second.first_seen_ms != s.first_seen_ms) {
      by_age_.erase({it->second.first_seen_ms, k});
      by_age_.emplace(s.first_seen_ms, k);
    }
    it->second = s;
  }

  // Closes the set (completed or timed out); false if it was not open.
  bool Erase(const Key& k) {
    auto it = sets_.find(k);
    if (it == sets_.end()) return false;
    by_age_.erase({it->second.first_seen_ms, k});
    auto o = per_origin_.find(k.first);
    if (o != per_origin_.end() && --o->second == 0) per_origin_.erase(o);
    sets_.erase(it);
    return true;
  }

  // The set opened first (smallest first_seen_ms), or null when none is open.
  const storage::SegmentSetRecord* Oldest() const {
    return by_age_.empty() ? nullptr : Find(by_age_.begin()->second);
  }

  std::size_t size() const { return sets_.size(); }
  std::size_t CountFrom(const storage::Address& origin) const {
    auto it = per_origin_.find(origin);
    return it == per_origin_.end() ? 0 : it->second;
  }
  // Originators with at least one open set.
  std::size_t originators() const { return per_origin_.size(); }

 private:
  std::map<Key, storage::SegmentSetRecord> sets_;
  std::set<std::pair<std::int64_t, Key>> by_age_;
  std::map<storage::Address, std::size_t> per_origin_;
};

}  // namespace msgin5g::broker
