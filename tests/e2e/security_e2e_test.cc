// SBI security end to end: the real msgin5gd with a TOML configuration written by the test, a PKI
// and token keys made at test time with the openssl CLI, and real clients (curl over HTTP/2,
// `openssl s_client` for TLS-PSK). Checked against docs/security.md:
//   - TLS client identities (certificate SAN URI / CN, TLS-PSK on TLS 1.3 and 1.2);
//   - msgin5gd's own token endpoint (/oauth2/token and the CAPIF path) and its RFC 6749 errors;
//   - tokens of an external issuer (ES256, RS256) and hand-crafted bad ones;
//   - admission: recipient and originator patterns, rate limit, registration ownership;
//   - SIGHUP reload of clients and of the TLS certificate.
// Every refusal is checked for its status, cause and WWW-Authenticate challenge, and for its side
// effects: nothing stored (admin API), one audit line, one msgin5g_auth_decisions_total sample.
#include <signal.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/auth/jwt.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/base64url.h"
#include "tests/support/json_util.h"
#include "tests/support/metric_value.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
using ts::Json;
using ts::Str;
using ts::Addr;
namespace auth = api::auth;

const std::string kServerId = "msgin5g-test";
const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";
const std::string kRegistrations = "/msgs-asregistration/v1/registrations";
const std::string kJsonType = "content-type: application/json";

// ----------------------------------------------------------------------------------------------
// Small helpers

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ToLower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The value of header `name` in a raw (lower-cased) header block; nullopt when absent.
std::optional<std::string> Header(const std::string& headers, const std::string& name) {
  std::string key = "\n" + name + ": ";
  std::string text = "\n" + headers;
  auto at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  at += key.size();
  auto end = text.find_first_of("\r\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// A deliver-as-message body (UE destinations are stored when the UE is not reachable).
std::string AsMessage(const std::string& ori, const std::string& dest_type, const std::string& dest,
                      const std::string& msg_id) {
  return R"({"oriAddr":{"addrType":"AS","addr":")" + ori + R"("},"destAddr":{"addrType":")" +
         dest_type + R"(","addr":")" + dest + R"("},"msgId":")" + msg_id +
         R"(","payload":"hi","stoAndFwInd":true})";
}

// Runs a tool that must succeed (PKI and key making); a failure ends the test with its stderr.
ts::RunResult MustRun(const std::vector<std::string>& argv, const std::string& input = "") {
  auto r = ts::Run(argv, input, 60s);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error(cmd + "failed (" + std::to_string(r.exit_code) + "): " + r.err);
  }
  return r;
}

// ----------------------------------------------------------------------------------------------
// PKI made with the openssl CLI: EC P-256 everywhere.

struct CertKey {
  std::string cert;
  std::string key;
};

struct Pki {
  std::string ca_cert, ca_key;
  CertKey server;          // SAN IP:127.0.0.1, DNS:localhost
  CertKey client;          // SAN URI spiffe://test/as-1
  CertKey cn_client;       // no SAN, CN=cn-client (names the client by its id)
  CertKey stranger;        // SAN URI spiffe://test/stranger (no such client)
  std::string other_ca_cert, other_ca_key;
  CertKey impostor;        // SAN URI spiffe://test/as-1, signed by the other CA
};

