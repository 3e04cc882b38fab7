// The process-wide metric registry. Every module registers its families here; /metrics serializes
// it in the Prometheus text exposition format 0.0.4. Names follow msgin5g_<subsystem>_<name>_<unit>;
// labels are bounded (never a message, UE or AS id).
#pragma once

#include <memory>
#include <string>

#include <prometheus/registry.h>

namespace msgin5g::metrics {

class Registry {
 public:
  Registry();
  prometheus::Registry& prom() { return *registry_; }
  // Text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

// Default histogram buckets for request latency, in seconds (50 us .. 10 s).
const std::vector<double>& LatencyBuckets();

}  // namespace msgin5g::metrics
