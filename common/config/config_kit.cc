#include "common/config/config_kit.h"

// Header-only with exceptions off: the packaged shared library is built with exceptions (another
// ABI namespace), and no exception may leave config loading.
#undef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace msgin5g::config {

Status Errors::ToStatus() const {
  if (lines_.empty()) return Status::Ok();
  std::string all;
  for (const auto& l : lines_) all += (all.empty() ? "" : "\n") + l;
  return Status::InvalidArgument(std::move(all));
}

std::string LocationOf(const Locations& locs, std::string key) {
  for (;;) {
    if (auto it = locs.find(key); it != locs.end()) return it->second;
    auto dot = key.rfind('.');
    if (dot == std::string::npos) return "";
    key.resize(dot);
  }
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kString: return "string";
    case Type::kInt: return "integer";
    case Type::kBool: return "boolean";
    case Type::kStringList: return "array of strings";
  }
  return "?";
}

Result<std::string> AsString(const Value& v, const std::string& where) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return Status::InvalidArgument(where + ": expected string");
}

Result<std::int64_t> AsInt(const Value& v, const std::string& where, std::int64_t min,
                           std::int64_t max) {
  const auto* i = std::get_if<std::int64_t>(&v);
  if (i == nullptr || *i < min || *i > max) {
    if (max == INT64_MAX) {
      return Status::InvalidArgument(where + ": expected an integer >= " + std::to_string(min));
    }
    return Status::InvalidArgument(where + ": expected an integer in [" + std::to_string(min) +
                                   ", " + std::to_string(max) + "]");
  }
  return *i;
}

Result<bool> AsBool(const Value& v, const std::string& where) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return Status::InvalidArgument(where + ": expected boolean");
}

Result<double> AsNumber(const Value& v, const std::string& where) {
  double d = 0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    d = static_cast<double>(*i);
  } else if (const auto* f = std::get_if<double>(&v)) {
    d = *f;
  } else {
    return Status::InvalidArgument(where + ": expected a finite number >= 0");
  }
  if (!std::isfinite(d) || d < 0) {
    return Status::InvalidArgument(where + ": expected a finite number >= 0");
  }
  return d;
}

Result<std::vector<std::string>> AsStringList(const Value& v, const std::string& where) {
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) return *l;
  return Status::InvalidArgument(where + ": expected an array of strings");
}

namespace {

// "FILE:LINE: " of a node read from `file`; "" for the embedded defaults (file empty).
std::string At(const std::string& file, const toml::node& n) {
  if (file.empty()) return "";
  auto line = n.source().begin.line;
  return line == 0 ? file + ": " : file + ":" + std::to_string(line) + ": ";
}

Value ToValue(const toml::node& n) {
  if (n.is_string()) return *n.value<std::string>();
  if (n.is_integer()) return *n.value<std::int64_t>();
  if (n.is_boolean()) return *n.value<bool>();
  if (n.is_floating_point()) return *n.value<double>();
  if (const toml::array* a = n.as_array()) {
    std::vector<std::string> out;
    for (const auto& e : *a) {
      if (!e.is_string()) return std::monostate{};
      out.push_back(*e.value<std::string>());
    }
    return out;
  }
  return std::monostate{};
}

bool HasType(const Value& v, Type t) {
  switch (t) {
    case Type::kString: return std::holds_alternative<std::string>(v);
    case Type::kInt: return std::holds_alternative<std::int64_t>(v);
    case Type::kBool: return std::holds_alternative<bool>(v);
    case Type::kStringList: return std::holds_alternative<std::vector<std::string>>(v);
  }
  return false;
}

Status Apply(const Schema::Key& k, const Value& v) {
  if (!HasType(v, k.type)) return Status::InvalidArgument(k.key + ": expected " + TypeName(k.type));
  if (k.type == Type::kInt) {
    auto i = std::get<std::int64_t>(v);
    if (i < k.min || i > k.max) {
      return Status::InvalidArgument(k.key + ": " + std::to_string(i) + " is outside [" +
                                     std::to_string(k.min) + ", " + std::to_string(k.max) + "]");
    }
  }
  k.set(v);
  return Status::Ok();
}

const Schema::Key* Find(const Schema& s, std::string_view key) {
  for (const auto& k : s.keys) {
    if (key == k.key) return &k;
  }
  return nullptr;
}

// [SECTION.NAME] tables: each NAME is a table of keys.
void ApplyNamedTables(const Schema::Table& table, const std::string& sec, const toml::node& node,
                      const std::string& file, Errors& errors, Locations& locs) {
  const toml::table* tables = node.as_table();
  if (tables == nullptr) {
    errors.Add(At(file, node) + sec + ": must be a table");
    return;
  }
  for (const auto& [name, entry] : *tables) {
    const std::string entry_key = sec + "." + std::string(name.str());
    const toml::table* t = entry.as_table();
    if (t == nullptr) {
      errors.Add(At(file, entry) + entry_key + ": must be a table");
      continue;
    }
    locs[entry_key] = At(file, entry);
    // A table with no keys still declares its entry (a client with the default policy); the
    // empty key asks the setter only to create it.
    if (t->empty()) {
      errors.Add("", table.set(std::string(name.str()), "", std::monostate{}, At(file, entry)));
    }
    for (const auto& [key, value] : *t) {
      locs[entry_key + "." + std::string(key.str())] = At(file, value);
      errors.Add("", table.set(std::string(name.str()), key.str(), ToValue(value), At(file, value)));
    }
  }
}

// Applies every key of `root` (read from `file`; "" for the embedded defaults), recording where
// each was set; a bad key is reported and skipped.
void ApplyTable(const Schema& s, const toml::table& root, const std::string& file, Errors& errors,
                Locations& locs) {
  for (const auto& [section, node] : root) {
    const std::string sec(section.str());
    if (auto t = s.tables.find(sec); t != s.tables.end()) {
      ApplyNamedTables(t->second, sec, node, file, errors, locs);
      continue;
    }
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      errors.Add(At(file, node) + sec + ": unknown key");
      continue;
    }
    for (const auto& [name, value] : *t) {
      std::string key = sec + "." + std::string(name.str());
      const Schema::Key* k = Find(s, key);
      if (k == nullptr) {
        errors.Add(At(file, value) + key + ": unknown key");
        continue;
      }
      locs[key] = At(file, value);
      errors.Add(At(file, value), Apply(*k, ToValue(value)));
    }
  }
}