void MakeCa(const std::string& dir, const std::string& name, const std::string& cn,
            std::string* cert, std::string* key) {
  *cert = dir + "/" + name + ".pem";
  *key = dir + "/" + name + ".key";
  MustRun({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-keyout", *key, "-out", *cert, "-days", "2", "-subj", "/CN=" + cn});
}

// A leaf certificate signed by (ca_cert, ca_key) with the given extensions and serial.
CertKey Issue(const std::string& dir, const std::string& name, const std::string& ca_cert,
              const std::string& ca_key, const std::string& cn, const std::string& extensions,
              const std::string& serial) {
  CertKey out{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  std::string csr = dir + "/" + name + ".csr", ext = dir + "/" + name + ".ext";
  ts::WriteFile(ext, "basicConstraints=CA:FALSE\n" + extensions);
  MustRun({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", out.key, "-out", csr, "-subj", "/CN=" + cn});
  MustRun({"openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial",
           serial, "-days", "2", "-extfile", ext, "-out", out.cert});
  return out;
}

const std::string kServerExt = "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
const std::string kClientExt = "extendedKeyUsage=clientAuth\n";

Pki MakePki(const std::string& dir) {
  std::filesystem::create_directories(dir);
  Pki p;
  MakeCa(dir, "ca", "msgin5g security test CA", &p.ca_cert, &p.ca_key);
  MakeCa(dir, "other-ca", "some other CA", &p.other_ca_cert, &p.other_ca_key);
  p.server = Issue(dir, "server", p.ca_cert, p.ca_key, "localhost", kServerExt, "0x1001");
  p.client = Issue(dir, "client", p.ca_cert, p.ca_key, "as-1 client",
                   kClientExt + "subjectAltName=URI:spiffe://test/as-1\n", "0x2001");
  p.cn_client = Issue(dir, "cn-client", p.ca_cert, p.ca_key, "cn-client", kClientExt, "0x2002");
  p.stranger = Issue(dir, "stranger", p.ca_cert, p.ca_key, "stranger",
                     kClientExt + "subjectAltName=URI:spiffe://test/stranger\n", "0x2003");
  p.impostor = Issue(dir, "impostor", p.other_ca_cert, p.other_ca_key, "as-1 client",
                     kClientExt + "subjectAltName=URI:spiffe://test/as-1\n", "0x3001");
  return p;
}

// "serial=..." of a PEM certificate (file path or PEM text).
std::string SerialOf(const std::string& cert_file) {
  return MustRun({"openssl", "x509", "-noout", "-serial", "-in", cert_file}).out;
}
std::string SerialOfPem(const std::string& pem) {
  return MustRun({"openssl", "x509", "-noout", "-serial"}, pem).out;
}

// ----------------------------------------------------------------------------------------------
// Configuration file writer. The harness adds api/admin/metrics listen addresses on port 0 and
// storage.path with --set, which win over the file: the file holds only security keys.

struct ClientConf {
  std::string id;
  std::string secret;  // hashed with msgin5gd --hash-secret
  std::vector<std::string> apis, destinations, origins;
  double rate_limit = 0, rate_burst = 0;
  std::string tls_identity;
  std::string psk_key;  // hex
};

struct IssuerConf {
  std::string name, issuer, public_key_file;
};

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string QuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Quote(v[i]);
  return out + "]";
}

// PBKDF2 costs ~10 ms per hash: each distinct secret is hashed once per test binary.
std::string HashSecret(const std::string& secret) {
  static std::map<std::string, std::string> cache;
  auto& h = cache[secret];
  if (h.empty()) {
    h = MustRun({ts::DaemonPath(), "--hash-secret", secret}).out;
    while (!h.empty() && (h.back() == '\n' || h.back() == '\r')) h.pop_back();
  }
  return h;
}

struct SecurityConf {
  std::string mode = "oauth2";
  bool token_endpoint = true;
  std::string tls_cert, tls_key, tls_ca;  // TLS on when tls_cert is set
  std::vector<ClientConf> clients;
  std::vector<IssuerConf> issuers;

  std::string ToToml() const {
    std::string t = "[security]\nmode = " + Quote(mode) + "\nserver_id = " + Quote(kServerId) +
                    "\ntoken_endpoint = " + (token_endpoint ? "true" : "false") + "\n";
    if (!tls_cert.empty()) {
      t += "\n[tls]\nenabled = true\ncert_file = " + Quote(tls_cert) +
           "\nkey_file = " + Quote(tls_key) + "\n";
      if (!tls_ca.empty()) t += "ca_file = " + Quote(tls_ca) + "\nrequire_client_cert = false\n";
    }
    for (const auto& c : clients) {
      t += "\n[clients." + c.id + "]\n";
      if (!c.secret.empty()) t += "secret_hash = " + Quote(HashSecret(c.secret)) + "\n";
      if (!c.apis.empty()) t += "apis = " + QuoteList(c.apis) + "\n";
      if (!c.destinations.empty()) t += "destinations = " + QuoteList(c.destinations) + "\n";
      if (!c.origins.empty()) t += "origins = " + QuoteList(c.origins) + "\n";
      if (c.rate_limit > 0) t += "rate_limit = " + std::to_string(c.rate_limit) + "\n";
      if (c.rate_burst > 0) t += "rate_burst = " + std::to_string(c.rate_burst) + "\n";
      if (!c.tls_identity.empty()) t += "tls_identity = " + Quote(c.tls_identity) + "\n";
      if (!c.psk_key.empty()) t += "psk_key = " + Quote(c.psk_key) + "\n";
    }
    for (const auto& i : issuers) {
      t += "\n[issuers." + i.name + "]\nissuer = " + Quote(i.issuer) +
           "\npublic_key_file = " + Quote(i.public_key_file) + "\n";
    }
    return t;
  }
};

// ----------------------------------------------------------------------------------------------
// Token crafting

using testing_support::B64Url;

std::string B64UrlDecode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) return {};
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// The claims of a JWS compact token (no verification).
boost::json::object Claims(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  return Json(B64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1)));
}

// A key pair made with the openssl CLI: private PEM file and public PEM (SubjectPublicKeyInfo).
struct KeyFiles {
  std::string private_file, public_file;
};

KeyFiles MakeKeyPair(const std::string& dir, const std::string& name, bool rsa) {
  KeyFiles k{dir + "/" + name + ".key", dir + "/" + name + ".pub.pem"};
  if (rsa) {
    MustRun({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
             k.private_file});
  } else {
    MustRun({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", k.private_file});
  }
  MustRun({"openssl", "pkey", "-in", k.private_file, "-pubout", "-out", k.public_file});
  return k;
}

auth::SigningKey LoadKey(const std::string& file) {
  auto k = auth::LoadSigningKey(file);
  if (!k.ok()) throw std::runtime_error(k.status().message());
  return *k;
}

// Signed with msgin5g's own signer (as an issuer would sign).
std::string Sign(const auth::SigningKey& key, const auth::TokenClaims& c) {
  auto t = auth::SignToken(key, c);
  if (!t.ok()) throw std::runtime_error(t.status().message());
  return *t;
}

// "header.payload.signature" from JSON texts and raw signature bytes.
std::string Jws(const std::string& header_json, const std::string& payload_json,
                const std::string& signature) {
  return B64Url(header_json) + "." + B64Url(payload_json) + "." + B64Url(signature);
}

// HMAC-SHA256 of the signing input with `secret` (the public key PEM in the classic attack).
std::string HmacSha256(const std::string& secret, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// A JWS over arbitrary header/payload JSON, signed by hand with OpenSSL (ES256: raw r||s, RFC 7518
// §3.4), for claims SignToken would not produce (no exp, no subject).
std::string SignRaw(const std::string& private_pem, const std::string& header_json,
                    const std::string& payload_json) {
  std::string input = B64Url(header_json) + "." + B64Url(payload_json);
  BIO* bio = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) throw std::runtime_error("SignRaw: bad private key");
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  bool ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("SignRaw: signing failed");
  if (ec) {  // DER ECDSA-Sig-Value -> fixed-size r||s
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (s == nullptr) throw std::runtime_error("SignRaw: bad ECDSA signature");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(s);
    sig = raw;
  }
  return input + "." + B64Url(sig);
}

// ----------------------------------------------------------------------------------------------
// The fixture: one daemon per test, talked to with curl (HTTP/2: h2c prior knowledge, or TLS with
// ALPN) and openssl s_client.

// What a refusal must look like. `www_auth`: substring the WWW-Authenticate value must contain
// (lower-cased), "" = not checked. `invalid_param`: must appear in invalidParams.
struct Refusal {
  int status;
  std::string cause;
  std::string outcome;  // msgin5g_auth_decisions_total label and audit line
  std::string www_auth;
  std::string invalid_param;
  bool www_exact = false;  // the WWW-Authenticate value must equal www_auth
};

class SecurityE2E : public ::testing::Test {
 protected:
  // Writes the configuration file and starts msgin5gd with --config (and `extra` arguments).
  bool Start(const SecurityConf& conf, std::vector<std::string> extra = {}) {
    conf_ = conf;
    ts::WriteFile(config_, conf.ToToml());
    extra.insert(extra.begin(), {"--config", config_});
    daemon_ = std::make_unique<ts::Daemon>(dir_.File("data"), dir_.path(), std::move(extra));
    return daemon_->ok();
  }
  ts::Daemon& d() { return *daemon_; }
  bool tls() const { return !conf_.tls_cert.empty(); }

  // ---- SBI through curl
  std::string Url(const std::string& path) {
    return (tls() ? "https://" : "http://") + d().sbi() + path;
  }
  std::vector<std::string> Transport() {
    if (tls()) return {"--http2", "--cacert", trust_ca_};
    return {"--http2-prior-knowledge"};
  }
  ts::CurlResult Call(const std::string& method, const std::string& path, const std::string& body,
                      const std::vector<std::string>& headers = {},
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = Transport();
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"-X", method});
    for (const auto& h : headers) args.insert(args.end(), {"-H", h});
    if (!body.empty()) args.insert(args.end(), {"-H", kJsonType, "-d", body});
    args.push_back(path.rfind("http", 0) == 0 ? path : Url(path));
    return ts::Curl(args);
  }
  static std::vector<std::string> Bearer(const std::string& token) {
    return {"authorization: Bearer " + token};
  }
  ts::CurlResult Deliver(const std::string& body, const std::string& token,
                         const std::vector<std::string>& extra = {}) {
    return Call("POST", kDeliverAs, body, token.empty() ? std::vector<std::string>{} : Bearer(token),
                extra);
  }

  // ---- token endpoint
  ts::CurlResult TokenCall(const std::string& path, const std::vector<std::string>& args) {
    std::vector<std::string> a = Transport();
    a.insert(a.end(), args.begin(), args.end());
    a.push_back(Url(path));
    return ts::Curl(a);
  }
  // A token from msgin5gd's /oauth2/token (form authentication); "" on failure (reported).
  std::string GetToken(const std::string& client, const std::string& secret,
                       const std::string& scope = "") {
    std::vector<std::string> form = {"-d", "grant_type=client_credentials", "-d",
                                     "client_id=" + client, "-d", "client_secret=" + secret};
    if (!scope.empty()) form.insert(form.end(), {"--data-urlencode", "scope=" + scope});
    auto r = TokenCall("/oauth2/token", form);
    EXPECT_EQ(r.status, 200) << client << ": " << r.body << r.err;
    return Str(Json(r.body), "access_token");
  }

  // ---- TLS through openssl s_client (ts::SClient)
  ts::CurlResult SClient(const std::vector<std::string>& tls_options, const std::string& method,
                         const std::string& path, const std::string& body, std::string* report) {
    return ts::SClient(d().sbi(), tls_options, method, path, body, report);
  }
  static std::vector<std::string> Psk(const std::string& identity, const std::string& key_hex,
                                      bool tls12 = false) {
    std::vector<std::string> o = {"-psk", key_hex, "-psk_identity", identity};
    if (tls12) o.insert(o.end(), {"-tls1_2", "-cipher", "ECDHE-PSK-CHACHA20-POLY1305"});
    return o;
  }

  // ---- admin API and metrics: what is stored, what was decided
  ts::CurlResult Admin(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    return d().Admin(method, path, body);
  }
  // The broker's stored state in /admin/v1/stats (less the storage queue depth, which moves).
  std::string Stored() {
    auto r = Admin("GET", "/stats");
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = Json(r.body);
    j.erase("storagePending");
    return boost::json::serialize(j);
  }
  std::uint64_t QueueCount(const std::string& type, const std::string& addr) {
    auto j = Json(Admin("GET", "/queues/" + type + "/" + addr).body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : 0;
  }
  // Whether msgin5gd recorded a message of originator AS:ori with this msgId.
  bool Recorded(const std::string& ori, const std::string& msg_id) {
    return Admin("GET", "/messages/AS/" + ori + "/" + msg_id).status == 200;
  }
  double Decisions(const std::string& outcome) {
    auto r = ts::Run({"curl", "-sS", "http://" + d().metrics() + "/metrics"});
    return ts::MetricValue(r.out, "msgin5g_auth_decisions_total{outcome=\"" + outcome + "\"}");
  }
  std::size_t AuditLines(const std::string& outcome) {
    return Count(d().log(), "WARN audit: refused outcome=" + outcome + " ");
  }

  // The answer is the refusal `want`, as application/problem+json.
  static void ExpectProblem(const ts::CurlResult& r, const Refusal& want) {
    EXPECT_EQ(r.status, want.status) << r.body << r.err;
    EXPECT_NE(r.headers.find("content-type: application/problem+json"), std::string::npos)
        << r.headers;
    auto p = Json(r.body);
    EXPECT_EQ(Str(p, "cause"), want.cause) << r.body;
    EXPECT_EQ(p.contains("status") ? p["status"].to_number<int>() : 0, want.status) << r.body;
    if (!want.www_auth.empty()) {
      auto www = Header(r.headers, "www-authenticate");
      ASSERT_TRUE(www.has_value()) << "no WWW-Authenticate in:\n" << r.headers;
      if (want.www_exact) {
        EXPECT_EQ(*www, want.www_auth);
      } else {
        EXPECT_NE(www->find(want.www_auth), std::string::npos) << *www;
      }
    }
    if (!want.invalid_param.empty()) {
      bool found = false;
      if (p.contains("invalidParams") && p["invalidParams"].is_array()) {
        for (const auto& ip : p["invalidParams"].as_array()) {
          if (ip.is_object() && Str(ip.as_object(), "param") == want.invalid_param) found = true;
        }
      }
      EXPECT_TRUE(found) << "invalidParams lacks " << want.invalid_param << ": " << r.body;
    }
  }

  // Runs `call`, which must be refused as `want` with no side effect but its audit line and its
  // metric sample: the stored state is unchanged, and message (AS:ori_msg_id.first,
  // ori_msg_id.second) was not recorded (when given).
  void ExpectRefused(const std::string& what, const Refusal& want,
                     const std::function<ts::CurlResult()>& call,
                     const std::pair<std::string, std::string>& ori_msg_id = {}) {
    SCOPED_TRACE(what);
    std::string stored = Stored();
    double decided = Decisions(want.outcome);
    std::size_t audited = AuditLines(want.outcome);
    ts::CurlResult r = call();
    ExpectProblem(r, want);
    EXPECT_EQ(Stored(), stored) << "a refused request changed the stored state";
    if (!ori_msg_id.second.empty()) {
      EXPECT_FALSE(Recorded(ori_msg_id.first, ori_msg_id.second));
    }
    EXPECT_EQ(Decisions(want.outcome), decided + 1) << want.outcome;
    EXPECT_TRUE(ts::WaitFor([&] { return AuditLines(want.outcome) == audited + 1; }, 2s))
        << "audit lines for " << want.outcome << ": " << AuditLines(want.outcome) << ", was "
        << audited;
  }

  // Runs `call`, which must be an accepted deliver-as-message that stored message (ori, msg_id).
  void ExpectDelivered(const std::string& what, const std::function<ts::CurlResult()>& call,
                       const std::string& ori, const std::string& msg_id) {
    SCOPED_TRACE(what);
    double authenticated = Decisions("authenticated");
    auto r = call();
    EXPECT_EQ(r.status, 200) << r.body << r.err;
    EXPECT_EQ(Str(Json(r.body), "status"), "DELY_STORED") << r.body;
    EXPECT_TRUE(Recorded(ori, msg_id));
    EXPECT_EQ(Decisions("authenticated"), authenticated + 1);
  }

  // The certificate the SBI listener serves to a new connection ("serial=...").
  std::string ServedSerial() {
    auto r = ts::Run({"openssl", "s_client", "-connect", d().sbi(), "-showcerts"}, "", 20s);
    auto b = r.out.find("-----BEGIN CERTIFICATE-----");
    auto e = r.out.find("-----END CERTIFICATE-----", b);
    if (b == std::string::npos || e == std::string::npos) return "no certificate: " + r.err;
    return SerialOfPem(r.out.substr(b, e + 25 - b) + "\n");
  }

  ts::TempDir dir_;
  std::string config_ = dir_.File("msgin5gd.toml");
  SecurityConf conf_;
  std::string trust_ca_;  // CA curl verifies the server with (TLS)
  std::unique_ptr<ts::Daemon> daemon_;
};

const std::string kPskKey = "00112233445566778899aabbccddeeff";
const std::string kWrongPskKey = "ffeeddccbbaa99887766554433221100";

// ----------------------------------------------------------------------------------------------
// 1. TLS identities: certificates (mutual TLS) and TLS-PSK, security.mode = tls.

TEST_F(SecurityE2E, TlsCertificateAndPskIdentitiesAreAdmittedWithTheirPolicy) {
  Pki pki = MakePki(dir_.File("pki"));
  SecurityConf conf;
  conf.mode = "tls";
  conf.token_endpoint = false;
  conf.tls_cert = pki.server.cert;
  conf.tls_key = pki.server.key;
  conf.tls_ca = pki.ca_cert;
  ClientConf as1{.id = "as-1"};
  as1.tls_identity = "spiffe://test/as-1";
  as1.destinations = {"UE:*"};
  // No tls_identity: its certificate's CN names it by id. (One key at least: an empty
  // [clients.ID] table is dropped, see EmptyClientTableDefinesAClient.)
  ClientConf cn{.id = "cn-client", .origins = {"AS:as-1"}};
  ClientConf psk{.id = "psk-1"};
  psk.psk_key = kPskKey;  // psk_identity defaults to the id
  psk.apis = {"msgs-msgdelivery"};
  conf.clients = {as1, cn, psk};
  trust_ca_ = pki.ca_cert;
  ASSERT_TRUE(Start(conf, {"--set", "log.level=debug"}));  // debug: handshake failures are logged
  const std::vector<std::string> as1_cert = {"--cert", pki.client.cert, "--key", pki.client.key};

  // Mutual TLS: the SAN URI names as-1, admitted over HTTP/2.
  ExpectDelivered("client certificate (SAN URI)", [&] {
    auto r = Deliver(AsMessage("as-1", "UE", "ue-12", "tls-1"), "", as1_cert);
    EXPECT_EQ(r.http_version, "2");
    return r;
  }, "as-1", "tls-1");
  EXPECT_EQ(QueueCount("UE", "ue-12"), 1u);

  // ... and as-1's policy applies (destinations = ["UE:*"]): the identity really named as-1.
  ExpectRefused("as-1 policy applied to its certificate",
                {403, "RECIPIENT_NOT_ALLOWED", "address_not_allowed", "", "/destAddr"},
                [&] {
                  auto r = Deliver(AsMessage("as-1", "GROUP", "g1", "tls-2"), "", as1_cert);
                  EXPECT_NE(r.body.find("client as-1 "), std::string::npos) << r.body;
                  return r;
                },
                {"as-1", "tls-2"});

  // A certificate without SAN: the CN, matched against the client id.
  ExpectDelivered("client certificate (CN = client id)", [&] {
    return Deliver(AsMessage("as-1", "UE", "ue-12", "tls-3"), "",
                   {"--cert", pki.cn_client.cert, "--key", pki.cn_client.key});
  }, "as-1", "tls-3");

  // No certificate: the handshake succeeds (require_client_cert = false), the request does not.
  ExpectRefused("no client certificate", {401, "MISSING_ACCESS_TOKEN", "missing_token"},
                [&] { return Deliver(AsMessage("as-1", "UE", "ue-12", "tls-4"), ""); },
                {"as-1", "tls-4"});
  // A valid certificate of the right CA whose identity names no client.
  ExpectRefused("certificate of an unknown identity", {401, "MISSING_ACCESS_TOKEN", "missing_token"},
                [&] {
                  return Deliver(AsMessage("as-1", "UE", "ue-12", "tls-5"), "",
                                 {"--cert", pki.stranger.cert, "--key", pki.stranger.key});
                },
                {"as-1", "tls-5"});

  // A certificate claiming as-1's identity from another CA: the TLS handshake itself is refused
  // (the server's verification fails and it sends alert unknown_ca); no HTTP request is seen.
  // curl reports the alert, or - when the server's close resets the connection first - a
  // connection error; the server's log tells which way it failed.
  {
    std::string stored = Stored();
    double missing = Decisions("missing_token"), authenticated = Decisions("authenticated");
    std::size_t failed = Count(d().log(), "handshake failed: certificate verify failed");
    auto r = Deliver(AsMessage("as-1", "UE", "ue-12", "tls-6"), "",
                     {"--cert", pki.impostor.cert, "--key", pki.impostor.key});
    EXPECT_NE(r.exit_code, 0) << r.body;
    EXPECT_EQ(r.status, 0) << r.body;
    EXPECT_TRUE(r.err.find("unknown ca") != std::string::npos ||
                r.err.find("curl: (55)") != std::string::npos ||
                r.err.find("curl: (56)") != std::string::npos)
        << r.err;
    EXPECT_TRUE(ts::WaitFor(
        [&] { return Count(d().log(), "handshake failed: certificate verify failed") == failed + 1; },
        2s))
        << d().log();
    EXPECT_EQ(Stored(), stored);
    EXPECT_FALSE(Recorded("as-1", "tls-6"));
    EXPECT_EQ(Decisions("missing_token"), missing);
    EXPECT_EQ(Decisions("authenticated"), authenticated);
  }

  // TLS-PSK, TLS 1.3 external PSK (the listener's default) and TLS 1.2 ECDHE-PSK.
  std::string report;
  ExpectDelivered("PSK over TLS 1.3", [&] {
    auto r = SClient(Psk("psk-1", kPskKey), "POST", kDeliverAs,
                     AsMessage("as-1", "UE", "ue-12", "psk-13"), &report);
    EXPECT_NE(report.find("TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"), std::string::npos)
        << report;
    EXPECT_EQ(report.find("Server certificate"), std::string::npos) << "not a PSK handshake";
    return r;
  }, "as-1", "psk-13");
  ExpectDelivered("PSK over TLS 1.2", [&] {
    auto r = SClient(Psk("psk-1", kPskKey, true), "POST", kDeliverAs,
                     AsMessage("as-1", "UE", "ue-12", "psk-12"), &report);
    EXPECT_NE(report.find("TLSv1.2, Cipher is ECDHE-PSK-CHACHA20-POLY1305"), std::string::npos)
        << report;
    return r;
  }, "as-1", "psk-12");

  // The PSK client's policy: apis = ["msgs-msgdelivery"], so no registration.
  ExpectRefused("PSK client registering", {403, "API_NOT_ALLOWED", "api_not_allowed"}, [&] {
    return SClient(Psk("psk-1", kPskKey), "POST", kRegistrations, R"({"asSvcId":"as-psk"})",
                   nullptr);
  });
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["registrations"].to_number<int>(), 0);

  // A wrong PSK key: no handshake (TLS 1.3: the binder does not verify; TLS 1.2: Finished does
  // not), no HTTP answer, nothing stored.
  for (bool tls12 : {false, true}) {
    SCOPED_TRACE(tls12 ? "wrong PSK, TLS 1.2" : "wrong PSK, TLS 1.3");
    std::string stored = Stored();
    auto r = SClient(Psk("psk-1", kWrongPskKey, tls12), "POST", kDeliverAs,
                     AsMessage("as-1", "UE", "ue-12", "psk-bad"), &report);
    EXPECT_NE(r.exit_code, 0) << report;
    EXPECT_EQ(r.status, 0) << report;
    EXPECT_NE(report.find("alert"), std::string::npos) << report;
    EXPECT_EQ(Stored(), stored);
    EXPECT_FALSE(Recorded("as-1", "psk-bad"));
  }
  // An unknown PSK identity with the TLS 1.2 PSK suite only: refused in the handshake.
  {
    auto r = SClient(Psk("nobody", kPskKey, true), "POST", kDeliverAs,
                     AsMessage("as-1", "UE", "ue-12", "psk-nobody"), &report);
    EXPECT_NE(r.exit_code, 0) << report;
    EXPECT_EQ(r.status, 0) << report;
    EXPECT_NE(report.find("unknown psk identity"), std::string::npos) << report;
  }
  // ... with TLS 1.3 the server ignores the PSK and falls back to its certificate: the
  // connection carries no client identity, so the request is refused like any anonymous one.
  ExpectRefused("unknown PSK identity, TLS 1.3", {401, "MISSING_ACCESS_TOKEN", "missing_token"},
                [&] {
                  return SClient(Psk("nobody", kPskKey), "POST", kDeliverAs,
                                 AsMessage("as-1", "UE", "ue-12", "psk-nobody"), &report);
                },
                {"as-1", "psk-nobody"});
  EXPECT_EQ(QueueCount("UE", "ue-12"), 4u);  // tls-1, tls-3, psk-13, psk-12
}

// docs/security.md: every key of [clients.ID] is optional (apis: both, destinations and origins:
// "*", ...), so a table with no keys is a client with the default policy - e.g. one identified by
// its certificate's CN, which equals its id.
TEST_F(SecurityE2E, EmptyClientTableDefinesAClient) {
  SecurityConf conf;
  conf.clients = {ClientConf{.id = "as-1", .secret = "pw"}, ClientConf{.id = "bare"}};
  ASSERT_NE(conf.ToToml().find("[clients.bare]\n"), std::string::npos);
  ASSERT_TRUE(Start(conf));
  EXPECT_EQ(Admin("GET", "/clients/as-1").status, 200);
  // A [clients.ID] table without keys declares a client with the default policy.
  auto bare = Admin("GET", "/clients/bare");
  EXPECT_EQ(bare.status, 200) << bare.body;
  EXPECT_NE(d().log().find("clients=2"), std::string::npos) << d().log();
}

// RFC 9110 §15.5.2: "The server generating a 401 response MUST send a WWW-Authenticate header
// field containing at least one challenge applicable to the target resource."
TEST_F(SecurityE2E, TlsModeUnauthorizedCarriesAChallenge) {
  Pki pki = MakePki(dir_.File("pki"));
  SecurityConf conf;
  conf.mode = "tls";
  conf.token_endpoint = false;
  conf.tls_cert = pki.server.cert;
  conf.tls_key = pki.server.key;
  conf.tls_ca = pki.ca_cert;
  conf.clients = {ClientConf{.id = "as-1", .tls_identity = "spiffe://test/as-1"}};
  trust_ca_ = pki.ca_cert;
  ASSERT_TRUE(Start(conf));
  auto r = Deliver(AsMessage("as-1", "UE", "ue-12", "nochallenge-1"), "");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(Str(Json(r.body), "cause"), "MISSING_ACCESS_TOKEN") << r.body;
  // RFC 9110 §15.5.2: a 401 carries a challenge (Bearer: a token is accepted in this mode too).
  EXPECT_TRUE(Header(r.headers, "www-authenticate").has_value())
      << "401 without WWW-Authenticate:\n" << r.headers;
}

// RFC 8446 §6.1: "Each party MUST send a close_notify alert before closing its write side of the
// connection, unless it has already sent some error alert."
TEST_F(SecurityE2E, TlsHttp1ConnectionCloseSendsCloseNotify) {
  Pki pki = MakePki(dir_.File("pki"));
  SecurityConf conf;
  conf.mode = "tls";
  conf.token_endpoint = false;
  conf.tls_cert = pki.server.cert;
  conf.tls_key = pki.server.key;
  ClientConf psk{.id = "psk-1"};
  psk.psk_key = kPskKey;
  conf.clients = {psk};
  ASSERT_TRUE(Start(conf));
  std::string report;
  auto r = SClient(Psk("psk-1", kPskKey), "POST", kDeliverAs,
                   AsMessage("as-1", "UE", "ue-12", "close-1"), &report);
  EXPECT_EQ(r.status, 200) << report;
  // After answering a "Connection: close" request over TLS the server sends close_notify
  // (RFC 8446 §6.1): without it OpenSSL 3 clients report "unexpected eof while reading".
  EXPECT_EQ(report.find("unexpected eof"), std::string::npos) << report;
  EXPECT_EQ(r.exit_code, 0) << report;
}

// ----------------------------------------------------------------------------------------------
// 2. msgin5gd's own token endpoint.

TEST_F(SecurityE2E, OwnTokenEndpointIssuesTokensTheSbiAccepts) {
  SecurityConf conf;
  conf.clients = {ClientConf{.id = "as-1", .secret = "s3cret-as-1"},
                  ClientConf{.id = "deliver-only", .secret = "s3cret-do", .apis = {"msgs-msgdelivery"}}};
  ASSERT_TRUE(Start(conf));
  const std::string cc = "grant_type=client_credentials";
  const std::string full_scope = "3gpp#" + kServerId + ":msgs-asregistration,msgs-msgdelivery";
  double issued = Decisions("token_issued");

  struct Way {
    const char* name;
    std::string path;
    std::vector<std::string> args;
  };
  std::vector<Way> ways = {
      {"oauth2, form", "/oauth2/token",
       {"-d", cc, "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1"}},
      {"oauth2, Basic", "/oauth2/token", {"-u", "as-1:s3cret-as-1", "-d", cc}},
      {"CAPIF, form", "/capif-security/v1/securities/as-1/token",
       {"-d", cc, "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1"}},
      {"CAPIF, Basic", "/capif-security/v1/securities/as-1/token",
       {"-u", "as-1:s3cret-as-1", "-d", cc}},
  };
  int n = 0;
  for (const auto& w : ways) {
    SCOPED_TRACE(w.name);
    auto r = TokenCall(w.path, w.args);
    ASSERT_EQ(r.status, 200) << r.body << r.err;
    EXPECT_EQ(Header(r.headers, "cache-control").value_or(""), "no-store");
    auto j = Json(r.body);
    EXPECT_EQ(Str(j, "token_type"), "Bearer");
    EXPECT_EQ(j["expires_in"].to_number<int>(), 3600);
    EXPECT_EQ(Str(j, "scope"), full_scope);
    std::string token = Str(j, "access_token");
    auto claims = Claims(token);
    EXPECT_EQ(Str(claims, "iss"), kServerId) << boost::json::serialize(claims);
    EXPECT_EQ(Str(claims, "client_id"), "as-1");
    EXPECT_EQ(Str(claims, "sub"), "as-1");
    EXPECT_EQ(Str(claims, "scope"), full_scope);
    EXPECT_EQ(claims["exp"].to_number<std::int64_t>() - claims["iat"].to_number<std::int64_t>(),
              3600);
    EXPECT_NEAR(static_cast<double>(claims["iat"].to_number<std::int64_t>()),
                static_cast<double>(Now()), 5);
    std::string id = "own-" + std::to_string(++n);
    ExpectDelivered(std::string("token from ") + w.name,
                    [&] { return Deliver(AsMessage("as-1", "UE", "ue-12", id), token); }, "as-1",
                    id);
  }
  EXPECT_EQ(Decisions("token_issued"), issued + 4);
  EXPECT_EQ(QueueCount("UE", "ue-12"), 4u);

  // A narrowed scope: a delivery-only token cannot register.
  std::string narrow = GetToken("as-1", "s3cret-as-1", "3gpp#" + kServerId + ":msgs-msgdelivery");
  EXPECT_EQ(Str(Claims(narrow), "scope"), "3gpp#" + kServerId + ":msgs-msgdelivery");
  ExpectRefused("registration with a delivery-only token",
                {403, "INSUFFICIENT_SCOPE", "insufficient_scope", "error=\"insufficient_scope\""},
                [&] { return Call("POST", kRegistrations, R"({"asSvcId":"as-1"})", Bearer(narrow)); });
  // Without a scope, a client gets what it is permitted.
  EXPECT_EQ(Str(Claims(GetToken("deliver-only", "s3cret-do")), "scope"),
            "3gpp#" + kServerId + ":msgs-msgdelivery");

  // Errors (RFC 6749 §5.2): status, error code, no-store, one token_refused each, nothing stored.
  struct Bad {
    const char* name;
    std::string path;
    std::vector<std::string> args;
    int status;
    std::string error;
  };
  const std::string id_secret_wrong = "client_secret=wrong";
  std::vector<Bad> bad = {
      {"wrong secret", "/oauth2/token",
       {"-d", cc, "-d", "client_id=as-1", "-d", id_secret_wrong}, 401, "invalid_client"},
      {"wrong secret, Basic", "/oauth2/token", {"-u", "as-1:wrong", "-d", cc}, 401,
       "invalid_client"},
      {"unknown client", "/oauth2/token",
       {"-d", cc, "-d", "client_id=nobody", "-d", "client_secret=s3cret-as-1"}, 401,
       "invalid_client"},
      {"no secret", "/oauth2/token", {"-d", cc, "-d", "client_id=as-1"}, 401, "invalid_client"},
      {"unknown grant", "/oauth2/token",
       {"-d", "grant_type=password", "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1"},
       400, "unsupported_grant_type"},
      {"no grant", "/oauth2/token", {"-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1"},
       400, "invalid_request"},
      {"scope of another server", "/oauth2/token",
       {"-d", cc, "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1", "--data-urlencode",
        "scope=3gpp#other-server:msgs-msgdelivery"},
       400, "invalid_scope"},
      {"unknown API in scope", "/oauth2/token",
       {"-d", cc, "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1", "--data-urlencode",
        "scope=3gpp#" + kServerId + ":msgs-nope"},
       400, "invalid_scope"},
      {"API the client may not use", "/oauth2/token",
       {"-d", cc, "-d", "client_id=deliver-only", "-d", "client_secret=s3cret-do",
        "--data-urlencode", "scope=3gpp#" + kServerId + ":msgs-asregistration"},
       400, "invalid_scope"},
      {"JSON body", "/oauth2/token",
       {"-H", kJsonType, "-d",
        R"({"grant_type":"client_credentials","client_id":"as-1","client_secret":"s3cret-as-1"})"},
       400, "invalid_request"},
      {"duplicate parameter", "/oauth2/token",
       {"-d", cc, "-d", cc, "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1"}, 400,
       "invalid_request"},
      {"Basic and client_secret", "/oauth2/token",
       {"-u", "as-1:s3cret-as-1", "-d", cc, "-d", "client_secret=s3cret-as-1"}, 400,
       "invalid_request"},
      {"CAPIF client_id is not the securityId", "/capif-security/v1/securities/as-2/token",
       {"-d", cc, "-d", "client_id=as-1", "-d", "client_secret=s3cret-as-1"}, 400,
       "invalid_request"},
  };
  std::string unknown_client_body, wrong_secret_body;
  for (const auto& b : bad) {
    SCOPED_TRACE(b.name);
    std::string stored = Stored();
    double refused = Decisions("token_refused"), issued_before = Decisions("token_issued");
    std::size_t audited = AuditLines("token_refused");
    auto r = TokenCall(b.path, b.args);
    EXPECT_EQ(r.status, b.status) << r.body << r.err;
    auto j = Json(r.body);
    EXPECT_EQ(Str(j, "error"), b.error) << r.body;
    EXPECT_FALSE(Str(j, "error_description").empty()) << r.body;
    EXPECT_FALSE(j.contains("access_token")) << r.body;
    EXPECT_EQ(Header(r.headers, "cache-control").value_or(""), "no-store");
    if (b.status == 401) {
      EXPECT_NE(Header(r.headers, "www-authenticate").value_or("").find("basic"), std::string::npos)
          << r.headers;
    }
    EXPECT_EQ(Decisions("token_refused"), refused + 1);
    EXPECT_EQ(Decisions("token_issued"), issued_before);
    EXPECT_TRUE(ts::WaitFor([&] { return AuditLines("token_refused") == audited + 1; }, 2s));
    EXPECT_EQ(Stored(), stored);
    if (std::string(b.name) == "unknown client") unknown_client_body = r.body;
    if (std::string(b.name) == "wrong secret") wrong_secret_body = r.body;
  }
  // No client enumeration: an unknown client and a wrong secret get the very same answer.
  EXPECT_EQ(unknown_client_body, wrong_secret_body);
  // Secrets are never logged.
  EXPECT_EQ(d().log().find("s3cret"), std::string::npos);
}

// ----------------------------------------------------------------------------------------------
// 3. Tokens of external issuers (a CAPIF core function, an NRF) and forged ones.

TEST_F(SecurityE2E, ExternalIssuerTokensAreVerifiedAndBadOnesRefused) {
  std::string keys = dir_.File("keys");
  std::filesystem::create_directories(keys);
  KeyFiles ec = MakeKeyPair(keys, "ccf-ec", false);
  KeyFiles rsa = MakeKeyPair(keys, "ccf-rsa", true);
  KeyFiles rogue = MakeKeyPair(keys, "rogue", false);
  const std::string ec_iss = "https://ccf.test", rsa_iss = "https://ccf-rsa.test";
  SecurityConf conf;
  conf.token_endpoint = false;
  conf.issuers = {{"ext", ec_iss, ec.public_file}, {"ext-rsa", rsa_iss, rsa.public_file}};
  // A client the external issuer's tokens may name: its policy applies on top of the token.
  conf.clients = {ClientConf{.id = "limited", .apis = {"msgs-asregistration"}}};
  ASSERT_TRUE(Start(conf));
  auth::SigningKey ec_key = LoadKey(ec.private_file), rsa_key = LoadKey(rsa.private_file),
                   rogue_key = LoadKey(rogue.private_file);
  ASSERT_EQ(ec_key.alg, "ES256");
  ASSERT_EQ(rsa_key.alg, "RS256");

  const std::int64_t now = Now();
  auto claims = [&](const std::string& iss, const std::string& scope, std::int64_t exp) {
    auth::TokenClaims c;
    c.iss = iss;
    c.client_id = "ext-as";
    c.sub = "ext-as";
    c.scope = scope;
    c.iat = now;
    c.exp = exp;
    return c;
  };
  const std::string delivery = "3gpp#" + kServerId + ":msgs-msgdelivery";
  auto good = claims(ec_iss, delivery, now + 300);

  // Accepted.
  int n = 0;
  auto accepted = [&](const std::string& what, const std::string& token) {
    std::string id = "ext-ok-" + std::to_string(++n);
    ExpectDelivered(what, [&] { return Deliver(AsMessage("as-1", "UE", "ue-12", id), token); },
                    "as-1", id);
  };
  accepted("ES256", Sign(ec_key, good));
  accepted("RS256", Sign(rsa_key, claims(rsa_iss, delivery, now + 300)));
  accepted("expired 10 s ago, within the 30 s leeway", Sign(ec_key, claims(ec_iss, delivery, now - 10)));
  {
    auto nrf = claims(ec_iss, "msgs-msgdelivery", now + 300);
    nrf.aud = {kServerId};
    accepted("NRF style: plain API scope, aud = server id", Sign(ec_key, nrf));
  }
  const std::string es256_header = R"({"alg":"ES256","typ":"JWT"})";
  const std::string good_payload =
      R"({"iss":")" + ec_iss + R"(","client_id":"ext-as","scope":")" + delivery +
      R"(","exp":)" + std::to_string(now + 300) + "}";
  // The hand signer is right (so the refusals of its tokens below are about their claims).
  accepted("hand-signed ES256", SignRaw(ec_key.private_pem, es256_header, good_payload));
  // TS 29.222 AccessTokenClaims: iss, scope and exp only, as a CAPIF core function issues them.
  accepted("no client_id nor sub (CAPIF minimal claims)",
           SignRaw(ec_key.private_pem, es256_header,
                   R"({"iss":")" + ec_iss + R"(","scope":")" + delivery + R"(","exp":)" +
                       std::to_string(now + 300) + "}"));
  {
    auto reg_only = claims(ec_iss, "3gpp#" + kServerId + ":msgs-asregistration", now + 300);
    auto r = Call("POST", kRegistrations, R"({"asSvcId":"as-ext"})", Bearer(Sign(ec_key, reg_only)));
    EXPECT_EQ(r.status, 201) << "registration token on its API: " << r.body;
  }
  EXPECT_EQ(QueueCount("UE", "ue-12"), 6u);

  // Refused. Each: its own msgId, nothing stored, one audit line, one metric sample.
  std::string ec_pub_pem = ts::ReadFile(ec.public_file);
  std::string valid = Sign(ec_key, good);
  std::string tampered;
  {
    auto d1 = valid.find('.'), d2 = valid.find('.', d1 + 1);
    auto upgraded = Claims(valid);
    upgraded["scope"] = "3gpp#" + kServerId + ":msgs-asregistration,msgs-msgdelivery";
    upgraded["client_id"] = "limited-but-not-really";
    tampered = valid.substr(0, d1) + "." + B64Url(boost::json::serialize(upgraded)) +
               valid.substr(d2);
  }
  std::string hs256;
  {
    std::string header = B64Url(R"({"alg":"HS256","typ":"JWT"})") + "." + B64Url(good_payload);
    hs256 = header + "." + B64Url(HmacSha256(ec_pub_pem, header));
  }
  auto nrf_no_aud = claims(ec_iss, "msgs-msgdelivery", now + 300);
  auto nrf_other_aud = nrf_no_aud;
  nrf_other_aud.aud = {"other-server"};
  auto limited = claims(ec_iss, delivery, now + 300);
  limited.client_id = limited.sub = "limited";

  const std::string invalid = "error=\"invalid_token\"";
  struct Case {
    std::string name;
    std::vector<std::string> headers;
    Refusal want;
  };
  auto bearer = [](const std::string& t) { return Bearer(t); };
  std::vector<Case> cases = {
      {"no Authorization", {},
       {401, "MISSING_ACCESS_TOKEN", "missing_token", "bearer realm=\"msgin5g\"", "", true}},
      {"Basic credentials", {"authorization: Basic YXMtMTpzM2NyZXQ="},
       {400, "INVALID_MSG_FORMAT", "malformed_header", "error=\"invalid_request\"", "Authorization"}},
      {"Bearer without a token", {"authorization: Bearer"},
       {400, "INVALID_MSG_FORMAT", "malformed_header", "error=\"invalid_request\"", "Authorization"}},
      {"not a JWS", bearer("abc.def"), {401, "INVALID_ACCESS_TOKEN", "invalid_token", invalid}},
      {"alg none, empty signature",
       bearer(B64Url(R"({"alg":"none","typ":"JWT"})") + "." + B64Url(good_payload) + "."),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", invalid}},
      {"alg none with a signature",
       bearer(Jws(R"({"alg":"none","typ":"JWT"})", good_payload, "x")),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "algorithm"}},
      {"HS256 keyed with the issuer's public key PEM", bearer(hs256),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "algorithm"}},
      {"tampered payload", bearer(tampered),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "signature"}},
      {"expired 120 s ago", bearer(Sign(ec_key, claims(ec_iss, delivery, now - 120))),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "expired"}},
      {"expired 45 s ago (beyond the 30 s leeway)",
       bearer(Sign(ec_key, claims(ec_iss, delivery, now - 45))),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "expired"}},
      {"untrusted issuer", bearer(Sign(rogue_key, claims("https://rogue.test", delivery, now + 300))),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "not trusted"}},
      {"trusted issuer name, other key", bearer(Sign(rogue_key, good)),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "signature"}},
      {"RS256 token naming the ES256 issuer", bearer(Sign(rsa_key, good)),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "algorithm"}},
      {"no exp",
       bearer(SignRaw(ec_key.private_pem, es256_header,
                      R"({"iss":")" + ec_iss + R"(","client_id":"ext-as","scope":")" + delivery +
                          "\"}")),
       {401, "INVALID_ACCESS_TOKEN", "invalid_token", "exp"}},
      {"scope names another server",
       bearer(Sign(ec_key, claims(ec_iss, "3gpp#other-server:msgs-msgdelivery", now + 300))),
       {401, "INVALID_ACCESS_TOKEN", "wrong_server", invalid}},
      {"NRF style without aud", bearer(Sign(ec_key, nrf_no_aud)),
       {401, "INVALID_ACCESS_TOKEN", "wrong_server", invalid}},
      {"NRF style, aud of another server", bearer(Sign(ec_key, nrf_other_aud)),
       {401, "INVALID_ACCESS_TOKEN", "wrong_server", invalid}},
      {"scope lacks msgs-msgdelivery",
       bearer(Sign(ec_key, claims(ec_iss, "3gpp#" + kServerId + ":msgs-asregistration", now + 300))),
       {403, "INSUFFICIENT_SCOPE", "insufficient_scope", "error=\"insufficient_scope\""}},
      {"token of a client whose policy forbids the API", bearer(Sign(ec_key, limited)),
       {403, "API_NOT_ALLOWED", "api_not_allowed"}},
  };
  int m = 0;
  for (const auto& c : cases) {
    std::string id = "ext-bad-" + std::to_string(++m);
    ExpectRefused(c.name, c.want,
                  [&] {
                    return Call("POST", kDeliverAs, AsMessage("as-1", "UE", "ue-12", id), c.headers);
                  },
                  {"as-1", id});
  }
  EXPECT_EQ(QueueCount("UE", "ue-12"), 6u);
  // Tokens are never logged.
  EXPECT_EQ(d().log().find(valid.substr(valid.rfind('.') + 1)), std::string::npos);
}

