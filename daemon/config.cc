#include "daemon/config.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "common/config/config_kit.h"

namespace msgin5g::daemon {

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
      {"api.listen", Type::kString, "\"127.0.0.1:8080\"", 0, 0,
       "SBI listener (AS and gateway APIs), host:port. h2c, h2 with TLS, and HTTP/1.1.",
       Str<&Config::api_listen>()},
      {"api.api_root", Type::kString, "\"\"", 0, 0,
       "Path prefix before /{apiName}/v1 (TS 29.501 apiRoot), e.g. \"/msgin5g\".",
       Str<&Config::api_root>()},
      {"api.threads", Type::kInt, "0", 0, 256, "I/O threads; 0 = one per core.",
       Int<&Config::api_threads>()},
      {"api.max_body_bytes", Type::kInt, "1048576", 1024, 64 << 20,
       "Largest accepted request body; larger gets 413.", Int<&Config::api_max_body_bytes>()},
      {"api.max_header_list_bytes", Type::kInt, "65536", 1024, 1 << 20,
       "Largest accepted request header list; larger gets 431.",
       Int<&Config::api_max_header_list_bytes>()},
      {"api.max_concurrent_streams", Type::kInt, "256", 1, 65536,
       "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection.",
       Int<&Config::api_max_concurrent_streams>()},
      {"api.max_connections", Type::kInt, "10000", 1, 1000000,
       "Open connections per listener; more are closed at accept.",
       Int<&Config::api_max_connections>()},
      {"api.idle_timeout_ms", Type::kInt, "120000", 100, 86400000,
       "Close a connection with no open request after this long.",
       Int<&Config::api_idle_timeout_ms>()},
      {"api.read_timeout_ms", Type::kInt, "30000", 100, 3600000,
       "Close a connection whose started request stalls this long.",
       Int<&Config::api_read_timeout_ms>()},
      {"api.retry_after_seconds", Type::kInt, "1", 1, 3600,
       "Retry-After sent with 503 and 429 answers.", Int<&Config::api_retry_after_seconds>()},
      {"api.http1", Type::kBool, "true", 0, 0, "Also accept HTTP/1.1 on the SBI listener.",
       Bool<&Config::api_http1>()},
      {"tls.enabled", Type::kBool, "false", 0, 0,
       "Serve the SBI listener over TLS (ALPN h2, http/1.1) instead of cleartext.",
       Bool<&Config::tls_enabled>()},
      {"tls.cert_file", Type::kString, "\"\"", 0, 0, "PEM certificate chain (required with TLS).",
       Str<&Config::tls_cert_file>()},
      {"tls.key_file", Type::kString, "\"\"", 0, 0, "PEM private key (required with TLS).",
       Str<&Config::tls_key_file>()},
      {"tls.ca_file", Type::kString, "\"\"", 0, 0,
       "PEM CA bundle; when set, client certificates are verified (mutual TLS).",
       Str<&Config::tls_ca_file>()},
      {"tls.require_client_cert", Type::kBool, "false", 0, 0,
       "With ca_file: refuse clients without a certificate.",
       Bool<&Config::tls_require_client_cert>()},
      {"tls.handshake_timeout_ms", Type::kInt, "10000", 100, 600000, "TLS handshake deadline.",
       Int<&Config::tls_handshake_timeout_ms>()},
      {"metrics.listen", Type::kString, "\"127.0.0.1:9464\"", 0, 0,
       "Metrics and health listener (HTTP/1.1): /metrics, /healthz, /readyz.",
       Str<&Config::metrics_listen>()},
      {"metrics.tls", Type::kBool, "false", 0, 0,
       "Serve metrics over HTTPS with the [tls] certificate (client certificates checked against "
       "tls.ca_file when set).",
       Bool<&Config::metrics_tls>()},
      {"admin.socket", Type::kString, "\"./msgin5g-admin.sock\"", 0, 0,
       "Unix socket of the admin API (/admin/v1/...: groups, topics, routing, queues, backup), "
       "mode 0660: whoever may open the file (owner, group) is a read-write admin. Empty: off.",
       Str<&Config::admin_socket>()},
      {"admin.listen", Type::kString, "\"\"", 0, 0,
       "TCP listener of the admin API, host:port; empty: off. Every request needs a bearer token "
       "from admin.tokens_file or a verified client certificate (admin.tls with tls.ca_file).",
       Str<&Config::admin_listen>()},
      {"admin.tokens_file", Type::kString, "\"\"", 0, 0,
       "Admin bearer tokens, one per line: NAME read-only|read-write sha256:HEX (msgin5gctl token "
       "create prints one). Re-read on SIGHUP.",
       Str<&Config::admin_tokens_file>()},
      {"admin.tls", Type::kBool, "false", 0, 0,
       "Serve the admin API over TLS with the [tls] certificate; with tls.ca_file and "
       "tls.require_client_cert only holders of a client certificate get in.",
       Bool<&Config::admin_tls>()},
      {"storage.path", Type::kString, "\"./msgin5g-data\"", 0, 0,
       "RocksDB data directory (created if missing).", Str<&Config::storage_path>()},
      {"storage.sync", Type::kBool, "true", 0, 0,
       "fsync the WAL before acknowledging. false can lose acknowledged messages on power loss.",
       Bool<&Config::storage_sync>()},
      {"storage.max_batch_ops", Type::kInt, "1024", 1, 65536,
       "Most operations committed by one group-commit write (one fsync).",
       Int<&Config::storage_max_batch_ops>()},
      {"storage.max_pending_ops", Type::kInt, "65536", 16, 10000000,
       "Writes waiting for the writer before answering 503 + Retry-After.",
       Int<&Config::storage_max_pending_ops>()},
      {"storage.max_pending_mb", Type::kInt, "256", 1, 65536,
       "Bytes (MiB) of writes waiting before answering 503 + Retry-After.",
       Int<&Config::storage_max_pending_mb>()},
      {"storage.backup_dir", Type::kString, "\"./msgin5g-backups\"", 0, 0,
       "Where POST /admin/v1/backups puts online backups (one directory each); empty: backups "
       "off. On storage.path's filesystem backups hard-link the table files (fast, little space); "
       "copy them elsewhere for safety from disk loss.",
       Str<&Config::storage_backup_dir>()},
      {"broker.default_ttl_s", Type::kInt, "86400", 1, 31536000,
       "Expiry of a stored message without stoAndFwParams.exprTime.",
       Int<&Config::broker_default_ttl_s>()},
      {"broker.max_ttl_s", Type::kInt, "2592000", 1, 315360000,
       "Longest a message is stored: a later stoAndFwParams.exprTime is brought forward to this "
       "(not refused); at least default_ttl_s.",
       Int<&Config::broker_max_ttl_s>()},
      {"broker.segment_timeout_ms", Type::kInt, "60000", 100, 86400000,
       "An incomplete set of inbound segments is dropped after this long.",
       Int<&Config::broker_segment_timeout_ms>()},
      {"broker.broadcast_gateway", Type::kString, "\"\"", 0, 0,
       "Name of the broadcast gateway for BC destinations; empty: BC is unreachable (stored).",
       Str<&Config::broker_broadcast_gateway>()},
      {"broker.max_reassembled_bytes", Type::kInt, "4194304", 1024, 1073741824,
       "Largest message reassembled from inbound segments; a segment beyond it gets 413.",
       Int<&Config::broker_max_reassembled_bytes>()},
      {"broker.unknown_recipient", Type::kString, "\"reject\"", 0, 0,
       "Message to an unregistered AS or undefined group: \"reject\" (404 UNKNOWN_RECIPIENT) or \"store\".",
       Str<&Config::broker_unknown_recipient>()},
      {"broker.max_open_segment_sets", Type::kInt, "100000", 1, 100000000,
       "Incomplete inbound segment sets held at once; a segment that would open one more gets 503 "
       "NF_CONGESTION + Retry-After (segments of open sets are still taken).",
       Int<&Config::broker_max_open_segment_sets>()},
      {"broker.max_open_segment_sets_per_originator", Type::kInt, "1000", 1, 100000000,
       "Incomplete inbound segment sets one originator may hold; past it a new set gets 429 "
       "NF_CONGESTION_RISK + Retry-After.",
       Int<&Config::broker_max_open_segment_sets_per_originator>()},
      {"broker.max_queued_messages", Type::kInt, "10000000", 1, 1000000000,
       "Queue entries (one per recipient of a message or report) held in all; a message or report "
       "that would pass it gets 503 NF_CONGESTION + Retry-After, nothing stored.",
       Int<&Config::broker_max_queued_messages>()},
      {"broker.max_queued_bytes", Type::kInt, "8589934592", 1024, 4398046511104,
       "Payload bytes of all queue entries (a fan-out counts once per recipient); past it: 503 "
       "NF_CONGESTION + Retry-After, nothing stored.",
       Int<&Config::broker_max_queued_bytes>()},
      {"broker.max_queued_messages_per_recipient", Type::kInt, "1000", 1, 1000000000,
       "Queue entries one UE (or group member, topic subscriber, BC) may have waiting; past it the "
       "message is not queued for it: 200 DELY_FAILED, failureCause QUEUE_FULL, nothing stored.",
       Int<&Config::broker_max_queued_messages_per_recipient>()},
      {"broker.max_queued_bytes_per_recipient", Type::kInt, "8388608", 1024, 4398046511104,
       "Payload bytes one UE (or group member, topic subscriber, BC) may have waiting; past it: "
       "as max_queued_messages_per_recipient.",
       Int<&Config::broker_max_queued_bytes_per_recipient>()},
      {"broker.max_queued_messages_per_as", Type::kInt, "1000000", 1, 1000000000,
       "Queue entries one AS may have waiting (UE messages, reports); past it: DELY_FAILED "
       "QUEUE_FULL as for a UE.",
       Int<&Config::broker_max_queued_messages_per_as>()},
      {"broker.max_queued_bytes_per_as", Type::kInt, "1073741824", 1024, 4398046511104,
       "Payload bytes one AS may have waiting; past it: DELY_FAILED QUEUE_FULL.",
       Int<&Config::broker_max_queued_bytes_per_as>()},
      {"broker.max_ue_registrations", Type::kInt, "5000000", 1, 1000000000,
       "Stored UE registrations; a REG of a new UE past it gets 5.03 NF_CONGESTION (a registered "
       "UE may always register again).",
       Int<&Config::broker_max_ue_registrations>()},
      {"broker.max_as_registrations", Type::kInt, "10000", 1, 100000000,
       "Stored AS registrations; a new asSvcId past it gets 503 NF_CONGESTION + Retry-After (a "
       "registered asSvcId may always register again).",
       Int<&Config::broker_max_as_registrations>()},
      {"delivery.enabled", Type::kBool, "true", 0, 0,
       "Forward queued messages to ASs and gateways (false: store only).",
       Bool<&Config::delivery_enabled>()},
      {"delivery.max_in_flight_per_destination", Type::kInt, "64", 1, 100000,
       "Requests in flight to one AS targetUri or gateway.",
       Int<&Config::delivery_max_in_flight_per_destination>()},
      {"delivery.max_in_flight", Type::kInt, "4096", 1, 1000000,
       "Requests in flight to all destinations together.",
       Int<&Config::delivery_max_in_flight>()},
      {"delivery.connect_timeout_ms", Type::kInt, "3000", 10, 600000,
       "TCP connect and TLS handshake deadline for outbound connections.",
       Int<&Config::delivery_connect_timeout_ms>()},
      {"delivery.request_timeout_ms", Type::kInt, "10000", 10, 600000,
       "Deadline of one delivery request; past it the attempt counts as a transient failure.",
       Int<&Config::delivery_request_timeout_ms>()},
      {"delivery.retry_initial_ms", Type::kInt, "1000", 1, 86400000,
       "First retry delay; doubles per attempt up to retry_max_ms, with jitter.",
       Int<&Config::delivery_retry_initial_ms>()},
      {"delivery.retry_max_ms", Type::kInt, "300000", 1, 86400000,
       "Longest retry delay (also the longest circuit-breaker pause).",
       Int<&Config::delivery_retry_max_ms>()},
      {"delivery.max_attempts", Type::kInt, "0", 0, 1000000,
       "Attempts before a stored message fails with a report; 0: retry until it expires.",
       Int<&Config::delivery_max_attempts>()},
      {"delivery.max_attempts_without_store", Type::kInt, "3", 1, 1000000,
       "Attempts for a message sent without stoAndFwInd before it fails with a report.",
       Int<&Config::delivery_max_attempts_without_store>()},
      {"delivery.breaker_failures", Type::kInt, "5", 1, 1000000,
       "Consecutive transient failures that pause a destination (circuit breaker).",
       Int<&Config::delivery_breaker_failures>()},
      {"delivery.payload_cache_mb", Type::kInt, "128", 0, 65536,
       "Payloads of pending messages kept in memory; older ones are read back from RocksDB.",
       Int<&Config::delivery_payload_cache_mb>()},
      {"delivery.http1_fallback", Type::kBool, "true", 0, 0,
       "Speak HTTP/1.1 to a destination that does not speak HTTP/2: one whose TLS handshake "
       "selects ALPN http/1.1 or none, or that answers the h2c preface with anything but a "
       "SETTINGS frame. Remembered per destination until restart and logged once; false: such deliveries fail.",
       Bool<&Config::delivery_http1_fallback>()},
      {"delivery.http1_connections", Type::kInt, "8", 1, 1024,
       "Connections kept to one HTTP/1.1 destination (one request at a time each).",
       Int<&Config::delivery_http1_connections>()},
      {"delivery.tls_ca_file", Type::kString, "\"\"", 0, 0,
       "CA bundle for https:// targets (empty: the system store).",
       Str<&Config::delivery_tls_ca_file>()},
      {"delivery.tls_verify", Type::kBool, "true", 0, 0,
       "Verify https:// targets' certificates (false only for tests).",
       Bool<&Config::delivery_tls_verify>()},
      {"delivery.allow_private_targets", Type::kBool, "false", 0, 0,
       "With security.mode tls or oauth2: accept AS targetUris at loopback and private addresses "
       "(127/8, ::1, localhost, 10/8, 172.16/12, 192.168/16, fc00::/7). With mode off they are "
       "always accepted; link-local addresses and our own listeners never are.",
       Bool<&Config::delivery_allow_private_targets>()},
      {"delivery.plaintext_targets", Type::kStringList, "[]", 0, 0,
       "With security.mode tls or oauth2: the hosts (\"host\" for any port, or \"host:port\") "
       "that http:// may name: AS targetUris, gateways' api_root, delivery.oauth2_token_url. "
       "Every other destination must be https://. Not consulted with mode off.",
       List<&Config::delivery_plaintext_targets>()},
      {"delivery.tls_cert_file", Type::kString, "\"\"", 0, 0,
       "Client certificate (PEM chain) presented to https:// targets that ask for one (mTLS).",
       Str<&Config::delivery_tls_cert_file>()},
      {"delivery.tls_key_file", Type::kString, "\"\"", 0, 0,
       "Private key of delivery.tls_cert_file.", Str<&Config::delivery_tls_key_file>()},
      {"delivery.oauth2_token_url", Type::kString, "\"\"", 0, 0,
       "OAuth2 token endpoint (HTTP/2) for outbound calls; empty: send no Authorization header.",
       Str<&Config::delivery_oauth2_token_url>()},
      {"delivery.oauth2_client_id", Type::kString, "\"\"", 0, 0,
       "client_id for the client-credentials grant.", Str<&Config::delivery_oauth2_client_id>()},
      {"delivery.oauth2_client_secret", Type::kString, "\"\"", 0, 0,
       "client_secret for the client-credentials grant.",
       Str<&Config::delivery_oauth2_client_secret>()},
      {"delivery.oauth2_scope", Type::kString, "\"\"", 0, 0,
       "scope requested with outbound tokens (empty: none).", Str<&Config::delivery_oauth2_scope>()},
      {"capif.enabled", Type::kBool, "false", 0, 0,
       "Work with a CAPIF core function (TS 29.222): publish our APIs and trust its token keys.",
       Bool<&Config::capif_enabled>()},
      {"capif.api_root", Type::kString, "\"\"", 0, 0,
       "The CAPIF core function's apiRoot (https://host:port); http:// only with security.mode "
       "off or a delivery.plaintext_targets entry.",
       Str<&Config::capif_api_root>()},
      {"capif.apf_id", Type::kString, "\"\"", 0, 0,
       "Our API publishing function's id at the CAPIF core function (needed to publish).",
       Str<&Config::capif_apf_id>()},
      {"capif.publish", Type::kBool, "true", 0, 0,
       "Publish msgs-asregistration and msgs-msgdelivery on start (Publish_Service_API); the "
       "serviceApiIds are kept in {storage.path}/capif-published.json and updated after a restart.",
       Bool<&Config::capif_publish>()},
      {"capif.advertise", Type::kString, "\"\"", 0, 0,
       "host:port of our SBI as API invokers reach it (the published interface); empty: "
       "api.listen as bound.",
       Str<&Config::capif_advertise>()},
      {"capif.issuer", Type::kString, "\"\"", 0, 0,
       "The iss of the CAPIF core function's tokens (needed with capif.keys_url).",
       Str<&Config::capif_issuer>()},
      {"capif.keys_url", Type::kString, "\"\"", 0, 0,
       "The CAPIF core function's token signing keys as a JWK set (RFC 7517); fetched at start, "
       "every capif.keys_refresh_s and when a token names an unknown kid. Empty: none fetched.",
       Str<&Config::capif_keys_url>()},
      {"capif.keys_refresh_s", Type::kInt, "300", 1, 86400,
       "Seconds between fetches of capif.keys_url.", Int<&Config::capif_keys_refresh_s>()},
      {"capif.invoker_cache_ttl_s", Type::kInt, "300", 1, 86400,
       "With security.mode tls: seconds a CAPIF core function's answer about an invoker "
       "(trustedInvokers) is kept; a certificate or PSK identity that names no configured client "
       "is let in only on that answer (503 when the CCF cannot be asked).",
       Int<&Config::capif_invoker_cache_ttl_s>()},
      {"capif.tls_ca_file", Type::kString, "\"\"", 0, 0,
       "CA bundle for the CAPIF core function's certificate (empty: the system store).",
       Str<&Config::capif_tls_ca_file>()},
      {"capif.tls_cert_file", Type::kString, "\"\"", 0, 0,
       "Our client certificate (PEM chain) towards the CAPIF core function (mTLS).",
       Str<&Config::capif_tls_cert_file>()},
      {"capif.tls_key_file", Type::kString, "\"\"", 0, 0,
       "Private key of capif.tls_cert_file.", Str<&Config::capif_tls_key_file>()},
      {"security.mode", Type::kString, "\"off\"", 0, 0,
       "SBI caller authentication: off (anonymous allowed), tls (a configured client's certificate "
       "or TLS-PSK identity required) or oauth2 (a Bearer token required).",
       Str<&Config::security_mode>()},
      {"security.server_id", Type::kString, "\"msgin5g\"", 0, 0,
       "This server's identifier (CAPIF aefId); accepted tokens must name it.",
       Str<&Config::security_server_id>()},
      {"security.token_endpoint", Type::kBool, "false", 0, 0,
       "Act as the OAuth2 authorization server: POST /oauth2/token and the CAPIF token endpoint.",
       Bool<&Config::security_token_endpoint>()},
      {"security.issuer", Type::kString, "\"\"", 0, 0,
       "iss of the tokens we issue; empty: security.server_id.", Str<&Config::security_issuer>()},
      {"security.signing_key_file", Type::kString, "\"\"", 0, 0,
       "PEM private key signing our tokens (EC P-256: ES256, RSA: RS256); empty: an EC key kept "
       "at {storage.path}/oauth2-signing-key.pem, made on first start.",
       Str<&Config::security_signing_key_file>()},
      {"security.token_lifetime_s", Type::kInt, "3600", 60, 86400, "Lifetime of issued tokens.",
       Int<&Config::security_token_lifetime_s>()},
      {"security.token_leeway_s", Type::kInt, "30", 0, 30,
       "Clock skew tolerated on a token's exp (TS 33.122: at most 30 s).",
       Int<&Config::security_token_leeway_s>()},
      {"coap.listen", Type::kString, "\"127.0.0.1:5683\"", 0, 0,
       "MSGin5G-1 CoAP endpoint for UEs over UDP (coap://), host:port; empty: off.",
       Str<&Config::coap_listen>()},
      {"coap.udp_engine", Type::kString, "\"msgin5g\"", 0, 0,
       "What serves coap.listen: \"msgin5g\" (our own datagram loop, whose cost per message does "
       "not grow with the number of UEs) or \"libcoap\" (libcoap 4.3.1, as DTLS is).",
       Str<&Config::coap_udp_engine>()},
      {"coap.dtls_listen", Type::kString, "\"\"", 0, 0,
       "CoAP over DTLS with PSK (coaps://), host:port, keys from [ues.ID]; empty: off.",
       Str<&Config::coap_dtls_listen>()},
      {"coap.insecure_udp", Type::kBool, "false", 0, 0,
       "Allow coap.listen (plain UDP) on a non-loopback address. INSECURE: over plain UDP a UE is "
       "known only by its source address, so whoever can send from an address can register as "
       "any UE; use coap.dtls_listen / coap.dtls_cert_listen on networks you do not control.",
       Bool<&Config::coap_insecure_udp>()},
      {"coap.ack_timeout_ms", Type::kInt, "2000", 1000, 60000,
       "RFC 7252 ACK_TIMEOUT for messages sent to UEs (doubles per retransmission).",
       Int<&Config::coap_ack_timeout_ms>()},
      {"coap.max_retransmit", Type::kInt, "4", 1, 10,
       "RFC 7252 MAX_RETRANSMIT; a UE that answers none of them is taken as asleep.",
       Int<&Config::coap_max_retransmit>()},
      {"coap.max_segment_bytes", Type::kInt, "2048", 64, 65536,
       "Segment size for UEs that declare none at REG (TS 23.554 8.5).",
       Int<&Config::coap_max_segment_bytes>()},
      {"coap.max_body_bytes", Type::kInt, "65536", 1024, 1048576,
       "Largest CoAP request body (block-wise reassembled); larger gets 4.13.",
       Int<&Config::coap_max_body_bytes>()},
      {"coap.dtls_cert_listen", Type::kString, "\"\"", 0, 0,
       "CoAP over DTLS with certificates (coaps://), host:port; the UE's certificate must chain to "
       "coap.dtls_ca_file and names its UE Service ID (subjectAltName, else CN); empty: off.",
       Str<&Config::coap_dtls_cert_listen>()},
      {"coap.dtls_cert_file", Type::kString, "\"\"", 0, 0,
       "PEM certificate (chain) of the server on coap.dtls_cert_listen.",
       Str<&Config::coap_dtls_cert_file>()},
      {"coap.dtls_key_file", Type::kString, "\"\"", 0, 0,
       "PEM private key for coap.dtls_cert_file.", Str<&Config::coap_dtls_key_file>()},
      {"coap.dtls_ca_file", Type::kString, "\"\"", 0, 0,
       "PEM CA certificate(s) UE certificates must chain to.", Str<&Config::coap_dtls_ca_file>()},
      {"coap.segment_recovery_ms", Type::kInt, "5000", 100, 600000,
       "Silence on a UE's incomplete segment set before the server asks for the missing segments "
       "(SEGREC).",
       Int<&Config::coap_segment_recovery_ms>()},
      {"coap.segment_recovery_requests", Type::kInt, "3", 0, 20,
       "SEGRECs per set before the server gives it up (SEGCONFIR FAILURE); 0: no recovery.",
       Int<&Config::coap_segment_recovery_requests>()},
      {"shutdown.drain_timeout_ms", Type::kInt, "10000", 0, 600000,
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

// [gateways.NAME] keys: each gateway is its own table, so they are not in the option table.
Status SetGatewayKey(Config& c, const std::string& name, std::string_view key,
                     const Value& value, const std::string& origin) {
  if (name.empty()) return Status::InvalidArgument(origin + "gateways: a gateway needs a name");
  auto it = std::find_if(c.gateways.begin(), c.gateways.end(),
                         [&](const Config::Gateway& g) { return g.name == name; });
  if (it == c.gateways.end()) {
    c.gateways.push_back(Config::Gateway{name, "", "", 0});
    it = std::prev(c.gateways.end());
  }
  if (key.empty()) return Status::Ok();  // declared, no keys
  const std::string where = origin + "gateways." + name + "." + std::string(key);
  if (key == "type" || key == "api_root") {
    auto v = config::AsString(value, where);
    if (!v.ok()) return v.status();
    (key == "type" ? it->type : it->api_root) = std::move(*v);
  } else if (key == "max_segment_bytes") {
    auto v = config::AsInt(value, where, 0, INT64_MAX);
    if (!v.ok()) return v.status();
    it->max_segment_bytes = *v;
  } else if (key == "areas") {
    // An array in the file; on the command line a comma-separated list.
    Value list = value;
    if (const auto* text = std::get_if<std::string>(&value)) {
      std::vector<std::string> items;
      for (std::size_t start = 0; start <= text->size();) {
        auto comma = std::min(text->find(',', start), text->size());
        if (comma > start) items.push_back(text->substr(start, comma - start));
        start = comma + 1;
      }
      list = items;
    }
    auto v = config::AsStringList(list, where);
    if (!v.ok()) return v.status();
    it->areas = std::move(*v);
  } else {
    return Status::InvalidArgument(where + ": unknown key (type, api_root, max_segment_bytes, areas)");
  }
  return Status::Ok();
}

Status SetClientKey(Config& c, const std::string& id, std::string_view key, const Value& value,
                    const std::string& origin) {
  if (id.empty()) return Status::InvalidArgument(origin + "clients: a client needs an id");
  auto it = std::find_if(c.clients.begin(), c.clients.end(),
                         [&](const Config::Client& x) { return x.id == id; });
  if (it == c.clients.end()) {
    c.clients.push_back(Config::Client{});
    it = std::prev(c.clients.end());
    it->id = id;
  }
  if (key.empty()) return Status::Ok();  // declared, no keys: the default policy
  const std::string where = origin + "clients." + id + "." + std::string(key);
  std::string* str = key == "secret_hash"    ? &it->secret_hash
                     : key == "tls_identity" ? &it->tls_identity
                     : key == "psk_identity" ? &it->psk_identity
                     : key == "psk_key"      ? &it->psk_key_hex
                                             : nullptr;
  std::vector<std::string>* list = key == "apis"           ? &it->apis
                                   : key == "destinations" ? &it->destinations
                                   : key == "origins"      ? &it->origins
                                                           : nullptr;
  double* num = key == "rate_limit" ? &it->rate_limit : key == "rate_burst" ? &it->rate_burst : nullptr;
  if (str != nullptr) {
    auto v = config::AsString(value, where);
    if (!v.ok()) return v.status();
    *str = std::move(*v);
  } else if (list != nullptr) {
    auto v = config::AsStringList(value, where);
    if (!v.ok()) return v.status();
    *list = std::move(*v);
  } else if (num != nullptr) {
    auto v = config::AsNumber(value, where);
    if (!v.ok()) return v.status();
    *num = *v;
  } else {
    return Status::InvalidArgument(where +
                                   ": unknown key (secret_hash, apis, destinations, origins, "
                                   "rate_limit, rate_burst, tls_identity, psk_identity, psk_key)");
  }
  return Status::Ok();
}

Status SetUeKey(Config& c, const std::string& id, std::string_view key, const Value& value,
                const std::string& origin) {
  const std::string where = origin + "ues." + id + "." + std::string(key);
  auto it = std::find_if(c.ues.begin(), c.ues.end(), [&](const Config::Ue& u) { return u.id == id; });
  if (it == c.ues.end()) {
    c.ues.push_back(Config::Ue{id, ""});
    it = std::prev(c.ues.end());
  }
  if (key.empty()) return Status::Ok();  // declared; validation asks for psk_key
  if (key != "psk_key") return Status::InvalidArgument(where + ": unknown key (psk_key)");
  auto v = config::AsString(value, where);
  if (!v.ok()) return v.status();
  it->psk_key_hex = std::move(*v);
  return Status::Ok();
}

Status SetIssuerKey(Config& c, const std::string& name, std::string_view key,
                    const Value& value, const std::string& origin) {
  if (name.empty()) return Status::InvalidArgument(origin + "issuers: an issuer needs a name");
  auto it = std::find_if(c.issuers.begin(), c.issuers.end(),
                         [&](const Config::Issuer& x) { return x.name == name; });
  if (it == c.issuers.end()) {
    c.issuers.push_back(Config::Issuer{name, name, ""});
    it = std::prev(c.issuers.end());
  }
  if (key.empty()) return Status::Ok();  // declared; validation asks for public_key_file
  const std::string where = origin + "issuers." + name + "." + std::string(key);
  if (key != "issuer" && key != "public_key_file") {
    return Status::InvalidArgument(where + ": unknown key (issuer, public_key_file)");
  }
  auto v = config::AsString(value, where);
  if (!v.ok()) return v.status();
  (key == "issuer" ? it->issuer : it->public_key_file) = std::move(*v);
  return Status::Ok();
}

using config::IsLoopbackListen;
using config::ListenProblem;

// Checks across keys, after every key is applied; reports each problem at the key it names first
// (where that key was set).
void Validate(const Config& c, const Locations& locs, Errors& errors) {
  auto bad = [&](const std::string& key, const std::string& problem) {
    errors.Add(LocationOf(locs, key) + key + ": " + problem);
  };
  struct Listen {
    const char* key;
    const std::string* value;
    bool required;
  };
  for (const Listen& l : {Listen{"api.listen", &c.api_listen, true},
                          Listen{"metrics.listen", &c.metrics_listen, true},
                          Listen{"admin.listen", &c.admin_listen, false},
                          Listen{"coap.listen", &c.coap_listen, false},
                          Listen{"coap.dtls_listen", &c.coap_dtls_listen, false},
                          Listen{"coap.dtls_cert_listen", &c.coap_dtls_cert_listen, false}}) {
    if (l.value->empty()) {
      if (l.required) bad(l.key, "must not be empty (host:port)");
    } else if (std::string why = ListenProblem(*l.value); !why.empty()) {
      bad(l.key, why);
    }
  }
  if (c.broker_default_ttl_s > c.broker_max_ttl_s) {
    bad("broker.default_ttl_s", "must not exceed broker.max_ttl_s");
  }
  if (c.broker_unknown_recipient != "reject" && c.broker_unknown_recipient != "store") {
    bad("broker.unknown_recipient", "must be \"reject\" or \"store\"");
  }
  if (c.coap_udp_engine != "msgin5g" && c.coap_udp_engine != "libcoap") {
    bad("coap.udp_engine", "must be \"msgin5g\" or \"libcoap\"");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    bad("log.level", "must be debug, info, warn or error");
  }
  if (c.log_format != "auto" && c.log_format != "text" && c.log_format != "json") {
    bad("log.format", "must be auto, text or json");
  }
  if (c.tls_enabled && (c.tls_cert_file.empty() || c.tls_key_file.empty())) {
    bad("tls.enabled", "needs tls.cert_file and tls.key_file");
  }
  if ((c.admin_tls || c.metrics_tls) && (c.tls_cert_file.empty() || c.tls_key_file.empty())) {
    bad(c.admin_tls ? "admin.tls" : "metrics.tls",
        "admin.tls and metrics.tls need tls.cert_file and tls.key_file");
  }
  // The admin API can purge queues, delete messages and rewrite routing. Over TCP every request
  // must carry credentials; off loopback they must not travel in clear text.
  if (!c.admin_listen.empty() && ListenProblem(c.admin_listen).empty()) {
    const bool mtls = c.admin_tls && !c.tls_ca_file.empty();
    if (c.admin_tokens_file.empty() && !mtls) {
      bad("admin.listen",
          "needs credentials: set admin.tokens_file (bearer tokens with roles), or serve it with "
          "mutual TLS (admin.tls = true, tls.ca_file); the Unix socket (admin.socket) needs none");
    } else if (!IsLoopbackListen(c.admin_listen) &&
               !(c.admin_tls && (c.tls_require_client_cert || !c.admin_tokens_file.empty()))) {
      bad("admin.listen",
          "is not a loopback address, and anyone who reaches the admin API can purge queues and "
          "rewrite routing: keep it on loopback, or serve it with TLS (admin.tls = true) and "
          "either bearer tokens (admin.tokens_file) or client certificates (tls.ca_file, "
          "tls.require_client_cert = true)");
    }
  }
  if (!c.admin_socket.empty() && c.admin_socket.size() > 107) {
    bad("admin.socket", "a Unix socket path must be at most 107 bytes");
  }
  if (c.tls_require_client_cert && c.tls_ca_file.empty()) {
    bad("tls.require_client_cert", "needs tls.ca_file");
  }
  if (!c.api_root.empty() && c.api_root.front() != '/') {
    bad("api.api_root", "must start with '/'");
  }
  for (const auto& g : c.gateways) {
    if (g.type != "l3g" && g.type != "n3g" && g.type != "bg") {
      bad("gateways." + g.name + ".type", "must be l3g, n3g or bg");
    }
    if (g.api_root.rfind("http://", 0) != 0 && g.api_root.rfind("https://", 0) != 0) {
      bad("gateways." + g.name + ".api_root", "must be an http:// or https:// URL");
    }
    if (!g.areas.empty() && g.type != "bg") {
      bad("gateways." + g.name + ".areas", "only a bg gateway serves Broadcast Areas");
    }
    for (const auto& a : g.areas) {
      if (a.empty()) bad("gateways." + g.name + ".areas", "an area pattern must not be empty");
    }
  }
  if (c.security_mode != "off" && c.security_mode != "tls" && c.security_mode != "oauth2") {
    bad("security.mode", "must be off, tls or oauth2");
  }
  bool targets_parse = true;
  for (const auto& t : c.delivery_plaintext_targets) {
    if (auto p = api::TargetUriPolicy::ParsePlaintextTarget(t); !p.ok()) {
      bad("delivery.plaintext_targets", p.status().message());
      targets_parse = false;
    }
  }
  if (targets_parse && (c.security_mode == "tls" || c.security_mode == "oauth2")) {
    // Outbound requests to destinations the configuration names are held to TLS too.
    auto policy = MakeTargetPolicy(c);
    for (const auto& g : c.gateways) {
      if (auto st = policy->CheckTransport(g.api_root); !st.ok()) {
        bad("gateways." + g.name + ".api_root", st.message());
      }
    }
    if (!c.delivery_oauth2_token_url.empty()) {
      if (auto st = policy->CheckTransport(c.delivery_oauth2_token_url); !st.ok()) {
        bad("delivery.oauth2_token_url", st.message());
      }
    }
    if (c.capif_enabled) {
      for (const auto& [key, url] : {std::pair<const char*, const std::string*>{
                                         "capif.api_root", &c.capif_api_root},
                                     {"capif.keys_url", &c.capif_keys_url}}) {
        if (url->empty()) continue;
        if (auto st = policy->CheckTransport(*url); !st.ok()) bad(key, st.message());
      }
    }
  }
  if (c.capif_enabled) {
    auto is_url = [](const std::string& u) {
      return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0;
    };
    if (!is_url(c.capif_api_root)) bad("capif.api_root", "must be an https:// (or http://) URL");
    if (c.capif_publish && c.capif_apf_id.empty()) bad("capif.apf_id", "needs a value to publish");
    if (!c.capif_keys_url.empty() && !is_url(c.capif_keys_url)) {
      bad("capif.keys_url", "must be an https:// (or http://) URL");
    }
    if (!c.capif_keys_url.empty() && c.capif_issuer.empty()) {
      bad("capif.issuer", "needs a value with capif.keys_url (the iss of the CCF's tokens)");
    }
    if (!c.capif_advertise.empty() && c.capif_advertise.rfind(':') == std::string::npos) {
      bad("capif.advertise", "must be host:port");
    }
  }
  if (c.security_mode == "tls" && !c.tls_enabled) {
    bad("security.mode", "\"tls\" needs tls.enabled");
  }
  if (c.security_mode == "oauth2" && !c.security_token_endpoint && c.issuers.empty() &&
      !(c.capif_enabled && !c.capif_keys_url.empty())) {
    bad("security.mode",
        "\"oauth2\" needs security.token_endpoint, an [issuers.NAME] key or capif.keys_url");
  }
  if (c.security_server_id.empty()) {
    bad("security.server_id", "must not be empty");
  }
  for (const auto& i : c.issuers) {
    if (i.public_key_file.empty()) bad("issuers." + i.name + ".public_key_file", "is required");
  }
  for (const auto& cl : c.clients) {
    const auto& k = cl.psk_key_hex;
    bool hex = k.size() % 2 == 0 &&
               std::all_of(k.begin(), k.end(), [](unsigned char ch) { return std::isxdigit(ch); });
    if (!hex || (!k.empty() && k.size() < 32)) {
      bad("clients." + cl.id + ".psk_key", "must be at least 32 hex digits (16 bytes)");
    }
  }
  for (const auto& u : c.ues) {
    const auto& k = u.psk_key_hex;
    bool hex = k.size() % 2 == 0 &&
               std::all_of(k.begin(), k.end(), [](unsigned char ch) { return std::isxdigit(ch); });
    if (!hex || k.size() < 32) bad("ues." + u.id + ".psk_key", "must be at least 32 hex digits");
  }
  if (!c.delivery_oauth2_token_url.empty() && c.delivery_oauth2_client_id.empty()) {
    bad("delivery.oauth2_token_url", "needs delivery.oauth2_client_id");
  }
  if (c.coap_segment_recovery_requests > 0 &&
      c.coap_segment_recovery_ms * (c.coap_segment_recovery_requests + 1) >=
          c.broker_segment_timeout_ms) {
    // Recovery must end before the broker drops the stored segments it is recovering.
    bad("coap.segment_recovery_ms",
        "coap.segment_recovery_ms x (coap.segment_recovery_requests + 1) must be below "
        "broker.segment_timeout_ms");
  }
  if (!c.coap_listen.empty() && ListenProblem(c.coap_listen).empty() && !c.coap_insecure_udp &&
      !IsLoopbackListen(c.coap_listen)) {
    bad("coap.listen",
        "plain UDP on " + c.coap_listen +
            " is unauthenticated (anyone who can send from an address can act as a UE); listen on "
            "loopback, use coap.dtls_listen, or set coap.insecure_udp = true to accept the risk");
  }
  if (!c.coap_dtls_cert_listen.empty() &&
      (c.coap_dtls_cert_file.empty() || c.coap_dtls_key_file.empty() || c.coap_dtls_ca_file.empty())) {
    bad("coap.dtls_cert_listen",
        "needs coap.dtls_cert_file, coap.dtls_key_file and coap.dtls_ca_file");
  }
  if (c.delivery_tls_cert_file.empty() != c.delivery_tls_key_file.empty()) {
    bad(c.delivery_tls_cert_file.empty() ? "delivery.tls_key_file" : "delivery.tls_cert_file",
        "delivery.tls_cert_file and delivery.tls_key_file go together");
  }
  if (!c.broker_broadcast_gateway.empty() &&
      std::none_of(c.gateways.begin(), c.gateways.end(), [&](const Config::Gateway& g) {
        return g.name == c.broker_broadcast_gateway && g.type == "bg";
      })) {
    bad("broker.broadcast_gateway",
        "no gateway '" + c.broker_broadcast_gateway + "' of type bg is configured");
  }
}

}  // namespace

std::string DefaultConfigText() {
  std::ostringstream out;
  out << "\n# Message gateways (none by default): one table each, named by routing rules and\n"
         "# broker.broadcast_gateway; --set gateways.NAME.KEY=VALUE works too.\n"
         "# [gateways.l3g-1]\n"
         "# type = \"l3g\"                          # l3g, n3g or bg\n"
         "# api_root = \"https://l3g.example.net\"  # + /msgg-l3gdelivery/v1/...\n"
         "# max_segment_bytes = 0                 # larger payloads go out segmented; 0: never\n"
         "# areas = [\"north-*\", \"area-7\"]        # bg only: Broadcast Area IDs (globs) it serves;\n"
         "#                                       # other areas go to broker.broadcast_gateway\n"
         "\n# API clients (none by default): identity, credentials and admission policy. See\n"
         "# docs/security.md; make secret_hash with: msgin5gd --hash-secret SECRET\n"
         "# [clients.as-1]\n"
         "# secret_hash = \"pbkdf2-sha256$20000$...\"  # for the token endpoint\n"
         "# apis = [\"msgs-asregistration\", \"msgs-msgdelivery\"]\n"
         "# destinations = [\"GROUP:g1\", \"UE:ue-1*\"]  # TYPE:GLOB or \"*\"\n"
         "# origins = [\"AS:as-1\"]\n"
         "# rate_limit = 100                       # requests/s; 0: unlimited (429 beyond)\n"
         "# rate_burst = 200\n"
         "# tls_identity = \"as-1.example.net\"     # client certificate SAN URI/DNS or CN\n"
         "# psk_identity = \"as-1\"                 # TLS-PSK identity and key (hex)\n"
         "# psk_key = \"00112233445566778899aabbccddeeff\"\n"
         "\n# DTLS-PSK keys of UEs on coap.dtls_listen (identity = UE Service ID):\n"
         "# [ues.ue-1]\n"
         "# psk_key = \"00112233445566778899aabbccddeeff\"\n"
         "\n# Trusted external token issuers (e.g. a CAPIF core function):\n"
         "# [issuers.ccf]\n"
         "# issuer = \"ccf\"                         # the iss claim; default: the table name\n"
         "# public_key_file = \"/etc/msgin5g/ccf-public.pem\"  # PEM public key or certificate\n";
  return config::DefaultText(Options(),
                             "# msgin5gd configuration. Every key is shown at its default.\n"
                             "# Any key can also be set on the command line: --set section.key=value\n",
                             out.str());
}

std::string ConfigHelp() {
  std::ostringstream out;
  out << "  gateways.NAME.type (string: l3g, n3g or bg), gateways.NAME.api_root (string: http(s) URL),\n"
         "  gateways.NAME.max_segment_bytes (integer, default 0 = never segment),\n"
         "  gateways.NAME.areas (bg only: array of Broadcast Area ID globs; --set: comma-separated)\n"
         "      A message gateway that routing rules and broker.broadcast_gateway may name.\n"
         "  clients.ID.{secret_hash, apis, destinations, origins, rate_limit, rate_burst,\n"
         "  tls_identity, psk_identity, psk_key} (file only)\n"
         "      An API client: credentials, TLS identity and admission policy (docs/security.md).\n"
         "  ues.ID.psk_key (file only)\n"
         "      A UE's DTLS-PSK key (hex) for coap.dtls_listen; the identity is the UE Service ID.\n"
         "  issuers.NAME.{issuer, public_key_file} (file only)\n"
         "      An external token issuer whose signatures are trusted.\n";
  return config::Help(Options(), out.str());
}

std::shared_ptr<api::TargetUriPolicy> MakeTargetPolicy(const Config& c) {
  const bool secure = c.security_mode != "off";
  std::vector<api::TargetUriPolicy::PlaintextTarget> plaintext;
  for (const auto& t : c.delivery_plaintext_targets) {
    if (auto p = api::TargetUriPolicy::ParsePlaintextTarget(t); p.ok()) plaintext.push_back(*p);
  }
  return std::make_shared<api::TargetUriPolicy>(!secure || c.delivery_allow_private_targets,
                                                secure, std::move(plaintext));
}

Result<Config> LoadConfig(const std::string& file, const std::vector<std::string>& overrides) {
  Config c;
  Errors errors;
  Locations locs;
  const config::Schema schema =
      config::Bind(c, Options(),
                   {{"gateways", SetGatewayKey, /*set_allowed=*/true},
                    {"clients", SetClientKey},
                    {"ues", SetUeKey},
                    {"issuers", SetIssuerKey}});
  const bool file_read = config::Load(schema, DefaultConfigText(), file, overrides, locs, errors);
  if (file_read) Validate(c, locs, errors);
  if (!errors.empty()) return errors.ToStatus();
  return c;
}

}  // namespace msgin5g::daemon
