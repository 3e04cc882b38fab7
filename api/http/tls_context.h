// TLS configuration for listeners and outbound connections: TLS 1.2+, ALPN h2 / http/1.1,
// certificate and key from PEM files, optional CA bundle for peer verification (mutual TLS).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "common/status.h"

namespace msgin5g::api::http {

struct TlsOptions {
  std::string cert_file;        // PEM chain. Required for servers.
  std::string key_file;         // PEM private key. Required for servers.
  std::string ca_file;          // PEM bundle. Server: verify client certificates (mTLS) when set.
                                // Client: verify the server against it (system store if empty).
  bool verify_peer = true;      // client side only: false accepts any server certificate (tests)
  bool require_client_cert = false;  // server side, with ca_file
  // Server side, TLS-PSK (TLS 1.3 external PSK and TLS 1.2 (EC)DHE-PSK suites): the key for an
  // identity, false if unknown. Called on an I/O thread during handshakes; must not block.
  std::function<bool(std::string_view identity, std::string* key)> psk_lookup;
};

// The verified identity of a TLS peer: the PSK identity when the session used a PSK (`*psk` set),
// else the client certificate's first SAN URI, else first SAN DNS name, else subject CN. Empty if
// there is no verified certificate.
std::string PeerIdentity(SSL* ssl, bool* psk);

// Builds a server SSL context whose ALPN callback prefers "h2" and falls back to "http/1.1".
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options);

// Builds a client SSL context; the ALPN list is set per connection (api/http/client_transport.h).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const TlsOptions& options);

}  // namespace msgin5g::api::http
