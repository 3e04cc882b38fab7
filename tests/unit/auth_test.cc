// Unit tests for api/auth/: JWT keys, signing and verification (jwt.h), OAuth2 scopes (scope.h),
// hashed client secrets (secret_hash.h), client policies (policy.h), the rate limiter
// (rate_limiter.h), the security guard (authorizer.h) and the OAuth2 token endpoint
// (token_endpoint.h). Keys are made at test time with the OpenSSL API in a temporary directory.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <jwt/jwt.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/auth/authorizer.h"
#include "api/auth/base64url.h"
#include "api/auth/jwks.h"
#include "api/auth/jwt.h"
#include "tests/support/base64url.h"
#include "api/auth/policy.h"
#include "api/auth/rate_limiter.h"
#include "api/auth/scope.h"
#include "api/auth/secret_hash.h"
#include "api/auth/token_endpoint.h"
#include "api/http/message.h"
#include "api/http/responder.h"
#include "api/http/router.h"
#include "metrics/registry.h"
#include "tests/support/metric_value.h"

namespace msgin5g::api::auth {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::ElementsAre;

// ---------------------------------------------------------------------------------------------
// Helpers: temp dir, keys, certificates, base64url, clock.

std::int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A fresh directory under testing::TempDir(), removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    static int n = 0;
    path_ = fs::path(testing::TempDir()) /
            ("auth_test." + tag + "." + std::to_string(::getpid()) + "." + std::to_string(n++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Pkey MakeEc(const char* curve) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }
Pkey MakeRsa(std::size_t bits) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

std::string PrivatePem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

std::string PublicPem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(b, k), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

// A self-signed certificate for `k` (PEM).
std::string SelfSignedCertPem(EVP_PKEY* k) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, k);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ccf.example.net"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  EXPECT_GT(X509_sign(x, k, EVP_sha256()), 0);
  BIO* b = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_X509(b, x), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  X509_free(x);
  return s;
}

using testing_support::B64Url;

std::string FromB64Url(std::string s) {
  for (auto& ch : s) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  std::size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n) - pad);
  return out;
}

std::string B64Std(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The three parts of a compact JWS.
std::vector<std::string> Parts(const std::string& token) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    auto d = token.find('.', i);
    out.push_back(token.substr(i, d == std::string::npos ? std::string::npos : d - i));
    if (d == std::string::npos) break;
    i = d + 1;
  }
  return out;
}

// Keys shared by the whole test program (RSA generation is slow enough to do only once).
struct Keys {
  ScratchDir dir{"keys"};
  std::string ec_file, ec2_file, rsa_file, p384_file, rsa1024_file, ed25519_file;
  std::string ec_pub_file, rsa_cert_file, p384_pub_file, rsa1024_pub_file;
  SigningKey ec, ec2, rsa;

  Keys() {
    Pkey ec_key = MakeEc("P-256"), ec2_key = MakeEc("P-256"), rsa_key = MakeRsa(2048),
         p384 = MakeEc("P-384"), rsa1024 = MakeRsa(1024),
         ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    ec_file = dir.File("ec.pem");
    ec2_file = dir.File("ec2.pem");
    rsa_file = dir.File("rsa.pem");
    p384_file = dir.File("p384.pem");
    rsa1024_file = dir.File("rsa1024.pem");
    ed25519_file = dir.File("ed25519.pem");
    ec_pub_file = dir.File("ec-pub.pem");
    rsa_cert_file = dir.File("rsa-cert.pem");
    p384_pub_file = dir.File("p384-pub.pem");
    rsa1024_pub_file = dir.File("rsa1024-pub.pem");
    WriteText(ec_file, PrivatePem(ec_key.get()));
    WriteText(ec2_file, PrivatePem(ec2_key.get()));
    WriteText(rsa_file, PrivatePem(rsa_key.get()));
    WriteText(p384_file, PrivatePem(p384.get()));
    WriteText(rsa1024_file, PrivatePem(rsa1024.get()));
    WriteText(ed25519_file, PrivatePem(ed.get()));
    WriteText(ec_pub_file, PublicPem(ec_key.get()));
    WriteText(rsa_cert_file, SelfSignedCertPem(rsa_key.get()));
    WriteText(p384_pub_file, PublicPem(p384.get()));
    WriteText(rsa1024_pub_file, PublicPem(rsa1024.get()));
    ec = *LoadSigningKey(ec_file);
    ec2 = *LoadSigningKey(ec2_file);
    rsa = *LoadSigningKey(rsa_file);
  }
};

const Keys& K() {
  static const Keys keys;  // made on first use; its directory is removed at exit
  return keys;
}

TrustedIssuer IssuerOf(const std::string& iss, const SigningKey& key) {
  return TrustedIssuer{iss, key.alg, key.public_pem, {}};
}

TokenClaims Claims(const std::string& iss, const std::string& client, const std::string& scope,
                   std::int64_t exp) {
  TokenClaims c;
  c.iss = iss;
  c.client_id = client;
  c.scope = scope;
  c.exp = exp;
  c.iat = NowS();
  return c;
}

std::string Sign(const SigningKey& key, const TokenClaims& c) {
  auto t = SignToken(key, c);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : std::string();
}

// The claims part of a token, decoded.
std::string PayloadOf(const std::string& token) {
  auto d1 = token.find('.'), d2 = token.find('.', d1 + 1);
  std::string out;
  EXPECT_TRUE(api::auth::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &out));
  return out;
}

// A token with a JSON header and payload of our choosing and `sig` (already base64url) as
// signature.
std::string RawToken(const std::string& header, const std::string& payload, const std::string& sig) {
  return B64Url(header) + "." + B64Url(payload) + "." + sig;
}

void ExpectUnauthenticated(const Result<TokenClaims>& r, const std::string& reason_part) {
  ASSERT_FALSE(r.ok()) << "accepted a token that must be refused (" << reason_part << ")";
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr(reason_part));
}

// A refusal for the signature (not for the format, issuer, algorithm or expiry).
void ExpectBadSignature(const Result<TokenClaims>& r) {
  ASSERT_FALSE(r.ok()) << "accepted a token with a bad signature";
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("token signature is invalid"));
}

// ---------------------------------------------------------------------------------------------
// jwt.h: keys

TEST(JwtKeys, LoadSigningKeyEcP256IsEs256) {
  auto k = LoadSigningKey(K().ec_file);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->alg, "ES256");
  EXPECT_THAT(k->private_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_THAT(k->public_pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  EXPECT_EQ(k->public_pem, ReadText(K().ec_pub_file));
}

TEST(JwtKeys, LoadSigningKeyRsa2048IsRs256) {
  auto k = LoadSigningKey(K().rsa_file);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->alg, "RS256");
  EXPECT_THAT(k->public_pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));
}

TEST(JwtKeys, LoadSigningKeyRefusesOtherKeysAndFiles) {
  ScratchDir dir("badkeys");
  WriteText(dir.File("garbage.pem"), "not a key\n");
  for (const std::string& path :
       {K().p384_file, K().rsa1024_file, K().ed25519_file, K().ec_pub_file,
        dir.File("garbage.pem"), dir.File("missing.pem")}) {
    auto k = LoadSigningKey(path);
    ASSERT_FALSE(k.ok()) << path << " was accepted as " << k->alg;
    EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(k.status().message(), HasSubstr(path));
  }
  EXPECT_THAT(LoadSigningKey(K().p384_file).status().message(), HasSubstr("P-256"));
  EXPECT_THAT(LoadSigningKey(K().rsa1024_file).status().message(), HasSubstr("2048"));
}

TEST(JwtKeys, LoadOrCreateSigningKeyCreatesAnEcKeyWithMode0600ThenReloadsIt) {
  ScratchDir dir("create");
  std::string path = dir.File("signing.pem");
  ASSERT_FALSE(fs::exists(path));
  auto created = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->alg, "ES256");
  ASSERT_TRUE(fs::exists(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(ReadText(path), created->private_pem);

  // Second call loads the same key instead of making a new one.
  auto again = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->private_pem, created->private_pem);
  EXPECT_EQ(again->public_pem, created->public_pem);

  // A token signed with the created key verifies with its public key.
  std::string t = Sign(*created, Claims("self", "c1", "", NowS() + 60));
  EXPECT_TRUE(VerifyToken(t, {IssuerOf("self", *again)}, NowS(), 0).ok());
}

TEST(JwtKeys, LoadOrCreateSigningKeyLoadsAnExistingRsaKeyAndRefusesABadOne) {
  auto k = LoadOrCreateSigningKey(K().rsa_file);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->alg, "RS256");
  EXPECT_EQ(k->private_pem, K().rsa.private_pem);
  // An existing but unusable key is an error, never silently replaced.
  std::string before = ReadText(K().p384_file);
  EXPECT_FALSE(LoadOrCreateSigningKey(K().p384_file).ok());
  EXPECT_EQ(ReadText(K().p384_file), before);
}

TEST(JwtKeys, LoadTrustedIssuerFromPublicKeyOrCertificate) {
  auto ec = LoadTrustedIssuer("ccf", K().ec_pub_file);
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_EQ(ec->issuer, "ccf");
  EXPECT_EQ(ec->alg, "ES256");
  EXPECT_EQ(ec->public_pem, K().ec.public_pem);

  auto rsa = LoadTrustedIssuer("nrf", K().rsa_cert_file);
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_EQ(rsa->issuer, "nrf");
  EXPECT_EQ(rsa->alg, "RS256");
  EXPECT_EQ(rsa->public_pem, K().rsa.public_pem);

  // The loaded issuers verify tokens signed by the matching private keys.
  std::int64_t now = NowS();
  EXPECT_TRUE(VerifyToken(Sign(K().ec, Claims("ccf", "c", "", now + 60)), {*ec}, now, 0).ok());
  EXPECT_TRUE(VerifyToken(Sign(K().rsa, Claims("nrf", "c", "", now + 60)), {*rsa}, now, 0).ok());
}

TEST(JwtKeys, LoadTrustedIssuerRefusesWeakKeysAndNonKeys) {
  ScratchDir dir("badpub");
  WriteText(dir.File("garbage.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  for (const std::string& path : {K().p384_pub_file, K().rsa1024_pub_file, dir.File("garbage.pem"),
                                  dir.File("missing.pem")}) {
    auto t = LoadTrustedIssuer("x", path);
    ASSERT_FALSE(t.ok()) << path << " was accepted";
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << path;
  }
}

// ---------------------------------------------------------------------------------------------
// jwt.h: signing and verification

TEST(JwtVerify, SignedTokensRoundTripEveryClaim) {
  std::int64_t now = NowS();
  for (const SigningKey* key : {&K().ec, &K().rsa}) {
    TokenClaims c;
    c.iss = "issuer-1";
    c.sub = "subject-1";
    c.client_id = "client-1";
    c.scope = "3gpp#msgin5g:msgs-msgdelivery";
    c.aud = {"msgin5g", "other"};
    c.exp = now + 600;
    c.iat = now;
    c.jti = "jti-1";
    std::string token = Sign(*key, c);
    EXPECT_EQ(Parts(token).size(), 3u);
    auto header = boost::json::parse(FromB64Url(Parts(token)[0]));
    EXPECT_EQ(header.as_object().at("alg").as_string(), key->alg);

    auto v = VerifyToken(token, {IssuerOf("issuer-1", *key)}, now, 30);
    ASSERT_TRUE(v.ok()) << key->alg << ": " << v.status().ToString();
    EXPECT_EQ(v->iss, "issuer-1");
    EXPECT_EQ(v->sub, "subject-1");
    EXPECT_EQ(v->client_id, "client-1");
    EXPECT_EQ(v->Subject(), "client-1");
    EXPECT_EQ(v->scope, "3gpp#msgin5g:msgs-msgdelivery");
    EXPECT_THAT(v->aud, ElementsAre("msgin5g", "other"));
    EXPECT_EQ(v->exp, now + 600);
    EXPECT_EQ(v->iat, now);
    EXPECT_EQ(v->jti, "jti-1");
  }
}

