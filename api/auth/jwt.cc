#include "api/auth/jwt.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <memory>
#include <sstream>

#include <jwt/jwt.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/auth/base64url.h"

namespace msgin5g::api::auth {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::InvalidArgument("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string ToPem(EVP_PKEY* key, bool private_key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int ok = private_key ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// ES256 needs P-256; RS256 needs RSA of at least 2048 bits (RFC 7518 §3.3).
Result<std::string> AlgorithmFor(EVP_PKEY* key, const std::string& what) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &len) != 1 ||
          std::string(group) != "prime256v1") {
        return Status::InvalidArgument(what + ": EC keys must use curve P-256 (ES256)");
      }
      return std::string("ES256");
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < 2048) {
        return Status::InvalidArgument(what + ": RSA keys must have at least 2048 bits");
      }
      return std::string("RS256");
    default:
      return Status::InvalidArgument(what + ": key must be EC P-256 (ES256) or RSA (RS256)");
  }
}

Result<SigningKey> FromPrivateKey(EVP_PKEY* key, const std::string& what) {
  auto alg = AlgorithmFor(key, what);
  if (!alg.ok()) return alg.status();
  SigningKey k;
  k.alg = *alg;
  k.private_pem = ToPem(key, true);
  k.public_pem = ToPem(key, false);
  if (k.private_pem.empty() || k.public_pem.empty()) {
    return Status::Internal(what + ": cannot encode the key");
  }
  return k;
}

Status Invalid(std::string reason) { return Status(StatusCode::kUnauthenticated, std::move(reason)); }

std::string StringClaim(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<SigningKey> LoadSigningKey(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::InvalidArgument(path + ": not a PEM private key");
  return FromPrivateKey(key.get(), path);
}

Result<SigningKey> LoadOrCreateSigningKey(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return LoadSigningKey(path);
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Status::Internal("cannot generate an EC P-256 key");
  auto k = FromPrivateKey(key.get(), path);
  if (!k.ok()) return k.status();
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create " + tmp);
  bool ok = ::write(fd, k->private_pem.data(), k->private_pem.size()) ==
                static_cast<ssize_t>(k->private_pem.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Unavailable("cannot write " + path);
  }
  return k;
}

Result<std::string> SignToken(const SigningKey& key, const TokenClaims& c) {
  try {
    jwt::jwt_object obj{jwt::params::algorithm(key.alg), jwt::params::secret(key.private_pem)};
    if (!key.kid.empty()) obj.header().add_header("kid", key.kid);
    auto& p = obj.payload();
    p.add_claim("iss", c.iss);
    p.add_claim("exp", c.exp);
    if (c.iat != 0) p.add_claim("iat", c.iat);
    p.add_claim("scope", c.scope);
    if (!c.sub.empty()) p.add_claim("sub", c.sub);
    if (!c.client_id.empty()) p.add_claim("client_id", c.client_id);
    if (!c.jti.empty()) p.add_claim("jti", c.jti);
    if (!c.aud.empty()) p.add_claim("aud", c.aud);
    std::error_code ec;
    std::string token = obj.signature(ec);
    if (ec) return Status::Internal("token signing failed: " + ec.message());
    return token;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("token signing failed: ") + e.what());
  }
}

Result<TrustedIssuer> LoadTrustedIssuer(const std::string& issuer, const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    BioPtr again(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(again.get(), nullptr, nullptr, nullptr));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  }
  if (!key) return Status::InvalidArgument(path + ": not a PEM public key or certificate");
  auto alg = AlgorithmFor(key.get(), path);
  if (!alg.ok()) return alg.status();
  return TrustedIssuer{issuer, *alg, ToPem(key.get(), false), {}};
}

