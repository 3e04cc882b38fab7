#include "daemon/server.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <prometheus/counter.h>

#include "api/handlers/admin_routes.h"
#include "api/handlers/backup_routes.h"
#include "api/handlers/capif_routes.h"
#include "api/handlers/client_routes.h"
#include "api/handlers/drain_routes.h"
#include "api/handlers/inventory_routes.h"
#include "api/handlers/msgs_routes.h"
#include "api/http/ops_routes.h"
#include "api/http/tls_context.h"
#include "common/logging.h"
#include "common/systemd/service_notify.h"
#include "daemon/module_options.h"

namespace msgin5g::daemon {

namespace {

std::string Addr(const boost::asio::ip::tcp::endpoint& ep) {
  return (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
         ":" + std::to_string(ep.port());
}

int ConfigError(const std::string& what) {
  std::fprintf(stderr, "msgin5gd: configuration error: %s\n", what.c_str());
  return kExitConfig;
}

}  // namespace

Server::Server(Config cfg) : cfg_(std::move(cfg)) {
  threads_ = cfg_.api_threads > 0 ? static_cast<std::size_t>(cfg_.api_threads)
                                  : std::max(1u, std::thread::hardware_concurrency());
}

Server::~Server() { Stop(); }

int Server::Prepare() {
  auto security = BuildSecurity(cfg_);
  if (!security.ok()) return ConfigError(security.status().message());
  security_ = std::move(*security);
  authorizer_ = std::make_unique<api::auth::Authorizer>(AuthOptionsFrom(cfg_), &registry_);
  policy_store_ = std::make_unique<api::auth::PolicyStore>(*authorizer_);
  if (Status st = policy_store_->SetConfigured(security_->policies->clients()); !st.ok()) {
    return ConfigError(st.message());
  }
  if (cfg_.tls_enabled) {
    auto ctx = BuildSbiTls(cfg_, authorizer_.get());
    if (!ctx.ok()) return ConfigError(ctx.status().message());
    tls_ = *ctx;
  }
  if (cfg_.admin_tls || cfg_.metrics_tls) {
    auto ctx = BuildOpsTls(cfg_);
    if (!ctx.ok()) return ConfigError(ctx.status().message());
    ops_tls_ = *ctx;
  }
  // LoadConfig checked the listen addresses already; this is the listeners' own parser.
  for (auto [key, listen] : {std::pair{"api.listen", &cfg_.api_listen},
                             std::pair{"metrics.listen", &cfg_.metrics_listen},
                             std::pair{"admin.listen", &cfg_.admin_listen}}) {
    if (listen->empty()) continue;  // admin.listen is optional
    if (auto ep = api::http::ParseEndpoint(*listen); !ep.ok()) {
      return ConfigError(std::string(key) + ": " + ep.status().message());
    }
  }
  if (!cfg_.admin_tokens_file.empty()) {
    auto tokens = api::auth::LoadAdminTokens(cfg_.admin_tokens_file);
    if (!tokens.ok()) return ConfigError("admin.tokens_file: " + tokens.status().message());
    admin_tokens_ = std::move(*tokens);
  }
  return 0;
}

int Server::Start(const std::string& ready_file) {
  // Private and ours alone before RocksDB opens it (RocksDB's own LOCK would only say "Resource
  // temporarily unavailable"). Held until the store has closed.
  auto data_dir = PrepareDataDir(cfg_.storage_path);
  if (!data_dir.ok()) {
    std::fprintf(stderr, "msgin5gd: %s\n", data_dir.status().message().c_str());
    return data_dir.status().code() == StatusCode::kConflict ? kExitDataInUse : kExitUnavailable;
  }
  data_dir_ = std::move(*data_dir);
  for (const auto& t : data_dir_->tightened) {
    LOG_WARN("main", "storage.path was open to group/others, made private: %s", t.c_str());
  }
  auto opened = storage::Store::Open(StoreOptionsFrom(cfg_), &registry_);
  if (!opened.ok()) {
    LOG_ERROR("main", "storage: %s", opened.status().message().c_str());
    return opened.status().code() == StatusCode::kCorruption ? kExitDataError : kExitUnavailable;
  }
  store_ = std::move(opened.value());
  if (int rc = StartBroker(); rc != 0) return rc;
  if (int rc = StartCoap(); rc != 0) return rc;
  if (int rc = StartSecurity(); rc != 0) return rc;
  BuildRouters();
  if (int rc = Listen(); rc != 0) return rc;
  if (int rc = StartCapif(); rc != 0) return rc;
  Announce(ready_file);
  return 0;
}

// CAPIF (TS 29.222): our APIs published at the core function, its token keys fetched. After
// Listen, so that the published interface is the port actually bound.
int Server::StartCapif() {
  if (!cfg_.capif_enabled) return 0;
  api::capif::CcfOptions o;
  o.api_root = cfg_.capif_api_root;
  while (!o.api_root.empty() && o.api_root.back() == '/') o.api_root.pop_back();
  o.apf_id = cfg_.capif_apf_id;
  o.aef_id = cfg_.security_server_id;
  o.publish = cfg_.capif_publish;
  std::string advertise = cfg_.capif_advertise.empty() ? Addr(sbi_->local_endpoint())
                                                       : cfg_.capif_advertise;
  auto colon = advertise.rfind(':');
  o.interface_host = advertise.substr(0, colon);
  if (o.interface_host.size() > 2 && o.interface_host.front() == '[') {
    o.interface_host = o.interface_host.substr(1, o.interface_host.size() - 2);
  }
  o.interface_port = std::atoi(advertise.c_str() + colon + 1);
  o.api_prefix = cfg_.api_root;
  o.security_methods = cfg_.security_mode == "oauth2" ? std::vector<std::string>{"OAUTH"}
                       : cfg_.security_mode == "tls"
                           ? std::vector<std::string>{"PKI", "PSK"}
                           : std::vector<std::string>{"PKI", "PSK", "OAUTH"};
  o.state_file = cfg_.storage_path + "/capif-published.json";
  o.issuer = cfg_.capif_issuer;
  o.keys_url = cfg_.capif_keys_url;
  o.keys_refresh = std::chrono::seconds(cfg_.capif_keys_refresh_s);
  o.invoker_ttl = std::chrono::seconds(cfg_.capif_invoker_cache_ttl_s);
  api::http::TlsOptions topts;
  topts.ca_file = cfg_.capif_tls_ca_file;
  topts.cert_file = cfg_.capif_tls_cert_file;
  topts.key_file = cfg_.capif_tls_key_file;
  auto ctx = api::http::MakeClientTlsContext(topts);
  if (!ctx.ok()) {
    LOG_ERROR("main", "capif TLS: %s", ctx.status().message().c_str());
    return kExitConfig;
  }
  o.client.tls = ctx.value();
  ccf_ = std::make_unique<api::capif::CcfClient>(
      std::move(o),
      [this](std::vector<api::auth::TrustedIssuer> keys) {
        authorizer_->SetFetchedIssuers(std::move(keys));
      },
      registry_);
  authorizer_->OnUnknownKey([this] { ccf_->RefreshKeysSoon(); });
  // Invokers by certificate or PSK that are not configured clients: the CCF decides.
  if (cfg_.security_mode == "tls") authorizer_->SetInvokerAuthority(ccf_.get());
  ccf_->Start();
  ccf_live_.store(ccf_.get());
  return 0;
}

void Server::OwnListener(const std::string& listen, int bound_port) {
  if (listen.empty()) return;
  auto ep = api::http::ParseEndpoint(listen);
  if (!ep.ok()) return;
  int port = bound_port != 0 ? bound_port : ep->port();
  if (port != 0) targets_->AddOwnListener(ep->address(), static_cast<std::uint16_t>(port));
}

int Server::StartBroker() {
  // Where AS deliveries may go (api/delivery/target_uri.h): checked at registration and before
  // each delivery. Our own listeners are refused as targets: the configured addresses now, the
  // bound ports (port 0 in tests) once listening.
  targets_ = MakeTargetPolicy(cfg_);
  for (const auto* listen : {&cfg_.api_listen, &cfg_.metrics_listen, &cfg_.admin_listen,
                             &cfg_.coap_listen, &cfg_.coap_dtls_listen, &cfg_.coap_dtls_cert_listen}) {
    OwnListener(*listen, 0);
  }
  api::SetMaxMessageTtl(std::chrono::seconds(cfg_.broker_max_ttl_s));

  // Outbound HTTP/2 (HTTP/1.1 where a destination speaks only that) for ASs and gateways;
  // https:// targets verified against the CA bundle.
  if (cfg_.delivery_enabled) {
    api::http::ClientOptions copts;
    copts.connect_timeout = std::chrono::milliseconds(cfg_.delivery_connect_timeout_ms);
    copts.request_timeout = std::chrono::milliseconds(cfg_.delivery_request_timeout_ms);
    api::http::TlsOptions topts;
    topts.ca_file = cfg_.delivery_tls_ca_file;
    topts.verify_peer = cfg_.delivery_tls_verify;
    topts.cert_file = cfg_.delivery_tls_cert_file;  // mTLS towards ASs and gateways that ask
    topts.key_file = cfg_.delivery_tls_key_file;
    auto client_tls = api::http::MakeClientTlsContext(topts);
    if (!client_tls.ok()) {
      LOG_ERROR("main", "delivery TLS: %s", client_tls.status().message().c_str());
      return kExitConfig;
    }
    copts.tls = client_tls.value();
    // Reconnects resume the destination's previous TLS session (api/http/tls_session_cache.h).
    auto& handshakes = prometheus::BuildCounter()
                           .Name("msgin5g_delivery_tls_handshakes_total")
                           .Help("Outbound TLS handshakes to ASs and gateways, by whether they "
                                 "resumed the destination's previous session")
                           .Register(registry_.prom());
    prometheus::Counter* full = &handshakes.Add({{"resumed", "false"}});
    prometheus::Counter* resumed = &handshakes.Add({{"resumed", "true"}});
    copts.on_tls_handshake = [full, resumed](bool r) { (r ? resumed : full)->Increment(); };
    copts.http1_fallback = cfg_.delivery_http1_fallback;
    copts.http1_connections = static_cast<std::size_t>(cfg_.delivery_http1_connections);
    prometheus::Counter* http1 = &prometheus::BuildCounter()
                                      .Name("msgin5g_delivery_http1_fallbacks_total")
                                      .Help("Destinations found to speak HTTP/1.1 only, and "
                                            "spoken to over HTTP/1.1 since")
                                      .Register(registry_.prom())
                                      .Add({});
    copts.on_http1_fallback = [http1](const std::string&, const std::string&) {
      http1->Increment();
    };
    std::optional<api::auth::OutboundTokenOptions> tokens;
    if (!cfg_.delivery_oauth2_token_url.empty()) {
      tokens = api::auth::OutboundTokenOptions{cfg_.delivery_oauth2_token_url,
                                               cfg_.delivery_oauth2_client_id,
                                               cfg_.delivery_oauth2_client_secret,
                                               cfg_.delivery_oauth2_scope};
    }
    channel_ = std::make_unique<api::HttpDeliveryChannel>(std::move(copts), std::move(tokens),
                                                          targets_);
  } else {
    LOG_WARN("main", "delivery.enabled=false: messages are stored but never forwarded");
  }
  // HTTP/2 for ASs and gateways; CoAP for UEs (attached once the broker exists).
  split_ = std::make_unique<api::SplitDeliveryChannel>(channel_.get());
  auto created = broker::DurableBroker::Create(*store_, BrokerOptionsFrom(cfg_), &registry_,
                                               cfg_.delivery_enabled ? split_.get() : nullptr);
  if (!created.ok()) {
    LOG_ERROR("main", "broker recovery: %s", created.status().message().c_str());
    return kExitUnavailable;
  }
  broker_ = std::move(created.value());
  return 0;
}

int Server::StartCoap() {
  if (!CoapEnabled(cfg_)) return 0;
  coap_ = std::make_unique<api::coap::CoapServer>(CoapOptionsFrom(cfg_), *broker_, &registry_);
  if (Status st = coap_->Start(); !st.ok()) {
    LOG_ERROR("main", "%s", st.message().c_str());
    return kExitUnavailable;
  }
  split_->SetUeChannel(coap_.get());
  OwnListener(cfg_.coap_listen, coap_->udp_port());
  OwnListener(cfg_.coap_dtls_listen, coap_->dtls_port());
  OwnListener(cfg_.coap_dtls_cert_listen, coap_->dtls_cert_port());
  return 0;
}

int Server::StartSecurity() {
  // Our own token issuer (clause 10 "local configuration"): its key lives beside the data unless
  // configured, so tokens survive restarts.
  if (cfg_.security_token_endpoint) {
    auto key = cfg_.security_signing_key_file.empty()
                   ? api::auth::LoadOrCreateSigningKey(cfg_.storage_path + "/" +
                                                       std::string(kSigningKeyFile))
                   : api::auth::LoadSigningKey(cfg_.security_signing_key_file);
    if (!key.ok()) {
      LOG_ERROR("main", "security: %s", key.status().message().c_str());
      return kExitConfig;
    }
    signing_key_ = std::move(key.value());
    std::string iss = cfg_.security_issuer.empty() ? cfg_.security_server_id : cfg_.security_issuer;
    own_issuer_.push_back({iss, signing_key_->alg, signing_key_->public_pem, {}});
  }
  authorizer_->SetIssuers([this] {
    auto all = security_->issuers;
    all.insert(all.end(), own_issuer_.begin(), own_issuer_.end());
    return all;
  }());
  return 0;
}

void Server::BuildRouters() {
  sbi_router_ = std::make_unique<api::http::Router>(cfg_.api_root);
  api::AddMsgsRoutes(*sbi_router_, *broker_, cfg_.api_root, *authorizer_, targets_.get());
  if (signing_key_) {
    api::auth::TokenEndpointOptions t;
    t.server_id = cfg_.security_server_id;
    t.issuer = own_issuer_.front().issuer;
    t.lifetime_s = cfg_.security_token_lifetime_s;
    api::auth::AddTokenRoutes(*sbi_router_, *authorizer_, *signing_key_, t);
  }
  sbi_metrics_ = std::make_unique<api::http::HttpMetrics>(registry_, "sbi", sbi_router_->Operations());

  ops_router_ = std::make_unique<api::http::Router>();
  api::AddOpsRoutes(*ops_router_, registry_, [this] { return ready_.load() && broker_->healthy(); });
  ops_metrics_ =
      std::make_unique<api::http::HttpMetrics>(registry_, "metrics", ops_router_->Operations());

  admin_router_ = std::make_unique<api::http::Router>();
  api::AddAdminRoutes(*admin_router_, *broker_);
  api::AddClientRoutes(*admin_router_, *broker_, *policy_store_, *authorizer_);
  api::AddBackupRoutes(*admin_router_, *broker_);
  api::AddInventoryRoutes(*admin_router_, *broker_);
  drain_ = std::make_unique<Drain>(*broker_, ready_);
  api::AddDrainRoutes(*admin_router_, *drain_);
  if (cfg_.capif_enabled) api::AddCapifRoutes(*admin_router_, [this] { return ccf_live_.load(); });
  api::LoadStoredClients(*broker_, *policy_store_);
  admin_guard_ = std::make_unique<api::auth::AdminGuard>(&registry_);
  admin_guard_->SetTokens(std::move(admin_tokens_));
  admin_guard_->Protect(*admin_router_);
  admin_metrics_ =
      std::make_unique<api::http::HttpMetrics>(registry_, "admin", admin_router_->Operations());
}

int Server::Listen() {
  pool_ = std::make_unique<IoPool>(threads_);
  auto sbi_opts = SbiServerOptionsFrom(cfg_, tls_);
  if (sbi_opts.tls) sbi_opts.psk_prefetch = BuildPskPrefetch(cfg_, authorizer_.get());
  sbi_ = std::make_unique<api::http::Server>(*pool_, std::move(sbi_opts), *sbi_router_,
                                             sbi_metrics_.get());
  api::http::ServerOptions ops_opts;
  ops_opts.name = "metrics";
  ops_opts.listen = cfg_.metrics_listen;
  ops_opts.max_body_bytes = 4096;
  if (cfg_.metrics_tls) ops_opts.tls = ops_tls_;
  ops_ = std::make_unique<api::http::Server>(*pool_, ops_opts, *ops_router_, ops_metrics_.get());
  // The admin API: on a Unix socket, on TCP, or both (either may be off).
  api::http::ServerOptions admin_opts;
  admin_opts.name = "admin";
  admin_opts.listen = cfg_.admin_listen;
  admin_opts.max_body_bytes = 1 << 20;
  if (cfg_.admin_tls) admin_opts.tls = ops_tls_;
  if (!cfg_.admin_listen.empty()) {
    admin_ = std::make_unique<api::http::Server>(*pool_, admin_opts, *admin_router_,
                                                 admin_metrics_.get());
  }
  if (!cfg_.admin_socket.empty()) {
    api::http::ServerOptions unix_opts = admin_opts;
    unix_opts.listen = std::string(api::http::kUnixPrefix) + cfg_.admin_socket;
    unix_opts.tls = nullptr;
    admin_unix_ = std::make_unique<api::http::Server>(*pool_, unix_opts, *admin_router_,
                                                      admin_metrics_.get());
  }
  std::vector<api::http::Server*> servers = {sbi_.get(), ops_.get()};
  if (admin_) servers.push_back(admin_.get());
  for (auto* s : servers) {
    if (Status st = s->Listen(); !st.ok()) {
      LOG_ERROR("main", "%s", st.message().c_str());
      return kExitUnavailable;
    }
    targets_->AddOwnListener(s->local_endpoint().address(), s->local_endpoint().port());
  }
  if (admin_unix_) {
    if (Status st = admin_unix_->Listen(); !st.ok()) {
      LOG_ERROR("main", "admin.socket: %s", st.message().c_str());
      return kExitUnavailable;
    }
    servers.push_back(admin_unix_.get());
  }
  for (auto* s : servers) s->Start();
  pool_->Start();
  serving_ = true;
  ready_.store(true);

  reload_ = std::make_unique<ReloadTargets>(ReloadTargets{
      *authorizer_, *policy_store_, *admin_guard_,
      [this](std::vector<api::auth::TrustedIssuer> external) {
        external.insert(external.end(), own_issuer_.begin(), own_issuer_.end());
        return external;
      },
      *sbi_, *ops_, admin_.get()});
  reload_->sbi_tls = tls_ != nullptr;
  reload_->admin_tls = cfg_.admin_tls;
  reload_->metrics_tls = cfg_.metrics_tls;
  return 0;
}

void Server::Announce(const std::string& ready_file) {
  const std::string admin_addr = admin_ ? admin_->local_address() : "";
  const std::string admin_socket_addr = admin_unix_ ? cfg_.admin_socket : "";
  std::string admin_desc = admin_addr;
  if (!admin_socket_addr.empty()) {
    admin_desc += (admin_desc.empty() ? "unix:" : " unix:") + admin_socket_addr;
  }
  if (admin_desc.empty()) admin_desc = "off";
  LOG_INFO("main", "msgin5gd %s listening: sbi=%s (%s) admin=%s (%zu tokens) metrics=%s "
           "threads=%zu data=%s",
           MSGIN5G_VERSION, Addr(sbi_->local_endpoint()).c_str(),
           tls_ ? "h2+http/1.1 over TLS" : "h2c+http/1.1", admin_desc.c_str(),
           admin_guard_->token_count(), Addr(ops_->local_endpoint()).c_str(), threads_,
           cfg_.storage_path.c_str());
  if (cfg_.security_mode == "off") {
    LOG_WARN("main", "SECURITY IS OFF (security.mode=off): anonymous SBI callers are accepted; "
             "set security.mode to tls or oauth2 in production");
  } else {
    LOG_INFO("main", "security.mode=%s server_id=%s clients=%zu trusted issuers=%zu token endpoint=%s",
             cfg_.security_mode.c_str(), cfg_.security_server_id.c_str(), cfg_.clients.size(),
             security_->issuers.size() + own_issuer_.size(), signing_key_ ? "on" : "off");
  }
  if (cfg_.security_mode == "oauth2" && !tls_) {
    LOG_WARN("main", "security.mode=oauth2 without tls.enabled: bearer tokens travel in clear "
             "text (TS 33.501 requires TLS with token-based authorization)");
  }
  if (!ready_file.empty()) {
    std::string tmp = ready_file + ".tmp";
    {
      std::ofstream f(tmp);
      f << "{\"sbi\":\"" << Addr(sbi_->local_endpoint()) << "\",\"metrics\":\""
        << Addr(ops_->local_endpoint()) << "\",\"admin\":\"" << admin_addr
        << "\",\"admin_socket\":\"" << admin_socket_addr
        << "\",\"coap_port\":" << (coap_ ? coap_->udp_port() : 0)
        << ",\"coaps_port\":" << (coap_ ? coap_->dtls_port() : 0)
        << ",\"coaps_cert_port\":" << (coap_ ? coap_->dtls_cert_port() : 0)
        << ",\"pid\":" << getpid() << "}\n";
    }
    std::rename(tmp.c_str(), ready_file.c_str());
  }
  systemd::NotifyReady("serving: sbi " + Addr(sbi_->local_endpoint()) + ", data " + cfg_.storage_path);
}

std::vector<boost::asio::any_io_executor> Server::Loops() {
  std::vector<boost::asio::any_io_executor> loops;
  for (std::size_t i = 0; i < threads_; ++i) loops.push_back(pool_->Next().get_executor());
  return loops;
}

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  ready_.store(false);
  std::size_t cut = 0;
  if (serving_) {
    // No further segment sweep slice: the writer is free for the requests being drained, and
    // the broker's drain below waits for one slice at most.
    broker_->BeginShutdown();
    cut = sbi_->Shutdown(std::chrono::milliseconds(cfg_.shutdown_drain_timeout_ms));
    if (admin_) admin_->Shutdown(std::chrono::milliseconds(1000));
    if (admin_unix_) admin_unix_->Shutdown(std::chrono::milliseconds(1000));
    ops_->Shutdown(std::chrono::milliseconds(1000));
    pool_->Abort();
  }
  // No request reaches the authorizer any more, so neither its unknown-key hook nor the invoker
  // authority is called.
  if (authorizer_) authorizer_->SetInvokerAuthority(nullptr);
  ccf_live_.store(nullptr);
  ccf_.reset();
  // Delivery stops before the channel goes, the channel before the broker (its late answers post
  // to the engine the broker owns).
  if (broker_) broker_->StopDelivery();
  if (coap_) coap_->Stop();
  channel_.reset();  // closes outbound connections; late answers are dropped
  broker_.reset();   // waits for queued storage operations
  store_.reset();    // flushes and closes RocksDB
  if (serving_) LOG_INFO("main", "stopped (%zu connections cut at the drain deadline)", cut);
}

}  // namespace msgin5g::daemon
