// What the HTTP layer counts: requests by listener, operation and status code, request latency by
// operation, open connections by protocol.
//
// The operation set is fixed at construction (the router's routes plus "unknown"), so the hot path
// finds its series without taking prometheus-cpp's registry lock: per-operation histograms are made
// up front and per-status counters once, on first use.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "metrics/registry.h"

namespace msgin5g::api::http {

class HttpMetrics {
 public:
  HttpMetrics(metrics::Registry& registry, std::string listener,
              const std::vector<std::string>& operations);

  void RequestDone(std::string_view operation, int status, std::chrono::nanoseconds latency);
  void ConnectionOpened(std::string_view protocol);
  void ConnectionClosed(std::string_view protocol);

 private:
  struct OperationSeries {
    std::string name;
    prometheus::Histogram* latency = nullptr;
    std::array<std::atomic<prometheus::Counter*>, 600> by_status{};
  };
  OperationSeries& Series(std::string_view operation);

  std::string listener_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& connections_;
  prometheus::Family<prometheus::Counter>& connections_total_;
  std::unordered_map<std::string_view, std::unique_ptr<OperationSeries>> operations_;  // read-only
  OperationSeries* unknown_ = nullptr;
  std::mutex create_mu_;  // only while creating a counter series
};

}  // namespace msgin5g::api::http
