#include "broker/durable_broker.h"

#include <pthread.h>

#include <algorithm>
#include <future>
#include <initializer_list>
#include <map>
#include <tuple>
#include <random>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "common/clock.h"
#include "common/logging.h"

namespace msgin5g::broker {

namespace {

// Routing rules in the order they are tried: by `order`, then by name.
void SortInTriedOrder(std::vector<RoutingRuleRecord>& rules) {
  std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    return std::tie(a.order, a.name) < std::tie(b.order, b.name);
  });
}

using storage::IdempotencyRecord;
using storage::MessageKind;
using storage::MessageRecord;
using storage::OutcomeKind;
using storage::Txn;


std::string RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

OutcomeKind ToStored(AcceptOutcome::Kind k) {
  switch (k) {
    case AcceptOutcome::Kind::kAccepted: return OutcomeKind::kAccepted;
    case AcceptOutcome::Kind::kStored: return OutcomeKind::kStored;
    case AcceptOutcome::Kind::kFailed: return OutcomeKind::kFailed;
  }
  return OutcomeKind::kAccepted;
}

AcceptOutcome FromStored(const IdempotencyRecord& r) {
  AcceptOutcome o;
  switch (r.outcome) {
    case OutcomeKind::kAccepted: o.kind = AcceptOutcome::Kind::kAccepted; break;
    case OutcomeKind::kStored: o.kind = AcceptOutcome::Kind::kStored; break;
    case OutcomeKind::kFailed: o.kind = AcceptOutcome::Kind::kFailed; break;
  }
  o.failure_cause = r.failure_cause;
  return o;
}

const char* OutcomeName(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::kAccepted: return "ACCEPTED";
    case OutcomeKind::kStored: return "DELY_STORED";
    case OutcomeKind::kFailed: return "DELY_FAILED";
  }
  return "UNKNOWN";
}

const char* RecipientStateName(storage::RecipientState s) {
  switch (s) {
    case storage::RecipientState::kQueued: return "QUEUED";
    case storage::RecipientState::kDelivered: return "DELIVERED";
    case storage::RecipientState::kFailed: return "FAILED";
    case storage::RecipientState::kExpired: return "EXPIRED";
  }
  return "UNKNOWN";
}

// Reports, and messages reassembled from segments, are idempotent in key spaces apart from
// ordinary msgIds (which the API keeps free of control characters).
std::string ReportKey(const std::string& msg_id) { return std::string("\x01report:") + msg_id; }
std::string SegmentMessageKey(const std::string& seg_id) {
  return std::string("\x02segment:") + seg_id;
}

// Ids end up in RocksDB keys with 16-bit lengths; the API allows far less (1 KiB).
constexpr std::size_t kMaxIdBytes = 4096;
bool IdsFit(const Message& m) {
  return m.origin.id.size() <= kMaxIdBytes && m.destination.id.size() <= kMaxIdBytes &&
         m.msg_id.size() <= kMaxIdBytes &&
         (!m.segment || m.segment->segment_id.size() <= kMaxIdBytes);
}

// failureCause of a message not queued for `r` because r's queue is at its bound.
std::string QueueFullCause(const Address& r, const char* bound) {
  const bool as = r.type == AddressType::kAs;
  const bool bytes = bound != nullptr && std::string_view(bound) == "bytes";
  return std::string("QUEUE_FULL: recipient ") + AddressTypeName(r.type) + ":" + r.id +
         " has reached broker.max_queued_" + (bytes ? "bytes" : "messages") +
         (as ? "_per_as" : "_per_recipient");
}

}  // namespace

// What the broker counts.
class DurableBroker::Metrics {
 public:
  Metrics(metrics::Registry* r, const BrokerOptions& options) {
    if (r == nullptr) return;
    accepted_ = &prometheus::BuildCounter()
                     .Name("msgin5g_broker_accepted_messages_total")
                     .Help("Messages and reports answered, by operation, destination type and outcome")
                     .Register(r->prom());
    queued_ = &prometheus::BuildGauge()
                   .Name("msgin5g_broker_queued_messages")
                   .Help("Queue entries waiting for delivery, by priority")
                   .Register(r->prom());
    queued_bytes_ = &prometheus::BuildGauge()
                         .Name("msgin5g_broker_queued_bytes")
                         .Help("Payload bytes referenced by waiting queue entries")
                         .Register(r->prom())
                         .Add({});
    for (const char* p : {"HIGH", "MIDDLE", "LOW"}) {
      by_priority_.push_back(&queued_->Add({{"priority", p}}));
    }
    open_sets_ = &prometheus::BuildGauge()
                      .Name("msgin5g_broker_open_segment_sets")
                      .Help("Incomplete inbound segment sets held (bounded by "
                            "broker.max_open_segment_sets)")
                      .Register(r->prom())
                      .Add({});
    auto& refused = prometheus::BuildCounter()
                        .Name("msgin5g_broker_segment_sets_refused_total")
                        .Help("Segments refused because they would open a set past a bound, by "
                              "bound (total: 503, originator: 429)")
                        .Register(r->prom());
    refused_total_ = &refused.Add({{"bound", "total"}});
    refused_originator_ = &refused.Add({{"bound", "originator"}});
    expired_sets_ = &prometheus::BuildCounter()
                         .Name("msgin5g_broker_segment_sets_expired_total")
                         .Help("Incomplete segment sets dropped after broker.segment_timeout_ms")
                         .Register(r->prom())
                         .Add({});
    auto& limit = prometheus::BuildGauge()
                      .Name("msgin5g_broker_limit")
                      .Help("Configured bound, by bound (docs/limits.md)")
                      .Register(r->prom());
    const QueueLimits& l = options.limits;
    for (auto [bound, value] : std::initializer_list<std::pair<const char*, double>>{
             {"queued_messages", double(l.max_queued_messages)},
             {"queued_bytes", double(l.max_queued_bytes)},
             {"recipient_queued_messages", double(l.max_queued_messages_per_recipient)},
             {"recipient_queued_bytes", double(l.max_queued_bytes_per_recipient)},
             {"as_queued_messages", double(l.max_queued_messages_per_as)},
             {"as_queued_bytes", double(l.max_queued_bytes_per_as)},
             {"ue_registrations", double(l.max_ue_registrations)},
             {"as_registrations", double(l.max_as_registrations)},
             {"open_segment_sets", double(options.max_open_segment_sets)},
             {"open_segment_sets_per_originator",
              double(options.max_open_segment_sets_per_originator)}}) {
      limit.Add({{"bound", bound}}).Set(value);
    }
    auto& usage = prometheus::BuildGauge()
                      .Name("msgin5g_broker_usage")
                      .Help("Current use of a global bound (msgin5g_broker_limit), by bound")
                      .Register(r->prom());
    for (const char* b : {"queued_messages", "queued_bytes", "ue_registrations",
                          "as_registrations", "open_segment_sets"}) {
      usage_[b] = &usage.Add({{"bound", b}});
    }
    auto& near = prometheus::BuildGauge()
                     .Name("msgin5g_broker_recipients_near_limit")
                     .Help("Recipients whose queue holds 90 % or more of its per-recipient bound "
                           "(recipient_ or as_queued_messages / _bytes)")
                     .Register(r->prom());
    near_messages_ = &near.Add({{"bound", "recipient_queued_messages"}});
    near_bytes_ = &near.Add({{"bound", "recipient_queued_bytes"}});
    ues_asleep_ = &prometheus::BuildGauge()
                       .Name("msgin5g_broker_ues_asleep")
                       .Help("Registered UEs that stopped answering: their messages wait for "
                             "their next contact (registered UEs: msgin5g_broker_usage"
                             "{bound=\"ue_registrations\"})")
                       .Register(r->prom())
                       .Add({});
    recipients_ = &prometheus::BuildGauge()
                       .Name("msgin5g_broker_queued_recipients")
                       .Help("Recipients with at least one queued entry")
                       .Register(r->prom())
                       .Add({});
    auto& refused_limit = prometheus::BuildCounter()
                              .Name("msgin5g_broker_limit_refused_total")
                              .Help("Messages, reports and registrations refused or not queued "
                                    "because of a bound, by bound")
                              .Register(r->prom());
    for (const char* b : {"queued_messages", "queued_bytes", "recipient_queued_messages",
                          "recipient_queued_bytes", "as_queued_messages", "as_queued_bytes",
                          "ue_registrations", "as_registrations"}) {
      refused_limit_[b] = &refused_limit.Add({{"bound", b}});
    }
  }
  // `bound`: one of the names registered above.
  void Refused(const std::string& bound) {
    if (auto it = refused_limit_.find(bound); it != refused_limit_.end()) it->second->Increment();
  }
  void Usage(const char* bound, double v) {
    if (auto it = usage_.find(bound); it != usage_.end()) it->second->Set(v);
  }
  void Recipients(const QueueUsage& u) {
    if (recipients_ == nullptr) return;
    recipients_->Set(static_cast<double>(u.recipients()));
    near_messages_->Set(static_cast<double>(u.near_messages()));
    near_bytes_->Set(static_cast<double>(u.near_bytes()));
  }
  void UesAsleep(std::size_t n) {
    if (ues_asleep_) ues_asleep_->Set(static_cast<double>(n));
  }
  void OpenSets(std::size_t n) {
    if (open_sets_) open_sets_->Set(static_cast<double>(n));
  }
  void RefusedSet(bool per_originator) {
    if (refused_total_) (per_originator ? refused_originator_ : refused_total_)->Increment();
  }
  void ExpiredSets(std::size_t n) {
    if (expired_sets_ && n > 0) expired_sets_->Increment(static_cast<double>(n));
  }
  void Accepted(const char* operation, AddressType dest, OutcomeKind outcome) {
    if (accepted_ == nullptr) return;
    accepted_->Add({{"operation", operation}, {"dest_type", AddressTypeName(dest)},
                    {"outcome", OutcomeName(outcome)}})
        .Increment();
  }
  void Queued(const std::atomic<std::uint64_t>* by_priority, std::uint64_t bytes) {
    if (queued_ == nullptr) return;
    for (std::size_t i = 0; i < 3; ++i) by_priority_[i]->Set(static_cast<double>(by_priority[i].load()));
    queued_bytes_->Set(static_cast<double>(bytes));
  }

