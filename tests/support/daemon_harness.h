// Starts the real msgin5gd binary on port 0 with --ready-file, a data directory the test owns, and
// output kept in a log file; can stop it with any signal and start it again on the same data.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace msgin5g::testing_support {

std::string DaemonPath();

class Daemon {
 public:
  // `data_dir`: storage.path (reused across restarts). `log_path`: stdout+stderr.
  Daemon(std::string data_dir, std::string work_dir, std::vector<std::string> extra = {});
  ~Daemon();

  bool ok() const { return ok_; }
  const std::string& sbi() const { return sbi_; }
  const std::string& admin() const { return admin_; }
  const std::string& metrics() const { return metrics_; }
  // A read-write admin bearer token the daemon accepts, and curl arguments that send it.
  const std::string& admin_token() const { return admin_token_; }
  // The admin API's Unix socket (no credentials needed there).
  const std::string& admin_socket() const { return admin_socket_; }
  std::vector<std::string> admin_auth() const { return {"-H", "authorization: Bearer " + admin_token_}; }
  // curl METHOD http://{admin}/admin/v1{path} with the token (and a JSON body when not empty).
  CurlResult Admin(const std::string& method, const std::string& path,
                   const std::string& body = "") const;
  // CoAP (UDP) and CoAP over DTLS ports on 127.0.0.1; 0 when off.
  int coap_port() const { return coap_port_; }
  int coaps_port() const { return coaps_port_; }
  int coaps_cert_port() const { return coaps_cert_port_; }
  std::string log() const;
  Process& proc() { return *proc_; }

 private:
  std::string work_dir_;
  std::string log_path_;
  std::unique_ptr<Process> proc_;
  std::string sbi_, admin_, metrics_;
  std::string admin_socket_;
  std::string admin_token_ = "m5g_harness-read-write-token-not-secret";
  int coap_port_ = 0, coaps_port_ = 0, coaps_cert_port_ = 0;
  bool ok_ = false;
};

}  // namespace msgin5g::testing_support