// ----------------------------------------------------------------------------------------------
// 4. Admission control: address patterns, rate limit, registration ownership.

TEST_F(SecurityE2E, DestinationAndOriginPatternsAreEnforced) {
  SecurityConf conf;
  conf.clients = {
      ClientConf{.id = "g1-only", .secret = "pw-g1", .destinations = {"GROUP:g1"},
                 .origins = {"AS:as-1"}},
      ClientConf{.id = "ue-glob", .secret = "pw-glob", .destinations = {"UE:ue-1*"}},
  };
  ASSERT_TRUE(Start(conf));
  const std::string members = R"({"members":[{"addrType":"UE","addr":"ue-member"}]})";
  ASSERT_EQ(Admin("PUT", "/groups/g1", members).status, 200);
  ASSERT_EQ(Admin("PUT", "/groups/g2", members).status, 200);  // exists: refusals are by policy
  std::string g1 = GetToken("g1-only", "pw-g1"), glob = GetToken("ue-glob", "pw-glob");
  ASSERT_FALSE(g1.empty());
  ASSERT_FALSE(glob.empty());

  const Refusal recipient{403, "RECIPIENT_NOT_ALLOWED", "address_not_allowed", "", "/destAddr"};
  const Refusal originator{403, "ORIGINATOR_NOT_ALLOWED", "address_not_allowed", "", "/oriAddr"};
  ExpectRefused("g1-only to UE:ue-1", recipient,
                [&] { return Deliver(AsMessage("as-1", "UE", "ue-1", "adm-1"), g1); },
                {"as-1", "adm-1"});
  ExpectRefused("g1-only to GROUP:g2", recipient,
                [&] { return Deliver(AsMessage("as-1", "GROUP", "g2", "adm-2"), g1); },
                {"as-1", "adm-2"});
  {
    auto r = Deliver(AsMessage("as-1", "GROUP", "g1", "adm-3"), g1);
    EXPECT_EQ(r.status, 200) << "g1-only to GROUP:g1: " << r.body;
    EXPECT_EQ(QueueCount("UE", "ue-member"), 1u);
  }
  ExpectRefused("g1-only sending as AS:as-2", originator,
                [&] { return Deliver(AsMessage("as-2", "GROUP", "g1", "adm-4"), g1); },
                {"as-2", "adm-4"});
  // An AS registration's asSvcId is an originator too.
  ExpectRefused("g1-only registering as-2", originator, [&] {
    return Call("POST", kRegistrations, R"({"asSvcId":"as-2"})", Bearer(g1));
  });
  EXPECT_EQ(Call("POST", kRegistrations, R"({"asSvcId":"as-1"})", Bearer(g1)).status, 201);

  // Globs: UE:ue-1* admits ue-12, not ue-2 nor xue-1.
  EXPECT_EQ(Deliver(AsMessage("as-1", "UE", "ue-12", "adm-5"), glob).status, 200);
  EXPECT_EQ(QueueCount("UE", "ue-12"), 1u);
  ExpectRefused("ue-glob to UE:ue-2", recipient,
                [&] { return Deliver(AsMessage("as-1", "UE", "ue-2", "adm-6"), glob); },
                {"as-1", "adm-6"});
  ExpectRefused("ue-glob to UE:xue-1", recipient,
                [&] { return Deliver(AsMessage("as-1", "UE", "xue-1", "adm-7"), glob); },
                {"as-1", "adm-7"});
  ExpectRefused("ue-glob to GROUP:g1", recipient,
                [&] { return Deliver(AsMessage("as-1", "GROUP", "g1", "adm-8"), glob); },
                {"as-1", "adm-8"});
}

