#include "tools/msgin5gctl/args.h"

#include <charconv>

namespace msgin5gctl {

namespace {

struct OptionSpec {
  const char* name;
  bool takes_value;
  bool global;
};

constexpr OptionSpec kOptions[] = {
    {"--socket", true, true},      {"--url", true, true},        {"--cacert", true, true},
    {"--cert", true, true},        {"--key", true, true},        {"--token", true, true},
    {"--token-file", true, true},  {"--timeout", true, true},    {"--output", true, true},
    {"--help", false, true},       {"--version", false, true},   {"--json", true, false},
    {"--expiry-ms", true, false},  {"--role", true, false},      {"--config", true, false},
    {"--data-dir", true, false},   {"--daemon", true, false},    {"--limit", true, false},
    {"--after", true, false},      {"--deadline", true, false},
    {"--ues", false, false},
};

const OptionSpec* FindOption(const std::string& name) {
  for (const auto& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> Invocation::get(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

bool IsGlobalOption(const std::string& name) {
  const OptionSpec* o = FindOption(name);
  return o != nullptr && o->global;
}

const std::vector<std::string>& AllOptionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& o : kOptions) v.emplace_back(o.name);
    return v;
  }();
  return names;
}

std::optional<long long> ParseInteger(const std::string& s, long long min, long long max) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

Result<Invocation> ParseArgs(int argc, char** argv) {
  Invocation inv;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      inv.words.push_back(std::move(a));
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "-h") a = "--help";
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    const OptionSpec* spec = FindOption(name);
    if (spec == nullptr) return UsageError("unknown option " + name);
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= argc) return UsageError(name + " needs a value");
      value = argv[++i];
    } else if (!spec->takes_value && inline_value) {
      return UsageError(name + " takes no value");
    }
    if (!inv.options.emplace(name, value).second) return UsageError(name + " is given twice");
  }
  inv.help = inv.has("--help");
  inv.version = inv.has("--version");
  if (auto out = inv.get("--output")) {
    if (*out == "json") {
      inv.output = OutputFormat::kJson;
    } else if (*out != "table") {
      return UsageError("--output must be table or json, not \"" + *out + "\"");
    }
  }
  if (auto t = inv.get("--timeout")) {
    auto v = ParseInteger(*t, 1, 86400);
    if (!v) return UsageError("--timeout must be a whole number of seconds from 1 to 86400");
    inv.timeout_s = static_cast<int>(*v);
  }
  return inv;
}

}  // namespace msgin5gctl
