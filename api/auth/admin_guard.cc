#include "api/auth/admin_guard.h"

#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/hex.h"
#include "api/auth/bearer.h"
#include "api/http/problem.h"
#include "common/logging.h"

namespace msgin5g::api::auth {

namespace {

using http::Request;
using http::Responder;
using http::Response;
namespace cause = http::cause;

constexpr std::string_view kRealm = "msgin5g-admin";
constexpr std::string_view kHashPrefix = "sha256:";

std::array<unsigned char, 32> Sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view AdminRoleName(AdminRole role) {
  return role == AdminRole::kReadWrite ? "read-write" : "read-only";
}

std::string AdminTokenHash(std::string_view token) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kHashPrefix);
  for (unsigned char b : Sha256(token)) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<std::vector<AdminToken>> ParseAdminTokens(std::string_view text, std::string_view source) {
  std::vector<AdminToken> tokens;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string name, role, digest, extra;
    fields >> name >> role >> digest >> extra;
    if (name.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(std::string(source) + ":" + std::to_string(number) + ": " + why);
    };
    if (digest.empty() || !extra.empty()) return bad("expected NAME ROLE sha256:HEX");
    if (!ValidName(name)) return bad("token name must be 1 to 64 of [A-Za-z0-9._-]");
    AdminToken t;
    t.name = name;
    if (role == "read-write") {
      t.role = AdminRole::kReadWrite;
    } else if (role != "read-only") {
      return bad("role must be read-only or read-write, not \"" + role + "\"");
    }
    if (digest.rfind(kHashPrefix, 0) != 0 || digest.size() != kHashPrefix.size() + 64) {
      return bad("the hash must be sha256: and 64 hex digits (msgin5gctl token create prints it)");
    }
    for (std::size_t i = 0; i < 32; ++i) {
      int hi = HexDigitValue(digest[kHashPrefix.size() + 2 * i]);
      int lo = HexDigitValue(digest[kHashPrefix.size() + 2 * i + 1]);
      if (hi < 0 || lo < 0) return bad("the hash has a character that is not a hex digit");
      t.sha256[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    for (const AdminToken& other : tokens) {
      if (other.name == t.name) return bad("token name \"" + name + "\" is used twice");
    }
    tokens.push_back(std::move(t));
  }
  return tokens;
}

Result<std::vector<AdminToken>> LoadAdminTokens(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::Unavailable("cannot read admin tokens file " + path);
  std::ostringstream text;
  text << f.rdbuf();
  return ParseAdminTokens(text.str(), path);
}

AdminGuard::AdminGuard(metrics::Registry* registry)
    : tokens_(std::make_shared<const std::vector<AdminToken>>()) {
  if (registry == nullptr) return;
  refusals_ = &prometheus::BuildCounter()
                   .Name("msgin5g_admin_refusals_total")
                   .Help("Admin API requests refused by the gate, by reason")
                   .Register(registry->prom());
  for (const char* r : {"missing_credentials", "invalid_token", "insufficient_role"}) {
    refusals_->Add({{"reason", r}});
  }
}

void AdminGuard::SetTokens(std::vector<AdminToken> tokens) {
  auto next = std::make_shared<const std::vector<AdminToken>>(std::move(tokens));
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::move(next);
}

std::size_t AdminGuard::token_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_->size();
}

void AdminGuard::Protect(http::Router& router) {
  router.WrapAll([this](const std::string& method, http::Handler inner) {
    return Guard(method != "GET" && method != "HEAD", std::move(inner));
  });
}

void AdminGuard::Refuse(const Request& req, std::string_view reason, std::string_view detail) {
  LOG_WARN_LIMITED("audit", "admin %s %s from %s refused (%.*s): %.*s", req.method.c_str(),
                   req.target.c_str(), req.peer_address.c_str(), static_cast<int>(reason.size()),
                   reason.data(), static_cast<int>(detail.size()), detail.data());
  if (refusals_ != nullptr) refusals_->Add({{"reason", std::string(reason)}}).Increment();
}

std::optional<Response> AdminGuard::Authenticate(const Request& req, Principal* who) {
  std::string_view authz = req.header("authorization");
  if (!authz.empty()) {
    auto token = BearerToken(authz);
    if (!token) {
      std::string detail = "the Authorization header must be 'Bearer <token>' (RFC 6750)";
      Refuse(req, "invalid_token", detail);
      return BearerChallenge(kRealm, 401, "invalid_request", cause::kInvalidAccessToken, detail);
    }
    std::shared_ptr<const std::vector<AdminToken>> tokens;
    {
      std::lock_guard<std::mutex> lock(mu_);
      tokens = tokens_;
    }
    auto digest = Sha256(*token);
    // Every entry is compared, in constant time, so the answer's timing says nothing about which
    // hash a guess came close to.
    const AdminToken* found = nullptr;
    for (const AdminToken& t : *tokens) {
      if (CRYPTO_memcmp(t.sha256.data(), digest.data(), digest.size()) == 0) found = &t;
    }
    if (found == nullptr) {
      std::string detail = "the bearer token is not one of the admin tokens";
      Refuse(req, "invalid_token", detail);
      return BearerChallenge(kRealm, 401, "invalid_token", cause::kInvalidAccessToken, detail);
    }
    who->name = "token:" + found->name;
    who->role = found->role;
    return std::nullopt;
  }
  if (req.peer_uid >= 0) {
    who->name = "uid:" + std::to_string(req.peer_uid);
    who->role = AdminRole::kReadWrite;
    return std::nullopt;
  }
  if (!req.peer_identity.empty() && !req.peer_psk) {
    who->name = "cert:" + req.peer_identity;
    who->role = AdminRole::kReadWrite;
    return std::nullopt;
  }
  std::string detail =
      "the admin API needs credentials: Authorization: Bearer <admin token>, a client "
      "certificate, or the admin Unix socket";
  Refuse(req, "missing_credentials", detail);
  return BearerChallenge(kRealm, 401, "", cause::kMissingAccessToken, detail);
}

http::Handler AdminGuard::Guard(bool write, http::Handler inner) {
  return [this, write, inner = std::move(inner)](Request& req, Responder r) {
    Principal who;
    if (auto refusal = Authenticate(req, &who)) return r.Send(std::move(*refusal));
    if (write && who.role != AdminRole::kReadWrite) {
      std::string detail = who.name + " is read-only; " + req.method + " needs a read-write role";
      Refuse(req, "insufficient_role", detail);
      return r.Send(http::MakeProblem(403, cause::kInsufficientRole, detail));
    }
    req.client_id = who.name;
    if (write) {
      r.OnSend([method = req.method, target = req.target, name = who.name,
                from = req.peer_address](int status) {
        LOG_INFO("audit", "admin %s %s by %s from %s: %d", method.c_str(), target.c_str(),
                 name.c_str(), from.c_str(), status);
      });
    }
    inner(req, std::move(r));
  };
}

}  // namespace msgin5g::api::auth
