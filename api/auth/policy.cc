#include "api/auth/policy.h"

#include <algorithm>
#include <cmath>

#include "api/auth/scope.h"
#include "broker/route_table.h"

namespace msgin5g::api::auth {

bool Glob(std::string_view pattern, std::string_view text) {
  return broker::GlobMatch(pattern, text);
}

bool DecodeHex(std::string_view hex, std::string* out) {
  out->clear();
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) {
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

Status CheckAddressPattern(std::string_view pattern) {
  if (pattern == "*") return Status::Ok();
  auto colon = pattern.find(':');
  if (colon == std::string_view::npos || !broker::ParseAddressType(pattern.substr(0, colon)) ||
      colon + 1 == pattern.size()) {
    return Status::InvalidArgument("address pattern '" + std::string(pattern) +
                                   "': expected \"*\" or TYPE:GLOB with TYPE UE, AS, GROUP, TOPIC "
                                   "or BC, e.g. \"UE:ue-1*\"");
  }
  return Status::Ok();
}

bool MatchAddress(std::string_view pattern, const broker::Address& a) {
  if (pattern == "*") return true;
  auto colon = pattern.find(':');
  if (colon == std::string_view::npos) return false;
  if (pattern.substr(0, colon) != broker::AddressTypeName(a.type)) return false;
  return Glob(pattern.substr(colon + 1), a.id);
}

namespace {
bool AnyMatch(const std::vector<std::string>& patterns, const broker::Address& a) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return MatchAddress(p, a); });
}
}  // namespace

bool ClientPolicy::AllowsApi(std::string_view api) const {
  return std::find(apis.begin(), apis.end(), api) != apis.end();
}
bool ClientPolicy::AllowsDestination(const broker::Address& a) const {
  return AnyMatch(destinations, a);
}
bool ClientPolicy::AllowsOrigin(const broker::Address& a) const { return AnyMatch(origins, a); }

Result<std::shared_ptr<const PolicySet>> PolicySet::Build(std::vector<ClientPolicy> clients) {
  auto set = std::make_shared<PolicySet>();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const auto& c = clients[i];
    const std::string where = "client '" + c.client_id + "'";
    if (c.client_id.empty()) return Status::InvalidArgument("a client needs an id");
    for (const auto& api : c.apis) {
      if (!IsKnownApi(api)) {
        return Status::InvalidArgument(where + ": unknown API '" + api +
                                       "' (msgs-asregistration, msgs-msgdelivery)");
      }
    }
    for (const auto* list : {&c.destinations, &c.origins}) {
      for (const auto& p : *list) MSGIN5G_RETURN_IF_ERROR(CheckAddressPattern(p));
    }
    if (!std::isfinite(c.rate_limit) || !std::isfinite(c.rate_burst) || c.rate_limit < 0 ||
        c.rate_burst < 0) {
      return Status::InvalidArgument(where + ": rate_limit and rate_burst must be finite and >= 0");
    }
    if (c.rate_burst > 0 && c.rate_burst < 1) {
      // A bucket smaller than one token could never admit a request.
      return Status::InvalidArgument(where + ": rate_burst must be 0 (default) or at least 1");
    }
    if (!c.psk_identity.empty() && c.psk_key.size() < 16) {
      return Status::InvalidArgument(where + ": psk_key must be at least 16 bytes (32 hex digits)");
    }
    if (!set->by_id_.emplace(c.client_id, i).second) {
      return Status::InvalidArgument(where + " is defined twice");
    }
    if (!c.tls_identity.empty() && !set->by_tls_.emplace(c.tls_identity, i).second) {
      return Status::InvalidArgument(where + ": tls_identity '" + c.tls_identity +
                                     "' is used by another client");
    }
    if (!c.psk_identity.empty() && !set->by_psk_.emplace(c.psk_identity, i).second) {
      return Status::InvalidArgument(where + ": psk_identity '" + c.psk_identity +
                                     "' is used by another client");
    }
  }
  set->clients_ = std::move(clients);
  return std::shared_ptr<const PolicySet>(std::move(set));
}

namespace {
template <class Index>
const ClientPolicy* Lookup(const Index& index, const std::vector<ClientPolicy>& clients,
                           std::string_view key) {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &clients[it->second];
}
}  // namespace

const ClientPolicy* PolicySet::Find(std::string_view id) const { return Lookup(by_id_, clients_, id); }
const ClientPolicy* PolicySet::FindByTlsIdentity(std::string_view id) const {
  return Lookup(by_tls_, clients_, id);
}
const ClientPolicy* PolicySet::FindByPskIdentity(std::string_view id) const {
  return Lookup(by_psk_, clients_, id);
}

}  // namespace msgin5g::api::auth