TEST(JwtVerify, PicksTheKeyOfTheTokensIssuerAmongSeveral) {
  std::int64_t now = NowS();
  std::vector<TrustedIssuer> issuers = {IssuerOf("a", K().ec), IssuerOf("b", K().rsa),
                                        IssuerOf("c", K().ec2)};
  EXPECT_TRUE(VerifyToken(Sign(K().rsa, Claims("b", "x", "", now + 60)), issuers, now, 0).ok());
  EXPECT_TRUE(VerifyToken(Sign(K().ec2, Claims("c", "x", "", now + 60)), issuers, now, 0).ok());
  // Signed by a's key but claiming to be c: c's key does not verify it.
  ExpectBadSignature(VerifyToken(Sign(K().ec, Claims("c", "x", "", now + 60)), issuers, now, 0));
}

TEST(JwtVerify, RefusesTokensThatAreNotThreeBase64UrlJsonParts) {
  std::int64_t now = NowS();
  std::vector<TrustedIssuer> issuers = {IssuerOf("ccf", K().ec)};
  std::string good = Sign(K().ec, Claims("ccf", "c", "", now + 60));
  auto p = Parts(good);
  ASSERT_TRUE(VerifyToken(good, issuers, now, 0).ok());
  for (const std::string& t : {std::string(), std::string("abc"), p[0] + "." + p[1],
                               good + ".extra", p[0] + "." + p[1] + ".", std::string("..")}) {
    ExpectUnauthenticated(VerifyToken(t, issuers, now, 0), "not a signed JWT");
  }
  // Characters outside the base64url alphabet (standard base64 '+', '/', padding '=').
  ExpectUnauthenticated(VerifyToken("e30+." + p[1] + "." + p[2], issuers, now, 0), "base64url");
  ExpectUnauthenticated(VerifyToken(p[0] + "." + p[1] + "=." + p[2], issuers, now, 0),
                        "base64url");
  ExpectUnauthenticated(VerifyToken(p[0] + "!." + p[1] + "." + p[2], issuers, now, 0),
                        "base64url");
  // Decodes, but not to JSON objects.
  std::string claims = R"({"iss":"ccf","client_id":"c","exp":)" + std::to_string(now + 60) + "}";
  ExpectUnauthenticated(VerifyToken(RawToken("[]", claims, p[2]), issuers, now, 0), "JSON");
  ExpectUnauthenticated(VerifyToken(RawToken("not json", claims, p[2]), issuers, now, 0), "JSON");
  ExpectUnauthenticated(VerifyToken(RawToken(R"({"alg":"ES256"})", "123", p[2]), issuers, now, 0),
                        "JSON");
  ExpectUnauthenticated(
      VerifyToken(RawToken(R"({"alg":"ES256"})", R"(["ccf"])", p[2]), issuers, now, 0), "JSON");
}

TEST(JwtVerify, RefusesUntrustedIssuers) {
  std::int64_t now = NowS();
  std::string t = Sign(K().ec, Claims("rogue", "c", "", now + 60));
  ExpectUnauthenticated(VerifyToken(t, {IssuerOf("ccf", K().ec)}, now, 0), "issuer");
  ExpectUnauthenticated(VerifyToken(t, {}, now, 0), "issuer");
  // No iss claim at all.
  TokenClaims c = Claims("", "c", "", now + 60);
  ExpectUnauthenticated(VerifyToken(Sign(K().ec, c), {IssuerOf("ccf", K().ec)}, now, 0), "issuer");
}

TEST(JwtVerify, RefusesAlgorithmsOtherThanTheIssuerKeys) {
  std::int64_t now = NowS();
  std::string claims = R"({"iss":"ccf","client_id":"c","scope":"x","exp":)" +
                       std::to_string(now + 60) + "}";
  const TrustedIssuer ec_issuer = IssuerOf("ccf", K().ec);

  // alg none, with and without a signature part.
  ExpectUnauthenticated(VerifyToken(RawToken(R"({"alg":"none","typ":"JWT"})", claims, "AAAA"),
                                    {ec_issuer}, now, 0),
                        "algorithm");
  ExpectUnauthenticated(
      VerifyToken(RawToken(R"({"alg":"none"})", claims, ""), {ec_issuer}, now, 0), "JWT");
  // No alg.
  ExpectUnauthenticated(
      VerifyToken(RawToken(R"({"typ":"JWT"})", claims, "AAAA"), {ec_issuer}, now, 0), "algorithm");

  // HS256 "signed" with the issuer's public key PEM as the HMAC secret (key confusion attack).
  std::string signing_input = B64Url(R"({"alg":"HS256","typ":"JWT"})") + "." + B64Url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), ec_issuer.public_pem.data(),
                 static_cast<int>(ec_issuer.public_pem.size()),
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
                 mac, &mac_len),
            nullptr);
  std::string hs256 =
      signing_input + "." + B64Url(std::string(reinterpret_cast<char*>(mac), mac_len));
  ExpectUnauthenticated(VerifyToken(hs256, {ec_issuer}, now, 0), "algorithm 'HS256'");
  // Same forgery against an RSA issuer.
  const TrustedIssuer rsa_issuer = IssuerOf("ccf", K().rsa);
  ExpectUnauthenticated(VerifyToken(hs256, {rsa_issuer}, now, 0), "algorithm 'HS256'");

  // A genuine RS256 token for an issuer whose key is EC, and the reverse.
  std::string rs256 = Sign(K().rsa, Claims("ccf", "c", "", now + 60));
  ExpectUnauthenticated(VerifyToken(rs256, {ec_issuer}, now, 0), "algorithm 'RS256'");
  std::string es256 = Sign(K().ec, Claims("ccf", "c", "", now + 60));
  ExpectUnauthenticated(VerifyToken(es256, {rsa_issuer}, now, 0), "algorithm 'ES256'");
}

TEST(JwtVerify, RequiresAnIntegerExp) {
  std::int64_t now = NowS();
  const TrustedIssuer issuer = IssuerOf("ccf", K().ec);
  // Properly signed by the trusted key, but without exp (cpp-jwt alone would accept it).
  jwt::jwt_object obj{jwt::params::algorithm("ES256"), jwt::params::secret(K().ec.private_pem)};
  obj.add_claim("iss", "ccf").add_claim("client_id", "c").add_claim("scope", "x");
  std::string no_exp = obj.signature();
  ExpectUnauthenticated(VerifyToken(no_exp, {issuer}, now, 0), "exp");

  jwt::jwt_object str_exp{jwt::params::algorithm("ES256"),
                          jwt::params::secret(K().ec.private_pem)};
  str_exp.add_claim("iss", "ccf").add_claim("client_id", "c").add_claim("exp",
                                                                       std::to_string(now + 60));
  ExpectUnauthenticated(VerifyToken(str_exp.signature(), {issuer}, now, 0), "exp");
}

TEST(JwtVerify, RefusesBadSignatures) {
  std::int64_t now = NowS();
  const TrustedIssuer issuer = IssuerOf("ccf", K().ec);
  std::string good = Sign(K().ec, Claims("ccf", "as-1", "3gpp#msgin5g:msgs-msgdelivery", now + 60));
  ASSERT_TRUE(VerifyToken(good, {issuer}, now, 0).ok());
  auto p = Parts(good);

  // Claims changed after signing (another client), original signature kept.
  std::string forged_claims = R"({"iss":"ccf","client_id":"as-2","scope":"3gpp#msgin5g:msgs-msgdelivery","exp":)" +
                              std::to_string(now + 60) + "}";
  ExpectBadSignature(VerifyToken(p[0] + "." + B64Url(forged_claims) + "." + p[2], {issuer}, now, 0));

  // One signature character changed (in the middle: every bit there is significant).
  std::string sig = p[2];
  std::size_t mid = sig.size() / 2;
  sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
  ExpectBadSignature(VerifyToken(p[0] + "." + p[1] + "." + sig, {issuer}, now, 0));

  // A signature of another token by the same key.
  std::string other = Sign(K().ec, Claims("ccf", "as-1", "", now + 61));
  ExpectBadSignature(VerifyToken(p[0] + "." + p[1] + "." + Parts(other)[2], {issuer}, now, 0));

  // RS256: claims changed after signing.
  std::string rs = Sign(K().rsa, Claims("nrf", "as-1", "", now + 60));
  ASSERT_TRUE(VerifyToken(rs, {IssuerOf("nrf", K().rsa)}, now, 0).ok());
  std::string rs_claims = R"({"iss":"nrf","client_id":"as-2","exp":)" + std::to_string(now + 60) + "}";
  ExpectBadSignature(VerifyToken(Parts(rs)[0] + "." + B64Url(rs_claims) + "." + Parts(rs)[2],
                                 {IssuerOf("nrf", K().rsa)}, now, 0));

  // Signed by another EC P-256 key under the trusted issuer's name.
  ExpectBadSignature(
      VerifyToken(Sign(K().ec2, Claims("ccf", "as-1", "", now + 60)), {issuer}, now, 0));
}

TEST(JwtVerify, ExpiryAllowsTheLeewayAndNoMore) {
  std::int64_t now = NowS();
  const TrustedIssuer issuer = IssuerOf("ccf", K().ec);
  // Expired 10 s ago: inside a 30 s leeway, outside a 0 s one.
  std::string t10 = Sign(K().ec, Claims("ccf", "c", "", now - 10));
  EXPECT_TRUE(VerifyToken(t10, {issuer}, now, 30).ok());
  ExpectUnauthenticated(VerifyToken(t10, {issuer}, now, 0), "expired");
  ExpectUnauthenticated(VerifyToken(t10, {issuer}, now, 5), "expired");
  // Expired beyond the leeway.
  ExpectUnauthenticated(
      VerifyToken(Sign(K().ec, Claims("ccf", "c", "", now - 100)), {issuer}, now, 30), "expired");
  // exp 0 (never set).
  ExpectUnauthenticated(VerifyToken(Sign(K().ec, Claims("ccf", "c", "", 0)), {issuer}, now, 30),
                        "expired");

  // now_s is honoured: a token valid for the real clock is expired at a later now_s, up to the
  // leeway boundary (exp + leeway == now_s still passes).
  std::int64_t exp = now + 3600;
  std::string later = Sign(K().ec, Claims("ccf", "c", "", exp));
  EXPECT_TRUE(VerifyToken(later, {issuer}, exp + 30, 30).ok());
  ExpectUnauthenticated(VerifyToken(later, {issuer}, exp + 31, 30), "expired");
  ExpectUnauthenticated(VerifyToken(later, {issuer}, exp + 1, 0), "expired");
  EXPECT_TRUE(VerifyToken(later, {issuer}, exp, 0).ok());
}

TEST(JwtVerify, TheCallerIsClientIdElseSubElseTheIssuer) {
  std::int64_t now = NowS();
  const TrustedIssuer issuer = IssuerOf("ccf", K().ec);
  // TS 29.222 AccessTokenClaims: iss, scope and exp only (no iat either).
  TokenClaims none = Claims("ccf", "", "3gpp#msgin5g:msgs-msgdelivery", now + 60);
  none.iat = 0;
  std::string minimal = Sign(K().ec, none);
  auto payload = nlohmann::json::parse(PayloadOf(minimal));
  EXPECT_EQ(payload.size(), 3u) << payload.dump();
  auto v = VerifyToken(minimal, {issuer}, now, 0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Subject(), "ccf");
  EXPECT_EQ(CheckScope(*v, "msgin5g", kApiMsgDelivery), ScopeCheck::kGranted);

  TokenClaims sub_only = none;
  sub_only.sub = "nf-1";
  v = VerifyToken(Sign(K().ec, sub_only), {issuer}, now, 0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Subject(), "nf-1");
  EXPECT_EQ(v->client_id, "");

  TokenClaims both = sub_only;
  both.client_id = "as-1";
  v = VerifyToken(Sign(K().ec, both), {issuer}, now, 0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Subject(), "as-1");  // client_id wins over sub
}

