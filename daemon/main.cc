// msgin5gd: the MSGin5G Server daemon. Composition root: reads the configuration, builds the
// modules in order (metrics, broker, routes, listeners), serves until SIGTERM/SIGINT, then drains
// and stops in reverse. Exit codes: 0 clean stop, 64 bad usage, 69 cannot listen or open the data,
// 75 the data directory is in use by another msgin5gd, 78 bad config.
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/auth/admin_guard.h"
#include "api/auth/authorizer.h"
#include "api/auth/secret_hash.h"
#include "api/auth/token_endpoint.h"
#include "api/handlers/msgs_routes.h"
#include "api/http/ops_routes.h"
#include "api/http/http_metrics.h"
#include "api/http/problem.h"
#include "api/http/server.h"
#include "api/http/tls_context.h"
#include "api/handlers/admin_routes.h"
#include "api/handlers/backup_routes.h"
#include "api/handlers/inventory_routes.h"
#include "api/handlers/drain_routes.h"
#include "api/handlers/client_routes.h"
#include "api/auth/policy.h"
#include "api/auth/policy_store.h"
#include "api/coap/coap_server.h"
#include "api/delivery/http_delivery_channel.h"
#include "api/delivery/split_channel.h"
#include "broker/durable_broker.h"
#include "storage/store.h"
#include "common/io_pool.h"
#include "common/systemd/service_notify.h"
#include "common/logging.h"
#include "daemon/config.h"
#include "daemon/data_dir.h"
#include "daemon/drain.h"
#include "daemon/module_options.h"
#include "daemon/reload.h"
#include "daemon/restore_command.h"
#include "daemon/security_setup.h"
#include "metrics/registry.h"

namespace {

using namespace msgin5g;

constexpr int kExitUsage = 64;
constexpr int kExitDataError = 65;  // EX_DATAERR: storage.path holds another data format or damage
constexpr int kExitUnavailable = 69;
constexpr int kExitDataInUse = 75;  // EX_TEMPFAIL: another msgin5gd holds storage.path
constexpr int kExitConfig = 78;
constexpr const char* kVersion = MSGIN5G_VERSION;  // CMake project(VERSION)
using daemon::kSigningKeyFile;

void PrintHelp() {
  std::printf(
      "msgin5gd %s - MSGin5G Server (3GPP TS 23.554 / TS 29.538)\n\n"
      "Usage: msgin5gd [--config FILE] [--set key=value ...] [options]\n\n"
      "Options:\n"
      "  --config FILE            TOML configuration file (default: built-in defaults)\n"
      "  --set key=value          override one configuration key (repeatable)\n"
      "  --check-config           validate the configuration and exit (0 valid, 78 invalid:\n"
      "                           every problem, one line each, with its key and FILE:LINE)\n"
      "  --print-default-config   print the default configuration file and exit\n"
      "  --ready-file FILE        once listening, write the bound addresses there as JSON\n"
      "  --hash-secret SECRET     print the secret_hash of a client secret ('-': read stdin)\n"
      "  --restore NAME|DIR       put a backup (NAME under storage.backup_dir, or a directory)\n"
      "                           into storage.path, which must be missing or empty; every file\n"
      "                           and the store are verified first; then exit (0 restored, 65\n"
      "                           damaged or another data format, 66 no backup there, 73\n"
      "                           storage.path not empty, 74 I/O error). Run it as the daemon's\n"
      "                           user, with msgin5gd stopped\n"
      "  --version                print the version and exit\n"
      "  --help                   this text\n\n"
      "Configuration keys:\n%s\n"
      "Signals: SIGTERM/SIGINT drain and stop; SIGHUP re-reads --config: log.level, the TLS\n"
      "certificate, key and CA, [clients.*], [issuers.*] and admin.tokens_file (other keys need a\n"
      "restart).\n\n"
      "Data: storage.path is made private (mode 0700, files 0600; an existing directory open to\n"
      "group/others is tightened, with a warning) and locked: {storage.path}/msgin5gd.pid holds\n"
      "the pid of the msgin5gd using it.\n\n"
      "Exit codes: 0 stopped, 64 bad usage, 65 storage.path holds a newer data format (or\n"
      "damage), 69 a listener cannot bind or storage.path cannot be opened, 75 storage.path is\n"
      "in use by another msgin5gd, 78 bad configuration.\n",
      kVersion, daemon::ConfigHelp().c_str());
}

// One stderr line per problem (LoadConfig's message has one line each).
void PrintConfigErrors(const std::string& message) {
  std::size_t start = 0;
  while (start <= message.size()) {
    auto nl = message.find('\n', start);
    if (nl == std::string::npos) nl = message.size();
    std::fprintf(stderr, "msgin5gd: configuration error: %s\n",
                 message.substr(start, nl - start).c_str());
    start = nl + 1;
  }
}

struct Args {
  std::string config_file;
  std::vector<std::string> overrides;
  std::string ready_file;
  bool check_only = false;
  std::string restore;  // --restore NAME|DIR
};

}  // namespace

