// Load generator for the durable accept path: POSTs ASMessageDelivery bodies with unique msgIds
// (h2load can only repeat one body, which the broker would answer from its idempotency record)
// over C HTTP/2 connections with M requests in flight on each, and prints throughput and latency.
//
// Usage: accept_load URL TOTAL CONNECTIONS STREAMS PAYLOAD_BYTES [UES] [PREFIX]
//   URL is the full deliver-as-message URL (or any URL that accepts a POST, for baselines).
//   UES spreads destinations over ue-0..ue-(UES-1) (default 1000). PREFIX makes msgIds unique
//   across runs (default: the current time).
// Environment: LOAD_RATE=N paces sending at N requests/s (default: as fast as the window allows);
// LOAD_STAMP=1 starts each payload with the send time (CLOCK_MONOTONIC ns and a space) so that a
// receiver on the same machine (bench/delivery_sink) can measure accept -> delivered latency.
// LOAD_SEGMENT_SETS=1 makes request n segment 1 of 2 of its own set (segId PREFIX-n): each opens a
// segment set that stays open (bench/segment_sweep_bench.sh). LOAD_ORIGINS=K spreads oriAddr over
// bench-as-0..bench-as-(K-1) (default: one originator, bench-as). LOAD_TRACE=FILE writes one line
// per answered request: its send time (CLOCK_MONOTONIC ns), latency (us) and HTTP status.
// Output (one line, key=value): sent ok errors seconds rps p50_us p90_us p99_us max_us
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/http/h2_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using msgin5g::Result;
using msgin5g::api::http::ClientOptions;
using msgin5g::api::http::ClientRequest;
using msgin5g::api::http::H2Client;
using msgin5g::api::http::Response;

