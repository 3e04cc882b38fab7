#include "api/auth/secret_hash.h"

#include <charconv>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace msgin5g::api::auth {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr int kSaltBytes = 16;
constexpr int kHashBytes = 32;

std::string B64(const unsigned char* data, int n) {
  std::string out(static_cast<std::size_t>(4 * ((n + 2) / 3)), '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, n);
  out.resize(static_cast<std::size_t>(len));
  return out;
}

bool UnB64(std::string_view in, std::vector<unsigned char>* out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  out->assign(in.size() / 4 * 3, 0);
  int len = EVP_DecodeBlock(out->data(), reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
  if (len < 0) return false;
  std::size_t pad = (in.back() == '=') + (in.size() > 1 && in[in.size() - 2] == '=');
  out->resize(static_cast<std::size_t>(len) - pad);
  return true;
}

struct Parsed {
  int iterations = 0;
  std::vector<unsigned char> salt;
  std::vector<unsigned char> hash;
};

bool ParseHash(std::string_view h, Parsed* p) {
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    auto d = h.find('$');
    if ((i < 3) == (d == std::string_view::npos)) return false;
    parts[i] = h.substr(0, d);
    h = d == std::string_view::npos ? std::string_view() : h.substr(d + 1);
  }
  if (parts[0] != kScheme) return false;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), p->iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || p->iterations < 1000 ||
      p->iterations > 10000000) {
    return false;
  }
  return UnB64(parts[2], &p->salt) && p->salt.size() >= 8 && UnB64(parts[3], &p->hash) &&
         p->hash.size() == kHashBytes;
}

}  // namespace

std::string HashSecret(std::string_view secret, int iterations) {
  unsigned char salt[kSaltBytes];
  RAND_bytes(salt, kSaltBytes);
  unsigned char out[kHashBytes];
  PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt, kSaltBytes, iterations,
                    EVP_sha256(), kHashBytes, out);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + B64(salt, kSaltBytes) +
         "$" + B64(out, kHashBytes);
}

Status CheckHashFormat(std::string_view hash) {
  Parsed p;
  if (!ParseHash(hash, &p)) {
    return Status::InvalidArgument(
        "expected pbkdf2-sha256$ITERATIONS$SALT$HASH (make one with msgin5gd --hash-secret)");
  }
  return Status::Ok();
}

bool VerifySecret(std::string_view secret, std::string_view hash) {
  Parsed p;
  if (!ParseHash(hash, &p)) return false;
  unsigned char out[kHashBytes];
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), p.salt.data(),
                        static_cast<int>(p.salt.size()), p.iterations, EVP_sha256(), kHashBytes,
                        out) != 1) {
    return false;
  }
  return CRYPTO_memcmp(out, p.hash.data(), kHashBytes) == 0;
}

}  // namespace msgin5g::api::auth
