// The outbound HTTP client, HTTP/2 first: one connection per authority (scheme://host:port), many
// streams multiplexed on it, h2c with prior knowledge for http:// and h2 over TLS (ALPN) for
// https://. An authority found to speak HTTP/1.1 only (ALPN over TLS; over cleartext, an answer to
// the preface that is not a SETTINGS frame) is remembered, logged once, and spoken to over HTTP/1.1
// from then on (h1_client_pool.h); the requests that found out move there unanswered.
//
// Threads: everything runs on the io_context given at construction; Send may be called from any
// thread and `done` always runs on that io_context. A connection that fails fails its requests
// with Unavailable and is replaced on the next Send; one that received GOAWAY takes no new streams.
// TLS sessions are kept per authority and resumed when a connection is replaced.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "api/http/client_options.h"
#include "api/http/client_target.h"
#include "api/http/h1_client_pool.h"
#include "api/http/message.h"
#include "api/http/tls_session_cache.h"
#include "common/status.h"

namespace msgin5g::api::http {

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
  H1ClientPool& Http1Pool(const std::string& key);
  // Called by a connection that found its peer speaks HTTP/1.1 only, with what it had not sent
  // or had no answer to.
  void MoveToHttp1(const ClientTarget& target, const std::string& why,
                   std::vector<QueuedRequest> requests);

  boost::asio::io_context& ioc_;
  ClientOptions options_;
  TlsSessionCache sessions_;  // before the pools: connections refer to it
  // io_context thread only:
  std::unordered_map<std::string, std::shared_ptr<Connection>> pool_;
  std::unordered_set<std::string> http1_;  // authorities that speak HTTP/1.1 only
  std::unordered_map<std::string, std::shared_ptr<H1ClientPool>> h1_pools_;
};

}  // namespace msgin5g::api::http