struct Connection {
  std::unique_ptr<H2Client> client;
  std::vector<std::uint32_t> latencies_us;
  struct Trace {
    std::int64_t sent_ns;
    std::uint32_t latency_us;
    int status;
  };
  std::vector<Trace> trace;
};

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s URL TOTAL CONNECTIONS STREAMS PAYLOAD_BYTES [UES] [PREFIX]\n",
                 argv[0]);
    return 64;
  }
  const std::string url = argv[1];
  const long total = std::atol(argv[2]);
  const int conns = std::max(1, std::atoi(argv[3]));
  const int streams = std::max(1, std::atoi(argv[4]));
  const std::string payload(static_cast<std::size_t>(std::atol(argv[5])), 'p');
  const long ues = argc > 6 ? std::max(1L, std::atol(argv[6])) : 1000;
  const std::string prefix =
      argc > 7 ? argv[7] : std::to_string(Clock::now().time_since_epoch().count());
  const double rate = std::getenv("LOAD_RATE") ? std::atof(std::getenv("LOAD_RATE")) : 0;
  const bool stamp = std::getenv("LOAD_STAMP") != nullptr && std::string(std::getenv("LOAD_STAMP")) == "1";
  const bool segment_sets = Env("LOAD_SEGMENT_SETS") != nullptr && std::string(Env("LOAD_SEGMENT_SETS")) == "1";
  const long origins = Env("LOAD_ORIGINS") ? std::max(1L, std::atol(Env("LOAD_ORIGINS"))) : 0;
  const char* trace_path = Env("LOAD_TRACE");

  boost::asio::io_context ioc(1);
  auto guard = boost::asio::make_work_guard(ioc);
  std::vector<Connection> connections(static_cast<std::size_t>(conns));
  ClientOptions options;
  options.request_timeout = std::chrono::seconds(30);
  // Distinct clients: one HTTP/2 connection each (a client pools one connection per authority).
  for (auto& c : connections) {
    c.client = std::make_unique<H2Client>(ioc, options);
    c.latencies_us.reserve(static_cast<std::size_t>(total / conns + 1));
  }

  std::atomic<long> next{0}, ok{0}, errors{0}, done{0};
  std::promise<void> finished;
  auto start = Clock::now();

  // Each completion starts the next request on the same connection: a fixed window of STREAMS.
  std::function<void(Connection&)> send_one;
  std::function<void(Connection&, long)> send_n = [&](Connection& c, long n) {
    ClientRequest req;
    req.url = url;
    req.headers.push_back({"content-type", "application/json"});
    const std::string origin = origins > 0 ? "bench-as-" + std::to_string(n % origins) : "bench-as";
    req.body = R"({"oriAddr":{"addrType":"AS","addr":")" + origin +
               R"("},"destAddr":{"addrType":"UE","addr":"ue-)" +
               std::to_string(n % ues) + R"("},"msgId":")" + prefix + "-" + std::to_string(n) +
               R"(","stoAndFwInd":true,"payload":")" +
               (stamp ? std::to_string(Clock::now().time_since_epoch().count()) + " " : "") +
               payload + R"(")" +
               (segment_sets ? R"(,"segInd":true,"segParams":{"segId":")" + prefix + "-" +
                                   std::to_string(n) + R"(","totalSegCount":2,"segNumb":1})"
                             : std::string()) +
               "}";
    auto t0 = Clock::now();
    c.client->Send(std::move(req), [&, t0, &conn = c](Result<Response> r) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      if (trace_path != nullptr) {
        conn.trace.push_back({std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  t0.time_since_epoch()).count(),
                              static_cast<std::uint32_t>(us), r.ok() ? r->status : 0});
      }
      if (r.ok() && r->status >= 200 && r->status < 300) {
        ++ok;
        conn.latencies_us.push_back(static_cast<std::uint32_t>(us));
      } else {
        if (errors.fetch_add(1) < 3) {
          std::fprintf(stderr, "error: %s\n",
                       r.ok() ? (std::to_string(r->status) + " " + r->body).c_str()
                              : r.status().ToString().c_str());
        }
      }
      if (done.fetch_add(1) + 1 == total) {
        finished.set_value();
        return;
      }
      send_one(conn);
    });
  };
  send_one = [&](Connection& c) {
    long n = next.fetch_add(1);
    if (n >= total) return;
    if (rate <= 0) return send_n(c, n);
    // Paced: request n leaves at start + n / rate.
    auto due = start + std::chrono::nanoseconds(static_cast<long long>(1e9 * static_cast<double>(n) / rate));
    if (due <= Clock::now()) return send_n(c, n);
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc, due);
    timer->async_wait([&, timer, n, &conn = c](const boost::system::error_code&) { send_n(conn, n); });
  };

  boost::asio::post(ioc, [&] {
    for (auto& c : connections) {
      for (int s = 0; s < streams; ++s) send_one(c);
    }
  });
  std::thread loop([&] { ioc.run(); });
  if (total > 0) finished.get_future().wait();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  boost::asio::post(ioc, [&] {
    for (auto& c : connections) c.client.reset();
    guard.reset();
  });
  loop.join();

  if (trace_path != nullptr) {
    if (FILE* f = std::fopen(trace_path, "w")) {
      for (auto& c : connections) {
        for (const auto& t : c.trace) {
          std::fprintf(f, "%lld %u %d\n", static_cast<long long>(t.sent_ns), t.latency_us, t.status);
        }
      }
      std::fclose(f);
    }
  }
  std::vector<std::uint32_t> all;
  for (auto& c : connections) all.insert(all.end(), c.latencies_us.begin(), c.latencies_us.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> std::uint32_t {
    if (all.empty()) return 0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf("sent=%ld ok=%ld errors=%ld seconds=%.3f rps=%.0f p50_us=%u p90_us=%u p99_us=%u max_us=%u\n",
              total, ok.load(), errors.load(), secs, static_cast<double>(ok.load()) / secs, pct(0.50),
              pct(0.90), pct(0.99), all.empty() ? 0 : all.back());
  return errors.load() == 0 ? 0 : 1;
}
