#include "broker/route_table.h"

namespace msgin5g::broker {

namespace {
std::optional<Route> GatewayRoute(const std::map<std::string, GatewayInfo>& gateways,
                                  const std::string& name) {
  auto it = gateways.find(name);
  if (it == gateways.end()) return std::nullopt;
  Route r;
  r.kind = Route::Kind::kGateway;
  r.gateway = it->second.kind;
  r.base = it->second.api_root;
  r.max_segment_bytes = it->second.max_segment_bytes;
  return r;
}
}  // namespace

std::optional<Route> RouteTable::Resolve(const Address& a) const {
  switch (a.type) {
    case AddressType::kAs: {
      auto it = as_targets.find(a.id);
      if (it == as_targets.end() || it->second.empty()) return std::nullopt;
      Route r;
      r.kind = Route::Kind::kAs;
      r.base = it->second;
      return r;
    }
    case AddressType::kUe: {
      for (const auto& rule : rules) {
        if (!GlobMatch(rule.pattern, a.id)) continue;
        if (!rule.gateway.empty()) return GatewayRoute(gateways, rule.gateway);
        break;  // direct over MSGin5G-1
      }
      auto ue = ues ? ues->Find(a.id) : std::nullopt;
      if (!ue || ue->endpoint.empty()) return std::nullopt;  // not registered, or asleep
      Route r;
      r.kind = Route::Kind::kUe;
      r.base = ue->endpoint;
      r.max_segment_bytes = ue->max_segment_bytes;
      return r;
    }
    case AddressType::kBroadcast:
      // The area's own gateway first (TS 23.554 8.6.1: the server picks the gateway serving the
      // Broadcast Area), then the catch-all.
      for (const auto& [pattern, gateway] : broadcast_areas) {
        if (GlobMatch(pattern, a.id)) return GatewayRoute(gateways, gateway);
      }
      if (broadcast_gateway.empty()) return std::nullopt;
      return GatewayRoute(gateways, broadcast_gateway);
    case AddressType::kGroup:
    case AddressType::kTopic:
      return std::nullopt;
  }
  return std::nullopt;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace msgin5g::broker
