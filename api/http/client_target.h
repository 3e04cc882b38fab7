// Where an outbound request goes: an absolute http:// or https:// URL taken apart into what the
// connection needs (host, port, TLS) and what the request carries (:authority / Host, path).
#pragma once

#include <string>

#include "common/status.h"

namespace msgin5g::api::http {

struct ClientTarget {
  bool tls = false;
  std::string host;       // without brackets for IPv6 literals
  std::string port;
  std::string authority;  // host[:port] as sent in :authority or Host
  std::string path;       // path and query, "/" at least

  // The connection pool key: scheme://host:port.
  std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

// InvalidArgument for a URL that does not parse, has no host or another scheme.
Result<ClientTarget> ParseClientTarget(const std::string& url);

}  // namespace msgin5g::api::http
