#include "tests/support/gateway_harness.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/json_util.h"

namespace msgin5g::testing_support {

namespace {

// A TOML basic string.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Array(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Quote(v[i]);
  return out + "]";
}

}  // namespace

double MetricIn(const std::string& text, const std::string& name,
                const std::map<std::string, std::string>& labels) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line.rfind(name, 0) != 0) continue;
    std::size_t at = name.size();
    std::map<std::string, std::string> got;
    if (at < line.size() && line[at] == '{') {
      std::size_t end = line.find('}', at);
      if (end == std::string::npos) continue;
      std::string inner = line.substr(at + 1, end - at - 1);
      std::size_t i = 0;
      while (i < inner.size()) {
        std::size_t eq = inner.find('=', i);
        if (eq == std::string::npos || eq + 1 >= inner.size() || inner[eq + 1] != '"') break;
        std::size_t close = inner.find('"', eq + 2);
        if (close == std::string::npos) break;
        got[inner.substr(i, eq - i)] = inner.substr(eq + 2, close - eq - 2);
        i = close + 1;
        if (i < inner.size() && inner[i] == ',') ++i;
      }
      at = end + 1;
    }
    if (at >= line.size() || line[at] != ' ' || got != labels) continue;
    return std::stod(line.substr(at + 1));
  }
  return -1;
}

std::string GatewayPath() { return std::string(MSGIN5G_BINARY_DIR) + "/gateway/msgin5g-gatewayd"; }

std::string GatewayConfig::ToToml() const {
  std::string t;
  t += "[server]\n";
  t += "api_root = " + Quote(server_api_root) + "\n";
  t += "retry_initial_ms = " + std::to_string(server_retry_initial_ms) + "\n";
  t += "retry_max_ms = " + std::to_string(server_retry_max_ms) + "\n";
  t += "\n[l3g]\n";
  t += std::string("enabled = ") + (l3g ? "true" : "false") + "\n";
  t += "smsc = " + Array(smsc) + "\n";
  t += "system_id = " + Quote(system_id) + "\n";
  t += "password = " + Quote(password) + "\n";
  t += "retry_initial_ms = " + std::to_string(l3g_retry_initial_ms) + "\n";
  t += "retry_max_ms = " + std::to_string(l3g_retry_max_ms) + "\n";
  t += "response_timeout_ms = " + std::to_string(response_timeout_ms) + "\n";
  t += "enquire_link_s = " + std::to_string(enquire_link_s) + "\n";
  t += "binary_app_ids = " + Array(binary_app_ids) + "\n";
  if (!mo_default_destination.empty()) {
    t += "mo_default_destination = " + Quote(mo_default_destination) + "\n";
  }
  for (const auto& [ue, msisdn] : ues) {
    t += "\n[ues." + Quote(ue) + "]\nmsisdn = " + Quote(msisdn) + "\n";
  }
  for (const auto& [code, as] : short_codes) {
    t += "\n[short_codes." + Quote(code) + "]\nas = " + Quote(as) + "\n";
  }
  if (mqtt_port != 0) {
    t += "\n[mqtt]\n";
    t += "host = " + Quote(mqtt_host) + "\n";
    t += "port = " + std::to_string(mqtt_port) + "\n";
    if (!mqtt_client_id.empty()) t += "client_id = " + Quote(mqtt_client_id) + "\n";
    if (mqtt_publish_timeout_ms != 0) {
      t += "publish_timeout_ms = " + std::to_string(mqtt_publish_timeout_ms) + "\n";
    }
    t += "\n[n3g]\n";
    t += std::string("enabled = ") + (n3g ? "true" : "false") + "\n";
    t += std::string("device_reports = ") + (n3g_device_reports ? "true" : "false") + "\n";
    if (n3g_report_timeout_s != 0) {
      t += "report_timeout_s = " + std::to_string(n3g_report_timeout_s) + "\n";
    }
    if (n3g_transaction_ttl_s != 0) {
      t += "transaction_ttl_s = " + std::to_string(n3g_transaction_ttl_s) + "\n";
    }
    if (n3g_max_attempts != 0) {
      t += "max_attempts = " + std::to_string(n3g_max_attempts) + "\n";
    }
    if (!n3g_mo_default_destination.empty()) {
      t += "mo_default_destination = " + Quote(n3g_mo_default_destination) + "\n";
    }
    t += "\n[bg]\n";
    t += std::string("enabled = ") + (bg ? "true" : "false") + "\n";
    if (!bg_topic.empty()) t += "topic = " + Quote(bg_topic) + "\n";
  }
  if (!extra_toml.empty()) t += "\n" + extra_toml + "\n";
  return t;
}

