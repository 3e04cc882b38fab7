#include "storage/keys.h"

namespace msgin5g::storage::keys {

const char* CfName(int cf) {
  static const char* kNames[kCfCount] = {"default",      "messages",         "queue",
                                         "recipients",   "idempotency",      "expiry",
                                         "as_registrations", "groups",       "topics",
                                         "routing",      "segments",         "segment_sets"};
  return kNames[cf];
}

void AppendU64(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void AppendU32(std::string* out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void AppendU16(std::string* out, std::uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

std::uint64_t ReadU64(std::string_view s, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
std::uint32_t ReadU32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

void AppendAddress(std::string* out, const Address& a) {
  out->push_back(static_cast<char>(a.type));
  AppendU16(out, static_cast<std::uint16_t>(a.id.size()));
  out->append(a.id);
}

bool ReadAddress(std::string_view s, std::size_t* at, Address* out) {
  if (*at + 3 > s.size()) return false;
  out->type = static_cast<AddressType>(static_cast<unsigned char>(s[*at]));
  std::size_t len = (static_cast<unsigned char>(s[*at + 1]) << 8) |
                    static_cast<unsigned char>(s[*at + 2]);
  if (*at + 3 + len > s.size()) return false;
  out->id.assign(s.substr(*at + 3, len));
  *at += 3 + len;
  return true;
}

// Signed times are offset so that negative values (never expected) still sort before positive.
static std::uint64_t TimeKey(std::int64_t ms) {
  return static_cast<std::uint64_t>(ms) ^ (std::uint64_t{1} << 63);
}

std::string Message(std::uint64_t seq) {
  std::string k;
  AppendU64(&k, seq);
  return k;
}

std::string QueuePrefix(const Address& recipient) {
  std::string k;
  AppendAddress(&k, recipient);
  return k;
}

std::string Queue(const Address& recipient, Priority p, std::int64_t due_ms, std::uint64_t seq) {
  std::string k = QueuePrefix(recipient);
  k.push_back(static_cast<char>(p));
  AppendU64(&k, TimeKey(due_ms));
  AppendU64(&k, seq);
  return k;
}

std::string RecipientPrefix(std::uint64_t seq) { return Message(seq); }

std::string Recipient(std::uint64_t seq, const Address& recipient) {
  std::string k = Message(seq);
  AppendAddress(&k, recipient);
  return k;
}

std::string Idempotency(const Address& origin, std::string_view msg_id) {
  std::string k;
  AppendAddress(&k, origin);
  k.append(msg_id);
  return k;
}

std::string TopicPrefix(const std::string& topic) {
  std::string k;
  AppendU16(&k, static_cast<std::uint16_t>(topic.size()));
  k.append(topic);
  return k;
}

std::string Topic(const std::string& topic, const Address& subscriber) {
  std::string k = TopicPrefix(topic);
  AppendAddress(&k, subscriber);
  return k;
}

std::string SegmentSet(const Address& origin, const std::string& seg_id) {
  std::string k;
  AppendAddress(&k, origin);
  AppendU16(&k, static_cast<std::uint16_t>(seg_id.size()));
  k.append(seg_id);
  return k;
}

std::string SegmentPrefix(const Address& origin, const std::string& seg_id) {
  return SegmentSet(origin, seg_id);
}

std::string Segment(const Address& origin, const std::string& seg_id, std::uint32_t number) {
  std::string k = SegmentPrefix(origin, seg_id);
  AppendU32(&k, number);
  return k;
}

}  // namespace msgin5g::storage::keys