TEST(JwtVerify, AKidPicksThatKeyOfTheIssuer) {
  std::int64_t now = NowS();
  TokenClaims c = Claims("ccf", "as-1", "3gpp#msgin5g:msgs-msgdelivery", now + 60);
  SigningKey k1 = K().ec, k2 = K().ec2;
  k1.kid = "k1";
  k2.kid = "k2";
  TrustedIssuer t1 = IssuerOf("ccf", K().ec), t2 = IssuerOf("ccf", K().ec2);
  t1.kid = "k1";
  t2.kid = "k2";
  EXPECT_TRUE(VerifyToken(Sign(k1, c), {t1, t2}, now, 0).ok());
  EXPECT_TRUE(VerifyToken(Sign(k2, c), {t1, t2}, now, 0).ok());
  // Signed with k2's key but naming k1: checked with k1 only, so refused.
  SigningKey liar = K().ec2;
  liar.kid = "k1";
  ExpectBadSignature(VerifyToken(Sign(liar, c), {t1, t2}, now, 0));
  // A kid the issuer has no key for: kNotFound, so the caller may fetch the keys again.
  SigningKey k3 = K().ec2;
  k3.kid = "k3";
  auto r = VerifyToken(Sign(k3, c), {t1}, now, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  // Keys configured without a kid match any kid; without a kid every key of the issuer is tried.
  EXPECT_TRUE(VerifyToken(Sign(k3, c), {IssuerOf("ccf", K().ec2)}, now, 0).ok());
  EXPECT_TRUE(VerifyToken(Sign(K().ec2, c), {t1, t2}, now, 0).ok());
}

// ---------------------------------------------------------------------------------------------
// jwks.h

TEST(Jwks, KeysRoundTripThroughJwkAndVerifyTokens) {
  std::int64_t now = NowS();
  auto ec = ToJwk(K().ec, "ec-1");
  auto rsa = ToJwk(K().rsa, "rsa-1");
  ASSERT_TRUE(ec.ok() && rsa.ok());
  auto ec_json = nlohmann::json::parse(*ec);
  EXPECT_EQ(ec_json["kty"], "EC");
  EXPECT_EQ(ec_json["crv"], "P-256");
  EXPECT_EQ(ec_json["alg"], "ES256");
  EXPECT_EQ(nlohmann::json::parse(*rsa)["kty"], "RSA");
  auto set = ParseJwks("{\"keys\":[" + *ec + "," + *rsa + "]}", "ccf");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->keys.size(), 2u);
  EXPECT_TRUE(set->skipped.empty());
  EXPECT_EQ(set->keys[0].alg, "ES256");
  EXPECT_EQ(set->keys[0].kid, "ec-1");
  EXPECT_EQ(set->keys[0].public_pem, K().ec.public_pem);
  EXPECT_EQ(set->keys[1].alg, "RS256");
  EXPECT_EQ(set->keys[1].public_pem, K().rsa.public_pem);
  SigningKey rsa_key = K().rsa;
  rsa_key.kid = "rsa-1";
  TokenClaims c = Claims("ccf", "", "3gpp#msgin5g:msgs-msgdelivery", now + 60);
  EXPECT_TRUE(VerifyToken(Sign(rsa_key, c), set->keys, now, 0).ok());
}

TEST(Jwks, TakesTheKeyOfAnX5cCertificate) {
  std::string pem = ReadText(K().rsa_cert_file);
  auto begin = pem.find('\n') + 1, end = pem.find("-----END");
  std::string b64;
  for (char ch : pem.substr(begin, end - begin)) {
    if (ch != '\n') b64 += ch;
  }
  auto set = ParseJwks(R"({"keys":[{"kty":"RSA","kid":"c","x5c":[")" + b64 + R"("]}]})", "ccf");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->keys.size(), 1u) << (set->skipped.empty() ? "" : set->skipped[0]);
  EXPECT_EQ(set->keys[0].public_pem, K().rsa.public_pem);
}

TEST(Jwks, SkipsWhatCannotSignAndRefusesWhatIsNoSet) {
  auto ec = nlohmann::json::parse(*ToJwk(K().ec, "ok"));
  auto enc = ec;
  enc["use"] = "enc";
  auto wrong_alg = ec;
  wrong_alg["alg"] = "RS256";
  auto short_x = ec;
  short_x["x"] = "AAAA";
  auto p384 = ec;
  p384["crv"] = "P-384";
  nlohmann::json set = {{"keys", {ec, enc, wrong_alg, short_x, p384, "text",
                                  {{"kty", "oct"}, {"k", "c2VjcmV0"}}}}};
  auto parsed = ParseJwks(set.dump(), "ccf");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->keys.size(), 1u);
  EXPECT_EQ(parsed->keys[0].kid, "ok");
  EXPECT_EQ(parsed->skipped.size(), 6u);
  for (const char* bad : {"", "[]", "{}", R"({"keys":{}})", "not json"}) {
    EXPECT_FALSE(ParseJwks(bad, "ccf").ok()) << bad;
  }
}

TEST(JwtVerify, AcceptsScopeAsAListAndAudAsAString) {
  std::int64_t now = NowS();
  jwt::jwt_object obj{jwt::params::algorithm("ES256"), jwt::params::secret(K().ec.private_pem)};
  obj.add_claim("iss", "nrf")
      .add_claim("sub", "nf-1")
      .add_claim("exp", now + 60)
      .add_claim("aud", "msgin5g")
      .add_claim("scope", std::vector<std::string>{"msgs-msgdelivery", "msgs-asregistration"});
  auto v = VerifyToken(obj.signature(), {IssuerOf("nrf", K().ec)}, now, 0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->scope, "msgs-msgdelivery msgs-asregistration");
  EXPECT_THAT(v->aud, ElementsAre("msgin5g"));
  EXPECT_EQ(CheckScope(*v, "msgin5g", kApiAsRegistration), ScopeCheck::kGranted);
}

// ---------------------------------------------------------------------------------------------
// scope.h

TokenClaims ScopeClaims(const std::string& scope, std::vector<std::string> aud = {}) {
  TokenClaims c;
  c.scope = scope;
  c.aud = std::move(aud);
  c.client_id = "c";
  return c;
}

TEST(Scope, KnownApis) {
  EXPECT_TRUE(IsKnownApi("msgs-asregistration"));
  EXPECT_TRUE(IsKnownApi("msgs-msgdelivery"));
  EXPECT_FALSE(IsKnownApi("msgs-msgdelivery2"));
  EXPECT_FALSE(IsKnownApi(""));
  EXPECT_FALSE(IsKnownApi("MSGS-MSGDELIVERY"));
}

TEST(Scope, CapifScopesNameServerAndApis) {
  const std::string_view reg = kApiAsRegistration, del = kApiMsgDelivery;
  auto check = [](const std::string& scope, std::string_view api) {
    return CheckScope(ScopeClaims(scope), "msgin5g", api);
  };
  EXPECT_EQ(check("3gpp#msgin5g:msgs-msgdelivery", del), ScopeCheck::kGranted);
  EXPECT_EQ(check("3gpp#msgin5g:msgs-msgdelivery", reg), ScopeCheck::kOtherApi);
  // Prefix optional, several APIs, several servers.
  EXPECT_EQ(check("msgin5g:msgs-asregistration,msgs-msgdelivery", reg), ScopeCheck::kGranted);
  EXPECT_EQ(check("msgin5g:msgs-asregistration,msgs-msgdelivery", del), ScopeCheck::kGranted);
  EXPECT_EQ(check("3gpp#other:msgs-msgdelivery;msgin5g:msgs-asregistration", reg),
            ScopeCheck::kGranted);
  EXPECT_EQ(check("3gpp#other:msgs-msgdelivery;msgin5g:msgs-asregistration", del),
            ScopeCheck::kOtherApi);
  // Space-separated scope tokens.
  EXPECT_EQ(check("3gpp#other:msgs-asregistration 3gpp#msgin5g:msgs-msgdelivery", del),
            ScopeCheck::kGranted);
  // Only other servers, or nothing at all.
  EXPECT_EQ(check("3gpp#other:msgs-msgdelivery", del), ScopeCheck::kOtherServer);
  EXPECT_EQ(check("3gpp#msgin5g-2:msgs-msgdelivery", del), ScopeCheck::kOtherServer);
  EXPECT_EQ(check("", del), ScopeCheck::kOtherServer);
  // A server name that merely contains ours, or an API name prefix, is not a match.
  EXPECT_EQ(check("3gpp#xmsgin5g:msgs-msgdelivery", del), ScopeCheck::kOtherServer);
  EXPECT_EQ(check("3gpp#msgin5g:msgs-msgdeliveryx", del), ScopeCheck::kOtherApi);
  // Plain API names without aud do not name this server.
  EXPECT_EQ(check("msgs-msgdelivery", del), ScopeCheck::kOtherServer);
}

TEST(Scope, NrfStyleScopesNeedTheServerInAud) {
  const std::string_view reg = kApiAsRegistration, del = kApiMsgDelivery;
  EXPECT_EQ(CheckScope(ScopeClaims("msgs-msgdelivery", {"msgin5g"}), "msgin5g", del),
            ScopeCheck::kGranted);
  EXPECT_EQ(CheckScope(ScopeClaims("msgs-asregistration msgs-msgdelivery", {"nrf", "msgin5g"}),
                       "msgin5g", reg),
            ScopeCheck::kGranted);
  EXPECT_EQ(CheckScope(ScopeClaims("msgs-msgdelivery", {"msgin5g"}), "msgin5g", reg),
            ScopeCheck::kOtherApi);
  EXPECT_EQ(CheckScope(ScopeClaims("msgs-msgdelivery", {"other"}), "msgin5g", del),
            ScopeCheck::kOtherServer);
  EXPECT_EQ(CheckScope(ScopeClaims("msgs-msgdelivery", {}), "msgin5g", del),
            ScopeCheck::kOtherServer);
  // aud names us but the scope grants another server's API only.
  EXPECT_EQ(CheckScope(ScopeClaims("3gpp#other:msgs-msgdelivery", {"msgin5g"}), "msgin5g", del),
            ScopeCheck::kOtherApi);
}

TEST(Scope, MakeScopeIsTheCapifSpellingAndRoundTrips) {
  EXPECT_EQ(MakeScope("msgin5g", {"msgs-asregistration", "msgs-msgdelivery"}),
            "3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery");
  EXPECT_EQ(MakeScope("s", {"msgs-msgdelivery"}), "3gpp#s:msgs-msgdelivery");
  std::string s = MakeScope("msgin5g", {"msgs-msgdelivery"});
  EXPECT_EQ(CheckScope(ScopeClaims(s), "msgin5g", kApiMsgDelivery), ScopeCheck::kGranted);
  EXPECT_EQ(CheckScope(ScopeClaims(s), "msgin5g", kApiAsRegistration), ScopeCheck::kOtherApi);
  auto apis = RequestedApis(s, "msgin5g");
  ASSERT_TRUE(apis.ok()) << apis.status().ToString();
  EXPECT_THAT(*apis, ElementsAre("msgs-msgdelivery"));
}