 private:
  prometheus::Family<prometheus::Counter>* accepted_ = nullptr;
  prometheus::Family<prometheus::Gauge>* queued_ = nullptr;
  prometheus::Gauge* queued_bytes_ = nullptr;
  std::vector<prometheus::Gauge*> by_priority_;
  prometheus::Gauge* open_sets_ = nullptr;
  prometheus::Counter* refused_total_ = nullptr;
  prometheus::Counter* refused_originator_ = nullptr;
  prometheus::Counter* expired_sets_ = nullptr;
  std::map<std::string, prometheus::Gauge*> usage_;
  std::map<std::string, prometheus::Counter*> refused_limit_;
  prometheus::Gauge* near_messages_ = nullptr;
  prometheus::Gauge* near_bytes_ = nullptr;
  prometheus::Gauge* recipients_ = nullptr;
  prometheus::Gauge* ues_asleep_ = nullptr;
};

// One sweep across its slices. Touched by one slice at a time (writer thread, then that slice's
// done on the sync thread, which queues the next: ordered by the store's locks).
struct DurableBroker::SweepRun {
  std::function<void(SegmentSweepResult)> done;
  SegmentSweepResult result;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool more = false;  // set by the last slice
};

DurableBroker::DurableBroker(storage::Store& store, BrokerOptions options,
                             metrics::Registry* metrics)
    : store_(store),
      options_(std::move(options)),
      metrics_(std::make_unique<Metrics>(metrics, options_)),
      usage_(options_.limits) {}

Result<std::unique_ptr<DurableBroker>> DurableBroker::Create(storage::Store& store,
                                                             BrokerOptions options,
                                                             metrics::Registry* metrics,
                                                             DeliveryChannel* channel) {
  std::unique_ptr<DurableBroker> b(new DurableBroker(store, std::move(options), metrics));
  // Every queued entry goes to the delivery engine; fan-out messages with several entries left
  // need their count (sorted sequence numbers: runs of equal seqs).
  std::vector<std::uint64_t> seqs;
  auto state = store.Recover([&](const storage::QueueEntryRecord& q) {
    seqs.push_back(q.seq);
    // Before the writer thread owns usage_ (Load runs after this, on it).
    std::lock_guard<std::mutex> lock(b->usage_mu_);
    b->usage_.Add(q.recipient, q.payload_bytes);
    if (channel != nullptr) b->recovered_entries_.push_back({q, nullptr});
  });
  if (!state.ok()) return state.status();
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t i = 0; i < seqs.size();) {
    std::size_t j = i;
    while (j < seqs.size() && seqs[j] == seqs[i]) ++j;
    if (j - i > 1) b->remaining_[seqs[i]] = static_cast<std::uint32_t>(j - i);
    i = j;
  }
  seqs = {};
  b->recovered_ = *state;
  if (channel != nullptr) {
    b->engine_ = std::make_unique<DeliveryEngine>(b->options_.delivery, *channel,
                                                  static_cast<OutcomeSink&>(*b), metrics);
  }
  // Load the caches on the writer thread, which owns them from now on.
  std::promise<void> loaded;
  store.Submit(
      [bp = b.get(), &state](Txn&) {
        bp->Load(*state);
        return Status::Ok();
      },
      [&loaded](Status) { loaded.set_value(); });
  loaded.get_future().wait();
  if (b->engine_) {
    b->engine_->Add(std::move(b->recovered_entries_));
    b->recovered_entries_ = {};
    b->engine_->Start();
  }
  if (!b->options_.backup.root.empty()) {
    b->backups_ = std::make_unique<storage::BackupService>(store, b->options_.backup, metrics);
  }
  b->ticker_ = std::thread([bp = b.get()] {
    pthread_setname_np(pthread_self(), "broker-ticker");
    std::unique_lock<std::mutex> lock(bp->ticker_mu_);
    while (!bp->ticker_cv_.wait_for(lock, bp->options_.segment_sweep_interval,
                                    [bp] { return bp->stopping_; })) {
      lock.unlock();
      bp->SweepExpiredSegments();  // no-op while the previous sweep still runs
      lock.lock();
    }
  });
  LOG_INFO("broker",
           "recovered in %lld ms: %zu registrations, %zu groups, %zu topic subscriptions, %zu "
           "routing rules, %llu queued (HIGH %llu, MIDDLE %llu, LOW %llu), %llu open segment sets",
           static_cast<long long>(state->took.count()), state->registrations.size(),
           state->groups.size(), state->topics.size(), state->routing_rules.size(),
           static_cast<unsigned long long>(state->queue_entries_by_priority[0] +
                                           state->queue_entries_by_priority[1] +
                                           state->queue_entries_by_priority[2]),
           static_cast<unsigned long long>(state->queue_entries_by_priority[0]),
           static_cast<unsigned long long>(state->queue_entries_by_priority[1]),
           static_cast<unsigned long long>(state->queue_entries_by_priority[2]),
           static_cast<unsigned long long>(state->open_segment_sets.size()));
  return b;
}

DurableBroker::~DurableBroker() {
  BeginShutdown();
  StopDelivery();
  // Operations and queries already queued reference this broker: let them finish first (a sweep
  // queues no further slice once stopped, so this waits for at most one).
  store_.Drain();
}

void DurableBroker::BeginShutdown() {
  sweep_stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(ticker_mu_);
    stopping_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable() && ticker_.get_id() != std::this_thread::get_id()) ticker_.join();
}

void DurableBroker::StopDelivery() {
  if (engine_) engine_->Stop();
}

