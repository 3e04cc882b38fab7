// Strict UTF-8 reading and writing shared by the SMS text encoders.
//
// Strict means what RFC 3629 allows and nothing else: no overlong forms, no encoded surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. The encoders refuse such
// input rather than guessing, so a bad payload is reported instead of being sent as garbage.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace msgin5g::gateway::sms {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Reads the code point starting at text[*pos] (requires *pos < text.size()) and moves *pos past
// it. When the bytes there are not well-formed UTF-8, returns nullopt and moves *pos by one byte,
// so a caller that wants to substitute can simply go on.
std::optional<char32_t> NextCodePoint(std::string_view text, std::size_t* pos);

// Appends `cp` as UTF-8; a surrogate or a value above U+10FFFF is written as U+FFFD, so the
// output is always valid UTF-8.
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace msgin5g::gateway::sms