TEST(Scope, RequestedApisAcceptsBothSpellings) {
  auto empty = RequestedApis("", "msgin5g");
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(*empty, IsEmpty());

  auto plain = RequestedApis("msgs-msgdelivery", "msgin5g");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_THAT(*plain, ElementsAre("msgs-msgdelivery"));

  auto capif = RequestedApis("3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery", "msgin5g");
  ASSERT_TRUE(capif.ok()) << capif.status().ToString();
  EXPECT_THAT(*capif, ElementsAre("msgs-asregistration", "msgs-msgdelivery"));

  auto no_prefix_dup = RequestedApis("msgin5g:msgs-msgdelivery msgs-msgdelivery", "msgin5g");
  ASSERT_TRUE(no_prefix_dup.ok()) << no_prefix_dup.status().ToString();
  EXPECT_THAT(*no_prefix_dup, ElementsAre("msgs-msgdelivery"));  // no duplicates
}

TEST(Scope, RequestedApisRefusesOtherServersAndUnknownApis) {
  auto other = RequestedApis("3gpp#ccf:msgs-msgdelivery", "msgin5g");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("ccf"));

  auto mixed = RequestedApis("3gpp#msgin5g:msgs-msgdelivery;ccf:msgs-msgdelivery", "msgin5g");
  EXPECT_FALSE(mixed.ok());

  auto unknown = RequestedApis("msgs-admin", "msgin5g");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("msgs-admin"));

  EXPECT_FALSE(RequestedApis("3gpp#msgin5g:msgs-msgdelivery,nope", "msgin5g").ok());
  EXPECT_FALSE(RequestedApis("openid", "msgin5g").ok());
  // An entry with no API list asks for nothing nameable: refused, not widened to "everything".
  EXPECT_FALSE(RequestedApis("3gpp#msgin5g:", "msgin5g").ok());
  EXPECT_FALSE(RequestedApis("3gpp#other:", "msgin5g").ok());
}

// ---------------------------------------------------------------------------------------------
// secret_hash.h

TEST(SecretHash, HashHasTheDocumentedFormatAndVerifies) {
  std::string h = HashSecret("s3cret");
  EXPECT_EQ(h.rfind("pbkdf2-sha256$20000$", 0), 0u) << h;
  EXPECT_TRUE(CheckHashFormat(h).ok());
  EXPECT_TRUE(VerifySecret("s3cret", h));
  EXPECT_FALSE(VerifySecret("s3cret ", h));
  EXPECT_FALSE(VerifySecret("S3cret", h));
  EXPECT_FALSE(VerifySecret("", h));
}

TEST(SecretHash, IterationsAreRecordedAndUsed) {
  std::string h = HashSecret("pw", 1000);
  EXPECT_EQ(h.rfind("pbkdf2-sha256$1000$", 0), 0u) << h;
  EXPECT_TRUE(VerifySecret("pw", h));
  // Same salt and hash with another iteration count no longer verifies.
  std::string tampered = "pbkdf2-sha256$1001$" + h.substr(std::string("pbkdf2-sha256$1000$").size());
  EXPECT_TRUE(CheckHashFormat(tampered).ok());
  EXPECT_FALSE(VerifySecret("pw", tampered));
}

TEST(SecretHash, TwoHashesOfOneSecretDifferButBothVerify) {
  std::string a = HashSecret("same", 1000), b = HashSecret("same", 1000);
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifySecret("same", a));
  EXPECT_TRUE(VerifySecret("same", b));
}

TEST(SecretHash, EmptyAndBinarySecrets) {
  std::string empty = HashSecret("", 1000);
  EXPECT_TRUE(VerifySecret("", empty));
  EXPECT_FALSE(VerifySecret("x", empty));
  std::string bin("a\0b", 3);
  std::string h = HashSecret(bin, 1000);
  EXPECT_TRUE(VerifySecret(bin, h));
  EXPECT_FALSE(VerifySecret("a", h));  // the NUL and what follows count
}

