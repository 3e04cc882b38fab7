// The CoAP message format (RFC 7252 §3) and the Block options (RFC 7959 §2.2), without libcoap:
// parsing a datagram into views of its parts and building one from parts. Used where libcoap's
// per-session bookkeeping is in the way (the UE swarm simulator, docs/coap.md "Cost with many
// UEs"); it is the base of a datagram loop of our own.
//
// Parse checks everything §3 makes a "message format error": version, token length, option
// deltas and lengths (nibble 15), an option number past 65535, a payload marker with no payload,
// an Empty message (0.00) with a token or any byte after its header. Nothing is copied: the views
// point into the datagram, which must outlive the Message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace msgin5g::api::coap::wire {

enum class Type : std::uint8_t { kCon = 0, kNon = 1, kAck = 2, kRst = 3 };

// Codes as c.dd in one byte (class << 5 | detail).
constexpr std::uint8_t Code(int cls, int detail) {
  return static_cast<std::uint8_t>((cls << 5) | detail);
}
constexpr std::uint8_t kEmpty = 0;
constexpr std::uint8_t kPost = Code(0, 2);
constexpr std::uint8_t kCreated = Code(2, 1);
constexpr std::uint8_t kChanged = Code(2, 4);
constexpr std::uint8_t kContinue = Code(2, 31);
constexpr int CodeClass(std::uint8_t code) { return code >> 5; }

// Option numbers used here (RFC 7252 §5.10, RFC 7959 §2.1).
constexpr std::uint16_t kUriPath = 11;
constexpr std::uint16_t kContentFormat = 12;
constexpr std::uint16_t kBlock2 = 23;
constexpr std::uint16_t kBlock1 = 27;
constexpr std::uint16_t kSize1 = 60;
constexpr std::uint32_t kFormatJson = 50;

constexpr std::size_t kMaxTokenBytes = 8;

struct OptionView {
  std::uint16_t number = 0;
  std::string_view value;
};

// A parsed datagram. Options are in the order of the datagram, which the format makes
// non-decreasing by number.
struct Message {
  Type type = Type::kCon;
  std::uint8_t code = kEmpty;
  std::uint16_t message_id = 0;
  std::string_view token;
  std::vector<OptionView> options;
  std::string_view payload;

  // The first option with `number`, if any.
  const OptionView* Find(std::uint16_t number) const;
};

// The fixed 4-byte header alone: enough to answer a malformed confirmable message with a Reset
// (§4.2), which needs its Message ID. Empty when the datagram is shorter than 4 bytes or not
// version 1.
struct Header {
  Type type;
  std::uint8_t code;
  std::uint16_t message_id;
};
std::optional<Header> PeekHeader(std::string_view datagram);

// InvalidArgument, naming what is wrong, for any message format error.
Result<Message> Parse(std::string_view datagram);

// A message to send. Options may be added in any order; Serialize sorts them (stably, so
// repeated options keep their order).
struct Builder {
  Type type = Type::kCon;
  std::uint8_t code = kEmpty;
  std::uint16_t message_id = 0;
  std::string token;  // at most kMaxTokenBytes
  std::vector<std::pair<std::uint16_t, std::string>> options;
  std::string payload;

  Builder& Add(std::uint16_t number, std::string value);
  Builder& AddUint(std::uint16_t number, std::uint32_t value);
};
// Appends the datagram to `out` (which is not cleared: callers reuse one buffer).
void Serialize(const Builder& b, std::string* out);
std::string Serialize(const Builder& b);

// An option value as an unsigned integer (§3.2: big-endian, leading zero bytes dropped, zero
// as the empty string). Empty when longer than 4 bytes.
std::optional<std::uint32_t> DecodeUint(std::string_view value);
std::string EncodeUint(std::uint32_t value);

// Block1 / Block2 (RFC 7959 §2.2): NUM, M and SZX, the size 2^(SZX+4). Empty when the value is
// over 3 bytes or SZX is 7 (reserved).
struct Block {
  std::uint32_t number = 0;
  bool more = false;
  std::uint32_t size = 1024;  // 16..1024, a power of two
};
std::optional<Block> DecodeBlock(std::string_view value);
std::string EncodeBlock(const Block& b);

}  // namespace msgin5g::api::coap::wire
