#include "api/auth/authorizer.h"

#include <array>
#include <chrono>

#include <boost/asio/post.hpp>

#include "api/auth/bearer.h"
#include "api/auth/scope.h"
#include "api/http/problem.h"
#include "common/logging.h"

namespace msgin5g::api::auth {

namespace {

using http::MakeProblem;
using http::SetRetryAfter;
using http::Response;
namespace cause = http::cause;

// A bound on cached verified tokens: one per client and token lifetime in normal operation.
constexpr std::size_t kMaxCachedTokens = 10000;

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Authorizer::Authorizer(AuthOptions options, metrics::Registry* registry)
    : options_(std::move(options)),
      policies_(*PolicySet::Build({})),
      issuers_(std::make_shared<const std::vector<TrustedIssuer>>()) {
  if (registry == nullptr) return;
  decisions_ = &prometheus::BuildCounter()
                    .Name("msgin5g_auth_decisions_total")
                    .Help("SBI security decisions, by outcome (authenticated, anonymous, or the "
                          "reason of a refusal)")
                    .Register(registry->prom());
  for (auto o : {outcome::kAuthenticated, outcome::kAnonymous, outcome::kMissingToken,
                 outcome::kMalformedHeader, outcome::kInvalidToken, outcome::kWrongServer,
                 outcome::kInsufficientScope, outcome::kApiNotAllowed, outcome::kRateLimited,
                 outcome::kAddressNotAllowed, outcome::kNotOwner, outcome::kTokenIssued,
                 outcome::kTokenRefused, outcome::kInvokerRefused, outcome::kInvokerUnverified}) {
    by_outcome_[std::string(o)] = &decisions_->Add({{"outcome", std::string(o)}});
  }
}

void Authorizer::SetPolicies(std::shared_ptr<const PolicySet> policies) {
  std::lock_guard<std::mutex> lock(mu_);
  policies_ = std::move(policies);
}

std::shared_ptr<const PolicySet> Authorizer::policies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policies_;
}

void Authorizer::SetIssuers(std::vector<TrustedIssuer> issuers) {
  std::lock_guard<std::mutex> lock(mu_);
  configured_ = std::move(issuers);
  RebuildIssuers();
}

void Authorizer::SetFetchedIssuers(std::vector<TrustedIssuer> issuers) {
  std::lock_guard<std::mutex> lock(mu_);
  fetched_ = std::move(issuers);
  RebuildIssuers();
}

void Authorizer::RebuildIssuers() {
  auto all = std::make_shared<std::vector<TrustedIssuer>>(configured_);
  all->insert(all->end(), fetched_.begin(), fetched_.end());
  issuers_ = std::move(all);
  verified_.clear();  // a removed key must stop working at once
}

void Authorizer::Count(std::string_view o) {
  if (auto it = by_outcome_.find(std::string(o)); it != by_outcome_.end()) it->second->Increment();
}

void Authorizer::Issued(const http::Request& req, std::string_view scope) {
  Count(outcome::kTokenIssued);
  LOG_INFO("audit", "token issued client=\"%s\" peer=%s scope=\"%.*s\"", req.client_id.c_str(),
           req.peer_address.c_str(), static_cast<int>(scope.size()), scope.data());
}

void Authorizer::Refused(const http::Request& req, std::string_view o, std::string_view reason) {
  Count(o);
  // One line per refusal, but a flood of refused requests must not fill the disk: 200 lines per
  // 10 s, then a count of those left out (msgin5g_auth_decisions_total counts every one).
  MSGIN5G_LOG_LIMITED(::msgin5g::log::Level::kWarn, 200, "audit",
           "refused outcome=%.*s client=\"%s\" peer=%s tls_identity=\"%s\" method=%s "
           "path=%s reason=\"%.*s\"",
           static_cast<int>(o.size()), o.data(), req.client_id.c_str(), req.peer_address.c_str(),
           req.peer_identity.c_str(), req.method.c_str(), req.path.c_str(),
           static_cast<int>(reason.size()), reason.data());
}

Result<TokenClaims> Authorizer::Verify(std::string_view token) {
  auto v = VerifyCached(token);
  if (!v.ok()) return v.status();
  return (*v)->claims;
}

Result<std::shared_ptr<const Authorizer::Verified>> Authorizer::VerifyCached(std::string_view token) {
  std::int64_t now = NowSeconds();
  std::shared_ptr<const std::vector<TrustedIssuer>> issuers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) {
      if (it->second->claims.exp + options_.leeway_s >= now) return it->second;
      verified_.erase(it);
      return Status(StatusCode::kUnauthenticated, "token expired");
    }
    issuers = issuers_;
  }
  auto claims = VerifyToken(token, *issuers, now, options_.leeway_s);
  if (!claims.ok()) {
    if (claims.status().code() == StatusCode::kNotFound) {
      std::function<void()> hook;
      {
        std::lock_guard<std::mutex> lock(mu_);
        hook = unknown_key_;
      }
      if (hook) hook();
    }
    return claims.status();
  }
  auto v = std::make_shared<Verified>();
  v->registration = CheckScope(*claims, options_.server_id, kApiAsRegistration);
  v->delivery = CheckScope(*claims, options_.server_id, kApiMsgDelivery);
  v->claims = std::move(claims.value());
  std::lock_guard<std::mutex> lock(mu_);
  if (issuers == issuers_) {  // not verified against keys replaced meanwhile
    if (verified_.size() >= kMaxCachedTokens) verified_.clear();
    verified_.emplace(std::string(token), v);
  }
  return std::shared_ptr<const Verified>(std::move(v));
}