TEST(SecretHash, MalformedHashesAreRefused) {
  std::string good = HashSecret("pw", 1000);
  auto parts = [&] {
    std::vector<std::string> p;
    std::size_t i = 0, d;
    while ((d = good.find('$', i)) != std::string::npos) {
      p.push_back(good.substr(i, d - i));
      i = d + 1;
    }
    p.push_back(good.substr(i));
    return p;
  }();
  ASSERT_EQ(parts.size(), 4u);
  const std::string salt = parts[2], hash = parts[3];
  for (const std::string& bad : {
           std::string(),
           std::string("pw"),
           "plain$1000$" + salt + "$" + hash,                  // other scheme
           "pbkdf2-sha1$1000$" + salt + "$" + hash,            // other scheme
           "pbkdf2-sha256$abc$" + salt + "$" + hash,           // iterations not a number
           "pbkdf2-sha256$1000x$" + salt + "$" + hash,         // trailing junk
           "pbkdf2-sha256$999$" + salt + "$" + hash,           // too few iterations
           "pbkdf2-sha256$$" + salt + "$" + hash,              // empty iterations
           "pbkdf2-sha256$1000$" + salt,                       // missing part
           "pbkdf2-sha256$1000$" + salt + "$" + hash + "$x",   // extra part
           "pbkdf2-sha256$1000$$" + hash,                      // empty salt
           "pbkdf2-sha256$1000$QUJD$" + hash,                  // 3-byte salt
           "pbkdf2-sha256$1000$" + salt + "$QUJD",             // short hash
           "pbkdf2-sha256$1000$" + salt + "$" + hash.substr(1),  // not base64 length
           "pbkdf2-sha256$1000$" + salt + "$" + std::string(hash.size(), '!'),  // not base64
       }) {
    EXPECT_FALSE(CheckHashFormat(bad).ok()) << bad;
    EXPECT_EQ(CheckHashFormat(bad).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(VerifySecret("pw", bad)) << bad;
  }
  EXPECT_TRUE(VerifySecret("pw", good));  // the parts themselves were fine
}

// ---------------------------------------------------------------------------------------------
// policy.h

broker::Address Ue(const std::string& id) { return {broker::AddressType::kUe, id}; }
broker::Address As(const std::string& id) { return {broker::AddressType::kAs, id}; }
broker::Address Group(const std::string& id) { return {broker::AddressType::kGroup, id}; }

TEST(Policy, Glob) {
  EXPECT_TRUE(Glob("", ""));
  EXPECT_FALSE(Glob("", "a"));
  EXPECT_TRUE(Glob("*", ""));
  EXPECT_TRUE(Glob("*", "anything"));
  EXPECT_TRUE(Glob("**", ""));
  EXPECT_TRUE(Glob("**", "abc"));
  EXPECT_FALSE(Glob("?", ""));
  EXPECT_TRUE(Glob("?", "x"));
  EXPECT_FALSE(Glob("?", "xy"));
  EXPECT_TRUE(Glob("abc", "abc"));
  EXPECT_FALSE(Glob("abc", "abd"));
  EXPECT_FALSE(Glob("abc", "ab"));     // pattern longer than text
  EXPECT_FALSE(Glob("abcd*", "abc"));  // pattern longer than text, with a star
  EXPECT_FALSE(Glob("ab", "abc"));
  EXPECT_TRUE(Glob("ue-1*", "ue-1"));
  EXPECT_TRUE(Glob("ue-1*", "ue-123"));
  EXPECT_FALSE(Glob("ue-1*", "ue-2"));
  EXPECT_FALSE(Glob("ue-1*", "xue-1"));
  EXPECT_TRUE(Glob("*-1", "ue-1"));
  EXPECT_FALSE(Glob("*-1", "ue-12"));
  EXPECT_TRUE(Glob("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(Glob("a*b*c", "abc"));
  EXPECT_FALSE(Glob("a*b*c", "aXXbYY"));
  EXPECT_TRUE(Glob("a*c", "abcbc"));     // needs backtracking
  EXPECT_TRUE(Glob("*ab", "aab"));       // needs backtracking
  EXPECT_FALSE(Glob("*ab", "aba"));
  EXPECT_TRUE(Glob("a?c*", "abcdef"));
  EXPECT_FALSE(Glob("a?c", "ac"));
  EXPECT_TRUE(Glob("*?", "a"));
  EXPECT_FALSE(Glob("*?", ""));
  EXPECT_TRUE(Glob("a**b", "ab"));
  EXPECT_FALSE(Glob("A*", "a"));  // case-sensitive
  // Long pathological input stays correct (and linear enough to finish at once).
  std::string text(2000, 'a');
  EXPECT_FALSE(Glob("*a*a*a*a*a*b", text));
  EXPECT_TRUE(Glob("*a*a*a*a*a*", text));
}

TEST(Policy, CheckAddressPattern) {
  for (const char* ok : {"*", "UE:ue-1", "UE:ue-1*", "AS:*", "GROUP:g?", "TOPIC:t", "BC:*",
                         "UE:a:b"}) {
    EXPECT_TRUE(CheckAddressPattern(ok).ok()) << ok;
  }
  for (const char* bad : {"", "ue-1", "UE", "UE:", "ue:x", "SMS:x", ":x", "**", "UE*", " UE:x"}) {
    Status s = CheckAddressPattern(bad);
    EXPECT_FALSE(s.ok()) << "'" << bad << "' accepted";
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr(std::string("'") + bad + "'"));
  }
}

TEST(Policy, MatchAddressNeedsTheSameTypeAndAMatchingGlob) {
  EXPECT_TRUE(MatchAddress("*", Ue("x")));
  EXPECT_TRUE(MatchAddress("*", Group("g")));
  EXPECT_TRUE(MatchAddress("UE:ue-1*", Ue("ue-1x")));
  EXPECT_FALSE(MatchAddress("UE:ue-1*", Group("ue-1x")));
  EXPECT_FALSE(MatchAddress("UE:ue-1*", As("ue-1x")));
  EXPECT_FALSE(MatchAddress("UE:ue-1*", Ue("ue-2")));
  EXPECT_TRUE(MatchAddress("GROUP:g1", Group("g1")));
  EXPECT_FALSE(MatchAddress("GROUP:g1", Group("g10")));
  EXPECT_TRUE(MatchAddress("BC:*", {broker::AddressType::kBroadcast, "area-1"}));
  EXPECT_TRUE(MatchAddress("TOPIC:news.*", {broker::AddressType::kTopic, "news.sport"}));
  EXPECT_FALSE(MatchAddress("TOPIC:news.*", {broker::AddressType::kTopic, "weather"}));
  EXPECT_FALSE(MatchAddress("ue-1", Ue("ue-1")));  // no type: never matches
  EXPECT_FALSE(MatchAddress("ue:ue-1", Ue("ue-1")));
}

TEST(Policy, ClientPolicyAllows) {
  ClientPolicy p;
  p.client_id = "as-1";
  p.apis = {std::string(kApiMsgDelivery)};
  p.destinations = {"UE:ue-1*", "GROUP:g1"};
  p.origins = {"AS:as-1"};
  EXPECT_TRUE(p.AllowsApi(kApiMsgDelivery));
  EXPECT_FALSE(p.AllowsApi(kApiAsRegistration));
  EXPECT_FALSE(p.AllowsApi(""));
  EXPECT_TRUE(p.AllowsDestination(Ue("ue-17")));
  EXPECT_TRUE(p.AllowsDestination(Group("g1")));
  EXPECT_FALSE(p.AllowsDestination(Group("g2")));
  EXPECT_FALSE(p.AllowsDestination(Ue("ue-2")));
  EXPECT_FALSE(p.AllowsDestination(As("as-1")));
  EXPECT_TRUE(p.AllowsOrigin(As("as-1")));
  EXPECT_FALSE(p.AllowsOrigin(As("as-2")));
  EXPECT_FALSE(p.AllowsOrigin(Ue("as-1")));

  ClientPolicy defaults;  // "*" by default; no API by default
  EXPECT_TRUE(defaults.AllowsDestination(Ue("anything")));
  EXPECT_TRUE(defaults.AllowsOrigin(Group("anything")));
  EXPECT_FALSE(defaults.AllowsApi(kApiMsgDelivery));

  ClientPolicy none;
  none.destinations.clear();
  none.origins.clear();
  EXPECT_FALSE(none.AllowsDestination(Ue("x")));
  EXPECT_FALSE(none.AllowsOrigin(Ue("x")));
}

ClientPolicy Client(const std::string& id) {
  ClientPolicy p;
  p.client_id = id;
  p.apis = {std::string(kApiAsRegistration), std::string(kApiMsgDelivery)};
  return p;
}

std::string BuildError(std::vector<ClientPolicy> clients) {
  auto r = PolicySet::Build(std::move(clients));
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(Policy, BuildRefusesInconsistentSets) {
  ClientPolicy a = Client("as-1"), b = Client("as-1");
  EXPECT_THAT(BuildError({a, b}), HasSubstr("as-1"));

  a = Client("as-1");
  b = Client("as-2");
  a.tls_identity = b.tls_identity = "as.example.net";
  EXPECT_THAT(BuildError({a, b}), HasSubstr("as.example.net"));

  a = Client("as-1");
  b = Client("as-2");
  a.psk_identity = b.psk_identity = "psk-1";
  a.psk_key = b.psk_key = std::string(16, 'k');
  EXPECT_THAT(BuildError({a, b}), HasSubstr("psk-1"));

  a = Client("as-1");
  a.apis = {"msgs-msgdelivery", "msgs-admin"};
  EXPECT_THAT(BuildError({a}), HasSubstr("msgs-admin"));

  a = Client("as-1");
  a.destinations = {"UE:ue-1*", "ue-2"};
  EXPECT_THAT(BuildError({a}), HasSubstr("ue-2"));
  a = Client("as-1");
  a.origins = {"SMS:x"};
  EXPECT_THAT(BuildError({a}), HasSubstr("SMS:x"));

  a = Client("as-1");
  a.psk_identity = "psk-1";
  a.psk_key = std::string(15, 'k');
  EXPECT_THAT(BuildError({a}), HasSubstr("psk_key"));

  a = Client("as-1");
  a.rate_limit = -1;
  EXPECT_THAT(BuildError({a}), HasSubstr("as-1"));
  a = Client("as-1");
  a.rate_burst = -0.5;
  EXPECT_THAT(BuildError({a}), HasSubstr("rate"));
  a = Client("as-1");
  a.rate_burst = 0.5;  // a bucket that could never hold a whole token
  EXPECT_THAT(BuildError({a}), HasSubstr("rate_burst"));
  a = Client("as-1");
  a.rate_limit = std::nan("");
  EXPECT_THAT(BuildError({a}), HasSubstr("finite"));

  EXPECT_THAT(BuildError({Client("")}), HasSubstr("id"));
}

TEST(Policy, BuildAcceptsAndLooksUpByIdTlsAndPskIdentity) {
  ClientPolicy a = Client("as-1"), b = Client("as-2"), c = Client("gw-1");
  a.tls_identity = "as-1.example.net";
  a.psk_identity = "psk-as-1";
  a.psk_key = std::string(16, 'k');
  b.tls_identity = "spiffe://example.net/as-2";
  c.psk_identity = "psk-gw-1";
  c.psk_key = std::string(32, 'k');
  c.rate_limit = 0;  // unlimited is valid
  auto set = PolicySet::Build({a, b, c});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const PolicySet& s = **set;
  EXPECT_EQ(s.clients().size(), 3u);
  ASSERT_NE(s.Find("as-2"), nullptr);
  EXPECT_EQ(s.Find("as-2")->client_id, "as-2");
  EXPECT_EQ(s.Find("nobody"), nullptr);
  EXPECT_EQ(s.Find(""), nullptr);
  ASSERT_NE(s.FindByTlsIdentity("as-1.example.net"), nullptr);
  EXPECT_EQ(s.FindByTlsIdentity("as-1.example.net")->client_id, "as-1");
  ASSERT_NE(s.FindByTlsIdentity("spiffe://example.net/as-2"), nullptr);
  EXPECT_EQ(s.FindByTlsIdentity("spiffe://example.net/as-2")->client_id, "as-2");
  EXPECT_EQ(s.FindByTlsIdentity("as-1"), nullptr);  // ids are not TLS identities
  EXPECT_EQ(s.FindByTlsIdentity("psk-as-1"), nullptr);
  ASSERT_NE(s.FindByPskIdentity("psk-gw-1"), nullptr);
  EXPECT_EQ(s.FindByPskIdentity("psk-gw-1")->client_id, "gw-1");
  EXPECT_EQ(s.FindByPskIdentity("psk-as-1")->client_id, "as-1");
  EXPECT_EQ(s.FindByPskIdentity("as-1.example.net"), nullptr);
  EXPECT_EQ(s.FindByPskIdentity(""), nullptr);  // clients without a PSK are not indexed by ""

  auto empty = PolicySet::Build({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->Find("as-1"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// rate_limiter.h

using Clock = RateLimiter::Clock;
constexpr auto kT0 = Clock::time_point(std::chrono::hours(1000));

TEST(RateLimiter, BurstThenRefusalWithRetryAfter) {
  RateLimiter rl;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.Take("as-1", 2, 3, kT0), 0) << i;
  EXPECT_EQ(rl.Take("as-1", 2, 3, kT0), 1);  // 1 token at 2/s: 0.5 s, rounded up to 1
  EXPECT_EQ(rl.Take("as-1", 2, 3, kT0), 1);

  RateLimiter slow;
  EXPECT_EQ(slow.Take("c", 0.25, 1, kT0), 0);
  EXPECT_EQ(slow.Take("c", 0.25, 1, kT0), 4);  // 1 token at 0.25/s
  EXPECT_EQ(slow.Take("c", 0.25, 1, kT0 + std::chrono::seconds(1)), 3);  // 0.25 already refilled
  EXPECT_EQ(slow.Take("c", 0.25, 1, kT0 + std::chrono::milliseconds(3500)), 1);
}

TEST(RateLimiter, RefillsAsTimePasses) {
  RateLimiter rl;
  EXPECT_EQ(rl.Take("as-1", 1, 2, kT0), 0);
  EXPECT_EQ(rl.Take("as-1", 1, 2, kT0), 0);
  EXPECT_GT(rl.Take("as-1", 1, 2, kT0), 0);
  EXPECT_GT(rl.Take("as-1", 1, 2, kT0 + std::chrono::milliseconds(900)), 0);
  EXPECT_EQ(rl.Take("as-1", 1, 2, kT0 + std::chrono::milliseconds(1000)), 0);
  EXPECT_GT(rl.Take("as-1", 1, 2, kT0 + std::chrono::milliseconds(1000)), 0);
  // A long pause refills only up to the burst.
  auto later = kT0 + std::chrono::hours(1);
  EXPECT_EQ(rl.Take("as-1", 1, 2, later), 0);
  EXPECT_EQ(rl.Take("as-1", 1, 2, later), 0);
  EXPECT_GT(rl.Take("as-1", 1, 2, later), 0);
}

TEST(RateLimiter, WaitingRetryAfterSecondsIsEnough) {
  for (double rate : {0.3, 0.7, 1.0, 3.0, 10.0}) {
    RateLimiter rl;
    auto now = kT0;
    while (rl.Take("c", rate, 1, now) == 0) {
    }
    for (int round = 0; round < 5; ++round) {
      int wait = rl.Take("c", rate, 1, now);
      ASSERT_GE(wait, 1) << rate;
      now += std::chrono::seconds(wait);
      EXPECT_EQ(rl.Take("c", rate, 1, now), 0) << "rate " << rate << " round " << round;
    }
  }
}

TEST(RateLimiter, ZeroRateIsUnlimited) {
  RateLimiter rl;
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(rl.Take("as-1", 0, 0, kT0), 0) << i;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rl.Take("as-1", 0, 1, kT0), 0) << i;
}

TEST(RateLimiter, DefaultBurstIsTheRateButAtLeastOne) {
  RateLimiter rl;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rl.Take("five", 5, 0, kT0), 0) << i;
  EXPECT_GT(rl.Take("five", 5, 0, kT0), 0);
  EXPECT_EQ(rl.Take("fifth", 0.2, 0, kT0), 0);
  EXPECT_EQ(rl.Take("fifth", 0.2, 0, kT0), 5);
}

TEST(RateLimiter, ClientsAreIndependent) {
  RateLimiter rl;
  // Many clients (more than the 16 lock stripes) each get their own full bucket.
  for (int c = 0; c < 100; ++c) {
    std::string id = "client-" + std::to_string(c);
    EXPECT_EQ(rl.Take(id, 1, 1, kT0), 0) << id;
  }
  for (int c = 0; c < 100; ++c) {
    std::string id = "client-" + std::to_string(c);
    EXPECT_EQ(rl.Take(id, 1, 1, kT0), 1) << id;
  }
  EXPECT_EQ(rl.Take("fresh", 1, 1, kT0), 0);
}

TEST(RateLimiter, TimeGoingBackwardsDoesNotRefill) {
  RateLimiter rl;
  auto t = kT0 + std::chrono::seconds(10);
  EXPECT_EQ(rl.Take("c", 1, 1, t), 0);
  EXPECT_GT(rl.Take("c", 1, 1, kT0), 0);
  EXPECT_GT(rl.Take("c", 1, 1, t), 0);
  EXPECT_EQ(rl.Take("c", 1, 1, t + std::chrono::seconds(1)), 0);
}

// A burst between 0 and 1 is refused by PolicySet::Build; the limiter itself still treats it as a
// one-token bucket, so a caller that waits Retry-After is admitted.
TEST(RateLimiter, FractionalBurstBelowOneStillAdmitsAfterRetryAfter) {
  RateLimiter rl;
  auto now = kT0;
  int wait = rl.Take("c", 1, 0.5, now);
  int admitted = wait == 0 ? 1 : 0;
  for (int i = 0; i < 3 && admitted == 0; ++i) {
    ASSERT_GE(wait, 1);
    now += std::chrono::seconds(wait);
    wait = rl.Take("c", 1, 0.5, now);
    if (wait == 0) ++admitted;
  }
  EXPECT_EQ(admitted, 1) << "rate 1/s, burst 0.5: never admitted; last Retry-After " << wait;
}

// ---------------------------------------------------------------------------------------------
// authorizer.h: Guard driven with hand-built requests

// Stores what the session would send.
class TestSink : public http::ResponseSink {
 public:
  void Deliver(std::uint64_t, http::Response&& response) override {
    responses.push_back(std::move(response));
  }
  std::vector<http::Response> responses;
};

// Runs `handler` on `req` and returns the one response it produced.
http::Response Call(const http::Handler& handler, http::Request& req) {
  boost::asio::io_context io;
  auto sink = std::make_shared<TestSink>();
  {
    http::Responder responder(sink, io.get_executor(), 1, nullptr, "test");
    handler(req, responder);
  }
  io.run();
  EXPECT_EQ(sink->responses.size(), 1u);
  return sink->responses.empty() ? http::Response::Empty(0) : sink->responses.front();
}

std::string Header(const http::Response& r, std::string_view name) {
  return std::string(http::FindHeader(r.headers, name));
}

std::string JsonField(const http::Response& r, const char* name) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) return "<not a JSON object: " + r.body + ">";
  auto* f = v.as_object().if_contains(name);
  if (f == nullptr) return "<absent>";
  if (f->is_string()) return std::string(f->as_string());
  return boost::json::serialize(*f);
}

http::Request SbiRequest(std::string authorization = "") {
  http::Request req;
  req.method = "POST";
  req.target = "/msgs-msgdelivery/v1/messages";
  req.path = req.target;
  req.peer_address = "127.0.0.1:40000";
  if (!authorization.empty()) req.headers.push_back({"authorization", std::move(authorization)});
  req.headers.push_back({"content-type", "application/json"});
  return req;
}

class AuthorizerTest : public testing::Test {
 protected:
  void Init(SecurityMode mode, std::string server_id = "msgin5g") {
    AuthOptions o;
    o.server_id = std::move(server_id);
    o.mode = mode;
    o.leeway_s = 30;
    auth_.reset();
    registry_ = std::make_unique<metrics::Registry>();  // fresh counters per Init
    auth_ = std::make_unique<Authorizer>(o, registry_.get());
    auth_->SetIssuers({IssuerOf("ccf", K().ec), IssuerOf("nrf", K().rsa)});

    ClientPolicy full = Client("as-1");
    full.destinations = {"UE:ue-1*", "GROUP:g1"};
    full.origins = {"AS:as-1"};
    full.tls_identity = "as-1.example.net";
    full.psk_identity = "psk-as-1";
    full.psk_key = std::string(16, '\x01');
    ClientPolicy reg_only = Client("as-reg");
    reg_only.apis = {std::string(kApiAsRegistration)};
    ClientPolicy slow = Client("as-slow");
    slow.rate_limit = 0.001;
    slow.rate_burst = 1;
    auto set = PolicySet::Build({full, reg_only, slow});
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    auth_->SetPolicies(*set);
  }

  http::Handler Guarded(std::string_view api) {
    return auth_->Guard(std::string(api), [this](http::Request& req, http::Responder r) {
      ++ran_;
      seen_client_ = req.client_id;
      r.Send(http::Response::Json(200, "{}"));
    });
  }

  // Runs the guarded handler of `api` on `req`.
  http::Response Guard(std::string_view api, http::Request req) {
    ran_ = 0;
    seen_client_ = "<unset>";
    return Call(Guarded(api), req);
  }

  std::string Bearer(const std::string& client, const std::string& scope,
                     std::int64_t exp_in = 3600, const std::string& iss = "ccf") {
    const SigningKey& key = iss == "nrf" ? K().rsa : K().ec;
    return "Bearer " + Sign(key, Claims(iss, client, scope, NowS() + exp_in));
  }

  double Decisions(const std::string& outcome) {
    return testing_support::MetricValue(
        registry_->Serialize(), "msgin5g_auth_decisions_total{outcome=\"" + outcome + "\"}");
  }

  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<Authorizer> auth_;
  int ran_ = 0;
  std::string seen_client_;
};

const std::string kDeliveryScope = "3gpp#msgin5g:msgs-msgdelivery";
const std::string kBothScope = "3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery";

TEST_F(AuthorizerTest, Oauth2WithoutTokenIs401WithABareChallenge) {
  Init(SecurityMode::kOauth2);
  http::Response r = Guard(kApiMsgDelivery, SbiRequest());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ran_, 0);
  EXPECT_EQ(Header(r, "www-authenticate"), "Bearer realm=\"msgin5g\"");
  EXPECT_EQ(Header(r, "content-type"), "application/problem+json");
  EXPECT_EQ(JsonField(r, "cause"), "MISSING_ACCESS_TOKEN");
  EXPECT_EQ(Decisions("missing_token"), 1);
  EXPECT_EQ(Decisions("authenticated"), 0);

  // A verified TLS identity does not replace the token in oauth2 mode.
  http::Request tls = SbiRequest();
  tls.peer_identity = "as-1.example.net";
  EXPECT_EQ(Guard(kApiMsgDelivery, tls).status, 401);
  EXPECT_EQ(ran_, 0);
}

TEST_F(AuthorizerTest, MalformedAuthorizationHeaderIs400) {
  Init(SecurityMode::kOauth2);
  std::string token = Bearer("as-1", kDeliveryScope).substr(7);
  for (const std::string& h : std::vector<std::string>{"Basic YTpi", "Bearer",
                               "Bearer ", "Bearer    ", token,
                               "Bearer " + token + " extra", "Bearer tok\"en", "Bearer t,k",
                               "Token " + token}) {
    http::Response r = Guard(kApiMsgDelivery, SbiRequest(h));
    EXPECT_EQ(r.status, 400) << "Authorization: " << h;
    EXPECT_EQ(ran_, 0) << h;
    EXPECT_THAT(Header(r, "www-authenticate"), HasSubstr("error=\"invalid_request\"")) << h;
  }
  EXPECT_EQ(Decisions("malformed_header"), 9);
}

TEST_F(AuthorizerTest, ValidTokenRunsTheHandlerWithTheClientId) {
  Init(SecurityMode::kOauth2);
  http::Response r = Guard(kApiMsgDelivery, SbiRequest(Bearer("as-1", kDeliveryScope)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ran_, 1);
  EXPECT_EQ(seen_client_, "as-1");
  // The scheme is case-insensitive and extra spaces around the token are tolerated.
  std::string token = Bearer("as-1", kBothScope).substr(7);
  EXPECT_EQ(Guard(kApiAsRegistration, SbiRequest("bearer " + token)).status, 200);
  EXPECT_EQ(Guard(kApiAsRegistration, SbiRequest("BEARER   " + token + "  ")).status, 200);
  EXPECT_EQ(seen_client_, "as-1");
  // An RS256 token from the other trusted issuer.
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(Bearer("as-1", kDeliveryScope, 3600, "nrf"))).status,
            200);
  // A client with no configured policy but a valid token is authenticated (no policy limits).
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(Bearer("external-as", kDeliveryScope))).status, 200);
  EXPECT_EQ(seen_client_, "external-as");
  EXPECT_EQ(Decisions("authenticated"), 5);
}

