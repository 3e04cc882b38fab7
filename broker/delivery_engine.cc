#include "broker/delivery_engine.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <unordered_set>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "broker/circuit_breaker.h"
#include "broker/segmented_send.h"
#include "common/clock.h"
#include "common/logging.h"

namespace msgin5g::broker {

namespace {


// (Entries of recipients without a route are not in entries_ at all: see parked_.)
enum class State : std::uint8_t {
  kReady,       // in its destination's ready queue
  kWaiting,     // in waiting_ until its due time
  kLoading,     // payload being read back (counts as in flight)
  kSending,     // request(s) in flight
  kPersisting,  // outcome being written; nothing else may happen to it meanwhile
};

const char* ResultName(DeliveryResult::Kind k) {
  switch (k) {
    case DeliveryResult::Kind::kDelivered: return "delivered";
    case DeliveryResult::Kind::kTransient: return "transient_failure";
    case DeliveryResult::Kind::kPermanent: return "permanent_failure";
    case DeliveryResult::Kind::kRequeue: return "requeued";
  }
  return "unknown";
}

std::string RecipientKey(const Address& a) {
  std::string k;
  k.reserve(a.id.size() + 1);
  k.push_back(static_cast<char>(a.type));
  k.append(a.id);
  return k;
}

}  // namespace

struct DeliveryEngine::Destination {
  Route route;
  std::deque<std::uint64_t> ready[3];  // entry ids by priority; stale ids are skipped
  std::size_t in_flight = 0;
  CircuitBreaker breaker;
  bool active = false;     // in the engine's active_ list

  bool HasReady() const { return !ready[0].empty() || !ready[1].empty() || !ready[2].empty(); }
};

struct DeliveryEngine::Entry {
  storage::QueueEntryRecord rec;
  std::shared_ptr<const storage::MessageRecord> msg;  // null until (re)loaded
  std::shared_ptr<Destination> dest;                  // set while ready or in flight
  std::int64_t queued_ms = 0;                         // for the oldest-waiting gauge
  std::int64_t wake_ms = 0;                           // kWaiting: when it is due again
  State state = State::kReady;
  bool cached = false;  // msg counts toward cached_bytes_
};

class DeliveryEngine::Metrics {
 public:
  explicit Metrics(metrics::Registry* r) {
    if (r == nullptr) return;
    auto& reg = r->prom();
    attempts_ = &prometheus::BuildCounter()
                     .Name("msgin5g_delivery_attempts_total")
                     .Help("Delivery requests by channel and result")
                     .Register(reg);
    finished_ = &prometheus::BuildCounter()
                     .Name("msgin5g_delivery_finished_total")
                     .Help("Queue entries finished, by outcome (delivered, failed, expired)")
                     .Register(reg);
    retries_ = &prometheus::BuildCounter()
                    .Name("msgin5g_delivery_retries_total")
                    .Help("Entries scheduled for another attempt, by channel")
                    .Register(reg);
    for (std::size_t i = 0; i < kChannels.size(); ++i) {
      retries_by_[i] = &retries_->Add({{"channel", kChannels[i]}});  // at 0 from the start
    }
    latency_ = &prometheus::BuildHistogram()
                    .Name("msgin5g_delivery_latency_seconds")
                    .Help("From acceptance to the recipient's 2xx")
                    .Register(reg);
    in_flight_ = &prometheus::BuildGauge()
                      .Name("msgin5g_delivery_in_flight")
                      .Help("Delivery requests in flight")
                      .Register(reg)
                      .Add({});
    pending_ = &prometheus::BuildGauge()
                    .Name("msgin5g_delivery_pending_entries")
                    .Help("Queue entries waiting for delivery, by state (routed, unrouted)")
                    .Register(reg);
    routed_ = &pending_->Add({{"state", "routed"}});
    unrouted_ = &pending_->Add({{"state", "unrouted"}});
    oldest_ = &prometheus::BuildGauge()
                   .Name("msgin5g_delivery_oldest_waiting_seconds")
                   .Help("Age of the oldest undelivered entry, by priority")
                   .Register(reg);
    for (const char* p : {"HIGH", "MIDDLE", "LOW"}) oldest_by_.push_back(&oldest_->Add({{"priority", p}}));
    // By channel, not by destination: ASs and UE endpoints can be many (the per-destination
    // view is GET /admin/v1/destinations). Every channel is exported from the start at 0.
    open_ = &prometheus::BuildGauge()
                 .Name("msgin5g_delivery_breakers_open")
                 .Help("Destinations whose circuit breaker is open, by channel")
                 .Register(reg);
    for (std::size_t i = 0; i < kChannels.size(); ++i) {
      open_by_[i] = &open_->Add({{"channel", kChannels[i]}});
    }
  }
  // The channels of Route::ChannelName, in the order of ChannelIndex.
  static constexpr std::array<const char*, 5> kChannels = {"as", "l3g", "n3g", "bg", "ue"};
  static std::size_t ChannelIndex(std::string_view channel) {
    for (std::size_t i = 0; i < kChannels.size(); ++i) {
      if (channel == kChannels[i]) return i;
    }
    return 0;
  }
  void Attempt(const char* channel, DeliveryResult::Kind k) {
    if (attempts_) attempts_->Add({{"channel", channel}, {"result", ResultName(k)}}).Increment();
  }
  void Finished(const char* outcome) {
    if (finished_) finished_->Add({{"outcome", outcome}}).Increment();
  }
  void Retry(const char* channel) {
    if (retries_) retries_by_[ChannelIndex(channel)]->Increment();
  }
  void Latency(const char* channel, double seconds) {
    if (latency_) latency_->Add({{"channel", channel}}, metrics::LatencyBuckets()).Observe(seconds);
  }
  void InFlight(std::size_t n) {
    if (in_flight_) in_flight_->Set(static_cast<double>(n));
  }
  // `open`: open breakers by ChannelIndex.
  void Scan(std::size_t routed, std::size_t unrouted, const double oldest[3],
            const std::array<std::size_t, kChannels.size()>& open) {
    if (!pending_) return;
    routed_->Set(static_cast<double>(routed));
    unrouted_->Set(static_cast<double>(unrouted));
    for (int i = 0; i < 3; ++i) oldest_by_[i]->Set(oldest[i]);
    for (std::size_t i = 0; i < open.size(); ++i) open_by_[i]->Set(static_cast<double>(open[i]));
  }

