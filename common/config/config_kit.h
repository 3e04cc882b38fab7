// The configuration conventions every msgin5g daemon shares (msgin5gd, msgin5g-gatewayd): one TOML
// file, every scalar key also settable with --set key=value, one table of options giving each key
// its type, default, bounds and description (from which --help and --print-default-config come),
// and errors that name their key and where it was set ("FILE:LINE: key: problem", "--set key:
// problem", "key: problem" for a default). Loading goes on past a problem so one run lists all.
//
// [SECTION.NAME] tables of keys (gateways, clients, UEs, SMSC routes...) go to a setter per section.
// TOML stays inside config_kit.cc: a value reaches setters as a Value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace msgin5g::config {

// Every problem found while loading, one line each; ToStatus() joins them in one InvalidArgument.
class Errors {
 public:
  void Add(std::string line) { lines_.push_back(std::move(line)); }
  // `prefix` (a location) before the message of a failed `st`; nothing for OK.
  void Add(const std::string& prefix, const Status& st) {
    if (!st.ok()) lines_.push_back(prefix + st.message());
  }
  bool empty() const { return lines_.empty(); }
  Status ToStatus() const;

 private:
  std::vector<std::string> lines_;
};

// Where each key got its value, as a message prefix: "FILE:LINE: ", "--set " or "" (default).
// Named-table entries are recorded too ("clients.as-1"), so that a missing key of theirs is
// reported at the table.
using Locations = std::map<std::string, std::string, std::less<>>;
// The location of `key`, or of the nearest enclosing table that has one.
std::string LocationOf(const Locations& locs, std::string key);

enum class Type { kString, kInt, kBool, kStringList };
const char* TypeName(Type t);

// A TOML value as setters see it. monostate: a TOML type no key takes (a nested table, an array of
// non-strings, a date).
using Value = std::variant<std::monostate, std::string, std::int64_t, bool, double,
                           std::vector<std::string>>;

// One scalar key of the option table, bound to a config type C.
template <class C>
struct Option {
  const char* key;  // section.name
  Type type;
  const char* default_value;  // as TOML text
  std::int64_t min = 0;       // bounds of kInt
  std::int64_t max = 0;
  const char* help;
  std::function<void(C&, const Value&)> set;  // called with a value of `type`, within bounds
};

template <class C, std::string C::*M>
std::function<void(C&, const Value&)> Str() {
  return [](C& c, const Value& v) { c.*M = std::get<std::string>(v); };
}
template <class C, std::int64_t C::*M>
std::function<void(C&, const Value&)> Int() {
  return [](C& c, const Value& v) { c.*M = std::get<std::int64_t>(v); };
}
template <class C, bool C::*M>
std::function<void(C&, const Value&)> Bool() {
  return [](C& c, const Value& v) { c.*M = std::get<bool>(v); };
}
template <class C, std::vector<std::string> C::*M>
std::function<void(C&, const Value&)> List() {
  return [](C& c, const Value& v) { c.*M = std::get<std::vector<std::string>>(v); };
}

// A key of a [SECTION.NAME] table. `key` empty: the table was declared with no keys (create the
// entry only; `value` is monostate). `origin` is the location prefix to put before a message.
template <class C>
using TableSetter = std::function<Status(C& c, const std::string& name, std::string_view key,
                                         const Value& value, const std::string& origin)>;

// Typed reads of a Value for table setters: the value, or InvalidArgument "WHERE: expected ...".
Result<std::string> AsString(const Value& v, const std::string& where);
Result<std::int64_t> AsInt(const Value& v, const std::string& where, std::int64_t min,
                           std::int64_t max);
Result<bool> AsBool(const Value& v, const std::string& where);
Result<double> AsNumber(const Value& v, const std::string& where);  // integer or float, finite
Result<std::vector<std::string>> AsStringList(const Value& v, const std::string& where);

// The type-erased form the loader works on (Bind makes it from a typed table).
struct Schema {
  struct Key {
    std::string key;
    Type type;
    std::int64_t min, max;
    std::function<void(const Value&)> set;
  };
  std::vector<Key> keys;
  // Named-table sections. `set_allowed`: --set SECTION.NAME.KEY=VALUE is accepted (the value is
  // given to the setter as a string, or as an integer when it is all digits).
  struct Table {
    std::function<Status(const std::string&, std::string_view, const Value&, const std::string&)>
        set;
    bool set_allowed = false;
  };
  std::map<std::string, Table, std::less<>> tables;
};

template <class C>
struct TableSpec {
  const char* section;
  TableSetter<C> set;
  bool set_allowed = false;
};

template <class C>
Schema Bind(C& c, const std::vector<Option<C>>& options, const std::vector<TableSpec<C>>& tables) {
  Schema s;
  for (const auto& o : options) {
    s.keys.push_back({o.key, o.type, o.min, o.max, [&c, set = o.set](const Value& v) { set(c, v); }});
  }
  for (const auto& t : tables) {
    s.tables[t.section] = {[&c, set = t.set](const std::string& n, std::string_view k,
                                             const Value& v, const std::string& o) {
                             return set(c, n, k, v, o);
                           },
                           t.set_allowed};
  }
  return s;
}

// Applies `default_text` (must load cleanly: an error there is Internal), then `file` (if not
// empty), then each "key=value" override, recording where each key was set in `locs` and every
// problem in `errors`. Returns whether the file was read (a TOML syntax error ends toml++'s parse:
// "FILE:LINE:COLUMN: description" is then the file's only line, and checks across keys, which
// would report keys the file may have set, should be skipped).
bool Load(const Schema& schema, const std::string& default_text, const std::string& file,
          const std::vector<std::string>& overrides, Locations& locs, Errors& errors);

// The default file: a header comment, then every key at its default under its [section] with its
// help as a comment, then `footer` (commented examples of the named tables).
template <class C>
std::string DefaultText(const std::vector<Option<C>>& options, std::string_view header,
                        std::string_view footer) {
  std::string out(header);
  std::string section;
  for (const auto& o : options) {
    std::string key = o.key;
    std::string sec = key.substr(0, key.find('.'));
    if (sec != section) {
      out += "\n[" + sec + "]\n";
      section = sec;
    }
    out += "# " + std::string(o.help) + "\n" + key.substr(key.find('.') + 1) + " = " +
           o.default_value + "\n";
  }
  out += footer;
  return out;
}

// The --help section: every key with its type, default and description, then `footer`.
template <class C>
std::string Help(const std::vector<Option<C>>& options, std::string_view footer) {
  std::string out;
  for (const auto& o : options) {
    out += "  " + std::string(o.key) + " (" + TypeName(o.type) + ", default " + o.default_value +
           ")\n      " + o.help + "\n";
  }
  out += footer;
  return out;
}

// What is wrong with a listen address ("" if nothing): host:port with an IP literal, "localhost",
// "*" or an empty host (any address), and a port 0..65535 (0: any free port). The same rules as
// the listeners' own parsing (api/http ParseEndpoint), checked at load so that every bad one is
// reported with its key before anything starts.
std::string ListenProblem(const std::string& hostport);
// "127.0.0.1:5683", "[::1]:5683", "localhost:5683": reachable only from this machine.
bool IsLoopbackListen(const std::string& hostport);

}  // namespace msgin5g::config
