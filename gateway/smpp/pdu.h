// SMPP 3.4 PDUs the gateway's ESME speaks (§4), and a strict, bounded codec for them.
//
// Decode accepts a whole frame (header included) and either returns the PDU or a Status naming
// the field that is wrong; it never reads outside the frame and keeps nothing global. Unknown
// TLVs are kept, so what is decoded re-encodes to the same octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"
#include "gateway/smpp/command_status.h"
#include "gateway/smpp/tlv.h"

namespace msgin5g::gateway::smpp {

inline constexpr std::size_t kHeaderBytes = 16;
// Far larger than any PDU we exchange (a 64 KiB message_payload would not fit an SMS anyway);
// the framer refuses a larger command_length before buffering the body.
inline constexpr std::size_t kMaxPduBytes = 65536;
inline constexpr std::size_t kMaxShortMessage = 254;
inline constexpr std::uint8_t kInterfaceVersion34 = 0x34;
inline constexpr std::uint32_t kMaxSequenceNumber = 0x7FFFFFFF;

namespace command {
inline constexpr std::uint32_t kResponseBit = 0x80000000;
inline constexpr std::uint32_t kGenericNack = 0x80000000;
inline constexpr std::uint32_t kBindReceiver = 0x00000001;
inline constexpr std::uint32_t kBindReceiverResp = 0x80000001;
inline constexpr std::uint32_t kBindTransmitter = 0x00000002;
inline constexpr std::uint32_t kBindTransmitterResp = 0x80000002;
inline constexpr std::uint32_t kSubmitSm = 0x00000004;
inline constexpr std::uint32_t kSubmitSmResp = 0x80000004;
inline constexpr std::uint32_t kDeliverSm = 0x00000005;
inline constexpr std::uint32_t kDeliverSmResp = 0x80000005;
inline constexpr std::uint32_t kUnbind = 0x00000006;
inline constexpr std::uint32_t kUnbindResp = 0x80000006;
inline constexpr std::uint32_t kBindTransceiver = 0x00000009;
inline constexpr std::uint32_t kBindTransceiverResp = 0x80000009;
inline constexpr std::uint32_t kEnquireLink = 0x00000015;
inline constexpr std::uint32_t kEnquireLinkResp = 0x80000015;
}  // namespace command

// "submit_sm", ...; "unknown" for a command this codec does not know.
std::string_view CommandName(std::uint32_t command_id);
bool IsKnownCommand(std::uint32_t command_id);
inline bool IsResponse(std::uint32_t command_id) {
  return (command_id & command::kResponseBit) != 0;
}

// Maximum lengths below count characters, without the C-Octet string's NUL.

// bind_transmitter, bind_receiver and bind_transceiver share one body.
struct Bind {
  std::string system_id;    // max 15
  std::string password;     // max 8
  std::string system_type;  // max 12
  std::uint8_t interface_version = kInterfaceVersion34;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;  // max 40
  bool operator==(const Bind&) const = default;
};

// bind_*_resp.
struct BindResp {
  std::string system_id;  // max 15
  Tlvs tlvs;              // sc_interface_version
  bool operator==(const BindResp&) const = default;
};

// The body submit_sm and deliver_sm share (§4.4.1, §4.6.1).
struct ShortMessageFields {
  std::string service_type;  // max 5
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;  // max 20
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;  // max 20
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;  // "" or 16 characters (max 16)
  std::string validity_period;         // "" or 16 characters (max 16)
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;  // octets, max 254; sm_length on the wire is its size
  Tlvs tlvs;
  bool operator==(const ShortMessageFields&) const = default;
};

struct SubmitSm : ShortMessageFields {
  bool operator==(const SubmitSm&) const = default;
};
struct DeliverSm : ShortMessageFields {
  bool operator==(const DeliverSm&) const = default;
};

struct SubmitSmResp {
  std::string message_id;  // max 64
  bool operator==(const SubmitSmResp&) const = default;
};

// Its message_id is unused and always empty (§4.6.2).
struct DeliverSmResp {
  std::string message_id;
  bool operator==(const DeliverSmResp&) const = default;
};

// std::monostate: unbind(_resp), enquire_link(_resp), generic_nack, and any response with a
// non-zero command_status that came without a body (SMPP 3.4 lets an SMSC omit it then).
using Body =
    std::variant<std::monostate, Bind, BindResp, SubmitSm, SubmitSmResp, DeliverSm, DeliverSmResp>;

struct Pdu {
  std::uint32_t command_id = 0;
  std::uint32_t command_status = kEsmeROk;
  std::uint32_t sequence_number = 0;
  Body body;  // the alternative that belongs to command_id
  bool operator==(const Pdu&) const = default;
};

// A response to `request` (its sequence number, its command_id with the response bit).
Pdu MakeResponse(const Pdu& request, std::uint32_t command_status, Body body = {});
Pdu MakeGenericNack(std::uint32_t sequence_number, std::uint32_t command_status);

struct Header {
  std::uint32_t command_length = 0;
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
};

// The four header fields of a frame of at least kHeaderBytes octets; no other check. Lets the
// session answer a PDU whose body does not decode with a generic_nack carrying its sequence.
Result<Header> DecodeHeader(std::string_view frame);

// Decodes one whole frame. Refuses, naming the field: a frame shorter than the header, a
// command_length that is not the frame's size or outside 16..kMaxPduBytes, an unknown
// command_id, a C-Octet string without its NUL within its maximum, sm_length > 254 or past the
// frame, a TLV whose length runs past the frame or does not fit its known type, and any octets
// left after the body. When `nack_status` is given, a refusal sets it to the command_status a
// generic_nack for this frame should carry (ESME_RINVCMDLEN, ESME_RINVCMDID, ESME_RINVMSGLEN,
// ESME_RINVSRCADR, ESME_RINVDSTADR, ESME_RINVOPTPARSTREAM, ESME_RINVPARLEN, ...).
Result<Pdu> Decode(std::string_view frame, std::uint32_t* nack_status = nullptr);

// Whether `pdu` would decode on the far side: body alternative matching command_id, every field
// within its maximum, TLV values fitting their types, short_message and message_payload not
// both used, the whole frame within kMaxPduBytes. When `command_status` is given, a refusal
// sets it to the status an SMSC would answer with (as for Decode).
Status Validate(const Pdu& pdu, std::uint32_t* command_status = nullptr);

// Never fails. For a PDU that passes Validate, Decode(Encode(pdu)) == pdu. For one that does
// not, the frame's own lengths stay consistent (short_message is cut to 254 octets, TLV values
// to 65535) so a peer can still frame it and refuse it; validate PDUs built from outside input.
std::string Encode(const Pdu& pdu);

}  // namespace msgin5g::gateway::smpp