 private:
  prometheus::Family<prometheus::Counter>* attempts_ = nullptr;
  prometheus::Family<prometheus::Counter>* finished_ = nullptr;
  prometheus::Family<prometheus::Counter>* retries_ = nullptr;
  std::array<prometheus::Counter*, kChannels.size()> retries_by_{};
  prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
  prometheus::Gauge* in_flight_ = nullptr;
  prometheus::Family<prometheus::Gauge>* pending_ = nullptr;
  prometheus::Gauge* routed_ = nullptr;
  prometheus::Gauge* unrouted_ = nullptr;
  prometheus::Family<prometheus::Gauge>* oldest_ = nullptr;
  std::vector<prometheus::Gauge*> oldest_by_;
  prometheus::Family<prometheus::Gauge>* open_ = nullptr;
  std::array<prometheus::Gauge*, kChannels.size()> open_by_{};
};

DeliveryEngine::DeliveryEngine(DeliveryOptions options, DeliveryChannel& channel, OutcomeSink& sink,
                               metrics::Registry* metrics)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      backoff_(options_.retry_initial, options_.retry_max),
      channel_(channel),
      sink_(sink),
      metrics_(std::make_unique<Metrics>(metrics)),
      routes_(std::make_shared<RouteTable>()) {}

DeliveryEngine::~DeliveryEngine() { Stop(); }

void DeliveryEngine::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "delivery");
    Loop();
  });
}

void DeliveryEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopping_ = true;
    stopped_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  inbox_.clear();
}

void DeliveryEngine::Post(std::function<void()> fn) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    was_empty = inbox_.empty();
    inbox_.push_back(std::move(fn));
  }
  // The loop takes the whole inbox at once and checks it before it sleeps: only the post that
  // made it non-empty needs to wake it (a futex wake per delivery outcome showed in profiles).
  if (was_empty) cv_.notify_one();
}

void DeliveryEngine::Add(std::vector<QueuedEntry> entries) {
  if (entries.empty()) return;
  Post([this, e = std::move(entries)]() mutable { AddOnLoop(std::move(e)); });
}

void DeliveryEngine::SetRoutes(std::shared_ptr<const RouteTable> routes) {
  // Coalesced: a burst of changes (10,000 UEs waking at once) is applied as its latest snapshot,
  // once per engine pass, instead of one full re-placement per change.
  {
    std::lock_guard<std::mutex> lock(routes_mu_);
    next_routes_ = std::move(routes);
    if (routes_posted_) return;
    routes_posted_ = true;
  }
  Post([this] {
    std::shared_ptr<const RouteTable> latest;
    {
      std::lock_guard<std::mutex> lock(routes_mu_);
      latest = std::move(next_routes_);
      routes_posted_ = false;
    }
    if (latest) SetRoutesOnLoop(std::move(latest));
  });
}