// Sends `bodies` to deliver-as-message in one curl run, one after another on one connection (no
// process start between them). Returns status, headers and body of each. HTTP/1.1 keep-alive:
// curl 7.88 cannot reuse an h2c prior-knowledge connection across --next ("Error in the HTTP2
// framing layer", against nghttpd as well).
std::vector<ts::CurlResult> DeliverBurst(const std::string& dir, const std::string& sbi,
                                         const std::string& token,
                                         const std::vector<std::string>& bodies) {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20"};
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    if (i > 0) argv.push_back("--next");
    std::string n = std::to_string(i);
    argv.insert(argv.end(), {"--http1.1", "-H", kJsonType, "-H",
                             "authorization: Bearer " + token, "-d", bodies[i], "-D",
                             dir + "/burst-h" + n, "-o", dir + "/burst-b" + n, "-w",
                             "%{http_code}\n", "http://" + sbi + kDeliverAs});
  }
  auto r = ts::Run(argv);
  std::vector<ts::CurlResult> out(bodies.size());
  std::istringstream codes(r.out);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    codes >> out[i].status;
    out[i].exit_code = r.exit_code;
    out[i].err = r.err;
    out[i].headers = ToLower(ts::ReadFile(dir + "/burst-h" + std::to_string(i)));
    out[i].body = ts::ReadFile(dir + "/burst-b" + std::to_string(i));
  }
  return out;
}