void DurableBroker::Submit(storage::Store::Op fn, storage::Store::Done done, std::size_t bytes_hint,
                           bool bounded) {
  auto after = std::make_shared<AfterDurable>();
  store_.Submit(
      [this, fn = std::move(fn), after](Txn& txn) {
        op_after_ = {};
        Status st = fn(txn);
        if (st.ok()) std::swap(*after, op_after_);
        op_after_ = {};
        return st;
      },
      [this, done = std::move(done), after](Status st) {
        // The write is durable now: the engine may deliver what it queued, and what it took counts.
        if (st.ok()) {
          for (const auto& a : after->accepted) metrics_->Accepted(a.operation, a.dest, a.outcome);
          if (engine_ && !after->queued.empty()) engine_->Add(std::move(after->queued));
        }
        if (done) done(st);
      },
      bytes_hint, bounded);
}

void DurableBroker::RebuildRoutes() {
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
  if (engine_) engine_->SetRoutes(std::move(t));
}

void DurableBroker::PublishUe(const std::string& ue_id) {
  auto it = ues_.find(ue_id);
  if (it == ues_.end() || asleep_.count(ue_id) != 0) {
    ue_routes_->Erase(ue_id);
  } else {
    const auto& u = it->second;
    ue_routes_->Put(ue_id, {u.endpoint, u.max_segment_bytes != 0 ? u.max_segment_bytes
                                                                 : options_.ue_max_segment_bytes});
  }
  metrics_->UesAsleep(asleep_.size());
  sizes_.ues_asleep = asleep_.size();
  // Only this UE's entries move (not a full re-placement: see UeRouteChanged).
  if (engine_) engine_->UeRouteChanged(ue_id);
}

void DurableBroker::Load(const storage::RecoveredState& state) {
  for (const auto& r : state.registrations) {
    registrations_[r.registration_id] = r;
    registration_by_svc_[r.as_svc_id] = r.registration_id;
  }
  for (const auto& g : state.groups) groups_[g.group_id] = g;
  for (const auto& t : state.topics) topics_[t.topic][t.subscriber] = t.expiry_ms;
  rules_ = state.routing_rules;
  for (const auto& p : state.client_policies) client_policies_[p.client_id] = p.json;
  for (const auto& u : state.ue_registrations) {
    ues_[u.ue_id] = u;
    PublishUe(u.ue_id);
  }
  SortInTriedOrder(rules_);
  // The bounds count what is open on disk, across restarts.
  for (const auto& s : state.open_segment_sets) open_segments_.Put(s);
  OpenSetsChanged();
  RebuildRoutes();
  for (std::size_t i = 0; i < 3; ++i) queued_[i] = state.queue_entries_by_priority[i];
  queued_bytes_ = state.queued_bytes;
  UpdateQueueMetrics();
  RegistrationsChanged();
  sizes_.groups = groups_.size();
  sizes_.routing_rules = rules_.size();
  for (const auto& [t, subs] : topics_) sizes_.topic_subscriptions += subs.size();
}

void DurableBroker::RegistrationsChanged() {
  metrics_->Usage("ue_registrations", static_cast<double>(ues_.size()));
  metrics_->Usage("as_registrations", static_cast<double>(registrations_.size()));
  sizes_.ue_registrations = ues_.size();
  sizes_.as_registrations = registrations_.size();
}

void DurableBroker::OpenSetsChanged() {
  metrics_->OpenSets(open_segments_.size());
  sizes_.open_segment_sets = open_segments_.size();
}

void DurableBroker::UpdateQueueMetrics() {
  metrics_->Queued(queued_, queued_bytes_.load());
  metrics_->Usage("queued_messages", static_cast<double>(TotalQueued()));
  metrics_->Usage("queued_bytes", static_cast<double>(queued_bytes_.load()));
  metrics_->Recipients(usage_);
}

Status DurableBroker::AdmitQueued(std::uint64_t entries, std::uint64_t bytes) {
  const QueueLimits& l = options_.limits;
  const std::uint64_t n = TotalQueued();
  if (n + entries > l.max_queued_messages) {
    metrics_->Refused("queued_messages");
    return Status::ResourceExhausted("the queues hold " + std::to_string(n) +
                                     " entries (broker.max_queued_messages " +
                                     std::to_string(l.max_queued_messages) +
                                     "): nothing new until messages are delivered or expire");
  }
  const std::uint64_t b = queued_bytes_.load();
  if (b + bytes > l.max_queued_bytes) {
    metrics_->Refused("queued_bytes");
    return Status::ResourceExhausted("the queues hold " + std::to_string(b) +
                                     " payload bytes (broker.max_queued_bytes " +
                                     std::to_string(l.max_queued_bytes) +
                                     "): nothing new until messages are delivered or expire");
  }
  return Status::Ok();
}

template <class T>
void DurableBroker::Run(std::function<Status(Txn&, T*)> fn, std::function<void(Result<T>)> done,
                        std::size_t bytes_hint) {
  auto result = std::make_shared<T>();
  Submit([fn = std::move(fn), result](Txn& txn) { return fn(txn, result.get()); },
                [done = std::move(done), result](Status st) {
                  if (!st.ok()) {
                    done(st);
                  } else {
                    done(std::move(*result));
                  }
                },
                bytes_hint);
}

// --- routing ---

bool DurableBroker::Reachable(const Address& a) const {
  // UEs routed "direct" (MSGin5G-1) are reachable while registered over CoAP.
  return routes_->Resolve(a).has_value();
}

