#include "daemon/reload.h"

#include <algorithm>
#include <optional>

#include "api/auth/policy.h"
#include "common/logging.h"
#include "daemon/config.h"
#include "daemon/security_setup.h"

namespace msgin5g::daemon {

void Reload(const std::string& config_file, const std::vector<std::string>& overrides,
            ReloadTargets& t) {
  if (config_file.empty()) {
    LOG_INFO("main", "SIGHUP: no --config file to reload");
    return;
  }
  auto again = daemon::LoadConfig(config_file, overrides);
  if (!again.ok()) {
    const std::string& m = again.status().message();
    for (std::size_t start = 0; start <= m.size();) {
      auto nl = std::min(m.find('\n', start), m.size());
      LOG_ERROR("main", "SIGHUP: configuration error, keeping the old one: %s",
                m.substr(start, nl - start).c_str());
      start = nl + 1;
    }
    return;
  }
  auto sec = daemon::BuildSecurity(*again);
  if (!sec.ok()) {
    LOG_ERROR("main", "SIGHUP: configuration error, keeping the old one: %s",
              sec.status().message().c_str());
    return;
  }
  std::shared_ptr<boost::asio::ssl::context> new_tls;
  if (t.sbi_tls) {
    auto ctx = daemon::BuildSbiTls(*again, &t.authorizer);
    if (!ctx.ok()) {
      LOG_ERROR("main", "SIGHUP: TLS error, keeping the old certificate: %s",
                ctx.status().message().c_str());
      return;
    }
    new_tls = *ctx;
  }
  std::shared_ptr<boost::asio::ssl::context> new_ops_tls;
  if (t.admin_tls || t.metrics_tls) {
    auto ctx = daemon::BuildOpsTls(*again);
    if (!ctx.ok()) {
      LOG_ERROR("main", "SIGHUP: TLS error, keeping the old certificate: %s",
                ctx.status().message().c_str());
      return;
    }
    new_ops_tls = *ctx;
  }
  log::Level l = log::Level::kInfo;
  log::ParseLevel(again->log_level, &l);
  log::SetLevel(l);
  if (Status st = t.policy_store.SetConfigured(sec->policies->clients()); !st.ok()) {
    LOG_ERROR("main", "SIGHUP: clients clash with admin-set ones, keeping the old ones: %s",
              st.message().c_str());
    return;
  }
  std::optional<std::vector<api::auth::AdminToken>> new_tokens;
  if (!again->admin_tokens_file.empty()) {
    auto tokens = api::auth::LoadAdminTokens(again->admin_tokens_file);
    if (!tokens.ok()) {
      LOG_ERROR("main", "SIGHUP: admin.tokens_file: %s; keeping the old tokens",
                tokens.status().message().c_str());
    } else {
      new_tokens = std::move(*tokens);
    }
  } else {
    new_tokens.emplace();
  }
  if (new_tokens) t.admin_guard.SetTokens(std::move(*new_tokens));
  t.authorizer.SetIssuers(t.with_own_issuers(sec->issuers));
  if (new_tls) t.sbi.ReplaceTls(new_tls).IgnoreError();
  if (new_ops_tls && t.admin_tls && t.admin) t.admin->ReplaceTls(new_ops_tls).IgnoreError();
  if (new_ops_tls && t.metrics_tls) t.metrics.ReplaceTls(new_ops_tls).IgnoreError();
  LOG_INFO("main", "SIGHUP: reloaded log.level=%s, %zu clients, %zu trusted issuers%s, %zu "
           "admin tokens (other keys need a restart)",
           again->log_level.c_str(), again->clients.size(), sec->issuers.size(),
           new_tls ? ", TLS certificate" : "", t.admin_guard.token_count());
}

}  // namespace msgin5g::daemon
