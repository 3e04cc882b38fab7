#include "gateway/sms/utf16.h"

#include <optional>

#include "gateway/sms/utf8.h"

namespace msgin5g::gateway::sms {
namespace {

void AppendUnit(char32_t unit, std::string* out) {
  out->push_back(static_cast<char>((unit >> 8) & 0xFF));
  out->push_back(static_cast<char>(unit & 0xFF));
}

char32_t UnitAt(std::string_view data, std::size_t i) {
  return (static_cast<char32_t>(static_cast<unsigned char>(data[i])) << 8) |
         static_cast<unsigned char>(data[i + 1]);
}

bool IsHighSurrogate(char32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool IsLowSurrogate(char32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

}  // namespace

Result<std::string> Utf8ToUtf16Be(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() * 2);
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const std::size_t at = pos;
    const std::optional<char32_t> cp = NextCodePoint(utf8, &pos);
    if (!cp) return Status::InvalidArgument("invalid UTF-8 at byte " + std::to_string(at));
    if (*cp < 0x10000) {
      AppendUnit(*cp, &out);
    } else {
      const char32_t v = *cp - 0x10000;
      AppendUnit(0xD800 + (v >> 10), &out);
      AppendUnit(0xDC00 + (v & 0x3FF), &out);
    }
  }
  return out;
}

std::string Utf16BeToUtf8(std::string_view utf16be) {
  std::string out;
  out.reserve(utf16be.size());
  std::size_t i = 0;
  while (i + 1 < utf16be.size()) {
    const char32_t unit = UnitAt(utf16be, i);
    i += 2;
    if (IsHighSurrogate(unit) && i + 1 < utf16be.size() && IsLowSurrogate(UnitAt(utf16be, i))) {
      const char32_t low = UnitAt(utf16be, i);
      i += 2;
      AppendUtf8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), &out);
    } else {
      AppendUtf8(unit, &out);  // a lone surrogate comes out as U+FFFD (see AppendUtf8)
    }
  }
  if (i < utf16be.size()) AppendUtf8(kReplacementChar, &out);  // an odd octet left over
  return out;
}

}  // namespace msgin5g::gateway::sms