void DeliveryEngine::UeRouteChanged(std::string ue_id) {
  {
    std::lock_guard<std::mutex> lock(routes_mu_);
    changed_ues_.insert(std::move(ue_id));
    if (ues_posted_) return;
    ues_posted_ = true;
  }
  Post([this] {
    std::unordered_set<std::string> ids;
    {
      std::lock_guard<std::mutex> lock(routes_mu_);
      ids.swap(changed_ues_);
      ues_posted_ = false;
    }
    for (const auto& id : ids) UeRouteChangedOnLoop(id);
  });
}

void DeliveryEngine::Wake() {
  Post([] {});  // the loop re-reads the clock after every batch
}

void DeliveryEngine::GetCounts(std::function<void(Counts)> done) {
  Post([this, done = std::move(done)] {
    Counts c;
    c.pending = entries_.size() + parked_count_;
    c.unrouted = parked_count_;
    c.in_flight = in_flight_;
    done(c);
  });
}

void DeliveryEngine::Remove(std::optional<Address> recipient, std::optional<std::uint64_t> seq,
                            std::string cause, std::function<void(Result<RemoveResult>)> done) {
  Post([this, recipient = std::move(recipient), seq, cause = std::move(cause),
        done = std::move(done)] {
    auto matches = [&](const Address& a, std::uint64_t s) {
      return (!recipient || a == *recipient) && (!seq || s == *seq);
    };
    // Parked entries (recipients without a route) come back as entries first.
    std::vector<std::uint64_t> ids;
    for (auto it = parked_.begin(); it != parked_.end();) {
      auto& p = it->second;
      if (recipient && !(p.address == *recipient)) {
        ++it;
        continue;
      }
      auto& items = p.items;
      for (std::size_t i = 0; i < items.size();) {
        if (matches(p.address, items[i].seq)) {
          ids.push_back(Unpark(p.address, items[i]));
          items[i] = items.back();
          items.pop_back();
        } else {
          ++i;
        }
      }
      it = items.empty() ? parked_.erase(it) : std::next(it);
    }
    RemoveResult result;
    const std::unordered_set<std::uint64_t> unparked(ids.begin(), ids.end());
    for (auto& [id, e] : entries_) {
      if (!matches(e.rec.recipient, e.rec.seq)) continue;
      if (e.state == State::kReady || e.state == State::kWaiting) {
        if (unparked.count(id) == 0) ids.push_back(id);
      } else if (e.state != State::kPersisting) {
        ++result.in_flight;  // finishes on its own (its answer decides)
      }
    }
    result.removed = ids.size();
    if (ids.empty()) return done(result);
    struct Pending {
      std::size_t left;
      Status first_error;
      RemoveResult result;
      std::function<void(Result<RemoveResult>)> done;
    };
    auto pending = std::make_shared<Pending>(Pending{ids.size(), Status::Ok(), result, done});
    for (auto id : ids) {
      Finish(id, entries_.at(id), OutcomeSink::Final::kFailed, cause, [pending](Status st) {
        if (!st.ok() && pending->first_error.ok()) pending->first_error = st;
        if (--pending->left == 0) {
          if (!pending->first_error.ok()) return pending->done(pending->first_error);
          pending->done(pending->result);
        }
      });
    }
  });
}

void DeliveryEngine::RetryNow(std::uint64_t seq, std::function<void(RetryResult)> done) {
  Post([this, seq, done = std::move(done)] {
    const std::int64_t now = clock_.NowMs();
    RetryResult result;
    // Parked entries have no route: a route coming back would have unparked them.
    for (const auto& [key, p] : parked_) {
      for (const auto& item : p.items) result.no_route += item.seq == seq ? 1 : 0;
    }
    std::vector<std::uint64_t> lost_route;
    for (auto& [id, e] : entries_) {
      if (e.rec.seq != seq) continue;  // kPersisting counts as in flight: its attempt is ending
      if (e.state == State::kWaiting && !MakeReady(id, e)) {
        lost_route.push_back(id);
        continue;
      }
      if (e.state != State::kReady) {
        ++result.in_flight;
      } else if (e.dest->breaker.blocked(now)) {
        ++result.breaker_open;
      } else {
        ++result.ready;
      }
    }
    for (auto id : lost_route) ParkEntry(id);  // not while iterating entries_
    result.no_route += lost_route.size();
    done(result);  // the loop dispatches what became ready right after this
  });
}

void DeliveryEngine::ListDestinations(bool ues, std::size_t limit,
                                      std::function<void(std::vector<DestinationView>)> done) {
  Post([this, ues, limit, done = std::move(done)] {
    const std::int64_t now = clock_.NowMs();
    std::vector<DestinationView> out;
    for (const auto& [key, d] : destinations_) {
      if (!ues && d->route.kind == Route::Kind::kUe) continue;
      DestinationView v;
      v.channel = d->route.ChannelName();
      v.base = d->route.base;
      v.ready = d->ready[0].size() + d->ready[1].size() + d->ready[2].size();
      v.in_flight = d->in_flight;
      v.failures = d->breaker.failures();
      v.breaker = CircuitBreaker::StateName(d->breaker.state(now));
      v.blocked_until_ms = d->breaker.blocked(now) ? d->breaker.blocked_until() : 0;
      out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(), [](const DestinationView& a, const DestinationView& b) {
      return a.channel != b.channel ? a.channel < b.channel : a.base < b.base;
    });
    if (out.size() > limit) out.resize(limit);
    done(std::move(out));
  });
}

