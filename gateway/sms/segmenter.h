// Turns one MSGin5G payload into the short_message octets of one or more SMS (submit_sm), with
// the data_coding to send them with and, when it does not fit one SMS, a concatenation UDH
// (3GPP TS 23.040 §9.2.3.24.1 / .8) at the front of every part.
//
// Capacities (an SMS carries 140 octets of user data):
//   data_coding 0x00, GSM 7-bit, unpacked septets (gsm7.h): 160 septets alone. In a part the UDH
//     takes its octets plus fill bits to the next septet boundary once the SMSC packs it, i.e.
//     ceil(8 * UDH octets / 7) septets: 6-octet UDH -> 7 -> 153 septets of text; 7-octet UDH ->
//     8 -> 152. short_message is then the UDH octets followed by one octet per septet; an
//     ESC pair (extension character) is never split across parts.
//   data_coding 0x04, 8-bit: 140 octets alone, 140 - UDH octets in a part (134 / 133).
//   data_coding 0x08, UTF-16BE: 70 code units alone, (140 - UDH octets) / 2 in a part (67 / 66);
//     a surrogate pair is never split across parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway::sms {

inline constexpr std::uint8_t kDataCodingDefault = 0x00;  // SMSC default alphabet: GSM 7-bit here
inline constexpr std::uint8_t kDataCodingBinary = 0x04;   // 8-bit data
inline constexpr std::uint8_t kDataCodingUcs2 = 0x08;
inline constexpr std::uint8_t kEsmClassUdhi = 0x40;       // short_message starts with a UDH

struct SegmentOptions {
  // Most parts one payload may become; above it EncodeForSms refuses. Values above 255 act as
  // 255, the most a one-octet "total" field can say.
  std::size_t max_parts = 16;
  // Concatenation reference, from the caller's counter, identical in every part of a message.
  // The 8-bit form (IE 0x00) sends only the low octet.
  std::uint16_t reference = 0;
  // IE 0x08 (16-bit reference, 7-octet UDH) instead of IE 0x00 (8-bit reference, 6-octet UDH).
  bool use_16bit_ref = false;
};

struct Part {
  // 0x00 for a lone SMS, kEsmClassUdhi for a part of a concatenated one. Only the UDHI bit: the
  // submitter ORs in messaging mode / type bits it wants.
  std::uint8_t esm_class = 0;
  std::string short_message;  // the UDH, when there is one, then the user data
};

struct Encoded {
  std::uint8_t data_coding = kDataCodingDefault;
  std::vector<Part> parts;  // never empty; parts[i] carries seq i + 1
};

// `binary`: the caller decides it from configuration; `payload` is then base64 text (RFC 4648,
// strict) of the octets to send with data_coding 0x04. Otherwise `payload` is UTF-8 text, sent
// GSM 7-bit when every character is in the default alphabet or its extension table, else
// UTF-16BE. An empty payload is one empty part.
// Errors (InvalidArgument): bad base64, invalid UTF-8, more parts than options.max_parts.
Result<Encoded> EncodeForSms(std::string_view payload, bool binary,
                             const SegmentOptions& options = {});

}  // namespace msgin5g::gateway::sms
