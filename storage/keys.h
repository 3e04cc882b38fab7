// Key encoding. Fixed-width integers are big-endian so that RocksDB's bytewise order is numeric
// order: queue keys sort by recipient, then priority, then due time, then sequence.
// DO NOT CHANGE: on disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/records.h"

namespace msgin5g::storage::keys {

// Column families, in the order they are opened. DO NOT reorder names: they are on disk by name,
// but the indexes below are used in code.
enum Cf : int {
  kMeta = 0,  // "default"
  kMessages,
  kQueue,
  kRecipients,
  kIdempotency,
  kExpiry,  // retired (unused): idempotency records carry their own expiry
  kAsRegistrations,
  kGroups,
  kTopics,
  kRouting,
  kSegments,
  kSegmentSets,
  kCfCount
};
const char* CfName(int cf);

// kMeta: the data format version (storage/format_version.h).
inline constexpr std::string_view kFormatVersionKey = "format_version";
// The sequence high-water mark (u64): sequence numbers are never reused, even when every message
// was delivered and deleted.
inline constexpr std::string_view kNextSeqKey = "next_seq";
// kMeta: "client-policy/{clientId}" -> the policy JSON (admin API).
inline constexpr std::string_view kClientPolicyPrefix = "client-policy/";
// kMeta: "ue-reg/{ueId}" -> UeRegistration (MSGin5G-1 registrations).
inline constexpr std::string_view kUeRegistrationPrefix = "ue-reg/";

void AppendU64(std::string* out, std::uint64_t v);
void AppendU32(std::string* out, std::uint32_t v);
void AppendU16(std::string* out, std::uint16_t v);
std::uint64_t ReadU64(std::string_view s, std::size_t at);
std::uint32_t ReadU32(std::string_view s, std::size_t at);

// type(1) + length(2) + id: a prefix that never matches a longer id by accident.
void AppendAddress(std::string* out, const Address& a);
// Parses AppendAddress output at `*at`, advancing it; false if malformed.
bool ReadAddress(std::string_view s, std::size_t* at, Address* out);

std::string Message(std::uint64_t seq);
std::string QueuePrefix(const Address& recipient);
std::string Queue(const Address& recipient, Priority p, std::int64_t due_ms, std::uint64_t seq);
std::string RecipientPrefix(std::uint64_t seq);
std::string Recipient(std::uint64_t seq, const Address& recipient);
std::string Idempotency(const Address& origin, std::string_view msg_id);
std::string TopicPrefix(const std::string& topic);
std::string Topic(const std::string& topic, const Address& subscriber);
std::string SegmentPrefix(const Address& origin, const std::string& seg_id);
std::string Segment(const Address& origin, const std::string& seg_id, std::uint32_t number);
std::string SegmentSet(const Address& origin, const std::string& seg_id);

}  // namespace msgin5g::storage::keys
