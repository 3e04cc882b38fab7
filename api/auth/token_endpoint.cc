#include "api/auth/token_endpoint.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <boost/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hex.h"
#include "api/auth/scope.h"
#include "api/auth/secret_hash.h"

namespace msgin5g::api::auth {

namespace {

using http::Request;
using http::Responder;
using http::Response;

// RFC 6749 §5.2 error answer (TS 29.222 AccessTokenErr).
Response TokenError(int status, std::string_view error, std::string description) {
  boost::json::object o;
  o["error"] = error;
  o["error_description"] = description;
  Response r = Response::Json(status, boost::json::serialize(o));
  r.headers.push_back({"cache-control", "no-store"});
  if (status == 401) r.headers.push_back({"www-authenticate", "Basic realm=\"msgin5g\""});
  return r;
}

// application/x-www-form-urlencoded: '+' is a space, %XX an octet.
bool FormDecode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out->push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexDigitValue(in[i + 1]), lo = HexDigitValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(in[i]);
    }
  }
  return true;
}

// Parses the form; a parameter given twice is an error (RFC 6749 §3.2).
Result<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < body.size()) {
    std::size_t amp = body.find('&', i);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name, value;
    if (!FormDecode(pair.substr(0, eq), &name) ||
        (eq != std::string_view::npos && !FormDecode(pair.substr(eq + 1), &value))) {
      return Status::InvalidArgument("the form body is not valid percent-encoding");
    }
    if (!out.emplace(name, value).second) {
      return Status::InvalidArgument("parameter '" + name + "' is given more than once");
    }
  }
  return out;
}

bool IsFormMediaType(std::string_view ct) {
  std::string t(ct.substr(0, ct.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t == "application/x-www-form-urlencoded";
}

// "Basic base64(urlencoded id ":" urlencoded secret)" (RFC 6749 §2.3.1).
bool ParseBasic(std::string_view header, std::string* id, std::string* secret) {
  if (header.size() < 6) return false;
  std::string scheme(header.substr(0, 6));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "basic ") return false;
  std::string_view b64 = header.substr(6);
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 4096) return false;
  std::string raw(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return false;
  std::size_t pad = (b64.back() == '=') + (b64[b64.size() - 2] == '=');
  raw.resize(static_cast<std::size_t>(n) - pad);
  auto colon = raw.find(':');
  if (colon == std::string::npos) return false;
  return FormDecode(raw.substr(0, colon), id) && FormDecode(raw.substr(colon + 1), secret);
}

std::string RandomHex(int bytes) {
  unsigned char buf[32];
  RAND_bytes(buf, bytes);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < bytes; ++i) {
    s += kHex[buf[i] >> 4];
    s += kHex[buf[i] & 15];
  }
  return s;
}

struct Endpoint {
  Authorizer& authorizer;
  SigningKey key;
  TokenEndpointOptions options;

  Response Refuse(Request& req, int status, std::string_view error, std::string description) {
    authorizer.Refused(req, outcome::kTokenRefused, std::string(error) + ": " + description);
    return TokenError(status, error, std::move(description));
  }

  Response Handle(Request& req, std::string_view security_id) {
    if (!IsFormMediaType(req.header("content-type"))) {
      return Refuse(req, 400, "invalid_request",
                    "Content-Type must be application/x-www-form-urlencoded");
    }
    auto form = ParseForm(req.body);
    if (!form.ok()) return Refuse(req, 400, "invalid_request", form.status().message());
    auto get = [&](const char* name) -> std::string {
      auto it = form->find(name);
      return it == form->end() ? std::string() : it->second;
    };
    std::string grant = get("grant_type");
    if (grant.empty()) return Refuse(req, 400, "invalid_request", "grant_type is required");
    if (grant != "client_credentials") {
      return Refuse(req, 400, "unsupported_grant_type",
                    "only grant_type=client_credentials is supported");
    }
    std::string id = get("client_id"), secret = get("client_secret");
    std::string_view basic = req.header("authorization");
    if (!basic.empty()) {
      std::string bid, bsecret;
      if (!ParseBasic(basic, &bid, &bsecret)) {
        return Refuse(req, 401, "invalid_client", "the Authorization header is not valid Basic");
      }
      if (!secret.empty()) {
        return Refuse(req, 400, "invalid_request",
                      "use one client authentication method, not Basic and client_secret");
      }
      if (!id.empty() && id != bid) {
        return Refuse(req, 400, "invalid_request", "client_id differs from the Basic user name");
      }
      id = bid;
      secret = bsecret;
    }
    if (id.empty()) return Refuse(req, 400, "invalid_request", "client_id is required");
    if (!security_id.empty() && id != security_id) {
      return Refuse(req, 400, "invalid_request", "client_id must equal the securityId in the path");
    }
    req.client_id = id;
    auto policies = authorizer.policies();
    const ClientPolicy* p = policies->Find(id);
    // The same answer for an unknown client and a wrong secret: no client enumeration.
    if (p == nullptr || p->secret_hash.empty() || secret.empty() ||
        !VerifySecret(secret, p->secret_hash)) {
      return Refuse(req, 401, "invalid_client", "client authentication failed");
    }
    auto requested = RequestedApis(get("scope"), options.server_id);
    if (!requested.ok()) return Refuse(req, 400, "invalid_scope", requested.status().message());
    std::vector<std::string> apis = requested->empty() ? p->apis : *requested;
    for (const auto& api : apis) {
      if (!p->AllowsApi(api)) {
        return Refuse(req, 400, "invalid_scope", "client " + id + " is not permitted " + api);
      }
    }
    if (apis.empty()) return Refuse(req, 400, "invalid_scope", "client " + id + " is permitted no API");

    TokenClaims c;
    c.iss = options.issuer;
    c.sub = id;
    c.client_id = id;
    c.scope = MakeScope(options.server_id, apis);
    c.iat = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
    c.exp = c.iat + options.lifetime_s;
    c.jti = RandomHex(16);
    auto token = SignToken(key, c);
    if (!token.ok()) return Refuse(req, 500, "server_error", token.status().message());
    authorizer.Issued(req, c.scope);
    boost::json::object o;
    o["access_token"] = *token;
    o["token_type"] = "Bearer";
    o["expires_in"] = options.lifetime_s;
    o["scope"] = c.scope;
    Response r = Response::Json(200, boost::json::serialize(o));
    r.headers.push_back({"cache-control", "no-store"});
    r.headers.push_back({"pragma", "no-cache"});
    return r;
  }
};

}  // namespace

void AddTokenRoutes(http::Router& router, Authorizer& authorizer, SigningKey key,
                    TokenEndpointOptions options) {
  auto ep = std::make_shared<Endpoint>(Endpoint{authorizer, std::move(key), std::move(options)});
  router.Add("POST", "/oauth2/token", "oauth2.token",
             [ep](Request& req, Responder r) { r.Send(ep->Handle(req, {})); });
  router.Add("POST", "/capif-security/v1/securities/{securityId}/token", "capif-security.token",
             [ep](Request& req, Responder r) {
               std::string id(req.PathParam("securityId"));
               r.Send(ep->Handle(req, id));
             });
}

}  // namespace msgin5g::api::auth