Gateway::Gateway(std::string data_dir, std::string work_dir, GatewayConfig cfg,
                 std::vector<std::string> extra)
    : work_dir_(std::move(work_dir)) {
  static std::atomic<int> counter{0};
  std::string tag = std::to_string(counter++);
  std::string ready = work_dir_ + "/gateway-ready-" + tag + ".json";
  log_path_ = work_dir_ + "/gateway-" + tag + ".log";
  config_path_ = work_dir_ + "/gateway-" + tag + ".toml";
  WriteFile(config_path_, cfg.ToToml());
  std::filesystem::remove(ready);
  std::vector<std::string> argv = {GatewayPath(),
                                   "--config", config_path_,
                                   "--set", "api.listen=" + cfg.api_listen,
                                   "--set", "metrics.listen=127.0.0.1:0",
                                   "--set", "admin.listen=127.0.0.1:0",
                                   "--set", "storage.path=" + data_dir,
                                   "--ready-file", ready};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc_ = std::make_unique<Process>(argv, log_path_);
  bool up = WaitFor([&] { return std::filesystem::exists(ready) || !proc_->running(); },
                    std::chrono::seconds(30));
  if (!up || !proc_->running()) {
    ADD_FAILURE() << "msgin5g-gatewayd did not start (" << GatewayPath() << "):\n" << log();
    return;
  }
  auto j = Json(ReadFile(ready));
  api_ = Str(j, "api");
  metrics_ = Str(j, "metrics");
  admin_ = Str(j, "admin");
  if (api_.empty() || metrics_.empty() || admin_.empty()) {
    ADD_FAILURE() << "bad ready file: " << ReadFile(ready);
    return;
  }
  ok_ = true;
}

Gateway::~Gateway() = default;

std::string Gateway::log() const { return ReadFile(log_path_); }

std::optional<int> Gateway::Stop(std::chrono::milliseconds timeout) {
  return proc_->Stop(SIGTERM, timeout);
}

void Gateway::Kill() { proc_->Stop(SIGKILL, std::chrono::seconds(10)); }

CurlResult Gateway::AdminGet(const std::string& path) const {
  return Curl({"http://" + admin_ + path});
}

CurlResult Gateway::MetricsGet(const std::string& path) const {
  return Curl({"http://" + metrics_ + path});
}

double Gateway::Metric(const std::string& name,
                       const std::map<std::string, std::string>& labels) const {
  return MetricIn(MetricsGet("/metrics").body, name, labels);
}

std::string Gateway::GatewayMetrics() const {
  std::string out;
  std::istringstream in(MetricsGet("/metrics").body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("msgin5g_gateway_", 0) == 0 && line.find("_bucket{") == std::string::npos) {
      out += line + "\n";
    }
  }
  return out;
}

bool Gateway::WaitBound(std::chrono::milliseconds timeout) const {
  return WaitFor(
      [&] {
        auto j = Json(AdminGet("/admin/v1/smsc").body);
        const auto* b = j.if_contains("bound");
        return b != nullptr && b->is_bool() && b->as_bool();
      },
      timeout);
}

bool Gateway::WaitReady(std::chrono::milliseconds timeout) const {
  return WaitFor([&] { return MetricsGet("/readyz").status == 200; }, timeout);
}

RunResult RunGateway(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {GatewayPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, "", timeout);
}

}  // namespace msgin5g::testing_support
