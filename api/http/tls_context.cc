#include "api/http/tls_context.h"

#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "api/http/tls_session_cache.h"

namespace msgin5g::api::http {

namespace {

std::string OpenSslError(const char* what) {
  std::string out = what;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += ": ";
    out += buf;
  }
  return out;
}

// ALPN selection (RFC 7301): prefer h2, accept http/1.1, otherwise no protocol (the session then
// treats the connection as HTTP/1.1, which is what a client offering nothing expects).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kPrefs[][9] = {{2, 'h', '2'},
                                            {8, 'h', 't', 't', 'p', '/', '1', '.', '1'}};
  for (const auto& pref : kPrefs) {
    for (unsigned int i = 0; i < inlen;) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == pref[0] && std::memcmp(in + i + 1, pref + 1, len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

void CommonSetup(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // TLS 1.2 suites limited to AEAD with forward secrecy (RFC 9113 §9.2.2 blocklist avoided).
  SSL_CTX_set_cipher_list(ctx,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
}

// A server context and what its callbacks point to, freed together.
struct ServerTls {
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_server};
  std::function<bool(std::string_view, std::string*)> psk_lookup;
};

int PskIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The PSK identity a handshake used, kept on the SSL object: OpenSSL records it in the session for
// TLS 1.2 only, not for a TLS 1.3 external PSK found through the callback below.
void FreeIdentity(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(ptr);
}
int PskIdentityIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeIdentity);
  return index;
}

// OpenSSL uses this callback for TLS 1.2 PSK suites and, with a SHA-256 suite, for TLS 1.3
// external PSKs (no find-session callback is set).
unsigned int PskServerCallback(SSL* ssl, const char* identity, unsigned char* psk,
                               unsigned int max_psk_len) {
  auto* tls = static_cast<ServerTls*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), PskIndex()));
  if (tls == nullptr || !tls->psk_lookup || identity == nullptr) return 0;
  std::string key;
  if (!tls->psk_lookup(identity, &key) || key.empty() || key.size() > max_psk_len) return 0;
  std::memcpy(psk, key.data(), key.size());
  delete static_cast<std::string*>(SSL_get_ex_data(ssl, PskIdentityIndex()));
  SSL_set_ex_data(ssl, PskIdentityIndex(), new std::string(identity));
  return static_cast<unsigned int>(key.size());
}

std::string FirstSan(X509* cert, int type) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return {};
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && out.empty(); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != type) continue;
    const ASN1_IA5STRING* s = type == GEN_URI ? n->d.uniformResourceIdentifier : n->d.dNSName;
    out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
               static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace

std::string PeerIdentity(SSL* ssl, bool* psk) {
  *psk = false;
  if (SSL_get0_peer_certificate(ssl) == nullptr) {
    if (auto* id = static_cast<std::string*>(SSL_get_ex_data(ssl, PskIdentityIndex()))) {
      *psk = true;
      return *id;
    }
    if (const char* id = SSL_get_psk_identity(ssl)) {  // a resumed TLS 1.2 PSK session
      *psk = true;
      return id;
    }
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  if (auto uri = FirstSan(cert, GEN_URI); !uri.empty()) return uri;
  if (auto dns = FirstSan(cert, GEN_DNS); !dns.empty()) return dns;
  char cn[256] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  return n > 0 ? std::string(cn, static_cast<std::size_t>(n)) : std::string();
}

Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return Status::InvalidArgument("tls: cert_file and key_file are required");
  }
  auto holder = std::make_shared<ServerTls>();
  holder->psk_lookup = options.psk_lookup;
  std::shared_ptr<boost::asio::ssl::context> ctx(holder, &holder->ctx);
  SSL_CTX* native = ctx->native_handle();
  CommonSetup(native);
  if (options.psk_lookup) {
    SSL_CTX_set_ex_data(native, PskIndex(), holder.get());
    SSL_CTX_set_psk_server_callback(native, PskServerCallback);
    // TLS 1.2 PSK suites with forward secrecy, after the certificate suites.
    SSL_CTX_set_cipher_list(native,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                            "ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES128-GCM-SHA256:"
                            "DHE-PSK-AES256-GCM-SHA384");
    // A TLS 1.3 external PSK from this callback is bound to SHA-256: prefer a SHA-256 suite, or
    // server preference would pick AES-256/SHA-384 and fall back to the certificate.
    SSL_CTX_set_ciphersuites(native,
                             "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                             "TLS_AES_256_GCM_SHA384");
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, options.cert_file.c_str()) != 1) {
    return Status::InvalidArgument(OpenSslError(("tls: cannot load " + options.cert_file).c_str()));
  }
  if (SSL_CTX_use_PrivateKey_file(native, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument(OpenSslError(("tls: cannot load " + options.key_file).c_str()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument(OpenSslError("tls: key does not match certificate"));
  }
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument(OpenSslError(("tls: cannot load " + options.ca_file).c_str()));
    }
    int mode = SSL_VERIFY_PEER;
    if (options.require_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(native, mode, nullptr);
  }
  // Resumed sessions (tickets, TLS 1.3 PSKs) must carry a context id when peers are verified, or
  // OpenSSL fails the handshake ("session id context uninitialized").
  static const unsigned char kSessionContext[] = "msgin5g";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  return ctx;
}

Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const TlsOptions& options) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  CommonSetup(native);
  ERR_clear_error();
  if (options.verify_peer) {
    if (!options.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1) {
        return Status::InvalidArgument(
            OpenSslError(("tls: cannot load " + options.ca_file).c_str()));
      }
    } else {
      SSL_CTX_set_default_verify_paths(native);
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(native, options.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(native, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Status::InvalidArgument(OpenSslError("tls: cannot load client certificate"));
    }
  }
  // Each connection sets its own ALPN list (h2, with http/1.1 when it may fall back).
  TlsSessionCache::Install(native);  // sessions kept per authority by each H2Client
  return ctx;
}

}  // namespace msgin5g::api::http
