// Base64 (RFC 4648 §4, standard alphabet, padded): how an MSGin5G payload carries the octets of
// a binary (data_coding 0x04) SMS, in both directions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::sms {

std::string Base64Encode(std::string_view bytes);

// Strict decoding, so a corrupt payload is refused rather than half-sent: the length must be a
// multiple of 4, '=' only as the last one or two characters, no whitespace or other characters
// outside the alphabet, and the unused bits before the padding must be zero (RFC 4648 §3.5),
// which makes every accepted text the one canonical encoding of its bytes.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace msgin5g::gateway::sms
