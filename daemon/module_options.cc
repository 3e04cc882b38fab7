#include "daemon/module_options.h"

#include <string>
#include <unordered_map>

#include "api/auth/policy.h"

namespace msgin5g::daemon {

storage::StoreOptions StoreOptionsFrom(const Config& cfg) {
  storage::StoreOptions o;
  o.path = cfg.storage_path;
  o.sync = cfg.storage_sync;
  o.max_batch_ops = static_cast<std::size_t>(cfg.storage_max_batch_ops);
  o.max_pending_ops = static_cast<std::size_t>(cfg.storage_max_pending_ops);
  o.max_pending_bytes = static_cast<std::size_t>(cfg.storage_max_pending_mb) << 20;
  return o;
}

namespace {

broker::GatewayKind GatewayKindOf(const std::string& type) {
  return type == "n3g" ? broker::GatewayKind::kN3g
         : type == "bg" ? broker::GatewayKind::kBg
                        : broker::GatewayKind::kL3g;  // config.cc allows only these three
}

broker::DeliveryOptions DeliveryOptionsFrom(const Config& cfg) {
  broker::DeliveryOptions d;
  d.max_in_flight_per_destination =
      static_cast<std::size_t>(cfg.delivery_max_in_flight_per_destination);
  d.max_in_flight = static_cast<std::size_t>(cfg.delivery_max_in_flight);
  d.retry_initial = std::chrono::milliseconds(cfg.delivery_retry_initial_ms);
  d.retry_max = std::chrono::milliseconds(cfg.delivery_retry_max_ms);
  d.max_attempts = static_cast<std::uint32_t>(cfg.delivery_max_attempts);
  d.max_attempts_without_store = static_cast<std::uint32_t>(cfg.delivery_max_attempts_without_store);
  d.breaker_failures = static_cast<std::uint32_t>(cfg.delivery_breaker_failures);
  d.payload_cache_bytes = static_cast<std::size_t>(cfg.delivery_payload_cache_mb) << 20;
  return d;
}

}  // namespace

broker::BrokerOptions BrokerOptionsFrom(const Config& cfg) {
  broker::BrokerOptions b;
  b.default_ttl = std::chrono::seconds(cfg.broker_default_ttl_s);
  b.segment_timeout = std::chrono::milliseconds(cfg.broker_segment_timeout_ms);
  b.max_open_segment_sets = static_cast<std::size_t>(cfg.broker_max_open_segment_sets);
  b.max_open_segment_sets_per_originator =
      static_cast<std::size_t>(cfg.broker_max_open_segment_sets_per_originator);
  b.broadcast_gateway = cfg.broker_broadcast_gateway;
  b.max_reassembled_bytes = static_cast<std::size_t>(cfg.broker_max_reassembled_bytes);
  auto& l = b.limits;
  l.max_queued_messages = static_cast<std::uint64_t>(cfg.broker_max_queued_messages);
  l.max_queued_bytes = static_cast<std::uint64_t>(cfg.broker_max_queued_bytes);
  l.max_queued_messages_per_recipient =
      static_cast<std::uint64_t>(cfg.broker_max_queued_messages_per_recipient);
  l.max_queued_bytes_per_recipient =
      static_cast<std::uint64_t>(cfg.broker_max_queued_bytes_per_recipient);
  l.max_queued_messages_per_as = static_cast<std::uint64_t>(cfg.broker_max_queued_messages_per_as);
  l.max_queued_bytes_per_as = static_cast<std::uint64_t>(cfg.broker_max_queued_bytes_per_as);
  l.max_ue_registrations = static_cast<std::size_t>(cfg.broker_max_ue_registrations);
  l.max_as_registrations = static_cast<std::size_t>(cfg.broker_max_as_registrations);
  b.store_for_unknown_recipient = cfg.broker_unknown_recipient == "store";
  b.ue_max_segment_bytes = static_cast<std::size_t>(cfg.coap_max_segment_bytes);
  b.backup.root = cfg.storage_backup_dir;
  b.backup.extra_files = {cfg.storage_path + "/" + std::string(kSigningKeyFile)};
  for (const auto& g : cfg.gateways) {
    broker::GatewayInfo info;
    info.name = g.name;
    info.kind = GatewayKindOf(g.type);
    info.api_root = g.api_root;
    info.max_segment_bytes = static_cast<std::size_t>(g.max_segment_bytes);
    info.areas = g.areas;
    b.gateways.push_back(std::move(info));
  }
  b.delivery = DeliveryOptionsFrom(cfg);
  return b;
}

bool CoapEnabled(const Config& cfg) {
  return !cfg.coap_listen.empty() || !cfg.coap_dtls_listen.empty() ||
         !cfg.coap_dtls_cert_listen.empty();
}

api::coap::CoapOptions CoapOptionsFrom(const Config& cfg) {
  api::coap::CoapOptions co;
  co.listen = cfg.coap_listen;
  co.udp_libcoap = cfg.coap_udp_engine == "libcoap";
  co.dtls_listen = cfg.coap_dtls_listen;
  co.ack_timeout = std::chrono::milliseconds(cfg.coap_ack_timeout_ms);
  co.max_retransmit = static_cast<int>(cfg.coap_max_retransmit);
  co.max_body_bytes = static_cast<std::size_t>(cfg.coap_max_body_bytes);
  co.dtls_cert_listen = cfg.coap_dtls_cert_listen;
  co.dtls_cert_file = cfg.coap_dtls_cert_file;
  co.dtls_key_file = cfg.coap_dtls_key_file;
  co.dtls_ca_file = cfg.coap_dtls_ca_file;
  co.segment_recovery_after = std::chrono::milliseconds(cfg.coap_segment_recovery_ms);
  co.segment_recovery_requests = static_cast<int>(cfg.coap_segment_recovery_requests);
  co.segment_finished_memory = std::chrono::milliseconds(cfg.broker_segment_timeout_ms);
  auto keys = std::make_shared<std::unordered_map<std::string, std::string>>();
  for (const auto& u : cfg.ues) api::auth::DecodeHex(u.psk_key_hex, &(*keys)[u.id]);
  co.psk_lookup = [keys](std::string_view identity, std::string* key) {
    auto it = keys->find(std::string(identity));
    if (it == keys->end()) return false;
    *key = it->second;
    return true;
  };
  return co;
}

api::http::ServerOptions SbiServerOptionsFrom(const Config& cfg,
                                              std::shared_ptr<boost::asio::ssl::context> tls) {
  api::http::ServerOptions o;
  o.name = "sbi";
  o.listen = cfg.api_listen;
  o.enable_http1 = cfg.api_http1;
  o.max_body_bytes = static_cast<std::size_t>(cfg.api_max_body_bytes);
  o.max_header_list_bytes = static_cast<std::size_t>(cfg.api_max_header_list_bytes);
  o.max_concurrent_streams = static_cast<std::uint32_t>(cfg.api_max_concurrent_streams);
  o.max_connections = static_cast<std::size_t>(cfg.api_max_connections);
  o.idle_timeout = std::chrono::milliseconds(cfg.api_idle_timeout_ms);
  o.read_timeout = std::chrono::milliseconds(cfg.api_read_timeout_ms);
  o.handshake_timeout = std::chrono::milliseconds(cfg.tls_handshake_timeout_ms);
  o.tls = std::move(tls);
  return o;
}

}  // namespace msgin5g::daemon
