#include "broker/registry.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <tuple>

namespace msgin5g::broker {

using storage::Txn;

namespace {

std::string RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

void SortInTriedOrder(std::vector<RoutingRuleRecord>& rules) {
  std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    return std::tie(a.order, a.name) < std::tie(b.order, b.name);
  });
}

Registry::Registry(Options options, BrokerMetrics& metrics)
    : options_(std::move(options)), metrics_(metrics) {}

void Registry::Load(const storage::RecoveredState& state) {
  for (const auto& r : state.registrations) {
    registrations_[r.registration_id] = r;
    registration_by_svc_[r.as_svc_id] = r.registration_id;
  }
  for (const auto& g : state.groups) groups_[g.group_id] = g;
  for (const auto& t : state.topics) topics_[t.topic][t.subscriber] = t.expiry_ms;
  rules_ = state.routing_rules;
  SortInTriedOrder(rules_);
  for (const auto& p : state.client_policies) client_policies_[p.client_id] = p.json;
  for (const auto& u : state.ue_registrations) {
    ues_[u.ue_id] = u;
    PublishUe(u.ue_id);
  }
  RebuildRoutes();
  RegistrationsChanged();
  sizes_.groups = groups_.size();
  sizes_.routing_rules = rules_.size();
  std::size_t subscriptions = 0;
  for (const auto& [t, subs] : topics_) subscriptions += subs.size();
  sizes_.topic_subscriptions = subscriptions;
}

// --- routing ---