int main(int argc, char** argv) {
  // Everything this process creates (RocksDB files, the signing key, the ready file) is its
  // user's alone: message payloads must not be readable by other local users.
  umask(077);
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "msgin5gd: %s needs a value\n", what);
        std::exit(kExitUsage);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      PrintHelp();
      return 0;
    } else if (a == "--version") {
      std::printf("msgin5gd %s\n", kVersion);
      return 0;
    } else if (a == "--print-default-config") {
      std::fputs(daemon::DefaultConfigText().c_str(), stdout);
      return 0;
    } else if (a == "--check-config") {
      args.check_only = true;
    } else if (a == "--restore") {
      args.restore = need("--restore");
    } else if (a == "--config" || a == "-c") {
      args.config_file = need("--config");
    } else if (a == "--set") {
      args.overrides.push_back(need("--set"));
    } else if (a == "--ready-file") {
      args.ready_file = need("--ready-file");
    } else if (a == "--hash-secret") {
      std::string secret = need("--hash-secret");
      if (secret == "-" && !std::getline(std::cin, secret)) return kExitUsage;
      std::printf("%s\n", api::auth::HashSecret(secret).c_str());
      return 0;
    } else {
      std::fprintf(stderr, "msgin5gd: unknown argument %s (see --help)\n", a.c_str());
      return kExitUsage;
    }
  }

  auto loaded = daemon::LoadConfig(args.config_file, args.overrides);
  if (!loaded.ok()) {
    PrintConfigErrors(loaded.status().message());
    return kExitConfig;
  }
  daemon::Config cfg = std::move(loaded.value());

  auto security = daemon::BuildSecurity(cfg);
  if (!security.ok()) {
    std::fprintf(stderr, "msgin5gd: configuration error: %s\n", security.status().message().c_str());
    return kExitConfig;
  }
  metrics::Registry registry;
  api::auth::Authorizer authorizer(daemon::AuthOptionsFrom(cfg), &registry);
  api::auth::PolicyStore policy_store(authorizer);
  if (Status st = policy_store.SetConfigured(security->policies->clients()); !st.ok()) {
    std::fprintf(stderr, "msgin5gd: configuration error: %s\n", st.message().c_str());
    return kExitConfig;
  }

  std::shared_ptr<boost::asio::ssl::context> tls;
  if (cfg.tls_enabled) {
    auto ctx = daemon::BuildSbiTls(cfg, &authorizer);
    if (!ctx.ok()) {
      std::fprintf(stderr, "msgin5gd: configuration error: %s\n", ctx.status().message().c_str());
      return kExitConfig;
    }
    tls = *ctx;
  }
  std::shared_ptr<boost::asio::ssl::context> ops_tls;
  if (cfg.admin_tls || cfg.metrics_tls) {
    auto ctx = daemon::BuildOpsTls(cfg);
    if (!ctx.ok()) {
      std::fprintf(stderr, "msgin5gd: configuration error: %s\n", ctx.status().message().c_str());
      return kExitConfig;
    }
    ops_tls = *ctx;
  }
  // LoadConfig checked the listen addresses already; this is the listeners' own parser.
  for (auto [key, listen] : {std::pair{"api.listen", &cfg.api_listen},
                             std::pair{"metrics.listen", &cfg.metrics_listen},
                             std::pair{"admin.listen", &cfg.admin_listen}}) {
    if (listen->empty()) continue;  // admin.listen is optional
    if (auto ep = api::http::ParseEndpoint(*listen); !ep.ok()) {
      std::fprintf(stderr, "msgin5gd: configuration error: %s: %s\n", key,
                   ep.status().message().c_str());
      return kExitConfig;
    }
  }
  std::vector<api::auth::AdminToken> admin_tokens;
  if (!cfg.admin_tokens_file.empty()) {
    auto tokens = api::auth::LoadAdminTokens(cfg.admin_tokens_file);
    if (!tokens.ok()) {
      std::fprintf(stderr, "msgin5gd: configuration error: admin.tokens_file: %s\n",
                   tokens.status().message().c_str());
      return kExitConfig;
    }
    admin_tokens = std::move(*tokens);
  }
  if (args.check_only) {
    std::printf("configuration OK\n");
    return 0;
  }
  if (!args.restore.empty()) return daemon::RunRestore(cfg, args.restore);

  log::Level level = log::Level::kInfo;
  log::ParseLevel(cfg.log_level, &level);
  log::SetLevel(level);
  log::Format format = log::Format::kText;
  if (log::ParseFormat(cfg.log_format, &format)) log::SetFormat(format);
  api::http::SetRetryAfterSeconds(static_cast<int>(cfg.api_retry_after_seconds));

  // Signals are taken synchronously by the main thread (sigwait); block them before any thread
  // starts so none of the I/O threads gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Connections and RocksDB table files both need descriptors: use the hard limit.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  std::size_t threads = cfg.api_threads > 0 ? static_cast<std::size_t>(cfg.api_threads)
                                            : std::max(1u, std::thread::hardware_concurrency());

  // Private and ours alone before RocksDB opens it (RocksDB's own LOCK would only say "Resource
  // temporarily unavailable"). Held until main returns, after the store has closed.
  auto data_dir = daemon::PrepareDataDir(cfg.storage_path);
  if (!data_dir.ok()) {
    std::fprintf(stderr, "msgin5gd: %s\n", data_dir.status().message().c_str());
    return data_dir.status().code() == StatusCode::kConflict ? kExitDataInUse : kExitUnavailable;
  }
  for (const auto& t : data_dir->tightened) {
    LOG_WARN("main", "storage.path was open to group/others, made private: %s", t.c_str());
  }

  auto opened = storage::Store::Open(daemon::StoreOptionsFrom(cfg), &registry);
  if (!opened.ok()) {
    LOG_ERROR("main", "storage: %s", opened.status().message().c_str());
    return opened.status().code() == StatusCode::kCorruption ? kExitDataError : kExitUnavailable;
  }
  std::unique_ptr<storage::Store> store = std::move(opened.value());

  const broker::BrokerOptions bopts = daemon::BrokerOptionsFrom(cfg);

  // Where AS deliveries may go (api/delivery/target_uri.h): checked at registration and before
  // each delivery. Our own listeners are refused as targets: the configured addresses now, the
  // bound ports (port 0 in tests) once listening.
  auto targets = std::make_shared<api::TargetUriPolicy>(cfg.security_mode == "off" ||
                                                        cfg.delivery_allow_private_targets);
  auto own_listener = [&targets](const std::string& listen, int bound_port) {
    if (listen.empty()) return;
    auto ep = api::http::ParseEndpoint(listen);
    if (!ep.ok()) return;
    int port = bound_port != 0 ? bound_port : ep->port();
    if (port != 0) targets->AddOwnListener(ep->address(), static_cast<std::uint16_t>(port));
  };
  for (const auto* listen : {&cfg.api_listen, &cfg.metrics_listen, &cfg.admin_listen,
                             &cfg.coap_listen, &cfg.coap_dtls_listen, &cfg.coap_dtls_cert_listen}) {
    own_listener(*listen, 0);
  }
  api::SetMaxMessageTtl(std::chrono::seconds(cfg.broker_max_ttl_s));

  // Outbound HTTP/2 for ASs and gateways (https:// targets verified against the CA bundle).
  std::unique_ptr<api::HttpDeliveryChannel> channel;
  if (cfg.delivery_enabled) {
    api::http::ClientOptions copts;
    copts.connect_timeout = std::chrono::milliseconds(cfg.delivery_connect_timeout_ms);
    copts.request_timeout = std::chrono::milliseconds(cfg.delivery_request_timeout_ms);
    api::http::TlsOptions topts;
    topts.ca_file = cfg.delivery_tls_ca_file;
    topts.verify_peer = cfg.delivery_tls_verify;
    topts.cert_file = cfg.delivery_tls_cert_file;  // mTLS towards ASs and gateways that ask
    topts.key_file = cfg.delivery_tls_key_file;
    auto client_tls = api::http::MakeClientTlsContext(topts);
    if (!client_tls.ok()) {
      LOG_ERROR("main", "delivery TLS: %s", client_tls.status().message().c_str());
      return kExitConfig;
    }
    copts.tls = client_tls.value();
    std::optional<api::auth::OutboundTokenOptions> tokens;
    if (!cfg.delivery_oauth2_token_url.empty()) {
      tokens = api::auth::OutboundTokenOptions{cfg.delivery_oauth2_token_url,
                                               cfg.delivery_oauth2_client_id,
                                               cfg.delivery_oauth2_client_secret,
                                               cfg.delivery_oauth2_scope};
    }
    channel = std::make_unique<api::HttpDeliveryChannel>(std::move(copts), std::move(tokens),
                                                         targets);
  } else {
    LOG_WARN("main", "delivery.enabled=false: messages are stored but never forwarded");
  }
  // HTTP/2 for ASs and gateways; CoAP for UEs (attached once the broker exists).
  api::SplitDeliveryChannel split(channel.get());
  const bool deliver = cfg.delivery_enabled;
  // Declared before the broker so that it is destroyed after it on every way out: the broker's
  // last storage completions may still post answers to it (dropped once it is stopped).
  std::unique_ptr<api::coap::CoapServer> coap;
  auto created = broker::DurableBroker::Create(*store, bopts, &registry, deliver ? &split : nullptr);
  if (!created.ok()) {
    LOG_ERROR("main", "broker recovery: %s", created.status().message().c_str());
    return kExitUnavailable;
  }
  std::unique_ptr<broker::DurableBroker> broker = std::move(created.value());
  // On every way out: delivery stops before the channel goes, the channel before the broker (its
  // late answers post to the engine the broker owns).
  struct DeliveryStopper {
    std::unique_ptr<broker::DurableBroker>& b;
    std::unique_ptr<api::HttpDeliveryChannel>& c;
    std::unique_ptr<api::coap::CoapServer>& u;
    ~DeliveryStopper() {
      if (b) b->StopDelivery();
      if (u) u->Stop();
      c.reset();
    }
  } delivery_stopper{broker, channel, coap};

  // MSGin5G-1: the CoAP endpoint for UEs.
  if (daemon::CoapEnabled(cfg)) {
    coap = std::make_unique<api::coap::CoapServer>(daemon::CoapOptionsFrom(cfg), *broker, &registry);
    if (Status st = coap->Start(); !st.ok()) {
      LOG_ERROR("main", "%s", st.message().c_str());
      return kExitUnavailable;
    }
    split.SetUeChannel(coap.get());
    own_listener(cfg.coap_listen, coap->udp_port());
    own_listener(cfg.coap_dtls_listen, coap->dtls_port());
    own_listener(cfg.coap_dtls_cert_listen, coap->dtls_cert_port());
  }

  // Our own token issuer (clause 10 "local configuration"): its key lives beside the data unless
  // configured, so tokens survive restarts.
  std::vector<api::auth::TrustedIssuer> own_issuer;
  std::optional<api::auth::SigningKey> signing_key;
  if (cfg.security_token_endpoint) {
    auto key = cfg.security_signing_key_file.empty()
                   ? api::auth::LoadOrCreateSigningKey(cfg.storage_path + "/" + std::string(kSigningKeyFile))
                   : api::auth::LoadSigningKey(cfg.security_signing_key_file);
    if (!key.ok()) {
      LOG_ERROR("main", "security: %s", key.status().message().c_str());
      return kExitConfig;
    }
    signing_key = std::move(key.value());
    std::string iss = cfg.security_issuer.empty() ? cfg.security_server_id : cfg.security_issuer;
    own_issuer.push_back({iss, signing_key->alg, signing_key->public_pem});
  }
  auto trusted = [&own_issuer](std::vector<api::auth::TrustedIssuer> external) {
    external.insert(external.end(), own_issuer.begin(), own_issuer.end());
    return external;
  };
  authorizer.SetIssuers(trusted(security->issuers));

  api::http::Router sbi_router(cfg.api_root);
  api::AddMsgsRoutes(sbi_router, *broker, cfg.api_root, authorizer, targets.get());
  if (signing_key) {
    api::auth::TokenEndpointOptions t;
    t.server_id = cfg.security_server_id;
    t.issuer = own_issuer.front().issuer;
    t.lifetime_s = cfg.security_token_lifetime_s;
    api::auth::AddTokenRoutes(sbi_router, authorizer, *signing_key, t);
  }
  api::http::HttpMetrics sbi_metrics(registry, "sbi", sbi_router.Operations());

  const api::http::ServerOptions sbi_opts = daemon::SbiServerOptionsFrom(cfg, tls);

  std::atomic<bool> ready{false};
  api::http::Router ops_router;
  api::AddOpsRoutes(ops_router, registry,
                    [&ready, &broker] { return ready.load() && broker->healthy(); });
  api::http::HttpMetrics ops_metrics(registry, "metrics", ops_router.Operations());
  api::http::ServerOptions ops_opts;
  ops_opts.name = "metrics";
  ops_opts.listen = cfg.metrics_listen;
  ops_opts.max_body_bytes = 4096;
  if (cfg.metrics_tls) ops_opts.tls = ops_tls;

  api::http::Router admin_router;
  api::AddAdminRoutes(admin_router, *broker);
  api::AddClientRoutes(admin_router, *broker, policy_store, authorizer);
  api::AddBackupRoutes(admin_router, *broker);
  api::AddInventoryRoutes(admin_router, *broker);
  daemon::Drain drain(*broker, ready);
  api::AddDrainRoutes(admin_router, drain);
  api::LoadStoredClients(*broker, policy_store);
  api::auth::AdminGuard admin_guard(&registry);
  admin_guard.SetTokens(std::move(admin_tokens));
  admin_guard.Protect(admin_router);
  api::http::HttpMetrics admin_metrics(registry, "admin", admin_router.Operations());
  api::http::ServerOptions admin_opts;
  admin_opts.name = "admin";
  admin_opts.listen = cfg.admin_listen;
  admin_opts.max_body_bytes = 1 << 20;
  if (cfg.admin_tls) admin_opts.tls = ops_tls;
  api::http::ServerOptions admin_unix_opts = admin_opts;
  admin_unix_opts.listen = std::string(api::http::kUnixPrefix) + cfg.admin_socket;
  admin_unix_opts.tls = nullptr;

  // Declared after every router and metrics object that sessions point to: the io_contexts (and
  // with them any session still held by a pending operation) are destroyed first.
  IoPool pool(threads);
  api::http::Server sbi(pool, sbi_opts, sbi_router, &sbi_metrics);
  api::http::Server ops(pool, ops_opts, ops_router, &ops_metrics);
  // The admin API: on a Unix socket, on TCP, or both (either may be off).
  std::unique_ptr<api::http::Server> admin, admin_unix;
  if (!cfg.admin_listen.empty()) {
    admin = std::make_unique<api::http::Server>(pool, admin_opts, admin_router, &admin_metrics);
  }
  if (!cfg.admin_socket.empty()) {
    admin_unix =
        std::make_unique<api::http::Server>(pool, admin_unix_opts, admin_router, &admin_metrics);
  }
  std::vector<api::http::Server*> servers = {&sbi, &ops};
  if (admin) servers.push_back(admin.get());
  for (auto* s : servers) {
    if (Status st = s->Listen(); !st.ok()) {
      LOG_ERROR("main", "%s", st.message().c_str());
      return kExitUnavailable;
    }
    targets->AddOwnListener(s->local_endpoint().address(), s->local_endpoint().port());
  }
  if (admin_unix) {
    if (Status st = admin_unix->Listen(); !st.ok()) {
      LOG_ERROR("main", "admin.socket: %s", st.message().c_str());
      return kExitUnavailable;
    }
    servers.push_back(admin_unix.get());
  }
  for (auto* s : servers) s->Start();
  pool.Start();
  ready.store(true);

  auto addr = [](const boost::asio::ip::tcp::endpoint& ep) {
    return (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
           ":" + std::to_string(ep.port());
  };
  const std::string admin_addr = admin ? admin->local_address() : "";
  const std::string admin_socket_addr = admin_unix ? cfg.admin_socket : "";
  std::string admin_desc = admin_addr.empty() ? std::string() : admin_addr;
  if (!admin_socket_addr.empty()) {
    admin_desc += (admin_desc.empty() ? "unix:" : " unix:") + admin_socket_addr;
  }
  if (admin_desc.empty()) admin_desc = "off";
  LOG_INFO("main", "msgin5gd %s listening: sbi=%s (%s) admin=%s (%zu tokens) metrics=%s "
           "threads=%zu data=%s",
           kVersion, addr(sbi.local_endpoint()).c_str(),
           tls ? "h2+http/1.1 over TLS" : "h2c+http/1.1", admin_desc.c_str(),
           admin_guard.token_count(),
           addr(ops.local_endpoint()).c_str(), threads, cfg.storage_path.c_str());
  if (cfg.security_mode == "off") {
    LOG_WARN("main", "SECURITY IS OFF (security.mode=off): anonymous SBI callers are accepted; "
             "set security.mode to tls or oauth2 in production");
  } else {
    LOG_INFO("main", "security.mode=%s server_id=%s clients=%zu trusted issuers=%zu token endpoint=%s",
             cfg.security_mode.c_str(), cfg.security_server_id.c_str(), cfg.clients.size(),
             security->issuers.size() + own_issuer.size(), signing_key ? "on" : "off");
  }
  if (cfg.security_mode == "oauth2" && !tls) {
    LOG_WARN("main", "security.mode=oauth2 without tls.enabled: bearer tokens travel in clear "
             "text (TS 33.501 requires TLS with token-based authorization)");
  }
  if (!args.ready_file.empty()) {
    std::string tmp = args.ready_file + ".tmp";
    {
      std::ofstream f(tmp);
      f << "{\"sbi\":\"" << addr(sbi.local_endpoint()) << "\",\"metrics\":\""
        << addr(ops.local_endpoint()) << "\",\"admin\":\"" << admin_addr
        << "\",\"admin_socket\":\"" << admin_socket_addr
        << "\",\"coap_port\":" << (coap ? coap->udp_port() : 0)
        << ",\"coaps_port\":" << (coap ? coap->dtls_port() : 0)
        << ",\"coaps_cert_port\":" << (coap ? coap->dtls_cert_port() : 0) << ",\"pid\":" << getpid()
        << "}\n";
    }
    std::rename(tmp.c_str(), args.ready_file.c_str());
  }

  systemd::NotifyReady("serving: sbi " + addr(sbi.local_endpoint()) + ", data " + cfg.storage_path);
  std::vector<boost::asio::any_io_executor> loops;
  for (std::size_t i = 0; i < threads; ++i) loops.push_back(pool.Next().get_executor());
  systemd::LoopHeartbeat heartbeat(std::move(loops));
  daemon::ReloadTargets reload_targets{authorizer, policy_store, admin_guard, trusted,
                                       sbi,        ops,          admin.get()};
  reload_targets.sbi_tls = tls != nullptr;
  reload_targets.admin_tls = cfg.admin_tls;
  reload_targets.metrics_tls = cfg.metrics_tls;
  for (;;) {
    const int sig = systemd::WaitForSignal(signals, [&] { return heartbeat() && broker->healthy(); });
    if (sig == SIGHUP) {
      daemon::Reload(args.config_file, args.overrides, reload_targets);
      continue;
    }
    systemd::NotifyStopping("draining");
    if (drain.requested()) {
      // POST /admin/v1/drain: new messages are refused already; deliver what can be delivered.
      LOG_INFO("main", "drain: refusing new messages, delivering until nothing deliverable is left");
      api::DrainState left = drain.WaitDelivered();
      LOG_INFO("main",
               "drain: %llu deliverable and %llu in flight left, %llu stored entries kept for the "
               "next start",
               static_cast<unsigned long long>(left.deliverable),
               static_cast<unsigned long long>(left.in_flight),
               static_cast<unsigned long long>(left.pending));
    }
    LOG_INFO("main", "%s: draining (up to %lld ms)", strsignal(sig),
             static_cast<long long>(cfg.shutdown_drain_timeout_ms));
    break;
  }

  ready.store(false);
  // No further segment sweep slice: the writer is free for the requests being drained, and the
  // broker's Drain below waits for one slice at most.
  broker->BeginShutdown();
  std::size_t cut = sbi.Shutdown(std::chrono::milliseconds(cfg.shutdown_drain_timeout_ms));
  if (admin) admin->Shutdown(std::chrono::milliseconds(1000));
  if (admin_unix) admin_unix->Shutdown(std::chrono::milliseconds(1000));
  ops.Shutdown(std::chrono::milliseconds(1000));
  pool.Abort();
  broker->StopDelivery();
  if (coap) coap->Stop();
  channel.reset();  // closes outbound connections; late answers are dropped
  broker.reset();   // waits for queued storage operations
  store.reset();   // flushes and closes RocksDB
  LOG_INFO("main", "stopped (%zu connections cut at the drain deadline)", cut);
  return 0;
}
