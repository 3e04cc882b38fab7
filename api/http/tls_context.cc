#include "api/http/tls_context.h"

#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

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

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return Status::InvalidArgument("tls: cert_file and key_file are required");
  }
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  CommonSetup(native);
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
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(native, kAlpn, sizeof(kAlpn));
  return ctx;
}

}  // namespace msgin5g::api::http
