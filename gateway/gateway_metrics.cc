#include "gateway/gateway_metrics.h"

#include <prometheus/registry.h>

#include "gateway/bg/bg_role.h"
#include "gateway/downlink.h"
#include "gateway/mqtt/mqtt_link.h"
#include "gateway/n3g/n3g_role.h"
#include "gateway/l3g/sms_role.h"
#include "gateway/sms/receipt.h"
#include "gateway/smpp/esme_session.h"
#include "gateway/store.h"
#include "gateway/uplink.h"

namespace msgin5g::gateway {

namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
}  // namespace

GatewayMetrics::GatewayMetrics(metrics::Registry& registry, boost::asio::io_context& core,
                               Sources sources)
    : core_(core),
      src_(sources),
      timer_(core),
      role_(BuildGauge().Name("msgin5g_gateway_role_enabled")
                .Help("1 for each gateway role this process serves")
                .Register(registry.prom())),
      smsc_bound_(BuildGauge().Name("msgin5g_gateway_smsc_bound")
                      .Help("1 while an SMPP bind to an SMSC is up")
                      .Register(registry.prom())
                      .Add({})),
      window_in_use_(BuildGauge().Name("msgin5g_gateway_smpp_window_in_use")
                         .Help("submit_sm sent and not yet answered")
                         .Register(registry.prom())
                         .Add({})),
      smpp_queued_(BuildGauge().Name("msgin5g_gateway_smpp_queued")
                       .Help("submit_sm waiting for the window or the rate limit")
                       .Register(registry.prom())
                       .Add({})),
      outbox_jobs_(BuildGauge().Name("msgin5g_gateway_outbox_jobs")
                       .Help("Work accepted and not yet handed on, by outbox (sms, uplink)")
                       .Register(registry.prom())),
      outbox_replayed_(BuildCounter().Name("msgin5g_gateway_outbox_replayed_total")
                           .Help("Stored jobs run again after a restart, by outbox")
                           .Register(registry.prom())),
      parts_(BuildCounter().Name("msgin5g_gateway_sms_parts_total")
                 .Help("SMS parts submitted, by outcome (accepted, transient, refused)")
                 .Register(registry.prom())),
      possible_duplicates_(BuildCounter().Name("msgin5g_gateway_sms_possible_duplicates_total")
                               .Help("Parts resubmitted after their outcome was lost with the "
                                     "connection (the SMSC may have had them)")
                               .Register(registry.prom())
                               .Add({})),
      receipts_(BuildCounter().Name("msgin5g_gateway_sms_receipts_total")
                    .Help("Delivery receipts from the SMSC, by state (DELIVRD, UNDELIV, ...) "
                          "and match (matched, unmatched, malformed)")
                    .Register(registry.prom())),
      reports_(BuildCounter().Name("msgin5g_gateway_reports_total")
                   .Help("Delivery status reports made for msgin5gd, by status and reason")
                   .Register(registry.prom())),
      mo_(BuildCounter().Name("msgin5g_gateway_mo_total")
              .Help("MO SMS, by outcome (forwarded, part, unknown_msisdn, unroutable, malformed, "
                    "expired_set, store_error)")
              .Register(registry.prom())),
      downlink_(BuildCounter().Name("msgin5g_gateway_downlink_total")
                    .Help("Messages and reports from msgin5gd, by outcome (accepted, duplicate, "
                          "refused, segment)")
                    .Register(registry.prom())),
      uplink_(BuildCounter().Name("msgin5g_gateway_uplink_total")
                  .Help("Items sent to msgin5gd, by outcome (done, retry, refused)")
                  .Register(registry.prom())),
      smpp_(BuildCounter().Name("msgin5g_gateway_smpp_events_total")
                .Help("SMPP session events (binds_ok, binds_failed, reconnects, enquire_link_"
                      "timeouts, throttled, malformed_pdus, generic_nacks_sent, ...)")
                .Register(registry.prom())),
      receipt_groups_(BuildGauge().Name("msgin5g_gateway_sms_awaiting_receipts")
                          .Help("SMS messages waiting for their delivery receipts")
                          .Register(registry.prom())
                          .Add({})),
      segment_sets_(BuildGauge().Name("msgin5g_gateway_open_segment_sets")
                        .Help("MSGin5G segment sets from msgin5gd not yet complete")
                        .Register(registry.prom())
                        .Add({})),
      store_bytes_(BuildCounter().Name("msgin5g_gateway_storage_written_bytes_total")
                       .Help("Bytes written to the gateway's RocksDB")
                       .Register(registry.prom())
                       .Add({})),
      store_syncs_(BuildCounter().Name("msgin5g_gateway_storage_syncs_total")
                       .Help("Group-committed WAL writes (one fsync each)")
                       .Register(registry.prom())
                       .Add({})),
      submit_latency_(BuildHistogram().Name("msgin5g_gateway_smpp_submit_seconds")
                          .Help("submit_sm to its accepting submit_sm_resp")
                          .Register(registry.prom())
                          .Add({}, metrics::LatencyBuckets())),
      mqtt_connected_(BuildGauge().Name("msgin5g_gateway_mqtt_connected")
                          .Help("1 while the MQTT link to the broker is up (N3G, BG)")
                          .Register(registry.prom())
                          .Add({})),
      mqtt_(BuildCounter().Name("msgin5g_gateway_mqtt_events_total")
                .Help("MQTT link events (connects, disconnects, published, puback, "
                      "publish_timeouts, publish_refused, received, dropped_oversize, "
                      "dropped_invalid)")
                .Register(registry.prom())),
      n3g_(BuildCounter().Name("msgin5g_gateway_n3g_total")
               .Help("N3G and BG outcomes (published, publish_failed, device_reports, "
                     "device_reports_unmatched, report_timeouts, up_messages, up_malformed, "
                     "up_unroutable, broadcasts)")
               .Register(registry.prom())) {
  role_.Add({{"role", "l3g"}}).Set(src_.sms != nullptr ? 1 : 0);
  role_.Add({{"role", "n3g"}}).Set(src_.n3g != nullptr ? 1 : 0);
  role_.Add({{"role", "bg"}}).Set(src_.bg != nullptr ? 1 : 0);
}