TEST_F(SecurityE2E, RateLimitRefusesWithRetryAfterAndStoresNothing) {
  SecurityConf conf;
  conf.clients = {ClientConf{.id = "as-1", .secret = "pw-rl", .rate_limit = 2, .rate_burst = 2}};
  ASSERT_TRUE(Start(conf));
  std::string token = GetToken("as-1", "pw-rl");  // the token endpoint is not rate limited
  ASSERT_FALSE(token.empty());
  std::string stored = Stored();
  double limited = Decisions("rate_limited");
  std::size_t audited = AuditLines("rate_limited");

  auto r = DeliverBurst(dir_.path(), d().sbi(), token,
                        {AsMessage("as-1", "UE", "ue-rl", "rl-1"),
                         AsMessage("as-1", "UE", "ue-rl", "rl-2"),
                         AsMessage("as-1", "UE", "ue-rl", "rl-3")});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, 200) << r[0].body << r[0].err;
  EXPECT_EQ(r[1].status, 200) << r[1].body;
  ExpectProblem(r[2], {429, "NF_CONGESTION_RISK", "rate_limited"});
  auto retry = Header(r[2].headers, "retry-after");
  ASSERT_TRUE(retry.has_value()) << r[2].headers;
  int retry_s = std::atoi(retry->c_str());
  EXPECT_GE(retry_s, 1) << *retry;
  EXPECT_LE(retry_s, 2) << *retry;  // one token at 2/s is 0.5 s away
  EXPECT_EQ(Decisions("rate_limited"), limited + 1);
  EXPECT_TRUE(ts::WaitFor([&] { return AuditLines("rate_limited") == audited + 1; }, 2s));
  // The refused one stored nothing: two messages, and rl-3 unknown.
  EXPECT_EQ(QueueCount("UE", "ue-rl"), 2u);
  EXPECT_TRUE(Recorded("as-1", "rl-2"));
  EXPECT_FALSE(Recorded("as-1", "rl-3"));
  EXPECT_NE(Stored(), stored);

  // After Retry-After the client is admitted again.
  std::this_thread::sleep_for(std::chrono::seconds(retry_s));
  auto again = Deliver(AsMessage("as-1", "UE", "ue-rl", "rl-3"), token);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(QueueCount("UE", "ue-rl"), 3u);
}

