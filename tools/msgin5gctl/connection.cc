#include "tools/msgin5gctl/connection.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <boost/url/parse.hpp>

namespace msgin5gctl {

namespace {

constexpr const char* kPackagedSocket = "/run/msgin5g/admin.sock";
constexpr const char* kLocalSocket = "./msgin5g-admin.sock";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<Endpoint> ParseAdminUrl(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  auto bad = [&](const std::string& why) {
    return UsageError("admin URL \"" + url + "\": " + why + " (expected http://HOST:PORT or https://HOST:PORT)");
  };
  if (!parsed) return bad(parsed.error().message());
  const auto& u = *parsed;
  Endpoint e;
  if (u.scheme() == "http") {
    e.kind = Endpoint::Kind::kTcp;
  } else if (u.scheme() == "https") {
    e.kind = Endpoint::Kind::kTls;
  } else {
    return bad("scheme must be http or https");
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment() || (u.path() != "" && u.path() != "/")) {
    return bad("only scheme, host and port may be given");
  }
  e.host = u.host_address();
  if (e.host.empty()) return bad("no host");
  e.port = u.has_port() ? std::string(u.port()) : (e.kind == Endpoint::Kind::kTls ? "443" : "80");
  if (e.port.empty()) return bad("empty port");
  return e;
}

Result<Endpoint> ResolveEndpoint(const Invocation& inv) {
  Endpoint e;
  std::string url = inv.get("--url").value_or("");
  if (url.empty() && !inv.has("--socket")) url = Env("MSGIN5G_ADMIN_URL");
  if (!url.empty()) {
    auto parsed = ParseAdminUrl(url);
    if (!parsed.ok()) return parsed.error();
    e = *parsed;
  } else {
    e.kind = Endpoint::Kind::kUnix;
    if (auto s = inv.get("--socket")) {
      e.path = *s;
    } else if (std::string env = Env("MSGIN5G_ADMIN_SOCKET"); !env.empty()) {
      e.path = env;
    } else {
      std::error_code ec;
      e.path = std::filesystem::exists(kPackagedSocket, ec) ? kPackagedSocket : kLocalSocket;
    }
    if (e.path.empty()) return UsageError("--socket needs a path");
  }
  const bool tls = e.kind == Endpoint::Kind::kTls;
  for (const char* opt : {"--cacert", "--cert", "--key"}) {
    if (inv.has(opt) && !tls) return UsageError(std::string(opt) + " needs an https:// admin URL");
  }
  e.cacert = inv.get("--cacert").value_or("");
  e.cert = inv.get("--cert").value_or("");
  e.key = inv.get("--key").value_or("");
  if (e.cert.empty() != e.key.empty()) return UsageError("--cert and --key go together");
  return e;
}

namespace {

Result<std::string> TokenFromOptions(const Invocation& inv) {
  if (inv.has("--token") && inv.has("--token-file")) {
    return UsageError("give --token or --token-file, not both");
  }
  if (auto t = inv.get("--token")) {
    if (t->empty()) return UsageError("--token is empty");
    return *t;
  }
  if (auto file = inv.get("--token-file")) {
    std::ifstream in(*file);
    std::string line;
    if (!in || !std::getline(in, line)) return UsageError("cannot read a token from --token-file " + *file);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    if (line.empty()) return UsageError("the first line of --token-file " + *file + " is empty");
    return line;
  }
  return Env("MSGIN5G_ADMIN_TOKEN");
}

}  // namespace

Result<std::string> ResolveToken(const Invocation& inv) {
  auto token = TokenFromOptions(inv);
  if (!token.ok()) return token;
  for (char c : *token) {
    if (c <= 0x20 || c >= 0x7f) return UsageError("the admin token holds a space or a control character");
  }
  return token;
}

}  // namespace msgin5gctl
