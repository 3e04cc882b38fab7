// Hex digits, for percent-decoding and for hashes written as text.
#pragma once

namespace msgin5g {

// 0..15 for [0-9a-fA-F], -1 for anything else.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace msgin5g
