#include "gateway/sms/base64.h"

#include <cstdint>

namespace msgin5g::gateway::sms {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of an alphabet character, or -1.
int SextetOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(kAlphabet[(v >> 6) & 0x3F]);
    out.push_back(kAlphabet[v & 0x3F]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 length is not a multiple of 4");
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;

  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t significant = last ? 4 - padding : 4;  // characters that carry bits
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int sextet = 0;
      if (k < significant) {
        sextet = SextetOf(text[i + k]);
        if (sextet < 0) {
          return Status::InvalidArgument("invalid base64 character at " + std::to_string(i + k));
        }
      }
      v = (v << 6) | static_cast<std::uint32_t>(sextet);
    }
    // Padding bits must be zero: "QQ==" is 'A', "QR==" is refused.
    if ((padding == 1 && last && (v & 0xFF) != 0) || (padding == 2 && last && (v & 0xFFFF) != 0)) {
      return Status::InvalidArgument("base64 has non-zero bits before its padding");
    }
    out.push_back(static_cast<char>((v >> 16) & 0xFF));
    if (significant > 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (significant > 3) out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

}  // namespace msgin5g::gateway::sms
