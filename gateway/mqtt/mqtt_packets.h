// MQTT 3.1.1 control packets (OASIS mqtt-v3.1.1, chapter 2-3): the encoders a client needs and
// an incremental frame reader with the parsers for what a broker sends. No I/O, no state beyond
// the reader's buffer: MqttLink drives it.
//
// Why our own and not libmosquitto: libmosquitto 2.0 acknowledges an inbound QoS 1 message
// (PUBACK) before the application has seen it, so a message the gateway had not yet stored was
// lost by a crash. MQTT's at-least-once needs the acknowledgement after the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway::mqtt::wire {

enum class Type : std::uint8_t {
  kConnect = 1,
  kConnAck = 2,
  kPublish = 3,
  kPubAck = 4,
  kPubRec = 5,
  kPubRel = 6,
  kPubComp = 7,
  kSubscribe = 8,
  kSubAck = 9,
  kUnsubscribe = 10,
  kUnsubAck = 11,
  kPingReq = 12,
  kPingResp = 13,
  kDisconnect = 14,
};

constexpr std::size_t kMaxRemainingLength = 268435455;  // 4-byte variable length, all 7-bit 1s

struct ConnectFields {
  std::string client_id;
  bool clean_session = true;
  std::uint16_t keepalive_s = 30;
  std::optional<std::string> username;
  std::optional<std::string> password;  // only with a username (MQTT 3.1.1 3.1.2.9)
};

std::string EncodeConnect(const ConnectFields& c);
// `id` is ignored for QoS 0. The caller checks the topic (no wildcards, valid UTF-8) and size.
std::string EncodePublish(std::string_view topic, std::string_view payload, int qos, bool retain,
                          bool dup, std::uint16_t id);
// PUBACK, PUBREC, PUBREL (fixed-header flags 0b0010) or PUBCOMP for packet `id`.
std::string EncodeIdOnly(Type type, std::uint16_t id);
struct Filter {
  std::string filter;
  int qos = 1;
};
std::string EncodeSubscribe(std::uint16_t id, const std::vector<Filter>& filters);
std::string EncodePingReq();
std::string EncodeDisconnect();

// One control packet: its fixed-header type and flags and its body (variable header + payload).
struct Packet {
  Type type = Type::kPingResp;
  std::uint8_t flags = 0;
  std::string body;
  // The body was longer than the reader's limit: `body` holds only its topic and packet id,
  // the rest was skipped. `full_size` is the real body length.
  bool truncated = false;
  std::size_t full_size = 0;
};

// Splits a byte stream into packets. A PUBLISH body may be up to `max_publish_body` bytes;
// a longer one is returned truncated (its topic and packet id still readable, so the caller
// can acknowledge and drop it) instead of being buffered whole. Any other packet longer than
// kMaxControlBody, a reserved type, or a malformed length is an error: the connection is
// unusable after it.
class FrameReader {
 public:
  static constexpr std::size_t kMaxControlBody = 4096;
  static constexpr std::size_t kTruncatedHead = 2 + 65535 + 2;  // the longest topic + packet id

  explicit FrameReader(std::size_t max_publish_body) : max_publish_body_(max_publish_body) {}

  void Feed(const char* data, std::size_t n) { buf_.append(data, n); }
  // The next whole packet; nullopt when more bytes are needed.
  Result<std::optional<Packet>> Next();
  // Bytes held (buffered, not yet returned).
  std::size_t buffered() const { return buf_.size() - pos_; }
  void Reset();

 private:
  std::size_t max_publish_body_;
  std::string buf_;
  std::size_t pos_ = 0;
  // While skipping the tail of an oversize PUBLISH: what is left to skip, and the packet to
  // return once it is skipped.
  std::size_t skip_ = 0;
  std::optional<Packet> skipped_;
};

struct ConnAck {
  bool session_present = false;
  std::uint8_t return_code = 0;
};
Result<ConnAck> ParseConnAck(const Packet& p);

struct Publish {
  std::string topic;
  std::string payload;  // empty when the packet was truncated
  int qos = 0;
  bool dup = false;
  bool retain = false;
  std::uint16_t id = 0;  // 0 for QoS 0
};
// Moves the payload out of `p`. Checks the framing only: the topic name is returned as sent
// (see IsValidTopicName), so a bad name can be dropped without dropping the connection.
Result<Publish> ParsePublish(Packet& p);
// The packet id of a PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK.
Result<std::uint16_t> ParseIdOnly(const Packet& p);

struct SubAck {
  std::uint16_t id = 0;
  std::vector<std::uint8_t> codes;  // 0..2 granted QoS, 0x80 failure
};
Result<SubAck> ParseSubAck(const Packet& p);

// The CONNACK return code's meaning (3.2.2.3).
const char* ConnAckReason(std::uint8_t code);

// A topic name as MQTT allows it in a PUBLISH: 1..65535 bytes of valid UTF-8 without control
// characters (IsValidMqttUtf8) and without wildcards.
bool IsValidTopicName(std::string_view topic);
// A subscription filter as MQTT allows it: '+' a whole level, '#' only as the whole last level,
// 1..65535 bytes of valid UTF-8.
bool IsValidFilter(std::string_view filter);
// MQTT topic matching (4.7): '+' one level, '#' the rest (also the parent level); a filter
// starting with a wildcard does not match a topic starting with '$'.
bool TopicMatches(std::string_view filter, std::string_view topic);

}  // namespace msgin5g::gateway::mqtt::wire
