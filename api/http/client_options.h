// What the outbound HTTP client (api/http/h2_client.h) is configured with, and what one request
// is. Shared by its HTTP/2 connections, its HTTP/1.1 connections and the transport under both.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "api/http/message.h"

namespace msgin5g::api::http {

struct ClientOptions {
  // TCP connect (+ TLS handshake) deadline. Default: 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // Default per-request deadline, from Send to the complete response. Default: 10 s.
  std::chrono::milliseconds request_timeout{10000};
  // Larger response bodies fail the request with ResourceExhausted. Default: 4 MiB.
  std::size_t max_response_bytes = 4 << 20;
  // Required for https:// URLs (see MakeClientTlsContext).
  std::shared_ptr<boost::asio::ssl::context> tls;
  // Called on the client's io_context after each successful TLS handshake: true when it resumed
  // the authority's previous session (api/http/tls_session_cache.h), false for a full handshake.
  std::function<void(bool resumed)> on_tls_handshake;
  // Peers that only speak HTTP/1.1 (ALPN "http/1.1" or none over TLS; over cleartext, an answer
  // to the HTTP/2 preface that is not a SETTINGS frame) are then spoken to over HTTP/1.1, remembered
  // per authority for the client's life. False: their requests fail with Unavailable.
  bool http1_fallback = true;
  // Connections kept to one HTTP/1.1 authority: one request at a time each (no pipelining).
  std::size_t http1_connections = 8;
  // Called on the client's io_context the first time an authority is found to speak HTTP/1.1
  // only, with its key (scheme://host:port) and why.
  std::function<void(const std::string& authority, const std::string& why)> on_http1_fallback;
};

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // absolute: http://host:port/path?query or https://...
  Headers headers;  // lower-case names
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;  // overrides ClientOptions::request_timeout
};

}  // namespace msgin5g::api::http
