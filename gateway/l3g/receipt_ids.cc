#include "gateway/l3g/receipt_ids.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace msgin5g::gateway::l3g {

std::vector<std::string> OtherSpellings(const std::string& id) {
  std::vector<std::string> out;
  if (id.empty() || id.size() > 20) return out;
  const bool digits = std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
  const bool hex = id.size() <= 16 && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isxdigit(c); });
  char buf[32];
  if (digits && (id.size() < 20 || id <= "18446744073709551615")) {
    const unsigned long long v = std::strtoull(id.c_str(), nullptr, 10);
    std::snprintf(buf, sizeof buf, "%llx", v);
    out.emplace_back(buf);
    std::snprintf(buf, sizeof buf, "%llX", v);
    out.emplace_back(buf);
    std::snprintf(buf, sizeof buf, "%0*llx", static_cast<int>(16), v);
    out.emplace_back(buf);
  }
  if (hex) {
    std::snprintf(buf, sizeof buf, "%llu", std::strtoull(id.c_str(), nullptr, 16));
    out.emplace_back(buf);
  }
  return out;
}

}  // namespace msgin5g::gateway::l3g
