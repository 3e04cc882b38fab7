// base64url without padding (RFC 4648 §5), as JWS compact serialisation uses it: for tests and
// fuzz targets that craft tokens by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace msgin5g::testing_support {

inline std::string B64Url(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace msgin5g::testing_support
