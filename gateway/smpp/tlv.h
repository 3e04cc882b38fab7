// SMPP 3.4 optional parameters (TLVs, §5.3): kept as an ordered (tag, value) list so unknown
// ones survive a decode/encode round trip, with typed accessors for the ones the gateway uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway::smpp {

namespace tlv {
inline constexpr std::uint16_t kReceiptedMessageId = 0x001E;  // C-Octet string, max 65 with NUL
inline constexpr std::uint16_t kSarMsgRefNum = 0x020C;        // 2 octets
inline constexpr std::uint16_t kSarTotalSegments = 0x020E;    // 1 octet
inline constexpr std::uint16_t kSarSegmentSeqnum = 0x020F;    // 1 octet
inline constexpr std::uint16_t kScInterfaceVersion = 0x0210;  // 1 octet (in bind_*_resp)
inline constexpr std::uint16_t kNetworkErrorCode = 0x0423;    // 3 octets: type, code(2)
inline constexpr std::uint16_t kMessagePayload = 0x0424;      // octets
inline constexpr std::uint16_t kMessageState = 0x0427;        // 1 octet
}  // namespace tlv

// message_state values (§5.2.28), as found in delivery receipts.
namespace message_state {
inline constexpr std::uint8_t kEnroute = 1;
inline constexpr std::uint8_t kDelivered = 2;
inline constexpr std::uint8_t kExpired = 3;
inline constexpr std::uint8_t kDeleted = 4;
inline constexpr std::uint8_t kUndeliverable = 5;
inline constexpr std::uint8_t kAccepted = 6;
inline constexpr std::uint8_t kUnknown = 7;
inline constexpr std::uint8_t kRejected = 8;
}  // namespace message_state

struct Tlv {
  std::uint16_t tag = 0;
  std::string value;
  bool operator==(const Tlv&) const = default;
};

struct NetworkErrorCode {
  std::uint8_t network_type = 0;  // 1 ANSI-136, 2 IS-95, 3 GSM, ...
  std::uint16_t error_code = 0;
  bool operator==(const NetworkErrorCode&) const = default;
};

class Tlvs {
 public:
  const std::vector<Tlv>& items() const { return items_; }
  std::vector<Tlv>& items() { return items_; }
  bool empty() const { return items_.empty(); }

  // The first value carrying `tag`.
  std::optional<std::string_view> Find(std::uint16_t tag) const;
  // Replaces the values carrying `tag` by one, at the place of the first (or at the end).
  void Set(std::uint16_t tag, std::string value);

  // Typed accessors. A getter returns nullopt when the TLV is absent or its value does not fit
  // its type; Decode refuses such frames, so the latter only happens for hand-built lists.
  std::optional<std::string> receipted_message_id() const;
  void set_receipted_message_id(std::string_view id);
  std::optional<std::uint8_t> message_state() const;
  void set_message_state(std::uint8_t state);
  std::optional<NetworkErrorCode> network_error_code() const;
  void set_network_error_code(NetworkErrorCode code);
  std::optional<std::string_view> message_payload() const;
  void set_message_payload(std::string payload);
  std::optional<std::uint16_t> sar_msg_ref_num() const;
  void set_sar_msg_ref_num(std::uint16_t ref);
  std::optional<std::uint8_t> sar_total_segments() const;
  void set_sar_total_segments(std::uint8_t total);
  std::optional<std::uint8_t> sar_segment_seqnum() const;
  void set_sar_segment_seqnum(std::uint8_t seqnum);

  bool operator==(const Tlvs&) const = default;

 private:
  std::vector<Tlv> items_;
};

// Whether the value of a TLV whose type this codec knows has the right shape (length, NUL
// termination); unknown tags are always fine. The error names the parameter.
Status CheckKnownTlv(const Tlv& t);

}  // namespace msgin5g::gateway::smpp
