// msgin5gd's composition root: builds the modules in dependency order from the configuration and
// stops them in reverse. main() parses arguments, handles signals and calls, in turn:
//   Prepare()  checks what can be checked without touching the data (security policies, TLS
//              files, admin tokens, listen addresses): --check-config stops after it;
//   Start()    data directory lock -> store (recovery) -> delivery channel -> broker -> CoAP
//              endpoint -> token issuer -> routers -> listeners -> ready (ready file, sd_notify);
//   Stop()     readiness off -> SBI drained up to shutdown.drain_timeout_ms -> admin and metrics
//              listeners -> I/O threads -> delivery -> CoAP -> outbound channel -> broker (waits
//              for queued writes) -> store (flush, close). Also run by the destructor, so a Start()
//              that fails half-way unwinds what it built.
// Both return a process exit code (0: go on).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "api/auth/admin_guard.h"
#include "api/auth/authorizer.h"
#include "api/auth/policy_store.h"
#include "api/auth/token_endpoint.h"
#include "api/capif/ccf_client.h"
#include "api/coap/coap_server.h"
#include "api/delivery/http_delivery_channel.h"
#include "api/delivery/split_channel.h"
#include "api/delivery/target_uri.h"
#include "api/http/http_metrics.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "broker/durable_broker.h"
#include "common/io_pool.h"
#include "daemon/config.h"
#include "daemon/data_dir.h"
#include "daemon/drain.h"
#include "daemon/reload.h"
#include "daemon/security_setup.h"
#include "metrics/registry.h"
#include "storage/store.h"

namespace msgin5g::daemon {

inline constexpr int kExitDataError = 65;  // EX_DATAERR: storage.path holds another format or damage
inline constexpr int kExitUnavailable = 69;
inline constexpr int kExitDataInUse = 75;  // EX_TEMPFAIL: another msgin5gd holds storage.path
inline constexpr int kExitConfig = 78;

class Server {
 public:
  explicit Server(Config cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int Prepare();  // errors on stderr (logging is not set up yet)
  // `ready_file`: where to write the bound addresses as JSON once listening (empty: nowhere).
  int Start(const std::string& ready_file);
  void Stop();

  // After Start(): what SIGHUP reloads, the drain a POST /admin/v1/drain asked for, and the
  // health the watchdog reports.
  ReloadTargets& reload_targets() { return *reload_; }
  Drain& drain() { return *drain_; }
  bool healthy() const { return broker_ && broker_->healthy(); }
  std::vector<boost::asio::any_io_executor> Loops();
  const Config& config() const { return cfg_; }

 private:
  void OwnListener(const std::string& listen, int bound_port);
  int StartBroker();
  int StartCoap();
  int StartSecurity();
  int StartCapif();
  void BuildRouters();
  int Listen();
  void Announce(const std::string& ready_file);

  Config cfg_;
  std::size_t threads_ = 1;
  // Prepare().
  metrics::Registry registry_;
  std::unique_ptr<api::auth::Authorizer> authorizer_;
  std::unique_ptr<api::capif::CcfClient> ccf_;  // after authorizer_: it feeds it keys
  // ccf_ as the admin routes see it: they are served before it exists (it starts after Listen).
  std::atomic<api::capif::CcfClient*> ccf_live_{nullptr};
  std::unique_ptr<api::auth::PolicyStore> policy_store_;
  std::optional<SecuritySetup> security_;
  std::shared_ptr<boost::asio::ssl::context> tls_, ops_tls_;
  std::vector<api::auth::AdminToken> admin_tokens_;
  // Start(), in this order; Stop() takes them down in reverse.
  std::optional<PreparedDataDir> data_dir_;
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<api::TargetUriPolicy> targets_;
  std::unique_ptr<api::HttpDeliveryChannel> channel_;
  std::unique_ptr<api::SplitDeliveryChannel> split_;
  // Before the broker so that it is destroyed after it: the broker's last storage completions
  // may still post answers to it (dropped once it is stopped).
  std::unique_ptr<api::coap::CoapServer> coap_;
  std::unique_ptr<broker::DurableBroker> broker_;
  std::vector<api::auth::TrustedIssuer> own_issuer_;
  std::optional<api::auth::SigningKey> signing_key_;
  std::atomic<bool> ready_{false};
  std::unique_ptr<api::http::Router> sbi_router_, ops_router_, admin_router_;
  std::unique_ptr<api::http::HttpMetrics> sbi_metrics_, ops_metrics_, admin_metrics_;
  std::unique_ptr<api::auth::AdminGuard> admin_guard_;
  std::unique_ptr<Drain> drain_;
  // After every router and metrics object that sessions point to: the io_contexts (and with them
  // any session still held by a pending operation) are destroyed first.
  std::unique_ptr<IoPool> pool_;
  std::unique_ptr<api::http::Server> sbi_, ops_, admin_, admin_unix_;
  std::unique_ptr<ReloadTargets> reload_;
  bool serving_ = false;  // listeners started
  bool stopped_ = false;
};

}  // namespace msgin5g::daemon