GatewayMetrics::~GatewayMetrics() { *alive_ = false; }

void GatewayMetrics::Start() { Refresh(); }
void GatewayMetrics::Stop() { timer_.cancel(); }

void GatewayMetrics::SetSmsc(bool bound, const std::string& smsc) {
  smsc_ = bound ? smsc : "";
  smsc_bound_.Set(bound ? 1 : 0);
}

void GatewayMetrics::ObserveSubmit(double seconds) { submit_latency_.Observe(seconds); }

void GatewayMetrics::Bump(prometheus::Counter& c, std::uint64_t now) {
  std::uint64_t& last = last_[&c];
  if (now > last) c.Increment(static_cast<double>(now - last));
  last = now;
}

void GatewayMetrics::Refresh() {
  auto outbox = [&](const Outbox& o) {
    outbox_jobs_.Add({{"outbox", o.name()}}).Set(static_cast<double>(o.size()));
    Bump(outbox_replayed_.Add({{"outbox", o.name()}}), o.stats().replayed);
  };
  outbox(src_.uplink->outbox());
  const auto& u = src_.uplink->outbox().stats();
  Bump(uplink_.Add({{"outcome", "done"}}), u.done - std::min(u.done, src_.uplink->refused()));
  Bump(uplink_.Add({{"outcome", "retry"}}), u.retries);
  Bump(uplink_.Add({{"outcome", "refused"}}), src_.uplink->refused());
  const auto& d = src_.intake->stats();
  Bump(downlink_.Add({{"outcome", "accepted"}}), d.accepted);
  Bump(downlink_.Add({{"outcome", "duplicate"}}), d.duplicates);
  Bump(downlink_.Add({{"outcome", "refused"}}), d.refused);
  Bump(downlink_.Add({{"outcome", "segment"}}), d.segments);
  segment_sets_.Set(static_cast<double>(src_.intake->open_segment_sets()));
  Bump(store_bytes_, src_.store->bytes_written());
  Bump(store_syncs_, src_.store->syncs());
  if (src_.sms != nullptr) {
    outbox(src_.sms->outbox());
    const auto& s = src_.sms->stats();
    Bump(parts_.Add({{"outcome", "accepted"}}), s.parts_accepted);
    Bump(parts_.Add({{"outcome", "transient"}}), s.parts_transient);
    Bump(parts_.Add({{"outcome", "refused"}}), s.parts_refused);
    Bump(possible_duplicates_, s.possible_duplicates);
    for (int i = 1; i <= 8; ++i) {
      auto name = sms::ReceiptStateName(static_cast<sms::ReceiptState>(i));
      Bump(receipts_.Add({{"state", std::string(name)}, {"match", "any"}}), s.receipts_by_state[i]);
    }
    Bump(receipts_.Add({{"state", "any"}, {"match", "matched"}}), s.receipts_matched);
    Bump(receipts_.Add({{"state", "any"}, {"match", "unmatched"}}), s.receipts_unmatched);
    Bump(receipts_.Add({{"state", "none"}, {"match", "malformed"}}), s.receipts_malformed);
    Bump(reports_.Add({{"status", "REPT_DELY_SUCCESS"}, {"reason", "any"}}), s.reports_success);
    Bump(reports_.Add({{"status", "REPT_DELY_FAILED"}, {"reason", "any"}}), s.reports_failed);
    Bump(reports_.Add({{"status", "REPT_DELY_FAILED"}, {"reason", "receipt_timeout"}}),
         s.receipt_timeouts);
    Bump(mo_.Add({{"outcome", "forwarded"}}), s.mo_messages);
    Bump(mo_.Add({{"outcome", "part"}}), s.mo_parts);
    Bump(mo_.Add({{"outcome", "unknown_msisdn"}}), s.mo_unknown_msisdn);
    Bump(mo_.Add({{"outcome", "unroutable"}}), s.mo_unroutable);
    Bump(mo_.Add({{"outcome", "malformed"}}), s.mo_malformed);
    Bump(mo_.Add({{"outcome", "expired_set"}}), s.mo_expired_sets);
    Bump(mo_.Add({{"outcome", "store_error"}}), s.mo_store_errors);
    receipt_groups_.Set(static_cast<double>(src_.sms->receipt_groups_open()));
  }
  if (src_.esme != nullptr) {
    window_in_use_.Set(static_cast<double>(src_.esme->in_flight()));
    smpp_queued_.Set(static_cast<double>(src_.esme->queued()));
    const auto& e = src_.esme->stats();
    const std::pair<const char*, const std::atomic<std::uint64_t>*> events[] = {
        {"connect_failures", &e.connect_failures},
        {"binds_ok", &e.binds_ok},
        {"binds_failed", &e.binds_failed},
        {"reconnects", &e.reconnects},
        {"submits_sent", &e.submits_sent},
        {"submit_timeouts", &e.submit_timeouts},
        {"throttled", &e.throttled},
        {"enquire_links_sent", &e.enquire_links_sent},
        {"enquire_link_timeouts", &e.enquire_link_timeouts},
        {"deliver_sm_received", &e.deliver_sm_received},
        {"malformed_pdus_received", &e.malformed_pdus_received},
        {"unknown_commands_received", &e.unknown_commands_received},
        {"generic_nacks_sent", &e.generic_nacks_sent},
        {"generic_nacks_received", &e.generic_nacks_received},
    };
    for (const auto& [name, value] : events) Bump(smpp_.Add({{"event", name}}), value->load());
  }
  if (src_.mqtt != nullptr) {
    const mqtt::LinkStats l = src_.mqtt->stats();
    mqtt_connected_.Set(src_.mqtt->connected() ? 1 : 0);
    const std::pair<const char*, std::uint64_t> events[] = {
        {"connects", l.connects},          {"disconnects", l.disconnects},
        {"published", l.published},        {"puback", l.puback},
        {"publish_timeouts", l.publish_timeouts}, {"publish_refused", l.publish_refused},
        {"received", l.messages_received}, {"dropped_oversize", l.dropped_oversize},
        {"dropped_invalid", l.dropped_invalid}};
    for (const auto& [name, value] : events) Bump(mqtt_.Add({{"event", name}}), value);
  }
  if (src_.n3g != nullptr) {
    outbox(src_.n3g->outbox());
    const auto& n = src_.n3g->stats();
    const std::pair<const char*, std::uint64_t> events[] = {
        {"published", n.published},
        {"publish_failed", n.publish_failed},
        {"device_reports", n.device_reports},
        {"device_reports_unmatched", n.device_reports_unmatched},
        {"report_timeouts", n.report_timeouts},
        {"up_messages", n.up_messages},
        {"up_malformed", n.up_malformed},
        {"up_unroutable", n.up_unroutable}};
    for (const auto& [name, value] : events) Bump(n3g_.Add({{"outcome", name}}), value);
    Bump(reports_.Add({{"status", "REPT_DELY_SUCCESS"}, {"reason", "n3g"}}), n.reports_success);
    Bump(reports_.Add({{"status", "REPT_DELY_FAILED"}, {"reason", "n3g"}}), n.reports_failed);
  }
  if (src_.bg != nullptr) {
    outbox(src_.bg->outbox());
    Bump(n3g_.Add({{"outcome", "broadcasts"}}), src_.bg->published());
  }
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Refresh();
  });
}

}  // namespace msgin5g::gateway