void DeliveryEngine::Loop() {
  for (;;) {
    std::vector<std::function<void()>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // The engine's clock may not be the system's (a test's): sleep for the time until the
      // wake-up on that clock.
      const std::int64_t now = clock_.NowMs();
      const std::int64_t wake = NextWakeup(now);
      cv_.wait_for(lock, std::chrono::milliseconds(wake - now),
                     [this] { return stopping_ || !inbox_.empty(); });
      if (stopping_) return;
      batch.swap(inbox_);
    }
    for (auto& fn : batch) fn();
    const std::int64_t now = clock_.NowMs();
    PromoteDue(now);
    if (now >= next_expiry_scan_) {
      ScanExpired(now);
      next_expiry_scan_ = now + options_.expiry_scan_interval.count();
    }
    DispatchAll(now);
    metrics_->InFlight(in_flight_);
  }
}

std::int64_t DeliveryEngine::NextWakeup(std::int64_t now) const {
  std::int64_t wake = std::max(next_expiry_scan_, now + 1);
  if (!waiting_.empty()) wake = std::min(wake, std::max(waiting_.top().first, now + 1));
  for (const auto& d : active_) {
    if (d->breaker.blocked(now) && d->HasReady()) wake = std::min(wake, d->breaker.blocked_until());
  }
  return wake;
}

void DeliveryEngine::CacheMessage(Entry& e, std::shared_ptr<const storage::MessageRecord> m) {
  e.msg = std::move(m);
  e.cached = false;
  if (e.msg && cached_bytes_ + e.msg->payload.size() <= options_.payload_cache_bytes) {
    cached_bytes_ += e.msg->payload.size();
    e.cached = true;
  }
}

void DeliveryEngine::Release(Entry& e) {
  if (e.cached && e.msg) cached_bytes_ -= e.msg->payload.size();
  e.cached = false;
}

void DeliveryEngine::AddOnLoop(std::vector<QueuedEntry> entries) {
  for (auto& q : entries) {
    std::string key = RecipientKey(q.entry.recipient);
    if (!DestinationFor(q.entry.recipient, key)) {
      Park(q.entry, std::move(key));  // nowhere to send it yet (maybe long): compact, no payload
      continue;
    }
    const std::uint64_t id = next_id_++;
    Entry& e = entries_[id];
    e.rec = std::move(q.entry);
    e.queued_ms = q.message ? q.message->accepted_ms : e.rec.due_ms;
    // Over the budget the payload is dropped now and read back when the entry is due.
    CacheMessage(e, std::move(q.message));
    if (!e.cached) e.msg.reset();
    if (e.rec.due_ms > clock_.NowMs()) {
      e.state = State::kWaiting;
      e.wake_ms = e.rec.due_ms;
      waiting_.push({e.wake_ms, id});
    } else {
      MakeReady(id, e);
    }
  }
}

void DeliveryEngine::Park(const storage::QueueEntryRecord& r, std::string key) {
  auto& p = parked_[key.empty() ? RecipientKey(r.recipient) : std::move(key)];
  if (p.items.empty()) p.address = r.recipient;
  p.items.push_back(Parked{r.due_ms, r.expiry_ms, r.seq, r.attempts, r.payload_bytes, r.priority});
  ++parked_count_;
}

void DeliveryEngine::ParkEntry(std::uint64_t id) {
  auto it = entries_.find(id);
  Release(it->second);
  Park(it->second.rec);
  entries_.erase(it);
}

std::uint64_t DeliveryEngine::Unpark(const Address& recipient, const Parked& p) {
  const std::uint64_t id = next_id_++;
  Entry& e = entries_[id];
  e.rec.recipient = recipient;
  e.rec.priority = p.priority;
  e.rec.due_ms = p.due_ms;
  e.rec.seq = p.seq;
  e.rec.attempts = p.attempts;
  e.rec.payload_bytes = p.bytes;
  e.rec.expiry_ms = p.expiry_ms;
  e.queued_ms = p.due_ms;
  --parked_count_;
  return id;
}

