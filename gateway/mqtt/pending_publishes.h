// The publishes waiting for their outcome, keyed by libmosquitto's message id (mid), each with a
// deadline. Bounded by the caller (max_in_flight). Not thread-safe: MqttLink guards it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway::mqtt {

class PendingPublishes {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(Status)>;

  // Stores `done` (moving from it) and returns true; false, leaving `done` untouched, when `mid`
  // is already waiting (libmosquitto's mids repeat only after 65535 publishes, and at most
  // 65535 are pending, so that would be a bug).
  bool Add(int mid, Clock::time_point deadline, Done& done);
  // The done of `mid`, removed; empty when it is not waiting (timed out already, or a late ack).
  Done Take(int mid);
  // The dones whose deadline is at or before `now`, removed, oldest first.
  std::vector<Done> TakeExpired(Clock::time_point now);
  std::vector<Done> TakeAll();
  std::optional<Clock::time_point> NextDeadline() const;
  std::size_t size() const { return by_mid_.size(); }

 private:
  using DeadlineIndex = std::multimap<Clock::time_point, int>;
  struct Entry {
    Done done;
    DeadlineIndex::iterator deadline;
  };
  std::unordered_map<int, Entry> by_mid_;
  DeadlineIndex by_deadline_;
};

}  // namespace msgin5g::gateway::mqtt
