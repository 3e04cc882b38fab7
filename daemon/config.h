// msgind5gd configuration: one TOML file, every key also settable with --set key=value.
// One table (config.cc) gives each key its type, default, bounds and description; --help,
// --print-default-config and docs/config.md come from it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/delivery/target_uri.h"
#include "common/status.h"

namespace msgin5g::daemon {

struct Config {
  std::string api_listen;
  std::string api_root;
  std::int64_t api_threads = 0;
  std::int64_t api_max_body_bytes = 0;
  std::int64_t api_max_header_list_bytes = 0;
  std::int64_t api_max_concurrent_streams = 0;
  std::int64_t api_max_connections = 0;
  std::int64_t api_idle_timeout_ms = 0;
  std::int64_t api_read_timeout_ms = 0;
  std::int64_t api_retry_after_seconds = 0;
  bool api_http1 = true;

  bool tls_enabled = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  bool tls_require_client_cert = false;
  std::int64_t tls_handshake_timeout_ms = 0;

  std::string metrics_listen;
  bool metrics_tls = false;

  std::string admin_socket;
  std::string admin_listen;
  std::string admin_tokens_file;
  bool admin_tls = false;

  std::string storage_path;
  std::string storage_backup_dir;
  bool storage_sync = true;
  std::int64_t storage_max_batch_ops = 0;
  std::int64_t storage_max_pending_ops = 0;
  std::int64_t storage_max_pending_mb = 0;

  std::int64_t broker_default_ttl_s = 0;
  std::int64_t broker_max_ttl_s = 0;
  std::int64_t broker_segment_timeout_ms = 0;
  std::string broker_broadcast_gateway;
  std::int64_t broker_max_reassembled_bytes = 0;
  std::string broker_unknown_recipient;
  std::int64_t broker_max_open_segment_sets = 0;
  std::int64_t broker_max_open_segment_sets_per_originator = 0;
  std::int64_t broker_max_queued_messages = 0;
  std::int64_t broker_max_queued_bytes = 0;
  std::int64_t broker_max_queued_messages_per_recipient = 0;
  std::int64_t broker_max_queued_bytes_per_recipient = 0;
  std::int64_t broker_max_queued_messages_per_as = 0;
  std::int64_t broker_max_queued_bytes_per_as = 0;
  std::int64_t broker_max_ue_registrations = 0;
  std::int64_t broker_max_as_registrations = 0;

  bool delivery_enabled = true;
  std::int64_t delivery_max_in_flight_per_destination = 0;
  std::int64_t delivery_max_in_flight = 0;
  std::int64_t delivery_connect_timeout_ms = 0;
  std::int64_t delivery_request_timeout_ms = 0;
  std::int64_t delivery_retry_initial_ms = 0;
  std::int64_t delivery_retry_max_ms = 0;
  std::int64_t delivery_max_attempts = 0;
  std::int64_t delivery_max_attempts_without_store = 0;
  std::int64_t delivery_breaker_failures = 0;
  std::int64_t delivery_payload_cache_mb = 0;
  bool delivery_http1_fallback = true;
  std::int64_t delivery_http1_connections = 0;
  std::string delivery_tls_ca_file;
  bool delivery_tls_verify = true;
  bool delivery_allow_private_targets = false;  // only consulted with security.mode tls/oauth2
  // host or host:port that http:// may name with security.mode tls/oauth2 (AS targetUris, gateway
  // api_roots, the outbound token endpoint); every other destination must be https://.
  std::vector<std::string> delivery_plaintext_targets;

  // [gateways.NAME] tables: message gateways that routing rules may name.
  struct Gateway {
    std::string name;
    std::string type;  // l3g | n3g | bg
    std::string api_root;
    std::int64_t max_segment_bytes = 0;
    std::vector<std::string> areas;  // bg only: Broadcast Area ID globs it serves
  };
  std::vector<Gateway> gateways;

  std::string security_mode;  // off | tls | oauth2
  std::string security_server_id;
  bool capif_enabled = false;
  std::string capif_api_root;
  std::string capif_apf_id;
  bool capif_publish = true;
  std::string capif_advertise;
  std::string capif_issuer;
  std::string capif_keys_url;
  std::int64_t capif_keys_refresh_s = 0;
  std::int64_t capif_invoker_cache_ttl_s = 0;
  std::string capif_tls_ca_file;
  std::string capif_tls_cert_file;
  std::string capif_tls_key_file;
  bool security_token_endpoint = false;
  std::string security_issuer;
  std::string security_signing_key_file;
  std::int64_t security_token_lifetime_s = 0;
  std::int64_t security_token_leeway_s = 0;

  // [clients.ID] tables: API clients (ASs, gateways) and their policies.
  struct Client {
    std::string id;
    std::string secret_hash;
    std::vector<std::string> apis = {"msgs-asregistration", "msgs-msgdelivery"};
    std::vector<std::string> destinations = {"*"};
    std::vector<std::string> origins = {"*"};
    double rate_limit = 0;
    double rate_burst = 0;
    std::string tls_identity;
    std::string psk_identity;
    std::string psk_key_hex;
  };
  std::vector<Client> clients;

  // [issuers.NAME] tables: external token issuers (e.g. a CAPIF core function) we trust.
  struct Issuer {
    std::string name;
    std::string issuer;  // the iss claim; default: NAME
    std::string public_key_file;
  };
  std::vector<Issuer> issuers;

  std::string coap_listen;
  std::string coap_udp_engine;  // "msgin5g" or "libcoap"
  std::string coap_dtls_listen;
  bool coap_insecure_udp = false;
  std::int64_t coap_ack_timeout_ms = 0;
  std::int64_t coap_max_retransmit = 0;
  std::int64_t coap_max_segment_bytes = 0;
  std::int64_t coap_max_body_bytes = 0;
  std::string coap_dtls_cert_listen;
  std::string coap_dtls_cert_file;
  std::string coap_dtls_key_file;
  std::string coap_dtls_ca_file;
  std::int64_t coap_segment_recovery_ms = 0;
  std::int64_t coap_segment_recovery_requests = 0;
  // [ues.ID] tables: DTLS-PSK keys of UEs (identity = UE Service ID).
  struct Ue {
    std::string id;
    std::string psk_key_hex;
  };
  std::vector<Ue> ues;

  std::string delivery_tls_cert_file;
  std::string delivery_tls_key_file;
  std::string delivery_oauth2_token_url;
  std::string delivery_oauth2_client_id;
  std::string delivery_oauth2_client_secret;
  std::string delivery_oauth2_scope;

  std::int64_t shutdown_drain_timeout_ms = 0;
  std::string log_level;
  std::string log_format;  // auto | text | json
};

// The default configuration file (every key at its default, with comments).
std::string DefaultConfigText();

// A --help section listing every key with its default and description.
std::string ConfigHelp();

// Loads defaults, then `file` (if not empty), then each "key=value" override, then checks across
// keys. On failure, InvalidArgument lists every problem found, one line each, naming its key and
// where the key was set: "FILE:LINE: key: problem", "--set key: problem", or "key: problem" for a
// key left at its default (unknown key, wrong type, out of bounds, bad listen address, ...). A TOML
// syntax error is "FILE:LINE:COLUMN: description"; toml++ stops there, so it is the file's only
// line (the --set overrides are still checked).
Result<Config> LoadConfig(const std::string& file, const std::vector<std::string>& overrides);

// Where outbound requests may go, from security.mode and the delivery.* keys of a validated
// Config (api/delivery/target_uri.h).
std::shared_ptr<api::TargetUriPolicy> MakeTargetPolicy(const Config& c);

}  // namespace msgin5g::daemon
