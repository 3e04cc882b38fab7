// The security gate in front of every SBI operation (TS 29.538 clauses 10 and 11.2):
//   1. authentication: a Bearer JWT (signature by a trusted issuer, exp, this server's identifier,
//      the invoked API in its scope), else the verified TLS identity (certificate or PSK);
//   2. authorization: the client's policy permits the API;
//   3. admission: rate limit (429 + Retry-After), then per message the permitted originators and
//      recipients (AdmitAddresses, called by the handlers once the body is decoded).
// Every refusal is a ProblemDetails answer, an audit log line and a metric; nothing reaches the
// broker, so nothing is stored.
//
// Thread-safety: all methods may be called from any I/O thread. Policies and trusted issuers are
// swapped whole (SIGHUP, admin API) behind a mutex; readers copy a shared_ptr.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "api/auth/invoker_authority.h"
#include "api/auth/jwt.h"
#include "api/auth/policy.h"
#include "api/auth/rate_limiter.h"
#include "api/auth/scope.h"
#include "api/http/message.h"
#include "api/http/router.h"
#include "broker/types.h"
#include "metrics/registry.h"

namespace msgin5g::api::auth {

// off: anonymous callers allowed (a presented token or known TLS identity still applies its
//      policy); tls: a configured client's verified TLS certificate or PSK identity is required
//      (CAPIF PKI / TLS-PSK); oauth2: a valid Bearer token is required (CAPIF OAUTH).
enum class SecurityMode { kOff, kTls, kOauth2 };

struct AuthOptions {
  std::string server_id = "msgin5g";  // this server's identifier (CAPIF aefId)
  SecurityMode mode = SecurityMode::kOff;
  std::int64_t leeway_s = 30;         // clock skew allowed on exp (TS 33.122: at most 30 s)
};

class Authorizer {
 public:
  Authorizer(AuthOptions options, metrics::Registry* registry);

  void SetPolicies(std::shared_ptr<const PolicySet> policies);
  std::shared_ptr<const PolicySet> policies() const;
  // The issuers of the configuration (and msgin5gd's own token endpoint): replaced on SIGHUP.
  void SetIssuers(std::vector<TrustedIssuer> issuers);
  // Keys fetched at run time (a CAPIF core function's JWK set, api/capif/ccf_client.h), trusted
  // beside the configured ones; replaced whole at each fetch.
  void SetFetchedIssuers(std::vector<TrustedIssuer> issuers);
  // Called (on the I/O thread, so it must be quick) when a token names a kid that no key of its
  // trusted issuer has: the issuer may have rotated its keys.
  void OnUnknownKey(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    unknown_key_ = std::move(hook);
  }
  // In security.mode tls, an invoker whose certificate or PSK identity names no configured
  // client is let in only on `authority`'s word (the CAPIF core function): allowed, refused with
  // 403, or 503 + Retry-After when it cannot be asked. Null: such invokers get 401 as without
  // CAPIF. The authority must outlive the requests that were let through to it.
  void SetInvokerAuthority(InvokerAuthority* authority) { invokers_.store(authority); }
  InvokerAuthority* invoker_authority() const { return invokers_.load(); }
  const AuthOptions& options() const { return options_; }

  // Wraps the handler of an operation of `api`: on success the request carries client_id and
  // `inner` runs; otherwise the answer is the refusal.
  http::Handler Guard(std::string api, http::Handler inner);

  // Admission of a message's originator and recipient (null: none, e.g. an AS registration whose
  // asSvcId is the originator) for req.client_id. nullopt: admitted.
  std::optional<http::Response> AdmitAddresses(const http::Request& req,
                                               const broker::Address& origin,
                                               const broker::Address* destination);

  // Audit line + metric for a refusal decided elsewhere (token endpoint, ownership checks).
  void Refused(const http::Request& req, std::string_view outcome, std::string_view reason);

  // Audit line + metric for a token the token endpoint issued to req.client_id.
  void Issued(const http::Request& req, std::string_view scope);

  // Verifies a token (cached per token string until it expires). Exposed for tests and the token
  // endpoint's self-check.
  Result<TokenClaims> Verify(std::string_view token);

 private:
  // A verified token with its scope already judged for both APIs: a cache hit costs one hash
  // lookup, no parsing and no copies.
  struct Verified {
    TokenClaims claims;
    ScopeCheck registration;
    ScopeCheck delivery;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  Result<std::shared_ptr<const Verified>> VerifyCached(std::string_view token);
  // nullopt: allowed, unless *ask_authority is set: then the invoker authority decides.
  std::optional<http::Response> Check(http::Request& req, std::string_view api,
                                      bool* ask_authority);
  void AskAuthority(http::Request& req, const std::string& api, const http::Handler& inner,
                    http::Responder r);
  // The invoker authority's verdict applied: the caller named, or the 403.
  std::optional<http::Response> Judged(http::Request& req, std::string_view api,
                                       InvokerVerdict verdict);
  void Count(std::string_view outcome);

  void RebuildIssuers();  // under mu_: issuers_ = configured_ + fetched_

  AuthOptions options_;
  std::atomic<InvokerAuthority*> invokers_{nullptr};
  mutable std::mutex mu_;
  std::shared_ptr<const PolicySet> policies_;
  std::function<void()> unknown_key_;  // under mu_
  std::vector<TrustedIssuer> configured_;
  std::vector<TrustedIssuer> fetched_;
  std::shared_ptr<const std::vector<TrustedIssuer>> issuers_;
  std::unordered_map<std::string, std::shared_ptr<const Verified>, StringHash, std::equal_to<>>
      verified_;  // token -> verification, under mu_
  RateLimiter limiter_;
  prometheus::Family<prometheus::Counter>* decisions_ = nullptr;
  std::unordered_map<std::string, prometheus::Counter*> by_outcome_;
};

// Decision outcomes (metric label `outcome` of msgin5g_auth_decisions_total).
namespace outcome {
inline constexpr std::string_view kAuthenticated = "authenticated";
inline constexpr std::string_view kAnonymous = "anonymous";
inline constexpr std::string_view kMissingToken = "missing_token";
inline constexpr std::string_view kMalformedHeader = "malformed_header";
inline constexpr std::string_view kInvalidToken = "invalid_token";
inline constexpr std::string_view kWrongServer = "wrong_server";
inline constexpr std::string_view kInsufficientScope = "insufficient_scope";
inline constexpr std::string_view kApiNotAllowed = "api_not_allowed";
inline constexpr std::string_view kRateLimited = "rate_limited";
inline constexpr std::string_view kAddressNotAllowed = "address_not_allowed";
inline constexpr std::string_view kNotOwner = "not_owner";
inline constexpr std::string_view kTokenIssued = "token_issued";
inline constexpr std::string_view kTokenRefused = "token_refused";
inline constexpr std::string_view kInvokerRefused = "invoker_refused";      // by the CCF
inline constexpr std::string_view kInvokerUnverified = "invoker_unverified";  // CCF unreachable
}  // namespace outcome

}  // namespace msgin5g::api::auth
