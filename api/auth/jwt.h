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

  // The caller the token speaks for: client_id, else sub.
  const std::string& Subject() const { return client_id.empty() ? sub : client_id; }
};

// A private signing key (PEM) with the JWS algorithm its type implies.
struct SigningKey {
  std::string alg;          // "ES256" or "RS256"
  std::string private_pem;
  std::string public_pem;   // SubjectPublicKeyInfo, for our own verifier
};

// Loads a PEM private key: EC P-256 -> ES256, RSA (>= 2048 bits) -> RS256; anything else is
// InvalidArgument.
Result<SigningKey> LoadSigningKey(const std::string& path);
// Loads `path` if it exists, else generates an EC P-256 key and writes it there (mode 0600).
Result<SigningKey> LoadOrCreateSigningKey(const std::string& path);

Result<std::string> SignToken(const SigningKey& key, const TokenClaims& claims);

// A public key trusted for tokens whose `iss` equals `issuer`.
struct TrustedIssuer {
  std::string issuer;
  std::string alg;         // "ES256" or "RS256", from the key type
  std::string public_pem;
};

// Reads a PEM public key or certificate; the algorithm follows from its key type.
Result<TrustedIssuer> LoadTrustedIssuer(const std::string& issuer, const std::string& path);

// Checks format, issuer, algorithm, signature and exp (with `leeway_s`, at most 30 s). Errors are
// kUnauthenticated with a short reason fit for `error_description` (it names no secrets).
Result<TokenClaims> VerifyToken(std::string_view token, const std::vector<TrustedIssuer>& issuers,
                                std::int64_t now_s, std::int64_t leeway_s);

}  // namespace msgin5g::api::auth
