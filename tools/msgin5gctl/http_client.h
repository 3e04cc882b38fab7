// One HTTP/1.1 exchange with the admin API over a Unix socket, TCP or TLS (Boost.Beast): a new
// connection per request, closed after the answer. Transport failures are Exit::kConnect errors;
// any HTTP status is a successful exchange (the caller judges it).
#pragma once

#include <chrono>
#include <string>

#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

struct Endpoint {
  enum class Kind { kUnix, kTcp, kTls };
  Kind kind = Kind::kUnix;
  std::string path;  // kUnix: the socket file
  std::string host;  // kTcp, kTls: name or IP literal (no brackets)
  std::string port;
  // kTls: the CA bundle to verify the server with (empty: the system's), and the client
  // certificate and key for mutual TLS (both or neither).
  std::string cacert, cert, key;

  std::string Describe() const;  // "unix socket /run/...", "http://host:port", "https://..."
};

struct HttpRequest {
  std::string method;  // GET, PUT, POST, DELETE
  std::string target;  // "/admin/v1/stats"
  std::string body;    // sent as application/json when not empty
  std::string token;   // "authorization: Bearer TOKEN" when not empty
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

Result<HttpResponse> Exchange(const Endpoint& endpoint, const HttpRequest& request,
                              std::chrono::seconds timeout);

}  // namespace msgin5gctl
