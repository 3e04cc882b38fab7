// A receiving gateway / AS for the end-to-end benchmark: an HTTP/2 server (ours, h2c on
// 127.0.0.1:PORT) answering 204 to every deliver-message and deliver-report, measuring each
// message's accept -> delivered latency from the send time accept_load stamped into the payload
// (LOAD_STAMP=1; CLOCK_MONOTONIC ns, valid on one machine).
//
// Usage: delivery_sink PORT [THREADS]
//   GET  /stats -> "count=N unique=U rate=R p50_us=.. p99_us=.. max_us=.." (rate: messages per
//                  second from the earliest send stamp to the last arrival)
//   POST /reset -> forget everything (after a warm-up)
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "api/http/http_metrics.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "common/io_pool.h"
#include "metrics/registry.h"

namespace {

using namespace msgin5g::api::http;
using Clock = std::chrono::steady_clock;

struct Stats {
  std::mutex mu;
  std::vector<std::int64_t> latency_ns;
  std::unordered_set<std::string> ids;  // msgIds seen (duplicates are allowed, and counted apart)
  std::int64_t first_sent = 0;
  std::int64_t last_received = 0;

  void Add(std::string_view body) {
    const std::int64_t now = Clock::now().time_since_epoch().count();
    std::int64_t sent = 0;
    auto p = body.find("\"payload\":\"");
    if (p != std::string_view::npos) {
      for (p += 11; p < body.size() && body[p] >= '0' && body[p] <= '9'; ++p) {
        sent = sent * 10 + (body[p] - '0');
      }
    }
    std::string id;
    auto m = body.find("\"msgId\":\"");
    if (m != std::string_view::npos) {
      auto end = body.find('"', m + 9);
      if (end != std::string_view::npos) id = std::string(body.substr(m + 9, end - m - 9));
    }
    std::lock_guard<std::mutex> lock(mu);
    if (sent > 0) {
      latency_ns.push_back(now - sent);
      if (first_sent == 0 || sent < first_sent) first_sent = sent;
    }
    last_received = now;
    ids.insert(std::move(id));
  }

  std::string Report() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::int64_t> l = latency_ns;
    std::sort(l.begin(), l.end());
    auto pct = [&](double q) -> long long {
      if (l.empty()) return 0;
      return l[std::min(l.size() - 1, static_cast<std::size_t>(q * static_cast<double>(l.size())))] /
             1000;
    };
    const double secs = static_cast<double>(last_received - first_sent) / 1e9;
    char buf[256];
    std::snprintf(buf, sizeof(buf), "count=%zu unique=%zu rate=%.0f p50_us=%lld p99_us=%lld max_us=%lld\n",
                  latency_ns.size(), ids.size(),
                  secs > 0 ? static_cast<double>(l.size()) / secs : 0.0, pct(0.5), pct(0.99),
                  l.empty() ? 0LL : static_cast<long long>(l.back() / 1000));
    return buf;
  }

  void Reset() {
    std::lock_guard<std::mutex> lock(mu);
    latency_ns.clear();
    ids.clear();
    first_sent = last_received = 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 64;
  }
  // SIGTERM/SIGINT are taken by sigwait below; blocked before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const std::size_t threads = argc > 2 ? static_cast<std::size_t>(std::max(1, std::atoi(argv[2]))) : 1;
  Stats stats;
  Router router;
  auto take = [&stats](Request& req, Responder r) {
    stats.Add(req.body);
    r.Send(Response::Empty(204));
  };
  router.Add("POST", "/as/{name}/deliver-message", "as-message", take);
  router.Add("POST", "/as/{name}/deliver-report", "as-report", [](Request&, Responder r) {
    r.Send(Response::Empty(204));
  });
  for (const char* g : {"l3g", "n3g", "bg"}) {
    router.Add("POST", std::string("/msgg-") + g + "delivery/v1/deliver-message", g, take);
    router.Add("POST", std::string("/msgg-") + g + "delivery/v1/deliver-report",
               std::string(g) + "-report", [](Request&, Responder r) { r.Send(Response::Empty(204)); });
  }
  router.Add("GET", "/stats", "stats", [&stats](Request&, Responder r) {
    r.Send(Response(200, "text/plain", stats.Report()));
  });
  router.Add("POST", "/reset", "reset", [&stats](Request&, Responder r) {
    stats.Reset();
    r.Send(Response::Empty(204));
  });

  msgin5g::metrics::Registry registry;
  HttpMetrics metrics(registry, "sink", router.Operations());
  msgin5g::IoPool pool(threads);
  ServerOptions options;
  options.name = "sink";
  options.listen = std::string("127.0.0.1:") + argv[1];
  options.max_concurrent_streams = 1024;
  Server server(pool, options, router, &metrics);
  if (auto st = server.Listen(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 69;
  }
  server.Start();
  pool.Start();

  int sig = 0;
  sigwait(&set, &sig);
  server.Shutdown(std::chrono::milliseconds(500));
  pool.Abort();
  return 0;
}