Result<TokenClaims> VerifyToken(std::string_view token, const std::vector<TrustedIssuer>& issuers,
                                std::int64_t now_s, std::int64_t leeway_s) {
  // Find the issuer first (the payload is read unverified only to pick the key), so the
  // algorithm and key come from our configuration, never from the token.
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos ||
      dot2 + 1 == token.size()) {
    return Invalid("token is not a signed JWT (JWS compact serialization)");
  }
  std::string header_json, payload_json;
  if (!Base64UrlDecode(token.substr(0, dot1), &header_json) ||
      !Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1), &payload_json)) {
    return Invalid("token is not base64url");
  }
  nlohmann::json header = nlohmann::json::parse(header_json, nullptr, false);
  nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, false);
  if (!header.is_object() || !payload.is_object()) return Invalid("token header or claims are not JSON objects");
  std::string alg = StringClaim(header, "alg");
  std::string kid = StringClaim(header, "kid");
  std::string iss = StringClaim(payload, "iss");
  // The issuer's keys: all of them, or the one the token's kid names (an issuer that rotates
  // its keys has several; keys configured without a kid match any kid).
  std::vector<const TrustedIssuer*> keys;
  bool issuer_known = false;
  bool alg_known = false;
  for (const auto& t : issuers) {
    if (t.issuer != iss) continue;
    issuer_known = true;
    if (!kid.empty() && !t.kid.empty() && t.kid != kid) continue;
    if (t.alg != alg) continue;
    alg_known = true;
    keys.push_back(&t);
  }
  if (!issuer_known) return Invalid("token issuer is not trusted");
  if (keys.empty()) {
    for (const auto& t : issuers) alg_known |= t.issuer == iss && t.alg == alg;
    if (alg_known && !kid.empty()) {
      // kNotFound: the authorizer may fetch the issuer's keys again (a rotation).
      return Status(StatusCode::kNotFound, "token key id '" + kid.substr(0, 64) +
                                               "' is not a known key of its issuer");
    }
    return Invalid("token algorithm '" + alg.substr(0, 16) + "' is not accepted");
  }
  auto exp = payload.find("exp");
  if (exp == payload.end() || !exp->is_number_integer()) return Invalid("token has no exp");
  Status verdict = Invalid("token signature is invalid");
  for (const TrustedIssuer* key : keys) {
    try {
      std::error_code ec;
      auto obj = jwt::decode(jwt::string_view(token.data(), token.size()),
                             jwt::params::algorithms({key->alg}), ec,
                             jwt::params::secret(key->public_pem), jwt::params::verify(true),
                             jwt::params::leeway(static_cast<std::uint32_t>(leeway_s)));
      if (!ec) {
        verdict = Status::Ok();
        break;
      }
      if (ec == jwt::VerificationErrc::TokenExpired) return Invalid("token expired");
      if (ec != jwt::VerificationErrc::InvalidSignature && ec != jwt::AlgorithmErrc::VerificationErr) {
        return Invalid("token rejected: " + ec.message());
      }
    } catch (const std::exception& e) {
      return Invalid(std::string("token rejected: ") + e.what());
    }
  }
  if (!verdict.ok()) return verdict;
  TokenClaims c;
  c.iss = iss;
  c.sub = StringClaim(payload, "sub");
  c.client_id = StringClaim(payload, "client_id");
  c.jti = StringClaim(payload, "jti");
  c.exp = exp->get<std::int64_t>();
  if (auto iat = payload.find("iat"); iat != payload.end() && iat->is_number_integer()) {
    c.iat = iat->get<std::int64_t>();
  }
  // Our own check of exp too (cpp-jwt skips tokens without it; we required it above).
  if (c.exp + leeway_s < now_s) return Invalid("token expired");
  if (auto scope = payload.find("scope"); scope != payload.end()) {
    if (scope->is_string()) {
      c.scope = scope->get<std::string>();
    } else if (scope->is_array()) {  // some issuers send a list
      for (const auto& s : *scope) {
        if (!s.is_string()) continue;
        if (!c.scope.empty()) c.scope += ' ';
        c.scope += s.get<std::string>();
      }
    }
  }
  if (auto aud = payload.find("aud"); aud != payload.end()) {
    if (aud->is_string()) c.aud.push_back(aud->get<std::string>());
    if (aud->is_array()) {
      for (const auto& a : *aud) {
        if (a.is_string()) c.aud.push_back(a.get<std::string>());
      }
    }
  }
  // A token without client_id or sub is valid: TS 29.222 AccessTokenClaims (a CAPIF core
  // function's token) has only iss, scope and exp. The authorizer names its caller by the issuer.
  return c;
}

}  // namespace msgin5g::api::auth
