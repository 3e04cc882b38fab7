// Client secrets are stored hashed: "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>"
// (PBKDF2-HMAC-SHA256, RFC 8018, 16-byte random salt, 32-byte output). `msgin5gd --hash-secret`
// prints one for the configuration.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::api::auth {

// 20000 iterations keep one check near 10 ms on one core: token requests are rare (once per token
// lifetime per client), and the check runs on an I/O thread.
inline constexpr int kDefaultHashIterations = 20000;

std::string HashSecret(std::string_view secret, int iterations = kDefaultHashIterations);

// InvalidArgument when `hash` is not in the format above.
Status CheckHashFormat(std::string_view hash);

// Constant-time comparison; false for a malformed hash.
bool VerifySecret(std::string_view secret, std::string_view hash);

}  // namespace msgin5g::api::auth