std::string Location(const ts::CurlResult& r) {
  return Header(r.headers, "location").value_or("");
}

TEST_F(SecurityE2E, RegistrationsBelongToTheClientThatMadeThem) {
  SecurityConf conf;
  conf.clients = {ClientConf{.id = "as-a", .secret = "pw-a"}, ClientConf{.id = "as-b", .secret = "pw-b"}};
  ASSERT_TRUE(Start(conf));
  std::string a = GetToken("as-a", "pw-a"), b = GetToken("as-b", "pw-b");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());

  auto reg = Call("POST", kRegistrations, R"({"asSvcId":"as-owned"})", Bearer(a));
  ASSERT_EQ(reg.status, 201) << reg.body;
  std::string location = Location(reg);
  ASSERT_NE(location.find(kRegistrations + "/"), std::string::npos) << reg.headers;

  const Refusal not_owner{403, "MODIFICATION_NOT_ALLOWED", "not_owner"};
  ExpectRefused("B deletes A's registration", not_owner,
                [&] { return Call("DELETE", location, "", Bearer(b)); });
  ExpectRefused("B registers A's asSvcId", not_owner, [&] {
    return Call("POST", kRegistrations, R"({"asSvcId":"as-owned","targetUri":"https://192.0.2.1/b"})",
                Bearer(b));
  });
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["registrations"].to_number<int>(), 1);

  auto del = Call("DELETE", location, "", Bearer(a));
  EXPECT_EQ(del.status, 204) << del.body;
  EXPECT_EQ(Json(Admin("GET", "/stats").body)["registrations"].to_number<int>(), 0);
  // Once A let it go, B may take the asSvcId.
  EXPECT_EQ(Call("POST", kRegistrations, R"({"asSvcId":"as-owned"})", Bearer(b)).status, 201);
}