std::shared_ptr<DeliveryEngine::Destination> DeliveryEngine::DestinationFor(const Address& a,
                                                                           const std::string& key_in) {
  std::string key = key_in.empty() ? RecipientKey(a) : key_in;
  auto cached = by_recipient_.find(key);
  if (cached != by_recipient_.end()) return cached->second;
  std::shared_ptr<Destination> d;
  if (auto route = routes_->Resolve(a)) {
    auto& slot = destinations_[route->Key()];
    if (!slot) slot = std::make_shared<Destination>();
    slot->route = *route;
    d = slot;
  }
  // A cache, not a registry: bounded however many distinct recipients pass through.
  if (by_recipient_.size() >= kMaxCachedRecipients) by_recipient_.clear();
  by_recipient_.emplace(std::move(key), d);
  return d;
}

bool DeliveryEngine::MakeReady(std::uint64_t id, Entry& e) {
  e.dest = DestinationFor(e.rec.recipient);
  if (!e.dest) return false;  // the caller parks it
  e.state = State::kReady;
  e.dest->ready[std::min<std::size_t>(static_cast<std::size_t>(e.rec.priority), 2)].push_back(id);
  Activate(e.dest);
  return true;
}

void DeliveryEngine::Activate(const std::shared_ptr<Destination>& d) {
  if (d->active) return;
  d->active = true;
  active_.push_back(d);
}

void DeliveryEngine::SetRoutesOnLoop(std::shared_ptr<const RouteTable> routes) {
  routes_ = std::move(routes);
  by_recipient_.clear();
  for (auto& [key, d] : destinations_) {
    for (auto& q : d->ready) q.clear();
  }
  // Everything not in flight or waiting is placed again, in priority then arrival order.
  std::vector<std::pair<std::pair<int, std::uint64_t>, std::uint64_t>> replace;
  std::vector<std::uint64_t> lost_route;
  for (auto& [id, e] : entries_) {
    if (e.state == State::kReady) replace.push_back({{static_cast<int>(e.rec.priority), e.rec.seq}, id});
    // A retry waiting for a recipient that has no route any more (a UE that went to sleep) is
    // parked now, so that when the route comes back all its entries leave in priority order.
    if (e.state == State::kWaiting && !DestinationFor(e.rec.recipient)) lost_route.push_back(id);
  }
  for (auto id : lost_route) ParkEntry(id);
  // A UE route that exists is a UE that was just heard from: forget its failures.
  for (auto& [key, d] : destinations_) {
    if (d->route.kind == Route::Kind::kUe) {
      d->breaker.Reset();
    }
  }
  // Parked recipients that have a route now come back.
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (!DestinationFor(it->second.address)) {
      ++it;
      continue;
    }
    for (const auto& p : it->second.items) {
      replace.push_back({{static_cast<int>(p.priority), p.seq}, Unpark(it->second.address, p)});
    }
    it = parked_.erase(it);
  }
  std::sort(replace.begin(), replace.end());
  for (const auto& [order, id] : replace) {
    if (!MakeReady(id, entries_.at(id))) ParkEntry(id);
  }
  // Destinations no route uses any more, with nothing in flight, are forgotten.
  for (auto it = destinations_.begin(); it != destinations_.end();) {
    it = (it->second.use_count() == 1 && it->second->in_flight == 0) ? destinations_.erase(it)
                                                                      : std::next(it);
  }
}

void DeliveryEngine::UeRouteChangedOnLoop(const std::string& ue_id) {
  const Address ue{storage::AddressType::kUe, ue_id};
  const std::string key = RecipientKey(ue);
  std::shared_ptr<Destination> old;
  if (auto cached = by_recipient_.find(key); cached != by_recipient_.end()) {
    old = std::move(cached->second);
    by_recipient_.erase(cached);
  }
  auto dest = DestinationFor(ue, key);  // from the directory as it is now
  // (priority, seq) -> entry id: what is placed again, in order.
  std::vector<std::pair<std::pair<int, std::uint64_t>, std::uint64_t>> replace;
  // Its ready entries leave the old destination (another endpoint, or none: asleep). The old one
  // is in the recipient cache unless the cache was emptied meanwhile; then it is one of the UE
  // endpoints with something ready.
  std::vector<std::shared_ptr<Destination>> olds;
  if (old) {
    if (old != dest) olds.push_back(old);
  } else {
    for (const auto& d : active_) {
      if (d != dest && d->route.kind == Route::Kind::kUe && d->HasReady()) olds.push_back(d);
    }
  }
  for (const auto& from : olds) {
    for (auto& q : from->ready) {
      std::deque<std::uint64_t> keep;
      for (auto id : q) {
        auto it = entries_.find(id);
        if (it == entries_.end() || it->second.state != State::kReady || it->second.dest != from) {
          continue;  // stale
        }
        if (it->second.rec.recipient == ue) {
          replace.push_back({{static_cast<int>(it->second.rec.priority), it->second.rec.seq}, id});
        } else {
          keep.push_back(id);
        }
      }
      q.swap(keep);
    }
  }
  if (dest) {
    // Heard from just now: its past failures say nothing any more.
    if (dest->route.kind == Route::Kind::kUe) {
      dest->breaker.Reset();
    }
    if (auto p = parked_.find(key); p != parked_.end()) {
      for (const auto& item : p->second.items) {
        replace.push_back({{static_cast<int>(item.priority), item.seq}, Unpark(p->second.address, item)});
      }
      parked_.erase(p);
    }
  }
  std::sort(replace.begin(), replace.end());
  for (const auto& [order, id] : replace) {
    if (!MakeReady(id, entries_.at(id))) ParkEntry(id);
  }
  if (old && old != dest && old->in_flight == 0 && !old->HasReady()) {
    auto d = destinations_.find(old->route.Key());
    if (d != destinations_.end() && d->second == old) destinations_.erase(d);
  }
}

