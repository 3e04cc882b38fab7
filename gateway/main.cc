// msgin5g-gatewayd: the MSGin5G Message Gateway daemon (TS 23.554 8.6, TS 29.538 MSGG_*).
// Composition root: reads the configuration, opens the store, builds the roles that are on
// (L3G: SMS over SMPP), the uplink to msgin5gd and the listeners, serves until SIGTERM/SIGINT,
// then stops in reverse. Exit codes as msgin5gd's: 0 stopped, 64 bad usage, 69 cannot listen or
// open the data, 75 the data directory is in use by another msgin5g-gatewayd, 78 bad config.
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "api/http/http_metrics.h"
#include "api/http/ops_routes.h"
#include "api/http/problem.h"
#include "api/http/server.h"
#include "api/http/tls_context.h"
#include "common/io_pool.h"
#include "common/systemd/service_notify.h"
#include "common/logging.h"
#include "daemon/data_dir.h"
#include "gateway/admin_routes.h"
#include "gateway/bg/bg_role.h"
#include "gateway/config.h"
#include "gateway/downlink.h"
#include "gateway/gateway_metrics.h"
#include "gateway/identity_map.h"
#include "gateway/l3g/sms_role.h"
#include "gateway/mqtt/mqtt_link.h"
#include "gateway/msgg_routes.h"
#include "gateway/n3g/n3g_role.h"
#include "gateway/records.h"
#include "gateway/smpp/esme_session.h"
#include "gateway/store.h"
#include "gateway/uplink.h"
#include "metrics/registry.h"