// ----------------------------------------------------------------------------------------------
// 5. SIGHUP: clients and the TLS certificate are re-read.

TEST_F(SecurityE2E, SighupReloadsClientsAndCertificate) {
  Pki pki = MakePki(dir_.File("pki"));
  SecurityConf conf;
  conf.tls_cert = pki.server.cert;
  conf.tls_key = pki.server.key;
  conf.clients = {ClientConf{.id = "as-a", .secret = "pw-a"}};
  trust_ca_ = pki.ca_cert;
  ASSERT_TRUE(Start(conf));
  const std::string serial1 = SerialOf(pki.server.cert);
  EXPECT_EQ(ServedSerial(), serial1);
  std::string a = GetToken("as-a", "pw-a");
  ASSERT_FALSE(a.empty());
  const std::vector<std::string> b_form = {"-d", "grant_type=client_credentials", "-d",
                                           "client_id=as-b", "-d", "client_secret=pw-b"};
  EXPECT_EQ(TokenCall("/oauth2/token", b_form).status, 401);  // B unknown yet

  // New configuration: client B, and a new server certificate from the same CA.
  CertKey server2 = Issue(dir_.File("pki"), "server2", pki.ca_cert, pki.ca_key, "localhost",
                          kServerExt, "0x1002");
  const std::string serial2 = SerialOf(server2.cert);
  ASSERT_NE(serial1, serial2);
  SecurityConf next = conf;
  next.tls_cert = server2.cert;
  next.tls_key = server2.key;
  next.clients.push_back(ClientConf{.id = "as-b", .secret = "pw-b"});
  ts::WriteFile(config_, next.ToToml());
  ASSERT_EQ(kill(d().proc().pid(), SIGHUP), 0);
  ASSERT_TRUE(ts::WaitFor([&] { return d().log().find("SIGHUP: reloaded") != std::string::npos; },
                          10s))
      << d().log();
  EXPECT_NE(d().log().find("2 clients, 0 trusted issuers, TLS certificate"), std::string::npos)
      << d().log();

  auto b_tok = TokenCall("/oauth2/token", b_form);
  ASSERT_EQ(b_tok.status, 200) << b_tok.body;
  std::string b = Str(Json(b_tok.body), "access_token");
  EXPECT_EQ(Deliver(AsMessage("as-1", "UE", "ue-12", "hup-1"), b).status, 200);
  EXPECT_EQ(Deliver(AsMessage("as-1", "UE", "ue-12", "hup-2"), a).status, 200)
      << "a token issued before the reload stays valid";
  EXPECT_EQ(ServedSerial(), serial2) << "new connections get the new certificate";

  // A configuration that fails (missing certificate file) changes nothing, clients included.
  SecurityConf broken = conf;  // without B
  broken.tls_cert = dir_.File("pki/missing.pem");
  ts::WriteFile(config_, broken.ToToml());
  ASSERT_EQ(kill(d().proc().pid(), SIGHUP), 0);
  ASSERT_TRUE(ts::WaitFor(
      [&] { return d().log().find("SIGHUP: TLS error, keeping the old") != std::string::npos; }, 10s))
      << d().log();
  EXPECT_EQ(TokenCall("/oauth2/token", b_form).status, 200) << "B must survive a failed reload";
  EXPECT_EQ(ServedSerial(), serial2);
  EXPECT_TRUE(d().proc().running());
}

}  // namespace
}  // namespace msgin5g
