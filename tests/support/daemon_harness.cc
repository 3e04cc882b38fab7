#include "tests/support/daemon_harness.h"

#include <filesystem>
#include <random>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/auth/admin_guard.h"

namespace msgin5g::testing_support {

std::string DaemonPath() { return std::string(MSGIN5G_BINARY_DIR) + "/daemon/msgin5gd"; }

Daemon::Daemon(std::string data_dir, std::string work_dir, std::vector<std::string> extra)
    : work_dir_(std::move(work_dir)) {
  static std::atomic<int> counter{0};
  std::string tag = std::to_string(counter++);
  std::string ready = work_dir_ + "/ready-" + tag + ".json";
  log_path_ = work_dir_ + "/daemon-" + tag + ".log";
  std::filesystem::remove(ready);
  // The admin API over TCP needs credentials: one read-write token. Its Unix socket is per daemon.
  const std::string tokens = work_dir_ + "/admin-tokens-" + tag;
  WriteFile(tokens, "harness read-write " + api::auth::AdminTokenHash(admin_token_) + "\n");
  admin_socket_ = work_dir_ + "/admin-" + tag + ".sock";
  std::vector<std::string> argv = {DaemonPath(),
                                   "--set", "api.listen=127.0.0.1:0",
                                   "--set", "metrics.listen=127.0.0.1:0",
                                   "--set", "admin.listen=127.0.0.1:0",
                                   "--set", "admin.tokens_file=" + tokens,
                                   "--set", "admin.socket=" + admin_socket_,
                                   "--set", "coap.listen=127.0.0.1:0",
                                   "--set", "storage.path=" + data_dir,
                                   // Never the default (relative to the test's directory).
                                   "--set", "storage.backup_dir=" + work_dir_ + "/backups",
                                   "--ready-file", ready};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc_ = std::make_unique<Process>(argv, log_path_);
  bool up = WaitFor([&] { return std::filesystem::exists(ready) || !proc_->running(); },
                    std::chrono::seconds(60));
  if (!up || !proc_->running()) {
    ADD_FAILURE() << "msgin5gd did not start:\n" << log();
    return;
  }
  auto j = boost::json::parse(ReadFile(ready)).as_object();
  sbi_ = std::string(j.at("sbi").as_string());
  metrics_ = std::string(j.at("metrics").as_string());
  admin_ = std::string(j.at("admin").as_string());
  if (const auto* p = j.if_contains("coap_port")) coap_port_ = static_cast<int>(p->to_number<std::int64_t>());
  if (const auto* p = j.if_contains("coaps_port")) coaps_port_ = static_cast<int>(p->to_number<std::int64_t>());
  if (const auto* p = j.if_contains("coaps_cert_port")) coaps_cert_port_ = static_cast<int>(p->to_number<std::int64_t>());
  ok_ = true;
}

Daemon::~Daemon() = default;

CurlResult Daemon::Admin(const std::string& method, const std::string& path,
                         const std::string& body) const {
  std::vector<std::string> args = admin_auth();
  args.insert(args.end(), {"-X", method});
  if (!body.empty()) args.insert(args.end(), {"-H", "content-type: application/json", "-d", body});
  args.push_back("http://" + admin_ + "/admin/v1" + path);
  return Curl(args);
}

std::string Daemon::log() const { return ReadFile(log_path_); }

}  // namespace msgin5g::testing_support
