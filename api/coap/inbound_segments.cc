#include "api/coap/inbound_segments.h"

namespace msgin5g::api::coap {

std::vector<InboundSegments::Action> InboundSegments::Stored(const std::string& ue,
                                                             const std::string& seg_id,
                                                             std::uint32_t total,
                                                             std::uint32_t number,
                                                             Clock::time_point now) {
  if (total == 0 || number == 0 || number > total) return {};
  auto key = std::make_pair(ue, seg_id);
  auto it = sets_.find(key);
  if (it == sets_.end()) {
    if (total == 1 || sets_.size() >= options_.max_sets) return {};
    it = sets_.emplace(std::move(key), Set{}).first;
    it->second.have.assign(total, false);
  }
  Set& s = it->second;
  if (s.have.size() != total) return {};  // the broker refuses a changed total; ignore it here too
  if (!s.have[number - 1]) {
    s.have[number - 1] = true;
    ++s.count;
  }
  s.last_progress = now;
  if (s.count < total) return {};
  const bool asked = s.requests > 0;
  sets_.erase(it);
  if (!asked) return {};
  return {Action{Action::Kind::kConfirmSuccess, ue, seg_id, {}}};
}

std::vector<InboundSegments::Action> InboundSegments::Due(Clock::time_point now) {
  std::vector<Action> out;
  for (auto it = sets_.begin(); it != sets_.end();) {
    Set& s = it->second;
    if (now - s.last_progress < options_.recovery_after) {
      ++it;
      continue;
    }
    if (s.requests >= options_.max_requests) {
      out.push_back({Action::Kind::kConfirmFailure, it->first.first, it->first.second, Missing(s)});
      it = sets_.erase(it);
      continue;
    }
    ++s.requests;
    s.last_progress = now;  // the next prompt waits another full period
    out.push_back({Action::Kind::kRequest, it->first.first, it->first.second, Missing(s)});
    ++it;
  }
  return out;
}

void InboundSegments::Forget(const std::string& ue, const std::string& seg_id) {
  sets_.erase(std::make_pair(ue, seg_id));
}

void InboundSegments::ForgetUe(const std::string& ue) {
  auto it = sets_.lower_bound(std::make_pair(ue, std::string()));
  while (it != sets_.end() && it->first.first == ue) it = sets_.erase(it);
}

std::vector<std::uint32_t> InboundSegments::Missing(const Set& s) const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < s.have.size() && out.size() < options_.max_missing_listed; ++i) {
    if (!s.have[i]) out.push_back(i + 1);
  }
  return out;
}

}  // namespace msgin5g::api::coap
