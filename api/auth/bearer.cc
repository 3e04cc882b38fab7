#include "api/auth/bearer.h"

#include <array>
#include <cctype>

#include "api/http/problem.h"

namespace msgin5g::api::auth {

// RFC 6750 §3: the challenge. `error` empty for a request without credentials.
http::Response BearerChallenge(std::string_view realm, int status, std::string_view error,
                               std::string_view problem_cause, const std::string& detail) {
  http::Response r = http::MakeProblem(status, problem_cause, detail);
  std::string h = "Bearer realm=\"" + std::string(realm) + "\"";
  if (!error.empty()) {
    h += ", error=\"" + std::string(error) + "\"";
    std::string desc;
    for (char c : detail) desc += (c == '"' || c == '\\') ? '\'' : c;  // quoted-string safe
    h += ", error_description=\"" + desc + "\"";
  }
  r.headers.push_back({"www-authenticate", std::move(h)});
  return r;
}

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string_view> BearerToken(std::string_view header) {
  auto sp = header.find(' ');
  if (sp == std::string_view::npos || !IEquals(header.substr(0, sp), "Bearer")) return std::nullopt;
  std::string_view t = header.substr(sp + 1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.empty()) return std::nullopt;
  static const auto kB64Token = [] {  // RFC 6750 b64token characters
    std::array<bool, 256> ok{};
    for (int c = 0; c < 256; ++c) {
      ok[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
    }
    return ok;
  }();
  for (char c : t) {
    if (!kB64Token[static_cast<unsigned char>(c)]) return std::nullopt;
  }
  return t;
}

}  // namespace msgin5g::api::auth
