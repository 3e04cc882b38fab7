// Records <-> serialized Protobuf (proto/records.proto). The only code that sees generated classes.
// Decode functions return false on a corrupt value.
#pragma once

#include <string>
#include <string_view>

#include "storage/records.h"

namespace msgin5g::storage::codec {

std::string Encode(const MessageRecord& r);
std::string Encode(const IdempotencyRecord& r);
std::string Encode(const RecipientRecord& r);
std::string Encode(const QueueEntryRecord& r);  // seq, attempts, payload_bytes, expiry (the rest is the key)
std::string Encode(const AsRegistrationRecord& r);
std::string Encode(const UeRegistrationRecord& r);
std::string Encode(const GroupRecord& r);
std::string Encode(const TopicSubscriptionRecord& r);
std::string Encode(const RoutingRuleRecord& r);
std::string Encode(const SegmentRecord& r);
std::string Encode(const SegmentSetRecord& r);

bool Decode(std::string_view s, MessageRecord* r);
bool Decode(std::string_view s, IdempotencyRecord* r);
bool Decode(std::string_view s, RecipientRecord* r);
bool Decode(std::string_view s, QueueEntryRecord* r);
bool Decode(std::string_view s, AsRegistrationRecord* r);
bool Decode(std::string_view s, UeRegistrationRecord* r);
bool Decode(std::string_view s, GroupRecord* r);
bool Decode(std::string_view s, TopicSubscriptionRecord* r);
bool Decode(std::string_view s, RoutingRuleRecord* r);
bool Decode(std::string_view s, SegmentRecord* r);
bool Decode(std::string_view s, SegmentSetRecord* r);

}  // namespace msgin5g::storage::codec