TEST_F(AuthorizerTest, InvalidTokensAre401InvalidToken) {
  Init(SecurityMode::kOff);  // a presented token is checked even when anonymous callers are allowed
  std::string token = Bearer("as-1", kDeliveryScope).substr(7);
  std::string tampered = token;
  char& c = tampered[tampered.size() - 20];  // in the signature
  c = c == 'A' ? 'B' : 'A';
  std::string other_key = Sign(K().ec2, Claims("ccf", "as-1", kDeliveryScope, NowS() + 60));
  for (const std::string& t : {tampered, other_key, Bearer("as-1", kDeliveryScope, -3600).substr(7),
                               std::string("abc.def.ghi"),
                               Sign(K().ec, Claims("rogue", "as-1", kDeliveryScope, NowS() + 60))}) {
    http::Response r = Guard(kApiMsgDelivery, SbiRequest("Bearer " + t));
    EXPECT_EQ(r.status, 401) << t;
    EXPECT_EQ(ran_, 0);
    EXPECT_THAT(Header(r, "www-authenticate"), HasSubstr("error=\"invalid_token\""));
    EXPECT_THAT(Header(r, "www-authenticate"), HasSubstr("error_description=\""));
    EXPECT_EQ(JsonField(r, "cause"), "INVALID_ACCESS_TOKEN");
  }
  EXPECT_EQ(Decisions("invalid_token"), 5);
}

TEST_F(AuthorizerTest, TokenForAnotherServerIs401) {
  Init(SecurityMode::kOauth2);
  http::Response r =
      Guard(kApiMsgDelivery, SbiRequest(Bearer("as-1", "3gpp#msgin5g-b:msgs-msgdelivery")));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ran_, 0);
  EXPECT_THAT(Header(r, "www-authenticate"), HasSubstr("error=\"invalid_token\""));
  EXPECT_EQ(Decisions("wrong_server"), 1);
  // The same token is fine at the server it names.
  Init(SecurityMode::kOauth2, "msgin5g-b");
  EXPECT_EQ(
      Guard(kApiMsgDelivery, SbiRequest(Bearer("as-1", "3gpp#msgin5g-b:msgs-msgdelivery"))).status,
      200);
}

TEST_F(AuthorizerTest, ScopeLackingTheApiIs403InsufficientScope) {
  Init(SecurityMode::kOauth2);
  http::Response r = Guard(kApiAsRegistration, SbiRequest(Bearer("as-1", kDeliveryScope)));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ran_, 0);
  EXPECT_THAT(Header(r, "www-authenticate"), HasSubstr("error=\"insufficient_scope\""));
  EXPECT_EQ(JsonField(r, "cause"), "INSUFFICIENT_SCOPE");
  EXPECT_EQ(Decisions("insufficient_scope"), 1);
}

TEST_F(AuthorizerTest, ApiNotInTheClientPolicyIs403) {
  Init(SecurityMode::kOauth2);
  // The token grants delivery, but as-reg's policy only permits registration.
  http::Response r = Guard(kApiMsgDelivery, SbiRequest(Bearer("as-reg", kBothScope)));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ran_, 0);
  EXPECT_EQ(JsonField(r, "cause"), "API_NOT_ALLOWED");
  EXPECT_EQ(Decisions("api_not_allowed"), 1);
  EXPECT_EQ(Guard(kApiAsRegistration, SbiRequest(Bearer("as-reg", kBothScope))).status, 200);
  EXPECT_EQ(seen_client_, "as-reg");
}

TEST_F(AuthorizerTest, RateLimitedClientGets429WithItsRetryAfter) {
  Init(SecurityMode::kOauth2);
  std::string bearer = Bearer("as-slow", kBothScope);
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 200);
  http::Response r = Guard(kApiMsgDelivery, SbiRequest(bearer));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(ran_, 0);
  // 0.001 requests/s: the next token is ~1000 s away (not the configured default Retry-After).
  EXPECT_EQ(Header(r, "retry-after"), "1000");
  EXPECT_EQ(std::count_if(r.headers.begin(), r.headers.end(),
                          [](const http::Header& h) { return h.name == "retry-after"; }),
            1);
  EXPECT_EQ(JsonField(r, "cause"), "NF_CONGESTION_RISK");
  EXPECT_EQ(Decisions("rate_limited"), 1);
  // Other clients are not affected.
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(Bearer("as-1", kBothScope))).status, 200);
}

TEST_F(AuthorizerTest, TlsModeNeedsAConfiguredTlsIdentity) {
  Init(SecurityMode::kTls);
  http::Request none = SbiRequest();
  EXPECT_EQ(Guard(kApiMsgDelivery, none).status, 401);
  EXPECT_EQ(ran_, 0);

  http::Request unknown = SbiRequest();
  unknown.peer_identity = "stranger.example.net";
  http::Response r = Guard(kApiMsgDelivery, unknown);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ran_, 0);
  EXPECT_EQ(Decisions("missing_token"), 2);

  http::Request known = SbiRequest();
  known.peer_identity = "as-1.example.net";
  EXPECT_EQ(Guard(kApiMsgDelivery, known).status, 200);
  EXPECT_EQ(ran_, 1);
  EXPECT_EQ(seen_client_, "as-1");

  // A certificate naming the client id itself also identifies it.
  http::Request by_id = SbiRequest();
  by_id.peer_identity = "as-reg";
  EXPECT_EQ(Guard(kApiAsRegistration, by_id).status, 200);
  EXPECT_EQ(seen_client_, "as-reg");
  // ... and its policy still applies.
  EXPECT_EQ(Guard(kApiMsgDelivery, by_id).status, 403);

  // A valid bearer token is accepted in tls mode too.
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(Bearer("as-1", kDeliveryScope))).status, 200);
}

TEST_F(AuthorizerTest, PskIdentityMapsToItsClient) {
  Init(SecurityMode::kTls);
  http::Request psk = SbiRequest();
  psk.peer_identity = "psk-as-1";
  psk.peer_psk = true;
  EXPECT_EQ(Guard(kApiMsgDelivery, psk).status, 200);
  EXPECT_EQ(seen_client_, "as-1");

  // A PSK identity is looked up among PSK identities only: a client id or TLS identity as PSK
  // identity is unknown.
  http::Request psk_by_id = SbiRequest();
  psk_by_id.peer_identity = "as-1";
  psk_by_id.peer_psk = true;
  EXPECT_EQ(Guard(kApiMsgDelivery, psk_by_id).status, 401);
  http::Request psk_by_tls = SbiRequest();
  psk_by_tls.peer_identity = "as-1.example.net";
  psk_by_tls.peer_psk = true;
  EXPECT_EQ(Guard(kApiMsgDelivery, psk_by_tls).status, 401);
  // And a PSK identity is not a certificate identity.
  http::Request cert_as_psk = SbiRequest();
  cert_as_psk.peer_identity = "psk-as-1";
  EXPECT_EQ(Guard(kApiMsgDelivery, cert_as_psk).status, 401);
}

