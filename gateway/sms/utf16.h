// UTF-8 <-> UTF-16BE, the octets of an SMS with data_coding 0x08.
//
// SMPP and TS 23.038 call this UCS-2, but handsets have long sent and shown UTF-16: a character
// outside the BMP (most emoji) is a surrogate pair, i.e. two 16-bit code units. We therefore
// write pairs and read them back; the segmenter keeps a pair inside one part.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::sms {

// UTF-8 to big-endian UTF-16; InvalidArgument naming the byte offset when the input is not
// well-formed UTF-8 (see utf8.h for what "well-formed" excludes).
Result<std::string> Utf8ToUtf16Be(std::string_view utf8);

// Big-endian UTF-16 to UTF-8. Never fails: MO data is what the SMSC gives us. A lone surrogate
// and a trailing odd octet each become U+FFFD.
std::string Utf16BeToUtf8(std::string_view utf16be);

}  // namespace msgin5g::gateway::sms
