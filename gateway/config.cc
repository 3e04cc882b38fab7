#include "gateway/config.h"

#include <algorithm>
#include <sstream>

#include "common/config/config_kit.h"

namespace msgin5g::gateway {

namespace {

using config::Errors;
using config::Locations;
using config::LocationOf;
using config::Type;
using config::Value;
using Option = config::Option<Config>;

template <std::string Config::*M>
auto Str() { return config::Str<Config, M>(); }
template <std::int64_t Config::*M>
auto Int() { return config::Int<Config, M>(); }
template <bool Config::*M>
auto Bool() { return config::Bool<Config, M>(); }
template <std::vector<std::string> Config::*M>
auto List() { return config::List<Config, M>(); }

const std::vector<Option>& Options() {
  static const std::vector<Option> kOptions = {
      {"api.listen", Type::kString, "\"127.0.0.1:8090\"", 0, 0,
       "MSGG_L3GDelivery / MSGG_N3GDelivery / MSGG_BGDelivery listener (what msgin5gd calls), "
       "host:port. h2c, h2 with TLS, and HTTP/1.1.",
       Str<&Config::api_listen>()},
      {"api.threads", Type::kInt, "1", 1, 64, "I/O threads.", Int<&Config::api_threads>()},
      {"api.max_body_bytes", Type::kInt, "1048576", 1024, 64 << 20,
       "Largest accepted request body; larger gets 413.", Int<&Config::api_max_body_bytes>()},
      {"api.retry_after_seconds", Type::kInt, "1", 1, 3600,
       "Retry-After sent with 503 answers.", Int<&Config::api_retry_after_seconds>()},
      {"tls.enabled", Type::kBool, "false", 0, 0,
       "Serve api.listen over TLS (ALPN h2, http/1.1) instead of cleartext.",
       Bool<&Config::tls_enabled>()},
      {"tls.cert_file", Type::kString, "\"\"", 0, 0, "PEM certificate chain (required with TLS).",
       Str<&Config::tls_cert_file>()},
      {"tls.key_file", Type::kString, "\"\"", 0, 0, "PEM private key (required with TLS).",
       Str<&Config::tls_key_file>()},
      {"tls.ca_file", Type::kString, "\"\"", 0, 0,
       "PEM CA bundle; when set, client certificates (msgin5gd's) are verified (mutual TLS).",
       Str<&Config::tls_ca_file>()},
      {"tls.require_client_cert", Type::kBool, "false", 0, 0,
       "With ca_file: refuse clients without a certificate.",
       Bool<&Config::tls_require_client_cert>()},
      {"metrics.listen", Type::kString, "\"127.0.0.1:9465\"", 0, 0,
       "Metrics and health listener (HTTP/1.1): /metrics, /healthz, /readyz.",
       Str<&Config::metrics_listen>()},
      {"admin.listen", Type::kString, "\"127.0.0.1:8091\"", 0, 0,
       "Admin API listener (identity map, SMSC state), loopback by default.",
       Str<&Config::admin_listen>()},
      {"storage.path", Type::kString, "\"./msgin5g-gateway-data\"", 0, 0,
       "RocksDB directory: identity map, receipt and reply maps, everything accepted and not yet "
       "handed on.",
       Str<&Config::storage_path>()},
      {"storage.sync", Type::kBool, "true", 0, 0,
       "fsync the WAL before answering (false loses accepted messages on power loss).",
       Bool<&Config::storage_sync>()},
      {"server.api_root", Type::kString, "\"http://127.0.0.1:8080\"", 0, 0,
       "msgin5gd's SBI: messages and reports from legacy / non-3GPP UEs go to "
       "{api_root}/msgs-msgdelivery/v1/deliver-ue-message and /deliver-report.",
       Str<&Config::server_api_root>()},
      {"server.allow_plaintext", Type::kBool, "false", 0, 0,
       "Allow an http:// server.api_root or server.oauth2_token_url while tls.enabled is true or "
       "OAuth2 is configured (otherwise both must be https://: a secured gateway does not send "
       "its tokens, client secret or messages in the clear).",
       Bool<&Config::server_allow_plaintext>()},
      {"server.request_timeout_ms", Type::kInt, "10000", 100, 600000,
       "Deadline of one request to msgin5gd.", Int<&Config::server_request_timeout_ms>()},
      {"server.retry_initial_ms", Type::kInt, "500", 10, 600000,
       "First retry delay after a transient failure towards msgin5gd (doubles).",
       Int<&Config::server_retry_initial_ms>()},
      {"server.retry_max_ms", Type::kInt, "30000", 10, 3600000, "Longest retry delay.",
       Int<&Config::server_retry_max_ms>()},
      {"server.tls_ca_file", Type::kString, "\"\"", 0, 0,
       "PEM CA bundle for an https:// api_root (default: the system store).",
       Str<&Config::server_tls_ca_file>()},
      {"server.tls_verify", Type::kBool, "true", 0, 0,
       "Verify msgin5gd's certificate and name.", Bool<&Config::server_tls_verify>()},
      {"server.tls_cert_file", Type::kString, "\"\"", 0, 0,
       "PEM client certificate for mutual TLS towards msgin5gd.",
       Str<&Config::server_tls_cert_file>()},
      {"server.tls_key_file", Type::kString, "\"\"", 0, 0, "PEM key of server.tls_cert_file.",
       Str<&Config::server_tls_key_file>()},
      {"server.oauth2_token_url", Type::kString, "\"\"", 0, 0,
       "OAuth2 token endpoint (client credentials); empty: no Authorization header.",
       Str<&Config::server_oauth2_token_url>()},
      {"server.oauth2_client_id", Type::kString, "\"\"", 0, 0, "OAuth2 client id.",
       Str<&Config::server_oauth2_client_id>()},
      {"server.oauth2_client_secret", Type::kString, "\"\"", 0, 0, "OAuth2 client secret.",
       Str<&Config::server_oauth2_client_secret>()},
      {"server.oauth2_scope", Type::kString, "\"msgs-msgdelivery\"", 0, 0,
       "OAuth2 scope asked for.", Str<&Config::server_oauth2_scope>()},
      {"l3g.enabled", Type::kBool, "false", 0, 0,
       "Serve MSGG_L3GDelivery: MSGin5G messages to legacy UEs as SMS over SMPP 3.4.",
       Bool<&Config::l3g_enabled>()},
      {"l3g.smsc", Type::kStringList, "[]", 0, 0,
       "SMSCs as host:port, in failover order (bind_transceiver to the first that binds).",
       List<&Config::l3g_smsc>()},
      {"l3g.system_id", Type::kString, "\"\"", 0, 0, "SMPP system_id (the ESME's account).",
       Str<&Config::l3g_system_id>()},
      {"l3g.password", Type::kString, "\"\"", 0, 0, "SMPP password.", Str<&Config::l3g_password>()},
      {"l3g.system_type", Type::kString, "\"\"", 0, 0, "SMPP system_type.",
       Str<&Config::l3g_system_type>()},
      {"l3g.window", Type::kInt, "10", 1, 1000, "Outstanding submit_sm at most (the SMPP window).",
       Int<&Config::l3g_window>()},
      {"l3g.max_submits_per_s", Type::kInt, "0", 0, 100000,
       "submit_sm per second at most, the SMSC account's throughput; 0: unlimited.",
       Int<&Config::l3g_max_submits_per_s>()},
      {"l3g.enquire_link_s", Type::kInt, "30", 1, 3600, "enquire_link interval.",
       Int<&Config::l3g_enquire_link_s>()},
      {"l3g.response_timeout_ms", Type::kInt, "10000", 100, 600000,
       "Deadline of every SMPP request (submit_sm, enquire_link, bind).",
       Int<&Config::l3g_response_timeout_ms>()},
      {"l3g.source_addr", Type::kString, "\"MSGin5G\"", 0, 0,
       "source_addr of MT SMS (a short code or an alphanumeric sender).",
       Str<&Config::l3g_source_addr>()},
      {"l3g.source_ton", Type::kInt, "5", 0, 6, "source_addr_ton (5: alphanumeric).",
       Int<&Config::l3g_source_ton>()},
      {"l3g.source_npi", Type::kInt, "0", 0, 18, "source_addr_npi.", Int<&Config::l3g_source_npi>()},
      {"l3g.dest_ton", Type::kInt, "1", 0, 6, "dest_addr_ton of MSISDNs (1: international).",
       Int<&Config::l3g_dest_ton>()},
      {"l3g.dest_npi", Type::kInt, "1", 0, 18, "dest_addr_npi of MSISDNs (1: E.164).",
       Int<&Config::l3g_dest_npi>()},
      {"l3g.max_parts", Type::kInt, "16", 1, 255,
       "Most SMS parts of one message; a longer payload is refused (400).",
       Int<&Config::l3g_max_parts>()},
      {"l3g.binary_app_ids", Type::kStringList, "[]", 0, 0,
       "appIds whose payloads are base64 of binary data: sent as 8-bit SMS (data_coding 4), and "
       "8-bit MO SMS are base64 for them. Other payloads are text: GSM 7-bit, else UCS-2.",
       List<&Config::l3g_binary_app_ids>()},
      {"l3g.request_receipts", Type::kBool, "true", 0, 0,
       "Ask the SMSC for delivery receipts (registered_delivery) when delivStReqInd is set; "
       "false: the report says only that the SMSC accepted every part.",
       Bool<&Config::l3g_request_receipts>()},
      {"l3g.receipt_timeout_s", Type::kInt, "172800", 10, 2592000,
       "No receipt for this long: the report is REPT_DELY_FAILED (RECEIPT_TIMEOUT).",
       Int<&Config::l3g_receipt_timeout_s>()},
      {"l3g.transaction_ttl_s", Type::kInt, "86400", 0, 2592000,
       "How long an MO SMS reply from an MSISDN goes to the originator that last messaged it "
       "(TS 23.554 8.7.1.4 messaging transaction); 0: never.",
       Int<&Config::l3g_transaction_ttl_s>()},
      {"l3g.mo_reassembly_timeout_s", Type::kInt, "300", 1, 86400,
       "Parts of a concatenated MO SMS still missing after this long: the parts held are dropped.",
       Int<&Config::l3g_mo_reassembly_timeout_s>()},
      {"l3g.mo_default_destination", Type::kString, "\"\"", 0, 0,
       "AS Service ID for MO SMS with no short-code rule and no open transaction; empty: such "
       "SMS are refused (ESME_RX_P_APPN).",
       Str<&Config::l3g_mo_default_destination>()},
      {"l3g.retry_initial_ms", Type::kInt, "1000", 10, 600000,
       "First retry delay of a part the SMSC refused transiently (doubles).",
       Int<&Config::l3g_retry_initial_ms>()},
      {"l3g.retry_max_ms", Type::kInt, "60000", 10, 3600000, "Longest retry delay.",
       Int<&Config::l3g_retry_max_ms>()},
      {"l3g.max_attempts", Type::kInt, "100", 1, 100000,
       "Attempts of one message before it fails (REPT_DELY_FAILED).",
       Int<&Config::l3g_max_attempts>()},
      {"mqtt.host", Type::kString, "\"127.0.0.1\"", 0, 0,
       "The operator's MQTT broker (N3G and BG roles).", Str<&Config::mqtt_host>()},
      {"mqtt.port", Type::kInt, "1883", 1, 65535, "Its port (8883 is usual with TLS).",
       Int<&Config::mqtt_port>()},
      {"mqtt.client_id", Type::kString, "\"msgin5g-gatewayd\"", 0, 0,
       "MQTT client id; the broker keeps this persistent session's QoS 1 messages while the "
       "gateway is away. Unique per gateway.",
       Str<&Config::mqtt_client_id>()},
      {"mqtt.username", Type::kString, "\"\"", 0, 0, "MQTT username; empty: none.",
       Str<&Config::mqtt_username>()},
      {"mqtt.password", Type::kString, "\"\"", 0, 0, "MQTT password.",
       Str<&Config::mqtt_password>()},
      {"mqtt.keepalive_s", Type::kInt, "30", 5, 65535, "MQTT keepalive.",
       Int<&Config::mqtt_keepalive_s>()},
      {"mqtt.tls", Type::kBool, "false", 0, 0, "MQTT over TLS (the broker's name is verified).",
       Bool<&Config::mqtt_tls>()},
      {"mqtt.tls_ca_file", Type::kString, "\"\"", 0, 0,
       "PEM CA of the broker; empty: the system store.", Str<&Config::mqtt_tls_ca_file>()},
      {"mqtt.tls_cert_file", Type::kString, "\"\"", 0, 0, "PEM client certificate (mutual TLS).",
       Str<&Config::mqtt_tls_cert_file>()},
      {"mqtt.tls_key_file", Type::kString, "\"\"", 0, 0, "PEM key of mqtt.tls_cert_file.",
       Str<&Config::mqtt_tls_key_file>()},
      {"mqtt.publish_timeout_ms", Type::kInt, "10000", 100, 600000,
       "No PUBACK within this long: the publish is retried.",
       Int<&Config::mqtt_publish_timeout_ms>()},
      {"mqtt.max_in_flight", Type::kInt, "100", 1, 65535, "Publishes awaiting PUBACK at most.",
       Int<&Config::mqtt_max_in_flight>()},
      {"n3g.enabled", Type::kBool, "false", 0, 0,
       "Serve MSGG_N3GDelivery: MSGin5G messages to non-3GPP devices over MQTT.",
       Bool<&Config::n3g_enabled>()},
      {"n3g.down_topic", Type::kString, "\"msgin5g/{ueSvcId}/down\"", 0, 0,
       "Where a device's messages and reports are published (QoS 1).",
       Str<&Config::n3g_down_topic>()},
      {"n3g.up_topic", Type::kString, "\"msgin5g/{ueSvcId}/up\"", 0, 0,
       "Where devices publish messages for MSGin5G (subscribed with + for {ueSvcId}).",
       Str<&Config::n3g_up_topic>()},
      {"n3g.report_topic", Type::kString, "\"msgin5g/{ueSvcId}/report\"", 0, 0,
       "Where devices publish delivery reports (with n3g.device_reports).",
       Str<&Config::n3g_report_topic>()},
      {"n3g.device_reports", Type::kBool, "false", 0, 0,
       "Relay the device's own reports; false: the broker's PUBACK makes the report.",
       Bool<&Config::n3g_device_reports>()},
      {"n3g.report_timeout_s", Type::kInt, "3600", 1, 2592000,
       "No device report for this long: REPT_DELY_FAILED (NO_DEVICE_REPORT).",
       Int<&Config::n3g_report_timeout_s>()},
      {"n3g.transaction_ttl_s", Type::kInt, "86400", 0, 2592000,
       "A device message without destAddr goes to whoever last messaged it, for this long.",
       Int<&Config::n3g_transaction_ttl_s>()},
      {"n3g.mo_default_destination", Type::kString, "\"\"", 0, 0,
       "AS Service ID for device messages with no destAddr and no open transaction; empty: drop.",
       Str<&Config::n3g_mo_default_destination>()},
      {"n3g.max_attempts", Type::kInt, "100", 1, 100000,
       "Publish attempts of one message before it fails (REPT_DELY_FAILED).",
       Int<&Config::n3g_max_attempts>()},
      {"bg.enabled", Type::kBool, "false", 0, 0,
       "Serve MSGG_BGDelivery: broadcasts published on an MQTT topic per Broadcast Area.",
       Bool<&Config::bg_enabled>()},
      {"bg.topic", Type::kString, "\"msgin5g/bc/{areaId}\"", 0, 0,
       "The topic of a Broadcast Area ({areaId}).", Str<&Config::bg_topic>()},
      {"bg.retain", Type::kBool, "false", 0, 0,
       "Publish retained: a device subscribing later still gets the area's last broadcast.",
       Bool<&Config::bg_retain>()},
      {"shutdown.drain_timeout_ms", Type::kInt, "5000", 0, 600000,
       "On SIGTERM, how long in-flight requests may take before connections are cut.",
       Int<&Config::shutdown_drain_timeout_ms>()},
      {"log.level", Type::kString, "\"info\"", 0, 0, "debug, info, warn or error.",
       Str<&Config::log_level>()},
      {"log.format", Type::kString, "\"auto\"", 0, 0,
       "auto (under systemd: journal priorities, no timestamps; else text), text or json (one "
       "object per line).",
       Str<&Config::log_format>()},
  };
  return kOptions;
}

// E.164 digits with an optional leading '+', as the SMSC wants destination_addr (21 octets max).
bool IsMsisdn(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

Status SetUeKey(Config& c, const std::string& id, std::string_view key, const Value& value,
                const std::string& origin) {
  const std::string where = origin + "ues." + id + "." + std::string(key);
  auto it = std::find_if(c.ues.begin(), c.ues.end(), [&](const Config::Ue& u) { return u.id == id; });
  if (it == c.ues.end()) {
    c.ues.push_back(Config::Ue{id, ""});
    it = std::prev(c.ues.end());
  }
  if (key.empty()) return Status::Ok();  // declared; validation asks for msisdn
  if (key != "msisdn") return Status::InvalidArgument(where + ": unknown key (msisdn)");
  auto v = config::AsString(value, where);
  if (!v.ok()) return v.status();
  if (!IsMsisdn(*v)) return Status::InvalidArgument(where + ": expected an MSISDN (digits)");
  it->msisdn = std::move(*v);
  return Status::Ok();
}

Status SetShortCodeKey(Config& c, const std::string& code, std::string_view key,
                       const Value& value, const std::string& origin) {
  const std::string where = origin + "short_codes." + code + "." + std::string(key);
  auto it = std::find_if(c.short_codes.begin(), c.short_codes.end(),
                         [&](const Config::ShortCode& s) { return s.code == code; });
  if (it == c.short_codes.end()) {
    c.short_codes.push_back(Config::ShortCode{code, ""});
    it = std::prev(c.short_codes.end());
  }
  if (key.empty()) return Status::Ok();
  if (key != "as") return Status::InvalidArgument(where + ": unknown key (as)");
  auto v = config::AsString(value, where);
  if (!v.ok()) return v.status();
  it->as = std::move(*v);
  return Status::Ok();
}

void Validate(const Config& c, const Locations& locs, Errors& errors) {
  auto bad = [&](const std::string& key, const std::string& problem) {
    errors.Add(LocationOf(locs, key) + key + ": " + problem);
  };
  for (auto [key, value] : {std::pair{"api.listen", &c.api_listen},
                            std::pair{"metrics.listen", &c.metrics_listen},
                            std::pair{"admin.listen", &c.admin_listen}}) {
    if (value->empty()) {
      bad(key, "must not be empty (host:port)");
    } else if (std::string why = config::ListenProblem(*value); !why.empty()) {
      bad(key, why);
    }
  }
  if (c.tls_enabled && (c.tls_cert_file.empty() || c.tls_key_file.empty())) {
    bad("tls.enabled", "needs tls.cert_file and tls.key_file");
  }
  if (c.server_api_root.rfind("http://", 0) != 0 && c.server_api_root.rfind("https://", 0) != 0) {
    bad("server.api_root", "must be an http:// or https:// URL");
  }
  // Security on one side means TLS on the other: with our own API on TLS or OAuth2 towards
  // msgin5gd, a plaintext upstream would carry the bearer token and client secret in the clear.
  const bool secured = c.tls_enabled || !c.server_oauth2_token_url.empty();
  if (secured && !c.server_allow_plaintext) {
    for (auto [key, url] : {std::pair{"server.api_root", &c.server_api_root},
                            std::pair{"server.oauth2_token_url", &c.server_oauth2_token_url}}) {
      if (url->rfind("http://", 0) == 0) {
        bad(key, "must be https:// when tls.enabled is true or OAuth2 is configured "
                 "(server.allow_plaintext = true allows http://)");
      }
    }
  }
  if (c.server_tls_cert_file.empty() != c.server_tls_key_file.empty()) {
    bad(c.server_tls_cert_file.empty() ? "server.tls_key_file" : "server.tls_cert_file",
        "server.tls_cert_file and server.tls_key_file go together");
  }
  if (c.server_retry_initial_ms > c.server_retry_max_ms) {
    bad("server.retry_initial_ms", "must not exceed server.retry_max_ms");
  }
  if (c.l3g_retry_initial_ms > c.l3g_retry_max_ms) {
    bad("l3g.retry_initial_ms", "must not exceed l3g.retry_max_ms");
  }
  if (c.l3g_enabled) {
    if (c.l3g_smsc.empty()) bad("l3g.smsc", "l3g.enabled needs at least one SMSC (host:port)");
    if (c.l3g_system_id.empty()) bad("l3g.system_id", "l3g.enabled needs the SMPP system_id");
  }
  for (const auto& s : c.l3g_smsc) {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() ||
        !std::all_of(s.begin() + static_cast<std::ptrdiff_t>(colon) + 1, s.end(),
                     [](unsigned char ch) { return ch >= '0' && ch <= '9'; }) ||
        std::stol(s.substr(colon + 1).substr(0, 6)) > 65535) {
      bad("l3g.smsc", "expected host:port, not '" + s + "'");
    }
  }
  // SMPP 3.4 §4.1: system_id 16, password 9, system_type 13, source_addr 21 octets with the NUL.
  if (c.l3g_system_id.size() > 15) bad("l3g.system_id", "at most 15 characters (SMPP 3.4)");
  if (c.l3g_password.size() > 8) bad("l3g.password", "at most 8 characters (SMPP 3.4)");
  if (c.l3g_system_type.size() > 12) bad("l3g.system_type", "at most 12 characters (SMPP 3.4)");
  if (c.l3g_source_addr.empty() || c.l3g_source_addr.size() > 20) {
    bad("l3g.source_addr", "1 to 20 characters (SMPP 3.4)");
  }
  std::vector<std::string> msisdns;
  for (const auto& u : c.ues) {
    if (u.msisdn.empty()) bad("ues." + u.id, "needs msisdn");
    msisdns.push_back(u.msisdn);
  }
  std::sort(msisdns.begin(), msisdns.end());
  if (auto d = std::adjacent_find(msisdns.begin(), msisdns.end());
      d != msisdns.end() && !d->empty()) {
    bad("ues", "MSISDN " + *d + " is given to two UEs (a reply could not be attributed)");
  }
  for (const auto& s : c.short_codes) {
    if (s.as.empty()) bad("short_codes." + s.code, "needs as (the AS Service ID)");
  }
  if ((c.n3g_enabled || c.bg_enabled) && c.mqtt_client_id.empty()) {
    bad("mqtt.client_id", "the persistent MQTT session needs a client id");
  }
  if (c.mqtt_tls_cert_file.empty() != c.mqtt_tls_key_file.empty()) {
    bad(c.mqtt_tls_cert_file.empty() ? "mqtt.tls_key_file" : "mqtt.tls_cert_file",
        "mqtt.tls_cert_file and mqtt.tls_key_file go together");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    bad("log.level", "must be debug, info, warn or error");
  }
  // The admin API edits the identity map and shows the SMSC state; it has no TLS of its own.
  if (!c.admin_listen.empty() && config::ListenProblem(c.admin_listen).empty() &&
      !config::IsLoopbackListen(c.admin_listen)) {
    bad("admin.listen",
        "must be a loopback address: the gateway's admin API has no authentication (reach it "
        "through an SSH tunnel or a local proxy)");
  }
  if (c.log_format != "auto" && c.log_format != "text" && c.log_format != "json") {
    bad("log.format", "must be auto, text or json");
  }
}

}  // namespace

std::string DefaultConfigText() {
  return config::DefaultText(
      Options(),
      "# msgin5g-gatewayd configuration. Every key is shown at its default.\n"
      "# Any key can also be set on the command line: --set section.key=value\n",
      "\n# The identity map (also editable over the admin API): UE Service ID -> MSISDN.\n"
      "# [ues.ue-1]\n"
      "# msisdn = \"46700000001\"\n"
      "\n# MO SMS to a short code go to an AS:\n"
      "# [short_codes.\"72555\"]\n"
      "# as = \"as-1\"\n");
}

std::string ConfigHelp() {
  return config::Help(Options(),
                      "  ues.ID.msisdn (string, file only)\n"
                      "      The identity map: the MSISDN of UE Service ID ID (admin API too).\n"
                      "  short_codes.CODE.as (string, file only)\n"
                      "      MO SMS to short code CODE go to the AS with this Service ID.\n");
}

Result<Config> LoadConfig(const std::string& file, const std::vector<std::string>& overrides) {
  Config c;
  Errors errors;
  Locations locs;
  const config::Schema schema =
      config::Bind(c, Options(), {{"ues", SetUeKey}, {"short_codes", SetShortCodeKey}});
  const bool file_read = config::Load(schema, DefaultConfigText(), file, overrides, locs, errors);
  if (file_read) Validate(c, locs, errors);
  if (!errors.empty()) return errors.ToStatus();
  return c;
}

}  // namespace msgin5g::gateway
