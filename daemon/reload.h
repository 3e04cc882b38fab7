// SIGHUP: what a running msgin5gd takes from its configuration file again, and where it goes.
// Reloaded: log.level, API clients, trusted token issuers, admin tokens, TLS certificates of the
// SBI, admin and metrics listeners. Every other key needs a restart. A file that does not load, or
// a part that does not build, keeps the old state (of that part, or of everything when the file
// itself is bad) and logs why.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "api/auth/admin_guard.h"
#include "api/auth/authorizer.h"
#include "api/auth/policy_store.h"
#include "api/http/server.h"

namespace msgin5g::daemon {

struct ReloadTargets {
  api::auth::Authorizer& authorizer;
  api::auth::PolicyStore& policy_store;
  api::auth::AdminGuard& admin_guard;
  // Adds the issuers that do not come from the file (msgin5gd's own token endpoint).
  std::function<std::vector<api::auth::TrustedIssuer>(std::vector<api::auth::TrustedIssuer>)>
      with_own_issuers;
  api::http::Server& sbi;
  api::http::Server& metrics;
  api::http::Server* admin;  // the TCP admin listener, if any
  bool sbi_tls = false;      // the SBI listens with TLS (its certificate is reloaded)
  bool admin_tls = false;
  bool metrics_tls = false;
};

void Reload(const std::string& config_file, const std::vector<std::string>& overrides,
            ReloadTargets& t);

}  // namespace msgin5g::daemon
