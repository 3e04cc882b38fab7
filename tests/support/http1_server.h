// A test peer written with Python's http.server, which speaks HTTP/1.1 only, run as a real
// process: tests/support/http1_server.py (an AS that does not speak HTTP/2; see the script for
// what each path answers) or another script of the same shape, such as ccf_server.py (a CAPIF
// core function). Every request it received, in order.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace msgin5g::testing_support {

struct Http1Request {
  std::string method;
  std::string path;
  std::string version;  // "HTTP/1.1"
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int status = 0;  // the answer, for scripts that log it (ccf_server.py)
};

class Http1Server {
 public:
  struct Options {
    const TestCerts* tls = nullptr;  // serve TLS with the test server certificate
    double idle_timeout_s = 0;       // close kept-alive connections idle this long (0: never)
    std::string script = "http1_server.py";  // under tests/support
    std::vector<std::string> args;            // more arguments for the script
    int port = 0;                             // 0: a free one, chosen by the server
  };
  explicit Http1Server(Options options);
  Http1Server() : Http1Server(Options{}) {}
  ~Http1Server();

  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  // http://127.0.0.1:PORT or https://127.0.0.1:PORT.
  std::string url() const;
  std::vector<Http1Request> received() const;
  // Waits until `n` requests whose path starts with `prefix` arrived.
  bool WaitFor(const std::string& prefix, std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  TempDir dir_;
  bool tls_ = false;
  int port_ = 0;
  std::unique_ptr<Process> proc_;
};

}  // namespace msgin5g::testing_support
