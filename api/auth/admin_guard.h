// The gate in front of every admin API route (msgin5gd's /admin/v1/...).
//
// Who may call:
//   - a process connected to the admin Unix socket: the socket file's mode (0660, owner and group)
//     already decided, so it is a read-write admin, named by its uid;
//   - over TCP, a bearer token from the tokens file, with the role that file gives it;
//   - over TCP with TLS, a verified client certificate (not a TLS-PSK identity): read-write.
// A token, when presented, decides even on the socket or with a certificate, so an operator can
// run read-only tools anywhere. Reads (GET, HEAD) need any role, everything else read-write.
//
// Refusals are ProblemDetails (401 with a Bearer challenge, 403 INSUFFICIENT_ROLE), a warning
// line in category "audit" and a metric; every write that passes the gate gets an "audit" line
// naming who did what and the status it got.
//
// Tokens are stored as SHA-256 hashes: they are 32 random bytes (msgin5gctl token create), so a
// slow password hash would add nothing but latency on an I/O thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>

#include "api/http/router.h"
#include "common/status.h"
#include "metrics/registry.h"

namespace msgin5g::api::auth {

enum class AdminRole { kReadOnly, kReadWrite };

std::string_view AdminRoleName(AdminRole role);

struct AdminToken {
  std::string name;
  AdminRole role = AdminRole::kReadOnly;
  std::array<unsigned char, 32> sha256{};
};

// "sha256:" + lowercase hex of SHA-256(token): the form the tokens file keeps.
std::string AdminTokenHash(std::string_view token);

// A tokens file: one token per line, "NAME ROLE sha256:HEX"; ROLE is read-only or read-write;
// '#' starts a comment; blank lines are ignored. `source` names the file in errors, which give
// the line number. Names must be unique.
Result<std::vector<AdminToken>> ParseAdminTokens(std::string_view text, std::string_view source);
Result<std::vector<AdminToken>> LoadAdminTokens(const std::string& path);

class AdminGuard {
 public:
  explicit AdminGuard(metrics::Registry* registry);

  // Swaps the accepted tokens whole (startup, SIGHUP). Thread-safe.
  void SetTokens(std::vector<AdminToken> tokens);
  std::size_t token_count() const;

  // Puts the gate in front of every route of `router` (call after the routes are added).
  void Protect(http::Router& router);

 private:
  struct Principal {
    std::string name;  // "token:NAME", "uid:N", "cert:IDENTITY"
    AdminRole role = AdminRole::kReadOnly;
  };
  http::Handler Guard(bool write, http::Handler inner);
  // Fills `who` or returns the refusal.
  std::optional<http::Response> Authenticate(const http::Request& req, Principal* who);
  void Refuse(const http::Request& req, std::string_view reason, std::string_view detail);

  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<AdminToken>> tokens_;  // under mu_
  prometheus::Family<prometheus::Counter>* refusals_ = nullptr;
};

}  // namespace msgin5g::api::auth