// --set SECTION.NAME.KEY=VALUE for a named table that allows it: strings bare, integers as digits.
void ApplyTableOverride(const Schema::Table& table, const std::string& key, const std::string& sec,
                        const std::string& value, Errors& errors, Locations& locs) {
  auto dot = key.rfind('.');
  const std::size_t from = sec.size() + 1;
  std::string name = key.substr(from, dot == std::string::npos || dot < from ? 0 : dot - from);
  std::string sub = dot == std::string::npos || dot < from ? "" : key.substr(dot + 1);
  locs[key] = "--set ";
  if (!name.empty()) locs.try_emplace(sec + "." + name, "--set ");
  if (name.empty() || sub.empty()) {
    errors.Add("--set " + key + ": expected " + sec + ".NAME.KEY=VALUE");
    return;
  }
  Value v = value;
  if (!value.empty() && value.size() < 19 &&
      std::all_of(value.begin(), value.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
    v = static_cast<std::int64_t>(std::stoll(value));
  }
  errors.Add("", table.set(name, sub, v, "--set "));
}

}  // namespace

bool Load(const Schema& schema, const std::string& default_text, const std::string& file,
          const std::vector<std::string>& overrides, Locations& locs, Errors& errors) {
  {
    auto defaults = toml::parse(default_text);
    if (!defaults) {
      errors.Add("internal error: the embedded default configuration does not parse");
      return false;
    }
    Errors default_errors;
    ApplyTable(schema, defaults.table(), "", default_errors, locs);
    if (!default_errors.empty()) {
      errors.Add("internal error: embedded default configuration: " +
                 default_errors.ToStatus().message());
      return false;
    }
  }
  bool file_read = true;
  if (!file.empty()) {
    auto parsed = toml::parse_file(file);
    if (!parsed) {
      const auto& err = parsed.error();
      std::ostringstream msg;
      msg << file << ":" << err.source().begin.line << ":" << err.source().begin.column << ": "
          << err.description();
      errors.Add(msg.str());
      file_read = false;
    } else {
      ApplyTable(schema, parsed.table(), file, errors, locs);
    }
  }
  for (const auto& ov : overrides) {
    auto eq = ov.find('=');
    if (eq == std::string::npos) {
      errors.Add("--set " + ov + ": expected key=value");
      continue;
    }
    std::string key = ov.substr(0, eq);
    std::string value = ov.substr(eq + 1);
    std::string sec = key.substr(0, key.find('.'));
    if (auto t = schema.tables.find(sec); t != schema.tables.end() && t->second.set_allowed) {
      ApplyTableOverride(t->second, key, sec, value, errors, locs);
      continue;
    }
    const Schema::Key* k = Find(schema, key);
    if (k == nullptr) {
      errors.Add("--set " + key + ": unknown key");
      continue;
    }
    locs[key] = "--set ";
    // Strings may be given bare (--set api.listen=0.0.0.0:8080); other types as TOML literals.
    std::string literal = value;
    if (k->type == Type::kString && (value.empty() || value.front() != '"')) {
      toml::table t;
      t.insert("v", value);
      std::ostringstream s;
      s << t;
      literal = s.str().substr(s.str().find('=') + 1);
    }
    auto parsed = toml::parse("v = " + literal);
    if (!parsed) {
      errors.Add("--set " + key + ": cannot parse value " + value);
      continue;
    }
    errors.Add("--set ", Apply(*k, ToValue(*parsed.table().get("v"))));
  }
  return file_read;
}

bool IsLoopbackListen(const std::string& hostport) {
  std::string host = hostport.substr(0, hostport.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string ListenProblem(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return "expected [IPv6]:port, not " + text;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return "expected host:port, not " + text;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  bool digits = !port.empty() && port.size() <= 5 &&
                std::all_of(port.begin(), port.end(), [](unsigned char ch) { return std::isdigit(ch); });
  if (!digits || std::stol(port) > 65535) return "bad port in " + text + " (0..65535)";
  if (host.empty() || host == "*" || host == "localhost") return "";
  unsigned char addr[16];
  std::string v6 = host.substr(0, host.find('%'));  // fe80::1%eth0
  if (inet_pton(AF_INET, host.c_str(), addr) == 1 || inet_pton(AF_INET6, v6.c_str(), addr) == 1) {
    return "";
  }
  return "bad address in " + text + " (use an IP literal)";
}

}  // namespace msgin5g::config
