#include "gateway/mqtt/pending_publishes.h"

#include <utility>

namespace msgin5g::gateway::mqtt {

bool PendingPublishes::Add(int mid, Clock::time_point deadline, Done& done, std::string packet) {
  if (by_mid_.contains(mid)) return false;
  auto it = by_deadline_.emplace(deadline, mid);
  by_mid_.emplace(mid, Entry{std::move(done), it, Resend{std::move(packet)}});
  return true;
}

PendingPublishes::Resend* PendingPublishes::Find(int mid) {
  auto it = by_mid_.find(mid);
  return it == by_mid_.end() ? nullptr : &it->second.resend;
}

PendingPublishes::Done PendingPublishes::Take(int mid) {
  auto it = by_mid_.find(mid);
  if (it == by_mid_.end()) return {};
  Done done = std::move(it->second.done);
  by_deadline_.erase(it->second.deadline);
  by_mid_.erase(it);
  return done;
}

std::vector<PendingPublishes::Done> PendingPublishes::TakeExpired(Clock::time_point now) {
  std::vector<Done> out;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    auto entry = by_mid_.find(by_deadline_.begin()->second);
    out.push_back(std::move(entry->second.done));
    by_mid_.erase(entry);
    by_deadline_.erase(by_deadline_.begin());
  }
  return out;
}

std::vector<PendingPublishes::Done> PendingPublishes::TakeAll() {
  std::vector<Done> out;
  out.reserve(by_mid_.size());
  for (auto& [deadline, mid] : by_deadline_) out.push_back(std::move(by_mid_.at(mid).done));
  by_mid_.clear();
  by_deadline_.clear();
  return out;
}

std::optional<PendingPublishes::Clock::time_point> PendingPublishes::NextDeadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first;
}

}  // namespace msgin5g::gateway::mqtt
