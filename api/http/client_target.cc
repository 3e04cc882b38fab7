#include "api/http/client_target.h"

#include <boost/url/parse.hpp>

namespace msgin5g::api::http {

Result<ClientTarget> ParseClientTarget(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Status::InvalidArgument("bad URL: " + url);
  ClientTarget t;
  std::string scheme(parsed->scheme());
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme != "http") {
    return Status::InvalidArgument("unsupported URL scheme: " + scheme);
  }
  t.host = std::string(parsed->encoded_host());
  if (t.host.empty()) return Status::InvalidArgument("URL without host: " + url);
  if (t.host.size() > 2 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.authority = std::string(parsed->encoded_authority());
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

}  // namespace msgin5g::api::http