Status DurableBroker::Resolve(const Address& dest, std::int64_t now_ms, std::vector<Resolved>* out) {
  switch (dest.type) {
    case AddressType::kAs:
      if (registration_by_svc_.count(dest.id) == 0 && !options_.store_for_unknown_recipient) {
        return Status::NotFound("no registered AS '" + dest.id + "'");
      }
      out->push_back({dest, Reachable(dest)});
      return Status::Ok();
    case AddressType::kUe:
    case AddressType::kBroadcast:
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

void DurableBroker::EnqueueCounted(Txn& txn, const std::shared_ptr<const MessageRecord>& m,
                                   const Address& r, std::int64_t due_ms) {
  txn.Enqueue(*m, r, due_ms);
  queued_[static_cast<std::size_t>(m->priority)]++;
  queued_bytes_ += m->payload.size();
  {
    std::lock_guard<std::mutex> lock(usage_mu_);
    usage_.Add(r, m->payload.size());
  }
  if (!engine_) return;  // nothing delivers: nothing to hand over
  storage::QueueEntryRecord q;
  q.recipient = r;
  q.priority = m->priority;
  q.due_ms = due_ms;
  q.seq = m->seq;
  q.payload_bytes = static_cast<std::uint32_t>(m->payload.size());
  q.expiry_ms = m->expiry_ms;
  op_after_.queued.push_back({std::move(q), m});
}

void DurableBroker::QueueReport(Txn& txn, const Address& to, const Address& about_recipient,
                                const std::string& msg_id, storage::ReportStatus status,
                                const std::string& cause, std::int64_t now_ms) {
  auto rp = std::make_shared<MessageRecord>();
  MessageRecord& r = *rp;
  r.seq = txn.NextSeq();
  r.kind = MessageKind::kReport;
  r.ingress = Ingress::kServer;
  r.origin = about_recipient;
  r.destination = to;
  r.msg_id = msg_id;
  r.priority = Priority::kMiddle;
  r.store_and_forward = true;
  r.accepted_ms = now_ms;
  r.expiry_ms = now_ms + DefaultTtlMs();
  r.report_status = status;
  r.failure_cause = cause;
  r.recipient_count = 1;
  txn.PutMessage(r);
  EnqueueCounted(txn, rp, to, now_ms);
}

// --- messages ---

Status DurableBroker::Accept(Txn& txn, const Message& m, AcceptOutcome* out, const char* operation,
                             const std::string* idempotency_key) {
  const std::string& idem_key = idempotency_key != nullptr ? *idempotency_key : m.msg_id;
  if (auto seen = txn.GetIdempotency(m.origin, idem_key)) {
    *out = FromStored(*seen);  // a repeat: the first answer, nothing new stored
    return Status::Ok();
  }
  if (m.segment) return AcceptSegment(txn, m, out);

  const std::int64_t now = UnixMillis();
  std::vector<Resolved> recipients;
  Status st = Resolve(m.destination, now, &recipients);
  if (!st.ok()) return st;

  // Recipients whose own queue is at its bound are set apart: not queued (docs/limits.md).
  const std::uint64_t bytes = m.payload.size();
  std::vector<Resolved> full;
  std::string full_cause;
  {
    std::vector<Resolved> kept;
    kept.reserve(recipients.size());
    for (auto& r : recipients) {
      if (r.reachable || m.store_and_forward) {
        if (const char* bound = usage_.Passed(r.recipient, bytes)) {
          const bool as = r.recipient.type == AddressType::kAs;
          metrics_->Refused(std::string(as ? "as_queued_" : "recipient_queued_") + bound);
          if (full_cause.empty()) full_cause = QueueFullCause(r.recipient, bound);
          full.push_back(std::move(r));
          continue;
        }
      }
      kept.push_back(std::move(r));
    }
    recipients.swap(kept);
  }
  if (recipients.empty() && !full.empty()) {
    // Nobody to queue it for: DELY_FAILED, and nothing stored (not even the msgId: sent again
    // once the queue has room, it is taken).
    out->kind = AcceptOutcome::Kind::kFailed;
    out->failure_cause = full_cause;
    out->remembered = false;
    CountAccepted(operation, m.destination.type, OutcomeKind::kFailed);
    return Status::Ok();
  }

  std::size_t reachable = 0;
  for (const auto& r : recipients) reachable += r.reachable ? 1 : 0;
  IdempotencyRecord idem;
  if (recipients.empty()) {
    out->kind = AcceptOutcome::Kind::kFailed;
    out->failure_cause = m.destination.type == AddressType::kTopic
                             ? "topic has no subscribers"
                             : "group has no members";
  } else if (reachable == 0) {
    out->kind = m.store_and_forward ? AcceptOutcome::Kind::kStored : AcceptOutcome::Kind::kFailed;
    if (!m.store_and_forward) {
      out->failure_cause = "recipient not reachable and store-and-forward not requested";
    }
  } else {
    out->kind = AcceptOutcome::Kind::kAccepted;
  }

  const std::int64_t ttl_ms = DefaultTtlMs();
  if (out->kind != AcceptOutcome::Kind::kFailed) {
    // At most one entry per recipient (its copy, or a failure report without payload).
    MSGIN5G_RETURN_IF_ERROR(AdmitQueued(recipients.size() + (m.report_requested ? full.size() : 0),
                                        recipients.size() * bytes));
    auto shared = std::make_shared<MessageRecord>();
    MessageRecord& rec = *shared;
    rec.seq = txn.NextSeq();
    rec.kind = MessageKind::kMessage;
    rec.ingress = m.ingress;
    rec.origin = m.origin;
    rec.destination = m.destination;
    rec.app_id = m.app_id;
    rec.msg_id = m.msg_id;
    rec.payload = m.payload;
    rec.priority = m.priority;
    rec.report_requested = m.report_requested;
    rec.store_and_forward = m.store_and_forward;
    rec.accepted_ms = now;
    rec.expiry_ms = m.expiry ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                   m.expiry->time_since_epoch())
                                   .count()
                             : now + ttl_ms;
    rec.latency = m.latency;
    std::uint32_t queued = 0;
    for (const auto& r : recipients) {
      if (r.reachable || m.store_and_forward) ++queued;
    }
    rec.recipient_count = queued;
    if (queued > 1) remaining_[rec.seq] = queued;
    txn.PutMessage(rec);
    for (const auto& r : recipients) {
      if (r.reachable || m.store_and_forward) {
        EnqueueCounted(txn, shared, r.recipient, now);
      } else if (m.report_requested) {
        QueueReport(txn, m.origin, r.recipient, m.msg_id, storage::ReportStatus::kFailed,
                    "recipient not reachable", now);
      }
    }
    if (m.report_requested) {
      for (const auto& r : full) {
        QueueReport(txn, m.origin, r.recipient, m.msg_id, storage::ReportStatus::kFailed,
                    QueueFullCause(r.recipient, usage_.Passed(r.recipient, bytes)), now);
      }
    }
    idem.seq = rec.seq;
    // The msgId is remembered while the message may live, and at least default_ttl.
    idem.expiry_ms = std::max(rec.expiry_ms, now + ttl_ms);
  } else {
    idem.expiry_ms = now + ttl_ms;
  }
  idem.outcome = ToStored(out->kind);
  idem.failure_cause = out->failure_cause;
  txn.PutIdempotency(m.origin, idem_key, idem);
  CountAccepted(operation, m.destination.type, idem.outcome);
  UpdateQueueMetrics();
  return Status::Ok();
}

Status DurableBroker::AcceptSegment(Txn& txn, const Message& m, AcceptOutcome* out) {
  const auto& seg = *m.segment;
  const std::int64_t now = UnixMillis();
  auto set = txn.GetSegmentSet(m.origin, seg.segment_id);
  if (set && set->total != seg.total) {
    return Status::InvalidArgument("totalSegCount " + std::to_string(seg.total) +
                                   " differs from the set's " + std::to_string(set->total));
  }
  if (set && set->destination != m.destination) {
    return Status::InvalidArgument("segment destination differs from the set's");
  }
  if (!set) {
    // Check before storing anything: an unknown recipient is refused on the first segment.
    std::vector<Resolved> probe;
    Status st = Resolve(m.destination, now, &probe);
    if (!st.ok()) return st;
    // A set that stays open after this segment counts against the bounds (a single-segment set
    // completes at once and is never held).
    if (seg.total > 1) MSGIN5G_RETURN_IF_ERROR(AdmitNewSegmentSet(m.origin));
    set = storage::SegmentSetRecord{m.origin, seg.segment_id, m.destination, m.msg_id, now,
                                    seg.total, 0, m.report_requested};
  }
  IdempotencyRecord idem;
  if (auto held = txn.GetSegment(m.origin, seg.segment_id, seg.number)) {
    // A repeat is fine (answered as before); the same number with other bytes is not: which of
    // the two should the reassembled message hold? Refused, nothing changed.
    if (held->header.payload != m.payload) {
      return Status::InvalidArgument("segment " + std::to_string(seg.number) + " of " +
                                     seg.segment_id + " was already received with other content");
    }
  } else {
    if (set->bytes + m.payload.size() > options_.max_reassembled_bytes) {
      return Status(StatusCode::kPayloadTooLarge,
                    "segments of " + seg.segment_id + " exceed " +
                        std::to_string(options_.max_reassembled_bytes) + " bytes");
    }
    set->bytes += m.payload.size();
    storage::SegmentRecord s;
    s.header.origin = m.origin;
    s.header.destination = m.destination;
    s.header.app_id = m.app_id;
    s.header.msg_id = m.msg_id;
    s.header.payload = m.payload;
    s.header.priority = m.priority;
    s.header.report_requested = m.report_requested;
    s.header.store_and_forward = m.store_and_forward;
    s.header.ingress = m.ingress;
    s.header.latency = m.latency;
    if (m.expiry) {
      s.header.expiry_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(m.expiry->time_since_epoch()).count();
    }
    s.number = seg.number;
    s.total = seg.total;
    s.last = seg.last;
    txn.PutSegment(m.origin, seg.segment_id, s);
    set->received++;
  }
  out->kind = AcceptOutcome::Kind::kAccepted;
  const auto key = std::make_pair(m.origin, seg.segment_id);
  if (set->received < set->total) {
    txn.PutSegmentSet(*set);
    open_segments_.Put(*set);
    OpenSetsChanged();
  } else {
    // Complete: reassemble in segment order into one message whose msgId is the segId.
    auto parts = txn.TakeSegments(m.origin, seg.segment_id);
    txn.DeleteSegmentSet(*set);
    std::sort(parts.begin(), parts.end(),
              [](const auto& a, const auto& b) { return a.number < b.number; });
    Message whole = m;
    whole.segment.reset();
    whole.msg_id = seg.segment_id;
    whole.payload.clear();
    for (const auto& p : parts) whole.payload += p.header.payload;
    // Message-level parameters come from the first segment.
    if (!parts.empty()) {
      const auto& first = parts.front().header;
      whole.app_id = first.app_id;
      whole.priority = first.priority;
      whole.report_requested = first.report_requested;
      whole.store_and_forward = first.store_and_forward;
      if (first.expiry_ms != 0) {
        whole.expiry = TimePoint(std::chrono::milliseconds(first.expiry_ms));
      }
    }
    const std::string whole_key = SegmentMessageKey(seg.segment_id);
    Status st = Accept(txn, whole, out, "reassembled", &whole_key);
    out->remembered = true;  // the set is consumed: this segment's answer is final
    // Refused (e.g. the recipient is gone): the store rolls this operation back, so the set stays
    // open on disk and must stay in open_segments_ too (swept on timeout like any other).
    if (!st.ok()) return st;
    open_segments_.Erase(key);
    OpenSetsChanged();
    // The completing segment's answer points at the reassembled message (earlier segments' answers
    // say only that the segment was taken).
    if (auto whole_idem = txn.GetIdempotency(m.origin, whole_key)) idem.seq = whole_idem->seq;
  }
  idem.outcome = ToStored(out->kind);
  idem.failure_cause = out->failure_cause;
  idem.expiry_ms = now + DefaultTtlMs();
  txn.PutIdempotency(m.origin, m.msg_id, idem);
  return Status::Ok();
}

Status DurableBroker::AdmitNewSegmentSet(const Address& origin) {
  if (open_segments_.size() >= options_.max_open_segment_sets) {
    metrics_->RefusedSet(false);
    return Status::ResourceExhausted(
        "too many open segment sets (" + std::to_string(open_segments_.size()) +
        ", broker.max_open_segment_sets): no new set until others complete or time out");
  }
  const std::size_t mine = open_segments_.CountFrom(origin);
  if (mine >= options_.max_open_segment_sets_per_originator) {
    metrics_->RefusedSet(true);
    return Status(StatusCode::kRateLimited,
                  "originator " + origin.id + " has " + std::to_string(mine) +
                      " open segment sets (broker.max_open_segment_sets_per_originator): no new "
                      "set until its others complete or time out");
  }
  return Status::Ok();
}

bool DurableBroker::SweepExpiredSegments(std::function<void(SegmentSweepResult)> done) {
  if (sweep_stop_.load() || sweeping_.exchange(true)) return false;
  auto run = std::make_shared<SweepRun>();
  run->done = std::move(done);
  SubmitSweepSlice(std::move(run));
  return true;
}

void DurableBroker::SubmitSweepSlice(std::shared_ptr<SweepRun> run) {
  // Not bounded by the queue limit: one slice at most is queued at any time (the next is queued
  // only when this one is durable), behind the writes that arrived meanwhile.
  Submit(
      [this, run](Txn& txn) {
        if (!sweep_stop_.load()) {
          run->more = SweepSlice(txn, *run);
        } else {  // stopped before this slice: say whether anything was left undone
          const auto* oldest = open_segments_.Oldest();
          run->more = oldest != nullptr &&
                      UnixMillis() - oldest->first_seen_ms >= options_.segment_timeout.count();
        }
        return Status::Ok();
      },
      [this, run](Status st) {
        if (st.ok() && run->more && !sweep_stop_.load()) return SubmitSweepSlice(run);
        run->result.stopped = !st.ok() || run->more;
        if (run->result.sets > 0) {
          LOG_INFO("broker", "dropped %zu timed-out segment sets in %zu slices (%lld ms)%s",
                   run->result.sets, run->result.slices,
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - run->started)
                                              .count()),
                   run->result.stopped ? ", stopped before the end" : "");
        }
        sweeping_.store(false);
        if (run->done) run->done(run->result);
      },
      0, /*bounded=*/false);
}

