// A real HTTP/2 peer for delivery tests: an application server and message gateways in one
// process, on our own server (h2c on 127.0.0.1). It records every request and answers each with the
// status the test chose, or never (hang). It can be stopped and started again on the same port
// (an AS that is down for a while). Over TLS when given a server context (the same one across
// Stop and Start, so its session tickets stay valid, as an AS's would across a restart).
//
// Paths: AS targetUri = url() + "/as/NAME" -> /as/NAME/deliver-message and /deliver-report;
// gateways at url() as apiRoot -> /msgg-{l3g,n3g,bg}delivery/v1/deliver-message (+ deliver-report).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "api/http/responder.h"

namespace msgin5g::testing_support {

struct Received {
  std::string path;
  std::string body;
  std::chrono::steady_clock::time_point at;
  std::string authorization;  // the Authorization header, if any
  std::string peer_identity;  // the verified TLS client identity, if any
};

class Receiver {
 public:
  Receiver();  // h2c, listening on a free port
  explicit Receiver(std::shared_ptr<boost::asio::ssl::context> tls);  // h2 over TLS
  ~Receiver();

  std::string url() const;  // http://127.0.0.1:PORT, or https:// over TLS
  std::string as_target(const std::string& name) const { return url() + "/as/" + name; }

  // 0: never answer (the request hangs until the client gives up). Default 204.
  void set_status(int status, std::string retry_after = "");
  void Stop();   // closes the listener and every connection
  void Start();  // listens again on the same port

  std::vector<Received> received();
  std::vector<Received> received(const std::string& path_suffix);
  // Waits until at least `n` requests whose path ends with `path_suffix` arrived.
  bool WaitFor(const std::string& path_suffix, std::size_t n, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msgin5g::testing_support