std::optional<Response> Authorizer::Check(http::Request& req, std::string_view api,
                                          bool* ask_authority) {
  auto policies = this->policies();
  const ClientPolicy* policy = nullptr;
  std::string_view authz = req.header("authorization");
  bool by_token = false;

  if (!authz.empty()) {
    auto token = BearerToken(authz);
    if (!token) {
      Refused(req, outcome::kMalformedHeader, "Authorization is not 'Bearer <token>'");
      Response r = MakeProblem(400, cause::kInvalidMsgFormat,
                               "the Authorization header must be 'Bearer <token>' (RFC 6750)",
                               {{"Authorization", "expected 'Bearer <token>'"}});
      r.headers.push_back({"www-authenticate", "Bearer realm=\"msgin5g\", error=\"invalid_request\""});
      return r;
    }
    auto verified = VerifyCached(*token);
    if (!verified.ok()) {
      Refused(req, outcome::kInvalidToken, verified.status().message());
      return BearerChallenge("msgin5g", 401, "invalid_token", cause::kInvalidAccessToken,
                       verified.status().message());
    }
    const Verified& v = **verified;
    ScopeCheck scope = api == kApiAsRegistration ? v.registration
                       : api == kApiMsgDelivery  ? v.delivery
                                                 : CheckScope(v.claims, options_.server_id, api);
    switch (scope) {
      case ScopeCheck::kGranted:
        break;
      case ScopeCheck::kOtherServer:
        Refused(req, outcome::kWrongServer, "token does not name server " + options_.server_id);
        return BearerChallenge("msgin5g", 401, "invalid_token", cause::kInvalidAccessToken,
                         "the token is not issued for this server (" + options_.server_id + ")");
      case ScopeCheck::kOtherApi:
        Refused(req, outcome::kInsufficientScope, "token scope lacks " + std::string(api));
        return BearerChallenge("msgin5g", 403, "insufficient_scope", cause::kInsufficientScope,
                         "the token's scope does not include " + std::string(api));
    }
    req.client_id = v.claims.Subject();
    policy = policies->Find(req.client_id);
    by_token = true;
  } else if (options_.mode == SecurityMode::kOauth2) {
    Refused(req, outcome::kMissingToken, "no Authorization header");
    return BearerChallenge("msgin5g", 401, "", cause::kMissingAccessToken,
                     "an OAuth2 access token is required (Authorization: Bearer)");
  }

  if (!by_token && !req.peer_identity.empty()) {
    policy = req.peer_psk ? policies->FindByPskIdentity(req.peer_identity)
                          : policies->FindByTlsIdentity(req.peer_identity);
    if (policy == nullptr && !req.peer_psk) policy = policies->Find(req.peer_identity);
    req.client_id = policy != nullptr ? policy->client_id : req.peer_identity;
  }
  InvokerAuthority* authority = invokers_.load();
  if (options_.mode == SecurityMode::kTls && !by_token && policy == nullptr &&
      !req.peer_identity.empty() && authority != nullptr) {
    // Not one of ours: the CAPIF core function decides (cached, or asked by Guard).
    InvokerVerdict verdict = authority->Cached(req.peer_identity, req.peer_psk, api);
    if (verdict != InvokerVerdict::kUnknown) return Judged(req, api, verdict);
    *ask_authority = true;
    return std::nullopt;
  }
  if (options_.mode == SecurityMode::kTls && !by_token && req.peer_identity.empty() &&
      !req.peer_psk_unresolved.empty()) {
    // It offered a PSK the CAPIF core function holds, and the CCF could not be asked.
    Refused(req, outcome::kInvokerUnverified,
            "the key of TLS-PSK identity " + req.peer_psk_unresolved.substr(0, 64) +
                " could not be asked of the CAPIF core function");
    Response resp = MakeProblem(503, cause::kCapifUnavailable,
                                "the CAPIF core function cannot be asked for this invoker's "
                                "TLS-PSK key");
    SetRetryAfter(resp, 5);
    // This connection's handshake went on without the key: only a new one can use it.
    resp.close_connection = true;
    return resp;
  }
  if (options_.mode == SecurityMode::kTls && !by_token && policy == nullptr) {
    Refused(req, outcome::kMissingToken, req.peer_identity.empty()
                                              ? "no verified TLS client identity"
                                              : "TLS identity names no configured client");
    // RFC 9110 §15.5.2: a 401 carries a challenge; a Bearer token is accepted in this mode too.
    return BearerChallenge("msgin5g", 401, "", cause::kMissingAccessToken,
                     req.peer_identity.empty()
                         ? "a client certificate or TLS-PSK identity is required"
                         : "the TLS client identity is not a configured client");
  }

  if (policy != nullptr) {
    if (!policy->AllowsApi(api)) {
      Refused(req, outcome::kApiNotAllowed, std::string(api) + " is not permitted");
      return MakeProblem(403, cause::kApiNotAllowed,
                         "client " + policy->client_id + " may not use " + std::string(api));
    }
    if (policy->rate_limit > 0) {
      int wait = limiter_.Take(policy->client_id, policy->rate_limit, policy->rate_burst,
                               RateLimiter::Clock::now());
      if (wait > 0) {
        Refused(req, outcome::kRateLimited, "rate limit exceeded");
        Response r = MakeProblem(429, cause::kNfCongestionRisk,
                                 "client " + policy->client_id + " exceeds its rate limit");
        for (auto& h : r.headers) {
          if (h.name == "retry-after") h.value = std::to_string(wait);
        }
        return r;
      }
    }
  }
  Count(req.client_id.empty() ? outcome::kAnonymous : outcome::kAuthenticated);
  return std::nullopt;
}