void DeliveryEngine::PromoteDue(std::int64_t now) {
  while (!waiting_.empty() && waiting_.top().first <= now) {
    auto [due, id] = waiting_.top();
    waiting_.pop();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.state != State::kWaiting || it->second.wake_ms != due) {
      continue;  // stale timer
    }
    if (!MakeReady(id, it->second)) ParkEntry(id);
  }
}

void DeliveryEngine::ScanExpired(std::int64_t now) {
  // Expiries are writes too: a backlog (after an outage) is worked off a slice per scan so that
  // it never floods the writer ahead of new messages.
  std::size_t expiries_left = 4 * options_.max_in_flight;
  std::int64_t oldest[3] = {now, now, now};
  auto older = [&](storage::Priority p, std::int64_t t) {
    auto i = std::min<std::size_t>(static_cast<std::size_t>(p), 2);
    oldest[i] = std::min(oldest[i], t);
  };
  for (auto& [id, e] : entries_) {
    if (e.state == State::kPersisting) continue;
    older(e.rec.priority, e.queued_ms);
    const bool idle = e.state == State::kReady || e.state == State::kWaiting;
    if (idle && e.rec.expiry_ms != 0 && e.rec.expiry_ms <= now && expiries_left > 0) {
      --expiries_left;
      Finish(id, e, OutcomeSink::Final::kExpired, "expired before delivery");
    }
  }
  // Parked entries expire too (typically: a device that never came back).
  std::vector<std::uint64_t> expired;
  for (auto it = parked_.begin(); it != parked_.end();) {
    auto& items = it->second.items;
    for (std::size_t i = 0; i < items.size();) {
      if (items[i].expiry_ms != 0 && items[i].expiry_ms <= now && expiries_left > 0) {
        --expiries_left;
        expired.push_back(Unpark(it->second.address, items[i]));
        items[i] = items.back();
        items.pop_back();
      } else {
        older(items[i].priority, items[i].due_ms);
        ++i;
      }
    }
    it = items.empty() ? parked_.erase(it) : std::next(it);
  }
  for (auto id : expired) {
    Finish(id, entries_.at(id), OutcomeSink::Final::kExpired, "expired before delivery");
  }
  std::array<std::size_t, Metrics::kChannels.size()> open{};
  for (const auto& [key, d] : destinations_) {
    if (d->breaker.blocked(now)) ++open[Metrics::ChannelIndex(d->route.ChannelName())];
  }
  double ages[3];
  for (int i = 0; i < 3; ++i) ages[i] = static_cast<double>(now - oldest[i]) / 1000.0;
  metrics_->Scan(entries_.size(), parked_count_, ages, open);
}

void DeliveryEngine::DispatchAll(std::int64_t now) {
  std::vector<std::uint64_t> to_load;
  // Only destinations with something ready are visited (a pass runs per completion: walking
  // every destination, 10,000 UEs each with its own, made a wake burst quadratic). Round robin:
  // a visited destination goes to the back, so when the global limit binds none is always last.
  for (std::size_t n = active_.size(); n > 0 && in_flight_ < options_.max_in_flight; --n) {
    auto d = std::move(active_.front());
    active_.pop_front();
    Dispatch(*d, now, &to_load);
    if (d->HasReady()) {
      active_.push_back(std::move(d));
    } else {
      d->active = false;
    }
  }
  if (to_load.empty()) return;
  std::vector<std::uint64_t> seqs;
  seqs.reserve(to_load.size());
  for (auto id : to_load) seqs.push_back(entries_.at(id).rec.seq);
  sink_.LoadMessages(std::move(seqs), [this, ids = std::move(to_load)](auto messages) {
    Post([this, ids, messages = std::move(messages)]() mutable {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto it = entries_.find(ids[i]);
        if (it == entries_.end() || it->second.state != State::kLoading) continue;
        Entry& e = it->second;
        if (i >= messages.size() || !messages[i]) {
          // Not readable now (an I/O error fails the store; a missing record cannot normally
          // happen): never drop the entry for it. Try again later; expiry still applies.
          e.dest->in_flight--;
          in_flight_--;
          e.state = State::kWaiting;
          e.wake_ms = clock_.NowMs() + backoff_.Next(1).count();
          waiting_.push({e.wake_ms, ids[i]});
          continue;
        }
        CacheMessage(e, std::move(messages[i]));
        Send(ids[i], e);
      }
    });
  });
}