TEST_F(AuthorizerTest, PskIdentityWhoseKeyCouldNotBeAskedIs503AndClosesTheConnection) {
  Init(SecurityMode::kTls);
  // The handshake went on by certificate because the CAPIF core function could not be asked
  // for the key of the identity the client offered.
  http::Request q = SbiRequest();
  q.peer_psk_unresolved = "invoker-9";
  http::Response r = Guard(kApiMsgDelivery, q);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ran_, 0);
  EXPECT_EQ(JsonField(r, "cause"), "CAPIF_UNAVAILABLE");
  EXPECT_EQ(Header(r, "retry-after"), "5");
  EXPECT_TRUE(r.close_connection) << "only a new connection can carry the key";
  EXPECT_EQ(Decisions("invoker_unverified"), 1);
  // Without that, the same anonymous client is the usual 401, on a connection that stays.
  http::Response plain = Guard(kApiMsgDelivery, SbiRequest());
  EXPECT_EQ(plain.status, 401);
  EXPECT_FALSE(plain.close_connection);
  // A valid token decides, whatever the handshake did.
  q.headers.push_back({"authorization", Bearer("as-1", kDeliveryScope)});
  EXPECT_EQ(Guard(kApiMsgDelivery, q).status, 200);
}

TEST_F(AuthorizerTest, ModeOffAdmitsAnonymousCallers) {
  Init(SecurityMode::kOff);
  http::Response r = Guard(kApiMsgDelivery, SbiRequest());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ran_, 1);
  EXPECT_EQ(seen_client_, "");
  EXPECT_EQ(Decisions("anonymous"), 1);
  EXPECT_EQ(Decisions("authenticated"), 0);

  // A known TLS identity still names the client and applies its policy.
  http::Request known = SbiRequest();
  known.peer_identity = "as-1.example.net";
  EXPECT_EQ(Guard(kApiMsgDelivery, known).status, 200);
  EXPECT_EQ(seen_client_, "as-1");
  http::Request reg = SbiRequest();
  reg.peer_identity = "as-reg";
  EXPECT_EQ(Guard(kApiMsgDelivery, reg).status, 403);
  EXPECT_EQ(Decisions("authenticated"), 1);
}

TEST_F(AuthorizerTest, AdmitAddressesChecksOriginsAndDestinations) {
  Init(SecurityMode::kOauth2);
  http::Request req = SbiRequest();
  req.client_id = "as-1";  // as the guard leaves it
  EXPECT_FALSE(auth_->AdmitAddresses(req, As("as-1"), nullptr).has_value());
  broker::Address ue = Ue("ue-15"), group = Group("g1");
  EXPECT_FALSE(auth_->AdmitAddresses(req, As("as-1"), &ue).has_value());
  EXPECT_FALSE(auth_->AdmitAddresses(req, As("as-1"), &group).has_value());

  broker::Address other_ue = Ue("ue-2"), other_group = Group("g2"), ue_typed_as_group = Group("ue-15");
  for (const broker::Address* d : {&other_ue, &other_group, &ue_typed_as_group}) {
    auto refusal = auth_->AdmitAddresses(req, As("as-1"), d);
    ASSERT_TRUE(refusal.has_value()) << d->id;
    EXPECT_EQ(refusal->status, 403);
    EXPECT_EQ(JsonField(*refusal, "cause"), "RECIPIENT_NOT_ALLOWED");
  }
  auto bad_origin = auth_->AdmitAddresses(req, As("as-2"), &ue);
  ASSERT_TRUE(bad_origin.has_value());
  EXPECT_EQ(bad_origin->status, 403);
  EXPECT_EQ(JsonField(*bad_origin, "cause"), "ORIGINATOR_NOT_ALLOWED");
  auto bad_origin_only = auth_->AdmitAddresses(req, Ue("as-1"), nullptr);
  ASSERT_TRUE(bad_origin_only.has_value());
  EXPECT_EQ(JsonField(*bad_origin_only, "cause"), "ORIGINATOR_NOT_ALLOWED");
  EXPECT_EQ(Decisions("address_not_allowed"), 5);

  // Anonymous callers and clients without a policy are not restricted here.
  http::Request anon = SbiRequest();
  EXPECT_FALSE(auth_->AdmitAddresses(anon, As("x"), &other_ue).has_value());
  http::Request external = SbiRequest();
  external.client_id = "external-as";
  EXPECT_FALSE(auth_->AdmitAddresses(external, As("x"), &other_ue).has_value());
  // A client with default ("*") patterns may name anything.
  http::Request slow = SbiRequest();
  slow.client_id = "as-slow";
  EXPECT_FALSE(auth_->AdmitAddresses(slow, As("x"), &other_group).has_value());
}

TEST_F(AuthorizerTest, SetIssuersDropsTokensVerifiedWithRemovedKeys) {
  Init(SecurityMode::kOauth2);
  std::string bearer = Bearer("as-1", kDeliveryScope);
  ASSERT_TRUE(auth_->Verify(bearer.substr(7)).ok());
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 200);  // now cached

  auth_->SetIssuers({IssuerOf("nrf", K().rsa)});  // ccf removed
  auto v = auth_->Verify(bearer.substr(7));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 401);
  EXPECT_EQ(ran_, 0);

  // Replaced by another key under the same issuer name: the old tokens stay invalid.
  auth_->SetIssuers({IssuerOf("ccf", K().ec2)});
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 401);
  // Back again: accepted again.
  auth_->SetIssuers({IssuerOf("ccf", K().ec)});
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 200);
}

TEST_F(AuthorizerTest, SetPoliciesAppliesToCachedTokens) {
  Init(SecurityMode::kOauth2);
  std::string bearer = Bearer("as-1", kBothScope);
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 200);
  ClientPolicy restricted = Client("as-1");
  restricted.apis = {std::string(kApiAsRegistration)};
  auth_->SetPolicies(*PolicySet::Build({restricted}));
  EXPECT_EQ(Guard(kApiMsgDelivery, SbiRequest(bearer)).status, 403);
  EXPECT_EQ(auth_->policies()->clients().size(), 1u);
}

TEST_F(AuthorizerTest, VerifyReturnsTheClaimsAndRefusesExpiredTokens) {
  Init(SecurityMode::kOauth2);
  std::string token = Bearer("as-1", kDeliveryScope).substr(7);
  auto v = auth_->Verify(token);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->client_id, "as-1");
  EXPECT_EQ(v->scope, kDeliveryScope);
  auto again = auth_->Verify(token);  // from the cache: same claims
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->client_id, "as-1");
  EXPECT_EQ(again->exp, v->exp);

  // Expired inside the leeway (30 s): accepted; beyond it: refused, again and again.
  EXPECT_TRUE(auth_->Verify(Bearer("as-1", kDeliveryScope, -10).substr(7)).ok());
  std::string expired = Bearer("as-1", kDeliveryScope, -60).substr(7);
  for (int i = 0; i < 2; ++i) {
    auto e = auth_->Verify(expired);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(e.status().message(), HasSubstr("expired"));
  }
}

// A token cached while valid stops working once it expires. The Authorizer reads the wall clock
// itself (no injectable clock), so this one test waits for the next whole second (< 1 s).
TEST_F(AuthorizerTest, VerifyCacheHonoursExpiry) {
  AuthOptions o;
  o.mode = SecurityMode::kOauth2;
  o.leeway_s = 0;
  Authorizer auth(o, nullptr);
  auth.SetIssuers({IssuerOf("ccf", K().ec)});
  std::string token;
  std::int64_t exp = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {  // retry if the second turned meanwhile
    exp = NowS();
    token = Sign(K().ec, Claims("ccf", "as-1", kDeliveryScope, exp));  // valid until exp inclusive
    if (auth.Verify(token).ok()) break;
    token.clear();
  }
  ASSERT_FALSE(token.empty()) << "a token expiring this second was never accepted";
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::seconds(exp + 1)) +
                                std::chrono::milliseconds(20));
  ASSERT_GT(NowS(), exp);
  auto v = auth.Verify(token);
  ASSERT_FALSE(v.ok()) << "an expired token was served from the cache";
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(v.status().message(), HasSubstr("expired"));
}

TEST_F(AuthorizerTest, WorksWithoutARegistryAndCountsRefusedAndIssued) {
  AuthOptions o;
  o.mode = SecurityMode::kOauth2;
  Authorizer no_metrics(o, nullptr);
  http::Request anonymous = SbiRequest();
  http::Response r = Call(no_metrics.Guard(std::string(kApiMsgDelivery),
                                           [](http::Request&, http::Responder resp) {
                                             resp.Send(http::Response::Json(200, "{}"));
                                           }),
                          anonymous);
  EXPECT_EQ(r.status, 401);

  Init(SecurityMode::kOauth2);
  http::Request req = SbiRequest();
  req.client_id = "as-1";
  auth_->Refused(req, outcome::kNotOwner, "registration of another client");
  auth_->Issued(req, kDeliveryScope);
  auth_->Issued(req, kDeliveryScope);
  EXPECT_EQ(Decisions("not_owner"), 1);
  EXPECT_EQ(Decisions("token_issued"), 2);
  // Every outcome series exists from the start.
  EXPECT_EQ(Decisions("token_refused"), 0);
  EXPECT_EQ(Decisions("wrong_server"), 0);
}

// ---------------------------------------------------------------------------------------------
// token_endpoint.h

class TokenEndpointTest : public testing::Test {
 protected:
  void SetUp() override {
    AuthOptions o;
    o.server_id = "msgin5g";
    o.mode = SecurityMode::kOauth2;
    auth_ = std::make_unique<Authorizer>(o, &registry_);
    ClientPolicy a = Client("as-1");
    a.secret_hash = HashSecret("s3cret", 1000);
    ClientPolicy b = Client("as 2");  // an id that needs encoding
    b.apis = {std::string(kApiMsgDelivery)};
    b.secret_hash = HashSecret("a b&c=d:e", 1000);
    ClientPolicy no_secret = Client("cert-only");
    ClientPolicy no_apis = Client("no-apis");
    no_apis.apis.clear();
    no_apis.secret_hash = HashSecret("x", 1000);
    auto set = PolicySet::Build({a, b, no_secret, no_apis});
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    auth_->SetPolicies(*set);
    TokenEndpointOptions t;
    t.issuer = "msgin5g-as";
    t.server_id = "msgin5g";
    t.lifetime_s = 600;
    AddTokenRoutes(router_, *auth_, K().ec, t);
  }

  http::Response Post(const std::string& body, const std::string& authorization = "",
                      const std::string& target = "/oauth2/token",
                      const std::string& content_type = "application/x-www-form-urlencoded") {
    http::Request req;
    req.method = "POST";
    req.target = target;
    req.peer_address = "127.0.0.1:40001";
    if (!content_type.empty()) req.headers.push_back({"content-type", content_type});
    if (!authorization.empty()) req.headers.push_back({"authorization", authorization});
    req.body = body;
    auto m = router_.Resolve(req);
    EXPECT_NE(m.handler, nullptr) << target;
    if (m.handler == nullptr) return m.error ? *m.error : http::Response::Empty(0);
    return Call(*m.handler, req);
  }

  // Checks an AccessTokenErr answer.
  void ExpectError(const http::Response& r, int status, const std::string& error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(JsonField(r, "error"), error) << r.body;
    EXPECT_NE(JsonField(r, "error_description"), "<absent>");
    EXPECT_EQ(Header(r, "cache-control"), "no-store");
    EXPECT_EQ(JsonField(r, "access_token"), "<absent>");
    if (status == 401) {
      EXPECT_EQ(Header(r, "www-authenticate"), "Basic realm=\"msgin5g\"");
    } else {
      EXPECT_EQ(Header(r, "www-authenticate"), "");
    }
  }

