// The broker's domain types: plain values, no HTTP, JSON or RocksDB types. Addresses, priorities
// and registrations are the stored records' types (storage/records.h), re-exported here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/records.h"

namespace msgin5g::broker {

using TimePoint = std::chrono::system_clock::time_point;

using storage::Address;
using storage::AddressType;
using storage::Ingress;
using storage::Priority;
using storage::ReportStatus;
using AsProfile = storage::AsProfileRecord;
using AsRegistration = storage::AsRegistrationRecord;  // registration_id assigned by the broker
using UeRegistration = storage::UeRegistrationRecord;
using storage::ClientPolicyRecord;
using storage::GroupRecord;
using storage::QueueSummary;
using storage::RoutingRuleRecord;
using storage::TopicSubscriptionRecord;

// TS 29.538 wire spellings of AddressType and Priority (the one place that knows them).
inline const char* AddressTypeName(AddressType t) {
  switch (t) {
    case AddressType::kUe: return "UE";
    case AddressType::kAs: return "AS";
    case AddressType::kGroup: return "GROUP";
    case AddressType::kBroadcast: return "BC";
    case AddressType::kTopic: return "TOPIC";
  }
  return "UNKNOWN";
}

inline std::optional<AddressType> ParseAddressType(std::string_view t) {
  if (t == "UE") return AddressType::kUe;
  if (t == "AS") return AddressType::kAs;
  if (t == "GROUP") return AddressType::kGroup;
  if (t == "BC") return AddressType::kBroadcast;
  if (t == "TOPIC") return AddressType::kTopic;
  return std::nullopt;
}

inline const char* PriorityName(Priority p) {
  switch (p) {
    case Priority::kHigh: return "HIGH";
    case Priority::kMiddle: return "MIDDLE";
    case Priority::kLow: return "LOW";
  }
  return "UNKNOWN";
}

struct SegmentInfo {
  std::string segment_id;
  std::uint32_t total = 0;   // totalSegCount; 0: not given (required on the first segment only)
  std::uint32_t number = 0;  // segNumb, 1-based
  bool last = false;         // lastSegFlag: this segment's number is the total
};

struct Message {
  Ingress ingress = Ingress::kAs;
  Address origin;
  Address destination;
  std::string app_id;
  std::string msg_id;
  std::string payload;
  Priority priority = Priority::kMiddle;
  bool report_requested = false;    // delivStReqInd
  bool store_and_forward = false;   // stoAndFwInd
  std::optional<TimePoint> expiry;  // stoAndFwParams.exprTime
  std::optional<std::int64_t> latency;
  std::optional<SegmentInfo> segment;
};

// What the originator is told in MessageDeliveryAck.
struct AcceptOutcome {
  enum class Kind {
    kAccepted,  // no status: accepted for delivery
    kStored,    // DELY_STORED: recipient unreachable, stored until expiry
    kFailed,    // DELY_FAILED + failure_cause
  };
  Kind kind = Kind::kAccepted;
  std::string failure_cause;
  // False for an answer that stored nothing and is not the message's final word (a recipient's
  // queue was full): not kept for retries, so the same msgId sent again is considered afresh.
  bool remembered = true;
  bool operator==(const AcceptOutcome&) const = default;
};

struct Report {
  Address origin;       // who reports (the recipient of the original message)
  Address destination;  // the original message's originator
  std::string msg_id;
  ReportStatus status = ReportStatus::kSuccess;
  std::string failure_cause;
};

}  // namespace msgin5g::broker
