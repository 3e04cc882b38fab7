// Helpers shared by integration and end-to-end tests: running real tools (curl, nghttp, openssl,
// promtool) and the real daemon, temp dirs, test certificates. No mocks here.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/metric_value.h"

namespace msgin5g::testing_support {

struct RunResult {
  int exit_code = -1;  // -1: could not start; 128+N: killed by signal N
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv[0] (searched in PATH) with `input` on stdin, waits up to `timeout`.
RunResult Run(const std::vector<std::string>& argv, const std::string& input = "",
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A fresh directory under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// A self-signed CA plus a server certificate for 127.0.0.1/localhost, made with the openssl CLI.
struct TestCerts {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
};
TestCerts MakeTestCerts(const std::string& dir);

// A port that was free a moment ago (bind to 0, read, close). For tools that cannot report the
// port they bound.
int FreePort();

// Polls `fn` until it returns true or `timeout` passes.
template <class F>
bool WaitFor(F fn, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fn()) return true;
    struct timespec ts{0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return fn();
}

// A background process (the daemon, nghttpd) with its output kept in files.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log_path);
  ~Process();  // SIGKILL if still running
  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig`, waits up to `timeout` for exit; returns the exit code (128+N for a signal) or
  // nullopt if it did not exit in time.
  std::optional<int> Stop(int sig, std::chrono::milliseconds timeout);
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// curl's output for one request, split as "-w '\n%{http_code} %{http_version}'" appends.
struct CurlResult {
  int exit_code = -1;
  int status = 0;
  std::string http_version;
  std::string body;
  std::string headers;  // raw, lower-cased
  std::string err;
};
CurlResult Curl(std::vector<std::string> args);

// One HTTP/1.1 request with Connection: close over `openssl s_client -connect address` with
// `tls_options` (e.g. -psk KEY -psk_identity ID, for the TLS-PSK no curl here speaks). The
// answer as a CurlResult (status 0 when no HTTP answer came; headers lower-cased); `report`
// keeps what s_client printed.
CurlResult SClient(const std::string& address, const std::vector<std::string>& tls_options,
                   const std::string& method, const std::string& path, const std::string& body,
                   std::string* report = nullptr);

// The integer in environment variable `name`, or `fallback` when unset or not a number.
long EnvInt(const char* name, long fallback);


}  // namespace msgin5g::testing_support
