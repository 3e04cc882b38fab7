// JSON Web Key Sets (RFC 7517) for token issuers that publish their signing keys, such as a
// CAPIF core function (its key URL, capif.keys_url): each usable key becomes a TrustedIssuer of
// the issuer, with its kid, so tokens signed with a rotated key are checked with the right one.
//
// Accepted keys: EC P-256 (kty EC, crv P-256, x, y) -> ES256; RSA (kty RSA, n, e, >= 2048 bits)
// -> RS256; or either as the first certificate of x5c. A key whose "use" is not "sig", whose
// "alg" contradicts its type, or that is malformed is skipped and named in `skipped`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/auth/jwt.h"
#include "common/status.h"

namespace msgin5g::api::auth {

struct JwksKeys {
  std::vector<TrustedIssuer> keys;
  std::vector<std::string> skipped;  // why each unusable key was left out
};

// InvalidArgument when `json` is not an object with a "keys" array (RFC 7517 §5).
Result<JwksKeys> ParseJwks(std::string_view json, const std::string& issuer);

// The public half of `key` as one JWK object (kty, crv/x/y or n/e, alg, use "sig", kid): what
// an issuer publishes, and what the tests serve as a CAPIF core function.
Result<std::string> ToJwk(const SigningKey& key, const std::string& kid);

}  // namespace msgin5g::api::auth
