// Which route a recipient's messages take: a snapshot of AS registrations, UE routing rules and
// configured gateways. The broker's writer thread builds a new one on every change and hands it to
// the delivery engine (immutable, shared), so both judge reachability the same way.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/delivery.h"
#include "broker/types.h"

namespace msgin5g::broker {

struct RouteTable {
  std::unordered_map<std::string, std::string> as_targets;  // asSvcId -> targetUri
  std::vector<RoutingRuleRecord> rules;                      // sorted by (order, name)
  std::map<std::string, GatewayInfo> gateways;               // by name
  std::string broadcast_gateway;  // BC areas no bg gateway's `areas` match
  // (Broadcast Area ID glob, gateway name) in configuration order, from each bg gateway's areas.
  std::vector<std::pair<std::string, std::string>> broadcast_areas;
  // UEs registered over MSGin5G-1 and awake: endpoint and segment size (the UE's or the default).
  // Unlike the rest of the table this part is shared and updated in place (under its own lock):
  // copying 10,000 UE routes for each of 10,000 REGs would be quadratic.
  struct UeRoute {
    std::string endpoint;
    std::size_t max_segment_bytes = 0;
  };
  class UeDirectory {
   public:
    std::optional<UeRoute> Find(const std::string& ue_id) const {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = routes_.find(ue_id);
      if (it == routes_.end()) return std::nullopt;
      return it->second;
    }
    void Put(const std::string& ue_id, UeRoute r) {
      std::lock_guard<std::mutex> lock(mu_);
      routes_[ue_id] = std::move(r);
    }
    void Erase(const std::string& ue_id) {
      std::lock_guard<std::mutex> lock(mu_);
      routes_.erase(ue_id);
    }

   private:
    mutable std::mutex mu_;
    std::unordered_map<std::string, UeRoute> routes_;
  };
  std::shared_ptr<const UeDirectory> ues;  // null: no UE is reachable

  // The route for `recipient`, or nullopt: an AS without a registration (or without targetUri), a UE
  // reached directly (no rule, or a rule without gateway) that is not registered over MSGin5G-1, a
  // rule naming an unknown gateway, BC without a broadcast gateway, and GROUP/TOPIC addresses (they
  // are expanded before queueing).
  std::optional<Route> Resolve(const Address& recipient) const;
};

// '*' matches any run of characters (including none), '?' any one character; everything else
// literally. Linear in practice (one backtrack point), no recursion. Routing rules and client
// address patterns both use it.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace msgin5g::broker