http::Handler Authorizer::Guard(std::string api, http::Handler inner) {
  return [this, api = std::move(api), inner = std::move(inner)](http::Request& req,
                                                                http::Responder r) {
    bool ask = false;
    if (auto refusal = Check(req, api, &ask)) return r.Send(std::move(*refusal));
    if (!ask) return inner(req, std::move(r));
    AskAuthority(req, api, inner, std::move(r));
  };
}

std::optional<Response> Authorizer::Judged(http::Request& req, std::string_view api,
                                           InvokerVerdict verdict) {
  if (verdict == InvokerVerdict::kAllowed) {
    req.client_id = req.peer_identity;
    Count(outcome::kAuthenticated);
    return std::nullopt;
  }
  Refused(req, outcome::kInvokerRefused,
          "the CAPIF core function does not trust it for " + std::string(api));
  return MakeProblem(403, cause::kApiNotAllowed,
                     "the CAPIF core function does not authorize this invoker for " +
                         std::string(api));
}

void Authorizer::AskAuthority(http::Request& req, const std::string& api,
                              const http::Handler& inner, http::Responder r) {
  // The session's request lives as long as this call: the one resumed later is a copy.
  auto held = std::make_shared<http::Request>(req);
  InvokerAuthority* authority = invokers_.load();
  if (authority == nullptr) return r.Send(MakeProblem(503, cause::kCapifUnavailable, "shutting down"));
  authority->Ask(req.peer_identity, req.peer_psk, api,
                 [this, held, api, inner, r](Result<InvokerVerdict> verdict) mutable {
    auto resume = [this, held, api, inner, r, verdict = std::move(verdict)]() mutable {
      http::Request& q = *held;
      if (!verdict.ok()) {
        Refused(q, outcome::kInvokerUnverified, verdict.status().message());
        Response resp = MakeProblem(503, cause::kCapifUnavailable,
                                    "the CAPIF core function cannot be asked about this invoker");
        SetRetryAfter(resp, 5);
        return r.Send(std::move(resp));
      }
      if (auto refusal = Judged(q, api, *verdict)) return r.Send(std::move(*refusal));
      inner(q, std::move(r));
    };
    // Handlers run on their session's thread, as they would without the detour.
    auto executor = r.executor();
    if (executor) {
      boost::asio::post(executor, std::move(resume));
    } else {
      resume();
    }
  });
}

std::optional<Response> Authorizer::AdmitAddresses(const http::Request& req,
                                                   const broker::Address& origin,
                                                   const broker::Address* destination) {
  if (req.client_id.empty()) return std::nullopt;
  auto policies = this->policies();
  const ClientPolicy* p = policies->Find(req.client_id);
  if (p == nullptr) return std::nullopt;
  if (!p->AllowsOrigin(origin)) {
    std::string what = std::string(broker::AddressTypeName(origin.type)) + ":" + origin.id;
    Refused(req, outcome::kAddressNotAllowed, "originator " + what);
    return MakeProblem(403, cause::kOriginatorNotAllowed,
                       "client " + p->client_id + " may not send as " + what,
                       {{"/oriAddr", "not permitted for this client"}});
  }
  if (destination != nullptr && !p->AllowsDestination(*destination)) {
    std::string what =
        std::string(broker::AddressTypeName(destination->type)) + ":" + destination->id;
    Refused(req, outcome::kAddressNotAllowed, "recipient " + what);
    return MakeProblem(403, cause::kRecipientNotAllowed,
                       "client " + p->client_id + " may not send to " + what,
                       {{"/destAddr", "not permitted for this client"}});
  }
  return std::nullopt;
}

}  // namespace msgin5g::api::auth
