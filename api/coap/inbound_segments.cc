#include "api/coap/inbound_segments.h"

namespace msgin5g::api::coap {

std::vector<InboundSegments::Action> InboundSegments::Stored(const std::string& ue,
                                                             const std::string& seg_id,
                                                             std::uint32_t total,
                                                             std::uint32_t number,
                                                             Clock::time_point now) {
  constexpr std::uint32_t kMaxNumber = 65535;
  if (number == 0 || number > kMaxNumber || (total != 0 && number > total)) return {};
  auto key = std::make_pair(ue, seg_id);
  auto it = sets_.find(key);
  if (it == sets_.end()) {
    if (total == 1 || sets_.size() >= options_.max_sets || Finished(key, now)) return {};
    it = sets_.emplace(std::move(key), Set{}).first;
  }
  Set& s = it->second;
  if (total != 0) {
    if (s.total == 0) {
      s.total = total;
    } else if (s.total != total) {
      return {};  // the broker refuses a changed total; ignore it here too
    }
    if (s.have.size() > total) return {};  // likewise a total below a number already stored
    s.have.resize(total, false);
  }
  if (s.have.size() < number) s.have.resize(number, false);  // total still unknown
  if (!s.have[number - 1]) {
    s.have[number - 1] = true;
    ++s.count;
  }
  s.last_progress = now;
  if (s.total == 0 || s.count < s.total) return {};
  const bool asked = s.requests > 0;
  sets_.erase(it);
  Finish(std::move(key), now);
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
      Finish(it->first, now);
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
  if (sets_.erase(std::make_pair(ue, seg_id)) != 0) Finish({ue, seg_id}, Clock::now());
}

void InboundSegments::ForgetUe(const std::string& ue) {
  auto it = sets_.lower_bound(std::make_pair(ue, std::string()));
  while (it != sets_.end() && it->first.first == ue) it = sets_.erase(it);
}

void InboundSegments::Finish(std::pair<std::string, std::string> key, Clock::time_point now) {
  finished_[key] = now;
  finished_order_.emplace_back(std::move(key), now);
  while (finished_order_.size() > options_.max_sets) {
    auto& [old, at] = finished_order_.front();
    if (auto f = finished_.find(old); f != finished_.end() && f->second == at) finished_.erase(f);
    finished_order_.pop_front();
  }
}

bool InboundSegments::Finished(const std::pair<std::string, std::string>& key,
                               Clock::time_point now) {
  while (!finished_order_.empty() &&
         now - finished_order_.front().second >= options_.remember_finished) {
    auto& [old, at] = finished_order_.front();
    if (auto f = finished_.find(old); f != finished_.end() && f->second == at) finished_.erase(f);
    finished_order_.pop_front();
  }
  return finished_.count(key) != 0;
}

std::vector<std::uint32_t> InboundSegments::Missing(const Set& s) const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < s.have.size() && out.size() < options_.max_missing_listed; ++i) {
    if (!s.have[i]) out.push_back(i + 1);
  }
  return out;
}

}  // namespace msgin5g::api::coap
