#include "gateway/sms/gsm7.h"

#include <array>
#include <cstdint>

#include "gateway/sms/utf8.h"

namespace msgin5g::gateway::sms {
namespace {

// TS 23.038 §6.2.1, indexed by septet. 0x1B (escape) has no character of its own.
constexpr std::array<char32_t, 128> kDefault = {
    U'@',    U'\u00A3', U'$',     U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',  // 00
    U'\u00F2', U'\u00C7', U'\n',  U'\u00D8', U'\u00F8', U'\r',    U'\u00C5', U'\u00E5',  // 08
    U'\u0394', U'_',    U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',  // 10
    U'\u03A3', U'\u0398', U'\u039E', 0,      U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',  // 18
    U' ',    U'!',    U'"',    U'#',    U'\u00A4', U'%',    U'&',    U'\'',  // 20
    U'(',    U')',    U'*',    U'+',    U',',    U'-',    U'.',    U'/',     // 28
    U'0',    U'1',    U'2',    U'3',    U'4',    U'5',    U'6',    U'7',     // 30
    U'8',    U'9',    U':',    U';',    U'<',    U'=',    U'>',    U'?',     // 38
    U'\u00A1', U'A',  U'B',    U'C',    U'D',    U'E',    U'F',    U'G',     // 40
    U'H',    U'I',    U'J',    U'K',    U'L',    U'M',    U'N',    U'O',     // 48
    U'P',    U'Q',    U'R',    U'S',    U'T',    U'U',    U'V',    U'W',     // 50
    U'X',    U'Y',    U'Z',    U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',  // 58
    U'\u00BF', U'a',  U'b',    U'c',    U'd',    U'e',    U'f',    U'g',     // 60
    U'h',    U'i',    U'j',    U'k',    U'l',    U'm',    U'n',    U'o',     // 68
    U'p',    U'q',    U'r',    U's',    U't',    U'u',    U'v',    U'w',     // 70
    U'x',    U'y',    U'z',    U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',  // 78
};

struct Extension {
  std::uint8_t code;  // the septet after ESC
  char32_t cp;
};
// TS 23.038 §6.2.1.1: the characters defined for every language (0x0A is form feed).
constexpr std::array<Extension, 10> kExtension = {{
    {0x0A, U'\f'}, {0x14, U'^'}, {0x28, U'{'}, {0x29, U'}'}, {0x2F, U'\\'},
    {0x3C, U'['},  {0x3D, U'~'}, {0x3E, U']'}, {0x40, U'|'}, {0x65, U'\u20AC'},
}};

// Appends the septet(s) for `cp`; false when it has none. A linear scan is fine: 138 entries,
// and SMS texts are a few hundred characters.
bool AppendSeptets(char32_t cp, std::string* out) {
  for (std::size_t i = 0; i < kDefault.size(); ++i) {
    if (i != 0x1B && kDefault[i] == cp) {
      out->push_back(static_cast<char>(i));
      return true;
    }
  }
  for (const Extension& e : kExtension) {
    if (e.cp == cp) {
      out->push_back(kGsm7Escape);
      out->push_back(static_cast<char>(e.code));
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> Utf8ToGsm7(std::string_view utf8) {
  std::string septets;
  septets.reserve(utf8.size());
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const std::optional<char32_t> cp = NextCodePoint(utf8, &pos);
    if (!cp || !AppendSeptets(*cp, &septets)) return std::nullopt;
  }
  return septets;
}

std::optional<std::size_t> Gsm7SeptetCount(std::string_view utf8) {
  const std::optional<std::string> septets = Utf8ToGsm7(utf8);
  if (!septets) return std::nullopt;
  return septets->size();
}

std::string Gsm7ToUtf8(std::string_view septets) {
  std::string out;
  out.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const auto septet = static_cast<unsigned char>(septets[i]);
    if (septet > 0x7F) {
      AppendUtf8(kReplacementChar, &out);
      continue;
    }
    if (septet != 0x1B) {
      AppendUtf8(kDefault[septet], &out);
      continue;
    }
    if (i + 1 == septets.size()) {  // an ESC with nothing after it
      out.push_back(' ');
      continue;
    }
    const auto code = static_cast<unsigned char>(septets[++i]);
    char32_t cp = 0;
    for (const Extension& e : kExtension) {
      if (e.code == code) cp = e.cp;
    }
    if (cp == 0) {
      if (code > 0x7F) {
        cp = kReplacementChar;
      } else if (code == 0x1B) {
        cp = U' ';  // reserved for a further extension table we do not know
      } else {
        cp = kDefault[code];
      }
    }
    AppendUtf8(cp, &out);
  }
  return out;
}

}  // namespace msgin5g::gateway::sms