void DeliveryEngine::Dispatch(Destination& d, std::int64_t now, std::vector<std::uint64_t>* to_load) {
  if (d.breaker.blocked(now)) return;
  const std::size_t limit = d.breaker.half_open()             ? 1
                            : d.route.kind == Route::Kind::kUe ? options_.max_in_flight_per_ue
                                                               : options_.max_in_flight_per_destination;
  while (d.in_flight < limit && in_flight_ < options_.max_in_flight) {
    Entry* e = nullptr;
    std::uint64_t id = 0;
    for (auto& q : d.ready) {
      while (!q.empty() && e == nullptr) {
        id = q.front();
        q.pop_front();
        auto it = entries_.find(id);
        if (it != entries_.end() && it->second.state == State::kReady && it->second.dest.get() == &d) {
          e = &it->second;
        }
      }
      if (e != nullptr) break;
    }
    if (e == nullptr) return;
    if (e->rec.expiry_ms != 0 && e->rec.expiry_ms <= now) {
      Finish(id, *e, OutcomeSink::Final::kExpired, "expired before delivery");
      continue;
    }
    d.in_flight++;
    in_flight_++;
    if (e->msg) {
      Send(id, *e);
    } else {
      e->state = State::kLoading;
      to_load->push_back(id);
    }
  }
}

void DeliveryEngine::Send(std::uint64_t id, Entry& e) {
  e.state = State::kSending;
  auto parts = SplitPayload(e.msg->payload, e.dest->route.max_segment_bytes);
  if (parts.size() == 1) {
    SendPart(id, e, parts[0], std::nullopt);
    return;
  }
  auto it = partial_
                .insert_or_assign(id, SegmentedSend(std::move(parts), e.msg->msg_id, e.rec.attempts))
                .first;
  SendParts(id, e, it->second);
}

void DeliveryEngine::SendParts(std::uint64_t id, Entry& e, SegmentedSend& set) {
  while (auto part = set.Next()) SendPart(id, e, part->first, std::move(part->second));
}

void DeliveryEngine::SendPart(std::uint64_t id, Entry& e, std::string_view payload,
                              std::optional<SegmentInfo> segment) {
  Outbound out;
  out.message = e.msg;
  out.recipient = e.rec.recipient;
  out.payload = payload;
  out.segment = std::move(segment);
  channel_.Deliver(e.dest->route, out, [this, id](DeliveryResult r) {
    Post([this, id, r = std::move(r)]() mutable { OnResult(id, std::move(r)); });
  });
}

void DeliveryEngine::OnResult(std::uint64_t id, DeliveryResult r) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.state != State::kSending) return;
  Entry& e = it->second;
  metrics_->Attempt(e.dest->route.ChannelName(), r.kind);
  auto pit = partial_.find(id);
  if (pit == partial_.end()) {
    Complete(id, e, std::move(r), clock_.NowMs());  // the common case: one request
    return;
  }
  // A segmented delivery (segmented_send.h): the worst answer over its parts decides.
  SegmentedSend& set = pit->second;
  if (!set.OnAnswer(std::move(r))) {
    SendParts(id, e, set);
    return;
  }
  DeliveryResult result = set.TakeResult();
  partial_.erase(pit);
  Complete(id, e, std::move(result), clock_.NowMs());
}

