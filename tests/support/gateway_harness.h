// Starts the real msgin5g-gatewayd binary with a configuration file the test writes, every
// listener on port 0 and --ready-file, a data directory the test owns, and output kept in a log
// file; can stop it with any signal and start it again on the same data (kill -9 and restart).
// Also runs it to completion for --check-config and the like (RunGateway).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace msgin5g::testing_support {

std::string GatewayPath();

// What the configuration file of a gateway says. The listeners are forced with --set (metrics
// and admin to 127.0.0.1:0, api to `api_listen`) and storage.path to the data dir; `extra_toml`
// is appended verbatim.
struct GatewayConfig {
  // A fixed port here lets msgin5gd's gateways.NAME.api_root stay right across restarts.
  std::string api_listen = "127.0.0.1:0";
  std::string server_api_root;     // msgin5gd's SBI, "http://127.0.0.1:P"
  bool l3g = true;
  std::vector<std::string> smsc;   // "host:port"
  std::string system_id = "msgin5g";
  std::string password = "secret";
  // Fast defaults for tests (the real defaults are seconds to minutes).
  int server_retry_initial_ms = 100;
  int server_retry_max_ms = 1000;
  int l3g_retry_initial_ms = 100;
  int l3g_retry_max_ms = 1000;
  int response_timeout_ms = 2000;
  int enquire_link_s = 30;
  std::vector<std::string> binary_app_ids;
  std::string mo_default_destination;
  // [ues.ID] msisdn = ...
  std::vector<std::pair<std::string, std::string>> ues;
  // [short_codes."CODE"] as = ...
  std::vector<std::pair<std::string, std::string>> short_codes;
  std::string extra_toml;  // more lines, appended as is

  // The N3G and BG roles: [mqtt], [n3g] and [bg] are written only when mqtt_port is not 0
  // (so a configuration that leaves these alone is what it was before they existed). A value of
  // 0 or "" below leaves that key at the gateway's default.
  int mqtt_port = 0;
  std::string mqtt_host = "127.0.0.1";
  std::string mqtt_client_id;           // unique per gateway on one broker
  int mqtt_publish_timeout_ms = 0;
  bool n3g = false;
  bool n3g_device_reports = false;
  int n3g_report_timeout_s = 0;
  int n3g_transaction_ttl_s = 0;
  int n3g_max_attempts = 0;
  std::string n3g_mo_default_destination;
  bool bg = false;
  std::string bg_topic;                 // e.g. "north/bc/{areaId}"

  // The TOML text (without the listeners and storage.path, which go on the command line).
  std::string ToToml() const;
};

class Gateway {
 public:
  // Writes `cfg` to work_dir/gateway-N.toml and starts the binary on `data_dir`. `extra`: more
  // command-line arguments (e.g. --set log.level=debug). Waits up to 30 s for the ready file; on
  // failure ok() is false and a test failure is added with the log.
  Gateway(std::string data_dir, std::string work_dir, GatewayConfig cfg,
          std::vector<std::string> extra = {});
  ~Gateway();  // SIGKILL if still running
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  bool ok() const { return ok_; }
  const std::string& api() const { return api_; }          // "127.0.0.1:P"
  const std::string& admin() const { return admin_; }
  const std::string& metrics() const { return metrics_; }
  std::string api_url() const { return "http://" + api_; }  // for gateways.X.api_root
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const;
  Process& proc() { return *proc_; }

  // SIGTERM and wait for a clean exit; returns the exit code (nullopt: did not exit in time).
  std::optional<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // SIGKILL (no chance to flush or unbind).
  void Kill();

  // GET on the admin or metrics listener (curl, HTTP/1.1).
  CurlResult AdminGet(const std::string& path) const;
  CurlResult MetricsGet(const std::string& path) const;
  // The value of the series `name` with exactly these labels (in any order), -1 if absent.
  double Metric(const std::string& name,
                const std::map<std::string, std::string>& labels = {}) const;
  // The msgin5g_gateway_* lines of /metrics (no comments), for failure messages.
  std::string GatewayMetrics() const;
  // Waits until GET /admin/v1/smsc says bound:true.
  bool WaitBound(std::chrono::milliseconds timeout) const;
  // Waits until GET /readyz on the metrics listener is 200 (with N3G or BG: the MQTT broker is
  // connected and every subscription acknowledged).
  bool WaitReady(std::chrono::milliseconds timeout) const;

 private:
  std::string work_dir_;
  std::string config_path_;
  std::string log_path_;
  std::unique_ptr<Process> proc_;
  std::string api_, admin_, metrics_;
  bool ok_ = false;
};

// The value of the series `name` with exactly `labels` (any order) in a Prometheus text, -1 if
// absent (label values with escaped quotes are not handled).
double MetricIn(const std::string& text, const std::string& name,
                const std::map<std::string, std::string>& labels = {});

// Runs the gateway binary to completion with `args` (no forced listeners), e.g.
// {"--config", f, "--check-config"}. Exit code, stdout, stderr.
RunResult RunGateway(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace msgin5g::testing_support
