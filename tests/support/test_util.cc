#include "tests/support/test_util.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace msgin5g::testing_support {

namespace {
std::vector<char*> Argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

RunResult Run(const std::vector<std::string>& argv, const std::string& input,
              std::chrono::milliseconds timeout) {
  RunResult r;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  // The child must not inherit the test's sockets (a listener kept open by a child holds its port).
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  pid_t pid = -1;
  auto args = Argv(argv);
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.err = std::string("cannot start ") + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  // Feed stdin and drain both outputs without deadlocking on full pipes.
  std::size_t written = 0;
  if (input.empty()) {
    close(in_pipe[1]);
    in_pipe[1] = -1;
  } else {
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (in_pipe[1] >= 0) fds[n++] = {in_pipe[1], POLLOUT, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      r.err += "\n[timed out]";
      break;
    }
    if (poll(fds, n, static_cast<int>(std::min<long>(left, 100))) < 0) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_pipe[1]) {
        ssize_t w = write(in_pipe[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == input.size()) {
          close(in_pipe[1]);
          in_pipe[1] = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      std::string& dst = fds[i].fd == out_pipe[0] ? r.out : r.err;
      if (got > 0) {
        dst.append(buf, static_cast<std::size_t>(got));
      } else {
        (fds[i].fd == out_pipe[0] ? out_open : err_open) = false;
      }
    }
  }
  if (in_pipe[1] >= 0) close(in_pipe[1]);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = DecodeStatus(status);
  return r;
}

TempDir::TempDir() {
  std::random_device rd;
  std::string base = ::testing::TempDir();
  if (base.empty() || base.back() != '/') base += "/";
  path_ = base + "msgin5g-test-" + std::to_string(getpid()) + "-" + std::to_string(rd());
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TestCerts MakeTestCerts(const std::string& dir) {
  TestCerts c{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  std::string ca_key = dir + "/ca.key", csr = dir + "/server.csr", ext = dir + "/ext.cnf";
  WriteFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  auto check = [](const RunResult& r, const char* what) {
    if (r.exit_code != 0) throw std::runtime_error(std::string(what) + ": " + r.err);
  };
  check(Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", ca_key, "-out", c.ca_cert, "-days", "2", "-subj",
             "/CN=msgin5g test CA"}),
        "openssl CA");
  check(Run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", c.server_key, "-out", csr, "-subj", "/CN=localhost"}),
        "openssl CSR");
  check(Run({"openssl", "x509", "-req", "-in", csr, "-CA", c.ca_cert, "-CAkey", ca_key,
             "-CAcreateserial", "-out", c.server_cert, "-days", "2", "-extfile", ext}),
        "openssl sign");
  return c;
}

namespace {

bool TcpPortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// The kernel's ephemeral range (ports it gives to bind(0) and to outgoing connections).
std::pair<int, int> EphemeralRange() {
  int low = 32768, high = 60999;
  std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
  f >> low >> high;
  return {low, high};
}

}  // namespace

// A port below the ephemeral range: a port the kernel handed out for bind(0) can be handed out
// again to any process binding port 0 or connecting somewhere before the test's daemon binds it
// (a daemon started with this port in its configuration then fails with "Address already in
// use"). Below the range only another FreePort can pick it, at random among thousands.
int FreePort() {
  static std::mutex mu;
  static std::mt19937 rng(static_cast<std::uint32_t>(getpid()) ^
                          static_cast<std::uint32_t>(std::random_device{}()));
  std::lock_guard<std::mutex> lock(mu);
  const auto [low, high] = EphemeralRange();
  (void)high;
  const int first = 10000;
  if (low - first >= 1000) {
    std::uniform_int_distribution<int> pick(first, low - 1);
    for (int attempt = 0; attempt < 100; ++attempt) {
      const int port = pick(rng);
      if (TcpPortFree(port)) return port;
    }
  }
  // Fallback: one the kernel picks (may be in the ephemeral range).
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

Process::Process(std::vector<std::string> argv, const std::string& log_path) {
  int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
  }
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // see Run
  auto args = Argv(argv);
  if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  if (fd >= 0) close(fd);
}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

bool Process::running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = DecodeStatus(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  WaitFor([this] { return !running(); }, timeout);
  return status_;
}

std::optional<int> Process::Stop(int sig, std::chrono::milliseconds timeout) {
  if (running()) kill(pid_, sig);
  return Wait(timeout);
}

CurlResult Curl(std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "-D", "/dev/stderr",
                                   "-w", "\n%{http_code} %{http_version}"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = Run(argv);
  CurlResult c;
  c.exit_code = r.exit_code;
  c.err = r.err;
  c.headers = r.err;
  std::transform(c.headers.begin(), c.headers.end(), c.headers.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  auto nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    c.body = r.out.substr(0, nl);
    std::istringstream tail(r.out.substr(nl + 1));
    tail >> c.status >> c.http_version;
  }
  return c;
}

CurlResult SClient(const std::string& address, const std::vector<std::string>& tls_options,
                   const std::string& method, const std::string& path, const std::string& body,
                   std::string* report) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty()) {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
  }
  req += "\r\n" + body;
  std::vector<std::string> argv = {"openssl", "s_client", "-ign_eof", "-connect", address};
  argv.insert(argv.end(), tls_options.begin(), tls_options.end());
  auto r = Run(argv, req, std::chrono::seconds(20));
  CurlResult c;
  c.exit_code = r.exit_code;
  c.err = r.err;
  if (report != nullptr) *report = r.out + r.err;
  auto at = r.out.find("HTTP/1.1 ");
  if (at == std::string::npos) return c;
  c.http_version = "1.1";
  c.status = std::atoi(r.out.c_str() + at + 9);
  auto end = r.out.find("\r\n\r\n", at);
  if (end == std::string::npos) return c;
  c.headers = r.out.substr(at, end + 2 - at);
  std::transform(c.headers.begin(), c.headers.end(), c.headers.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  std::size_t len = std::string::npos;
  if (auto cl = c.headers.find("\ncontent-length: "); cl != std::string::npos) {
    len = std::strtoul(c.headers.c_str() + cl + 17, nullptr, 10);
  }
  c.body = r.out.substr(end + 4, len);
  return c;
}

long EnvInt(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return *end == '\0' ? n : fallback;
}

}  // namespace msgin5g::testing_support
