#include "api/auth/jwks.h"

#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/auth/base64url.h"

namespace msgin5g::api::auth {

namespace {

struct Free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIGNUM* n) const { BN_free(n); }
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(X509* x) const { X509_free(x); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

std::string Str(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A base64url member decoded; empty when absent or malformed.
std::string Bytes(const nlohmann::json& j, const char* name) {
  std::string out;
  if (!Base64UrlDecode(Str(j, name), &out)) out.clear();
  return out;
}

Ptr<EVP_PKEY> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  Ptr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Ptr<EVP_PKEY>(key);
}

Ptr<EVP_PKEY> EcKey(const nlohmann::json& jwk) {
  std::string x = Bytes(jwk, "x"), y = Bytes(jwk, "y");
  if (Str(jwk, "crv") != "P-256" || x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  return FromParams("EC", bld.get());
}

Ptr<EVP_PKEY> RsaKey(const nlohmann::json& jwk) {
  std::string n = Bytes(jwk, "n"), e = Bytes(jwk, "e");
  if (n.empty() || e.empty() || e.size() > 8) return nullptr;
  Ptr<BIGNUM> bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                             static_cast<int>(n.size()), nullptr));
  Ptr<BIGNUM> bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                             static_cast<int>(e.size()), nullptr));
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return nullptr;
  }
  return FromParams("RSA", bld.get());
}

// x5c: standard base64 (RFC 7517 §4.7, not base64url) DER certificates, the first one the key's.
Ptr<EVP_PKEY> CertificateKey(const nlohmann::json& jwk) {
  auto x5c = jwk.find("x5c");
  if (x5c == jwk.end() || !x5c->is_array() || x5c->empty() || !(*x5c)[0].is_string()) return nullptr;
  std::string b64 = (*x5c)[0].get<std::string>();
  if (b64.empty() || b64.size() > 64 * 1024 || b64.size() % 4 != 0) return nullptr;
  std::string der(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return nullptr;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Ptr<X509> cert(d2i_X509(nullptr, &p, n));  // trailing padding bytes are ignored by DER
  if (!cert) return nullptr;
  return Ptr<EVP_PKEY>(X509_get_pubkey(cert.get()));
}

std::string PublicPem(EVP_PKEY* key) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// The algorithm a key is fit for, or empty (EC keys are P-256 by construction above, but an x5c
// certificate may hold any key).
std::string AlgOf(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t len = 0;
      bool p256 = EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                 sizeof(group), &len) == 1 &&
                  std::string(group) == "prime256v1";
      return p256 ? "ES256" : "";
    }
    case EVP_PKEY_RSA:
      return EVP_PKEY_get_bits(key) >= 2048 ? "RS256" : "";
    default:
      return "";
  }
}

std::string BnBytes(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
  Ptr<BIGNUM> owned(bn);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

Result<JwksKeys> ParseJwks(std::string_view json, const std::string& issuer) {
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Status::InvalidArgument("not a JWK set: no \"keys\" array");
  }
  JwksKeys out;
  std::size_t index = 0;
  for (const auto& jwk : doc["keys"]) {
    std::string where = "key " + std::to_string(index++);
    if (!jwk.is_object()) {
      out.skipped.push_back(where + ": not an object");
      continue;
    }
    std::string kid = Str(jwk, "kid");
    if (!kid.empty()) where += " (kid " + kid.substr(0, 64) + ")";
    std::string use = Str(jwk, "use");
    if (!use.empty() && use != "sig") {
      out.skipped.push_back(where + ": use is not sig");
      continue;
    }
    std::string kty = Str(jwk, "kty");
    Ptr<EVP_PKEY> key = jwk.contains("x5c") ? CertificateKey(jwk)
                        : kty == "EC"       ? EcKey(jwk)
                        : kty == "RSA"      ? RsaKey(jwk)
                                            : nullptr;
    if (!key) {
      out.skipped.push_back(where + ": not a usable EC P-256, RSA or x5c key");
      continue;
    }
    std::string alg = AlgOf(key.get());
    std::string declared = Str(jwk, "alg");
    if (alg.empty() || (!declared.empty() && declared != alg)) {
      out.skipped.push_back(where + ": key type fits neither ES256 nor RS256 as declared");
      continue;
    }
    out.keys.push_back(TrustedIssuer{issuer, alg, PublicPem(key.get()), kid});
  }
  return out;
}

Result<std::string> ToJwk(const SigningKey& key, const std::string& kid) {
  Ptr<BIO> bio(BIO_new_mem_buf(key.public_pem.data(), static_cast<int>(key.public_pem.size())));
  Ptr<EVP_PKEY> pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return Status::InvalidArgument("not a PEM public key");
  nlohmann::json jwk = {{"use", "sig"}, {"alg", key.alg}, {"kid", kid}};
  if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_EC) {
    unsigned char point[65];
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                        &len) != 1 ||
        len != 65) {
      return Status::InvalidArgument("not an uncompressed P-256 point");
    }
    const char* p = reinterpret_cast<const char*>(point);
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(std::string_view(p + 1, 32));
    jwk["y"] = Base64UrlEncode(std::string_view(p + 33, 32));
  } else {
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(BnBytes(pkey.get(), OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = Base64UrlEncode(BnBytes(pkey.get(), OSSL_PKEY_PARAM_RSA_E));
  }
  return jwk.dump();
}

}  // namespace msgin5g::api::auth