Status Registry::Resolve(const Address& dest, std::int64_t now_ms,
                         std::vector<Resolved>* out) const {
  switch (dest.type) {
    case AddressType::kAs:
      if (registration_by_svc_.count(dest.id) == 0 && !options_.store_for_unknown_recipient) {
        return Status::NotFound("no registered AS '" + dest.id + "'");
      }
      out->push_back({dest, Reachable(dest)});
      return Status::Ok();
    case AddressType::kUe:
    case AddressType::kBroadcast:
      // UEs routed "direct" (MSGin5G-1) are reachable while registered and awake.
      out->push_back({dest, Reachable(dest)});
      return Status::Ok();
    case AddressType::kGroup: {
      auto it = groups_.find(dest.id);
      if (it == groups_.end()) {
        if (!options_.store_for_unknown_recipient) {
          return Status::NotFound("no group '" + dest.id + "'");
        }
        out->push_back({dest, false});
        return Status::Ok();
      }
      for (const auto& m : it->second.members) out->push_back({m, Reachable(m)});
      return Status::Ok();
    }
    case AddressType::kTopic: {
      auto it = topics_.find(dest.id);
      if (it == topics_.end()) return Status::Ok();
      for (const auto& [sub, expiry] : it->second) {
        if (expiry == 0 || expiry > now_ms) out->push_back({sub, Reachable(sub)});
      }
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unsupported destination type");
}

void Registry::RebuildRoutes() {
  auto t = std::make_shared<RouteTable>();
  for (const auto& [id, r] : registrations_) t->as_targets[r.as_svc_id] = r.target_uri;
  t->ues = ue_routes_;
  t->rules = rules_;
  for (const auto& g : options_.gateways) {
    t->gateways[g.name] = g;
    if (g.kind != GatewayKind::kBg) continue;
    for (const auto& area : g.areas) t->broadcast_areas.emplace_back(area, g.name);
  }
  t->broadcast_gateway = options_.broadcast_gateway;
  routes_ = t;
  if (sink_.routes_changed) sink_.routes_changed(std::move(t));
}

void Registry::PublishUe(const std::string& ue_id) {
  auto it = ues_.find(ue_id);
  if (it == ues_.end() || asleep_.count(ue_id) != 0) {
    ue_routes_->Erase(ue_id);
  } else {
    const auto& u = it->second;
    ue_routes_->Put(ue_id, {u.endpoint, u.max_segment_bytes != 0 ? u.max_segment_bytes
                                                                 : options_.ue_max_segment_bytes});
  }
  metrics_.UesAsleep(asleep_.size());
  sizes_.ues_asleep = asleep_.size();
  // Only this UE's entries move (not a full re-placement: see DeliveryEngine::UeRouteChanged).
  if (sink_.ue_changed) sink_.ue_changed(ue_id);
}

void Registry::RegistrationsChanged() {
  metrics_.Usage("ue_registrations", static_cast<double>(ues_.size()));
  metrics_.Usage("as_registrations", static_cast<double>(registrations_.size()));
  sizes_.ue_registrations = ues_.size();
  sizes_.as_registrations = registrations_.size();
}

// --- AS registrations ---

Status Registry::RegisterAs(Txn& txn, AsRegistration reg, AsRegistration* out) {
  // Re-registration of an asSvcId replaces the old registration (the AS restarted).
  if (auto old = registration_by_svc_.find(reg.as_svc_id); old != registration_by_svc_.end()) {
    const std::string& owner = registrations_.at(old->second).owner;
    if (!owner.empty() && owner != reg.owner) {
      return Status(StatusCode::kPermissionDenied,
                    "asSvcId " + reg.as_svc_id + " is registered by another client");
    }
    txn.DeleteAsRegistration(old->second);
    registrations_.erase(old->second);
    registration_by_svc_.erase(old);
  } else if (registrations_.size() >= options_.limits.max_as_registrations) {
    metrics_.Refused("as_registrations");
    return Status::ResourceExhausted("AS registrations at broker.max_as_registrations (" +
                                     std::to_string(options_.limits.max_as_registrations) +
                                     "): a new asSvcId can register once another deregisters");
  }
  reg.registration_id = RandomId();
  txn.PutAsRegistration(reg);
  registration_by_svc_[reg.as_svc_id] = reg.registration_id;
  registrations_[reg.registration_id] = reg;
  *out = std::move(reg);
  RegistrationsChanged();
  RebuildRoutes();
  return Status::Ok();
}

Status Registry::DeregisterAs(Txn& txn, const std::string& id, const std::string& requester) {
  auto it = registrations_.find(id);
  if (it == registrations_.end()) return Status::NotFound("no AS registration " + id);
  if (!it->second.owner.empty() && it->second.owner != requester) {
    return Status(StatusCode::kPermissionDenied,
                  "registration " + id + " belongs to another client");
  }
  txn.DeleteAsRegistration(id);
  registration_by_svc_.erase(it->second.as_svc_id);
  registrations_.erase(it);
  RegistrationsChanged();
  RebuildRoutes();
  return Status::Ok();
}

// --- MSGin5G-1 UE registrations ---

Status Registry::RegisterUe(Txn& txn, UeRegistration reg) {
  // A known UE may always register again; a new one only below the bound.
  if (ues_.size() >= options_.limits.max_ue_registrations && ues_.count(reg.ue_id) == 0) {
    metrics_.Refused("ue_registrations");
    return Status::ResourceExhausted("UE registrations at broker.max_ue_registrations (" +
                                     std::to_string(options_.limits.max_ue_registrations) +
                                     "): a new UE can register once another deregisters");
  }
  txn.PutUeRegistration(reg);
  asleep_.erase(reg.ue_id);
  std::string id = reg.ue_id;
  ues_[id] = std::move(reg);
  RegistrationsChanged();
  PublishUe(id);  // unparks the UE's stored messages
  return Status::Ok();
}

Status Registry::DeregisterUe(Txn& txn, const std::string& id, const std::string& from) {
  auto it = ues_.find(id);
  if (it == ues_.end()) return Status::NotFound("UE " + id + " is not registered");
  if (!from.empty() && it->second.endpoint != from) {
    return Status(StatusCode::kPermissionDenied, "UE " + id + " is registered at another address");
  }
  ues_.erase(it);
  asleep_.erase(id);
  PublishUe(id);
  txn.DeleteUeRegistration(id);
  RegistrationsChanged();
  return Status::Ok();
}

Status Registry::UeContact(Txn& txn, const std::string& id, const std::string& endpoint,
                           bool may_move) {
  auto it = ues_.find(id);
  if (it == ues_.end()) return Status::NotFound("UE " + id + " is not registered");
  if (!may_move && it->second.endpoint != endpoint) {
    return Status(StatusCode::kPermissionDenied,
                  "UE " + id + " is registered at another address (send REG from this one)");
  }
  bool woke = asleep_.erase(id) != 0;
  if (it->second.endpoint != endpoint) {
    it->second.endpoint = endpoint;
    txn.PutUeRegistration(it->second);
    woke = true;
  }
  if (woke) PublishUe(id);
  return Status::Ok();
}

void Registry::UeUnreachable(const std::string& id) {
  if (ues_.count(id) != 0 && asleep_.insert(id).second) PublishUe(id);
}

// --- groups ---

Status Registry::PutGroup(Txn& txn, GroupRecord g) {
  std::sort(g.members.begin(), g.members.end());
  g.members.erase(std::unique(g.members.begin(), g.members.end()), g.members.end());
  txn.PutGroup(g);
  groups_[g.group_id] = std::move(g);
  sizes_.groups = groups_.size();
  return Status::Ok();
}

Status Registry::DeleteGroup(Txn& txn, const std::string& id) {
  if (groups_.erase(id) == 0) return Status::NotFound("no group '" + id + "'");
  sizes_.groups = groups_.size();
  txn.DeleteGroup(id);
  return Status::Ok();
}

Status Registry::UpdateGroup(Txn& txn, const std::string& id,
                             const std::function<Status(GroupRecord&)>& change) {
  auto it = groups_.find(id);
  if (it == groups_.end()) return Status::NotFound("no group '" + id + "'");
  GroupRecord g = it->second;  // changed on a copy: the cache moves only on success
  MSGIN5G_RETURN_IF_ERROR(change(g));
  std::sort(g.members.begin(), g.members.end());
  txn.PutGroup(g);
  it->second = std::move(g);
  return Status::Ok();
}

// --- topics ---

Status Registry::Subscribe(Txn& txn, const TopicSubscriptionRecord& s) {
  txn.PutTopicSubscription(s);
  auto& subs = topics_[s.topic];
  if (subs.insert_or_assign(s.subscriber, s.expiry_ms).second) ++sizes_.topic_subscriptions;
  return Status::Ok();
}

Status Registry::Unsubscribe(Txn& txn, const std::string& topic, const Address& subscriber) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.erase(subscriber) == 0) {
    return Status::NotFound("no such subscription to '" + topic + "'");
  }
  --sizes_.topic_subscriptions;
  if (it->second.empty()) topics_.erase(it);
  txn.DeleteTopicSubscription(topic, subscriber);
  return Status::Ok();
}