namespace {

using namespace msgin5g;

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;
constexpr int kExitDataInUse = 75;
constexpr int kExitConfig = 78;
constexpr const char* kVersion = MSGIN5G_VERSION;  // CMake project(VERSION)

void PrintHelp() {
  std::printf(
      "msgin5g-gatewayd %s - MSGin5G Message Gateway (3GPP TS 23.554 / TS 29.538 MSGG_*)\n\n"
      "Interconnects an MSGin5G Server (msgin5gd) with legacy UEs over SMS (SMPP 3.4 to an SMSC),\n"
      "non-3GPP devices over MQTT, and Broadcast Areas (an MQTT topic per area).\n\n"
      "Usage: msgin5g-gatewayd [--config FILE] [--set key=value ...] [options]\n\n"
      "Options:\n"
      "  --config FILE            TOML configuration file (default: built-in defaults)\n"
      "  --set key=value          override one configuration key (repeatable; arrays as TOML,\n"
      "                           e.g. --set 'l3g.smsc=[\"10.0.0.5:2775\"]')\n"
      "  --check-config           validate the configuration and exit (0 valid, 78 invalid:\n"
      "                           every problem, one line each, with its key and FILE:LINE)\n"
      "  --print-default-config   print the default configuration file and exit\n"
      "  --ready-file FILE        once listening, write the bound addresses there as JSON\n"
      "  --version                print the version and exit\n"
      "  --help                   this text\n\n"
      "Configuration keys:\n%s\n"
      "Signals: SIGTERM/SIGINT stop (unbinding from the SMSC, disconnecting from the broker).\n\n"
      "Data: storage.path is made private (mode 0700) and locked: {storage.path}/\n"
      "msgin5g-gatewayd.pid holds the pid of the gateway using it.\n\n"
      "Exit codes: 0 stopped, 64 bad usage, 69 a listener cannot bind or storage.path cannot be\n"
      "opened, 75 storage.path is in use by another msgin5g-gatewayd, 78 bad configuration.\n",
      kVersion, gateway::ConfigHelp().c_str());
}

void PrintConfigErrors(const std::string& message) {
  std::size_t start = 0;
  while (start <= message.size()) {
    auto nl = message.find('\n', start);
    if (nl == std::string::npos) nl = message.size();
    std::fprintf(stderr, "msgin5g-gatewayd: configuration error: %s\n",
                 message.substr(start, nl - start).c_str());
    start = nl + 1;
  }
}

// Runs `fn` on the core io_context and waits for it (startup and shutdown only).
template <class F>
void OnCore(boost::asio::io_context& core, F fn) {
  std::promise<void> done;
  boost::asio::post(core, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

std::vector<gateway::smpp::Endpoint> SmscEndpoints(const std::vector<std::string>& list) {
  std::vector<gateway::smpp::Endpoint> out;
  for (const auto& s : list) {
    auto colon = s.rfind(':');
    out.push_back({s.substr(0, colon), static_cast<std::uint16_t>(std::stoul(s.substr(colon + 1)))});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  umask(077);
  std::string config_file, ready_file;
  std::vector<std::string> overrides;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "msgin5g-gatewayd: %s needs a value\n", what);
        std::exit(kExitUsage);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      PrintHelp();
      return 0;
    } else if (a == "--version") {
      std::printf("msgin5g-gatewayd %s\n", kVersion);
      return 0;
    } else if (a == "--print-default-config") {
      std::fputs(gateway::DefaultConfigText().c_str(), stdout);
      return 0;
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--config" || a == "-c") {
      config_file = need("--config");
    } else if (a == "--set") {
      overrides.push_back(need("--set"));
    } else if (a == "--ready-file") {
      ready_file = need("--ready-file");
    } else {
      std::fprintf(stderr, "msgin5g-gatewayd: unknown argument %s (see --help)\n", a.c_str());
      return kExitUsage;
    }
  }

  auto loaded = gateway::LoadConfig(config_file, overrides);
  if (!loaded.ok()) {
    PrintConfigErrors(loaded.status().message());
    return kExitConfig;
  }
  const gateway::Config cfg = std::move(loaded.value());

  std::shared_ptr<boost::asio::ssl::context> tls;
  if (cfg.tls_enabled) {
    api::http::TlsOptions t;
    t.cert_file = cfg.tls_cert_file;
    t.key_file = cfg.tls_key_file;
    t.ca_file = cfg.tls_ca_file;
    t.require_client_cert = cfg.tls_require_client_cert;
    auto ctx = api::http::MakeServerTlsContext(t);
    if (!ctx.ok()) {
      std::fprintf(stderr, "msgin5g-gatewayd: configuration error: tls: %s\n",
                   ctx.status().message().c_str());
      return kExitConfig;
    }
    tls = *ctx;
  }
  api::http::ClientOptions copts;
  copts.request_timeout = std::chrono::milliseconds(cfg.server_request_timeout_ms);
  {
    api::http::TlsOptions t;
    t.ca_file = cfg.server_tls_ca_file;
    t.verify_peer = cfg.server_tls_verify;
    t.cert_file = cfg.server_tls_cert_file;
    t.key_file = cfg.server_tls_key_file;
    auto ctx = api::http::MakeClientTlsContext(t);
    if (!ctx.ok()) {
      std::fprintf(stderr, "msgin5g-gatewayd: configuration error: server TLS: %s\n",
                   ctx.status().message().c_str());
      return kExitConfig;
    }
    copts.tls = *ctx;
  }
  for (auto [key, listen] : {std::pair{"api.listen", &cfg.api_listen},
                             std::pair{"metrics.listen", &cfg.metrics_listen},
                             std::pair{"admin.listen", &cfg.admin_listen}}) {
    if (auto ep = api::http::ParseEndpoint(*listen); !ep.ok()) {
      std::fprintf(stderr, "msgin5g-gatewayd: configuration error: %s: %s\n", key,
                   ep.status().message().c_str());
      return kExitConfig;
    }
  }
  if (check_only) {
    std::printf("configuration OK\n");
    return 0;
  }

  log::Level level = log::Level::kInfo;
  log::ParseLevel(cfg.log_level, &level);
  log::SetLevel(level);
  log::Format format = log::Format::kText;
  if (log::ParseFormat(cfg.log_format, &format)) log::SetFormat(format);
  api::http::SetRetryAfterSeconds(static_cast<int>(cfg.api_retry_after_seconds));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto data_dir = daemon::PrepareDataDir(cfg.storage_path, "msgin5g-gatewayd");
  if (!data_dir.ok()) {
    std::fprintf(stderr, "msgin5g-gatewayd: %s\n", data_dir.status().message().c_str());
    return data_dir.status().code() == StatusCode::kConflict ? kExitDataInUse : kExitUnavailable;
  }
  for (const auto& t : data_dir->tightened) {
    LOG_WARN("main", "storage.path was open to group/others, made private: %s", t.c_str());
  }
  gateway::Store::Options so;
  so.path = cfg.storage_path;
  so.sync = cfg.storage_sync;
  auto opened = gateway::Store::Open(so);
  if (!opened.ok()) {
    LOG_ERROR("main", "storage: %s", opened.status().message().c_str());
    return kExitUnavailable;
  }
  std::unique_ptr<gateway::Store> store = std::move(opened.value());

  // The core: one thread owns the gateway's state (outboxes, receipt and MO maps, the SMPP
  // session, the uplink client); the HTTP listeners run on their own threads and post here.
  boost::asio::io_context core;
  auto core_work = boost::asio::make_work_guard(core);
  std::thread core_thread([&core] {
    pthread_setname_np(pthread_self(), "gw-core");
    core.run();
  });
  // Every return from here on (a role's configuration refused, a port taken) joins the core
  // thread; a std::thread still joinable at its destruction would abort the process.
  struct CoreJoiner {
    boost::asio::io_context& core;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>& work;
    std::thread& thread;
    ~CoreJoiner() {
      work.reset();
      core.stop();
      if (thread.joinable()) thread.join();
    }
  } core_joiner{core, core_work, core_thread};

  metrics::Registry registry;
  gateway::Uplink::Options uo;
  uo.api_root = cfg.server_api_root;
  uo.client = copts;
  if (!cfg.server_oauth2_token_url.empty()) {
    uo.tokens = api::auth::OutboundTokenOptions{cfg.server_oauth2_token_url,
                                                cfg.server_oauth2_client_id,
                                                cfg.server_oauth2_client_secret,
                                                cfg.server_oauth2_scope};
  }
  uo.outbox.name = "uplink";
  uo.outbox.prefix = std::string(gateway::keys::kUplinkOutbox);
  uo.outbox.max_in_flight = 64;
  uo.outbox.retry_initial = std::chrono::milliseconds(cfg.server_retry_initial_ms);
  uo.outbox.retry_max = std::chrono::milliseconds(cfg.server_retry_max_ms);
  uo.outbox.max_attempts = UINT32_MAX;  // msgin5gd's answer decides, not a count
  auto uplink = std::make_unique<gateway::Uplink>(core, *store, std::move(uo));
  gateway::DownlinkIntake intake(core, *store, *uplink, gateway::DownlinkIntake::Options{});

  std::unique_ptr<gateway::IdentityMap> ids;
  std::unique_ptr<gateway::smpp::EsmeSession> esme;
  std::unique_ptr<gateway::l3g::SmsRole> sms;
  std::atomic<bool> smsc_bound{false};
  gateway::GatewayMetrics* gw_metrics_ptr = nullptr;  // set once the metrics exist, before Start
  if (cfg.l3g_enabled) {
    ids = std::make_unique<gateway::IdentityMap>(*store);
    std::vector<gateway::IdentityMap::Entry> configured;
    for (const auto& u : cfg.ues) configured.push_back({u.id, u.msisdn, true});
    if (Status st = ids->Load(configured); !st.ok()) {
      LOG_ERROR("main", "identity map: %s", st.message().c_str());
      return kExitConfig;
    }
    gateway::smpp::EsmeOptions eo;
    eo.smsc = SmscEndpoints(cfg.l3g_smsc);
    eo.system_id = cfg.l3g_system_id;
    eo.password = cfg.l3g_password;
    eo.system_type = cfg.l3g_system_type;
    eo.window = static_cast<std::size_t>(cfg.l3g_window);
    eo.max_submits_per_second = static_cast<double>(cfg.l3g_max_submits_per_s);
    eo.submit_burst = std::max<double>(1, static_cast<double>(cfg.l3g_max_submits_per_s) / 10);
    eo.enquire_link_interval = std::chrono::seconds(cfg.l3g_enquire_link_s);
    eo.response_timeout = std::chrono::milliseconds(cfg.l3g_response_timeout_ms);
    esme = std::make_unique<gateway::smpp::EsmeSession>(core, std::move(eo));
    gateway::l3g::SmsOptions o;
    o.source_addr = cfg.l3g_source_addr;
    o.source_ton = static_cast<std::uint8_t>(cfg.l3g_source_ton);
    o.source_npi = static_cast<std::uint8_t>(cfg.l3g_source_npi);
    o.dest_ton = static_cast<std::uint8_t>(cfg.l3g_dest_ton);
    o.dest_npi = static_cast<std::uint8_t>(cfg.l3g_dest_npi);
    o.max_parts = static_cast<std::size_t>(cfg.l3g_max_parts);
    o.binary_app_ids = {cfg.l3g_binary_app_ids.begin(), cfg.l3g_binary_app_ids.end()};
    o.request_receipts = cfg.l3g_request_receipts;
    o.receipt_timeout = std::chrono::seconds(cfg.l3g_receipt_timeout_s);
    o.transaction_ttl = std::chrono::seconds(cfg.l3g_transaction_ttl_s);
    o.mo_reassembly_timeout = std::chrono::seconds(cfg.l3g_mo_reassembly_timeout_s);
    o.mo_default_destination = cfg.l3g_mo_default_destination;
    for (const auto& s : cfg.short_codes) o.short_codes[s.code] = s.as;
    o.outbox.name = "sms";
    o.outbox.prefix = std::string(gateway::keys::kSmsOutbox);
    o.outbox.max_in_flight = static_cast<std::size_t>(cfg.l3g_window) * 2;
    o.outbox.retry_initial = std::chrono::milliseconds(cfg.l3g_retry_initial_ms);
    o.outbox.retry_max = std::chrono::milliseconds(cfg.l3g_retry_max_ms);
    o.outbox.max_attempts = static_cast<std::uint32_t>(cfg.l3g_max_attempts);
    o.on_submit_latency = [&gw_metrics_ptr](double s) {
      if (gw_metrics_ptr != nullptr) gw_metrics_ptr->ObserveSubmit(s);
    };
    sms = std::make_unique<gateway::l3g::SmsRole>(core, *store, *uplink, *ids, *esme, std::move(o));
    intake.AddRole(*sms);
  }

  // N3G and BG share one MQTT link to the operator's broker.
  std::unique_ptr<gateway::mqtt::MqttLink> link;
  std::unique_ptr<gateway::n3g::N3gRole> n3g;
  std::unique_ptr<gateway::bg::BgRole> bg;
  std::atomic<bool> mqtt_up{false};
  if (cfg.n3g_enabled || cfg.bg_enabled) {
    gateway::n3g::N3gOptions no;
    no.down_topic = cfg.n3g_down_topic;
    no.up_topic = cfg.n3g_up_topic;
    no.report_topic = cfg.n3g_report_topic;
    no.device_reports = cfg.n3g_device_reports;
    no.report_timeout = std::chrono::seconds(cfg.n3g_report_timeout_s);
    no.transaction_ttl = std::chrono::seconds(cfg.n3g_transaction_ttl_s);
    no.mo_default_destination = cfg.n3g_mo_default_destination;
    no.outbox.name = "mqtt";
    no.outbox.prefix = std::string(gateway::keys::kMqttOutbox);
    no.outbox.max_in_flight = static_cast<std::size_t>(cfg.mqtt_max_in_flight);
    no.outbox.retry_initial = std::chrono::milliseconds(cfg.server_retry_initial_ms);
    no.outbox.retry_max = std::chrono::milliseconds(cfg.server_retry_max_ms);
    no.outbox.max_attempts = static_cast<std::uint32_t>(cfg.n3g_max_attempts);
    gateway::mqtt::LinkOptions lo;
    lo.host = cfg.mqtt_host;
    lo.port = static_cast<std::uint16_t>(cfg.mqtt_port);
    lo.client_id = cfg.mqtt_client_id;
    lo.username = cfg.mqtt_username;
    lo.password = cfg.mqtt_password;
    lo.keepalive = std::chrono::seconds(cfg.mqtt_keepalive_s);
    lo.tls.enabled = cfg.mqtt_tls;
    lo.tls.ca_file = cfg.mqtt_tls_ca_file;
    lo.tls.cert_file = cfg.mqtt_tls_cert_file;
    lo.tls.key_file = cfg.mqtt_tls_key_file;
    lo.publish_timeout = std::chrono::milliseconds(cfg.mqtt_publish_timeout_ms);
    lo.max_in_flight = static_cast<std::size_t>(cfg.mqtt_max_in_flight);
    if (cfg.n3g_enabled) {
      auto subs = gateway::n3g::N3gRole::Subscriptions(no);
      if (!subs.ok()) {
        std::fprintf(stderr, "msgin5g-gatewayd: configuration error: %s\n",
                     subs.status().message().c_str());
        return kExitConfig;
      }
      lo.subscriptions = std::move(*subs);
    }
    link = std::make_unique<gateway::mqtt::MqttLink>(core.get_executor(), std::move(lo));
    if (cfg.n3g_enabled) {
      auto created = gateway::n3g::N3gRole::Create(core, *store, *uplink, *link, std::move(no));
      if (!created.ok()) {
        std::fprintf(stderr, "msgin5g-gatewayd: configuration error: %s\n",
                     created.status().message().c_str());
        return kExitConfig;
      }
      n3g = std::move(created.value());
      intake.AddRole(*n3g);
    }
    if (cfg.bg_enabled) {
      gateway::bg::BgOptions bo;
      bo.topic = cfg.bg_topic;
      bo.retain = cfg.bg_retain;
      bo.outbox.name = "bc";
      bo.outbox.prefix = std::string(gateway::keys::kBroadcastOutbox);
      bo.outbox.max_in_flight = static_cast<std::size_t>(cfg.mqtt_max_in_flight);
      bo.outbox.retry_initial = std::chrono::milliseconds(cfg.server_retry_initial_ms);
      bo.outbox.retry_max = std::chrono::milliseconds(cfg.server_retry_max_ms);
      bo.outbox.max_attempts = static_cast<std::uint32_t>(cfg.n3g_max_attempts);
      auto created = gateway::bg::BgRole::Create(core, *store, *link, std::move(bo));
      if (!created.ok()) {
        std::fprintf(stderr, "msgin5g-gatewayd: configuration error: %s\n",
                     created.status().message().c_str());
        return kExitConfig;
      }
      bg = std::move(created.value());
      intake.AddRole(*bg);
    }
  }

  gateway::GatewayMetrics gw_metrics(
      registry, core,
      gateway::GatewayMetrics::Sources{store.get(), uplink.get(), &intake, sms.get(), esme.get(),
                                       n3g.get(), bg.get(), link.get()});
  gw_metrics_ptr = &gw_metrics;
  Status started;
  OnCore(core, [&] {
    uplink->Start();
    intake.Start();
    if (sms) {
      esme->OnState([&, s = sms.get()](bool bound, std::string smsc) {
        smsc_bound.store(bound);
        gw_metrics.SetSmsc(bound, smsc);
        LOG_INFO("l3g", "SMSC %s: %s", smsc.c_str(), bound ? "bound" : "not bound");
        if (bound) s->KickOutbox();
      });
      sms->Start();
      started = esme->Start();
    }
    if (link) {
      link->OnMessage([&](std::string topic, std::string payload, gateway::mqtt::MqttLink::Ack ack) {
        if (n3g && n3g->OnMessage(topic, payload, ack)) return;
        LOG_WARN_LIMITED("mqtt", "message on %s matches no role's topic; dropped", topic.c_str());
        ack();
      });
      link->OnConnected([&](bool up) {
        mqtt_up.store(up);
        LOG_INFO("mqtt", "broker %s:%lld: %s", cfg.mqtt_host.c_str(),
                 static_cast<long long>(cfg.mqtt_port), up ? "connected" : "not connected");
        if (!up) return;
        if (n3g) n3g->KickOutbox();
        if (bg) bg->KickOutbox();
      });
      if (n3g) n3g->Start();
      if (bg) bg->Start();
      if (started.ok()) started = link->Start();
    }
    gw_metrics.Start();
  });
  if (!started.ok()) {
    std::fprintf(stderr, "msgin5g-gatewayd: configuration error: %s\n", started.message().c_str());
    OnCore(core, [&] {
      if (esme) esme->Stop();
      if (link) link->Stop();
    });
    core_work.reset();
    core.stop();
    core_thread.join();
    return kExitConfig;
  }

  api::http::Router api_router;
  gateway::AddMsggRoutes(api_router, intake, sms.get(), n3g.get(), bg.get());
  api::http::HttpMetrics api_metrics(registry, "gateway_api", api_router.Operations());
  api::http::ServerOptions api_opts;
  api_opts.name = "api";
  api_opts.listen = cfg.api_listen;
  api_opts.max_body_bytes = static_cast<std::size_t>(cfg.api_max_body_bytes);
  api_opts.tls = tls;

  std::atomic<bool> ready{false};
  api::http::Router ops_router;
  api::AddOpsRoutes(ops_router, registry, [&] {
    // Ready for traffic: listening, storage writable, (with L3G) a bind to an SMSC, and (with
    // N3G or BG) the MQTT broker connected.
    return ready.load() && store->healthy() && (!cfg.l3g_enabled || smsc_bound.load()) &&
           (!link || mqtt_up.load());
  });
  api::http::HttpMetrics ops_metrics(registry, "gateway_metrics", ops_router.Operations());
  api::http::ServerOptions ops_opts;
  ops_opts.name = "metrics";
  ops_opts.listen = cfg.metrics_listen;
  ops_opts.max_body_bytes = 4096;

  api::http::Router admin_router;
  gateway::AdminSources src;
  src.ids = ids.get();
  src.smsc = [&]() -> boost::json::object {
    if (!esme) return {{"enabled", false}};
    return {{"enabled", true},
            {"bound", esme->bound()},
            {"smsc", smsc_bound.load() ? gw_metrics.current_smsc() : ""},
            {"in_flight", esme->in_flight()},
            {"queued", esme->queued()},
            {"window", cfg.l3g_window}};
  };
  src.queues = [&]() -> boost::json::object {
    return {{"sms", sms ? sms->outbox().size() : 0},
            {"uplink", uplink->outbox().size()},
            {"receipt_groups", sms ? sms->receipt_groups_open() : 0},
            {"mo_sets", sms ? sms->mo_sets_open() : 0},
            {"mqtt", n3g ? n3g->outbox().size() : 0},
            {"bc", bg ? bg->outbox().size() : 0},
            {"segment_sets", intake.open_segment_sets()}};
  };
  gateway::AddAdminRoutes(admin_router, core, src);
  api::http::HttpMetrics admin_metrics(registry, "gateway_admin", admin_router.Operations());
  api::http::ServerOptions admin_opts;
  admin_opts.name = "admin";
  admin_opts.listen = cfg.admin_listen;
  admin_opts.max_body_bytes = 65536;

  IoPool pool(static_cast<std::size_t>(cfg.api_threads));
  api::http::Server api_server(pool, api_opts, api_router, &api_metrics);
  api::http::Server ops(pool, ops_opts, ops_router, &ops_metrics);
  api::http::Server admin(pool, admin_opts, admin_router, &admin_metrics);
  for (auto* s : {&api_server, &ops, &admin}) {
    if (Status st = s->Listen(); !st.ok()) {
      LOG_ERROR("main", "%s", st.message().c_str());
      OnCore(core, [&] {
        if (esme) esme->Stop();
      });
      core_work.reset();
      core.stop();
      core_thread.join();
      return kExitUnavailable;
    }
  }
  api_server.Start();
  ops.Start();
  admin.Start();
  pool.Start();
  ready.store(true);

  std::string roles;
  for (auto [on, name] : {std::pair{cfg.l3g_enabled, "l3g"}, std::pair{cfg.n3g_enabled, "n3g"},
                          std::pair{cfg.bg_enabled, "bg"}}) {
    if (on) roles += (roles.empty() ? "" : ",") + std::string(name);
  }
  if (roles.empty()) roles = "none";
  auto addr = [](const boost::asio::ip::tcp::endpoint& ep) {
    return (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
           ":" + std::to_string(ep.port());
  };
  LOG_INFO("main", "msgin5g-gatewayd %s listening: api=%s (%s) admin=%s metrics=%s roles=%s "
           "server=%s data=%s",
           kVersion, addr(api_server.local_endpoint()).c_str(), tls ? "h2 over TLS" : "h2c",
           addr(admin.local_endpoint()).c_str(), addr(ops.local_endpoint()).c_str(),
           roles.c_str(), cfg.server_api_root.c_str(), cfg.storage_path.c_str());
  if (roles == "none") {
    LOG_WARN("main", "no role is enabled (l3g, n3g and bg .enabled are false): nothing to serve");
  }
  if (!ready_file.empty()) {
    std::string tmp = ready_file + ".tmp";
    {
      std::ofstream f(tmp);
      f << "{\"api\":\"" << addr(api_server.local_endpoint()) << "\",\"metrics\":\""
        << addr(ops.local_endpoint()) << "\",\"admin\":\"" << addr(admin.local_endpoint())
        << "\",\"pid\":" << getpid() << "}\n";
    }
    std::rename(tmp.c_str(), ready_file.c_str());
  }

  systemd::NotifyReady("serving: api " + addr(api_server.local_endpoint()));
  systemd::LoopHeartbeat heartbeat({core.get_executor()});
  for (;;) {
    const int sig = systemd::WaitForSignal(signals, [&] { return heartbeat(); });
    if (sig == SIGHUP) {
      LOG_INFO("main", "SIGHUP: nothing to reload (restart to apply configuration changes)");
      continue;
    }
    LOG_INFO("main", "%s: stopping", strsignal(sig));
    systemd::NotifyStopping("stopping");
    break;
  }
  ready.store(false);
  api_server.Shutdown(std::chrono::milliseconds(cfg.shutdown_drain_timeout_ms));
  admin.Shutdown(std::chrono::milliseconds(1000));
  ops.Shutdown(std::chrono::milliseconds(1000));
  pool.Abort();
  OnCore(core, [&] {
    gw_metrics.Stop();
    if (sms) sms->Stop();
    if (esme) esme->Stop();  // unbinds
    if (n3g) n3g->Stop();
    if (bg) bg->Stop();
    if (link) link->Stop();  // disconnects; pending publishes stay in the outboxes
    intake.Stop();
    uplink->Stop();
  });
  core_work.reset();
  core.stop();
  core_thread.join();
  // The session and roles hold handlers on the (now stopped) core: destroyed in reverse.
  sms.reset();
  esme.reset();
  n3g.reset();
  bg.reset();
  link.reset();
  uplink.reset();
  store.reset();
  LOG_INFO("main", "stopped");
  return 0;
}
