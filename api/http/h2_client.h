// HTTP/2 client: a connection pool per authority (scheme://host:port), many streams multiplexed on
// one connection, h2c with prior knowledge for http:// and h2 over TLS (ALPN) for https://.
//
// Threads: everything runs on the io_context given at construction; Send may be called from any
// thread and `done` always runs on that io_context. A connection that fails fails its requests
// with Unavailable and is replaced on the next Send; one that received GOAWAY takes no new streams.
// TLS sessions are kept per authority and resumed when a connection is replaced.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "api/http/message.h"
#include "api/http/tls_session_cache.h"
#include "common/status.h"

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
};

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // absolute: http://host:port/path?query or https://...
  Headers headers;  // lower-case names
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;  // overrides ClientOptions::request_timeout
};

class H2Client {
 public:
  using Callback = std::function<void(Result<Response>)>;

  H2Client(boost::asio::io_context& ioc, ClientOptions options);
  ~H2Client();
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  // Sends `request`; `done` gets the response (any status) or InvalidArgument (bad URL),
  // Unavailable (connect/TLS/stream failure), DeadlineExceeded (timeout), ResourceExhausted.
  void Send(ClientRequest request, Callback done);

  // Closes every connection; requests in flight fail with Unavailable. Thread-safe: the close runs
  // on the client's io_context, so (as for every handler the client posts) the client must outlive
  // the context's run; HttpDeliveryChannel joins its I/O thread before destroying the client.
  void Close();

  class Connection;

 private:
  void SendOnLoop(ClientRequest request, Callback done);

  boost::asio::io_context& ioc_;
  ClientOptions options_;
  TlsSessionCache sessions_;  // before pool_: connections refer to it
  std::unordered_map<std::string, std::shared_ptr<Connection>> pool_;  // io_context thread only
};

}  // namespace msgin5g::api::http
