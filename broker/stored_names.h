// Names and key spaces of stored records, and accept outcomes as stored, shared by accept (DurableBroker), the queue-entry
// ledger (Ledger), the metrics and the admin views.
#pragma once

#include <string>

#include "broker/types.h"
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

// An accept outcome as stored in an idempotency record, and back.
inline storage::OutcomeKind ToStored(AcceptOutcome::Kind k) {
  switch (k) {
    case AcceptOutcome::Kind::kAccepted: return storage::OutcomeKind::kAccepted;
    case AcceptOutcome::Kind::kStored: return storage::OutcomeKind::kStored;
    case AcceptOutcome::Kind::kFailed: return storage::OutcomeKind::kFailed;
  }
  return storage::OutcomeKind::kAccepted;
}

inline AcceptOutcome FromStored(const storage::IdempotencyRecord& r) {
  AcceptOutcome o;
  switch (r.outcome) {
    case storage::OutcomeKind::kAccepted: o.kind = AcceptOutcome::Kind::kAccepted; break;
    case storage::OutcomeKind::kStored: o.kind = AcceptOutcome::Kind::kStored; break;
    case storage::OutcomeKind::kFailed: o.kind = AcceptOutcome::Kind::kFailed; break;
  }
  o.failure_cause = r.failure_cause;
  return o;
}

}  // namespace msgin5g::broker
