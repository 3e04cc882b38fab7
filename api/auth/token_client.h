// Outbound OAuth2 client credentials (RFC 6749 §4.4): when ASs or gateways require a Bearer token
// from msgin5gd, the delivery channel gets one here. The token is fetched from the configured
// token endpoint (over our HTTP/2 client, so the endpoint must speak HTTP/2: msgin5gd's own, an
// NRF, a CAPIF core function), cached, and refreshed before it expires: past 80% of its lifetime
// (at most 60 s before exp) callers still get the cached token while a new one is fetched.
//
// Threads: Get and Invalidate run on the H2Client's io_context only (the channel posts there).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "api/http/h2_client.h"
#include "common/status.h"

namespace msgin5g::api::auth {

struct OutboundTokenOptions {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string scope;  // empty: none requested
};

class OutboundTokens {
 public:
  using Clock = std::chrono::steady_clock;
  using Callback = std::function<void(Result<std::string>)>;

  OutboundTokens(http::H2Client& client, OutboundTokenOptions options);

  // The current token, or one fetched now. Unavailable when the endpoint fails or refuses (a
  // failed fetch is not repeated for a second, so a dead endpoint is not hammered).
  void Get(Callback done);
  // A peer answered 401 to `token`: forget it so the next Get fetches a fresh one.
  void Invalidate(const std::string& token);

  std::uint64_t fetches() const { return fetches_; }

 private:
  void Fetch();
  void Finish(Result<std::string> result);

  http::H2Client& client_;
  OutboundTokenOptions options_;
  std::string token_;
  Clock::time_point refresh_at_{};
  Clock::time_point expires_at_{};
  Clock::time_point failed_at_{};
  Status last_error_;
  bool fetching_ = false;
  std::vector<Callback> waiters_;
  std::uint64_t fetches_ = 0;
};

}  // namespace msgin5g::api::auth
