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

std::string SegmentMessageId(const std::string& seg_id, std::uint32_t number) {
  return seg_id + "#" + std::to_string(number);
}

namespace {

// `s` ends with `sep` followed by at least one digit (and nothing else): the part before it.
std::optional<std::string_view> StripNumberSuffix(std::string_view s, char sep) {
  const auto at = s.rfind(sep);
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size() || s.size() - at > 11) {
    return std::nullopt;
  }
  for (std::size_t i = at + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  return s.substr(0, at);
}

}  // namespace

std::optional<std::string> MessageIdOfSegmentId(std::string_view id) {
  auto base = StripNumberSuffix(id, '#');
  std::string_view set = base ? *base : id;
  auto message = StripNumberSuffix(set, '~');
  if (message) return std::string(*message);
  if (base) return std::string(*base);
  return std::nullopt;
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
