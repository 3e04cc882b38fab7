// libFuzzer target: bearer tokens and issuers' key sets. Mode 0 verifies the input as a token
// (format, base64url, header, signature: what an attacker sends). Mode 1 signs the input as the
// token's claims with a trusted key (ES256, made at start), so the claims parser behind the
// signature check is reached too: it must refuse or accept, never crash. Mode 2 parses the input
// as a JWK set (what a CAPIF core function's key URL returns).
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/jwks.h"
#include "api/auth/jwt.h"
#include "tests/support/base64url.h"

namespace {

namespace auth = msgin5g::api::auth;

using msgin5g::testing_support::B64Url;

struct Signer {
  EVP_PKEY* key = nullptr;
  std::vector<auth::TrustedIssuer> issuers;
  Signer() {
    key = EVP_EC_gen("P-256");
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char* pem = nullptr;
    long n = BIO_get_mem_data(bio, &pem);
    issuers.push_back(
        {"https://issuer.fuzz", "ES256", std::string(pem, static_cast<std::size_t>(n)), {}});
    BIO_free(bio);
  }
  // header.payload.signature with a valid ES256 signature (raw r || s, RFC 7518 3.4).
  std::string Sign(std::string_view claims) const {
    const std::string input = B64Url(R"({"alg":"ES256","typ":"JWT"})") + "." + B64Url(claims);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::vector<unsigned char> der(len);
    EVP_DigestSign(ctx, der.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    EVP_MD_CTX_free(ctx);
    const unsigned char* p = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    unsigned char raw[64] = {};
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    return input + "." + B64Url(std::string_view(reinterpret_cast<const char*>(raw), 64));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Signer signer;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::int64_t now = 1'800'000'000;
  switch (data[0] % 3) {
    case 0:
      (void)auth::VerifyToken(rest, signer.issuers, now, 30);
      break;
    case 1:
      (void)auth::VerifyToken(signer.Sign(rest), signer.issuers, now, 30);
      break;
    default:
      (void)auth::ParseJwks(rest, "https://issuer.fuzz");
      break;
  }
  return 0;
}
