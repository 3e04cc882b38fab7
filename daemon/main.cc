// msgin5gd: the MSGin5G Server daemon. Parses the arguments, loads the configuration, then hands
// it to daemon::Server (daemon/server.h: builds the modules in order, stops them in reverse) and
// waits for signals: SIGHUP reloads (daemon/reload.h), SIGTERM/SIGINT (or a drain) stop it.
// Exit codes: 0 clean stop, 64 bad usage, 65 another data format or damage, 69 cannot listen or
// open the data, 75 the data directory is in use by another msgin5gd, 78 bad config.
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "api/auth/secret_hash.h"
#include "api/http/problem.h"
#include "common/logging.h"
#include "common/systemd/service_notify.h"
#include "daemon/config.h"
#include "daemon/reload.h"
#include "daemon/restore_command.h"
#include "daemon/server.h"

namespace {

using namespace msgin5g;

constexpr int kExitUsage = 64;
using daemon::kExitConfig;  // the other exit codes: daemon/server.h
constexpr const char* kVersion = MSGIN5G_VERSION;  // CMake project(VERSION)

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
  daemon::Server server(std::move(loaded.value()));
  if (int rc = server.Prepare(); rc != 0) return rc;
  if (args.check_only) {
    std::printf("configuration OK\n");
    return 0;
  }
  if (!args.restore.empty()) return daemon::RunRestore(server.config(), args.restore);
  const daemon::Config& cfg = server.config();

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

  if (int rc = server.Start(args.ready_file); rc != 0) return rc;

  systemd::LoopHeartbeat heartbeat(server.Loops());
  for (;;) {
    const int sig = systemd::WaitForSignal(signals, [&] { return heartbeat() && server.healthy(); });
    if (sig == SIGHUP) {
      daemon::Reload(args.config_file, args.overrides, server.reload_targets());
      continue;
    }
    systemd::NotifyStopping("draining");
    if (server.drain().requested()) {
      // POST /admin/v1/drain: new messages are refused already; deliver what can be delivered.
      LOG_INFO("main", "drain: refusing new messages, delivering until nothing deliverable is left");
      api::DrainState left = server.drain().WaitDelivered();
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

  server.Stop();
  return 0;
}
