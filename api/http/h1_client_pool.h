// HTTP/1.1 connections to one authority, for the peers of the outbound client (h2_client.h) that
// do not speak HTTP/2: northbound callbacks in the style of TS 29.122 are often plain HTTP/1.1
// servers. Up to ClientOptions::http1_connections connections, one request at a time each (no
// pipelining: a slow response would hold up every request behind it), kept alive between
// requests; requests wait in order for a free connection.
//
// A request written on a reused connection that ends before any byte of a response (the server
// closed it while idle) is sent once more on a fresh one. A duplicate is possible, as with any
// retry of a POST; MSGin5G deliveries carry their msgId for exactly that.
//
// Threads: the client's io_context only.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "api/http/client_options.h"
#include "api/http/client_target.h"
#include "api/http/message.h"
#include "api/http/tls_session_cache.h"
#include "common/status.h"

namespace msgin5g::api::http {

// A request on its way: what H2Client hands over when it finds a peer speaks HTTP/1.1 only.
struct QueuedRequest {
  ClientRequest request;
  ClientTarget target;
  std::chrono::steady_clock::time_point deadline;  // DeadlineExceeded past it
  std::function<void(Result<Response>)> done;
};

class H1ClientPool : public std::enable_shared_from_this<H1ClientPool> {
 public:
  H1ClientPool(boost::asio::io_context& ioc, const ClientOptions& options,
               TlsSessionCache& sessions);
  ~H1ClientPool();
  H1ClientPool(const H1ClientPool&) = delete;
  H1ClientPool& operator=(const H1ClientPool&) = delete;

  // `done` gets the response (any status) or Unavailable, DeadlineExceeded, ResourceExhausted.
  void Submit(QueuedRequest request);
  // Closes every connection; requests waiting or in flight fail with Unavailable.
  void Close();

 private:
  class Connection;
  struct Exchange;

  static void Finish(Exchange& x, Result<Response> result);
  void Dispatch();
  void FailWaiting(const Status& status);
  void Retry(std::shared_ptr<Exchange> x);

  boost::asio::io_context& ioc_;
  const ClientOptions& options_;
  TlsSessionCache& sessions_;
  std::deque<std::shared_ptr<Exchange>> waiting_;
  std::vector<std::shared_ptr<Connection>> connections_;
  bool closed_ = false;
};

}  // namespace msgin5g::api::http
