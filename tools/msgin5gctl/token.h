// Admin bearer tokens as msgin5gd's admin.tokens_file expects them: "m5g_" + 32 random bytes in
// base64url without padding, stored as "NAME ROLE sha256:HEX" (HEX: SHA-256 of the whole token).
#pragma once

#include <string>
#include <string_view>

#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

Result<std::string> NewAdminToken();      // OpenSSL RAND_bytes
std::string TokenHash(std::string_view token);  // "sha256:" + 64 lowercase hex
bool ValidTokenName(std::string_view name);     // [A-Za-z0-9._-]{1,64}, as msgin5gd checks

}  // namespace msgin5gctl
