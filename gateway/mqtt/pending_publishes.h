// The QoS 1/2 publishes waiting for their outcome, keyed by MQTT packet id (mid), each with a
// deadline and what is needed to send it again after a reconnect (MQTT 3.1.1 4.4). Bounded by
// the caller (max_in_flight). Not thread-safe: MqttLink uses it on its I/O thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway::mqtt {

class PendingPublishes {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(Status)>;

  // What a reconnect resends: the PUBLISH packet (DUP set once `sent`), or for QoS 2 after
  // PUBREC (`released`), a PUBREL.
  struct Resend {
    std::string packet;
    bool sent = false;
    bool released = false;
  };

  // Stores `done` (moving from it) and returns true; false, leaving `done` untouched, when `mid`
  // is already waiting (a bug: ids are picked among the free ones).
  bool Add(int mid, Clock::time_point deadline, Done& done, std::string packet = {});
  bool Contains(int mid) const { return by_mid_.contains(mid); }
  // The resend data of `mid`; null when it is not waiting.
  Resend* Find(int mid);
  // Every waiting publish's resend data, in the order they were added (equal timeouts) — the
  // order MQTT wants them resent in.
  template <typename F>
  void ForEachInOrder(F&& f) {
    for (auto& [deadline, mid] : by_deadline_) f(mid, by_mid_.at(mid).resend);
  }
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
    Resend resend;
  };
  std::unordered_map<int, Entry> by_mid_;
  DeadlineIndex by_deadline_;
};

}  // namespace msgin5g::gateway::mqtt
