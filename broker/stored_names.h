// Names and key spaces of stored records, shared by accept (DurableBroker), the queue-entry
// ledger (Ledger), the metrics and the admin views.
#pragma once

#include <string>

#include "storage/records.h"

namespace msgin5g::broker {

inline const char* OutcomeName(storage::OutcomeKind k) {
  switch (k) {
    case storage::OutcomeKind::kAccepted: return "ACCEPTED";
    case storage::OutcomeKind::kStored: return "DELY_STORED";
    case storage::OutcomeKind::kFailed: return "DELY_FAILED";
  }
  return "UNKNOWN";
}

inline const char* RecipientStateName(storage::RecipientState s) {
  switch (s) {
    case storage::RecipientState::kQueued: return "QUEUED";
    case storage::RecipientState::kDelivered: return "DELIVERED";
    case storage::RecipientState::kFailed: return "FAILED";
    case storage::RecipientState::kExpired: return "EXPIRED";
  }
  return "UNKNOWN";
}

// Reports, and messages reassembled from segments, are idempotent in key spaces apart from
// ordinary msgIds (which the API keeps free of control characters).
inline std::string ReportKey(const std::string& msg_id) { return std::string("\x01report:") + msg_id; }
inline std::string SegmentMessageKey(const std::string& seg_id) {
  return std::string("\x02segment:") + seg_id;
}

}  // namespace msgin5g::broker
