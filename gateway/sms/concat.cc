#include "gateway/sms/concat.h"

#include "gateway/sms/base64.h"
#include "gateway/sms/gsm7.h"
#include "gateway/sms/segmenter.h"
#include "gateway/sms/utf16.h"
#include "gateway/sms/utf8.h"

namespace msgin5g::gateway::sms {
namespace {

constexpr std::uint8_t kIeConcat8 = 0x00;
constexpr std::uint8_t kIeConcat16 = 0x08;

struct ParsedUserData {
  std::optional<ConcatInfo> concat;  // body left empty here; filled by the caller
  std::string_view body;
};

std::uint8_t Octet(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

Status CheckNumbers(unsigned total, unsigned seq) {
  if (total == 0) return Status::InvalidArgument("concatenated SMS with total 0");
  if (seq == 0 || seq > total) {
    return Status::InvalidArgument("concatenated SMS part " + std::to_string(seq) + " of " +
                                   std::to_string(total));
  }
  return Status::Ok();
}

// The one UDH walk behind ParseConcat and UserDataAfterUdh.
Result<ParsedUserData> Parse(std::uint8_t esm_class, std::string_view sm) {
  ParsedUserData parsed;
  if ((esm_class & kEsmClassUdhi) == 0) {
    parsed.body = sm;
    return parsed;
  }
  if (sm.empty()) return Status::InvalidArgument("UDHI set but the user data is empty");
  const std::size_t udhl = Octet(sm, 0);
  if (1 + udhl > sm.size()) {
    return Status::InvalidArgument("UDH length " + std::to_string(udhl) + " beyond the " +
                                   std::to_string(sm.size()) + "-octet user data");
  }
  const std::string_view udh = sm.substr(1, udhl);
  parsed.body = sm.substr(1 + udhl);

  std::size_t i = 0;
  while (i < udh.size()) {
    if (i + 2 > udh.size()) return Status::InvalidArgument("UDH ends inside an IE header");
    const std::uint8_t iei = Octet(udh, i);
    const std::size_t iel = Octet(udh, i + 1);
    if (i + 2 + iel > udh.size()) {
      return Status::InvalidArgument("UDH IE " + std::to_string(iei) + " runs past the UDH");
    }
    const std::string_view data = udh.substr(i + 2, iel);
    if (iei == kIeConcat8 || iei == kIeConcat16) {
      const std::size_t want = iei == kIeConcat8 ? 3 : 4;
      if (iel != want) {
        return Status::InvalidArgument("concatenation IE " + std::to_string(iei) + " of length " +
                                       std::to_string(iel));
      }
      ConcatInfo info;
      const std::size_t ref_octets = want - 2;  // then total, then seq
      info.ref = ref_octets == 1
                     ? Octet(data, 0)
                     : static_cast<std::uint16_t>((Octet(data, 0) << 8) | Octet(data, 1));
      info.total = Octet(data, ref_octets);
      info.seq = Octet(data, ref_octets + 1);
      MSGIN5G_RETURN_IF_ERROR(CheckNumbers(info.total, info.seq));
      parsed.concat = std::move(info);
    }
    i += 2 + iel;
  }
  return parsed;
}

std::string Latin1ToUtf8(std::string_view octets, bool ascii_only) {
  std::string out;
  out.reserve(octets.size());
  for (const char c : octets) {
    const auto b = static_cast<unsigned char>(c);
    AppendUtf8(ascii_only && b > 0x7F ? kReplacementChar : static_cast<char32_t>(b), &out);
  }
  return out;
}

}  // namespace

Result<std::optional<ConcatInfo>> ParseConcat(std::uint8_t esm_class,
                                              std::string_view short_message) {
  Result<ParsedUserData> parsed = Parse(esm_class, short_message);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->concat) return std::optional<ConcatInfo>();
  parsed->concat->body = std::string(parsed->body);
  return std::move(parsed->concat);
}

Result<std::string> UserDataAfterUdh(std::uint8_t esm_class, std::string_view short_message) {
  Result<ParsedUserData> parsed = Parse(esm_class, short_message);
  if (!parsed.ok()) return parsed.status();
  return std::string(parsed->body);
}

Result<ConcatInfo> ConcatFromSar(std::uint16_t sar_msg_ref_num, std::uint8_t sar_total_segments,
                                 std::uint8_t sar_segment_seqnum, std::string_view user_data) {
  MSGIN5G_RETURN_IF_ERROR(CheckNumbers(sar_total_segments, sar_segment_seqnum));
  return ConcatInfo{sar_msg_ref_num, sar_total_segments, sar_segment_seqnum,
                    std::string(user_data)};
}

std::string DecodeText(std::uint8_t data_coding, std::string_view user_data, bool* binary) {
  bool is_binary = false;
  std::string text;
  if (data_coding == 0x00 || (data_coding >= 0xF0 && data_coding <= 0xF3)) {
    text = Gsm7ToUtf8(user_data);
  } else if (data_coding == 0x01) {
    text = Latin1ToUtf8(user_data, /*ascii_only=*/true);
  } else if (data_coding == 0x03) {
    text = Latin1ToUtf8(user_data, /*ascii_only=*/false);
  } else if (data_coding == kDataCodingUcs2) {
    text = Utf16BeToUtf8(user_data);
  } else {
    is_binary = true;
    text = Base64Encode(user_data);
  }
  if (binary != nullptr) *binary = is_binary;
  return text;
}

}  // namespace msgin5g::gateway::sms
