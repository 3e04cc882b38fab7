// TLS configuration for listeners and outbound connections: TLS 1.2+, ALPN h2 / http/1.1,
// certificate and key from PEM files, optional CA bundle for peer verification (mutual TLS).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "common/status.h"

namespace msgin5g::api::http {

struct TlsOptions {
  std::string cert_file;        // PEM chain. Required for servers.
  std::string key_file;         // PEM private key. Required for servers.
  std::string ca_file;          // PEM bundle. Server: verify client certificates (mTLS) when set.
                                // Client: verify the server against it (system store if empty).
  bool verify_peer = true;      // client side only: false accepts any server certificate (tests)
  bool require_client_cert = false;  // server side, with ca_file
};

// Builds a server SSL context whose ALPN callback prefers "h2" and falls back to "http/1.1".
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options);

// Builds a client SSL context offering ALPN "h2".
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const TlsOptions& options);

}  // namespace msgin5g::api::http
