// msgin5g-gatewayd configuration: one TOML file, every scalar key also settable with --set, the
// same conventions as msgin5gd (common/config/config_kit.h). The option table in config.cc gives
// each key its type, default, bounds and description; --help and --print-default-config come
// from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace msgin5g::gateway {

struct Config {
  // Producer side: the MSGG_* APIs msgin5gd calls.
  std::string api_listen;
  std::int64_t api_threads = 0;
  std::int64_t api_max_body_bytes = 0;
  std::int64_t api_retry_after_seconds = 0;
  bool tls_enabled = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  bool tls_require_client_cert = false;

  std::string metrics_listen;
  std::string admin_listen;

  std::string storage_path;
  bool storage_sync = true;

  // Consumer side: msgin5gd's MSGS_MSGDelivery (deliver-ue-message, deliver-report).
  std::string server_api_root;
  bool server_allow_plaintext = false;
  std::int64_t server_request_timeout_ms = 0;
  std::int64_t server_retry_initial_ms = 0;
  std::int64_t server_retry_max_ms = 0;
  std::string server_tls_ca_file;
  bool server_tls_verify = true;
  std::string server_tls_cert_file;
  std::string server_tls_key_file;
  std::string server_oauth2_token_url;
  std::string server_oauth2_client_id;
  std::string server_oauth2_client_secret;
  std::string server_oauth2_scope;

  // L3G: SMS over SMPP 3.4.
  bool l3g_enabled = false;
  std::vector<std::string> l3g_smsc;  // host:port, in failover order
  std::string l3g_system_id;
  std::string l3g_password;
  std::string l3g_system_type;
  std::int64_t l3g_window = 0;
  std::int64_t l3g_max_submits_per_s = 0;
  std::int64_t l3g_enquire_link_s = 0;
  std::int64_t l3g_response_timeout_ms = 0;
  std::string l3g_source_addr;
  std::int64_t l3g_source_ton = 0;
  std::int64_t l3g_source_npi = 0;
  std::int64_t l3g_dest_ton = 0;
  std::int64_t l3g_dest_npi = 0;
  std::int64_t l3g_max_parts = 0;
  std::vector<std::string> l3g_binary_app_ids;
  bool l3g_request_receipts = true;
  std::int64_t l3g_receipt_timeout_s = 0;
  std::int64_t l3g_transaction_ttl_s = 0;
  std::int64_t l3g_mo_reassembly_timeout_s = 0;
  std::string l3g_mo_default_destination;
  std::int64_t l3g_retry_initial_ms = 0;
  std::int64_t l3g_retry_max_ms = 0;
  std::int64_t l3g_max_attempts = 0;

  // N3G (non-3GPP devices over MQTT) and BG (broadcast areas as MQTT topics), on one MQTT link.
  std::string mqtt_host;
  std::int64_t mqtt_port = 0;
  std::string mqtt_client_id;
  std::string mqtt_username;
  std::string mqtt_password;
  std::int64_t mqtt_keepalive_s = 0;
  bool mqtt_tls = false;
  std::string mqtt_tls_ca_file;
  std::string mqtt_tls_cert_file;
  std::string mqtt_tls_key_file;
  std::int64_t mqtt_publish_timeout_ms = 0;
  std::int64_t mqtt_max_in_flight = 0;

  bool n3g_enabled = false;
  std::string n3g_down_topic;
  std::string n3g_up_topic;
  std::string n3g_report_topic;
  bool n3g_device_reports = false;
  std::int64_t n3g_report_timeout_s = 0;
  std::int64_t n3g_transaction_ttl_s = 0;
  std::string n3g_mo_default_destination;
  std::int64_t n3g_max_attempts = 0;

  bool bg_enabled = false;
  std::string bg_topic;
  bool bg_retain = false;

  // [ues.ID] tables: the identity map, UE Service ID -> MSISDN.
  struct Ue {
    std::string id;
    std::string msisdn;
  };
  std::vector<Ue> ues;
  // [short_codes.CODE] tables: MO SMS to CODE go to the AS with Service ID `as`.
  struct ShortCode {
    std::string code;
    std::string as;
  };
  std::vector<ShortCode> short_codes;

  std::int64_t shutdown_drain_timeout_ms = 0;
  std::string log_level;
  std::string log_format;  // auto | text | json
};

// The default configuration file (every key at its default, with comments).
std::string DefaultConfigText();
// A --help section listing every key with its default and description.
std::string ConfigHelp();
// Defaults, then `file` (if not empty), then each "key=value" override, then checks across keys.
// On failure, InvalidArgument lists every problem, one line each, with its key and where it was
// set ("FILE:LINE: key: problem", "--set key: problem", "key: problem").
Result<Config> LoadConfig(const std::string& file, const std::vector<std::string>& overrides);

}  // namespace msgin5g::gateway
