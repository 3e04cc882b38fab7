// Registry: who is there and where their messages go — AS registrations (TS 29.538
// MSGS_ASRegistration), MSGin5G-1 UE registrations and their awake/asleep state, groups, topic
// subscriptions, routing rules and API client policies — and, from them, the recipients of a
// destination address (Resolve) and the route snapshot the delivery engine follows.
//
// Every method that changes something takes the running storage operation's Txn and runs on the
// store's writer thread, which owns the caches (no locks): the record is put in the batch and the
// cache changed at once; a refused operation returns its error before changing either. An answer
// is given only after the batch is durable (the caller's Submit), and a batch that fails makes
// the store refuse every later write, so the caches never run ahead of what a restart would load.
// Reads for the admin API come from the store's reader thread, not from here, except the sizes
// (atomics, any thread) and the directory of awake UEs (locked, any thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/broker_metrics.h"
#include "broker/delivery.h"
#include "broker/queue_limits.h"
#include "broker/route_table.h"
#include "broker/types.h"
#include "storage/store.h"

namespace msgin5g::broker {

// Routing rules in the order they are tried: by `order`, then by name.
void SortInTriedOrder(std::vector<RoutingRuleRecord>& rules);

class Registry {
 public:
  struct Options {
    QueueLimits limits;                // max_as_registrations, max_ue_registrations
    std::vector<GatewayInfo> gateways;  // the gateways rules and broadcast_gateway may name
    std::string broadcast_gateway;      // BC without a matching bg gateway; empty: unreachable
    std::size_t ue_max_segment_bytes = 2048;  // UEs that declare no segment size
    bool store_for_unknown_recipient = false;
  };
  // Where route changes go (the delivery engine; unset: nowhere). Called on the writer thread.
  struct RouteSink {
    std::function<void(std::shared_ptr<const RouteTable>)> routes_changed;
    std::function<void(const std::string& ue_id)> ue_changed;  // one UE woke, moved or slept
  };

  Registry(Options options, BrokerMetrics& metrics);
  void SetRouteSink(RouteSink sink) { sink_ = std::move(sink); }

  // Fills the caches from what the store recovered and publishes the routes. Writer thread.
  void Load(const storage::RecoveredState& state);

  // --- writer thread, inside a storage operation ---
  Status RegisterAs(storage::Txn& txn, AsRegistration reg, AsRegistration* out);
  Status DeregisterAs(storage::Txn& txn, const std::string& registration_id,
                      const std::string& requester);
  Status RegisterUe(storage::Txn& txn, UeRegistration reg);
  Status DeregisterUe(storage::Txn& txn, const std::string& ue_id, const std::string& from);
  Status UeContact(storage::Txn& txn, const std::string& ue_id, const std::string& endpoint,
                   bool may_move);
  void UeUnreachable(const std::string& ue_id);
  Status PutGroup(storage::Txn& txn, GroupRecord g);
  Status DeleteGroup(storage::Txn& txn, const std::string& group_id);
  // Applies `change` to a copy of the group and stores it; NotFound for an unknown group.
  Status UpdateGroup(storage::Txn& txn, const std::string& group_id,
                     const std::function<Status(GroupRecord&)>& change);
  Status Subscribe(storage::Txn& txn, const TopicSubscriptionRecord& s);
  Status Unsubscribe(storage::Txn& txn, const std::string& topic, const Address& subscriber);
  Status PutRoutingRule(storage::Txn& txn, const RoutingRuleRecord& rule);
  Status DeleteRoutingRule(storage::Txn& txn, const std::string& name);
  Status PutClientPolicy(storage::Txn& txn, const ClientPolicyRecord& p);
  Status DeleteClientPolicy(storage::Txn& txn, const std::string& client_id);

  // --- writer thread ---
  struct Resolved {
    Address recipient;
    bool reachable = false;
  };
  // The recipients of `dest` (AS, UE, BC: itself; GROUP: its members; TOPIC: its current
  // subscribers), each with whether a route reaches it now. NotFound for an unregistered AS or an
  // unknown group unless store_for_unknown_recipient.
  Status Resolve(const Address& dest, std::int64_t now_ms, std::vector<Resolved>* out) const;

  // --- any thread ---
  struct Sizes {
    std::atomic<std::size_t> as_registrations{0};
    std::atomic<std::size_t> ue_registrations{0};
    std::atomic<std::size_t> ues_asleep{0};
    std::atomic<std::size_t> groups{0};
    std::atomic<std::size_t> topic_subscriptions{0};
    std::atomic<std::size_t> routing_rules{0};
  };
  const Sizes& sizes() const { return sizes_; }
  // Whether a registered UE is awake (has a route now).
  bool UeAwake(const std::string& ue_id) const { return ue_routes_->Find(ue_id).has_value(); }

 private:
  bool Reachable(const Address& a) const { return routes_->Resolve(a).has_value(); }
  // Publishes `ue_id`'s route (registered and awake) or its absence.
  void PublishUe(const std::string& ue_id);
  // A new route snapshot from the registrations, rules and configured gateways.
  void RebuildRoutes();
  // After the AS or UE registrations changed: their gauges and sizes.
  void RegistrationsChanged();

  const Options options_;
  BrokerMetrics& metrics_;
  RouteSink sink_;

  std::unordered_map<std::string, AsRegistration> registrations_;    // by registration_id
  std::unordered_map<std::string, std::string> registration_by_svc_;  // asSvcId -> id
  std::unordered_map<std::string, UeRegistration> ues_;               // by UE Service ID
  std::unordered_set<std::string> asleep_;  // registered UEs that stopped answering (no route)
  std::shared_ptr<RouteTable::UeDirectory> ue_routes_ = std::make_shared<RouteTable::UeDirectory>();
  std::map<std::string, GroupRecord> groups_;
  std::map<std::string, std::map<Address, std::int64_t>> topics_;  // topic -> subscriber -> expiry
  std::vector<RoutingRuleRecord> rules_;                // sorted by (order, name)
  std::map<std::string, std::string> client_policies_;  // client id -> JSON (admin API)
  std::shared_ptr<const RouteTable> routes_ = std::make_shared<RouteTable>();
  Sizes sizes_;
};

}  // namespace msgin5g::broker