void DeliveryEngine::Complete(std::uint64_t id, Entry& e, DeliveryResult r, std::int64_t now) {
  Destination& d = *e.dest;
  d.in_flight--;
  in_flight_--;
  const char* channel = d.route.ChannelName();
  switch (r.kind) {
    case DeliveryResult::Kind::kDelivered:
      d.breaker.OnAnswer();
      metrics_->Latency(channel, static_cast<double>(now - e.msg->accepted_ms) / 1000.0);
      Finish(id, e,
             d.route.kind == Route::Kind::kGateway && d.route.gateway != GatewayKind::kBg
                 ? OutcomeSink::Final::kHandedOver
                 : OutcomeSink::Final::kDelivered,
             "");
      return;
    case DeliveryResult::Kind::kPermanent:
      // The destination answered: it is alive, whatever it thought of this message.
      d.breaker.OnAnswer();
      Finish(id, e, OutcomeSink::Final::kFailed, "refused by the destination: " + r.detail);
      return;
    case DeliveryResult::Kind::kRequeue: {
      // Back ahead of everything newer in its class: it had been first in line before it was sent.
      e.dest.reset();
      e.dest = DestinationFor(e.rec.recipient);
      if (!e.dest) {
        ParkEntry(id);
        return;
      }
      e.state = State::kReady;
      // Back in arrival order within its class: several answered kRequeue in one pass (a UE
      // that moved) must not leave newest first. Only UE channels requeue; their queues are short.
      auto& q = e.dest->ready[std::min<std::size_t>(static_cast<std::size_t>(e.rec.priority), 2)];
      auto at = std::find_if(q.begin(), q.end(), [&](std::uint64_t other) {
        auto it = entries_.find(other);
        return it != entries_.end() && it->second.state == State::kReady &&
               it->second.dest == e.dest && it->second.rec.seq > e.rec.seq;
      });
      q.insert(at, id);
      Activate(e.dest);
      return;
    }
    case DeliveryResult::Kind::kTransient:
      break;
  }
  // Transient (circuit_breaker.h says when this opens the breaker).
  const auto paused =
      d.breaker.OnTransientFailure(now, r.retry_after, options_.breaker_failures, backoff_);
  if (paused.count() > 0) {
    LOG_WARN("delivery", "%s unavailable (%s): pausing it for %lld ms", d.route.Key().c_str(),
             r.detail.c_str(), static_cast<long long>(paused.count()));
  }
  const std::uint32_t attempts = e.rec.attempts + 1;
  const std::uint32_t limit =
      e.msg->store_and_forward ? options_.max_attempts : options_.max_attempts_without_store;
  if (limit != 0 && attempts >= limit) {
    Finish(id, e, OutcomeSink::Final::kFailed,
           "not delivered after " + std::to_string(attempts) + " attempts: " + r.detail);
    return;
  }
  if (e.rec.expiry_ms != 0 && e.rec.expiry_ms <= now) {
    Finish(id, e, OutcomeSink::Final::kExpired, "expired before delivery: " + r.detail);
    return;
  }
  std::int64_t due = now + std::max(r.retry_after, backoff_.Next(attempts)).count();
  if (e.rec.expiry_ms != 0) due = std::min(due, e.rec.expiry_ms);
  e.state = State::kPersisting;
  sink_.Reschedule(e.rec, due, attempts, [this, id, due, attempts, channel](Status st) {
    Post([this, id, due, attempts, channel, st] {
      auto it = entries_.find(id);
      if (it == entries_.end()) return;
      if (!st.ok()) {
        // As for Finish: the store refuses writes; the entry stays as it is on disk and goes out
        // again after the restart.
        LOG_WARN("delivery", "retry of entry %llu not stored: %s",
                 static_cast<unsigned long long>(it->second.rec.seq), st.message().c_str());
        return;
      }
      Entry& waiting = it->second;
      waiting.rec.due_ms = due;
      waiting.rec.attempts = attempts;
      if (!DestinationFor(waiting.rec.recipient)) {  // its route went away meanwhile
        ParkEntry(id);
        metrics_->Retry(channel);
        return;
      }
      waiting.state = State::kWaiting;
      waiting.wake_ms = due;
      waiting_.push({due, id});
      // A payload read back over the budget is not kept while the entry waits.
      if (!waiting.cached) waiting.msg.reset();
      metrics_->Retry(channel);
    });
  });
}

void DeliveryEngine::Finish(std::uint64_t id, Entry& e, OutcomeSink::Final f, std::string cause,
                            std::function<void(Status)> persisted) {
  e.state = State::kPersisting;
  sink_.Finish(e.rec, e.msg, f, std::move(cause), [this, id, f, persisted = std::move(persisted)](Status st) {
    Post([this, id, f, st, persisted] {
      if (persisted) persisted(st);
      auto it = entries_.find(id);
      if (it == entries_.end()) return;
      if (!st.ok()) {
        // The store refuses writes (sticky failure): the entry stays queued on disk and is
        // delivered again after the restart the operator must do anyway.
        LOG_WARN("delivery", "outcome of entry %llu not stored: %s",
                 static_cast<unsigned long long>(it->second.rec.seq), st.message().c_str());
        return;
      }
      metrics_->Finished(f == OutcomeSink::Final::kDelivered || f == OutcomeSink::Final::kHandedOver
                             ? "delivered"
                         : f == OutcomeSink::Final::kFailed  ? "failed"
                                                             : "expired");
      Release(it->second);
      entries_.erase(it);
    });
  });
}

}  // namespace msgin5g::broker