  // Checks a successful answer and returns the verified claims of its token.
  TokenClaims ExpectToken(const http::Response& r, const std::string& scope) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Header(r, "content-type"), "application/json");
    EXPECT_EQ(Header(r, "cache-control"), "no-store");
    EXPECT_EQ(JsonField(r, "token_type"), "Bearer");
    EXPECT_EQ(JsonField(r, "expires_in"), "600");
    EXPECT_EQ(JsonField(r, "scope"), scope);
    std::string token = JsonField(r, "access_token");
    auto v = VerifyToken(token, {TrustedIssuer{"msgin5g-as", "ES256", K().ec.public_pem, {}}}, NowS(), 0);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return {};
    EXPECT_EQ(v->iss, "msgin5g-as");
    EXPECT_EQ(v->scope, scope);
    EXPECT_NEAR(static_cast<double>(v->exp - NowS()), 600, 5);
    EXPECT_EQ(v->exp - v->iat, 600);
    EXPECT_FALSE(v->jti.empty());
    return *v;
  }

  double Decisions(const std::string& outcome) {
    return testing_support::MetricValue(
        registry_.Serialize(), "msgin5g_auth_decisions_total{outcome=\"" + outcome + "\"}");
  }

  metrics::Registry registry_;
  std::unique_ptr<Authorizer> auth_;
  http::Router router_;
};

TEST_F(TokenEndpointTest, ClientCredentialsInTheFormGetASignedToken) {
  http::Response r =
      Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret");
  TokenClaims c = ExpectToken(r, "3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery");
  EXPECT_EQ(c.client_id, "as-1");
  EXPECT_EQ(c.sub, "as-1");
  EXPECT_EQ(Header(r, "pragma"), "no-cache");
  EXPECT_EQ(Decisions("token_issued"), 1);

  // The Authorizer accepts the issued token once it trusts our key.
  auth_->SetIssuers({IssuerOf("msgin5g-as", K().ec)});
  auto v = auth_->Verify(JsonField(r, "access_token"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Subject(), "as-1");
  EXPECT_EQ(CheckScope(*v, "msgin5g", kApiMsgDelivery), ScopeCheck::kGranted);
}

TEST_F(TokenEndpointTest, TokensAreUniquePerRequest) {
  http::Response a = Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret");
  http::Response b = Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_NE(JsonField(a, "access_token"), JsonField(b, "access_token"));
}

TEST_F(TokenEndpointTest, RequestedScopeNarrowsTheToken) {
  ExpectToken(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret"
                   "&scope=msgs-msgdelivery"),
              "3gpp#msgin5g:msgs-msgdelivery");
  ExpectToken(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret"
                   "&scope=3gpp%23msgin5g%3Amsgs-asregistration"),
              "3gpp#msgin5g:msgs-asregistration");
  ExpectToken(Post("scope=msgs-msgdelivery+msgs-asregistration&grant_type=client_credentials"
                   "&client_id=as-1&client_secret=s3cret"),
              "3gpp#msgin5g:msgs-msgdelivery,msgs-asregistration");
}

TEST_F(TokenEndpointTest, BasicAuthentication) {
  TokenClaims c = ExpectToken(Post("grant_type=client_credentials", "Basic " + B64Std("as-1:s3cret")),
                              "3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery");
  EXPECT_EQ(c.client_id, "as-1");
  // Scheme case-insensitive; form client_id may repeat the Basic user name.
  EXPECT_EQ(Post("grant_type=client_credentials&client_id=as-1",
                 "basic " + B64Std("as-1:s3cret")).status,
            200);
  // Id and secret inside Basic are form-urlencoded (RFC 6749 2.3.1): space, '&', '=', ':'.
  c = ExpectToken(Post("grant_type=client_credentials", "Basic " + B64Std("as+2:a%20b%26c%3Dd%3Ae")),
                  "3gpp#msgin5g:msgs-msgdelivery");
  EXPECT_EQ(c.client_id, "as 2");
  // Wrong secret in Basic.
  ExpectError(Post("grant_type=client_credentials", "Basic " + B64Std("as-1:wrong")), 401,
              "invalid_client");
  // Not Basic, not base64, no colon.
  ExpectError(Post("grant_type=client_credentials", "Bearer abc"), 401, "invalid_client");
  ExpectError(Post("grant_type=client_credentials", "Basic !!!!"), 401, "invalid_client");
  ExpectError(Post("grant_type=client_credentials", "Basic " + B64Std("as-1")), 401,
              "invalid_client");
  // Two authentication methods, or two different ids.
  ExpectError(Post("grant_type=client_credentials&client_secret=s3cret",
                   "Basic " + B64Std("as-1:s3cret")),
              400, "invalid_request");
  ExpectError(Post("grant_type=client_credentials&client_id=as-2",
                   "Basic " + B64Std("as-1:s3cret")),
              400, "invalid_request");
}

TEST_F(TokenEndpointTest, FormBodyIsPercentAndPlusDecoded) {
  // client_id "as 2" and secret "a b&c=d:e", spelled with '+' and %XX (upper and lower case hex).
  TokenClaims c = ExpectToken(
      Post("grant_type=client_credentials&client_id=as+2&client_secret=a+b%26c%3dd%3Ae"),
      "3gpp#msgin5g:msgs-msgdelivery");
  EXPECT_EQ(c.client_id, "as 2");
  ExpectToken(Post("grant_type=client%5Fcredentials&client_id=as%202&client_secret=a%20b%26c%3Dd:e"),
              "3gpp#msgin5g:msgs-msgdelivery");
  // Empty pairs are skipped; charset parameter on the media type is fine.
  ExpectToken(Post("&grant_type=client_credentials&&client_id=as-1&client_secret=s3cret&",
                   "", "/oauth2/token", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
              "3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery");
  // Broken percent-encoding.
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret%"), 400,
              "invalid_request");
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret%4"), 400,
              "invalid_request");
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=%zz"), 400,
              "invalid_request");
  // '+' is a space, not a plus: "s3cret" != "s3c ret".
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3c+ret"), 401,
              "invalid_client");
}

TEST_F(TokenEndpointTest, DuplicateParametersAreRefused) {
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret"
                   "&client_id=as-1"),
              400, "invalid_request");
  ExpectError(Post("grant_type=client_credentials&grant_type=client_credentials&client_id=as-1"
                   "&client_secret=s3cret"),
              400, "invalid_request");
  // Duplicate after decoding.
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client%5Fid=as-1"
                   "&client_secret=s3cret"),
              400, "invalid_request");
  EXPECT_THAT(JsonField(Post("grant_type=client_credentials&scope=a&scope=b&client_id=as-1"
                             "&client_secret=s3cret"),
                        "error_description"),
              HasSubstr("scope"));
}

TEST_F(TokenEndpointTest, GrantTypeMustBeClientCredentials) {
  ExpectError(Post("client_id=as-1&client_secret=s3cret"), 400, "invalid_request");
  ExpectError(Post("grant_type=&client_id=as-1&client_secret=s3cret"), 400, "invalid_request");
  ExpectError(Post("grant_type=password&client_id=as-1&client_secret=s3cret"), 400,
              "unsupported_grant_type");
  ExpectError(Post("grant_type=Client_Credentials&client_id=as-1&client_secret=s3cret"), 400,
              "unsupported_grant_type");
}

TEST_F(TokenEndpointTest, ContentTypeMustBeAForm) {
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret", "",
                   "/oauth2/token", "application/json"),
              400, "invalid_request");
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=s3cret", "",
                   "/oauth2/token", ""),
              400, "invalid_request");
}

TEST_F(TokenEndpointTest, BadClientCredentialsAre401InvalidClientWithoutEnumeration) {
  http::Response wrong = Post("grant_type=client_credentials&client_id=as-1&client_secret=nope");
  ExpectError(wrong, 401, "invalid_client");
  http::Response unknown = Post("grant_type=client_credentials&client_id=ghost&client_secret=nope");
  ExpectError(unknown, 401, "invalid_client");
  EXPECT_EQ(wrong.body, unknown.body);  // the same answer: no client enumeration
  ExpectError(Post("grant_type=client_credentials&client_id=as-1"), 401, "invalid_client");
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret="), 401,
              "invalid_client");
  // A client without a secret hash cannot use the endpoint, whatever secret it sends.
  ExpectError(Post("grant_type=client_credentials&client_id=cert-only&client_secret=x"), 401,
              "invalid_client");
  ExpectError(Post("grant_type=client_credentials&client_id=cert-only&client_secret="), 401,
              "invalid_client");
  // No client at all.
  ExpectError(Post("grant_type=client_credentials"), 400, "invalid_request");
  EXPECT_EQ(Decisions("token_refused"), 7);
  EXPECT_EQ(Decisions("token_issued"), 0);
}

TEST_F(TokenEndpointTest, InvalidScopesAreRefused) {
  const std::string creds = "grant_type=client_credentials&client_id=as+2&client_secret=a+b%26c%3Dd%3Ae";
  ExpectError(Post(creds + "&scope=msgs-admin"), 400, "invalid_scope");
  ExpectError(Post(creds + "&scope=3gpp%23ccf%3Amsgs-msgdelivery"), 400, "invalid_scope");
  // Known API, but not permitted to "as 2" (delivery only).
  ExpectError(Post(creds + "&scope=msgs-asregistration"), 400, "invalid_scope");
  ExpectError(Post(creds + "&scope=msgs-msgdelivery+msgs-asregistration"), 400, "invalid_scope");
  // A client permitted no API gets no token.
  ExpectError(Post("grant_type=client_credentials&client_id=no-apis&client_secret=x"), 400,
              "invalid_scope");
  // The scope is judged only after the client authenticated.
  ExpectError(Post("grant_type=client_credentials&client_id=as-1&client_secret=no&scope=x"), 401,
              "invalid_client");
}

TEST_F(TokenEndpointTest, CapifPathNeedsTheClientIdToBeTheSecurityId) {
  const std::string form = "grant_type=client_credentials&client_id=as-1&client_secret=s3cret";
  ExpectError(Post(form, "", "/capif-security/v1/securities/as-2/token"), 400, "invalid_request");
  TokenClaims c = ExpectToken(Post(form, "", "/capif-security/v1/securities/as-1/token"),
                              "3gpp#msgin5g:msgs-asregistration,msgs-msgdelivery");
  EXPECT_EQ(c.client_id, "as-1");
  // Percent-encoded securityId, credentials in Basic.
  c = ExpectToken(Post("grant_type=client_credentials", "Basic " + B64Std("as+2:a+b%26c%3Dd%3Ae"),
                       "/capif-security/v1/securities/as%202/token"),
                  "3gpp#msgin5g:msgs-msgdelivery");
  EXPECT_EQ(c.client_id, "as 2");
  ExpectError(Post("grant_type=client_credentials", "Basic " + B64Std("as-1:s3cret"),
                   "/capif-security/v1/securities/as%202/token"),
              400, "invalid_request");
}

TEST_F(TokenEndpointTest, RoutesAreRegisteredForPostOnly) {
  http::Request get;
  get.method = "GET";
  get.target = "/oauth2/token";
  auto m = router_.Resolve(get);
  EXPECT_EQ(m.handler, nullptr);
  ASSERT_TRUE(m.error.has_value());
  EXPECT_EQ(m.error->status, 405);
  auto ops = router_.Operations();
  EXPECT_THAT(ops, testing::IsSupersetOf({"oauth2.token", "capif-security.token"}));
}

}  // namespace
}  // namespace msgin5g::api::auth
