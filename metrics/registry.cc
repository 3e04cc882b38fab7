#include "metrics/registry.h"

#include <prometheus/text_serializer.h>

namespace msgin5g::metrics {

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {}

std::string Registry::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                               0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                               0.5,     1,      2.5,     5,      10};
  return kBuckets;
}

}  // namespace msgin5g::metrics
