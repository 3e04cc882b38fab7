#include "api/http/http_metrics.h"

namespace msgin5g::api::http {

HttpMetrics::HttpMetrics(metrics::Registry& registry, std::string listener,
                         const std::vector<std::string>& operations)
    : listener_(std::move(listener)),
      requests_(prometheus::BuildCounter()
                    .Name("msgin5g_api_requests_total")
                    .Help("HTTP requests answered, by listener, API operation and status code")
                    .Register(registry.prom())),
      latency_(prometheus::BuildHistogram()
                   .Name("msgin5g_api_request_duration_seconds")
                   .Help("Time from a complete request to its response being submitted")
                   .Register(registry.prom())),
      connections_(prometheus::BuildGauge()
                       .Name("msgin5g_api_open_connections")
                       .Help("Open client connections, by listener and protocol")
                       .Register(registry.prom())),
      connections_total_(prometheus::BuildCounter()
                             .Name("msgin5g_api_connections_total")
                             .Help("Accepted client connections, by listener and protocol")
                             .Register(registry.prom())) {
  std::vector<std::string> names = operations;
  names.push_back("unknown");
  for (const auto& name : names) {
    if (operations_.count(name) != 0) continue;
    auto s = std::make_unique<OperationSeries>();
    s->name = name;
    s->latency = &latency_.Add({{"listener", listener_}, {"operation", name}},
                               metrics::LatencyBuckets());
    std::string_view key = s->name;
    operations_.emplace(key, std::move(s));
  }
  unknown_ = operations_.at("unknown").get();
  for (const char* proto : {"h2", "http/1.1"}) {
    connections_.Add({{"listener", listener_}, {"protocol", proto}});
  }
}

HttpMetrics::OperationSeries& HttpMetrics::Series(std::string_view operation) {
  auto it = operations_.find(operation);
  return it == operations_.end() ? *unknown_ : *it->second;
}

void HttpMetrics::RequestDone(std::string_view operation, int status,
                              std::chrono::nanoseconds latency) {
  OperationSeries& s = Series(operation);
  s.latency->Observe(std::chrono::duration<double>(latency).count());
  if (status < 100 || status >= 600) status = 500;
  prometheus::Counter* c = s.by_status[status].load(std::memory_order_acquire);
  if (c == nullptr) {
    std::lock_guard<std::mutex> lock(create_mu_);
    c = &requests_.Add(
        {{"listener", listener_}, {"operation", s.name}, {"code", std::to_string(status)}});
    s.by_status[status].store(c, std::memory_order_release);
  }
  c->Increment();
}

void HttpMetrics::ConnectionOpened(std::string_view protocol) {
  std::lock_guard<std::mutex> lock(create_mu_);
  connections_.Add({{"listener", listener_}, {"protocol", std::string(protocol)}}).Increment();
  connections_total_.Add({{"listener", listener_}, {"protocol", std::string(protocol)}})
      .Increment();
}

void HttpMetrics::ConnectionClosed(std::string_view protocol) {
  std::lock_guard<std::mutex> lock(create_mu_);
  connections_.Add({{"listener", listener_}, {"protocol", std::string(protocol)}}).Decrement();
}

}  // namespace msgin5g::api::http
