// The values msgin5g stores, as plain C++ types (storage/codec.cc maps them to the Protobuf records
// in proto/records.proto). The broker's domain types are these (broker/types.h re-exports them).
// Enum values are stored: DO NOT CHANGE them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace msgin5g::storage {

// TS 29.538 AddressType. DO NOT CHANGE: on disk.
enum class AddressType : std::uint8_t { kUe = 1, kAs = 2, kGroup = 3, kBroadcast = 4, kTopic = 5 };

struct Address {
  AddressType type = AddressType::kUe;
  std::string id;
  bool operator==(const Address&) const = default;
  auto operator<=>(const Address&) const = default;
};

// TS 29.538 Priority; lower value is served first. DO NOT CHANGE: on disk and in key order.
enum class Priority : std::uint8_t { kHigh = 0, kMiddle = 1, kLow = 2 };

// Who handed the message to us. DO NOT CHANGE: on disk.
enum class Ingress : std::uint8_t { kAs = 1, kGateway = 2, kUe = 3, kServer = 4 };

// DO NOT CHANGE: on disk.
enum class MessageKind : std::uint8_t { kMessage = 1, kReport = 2 };
enum class ReportStatus : std::uint8_t { kSuccess = 1, kFailed = 2 };
enum class RecipientState : std::uint8_t { kQueued = 1, kDelivered = 2, kFailed = 3, kExpired = 4 };
enum class OutcomeKind : std::uint8_t { kAccepted = 1, kStored = 2, kFailed = 3 };

struct MessageRecord {
  std::uint64_t seq = 0;  // assigned by the store
  MessageKind kind = MessageKind::kMessage;
  Ingress ingress = Ingress::kAs;
  Address origin;
  Address destination;
  std::string app_id;
  std::string msg_id;
  std::string payload;
  Priority priority = Priority::kMiddle;
  bool report_requested = false;
  bool store_and_forward = false;
  std::int64_t expiry_ms = 0;  // unix ms, 0 = none
  std::int64_t accepted_ms = 0;
  std::optional<std::int64_t> latency;
  ReportStatus report_status = ReportStatus::kSuccess;  // kReport only
  std::string failure_cause;                            // kReport only
  std::uint32_t recipient_count = 0;
};

// A recipient a message never reached, kept with the message's idempotency record after the
// message itself is gone: the trace an operator looks for (admin message view).
struct UndeliveredRecipient {
  Address recipient;
  RecipientState state = RecipientState::kFailed;  // kFailed or kExpired
  std::string cause;
  std::int64_t finished_ms = 0;
};

struct IdempotencyRecord {
  // Undelivered recipients kept in detail; past this only counted (a fan-out to 100k recipients
  // whose gateway is down must not grow one record without bound).
  static constexpr std::size_t kMaxUndeliveredKept = 16;

  std::uint64_t seq = 0;  // 0: nothing stored
  OutcomeKind outcome = OutcomeKind::kAccepted;
  std::string failure_cause;
  // The dedup window: after this (unix ms) the record reads as absent and a compaction filter
  // removes it. 0: kept forever.
  std::int64_t expiry_ms = 0;
  std::vector<UndeliveredRecipient> undelivered;
  std::uint32_t undelivered_more = 0;
};

struct RecipientRecord {
  Address recipient;
  RecipientState state = RecipientState::kQueued;
  std::int64_t due_ms = 0;
  Priority priority = Priority::kMiddle;
};

struct QueueEntryRecord {
  Address recipient;
  Priority priority = Priority::kMiddle;
  std::int64_t due_ms = 0;
  std::uint64_t seq = 0;
  std::uint32_t attempts = 0;
  std::uint32_t payload_bytes = 0;
  std::int64_t expiry_ms = 0;  // the message's (0: none)
};


struct AsProfileRecord {
  std::string app_name;
  std::vector<std::string> app_providers;
  std::vector<std::string> app_scenarios;
  std::string app_category;
  std::string as_status;
};

struct AsRegistrationRecord {
  std::string registration_id;
  std::string as_svc_id;
  std::string app_id;
  std::string target_uri;
  std::optional<AsProfileRecord> profile;
  std::string owner;  // the authenticated client that registered it (empty: anonymous)
};

// A UE registered over MSGin5G-1 (TS 23.554 8.2.1): reachable at `endpoint` until it deregisters.
struct UeRegistrationRecord {
  std::string ue_id;
  std::uint32_t max_segment_bytes = 0;  // 0: not declared
  std::string comm_availability;
  std::string endpoint;  // transport address of its last REG or message ("coap://ip:port")
  std::int64_t registered_ms = 0;
  std::string psk_identity;
};

// An API client's policy set through the admin API. Storage keeps the JSON as given (the API layer
// owns its schema).
struct ClientPolicyRecord {
  std::string client_id;
  std::string json;
};

struct GroupRecord {
  std::string group_id;
  std::vector<Address> members;
};

struct TopicSubscriptionRecord {
  std::string topic;
  Address subscriber;
  std::int64_t expiry_ms = 0;  // 0 = none
};

struct RoutingRuleRecord {
  std::string name;
  std::string pattern;  // UE id glob, '*' = any run of characters
  std::string gateway;  // empty = direct (MSGin5G-1 / CoAP)
  std::uint32_t order = 100;
};

struct SegmentRecord {
  MessageRecord header;  // this segment's fields; payload = this segment's bytes
  std::uint32_t number = 0;
  std::uint32_t total = 0;
  bool last = false;
};

struct SegmentSetRecord {
  Address origin;
  std::string seg_id;
  Address destination;
  std::string msg_id;
  std::int64_t first_seen_ms = 0;
  std::uint32_t total = 0;       // 0: not known yet (the first and last segments tell it)
  std::uint32_t received = 0;
  bool report_requested = false;
  std::uint64_t bytes = 0;       // payload bytes received so far
  std::uint32_t max_number = 0;  // highest segNumb received (0 in sets stored before it was kept)
};

// Per destination, for the admin queue view.
struct QueueSummary {
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  std::int64_t oldest_due_ms = 0;  // 0 when empty
  std::uint64_t by_priority[3] = {0, 0, 0};
};

}  // namespace msgin5g::storage