bool DurableBroker::SweepSlice(Txn& txn, SweepRun& run) {
  const std::int64_t now = UnixMillis();
  const std::int64_t limit = options_.segment_timeout.count();
  const auto deadline = std::chrono::steady_clock::now() + options_.segment_sweep_slice_time;
  auto expired = [&](const storage::SegmentSetRecord* s) {
    return s != nullptr && now - s->first_seen_ms >= limit;
  };
  std::size_t n = 0;
  // Oldest first: the first set not yet timed out ends the sweep.
  while (expired(open_segments_.Oldest())) {
    if (n >= options_.segment_sweep_slice_sets ||
        (n > 0 && std::chrono::steady_clock::now() >= deadline)) {
      break;
    }
    const storage::SegmentSetRecord s = *open_segments_.Oldest();
    txn.TakeSegments(s.origin, s.seg_id);
    txn.DeleteSegmentSet(s);
    if (s.report_requested) {
      QueueReport(txn, s.origin, s.destination, s.msg_id, storage::ReportStatus::kFailed,
                  "segment reassembly timed out (" + std::to_string(s.received) + " of " +
                      std::to_string(s.total) + " segments)",
                  now);
    }
    LOG_DEBUG("broker", "segment set %s from %s timed out with %u of %u segments",
              s.seg_id.c_str(), s.origin.id.c_str(), s.received, s.total);
    open_segments_.Erase(OpenSegmentSets::KeyOf(s));
    ++n;
  }
  ++run.result.slices;
  run.result.sets += n;
  metrics_->ExpiredSets(n);
  OpenSetsChanged();
  UpdateQueueMetrics();  // failure reports queued above
  return expired(open_segments_.Oldest());
}

void DurableBroker::SubmitMessage(Message message,
                                  std::function<void(Result<AcceptOutcome>)> done) {
  if (!accepting_.load()) return done(DrainingStatus());
  if (!IdsFit(message)) {
    done(Status::InvalidArgument("an address, msgId or segId is too long"));
    return;
  }
  // A retry of a recent message: the first answer, without a trip through storage.
  if (auto seen = recent_.Find(message.origin, message.msg_id)) {
    done(std::move(*seen));
    return;
  }
  std::size_t bytes = message.payload.size() + 256;
  const char* operation =
      message.ingress == Ingress::kAs ? "deliver-as-message" : "deliver-ue-message";
  Address origin = message.origin;
  std::string msg_id = message.msg_id;
  Run<AcceptOutcome>(
      [this, m = std::move(message), operation](Txn& txn, AcceptOutcome* out) {
        return Accept(txn, m, out, operation);
      },
      [this, origin = std::move(origin), msg_id = std::move(msg_id),
       done = std::move(done)](Result<AcceptOutcome> r) {
        // Runs after the batch is durable: from now on this answer is final (unless it stored
        // nothing: a recipient's queue was full).
        if (r.ok() && r->remembered) recent_.Add(origin, msg_id, *r);
        done(std::move(r));
      },
      bytes);
}

void DurableBroker::SubmitReport(Report report, std::function<void(Result<AcceptOutcome>)> done) {
  if (!accepting_.load()) return done(DrainingStatus());
  Run<AcceptOutcome>(
      [this, r = std::move(report)](Txn& txn, AcceptOutcome* out) {
        const std::string key = ReportKey(r.msg_id);
        if (auto seen = txn.GetIdempotency(r.origin, key)) {
          *out = FromStored(*seen);
          return Status::Ok();
        }
        const std::int64_t now = UnixMillis();
        std::vector<Resolved> to;
        Status st = Resolve(r.destination, now, &to);
        if (!st.ok()) return st;
        // The bounds, as for messages: recipients at theirs get no copy; the total refuses.
        std::string full_cause;
        const std::size_t resolved = to.size();
        std::erase_if(to, [&](const Resolved& t) {
          const char* bound = usage_.Passed(t.recipient, 0);
          if (bound == nullptr) return false;
          metrics_->Refused(std::string(t.recipient.type == AddressType::kAs ? "as_queued_"
                                                                             : "recipient_queued_") +
                            bound);
          if (full_cause.empty()) full_cause = QueueFullCause(t.recipient, bound);
          return true;
        });
        if (to.empty() && resolved > 0) {
          out->kind = AcceptOutcome::Kind::kFailed;
          out->failure_cause = full_cause;
          out->remembered = false;
          CountAccepted("deliver-report", r.destination.type, OutcomeKind::kFailed);
          return Status::Ok();
        }
        MSGIN5G_RETURN_IF_ERROR(AdmitQueued(to.size(), 0));
        bool reachable = false;
        for (const auto& t : to) {
          reachable = reachable || t.reachable;
          QueueReport(txn, t.recipient, r.origin, r.msg_id, r.status, r.failure_cause, now);
        }
        out->kind = to.empty() ? AcceptOutcome::Kind::kFailed
                    : reachable ? AcceptOutcome::Kind::kAccepted
                                : AcceptOutcome::Kind::kStored;
        if (to.empty()) out->failure_cause = "no recipient for the report";
        txn.PutIdempotency(r.origin, key,
                           {0, ToStored(out->kind), out->failure_cause, now + DefaultTtlMs()});
        CountAccepted("deliver-report", r.destination.type, ToStored(out->kind));
        UpdateQueueMetrics();
        return Status::Ok();
      },
      std::move(done));
}

