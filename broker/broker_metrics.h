// BrokerMetrics: what the durable broker counts (msgin5g_broker_*), shared by the accept side
// (DurableBroker) and the queue-entry ledger (Ledger). Every family is registered once, at
// construction; without a registry every call is a no-op (tests of the accept path).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include "broker/queue_limits.h"
#include "broker/stored_names.h"
#include "broker/types.h"
#include "metrics/registry.h"
#include "storage/records.h"

namespace msgin5g::broker {

// The bounds whose values the broker exports (msgin5g_broker_limit), besides QueueLimits.
struct SegmentSetBounds {
  std::size_t max_open = 0;
  std::size_t max_open_per_originator = 0;
};

class BrokerMetrics {
 public:
  BrokerMetrics(metrics::Registry* r, const QueueLimits& limits, SegmentSetBounds sets);
  // `bound`: one of the names registered above.
  void Refused(const std::string& bound) {
    if (auto it = refused_limit_.find(bound); it != refused_limit_.end()) it->second->Increment();
  }
  void Usage(const char* bound, double v) {
    if (auto it = usage_.find(bound); it != usage_.end()) it->second->Set(v);
  }
  void Recipients(const QueueUsage& u) {
    if (recipients_ == nullptr) return;
    recipients_->Set(static_cast<double>(u.recipients()));
    near_messages_->Set(static_cast<double>(u.near_messages()));
    near_bytes_->Set(static_cast<double>(u.near_bytes()));
  }
  void UesAsleep(std::size_t n) {
    if (ues_asleep_) ues_asleep_->Set(static_cast<double>(n));
  }
  void OpenSets(std::size_t n) {
    if (open_sets_) open_sets_->Set(static_cast<double>(n));
  }
  void RefusedSet(bool per_originator) {
    if (refused_total_) (per_originator ? refused_originator_ : refused_total_)->Increment();
  }
  void ExpiredSets(std::size_t n) {
    if (expired_sets_ && n > 0) expired_sets_->Increment(static_cast<double>(n));
  }
  void Accepted(const char* operation, AddressType dest, storage::OutcomeKind outcome) {
    if (accepted_ == nullptr) return;
    accepted_->Add({{"operation", operation}, {"dest_type", AddressTypeName(dest)},
                    {"outcome", OutcomeName(outcome)}})
        .Increment();
  }
  void Queued(const std::atomic<std::uint64_t>* by_priority, std::uint64_t bytes) {
    if (queued_ == nullptr) return;
    for (std::size_t i = 0; i < 3; ++i) by_priority_[i]->Set(static_cast<double>(by_priority[i].load()));
    queued_bytes_->Set(static_cast<double>(bytes));
  }


 private:
  prometheus::Family<prometheus::Counter>* accepted_ = nullptr;
  prometheus::Family<prometheus::Gauge>* queued_ = nullptr;
  prometheus::Gauge* queued_bytes_ = nullptr;
  std::vector<prometheus::Gauge*> by_priority_;
  prometheus::Gauge* open_sets_ = nullptr;
  prometheus::Counter* refused_total_ = nullptr;
  prometheus::Counter* refused_originator_ = nullptr;
  prometheus::Counter* expired_sets_ = nullptr;
  std::map<std::string, prometheus::Gauge*> usage_;
  std::map<std::string, prometheus::Counter*> refused_limit_;
  prometheus::Gauge* near_messages_ = nullptr;
  prometheus::Gauge* near_bytes_ = nullptr;
  prometheus::Gauge* recipients_ = nullptr;
  prometheus::Gauge* ues_asleep_ = nullptr;
};

}  // namespace msgin5g::broker
