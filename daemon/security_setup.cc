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
      if (const auto* p = policies->FindByPskIdentity(identity)) {
        *key = p->psk_key;
        return true;
      }
      // An invoker the CAPIF core function onboarded, its key fetched before the handshake.
      auto* authority = auth->invoker_authority();
      return authority != nullptr && authority->CachedPskKey(std::string(identity), key);
    };
  }
  return api::http::MakeServerTlsContext(t);
}

namespace {

// An identity worth asking the CCF about: an apiInvokerId is printable text. A session ticket
// offered for resumption is binary and is the TLS library's business.
bool LooksLikeInvokerId(const std::string& id) {
  if (id.empty() || id.size() > 256) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

PskPrefetch BuildPskPrefetch(const Config& cfg, api::auth::Authorizer* auth) {
  if (!cfg.capif_enabled || cfg.security_mode != "tls" || auth == nullptr) return {};
  return [auth](std::vector<std::string> identities, api::http::ServerOptions::PskReady ready) {
    auto* authority = auth->invoker_authority();  // set once the CCF client runs
    auto policies = auth->policies();
    std::string key;
    for (const auto& id : identities) {
      if (!LooksLikeInvokerId(id) || policies->FindByPskIdentity(id) != nullptr) continue;
      if (authority == nullptr) return ready(id);  // the CCF client is not up yet
      if (authority->CachedPskKey(id, &key)) break;
      // The first identity that needs asking is asked; clients offer one external PSK.
      authority->FetchPskKey(id, [id, ready = std::move(ready)](bool asked) {
        ready(asked ? std::string() : id);
      });
      return;
    }
    ready(std::string());
  };
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