// --- delivery outcomes (OutcomeSink) ---

void DurableBroker::Finish(const storage::QueueEntryRecord& entry,
                          std::shared_ptr<const MessageRecord> message, Final final,
                          std::string cause, std::function<void(Status)> done) {
  Submit(
      [this, entry, message = std::move(message), final, cause = std::move(cause)](Txn& txn) {
        std::optional<MessageRecord> loaded;
        const MessageRecord* m = message.get();
        if (m == nullptr) {
          loaded = txn.GetCommittedMessage(entry.seq);
          if (loaded) m = &*loaded;
        }
        const bool fan_out = m != nullptr && m->recipient_count > 1;
        bool last = true;
        if (fan_out) {
          if (auto it = remaining_.find(entry.seq); it != remaining_.end()) {
            last = --it->second == 0;
            if (it->second <= 1) remaining_.erase(it);  // one left: "not here" says so
          }
        }
        using storage::RecipientState;
        const bool delivered = final == Final::kDelivered || final == Final::kHandedOver;
        const RecipientState state = delivered                  ? RecipientState::kDelivered
                                     : final == Final::kFailed  ? RecipientState::kFailed
                                                                : RecipientState::kExpired;
        txn.FinishEntry(entry, state, last, fan_out);
        if (!delivered && m != nullptr && m->kind == MessageKind::kMessage) {
          RecordUndelivered(txn, *m, entry, state, cause);
        }
        const auto p = static_cast<std::size_t>(entry.priority);
        if (p < 3 && queued_[p] > 0) queued_[p]--;
        queued_bytes_ -= std::min<std::uint64_t>(queued_bytes_.load(), entry.payload_bytes);
        {
          std::lock_guard<std::mutex> lock(usage_mu_);
          usage_.Remove(entry.recipient, entry.payload_bytes);
        }
        // Reports are about messages, never about reports; a gateway that took the message sends
        // its own (kHandedOver).
        if (m != nullptr && m->kind == MessageKind::kMessage && m->report_requested &&
            final != Final::kHandedOver) {
          QueueReport(txn, m->origin, entry.recipient, m->msg_id,
                      final == Final::kDelivered ? storage::ReportStatus::kSuccess
                                                 : storage::ReportStatus::kFailed,
                      cause, UnixMillis());
        }
        UpdateQueueMetrics();
        return Status::Ok();
      },
      std::move(done), 0, /*bounded=*/false);
}

// A message that did not reach a recipient must leave a trace after it is gone: a log line for
// the operator, and the recipient's final state and cause kept with the message's idempotency
// record (the admin message view reads it for as long as the msgId is remembered).
void DurableBroker::RecordUndelivered(storage::Txn& txn, const MessageRecord& m,
                                      const storage::QueueEntryRecord& entry,
                                      storage::RecipientState state, const std::string& cause) {
  MSGIN5G_LOG_LIMITED(::msgin5g::log::Level::kWarn, 100, "delivery",
                      "message msgId=\"%s\" oriAddr=%s:%s to %s:%s %s: %s", m.msg_id.c_str(),
                      AddressTypeName(m.origin.type), m.origin.id.c_str(),
                      AddressTypeName(entry.recipient.type), entry.recipient.id.c_str(),
                      state == storage::RecipientState::kExpired ? "expired" : "failed",
                      cause.c_str());
  // Reassembled messages are remembered under their segment set's key.
  for (const std::string& key : {m.msg_id, SegmentMessageKey(m.msg_id)}) {
    auto idem = txn.GetIdempotency(m.origin, key);
    if (!idem || idem->seq != m.seq) continue;  // not this message's record (or already gone)
    if (idem->undelivered.size() < storage::IdempotencyRecord::kMaxUndeliveredKept) {
      idem->undelivered.push_back({entry.recipient, state, cause.substr(0, 512), UnixMillis()});
    } else {
      idem->undelivered_more++;
    }
    txn.PutIdempotency(m.origin, key, *idem);
    return;
  }
}

void DurableBroker::Reschedule(const storage::QueueEntryRecord& entry, std::int64_t due_ms,
                              std::uint32_t attempts, std::function<void(Status)> done) {
  Submit(
      [entry, due_ms, attempts](Txn& txn) {
        txn.RescheduleEntry(entry, due_ms, attempts);
        return Status::Ok();
      },
      std::move(done), 0, /*bounded=*/false);
}

void DurableBroker::LoadMessages(
    std::vector<std::uint64_t> seqs,
    std::function<void(std::vector<std::shared_ptr<const MessageRecord>>)> done) {
  store_.Query([seqs = std::move(seqs), done = std::move(done)](storage::Reader& r) {
    std::vector<std::shared_ptr<const MessageRecord>> out;
    out.reserve(seqs.size());
    for (auto seq : seqs) {
      auto m = r.GetMessage(seq);
      out.push_back(m ? std::make_shared<const MessageRecord>(std::move(*m)) : nullptr);
    }
    done(std::move(out));
  });
}

// --- AS registrations ---

