#include "broker/broker_metrics.h"

#include <initializer_list>
#include <utility>

namespace msgin5g::broker {

BrokerMetrics::BrokerMetrics(metrics::Registry* r, const QueueLimits& limits, SegmentSetBounds sets) {
    if (r == nullptr) return;
    accepted_ = &prometheus::BuildCounter()
                     .Name("msgin5g_broker_accepted_messages_total")
                     .Help("Messages and reports answered, by operation, destination type and outcome")
                     .Register(r->prom());
    queued_ = &prometheus::BuildGauge()
                   .Name("msgin5g_broker_queued_messages")
                   .Help("Queue entries waiting for delivery, by priority")
                   .Register(r->prom());
    queued_bytes_ = &prometheus::BuildGauge()
                         .Name("msgin5g_broker_queued_bytes")
                         .Help("Payload bytes referenced by waiting queue entries")
                         .Register(r->prom())
                         .Add({});
    for (const char* p : {"HIGH", "MIDDLE", "LOW"}) {
      by_priority_.push_back(&queued_->Add({{"priority", p}}));
    }
    open_sets_ = &prometheus::BuildGauge()
                      .Name("msgin5g_broker_open_segment_sets")
                      .Help("Incomplete inbound segment sets held (bounded by "
                            "broker.max_open_segment_sets)")
                      .Register(r->prom())
                      .Add({});
    auto& refused = prometheus::BuildCounter()
                        .Name("msgin5g_broker_segment_sets_refused_total")
                        .Help("Segments refused because they would open a set past a bound, by "
                              "bound (total: 503, originator: 429)")
                        .Register(r->prom());
    refused_total_ = &refused.Add({{"bound", "total"}});
    refused_originator_ = &refused.Add({{"bound", "originator"}});
    expired_sets_ = &prometheus::BuildCounter()
                         .Name("msgin5g_broker_segment_sets_expired_total")
                         .Help("Incomplete segment sets dropped after broker.segment_timeout_ms")
                         .Register(r->prom())
                         .Add({});
    auto& limit = prometheus::BuildGauge()
                      .Name("msgin5g_broker_limit")
                      .Help("Configured bound, by bound (docs/limits.md)")
                      .Register(r->prom());
    const QueueLimits& l = limits;
    for (auto [bound, value] : std::initializer_list<std::pair<const char*, double>>{
             {"queued_messages", double(l.max_queued_messages)},
             {"queued_bytes", double(l.max_queued_bytes)},
             {"recipient_queued_messages", double(l.max_queued_messages_per_recipient)},
             {"recipient_queued_bytes", double(l.max_queued_bytes_per_recipient)},
             {"as_queued_messages", double(l.max_queued_messages_per_as)},
             {"as_queued_bytes", double(l.max_queued_bytes_per_as)},
             {"ue_registrations", double(l.max_ue_registrations)},
             {"as_registrations", double(l.max_as_registrations)},
             {"open_segment_sets", double(sets.max_open)},
             {"open_segment_sets_per_originator",
              double(sets.max_open_per_originator)}}) {
      limit.Add({{"bound", bound}}).Set(value);
    }
    auto& usage = prometheus::BuildGauge()
                      .Name("msgin5g_broker_usage")
                      .Help("Current use of a global bound (msgin5g_broker_limit), by bound")
                      .Register(r->prom());
    for (const char* b : {"queued_messages", "queued_bytes", "ue_registrations",
                          "as_registrations", "open_segment_sets"}) {
      usage_[b] = &usage.Add({{"bound", b}});
    }
    auto& near = prometheus::BuildGauge()
                     .Name("msgin5g_broker_recipients_near_limit")
                     .Help("Recipients whose queue holds 90 % or more of its per-recipient bound "
                           "(recipient_ or as_queued_messages / _bytes)")
                     .Register(r->prom());
    near_messages_ = &near.Add({{"bound", "recipient_queued_messages"}});
    near_bytes_ = &near.Add({{"bound", "recipient_queued_bytes"}});
    ues_asleep_ = &prometheus::BuildGauge()
                       .Name("msgin5g_broker_ues_asleep")
                       .Help("Registered UEs that stopped answering: their messages wait for "
                             "their next contact (registered UEs: msgin5g_broker_usage"
                             "{bound=\"ue_registrations\"})")
                       .Register(r->prom())
                       .Add({});
    recipients_ = &prometheus::BuildGauge()
                       .Name("msgin5g_broker_queued_recipients")
                       .Help("Recipients with at least one queued entry")
                       .Register(r->prom())
                       .Add({});
    auto& refused_limit = prometheus::BuildCounter()
                              .Name("msgin5g_broker_limit_refused_total")
                              .Help("Messages, reports and registrations refused or not queued "
                                    "because of a bound, by bound")
                              .Register(r->prom());
    for (const char* b : {"queued_messages", "queued_bytes", "recipient_queued_messages",
                          "recipient_queued_bytes", "as_queued_messages", "as_queued_bytes",
                          "ue_registrations", "as_registrations"}) {
      refused_limit_[b] = &refused_limit.Add({{"bound", b}});
    }
}

}  // namespace msgin5g::broker
