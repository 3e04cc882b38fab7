#include "daemon/security_setup.h"

#include "api/auth/secret_hash.h"
#include "api/http/tls_context.h"

namespace msgin5g::daemon {

Result<SecuritySetup> BuildSecurity(const Config& cfg) {
  SecuritySetup out;
  std::vector<api::auth::ClientPolicy> policies;
  for (const auto& c : cfg.clients) {
    if (!c.secret_hash.empty()) {
      if (Status st = api::auth::CheckHashFormat(c.secret_hash); !st.ok()) {
        return Status::InvalidArgument("clients." + c.id + ".secret_hash: " + st.message());
      }
    }
    api::auth::ClientPolicy p;
    p.client_id = c.id;
    p.secret_hash = c.secret_hash;
    p.apis = c.apis;
    p.destinations = c.destinations;
    p.origins = c.origins;
    p.rate_limit = c.rate_limit;
    p.rate_burst = c.rate_burst;
    p.tls_identity = c.tls_identity;
    api::auth::DecodeHex(c.psk_key_hex, &p.psk_key);  // format checked with the config
    p.psk_identity = c.psk_identity.empty() && !p.psk_key.empty() ? c.id : c.psk_identity;
    policies.push_back(std::move(p));
  }
  auto set = api::auth::PolicySet::Build(std::move(policies));
  if (!set.ok()) return Status::InvalidArgument("clients: " + set.status().message());
  out.policies = std::move(set.value());
  for (const auto& i : cfg.issuers) {
    auto t = api::auth::LoadTrustedIssuer(i.issuer, i.public_key_file);
    if (!t.ok()) return Status::InvalidArgument("issuers." + i.name + ": " + t.status().message());
    out.issuers.push_back(std::move(t.value()));
  }
  return out;
}

Result<std::shared_ptr<boost::asio::ssl::context>> BuildSbiTls(const Config& cfg,
                                                               api::auth::Authorizer* auth) {
  api::http::TlsOptions t;
  t.cert_file = cfg.tls_cert_file;
  t.key_file = cfg.tls_key_file;
  t.ca_file = cfg.tls_ca_file;
  t.require_client_cert = cfg.tls_require_client_cert;
  // Always installed: the admin API may add PSK clients later.
  if (auth != nullptr) {
    t.psk_lookup = [auth](std::string_view identity, std::string* key) {
      auto policies = auth->policies();
      const auto* p = policies->FindByPskIdentity(identity);
      if (p == nullptr) return false;
      *key = p->psk_key;
      return true;
    };
  }
  return api::http::MakeServerTlsContext(t);
}

Result<std::shared_ptr<boost::asio::ssl::context>> BuildOpsTls(const Config& cfg) {
  return BuildSbiTls(cfg, nullptr);
}

api::auth::AuthOptions AuthOptionsFrom(const Config& cfg) {
  api::auth::AuthOptions o;
  o.server_id = cfg.security_server_id;
  o.mode = cfg.security_mode == "oauth2" ? api::auth::SecurityMode::kOauth2
           : cfg.security_mode == "tls"  ? api::auth::SecurityMode::kTls
                                         : api::auth::SecurityMode::kOff;
  o.leeway_s = cfg.security_token_leeway_s;
  return o;
}

}  // namespace msgin5g::daemon
