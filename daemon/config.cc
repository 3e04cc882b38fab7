#include "daemon/config.h"

// Header-only with exceptions off: the packaged shared library is built with exceptions (another
// ABI namespace), and no exception may leave config loading.
#undef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <functional>
#include <sstream>

namespace msgin5g::daemon {

namespace {

enum class Type { kString, kInt, kBool };

struct Option {
  const char* key;  // section.name
  Type type;
  const char* default_value;  // as TOML text
  std::int64_t min = 0;
  std::int64_t max = 0;
  const char* help;
  std::function<void(Config&, const toml::node&)> set;
};

template <std::string Config::*M>
std::function<void(Config&, const toml::node&)> Str() {
  return [](Config& c, const toml::node& n) { c.*M = *n.value<std::string>(); };
}
template <std::int64_t Config::*M>
std::function<void(Config&, const toml::node&)> Int() {
  return [](Config& c, const toml::node& n) { c.*M = *n.value<std::int64_t>(); };
}
template <bool Config::*M>
std::function<void(Config&, const toml::node&)> Bool() {
  return [](Config& c, const toml::node& n) { c.*M = *n.value<bool>(); };
}

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
      {"admin.listen", Type::kString, "\"127.0.0.1:8081\"", 0, 0,
       "Admin API listener (/admin/v1/...): groups, topics, routing, queues. Keep it private.",
       Str<&Config::admin_listen>()},
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
      {"broker.default_ttl_s", Type::kInt, "86400", 1, 31536000,
       "Expiry of a stored message without stoAndFwParams.exprTime.",
       Int<&Config::broker_default_ttl_s>()},
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
      {"shutdown.drain_timeout_ms", Type::kInt, "10000", 0, 600000,
       "On SIGTERM, how long in-flight requests may take before connections are cut.",
       Int<&Config::shutdown_drain_timeout_ms>()},
      {"log.level", Type::kString, "\"info\"", 0, 0, "debug, info, warn or error.",
       Str<&Config::log_level>()},
  };
  return kOptions;
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kString: return "string";
    case Type::kInt: return "integer";
    case Type::kBool: return "boolean";
  }
  return "?";
}

Status Apply(Config& c, const Option& o, const toml::node& n) {
  bool ok = (o.type == Type::kString && n.is_string()) ||
            (o.type == Type::kInt && n.is_integer()) || (o.type == Type::kBool && n.is_boolean());
  if (!ok) return Status::InvalidArgument(std::string(o.key) + ": expected " + TypeName(o.type));
  if (o.type == Type::kInt) {
    auto v = *n.value<std::int64_t>();
    if (v < o.min || v > o.max) {
      return Status::InvalidArgument(std::string(o.key) + ": " + std::to_string(v) +
                                     " is outside [" + std::to_string(o.min) + ", " +
                                     std::to_string(o.max) + "]");
    }
  }
  o.set(c, n);
  return Status::Ok();
}

const Option* Find(std::string_view key) {
  for (const auto& o : Options()) {
    if (key == o.key) return &o;
  }
  return nullptr;
}

Status ApplyTable(Config& c, const toml::table& root, const std::string& origin) {
  for (const auto& [section, node] : root) {
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      return Status::InvalidArgument(origin + ": unknown key " + std::string(section.str()));
    }
    for (const auto& [name, value] : *t) {
      std::string key = std::string(section.str()) + "." + std::string(name.str());
      const Option* o = Find(key);
      if (o == nullptr) return Status::InvalidArgument(origin + ": unknown key " + key);
      MSGIN5G_RETURN_IF_ERROR(Apply(c, *o, value));
    }
  }
  return Status::Ok();
}

Status Validate(const Config& c) {
  if (c.broker_unknown_recipient != "reject" && c.broker_unknown_recipient != "store") {
    return Status::InvalidArgument("broker.unknown_recipient: must be \"reject\" or \"store\"");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    return Status::InvalidArgument("log.level: must be debug, info, warn or error");
  }
  if (c.tls_enabled && (c.tls_cert_file.empty() || c.tls_key_file.empty())) {
    return Status::InvalidArgument("tls.enabled needs tls.cert_file and tls.key_file");
  }
  if (c.tls_require_client_cert && c.tls_ca_file.empty()) {
    return Status::InvalidArgument("tls.require_client_cert needs tls.ca_file");
  }
  if (!c.api_root.empty() && c.api_root.front() != '/') {
    return Status::InvalidArgument("api.api_root: must start with '/'");
  }
  return Status::Ok();
}

}  // namespace

std::string DefaultConfigText() {
  std::ostringstream out;
  out << "# msgin5gd configuration. Every key is shown at its default.\n"
         "# Any key can also be set on the command line: --set section.key=value\n";
  std::string section;
  for (const auto& o : Options()) {
    std::string key = o.key;
    std::string sec = key.substr(0, key.find('.'));
    if (sec != section) {
      out << "\n[" << sec << "]\n";
      section = sec;
    }
    out << "# " << o.help << "\n" << key.substr(key.find('.') + 1) << " = " << o.default_value
        << "\n";
  }
  return out.str();
}

std::string ConfigHelp() {
  std::ostringstream out;
  for (const auto& o : Options()) {
    out << "  " << o.key << " (" << TypeName(o.type) << ", default " << o.default_value
        << ")\n      " << o.help << "\n";
  }
  return out.str();
}

Result<Config> LoadConfig(const std::string& file, const std::vector<std::string>& overrides) {
  Config c;
  {
    auto defaults = toml::parse(DefaultConfigText());
    if (!defaults) return Status::Internal("embedded default configuration does not parse");
    MSGIN5G_RETURN_IF_ERROR(ApplyTable(c, defaults.table(), "defaults"));
  }
  if (!file.empty()) {
    auto parsed = toml::parse_file(file);
    if (!parsed) {
      const auto& err = parsed.error();
      std::ostringstream msg;
      msg << file << ":" << err.source().begin.line << ":" << err.source().begin.column << ": "
          << err.description();
      return Status::InvalidArgument(msg.str());
    }
    MSGIN5G_RETURN_IF_ERROR(ApplyTable(c, parsed.table(), file));
  }
  for (const auto& ov : overrides) {
    auto eq = ov.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument("--set " + ov + ": expected key=value");
    }
    std::string key = ov.substr(0, eq);
    std::string value = ov.substr(eq + 1);
    const Option* o = Find(key);
    if (o == nullptr) return Status::InvalidArgument("--set: unknown key " + key);
    // Strings may be given bare (--set api.listen=0.0.0.0:8080); other types as TOML literals.
    std::string literal = value;
    if (o->type == Type::kString && (value.empty() || value.front() != '"')) {
      toml::table t;
      t.insert("v", value);
      std::ostringstream s;
      s << t;
      literal = s.str().substr(s.str().find('=') + 1);
    }
    auto parsed = toml::parse("v = " + literal);
    if (!parsed) return Status::InvalidArgument("--set " + key + ": cannot parse value " + value);
    MSGIN5G_RETURN_IF_ERROR(Apply(c, *o, *parsed.table().get("v")));
  }
  MSGIN5G_RETURN_IF_ERROR(Validate(c));
  return c;
}

}  // namespace msgin5g::daemon
