#include "broker/durable_broker.h"

#include <pthread.h>

#include <algorithm>
#include <future>
#include <map>

#include "broker/broker_metrics.h"
#include "broker/ledger.h"
#include "broker/registry.h"
#include "broker/segment_assembly.h"
#include "broker/segmented_send.h"
#include "broker/stored_names.h"
#include "common/clock.h"
#include "common/logging.h"

namespace msgin5g::broker {

namespace {

using storage::IdempotencyRecord;
using storage::MessageKind;
using storage::MessageRecord;
using storage::OutcomeKind;
using storage::Txn;

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


DurableBroker::DurableBroker(storage::Store& store, BrokerOptions options,
                             metrics::Registry* metrics)
    : store_(store),
      options_(std::move(options)),
      metrics_(std::make_unique<BrokerMetrics>(
          metrics, options_.limits,
          SegmentSetBounds{options_.max_open_segment_sets,
                           options_.max_open_segment_sets_per_originator})),
      ledger_(std::make_unique<Ledger>(store, options_.limits, DefaultTtlMs(), *metrics_)),
      registry_(std::make_unique<Registry>(
          Registry::Options{options_.limits, options_.gateways, options_.broadcast_gateway,
                            options_.ue_max_segment_bytes, options_.store_for_unknown_recipient},
          *metrics_)),
      segments_(std::make_unique<SegmentAssembly>(
          SegmentAssembly::Options{options_.max_open_segment_sets,
                                   options_.max_open_segment_sets_per_originator,
                                   options_.max_reassembled_bytes, options_.segment_timeout,
                                   options_.segment_sweep_slice_sets,
                                   options_.segment_sweep_slice_time, DefaultTtlMs()},
          *ledger_, *registry_, *metrics_)) {}

Result<std::unique_ptr<DurableBroker>> DurableBroker::Create(storage::Store& store,
                                                             BrokerOptions options,
                                                             metrics::Registry* metrics,
                                                             DeliveryChannel* channel) {
  std::unique_ptr<DurableBroker> b(new DurableBroker(store, std::move(options), metrics));
  // Every queued entry goes to the delivery engine, and counts against its recipient's bounds.
  auto state = store.Recover([&](const storage::QueueEntryRecord& q) {
    b->ledger_->AddRecovered(q);
    if (channel != nullptr) b->recovered_entries_.push_back({q, nullptr});
  });
  if (!state.ok()) return state.status();
  b->ledger_->FinishRecovery();
  b->recovered_ = *state;
  if (channel != nullptr) {
    b->engine_ = std::make_unique<DeliveryEngine>(b->options_.delivery, *channel, *b->ledger_,
                                                  metrics);
    b->ledger_->SetEngine(b->engine_.get());
    DeliveryEngine* engine = b->engine_.get();
    b->registry_->SetRouteSink({[engine](std::shared_ptr<const RouteTable> routes) {
                                  engine->SetRoutes(std::move(routes));
                                },
                                [engine](const std::string& ue_id) { engine->UeRouteChanged(ue_id); }});
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
  segments_->Stop();
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


void DurableBroker::Load(const storage::RecoveredState& state) {
  registry_->Load(state);
  segments_->Load(state.open_segment_sets);
  ledger_->SetTotals(state.queue_entries_by_priority, state.queued_bytes);
}



template <class T>
void DurableBroker::Run(std::function<Status(Txn&, T*)> fn, std::function<void(Result<T>)> done,
                        std::size_t bytes_hint) {
  auto result = std::make_shared<T>();
  ledger_->Submit([fn = std::move(fn), result](Txn& txn) { return fn(txn, result.get()); },
                [done = std::move(done), result](Status st) {
                  if (!st.ok()) {
                    done(st);
                  } else {
                    done(std::move(*result));
                  }
                },
                bytes_hint);
}

// --- messages ---

Status DurableBroker::Accept(Txn& txn, const Message& m, AcceptOutcome* out, const char* operation,
                             const std::string* idempotency_key) {
  const std::string& idem_key = idempotency_key != nullptr ? *idempotency_key : m.msg_id;
  if (auto seen = txn.GetIdempotency(m.origin, idem_key)) {
    *out = FromStored(*seen);  // a repeat: the first answer, nothing new stored
    return Status::Ok();
  }
  if (m.segment) {
    return segments_->Accept(
        txn, m, out,
        [this](Txn& t, const Message& whole, const std::string& key, AcceptOutcome* o) {
          return Accept(t, whole, o, "reassembled", &key);
        });
  }

  const std::int64_t now = UnixMillis();
  std::vector<Registry::Resolved> recipients;
  Status st = registry_->Resolve(m.destination, now, &recipients);
  if (!st.ok()) return st;

  // Recipients whose own queue is at its bound are set apart: not queued (docs/limits.md).
  const std::uint64_t bytes = m.payload.size();
  std::vector<Registry::Resolved> full;
  std::string full_cause;
  {
    std::vector<Registry::Resolved> kept;
    kept.reserve(recipients.size());
    for (auto& r : recipients) {
      if (r.reachable || m.store_and_forward) {
        if (const char* bound = ledger_->usage().Passed(r.recipient, bytes)) {
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
    ledger_->CountAccepted(operation, m.destination.type, OutcomeKind::kFailed);
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
    MSGIN5G_RETURN_IF_ERROR(ledger_->AdmitQueued(recipients.size() + (m.report_requested ? full.size() : 0),
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
    ledger_->TrackFanOut(rec.seq, queued);
    txn.PutMessage(rec);
    for (const auto& r : recipients) {
      if (r.reachable || m.store_and_forward) {
        ledger_->Enqueue(txn, shared, r.recipient, now);
      } else if (m.report_requested) {
        ledger_->QueueReport(txn, m.origin, r.recipient, m.msg_id, storage::ReportStatus::kFailed,
                    "recipient not reachable", now);
      }
    }
    if (m.report_requested) {
      for (const auto& r : full) {
        ledger_->QueueReport(txn, m.origin, r.recipient, m.msg_id, storage::ReportStatus::kFailed,
                    QueueFullCause(r.recipient, ledger_->usage().Passed(r.recipient, bytes)), now);
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
  ledger_->CountAccepted(operation, m.destination.type, idem.outcome);
  ledger_->UpdateMetrics();
  return Status::Ok();
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

std::optional<std::string> DurableBroker::OriginatorsMessageId(Txn& txn, const Report& r) {
  auto about = MessageIdOfSegmentId(r.msg_id);
  if (!about) return std::nullopt;
  // Only when the originator sent M and not an id that merely looks like a part of it.
  auto sent = [&](const std::string& id) {
    return txn.GetIdempotency(r.destination, id).has_value() ||
           txn.GetIdempotency(r.destination, SegmentMessageKey(id)).has_value();
  };
  if (sent(r.msg_id) || !sent(*about)) return std::nullopt;
  return about;
}

void DurableBroker::SubmitReport(Report report, std::function<void(Result<AcceptOutcome>)> done) {
  if (!accepting_.load()) return done(DrainingStatus());
  Run<AcceptOutcome>(
      [this, r = std::move(report)](Txn& txn, AcceptOutcome* out) mutable {
        std::string key = ReportKey(r.msg_id);
        if (auto about = OriginatorsMessageId(txn, r)) {
          // About one part (or the reassembled set) of message M: the originator hears about M.
          // One success and one failure at most per message; a success after a failure is not
          // passed on (a failed part failed the message).
          const std::string failed_key = ReportKey(*about) + "\x01" "failed";
          key = r.status == ReportStatus::kFailed ? failed_key : ReportKey(*about);
          if (r.status != ReportStatus::kFailed) {
            if (auto failed = txn.GetIdempotency(r.origin, failed_key)) {
              *out = FromStored(*failed);
              return Status::Ok();
            }
          }
          r.msg_id = *about;
        }
        if (auto seen = txn.GetIdempotency(r.origin, key)) {
          *out = FromStored(*seen);
          return Status::Ok();
        }
        const std::int64_t now = UnixMillis();
        std::vector<Registry::Resolved> to;
        Status st = registry_->Resolve(r.destination, now, &to);
        if (!st.ok()) return st;
        // The bounds, as for messages: recipients at theirs get no copy; the total refuses.
        std::string full_cause;
        const std::size_t resolved = to.size();
        std::erase_if(to, [&](const Registry::Resolved& t) {
          const char* bound = ledger_->usage().Passed(t.recipient, 0);
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
          ledger_->CountAccepted("deliver-report", r.destination.type, OutcomeKind::kFailed);
          return Status::Ok();
        }
        MSGIN5G_RETURN_IF_ERROR(ledger_->AdmitQueued(to.size(), 0));
        bool reachable = false;
        for (const auto& t : to) {
          reachable = reachable || t.reachable;
          ledger_->QueueReport(txn, t.recipient, r.origin, r.msg_id, r.status, r.failure_cause, now);
        }
        out->kind = to.empty() ? AcceptOutcome::Kind::kFailed
                    : reachable ? AcceptOutcome::Kind::kAccepted
                                : AcceptOutcome::Kind::kStored;
        if (to.empty()) out->failure_cause = "no recipient for the report";
        txn.PutIdempotency(r.origin, key,
                           {0, ToStored(out->kind), out->failure_cause, now + DefaultTtlMs()});
        ledger_->CountAccepted("deliver-report", r.destination.type, ToStored(out->kind));
        ledger_->UpdateMetrics();
        return Status::Ok();
      },
      std::move(done));
}


// A message that did not reach a recipient must leave a trace after it is gone: a log line for
// the operator, and the recipient's final state and cause kept with the message's idempotency
// record (the admin message view reads it for as long as the msgId is remembered).



// --- registrations, groups, topics, routing rules, client policies (the Registry) ---

void DurableBroker::RegisterAs(AsRegistration registration,
                               std::function<void(Result<AsRegistration>)> done) {
  Run<AsRegistration>(
      [this, reg = std::move(registration)](Txn& txn, AsRegistration* out) mutable {
        return registry_->RegisterAs(txn, std::move(reg), out);
      },
      std::move(done));
}

void DurableBroker::DeregisterAs(std::string registration_id, std::string requester,
                                 std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(registration_id), requester = std::move(requester)](Txn& txn) {
        return registry_->DeregisterAs(txn, id, requester);
      },
      std::move(done));
}

void DurableBroker::RegisterUe(UeRegistration registration, std::function<void(Status)> done) {
  ledger_->Submit(
      [this, reg = std::move(registration)](Txn& txn) mutable {
        return registry_->RegisterUe(txn, std::move(reg));
      },
      std::move(done));
}

void DurableBroker::DeregisterUe(std::string ue_id, std::string from_endpoint,
                                 std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(ue_id), from = std::move(from_endpoint)](Txn& txn) {
        return registry_->DeregisterUe(txn, id, from);
      },
      std::move(done));
}

void DurableBroker::UeContact(std::string ue_id, std::string endpoint, bool may_move,
                              std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(ue_id), endpoint = std::move(endpoint), may_move](Txn& txn) {
        return registry_->UeContact(txn, id, endpoint, may_move);
      },
      std::move(done));
}

void DurableBroker::UeUnreachable(std::string ue_id) {
  ledger_->Submit(
      [this, id = std::move(ue_id)](Txn&) {
        registry_->UeUnreachable(id);
        return Status::Ok();
      },
      [](Status) {});
}

void DurableBroker::PutGroup(GroupRecord group, std::function<void(Status)> done) {
  ledger_->Submit([this, g = std::move(group)](
                      Txn& txn) mutable { return registry_->PutGroup(txn, std::move(g)); },
                  std::move(done));
}

void DurableBroker::DeleteGroup(std::string group_id, std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(group_id)](Txn& txn) { return registry_->DeleteGroup(txn, id); },
      std::move(done));
}

void DurableBroker::AddGroupMember(std::string group_id, Address member,
                                   std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(group_id), member = std::move(member)](Txn& txn) {
        return registry_->UpdateGroup(txn, id, [&member](GroupRecord& g) {
          if (std::find(g.members.begin(), g.members.end(), member) == g.members.end()) {
            g.members.push_back(member);  // already a member: nothing to add (idempotent)
          }
          return Status::Ok();
        });
      },
      std::move(done));
}

void DurableBroker::RemoveGroupMember(std::string group_id, Address member,
                                      std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(group_id), member = std::move(member)](Txn& txn) {
        return registry_->UpdateGroup(txn, id, [&member](GroupRecord& g) {
          auto m = std::find(g.members.begin(), g.members.end(), member);
          if (m == g.members.end()) return Status::NotFound("not a member of '" + g.group_id + "'");
          g.members.erase(m);
          return Status::Ok();
        });
      },
      std::move(done));
}

void DurableBroker::ListGroups(std::function<void(Result<std::vector<GroupRecord>>)> done) {
  store_.Query([done = std::move(done)](storage::Reader& r) { done(r.Groups()); });
}

void DurableBroker::Subscribe(TopicSubscriptionRecord s, std::function<void(Status)> done) {
  ledger_->Submit([this, s = std::move(s)](Txn& txn) { return registry_->Subscribe(txn, s); },
                  std::move(done));
}

void DurableBroker::Unsubscribe(std::string topic, Address subscriber,
                                std::function<void(Status)> done) {
  ledger_->Submit(
      [this, topic = std::move(topic), subscriber = std::move(subscriber)](Txn& txn) {
        return registry_->Unsubscribe(txn, topic, subscriber);
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

void DurableBroker::PutRoutingRule(RoutingRuleRecord rule, std::function<void(Status)> done) {
  ledger_->Submit(
      [this, rule = std::move(rule)](Txn& txn) { return registry_->PutRoutingRule(txn, rule); },
      std::move(done));
}

void DurableBroker::DeleteRoutingRule(std::string name, std::function<void(Status)> done) {
  ledger_->Submit(
      [this, name = std::move(name)](Txn& txn) { return registry_->DeleteRoutingRule(txn, name); },
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

void DurableBroker::PutClientPolicy(ClientPolicyRecord policy, std::function<void(Status)> done) {
  ledger_->Submit(
      [this, p = std::move(policy)](Txn& txn) { return registry_->PutClientPolicy(txn, p); },
      std::move(done));
}

void DurableBroker::DeleteClientPolicy(std::string client_id, std::function<void(Status)> done) {
  ledger_->Submit(
      [this, id = std::move(client_id)](Txn& txn) { return registry_->DeleteClientPolicy(txn, id); },
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
  for (std::size_t i = 0; i < 3; ++i) s.queued_by_priority[i] = ledger_->queued(i);
  s.queued_bytes = ledger_->queued_bytes();
  const auto& sizes = registry_->sizes();
  s.registrations = sizes.as_registrations.load();
  s.groups = sizes.groups.load();
  s.topic_subscriptions = sizes.topic_subscriptions.load();
  s.routing_rules = sizes.routing_rules.load();
  s.open_segment_sets = segments_->open();
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
  // On the reader thread: never behind a write batch or its fsync.
  store_.Query([this, limit, done = std::move(done)](storage::Reader&) {
    done(ledger_->ListQueues(limit));
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
      const bool asleep = !registry_->UeAwake(ue.ue_id);
      out.ue.push_back({std::move(ue), asleep});
    }
    out.ue_more = page->more;
    out.ue_total = registry_->sizes().ue_registrations.load();
    out.ue_asleep = registry_->sizes().ues_asleep.load();
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

bool DurableBroker::SweepExpiredSegments(std::function<void(SegmentSweepResult)> done) {
  return segments_->Sweep(std::move(done));
}

}  // namespace msgin5g::broker
