// The broker's domain types: plain values, no HTTP, JSON or storage types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace msgin5g::broker {

using TimePoint = std::chrono::system_clock::time_point;

// TS 29.538 AddressType. DO NOT CHANGE the numeric values: they will be stored.
enum class AddressType : std::uint8_t { kUe = 1, kAs = 2, kGroup = 3, kBroadcast = 4, kTopic = 5 };

struct Address {
  AddressType type = AddressType::kUe;
  std::string id;
  bool operator==(const Address&) const = default;
};

// TS 29.538 Priority; lower value = served first. DO NOT CHANGE: stored.
enum class Priority : std::uint8_t { kHigh = 0, kMiddle = 1, kLow = 2 };

struct SegmentInfo {
  std::string segment_id;
  std::uint32_t total = 0;   // totalSegCount
  std::uint32_t number = 0;  // segNumb, 1-based
  bool last = false;
};

// Who handed the message to us: an AS (deliver-as-message) or a gateway on behalf of a UE
// (deliver-ue-message).
enum class Ingress : std::uint8_t { kAs = 1, kGateway = 2 };

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
  bool operator==(const AcceptOutcome&) const = default;
};

enum class ReportStatus : std::uint8_t { kSuccess = 1, kFailed = 2 };

struct Report {
  Address origin;       // who reports (the recipient of the original message)
  Address destination;  // the original message's originator
  std::string msg_id;
  ReportStatus status = ReportStatus::kSuccess;
  std::string failure_cause;
};

struct AsProfile {
  std::string app_name;
  std::vector<std::string> app_providers;
  std::vector<std::string> app_scenarios;
  std::string app_category;
  std::string as_status;
};

struct AsRegistration {
  std::string registration_id;  // assigned by the broker
  std::string as_svc_id;
  std::string app_id;
  std::string target_uri;  // where messages and reports for this AS are POSTed
  std::optional<AsProfile> profile;
};

}  // namespace msgin5g::broker
