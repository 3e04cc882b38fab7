// Reading what an SMSC delivers (deliver_sm: MO SMS and receipts): the concatenation header of a
// part and the text of its user data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::sms {

struct ConcatInfo {
  std::uint16_t ref = 0;  // an 8-bit reference (IE 0x00) is widened; compare together with total
  std::uint8_t total = 0;  // >= 1
  std::uint8_t seq = 0;    // 1..total
  std::string body;       // the user data after the UDH (unpacked septets stay one per octet)
};

// Three outcomes, so a broken part is not mistaken for a lone SMS:
//   ok + ConcatInfo -> a part of a concatenated SMS (UDHI set, IE 0x00 or 0x08 in the UDH);
//   ok + nullopt   -> not a part: UDHI clear, or a UDH without a concatenation IE (use
//                     UserDataAfterUdh for its text);
//   InvalidArgument -> malformed: UDHI set with no room for the UDH, an IE running past the
//                     UDH, a concatenation IE of the wrong length, total 0, seq 0 or > total.
// Other IEs (ports, special SMS indication, ...) are skipped. When a concatenation IE appears
// more than once, the last one counts (TS 23.040 §9.2.3.24: the receiver uses the last).
Result<std::optional<ConcatInfo>> ParseConcat(std::uint8_t esm_class,
                                              std::string_view short_message);

// The user data without its UDH (the whole short_message when UDHI is clear); InvalidArgument
// when the UDH is malformed as above.
Result<std::string> UserDataAfterUdh(std::uint8_t esm_class, std::string_view short_message);

// The same, for a part described by the SAR TLVs (sar_msg_ref_num, sar_total_segments,
// sar_segment_seqnum) rather than a UDH; the caller calls it only when all three are present.
// InvalidArgument when total is 0, or seq is 0 or above total.
Result<ConcatInfo> ConcatFromSar(std::uint16_t sar_msg_ref_num, std::uint8_t sar_total_segments,
                                 std::uint8_t sar_segment_seqnum, std::string_view user_data);

// MO user data (UDH already removed) as the text of an MSGin5G payload:
//   0x00 (SMSC default: GSM 7-bit, unpacked) and 0xF0..0xF3 (GSM 7-bit with a message class)
//     -> UTF-8 as Gsm7ToUtf8;
//   0x01 IA5/ASCII -> UTF-8, octets above 0x7F become U+FFFD;
//   0x03 Latin-1 -> UTF-8;
//   0x08 UCS-2/UTF-16BE -> UTF-8 as Utf16BeToUtf8;
//   0x02, 0x04 8-bit data, and every other value -> base64 of the octets, *binary = true.
// *binary is set to false for text; `binary` may be null when the caller does not care.
std::string DecodeText(std::uint8_t data_coding, std::string_view user_data, bool* binary);

}  // namespace msgin5g::gateway::sms
