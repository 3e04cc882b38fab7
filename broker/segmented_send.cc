#include "broker/segmented_send.h"

#include <algorithm>

namespace msgin5g::broker {

std::vector<std::string_view> SplitPayload(std::string_view payload, std::size_t max) {
  std::vector<std::string_view> parts;
  if (max == 0 || payload.size() <= max) {
    parts.push_back(payload);
    return parts;
  }
  std::size_t at = 0;
  while (at < payload.size()) {
    std::size_t n = std::min(max, payload.size() - at);
    if (at + n < payload.size()) {
      // Back off to the start of a UTF-8 sequence (never split one between two JSON strings).
      std::size_t cut = n;
      while (cut > 0 && (static_cast<unsigned char>(payload[at + cut]) & 0xC0) == 0x80) --cut;
      if (cut > 0) n = cut;  // a max smaller than one character: split bytes (cannot do better)
    }
    parts.push_back(payload.substr(at, n));
    at += n;
  }
  return parts;
}

int Severity(DeliveryResult::Kind k) {
  switch (k) {
    case DeliveryResult::Kind::kDelivered: return 0;
    case DeliveryResult::Kind::kRequeue: return 1;
    case DeliveryResult::Kind::kTransient: return 2;
    case DeliveryResult::Kind::kPermanent: return 3;
  }
  return 0;
}

SegmentedSend::SegmentedSend(std::vector<std::string_view> parts, const std::string& msg_id,
                             std::uint32_t attempts)
    : parts_(std::move(parts)), seg_id_(msg_id) {
  if (attempts > 0) seg_id_ += "~" + std::to_string(attempts);
}

std::optional<std::pair<std::string_view, SegmentInfo>> SegmentedSend::Next() {
  const bool failed = worst_.kind != DeliveryResult::Kind::kDelivered;
  if (failed || in_flight_ >= kWindow || next_ >= parts_.size()) return std::nullopt;
  const auto n = static_cast<std::uint32_t>(parts_.size());
  const auto i = static_cast<std::uint32_t>(next_++);
  ++in_flight_;
  return std::make_pair(parts_[i], SegmentInfo{seg_id_, n, i + 1, i + 1 == n});
}

bool SegmentedSend::OnAnswer(DeliveryResult r) {
  --in_flight_;
  const auto retry_after = std::max(worst_.retry_after, r.retry_after);
  if (Severity(r.kind) > Severity(worst_.kind)) worst_ = std::move(r);
  worst_.retry_after = retry_after;
  if (in_flight_ > 0) return false;  // wait for the parts still out
  const bool failed = worst_.kind != DeliveryResult::Kind::kDelivered;
  return failed || next_ >= parts_.size();
}

}  // namespace msgin5g::broker