// --- routing rules ---

Status Registry::PutRoutingRule(Txn& txn, const RoutingRuleRecord& rule) {
  if (!rule.gateway.empty() &&
      std::none_of(options_.gateways.begin(), options_.gateways.end(),
                   [&](const GatewayInfo& g) { return g.name == rule.gateway; })) {
    return Status::InvalidArgument("no gateway '" + rule.gateway + "' is configured");
  }
  txn.PutRoutingRule(rule);
  std::erase_if(rules_, [&](const auto& r) { return r.name == rule.name; });
  rules_.push_back(rule);
  SortInTriedOrder(rules_);
  sizes_.routing_rules = rules_.size();
  RebuildRoutes();
  return Status::Ok();
}

Status Registry::DeleteRoutingRule(Txn& txn, const std::string& name) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r.name == name; });
  if (it == rules_.end()) return Status::NotFound("no routing rule '" + name + "'");
  rules_.erase(it);
  sizes_.routing_rules = rules_.size();
  txn.DeleteRoutingRule(name);
  RebuildRoutes();
  return Status::Ok();
}

// --- API client policies ---

Status Registry::PutClientPolicy(Txn& txn, const ClientPolicyRecord& p) {
  txn.PutClientPolicy(p);
  client_policies_[p.client_id] = p.json;
  return Status::Ok();
}

Status Registry::DeleteClientPolicy(Txn& txn, const std::string& id) {
  if (client_policies_.erase(id) == 0) {
    return Status::NotFound("no client '" + id + "' set through the admin API");
  }
  txn.DeleteClientPolicy(id);
  return Status::Ok();
}

}  // namespace msgin5g::broker