void DurableBroker::RegisterAs(AsRegistration registration,
                               std::function<void(Result<AsRegistration>)> done) {
  Run<AsRegistration>(
      [this, reg = std::move(registration)](Txn& txn, AsRegistration* out) mutable {
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
          metrics_->Refused("as_registrations");
          return Status::ResourceExhausted(
              "AS registrations at broker.max_as_registrations (" +
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
      },
      std::move(done));
}

void DurableBroker::DeregisterAs(std::string registration_id, std::string requester,
                                 std::function<void(Status)> done) {
  Submit(
      [this, id = std::move(registration_id), requester = std::move(requester)](Txn& txn) {
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
      },
      std::move(done));
}

// --- MSGin5G-1 UE registrations ---

void DurableBroker::RegisterUe(UeRegistration registration, std::function<void(Status)> done) {
  Submit(
      [this, reg = std::move(registration)](Txn& txn) mutable {
        // A known UE may always register again; a new one only below the bound.
        if (ues_.size() >= options_.limits.max_ue_registrations && ues_.count(reg.ue_id) == 0) {
          metrics_->Refused("ue_registrations");
          return Status::ResourceExhausted(
              "UE registrations at broker.max_ue_registrations (" +
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
      },
      std::move(done));
}

void DurableBroker::DeregisterUe(std::string ue_id, std::string from_endpoint,
                                 std::function<void(Status)> done) {
  Submit(
      [this, id = std::move(ue_id), from = std::move(from_endpoint)](Txn& txn) {
        auto it = ues_.find(id);
        if (it == ues_.end()) return Status::NotFound("UE " + id + " is not registered");
        if (!from.empty() && it->second.endpoint != from) {
          return Status(StatusCode::kPermissionDenied,
                        "UE " + id + " is registered at another address");
        }
        ues_.erase(it);
        asleep_.erase(id);
        PublishUe(id);
        txn.DeleteUeRegistration(id);
        RegistrationsChanged();
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::UeContact(std::string ue_id, std::string endpoint, bool may_move,
                              std::function<void(Status)> done) {
  Submit(
      [this, id = std::move(ue_id), endpoint = std::move(endpoint), may_move](Txn& txn) {
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
      },
      std::move(done));
}

void DurableBroker::UeUnreachable(std::string ue_id) {
  Submit(
      [this, id = std::move(ue_id)](Txn&) {
        if (ues_.count(id) != 0 && asleep_.insert(id).second) PublishUe(id);
        return Status::Ok();
      },
      [](Status) {});
}

// --- admin: groups ---

void DurableBroker::PutGroup(GroupRecord group, std::function<void(Status)> done) {
  Submit(
      [this, g = std::move(group)](Txn& txn) mutable {
        std::sort(g.members.begin(), g.members.end());
        g.members.erase(std::unique(g.members.begin(), g.members.end()), g.members.end());
        txn.PutGroup(g);
        groups_[g.group_id] = std::move(g);
        sizes_.groups = groups_.size();
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::DeleteGroup(std::string group_id, std::function<void(Status)> done) {
  Submit(
      [this, id = std::move(group_id)](Txn& txn) {
        if (groups_.erase(id) == 0) return Status::NotFound("no group '" + id + "'");
        sizes_.groups = groups_.size();
        txn.DeleteGroup(id);
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::UpdateGroup(std::string group_id, std::function<Status(GroupRecord&)> change,
                                std::function<void(Status)> done) {
  Submit(
      [this, id = std::move(group_id), change = std::move(change)](Txn& txn) {
        auto it = groups_.find(id);
        if (it == groups_.end()) return Status::NotFound("no group '" + id + "'");
        GroupRecord g = it->second;  // changed on a copy: the cache moves only on success
        Status st = change(g);
        if (!st.ok()) return st;
        std::sort(g.members.begin(), g.members.end());
        txn.PutGroup(g);
        it->second = std::move(g);
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::AddGroupMember(std::string group_id, Address member,
                                   std::function<void(Status)> done) {
  UpdateGroup(
      std::move(group_id),
      [member = std::move(member)](GroupRecord& g) {
        if (std::find(g.members.begin(), g.members.end(), member) == g.members.end()) {
          g.members.push_back(member);  // already a member: nothing to add (idempotent)
        }
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::RemoveGroupMember(std::string group_id, Address member,
                                      std::function<void(Status)> done) {
  UpdateGroup(
      std::move(group_id),
      [member = std::move(member)](GroupRecord& g) {
        auto m = std::find(g.members.begin(), g.members.end(), member);
        if (m == g.members.end()) return Status::NotFound("not a member of '" + g.group_id + "'");
        g.members.erase(m);
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::ListGroups(std::function<void(Result<std::vector<GroupRecord>>)> done) {
  store_.Query([done = std::move(done)](storage::Reader& r) { done(r.Groups()); });
}

// --- admin: topics ---

void DurableBroker::Subscribe(TopicSubscriptionRecord s, std::function<void(Status)> done) {
  Submit(
      [this, s = std::move(s)](Txn& txn) {
        txn.PutTopicSubscription(s);
        auto& subs = topics_[s.topic];
        if (subs.insert_or_assign(s.subscriber, s.expiry_ms).second) ++sizes_.topic_subscriptions;
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::Unsubscribe(std::string topic, Address subscriber,
                                std::function<void(Status)> done) {
  Submit(
      [this, topic = std::move(topic), subscriber = std::move(subscriber)](Txn& txn) {
        auto it = topics_.find(topic);
        if (it == topics_.end() || it->second.erase(subscriber) == 0) {
          return Status::NotFound("no such subscription to '" + topic + "'");
        }
        --sizes_.topic_subscriptions;
        if (it->second.empty()) topics_.erase(it);
        txn.DeleteTopicSubscription(topic, subscriber);
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::ListSubscribers(
    std::string topic, std::function<void(Result<std::vector<TopicSubscriptionRecord>>)> done) {
  store_.Query([topic = std::move(topic), done = std::move(done)](storage::Reader& r) {
    auto subs = r.TopicSubscribers(topic);
    // Stored by (type, id length, id): listed by address as the other lists are.
    if (subs.ok()) {
      std::sort(subs->begin(), subs->end(),
                [](const auto& a, const auto& b) { return a.subscriber < b.subscriber; });
    }
    done(std::move(subs));
  });
}

// --- admin: routing rules ---

void DurableBroker::PutRoutingRule(RoutingRuleRecord rule, std::function<void(Status)> done) {
  Submit(
      [this, rule = std::move(rule)](Txn& txn) {
        if (!rule.gateway.empty() &&
            std::none_of(options_.gateways.begin(), options_.gateways.end(),
                         [&](const GatewayInfo& g) { return g.name == rule.gateway; })) {
          return Status::InvalidArgument("no gateway '" + rule.gateway + "' is configured");
        }
        txn.PutRoutingRule(rule);
        rules_.erase(std::remove_if(rules_.begin(), rules_.end(),
                                    [&](const auto& r) { return r.name == rule.name; }),
                     rules_.end());
        rules_.push_back(rule);
        SortInTriedOrder(rules_);
        sizes_.routing_rules = rules_.size();
        RebuildRoutes();
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::DeleteRoutingRule(std::string name, std::function<void(Status)> done) {
  Submit(
      [this, name = std::move(name)](Txn& txn) {
        auto it = std::find_if(rules_.begin(), rules_.end(),
                               [&](const auto& r) { return r.name == name; });
        if (it == rules_.end()) return Status::NotFound("no routing rule '" + name + "'");
        rules_.erase(it);
        sizes_.routing_rules = rules_.size();
        txn.DeleteRoutingRule(name);
        RebuildRoutes();
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::ListRoutingRules(
    std::function<void(Result<std::vector<RoutingRuleRecord>>)> done) {
  store_.Query([done = std::move(done)](storage::Reader& r) {
    auto rules = r.RoutingRules();
    if (rules.ok()) SortInTriedOrder(*rules);
    done(std::move(rules));
  });
}

// --- admin: API client policies ---

void DurableBroker::PutClientPolicy(ClientPolicyRecord policy, std::function<void(Status)> done) {
  Submit(
      [this, p = std::move(policy)](Txn& txn) {
        txn.PutClientPolicy(p);
        client_policies_[p.client_id] = p.json;
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::DeleteClientPolicy(std::string client_id, std::function<void(Status)> done) {
  Submit(
      [this, id = std::move(client_id)](Txn& txn) {
        if (client_policies_.erase(id) == 0) {
          return Status::NotFound("no client '" + id + "' set through the admin API");
        }
        txn.DeleteClientPolicy(id);
        return Status::Ok();
      },
      std::move(done));
}

void DurableBroker::ListClientPolicies(
    std::function<void(Result<std::vector<ClientPolicyRecord>>)> done) {
  store_.Query([done = std::move(done)](storage::Reader& r) { done(r.ClientPolicies()); });
}

// --- admin: inspection (reader thread, committed data) ---
//
// Every read-only admin call is answered off the writer: from the reader thread (committed data:
// written, possibly not yet fsync'd) or from counters. A read never waits behind a write batch or
// its fsync, and is never refused because the write queue is full.

void DurableBroker::SummarizeQueue(Address recipient,
                                   std::function<void(Result<QueueSummary>)> done) {
  store_.Query([recipient = std::move(recipient), done = std::move(done)](storage::Reader& r) {
    done(r.SummarizeQueue(recipient));
  });
}

void DurableBroker::FindMessage(Address origin, std::string msg_id,
                                std::function<void(Result<MessageView>)> done) {
  store_.Query([origin = std::move(origin), msg_id = std::move(msg_id),
                done = std::move(done)](storage::Reader& r) {
    auto idem = r.GetIdempotency(origin, msg_id);
    if (!idem) idem = r.GetIdempotency(origin, SegmentMessageKey(msg_id));  // reassembled
    if (!idem) return done(Status::NotFound("no message " + msg_id + " from " + origin.id));
    MessageView v;
    v.origin = origin;
    v.msg_id = msg_id;
    v.outcome = OutcomeName(idem->outcome);
    v.seq = idem->seq;
    if (idem->seq != 0) {
      if (auto m = r.GetMessage(idem->seq)) {
        v.kind = m->kind == MessageKind::kReport ? "REPORT" : "MESSAGE";
        v.destination = m->destination;
        v.app_id = m->app_id;
        v.priority = m->priority;
        v.payload_bytes = m->payload.size();
        v.accepted_ms = m->accepted_ms;
        v.expiry_ms = m->expiry_ms;
        v.report_requested = m->report_requested;
        // A reassembled message is stored under the segId; the segment that completed it points
        // to it too.
        v.msg_id = m->msg_id;
      }
      for (const auto& rec : r.Recipients(idem->seq)) {
        v.recipients.push_back(
            {rec.recipient, RecipientStateName(rec.state), rec.priority, rec.due_ms});
      }
      // A single recipient has no state record: queued while the message exists.
      if (v.recipients.empty() && v.accepted_ms != 0) {
        v.recipients.push_back({v.destination, RecipientStateName(storage::RecipientState::kQueued),
                                v.priority, v.accepted_ms});
      }
    }
    for (const auto& u : idem->undelivered) {
      v.undelivered.push_back({u.recipient, RecipientStateName(u.state), u.cause, u.finished_ms});
    }
    v.undelivered_more = idem->undelivered_more;
    done(std::move(v));
  });
}

void DurableBroker::Stats(std::function<void(Result<BrokerStats>)> done) {
  // Counters only: answered on the caller's thread.
  BrokerStats s;
  for (std::size_t i = 0; i < 3; ++i) s.queued_by_priority[i] = queued_[i].load();
  s.queued_bytes = queued_bytes_.load();
  s.registrations = sizes_.as_registrations.load();
  s.groups = sizes_.groups.load();
  s.topic_subscriptions = sizes_.topic_subscriptions.load();
  s.routing_rules = sizes_.routing_rules.load();
  s.open_segment_sets = sizes_.open_segment_sets.load();
  s.storage_pending = store_.pending();
  s.storage_healthy = store_.healthy();
  done(std::move(s));
}

Status DurableBroker::DrainingStatus() {
  return Status::Unavailable("msgin5gd is draining before it stops: send to another instance, "
                             "or again once it has restarted");
}

void DurableBroker::StopAccepting() { accepting_.store(false); }

void DurableBroker::DeliveryCounts(std::function<void(DeliveryEngine::Counts)> done) {
  if (!engine_) return done(DeliveryEngine::Counts{});
  engine_->GetCounts(std::move(done));
}

void DurableBroker::PurgeQueue(Address recipient, std::function<void(Result<Removed>)> done) {
  if (!engine_) return done(Status::Unavailable("delivery is off (delivery.enabled = false)"));
  engine_->Remove(std::move(recipient), std::nullopt, "purged by an operator", std::move(done));
}

template <class T>
void DurableBroker::OnFoundMessage(Address origin, std::string msg_id,
                                   std::function<void(Result<T>)> done,
                                   std::function<void(const MessageView&,
                                                      std::function<void(Result<T>)>)> act) {
  if (!engine_) return done(Status::Unavailable("delivery is off (delivery.enabled = false)"));
  FindMessage(std::move(origin), std::move(msg_id),
              [done = std::move(done), act = std::move(act)](Result<MessageView> m) mutable {
                if (!m.ok()) return done(m.status());
                act(*m, std::move(done));
              });
}

void DurableBroker::DeleteMessage(Address origin, std::string msg_id,
                                  std::function<void(Result<Removed>)> done) {
  OnFoundMessage<Removed>(
      std::move(origin), std::move(msg_id), std::move(done), [this](const MessageView& m, auto answer) {
        if (m.seq == 0) return answer(Removed{});  // stored nothing (or long finished)
        engine_->Remove(std::nullopt, m.seq, "deleted by an operator", std::move(answer));
      });
}

void DurableBroker::ResendMessage(Address origin, std::string msg_id,
                                  std::function<void(Result<Resent>)> done) {
  OnFoundMessage<Resent>(
      std::move(origin), std::move(msg_id), std::move(done), [this](const MessageView& m, auto answer) {
        if (m.seq == 0 || m.kind.empty()) {
          return answer(Status::Conflict(
              "the message is no longer stored: every recipient was delivered or failed "
              "(messages show lists them); nothing is left to resend"));
        }
        engine_->RetryNow(m.seq, [answer = std::move(answer)](Resent r) { answer(r); });
      });
}

void DurableBroker::ListDestinations(
    bool ues, std::size_t limit, std::function<void(Result<std::vector<DestinationView>>)> done) {
  if (!engine_) return done(std::vector<DestinationView>{});
  engine_->ListDestinations(ues, limit, [done = std::move(done)](std::vector<DestinationView> v) {
    done(std::move(v));
  });
}

void DurableBroker::ListGateways(std::function<void(Result<std::vector<GatewayView>>)> done) {
  std::vector<GatewayView> out;
  for (const auto& g : options_.gateways) out.push_back({g, std::nullopt});
  if (!engine_) return done(std::move(out));
  engine_->ListDestinations(
      false, ~std::size_t{0},
      [out = std::move(out), done = std::move(done)](std::vector<DestinationView> dests) mutable {
        for (auto& g : out) {
          for (const auto& d : dests) {
            if (d.channel == GatewayKindName(g.info.kind) && d.base == g.info.api_root) {
              g.destination = d;
            }
          }
        }
        done(std::move(out));
      });
}

void DurableBroker::ListQueues(std::size_t limit, std::function<void(Result<QueueList>)> done) {
  // On the reader thread: one pass over every recipient's counts (O(n log limit)), which holds
  // the writer's usage_ lock for that long but never waits for a batch or an fsync.
  store_.Query([this, limit, done = std::move(done)](storage::Reader&) {
    QueueList out;
    {
      std::lock_guard<std::mutex> lock(usage_mu_);
      out.recipients = usage_.recipients();
      for (auto& [recipient, use] : usage_.Largest(limit)) {
        out.largest.push_back({std::move(recipient), use.messages, use.bytes});
      }
    }
    done(std::move(out));
  });
}

void DurableBroker::ListRegistrations(std::string ue_after, std::size_t ue_limit,
                                      std::function<void(Result<RegistrationList>)> done) {
  // Stored registrations from the reader thread; "asleep" is a registered UE without a route in
  // the UE directory (shared, locked), the totals are the writer's cache sizes.
  store_.Query([this, ue_after = std::move(ue_after), ue_limit,
                done = std::move(done)](storage::Reader& r) {
    RegistrationList out;
    auto as = r.AsRegistrations();
    if (!as.ok()) return done(as.status());
    out.as = std::move(*as);
    std::sort(out.as.begin(), out.as.end(), [](const auto& a, const auto& b) {
      return a.as_svc_id != b.as_svc_id ? a.as_svc_id < b.as_svc_id
                                        : a.registration_id < b.registration_id;
    });
    auto page = r.UeRegistrations(ue_after, ue_limit);
    if (!page.ok()) return done(page.status());
    for (auto& ue : page->ues) {
      const bool asleep = !ue_routes_->Find(ue.ue_id).has_value();
      out.ue.push_back({std::move(ue), asleep});
    }
    out.ue_more = page->more;
    out.ue_total = sizes_.ue_registrations.load();
    out.ue_asleep = sizes_.ues_asleep.load();
    done(std::move(out));
  });
}

void DurableBroker::CreateBackup(std::string name, std::function<void(Result<BackupInfo>)> done) {
  if (!backups_) return done(Status::NotFound("backups are off (storage.backup_dir is empty)"));
  backups_->Create(std::move(name), std::move(done));
}

void DurableBroker::ListBackups(std::function<void(Result<std::vector<BackupInfo>>)> done) {
  if (!backups_) return done(Status::NotFound("backups are off (storage.backup_dir is empty)"));
  backups_->List(std::move(done));
}

}  // namespace msgin5g::broker
