// Signed JWT access tokens (RFC 7519, JWS RFC 7515) for the OAuth2 client-credentials flow
// (TS 29.538 clause 10, TS 33.122 Annex C): signing with our own key when msgin5gd is the
// authorization server, verification against trusted issuers' public keys on every SBI request.
//
// Only ES256 (EC P-256) and RS256 are used; the algorithm is fixed by the key, never taken from the
// token, so `alg: none` or an HS256 token forged with a public key as its secret cannot pass.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace msgin5g::api::auth {

// The claims msgin5g issues and checks. CAPIF (TS 29.222 AccessTokenClaims) has iss, scope, exp;
// NRF-style tokens (TS 29.510) add sub and aud. client_id is the RFC 9068 / TS 33.122 claim.
struct TokenClaims {
  std::string iss;
  std::string sub;
  std::string client_id;
  std::string scope;
  std::vector<std::string> aud;
  std::int64_t exp = 0;  // seconds since the epoch
  std::int64_t iat = 0;
  std::string jti;

  // The caller the token speaks for: client_id, else sub, else (a CAPIF token with only the
  // claims TS 29.222 requires: iss, scope, exp) the issuer, whose grant the token is.
  const std::string& Subject() const {
    return !client_id.empty() ? client_id : !sub.empty() ? sub : iss;
  }
};

// A private signing key (PEM) with the JWS algorithm its type implies.
struct SigningKey {
  std::string alg;          // "ES256" or "RS256"
  std::string private_pem;
  std::string public_pem;   // SubjectPublicKeyInfo, for our own verifier
  std::string kid;          // sent as the JWS header's kid when not empty
};

// Loads a PEM private key: EC P-256 -> ES256, RSA (>= 2048 bits) -> RS256; anything else is
// InvalidArgument.
Result<SigningKey> LoadSigningKey(const std::string& path);
// Loads `path` if it exists, else generates an EC P-256 key and writes it there (mode 0600).
Result<SigningKey> LoadOrCreateSigningKey(const std::string& path);

Result<std::string> SignToken(const SigningKey& key, const TokenClaims& claims);

// A public key trusted for tokens whose `iss` equals `issuer`. An issuer may have several (a key
// rotation): a token whose header names a kid is checked with that key only.
struct TrustedIssuer {
  std::string issuer;
  std::string alg;         // "ES256" or "RS256", from the key type
  std::string public_pem;
  std::string kid;         // empty: matches any kid (a key configured as a PEM file)
};

// Reads a PEM public key or certificate; the algorithm follows from its key type.
Result<TrustedIssuer> LoadTrustedIssuer(const std::string& issuer, const std::string& path);

// Checks format, issuer, algorithm, signature and exp (with `leeway_s`, at most 30 s). Errors are
// kUnauthenticated with a short reason fit for `error_description` (it names no secrets), or
// kNotFound when the header's kid names no key of a trusted issuer (its keys may have rotated).
Result<TokenClaims> VerifyToken(std::string_view token, const std::vector<TrustedIssuer>& issuers,
                                std::int64_t now_s, std::int64_t leeway_s);

}  // namespace msgin5g::api::auth
