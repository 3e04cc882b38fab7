// DurableBroker: the MSGin5G Server's broker on the RocksDB store (docs/architecture.md, "The durable path").
//
// Every decision that needs shared state (idempotency, registrations, groups, topics, routing)
// runs inside a storage operation on the store's single writer thread, so the in-memory caches are
// owned by that thread and need no locks, and an answer is given only after the batch holding the
// message is fsync'd. Queue entries (enqueue, the delivery engine's outcomes, totals, bounds) are
// the Ledger's (ledger.h): every write goes through it. Registrations, groups, topics, routing
// rules and the recipients of an address are the Registry's (registry.h); segment sets the
// SegmentAssembly's (segment_assembly.h). What is stored per message: the payload once (messages
// CF), one small queue entry per recipient, a recipient-state record per recipient of a fan-out
// message, and the idempotency record (oriAddr, msgId) -> outcome.
//
// Routing (destAddr.addrType): AS -> its registration (unregistered: NotFound, or stored when
// store_for_unknown_recipient); UE -> reachable when a routing rule sends it to a gateway,
// otherwise (direct, no CoAP registration yet) unreachable; GROUP -> every member; TOPIC -> every
// current subscriber; BC -> reachable when a broadcast gateway is configured.
//
// Outcome: all recipients reachable -> accepted (no status); none reachable -> DELY_STORED with
// stoAndFwInd, else DELY_FAILED; mixed -> accepted, and the unreachable ones are stored (or, without
// stoAndFwInd, dropped with a failure report when one was requested).
//
// Segments (segInd): each segment is stored as it arrives, in any order; the one that completes
// the set turns it into one message whose msgId is the segId (kept apart from ordinary msgIds in
// the idempotency index), and its answer is that message's. A set may hold at most
// max_reassembled_bytes.
// Sets not complete within segment_timeout are dropped with a failure report if requested, by a
// sweep that runs in slices (at most segment_sweep_slice_sets sets or segment_sweep_slice_time per
// writer operation, the next slice queued behind the writes that arrived meanwhile), oldest first.
// Open sets are bounded: a segment that would open a set past max_open_segment_sets is refused
// with ResourceExhausted (503), past max_open_segment_sets_per_originator for its originator with
// RateLimited (429); segments of sets already open are still taken.
//
// Queues and registrations are bounded (BrokerOptions::limits, docs/limits.md), checked before
// anything is stored: a message or report that would pass the total queued entries or bytes is
// refused with ResourceExhausted (503); a recipient whose own queue is at its bound is not queued
// (the only recipient: DELY_FAILED with a queue-full cause, not remembered, nothing stored); a new
// UE or AS past the registration bound gets ResourceExhausted, a known one may register again.
// The per-recipient counts are rebuilt from the queue at startup.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "broker/admin.h"
#include "broker/broker.h"
#include "broker/broker_metrics.h"
#include "broker/delivery_engine.h"
#include "broker/ledger.h"
#include "broker/registry.h"
#include "broker/segment_assembly.h"
#include "broker/queue_limits.h"
#include "broker/recent_outcomes.h"
#include "broker/route_table.h"
#include "metrics/registry.h"
#include "storage/backup_service.h"
#include "storage/store.h"

namespace msgin5g::broker {

struct BrokerOptions {
  // Segment size for UEs registered over MSGin5G-1 that declare none (TS 23.554 8.5: 2048).
  std::size_t ue_max_segment_bytes = 2048;
  // Expiry of a stored message without stoAndFwParams.exprTime. Default: 24 h.
  std::chrono::seconds default_ttl{86400};
  // Unregistered AS or undefined GROUP: false -> NotFound (404 UNKNOWN_RECIPIENT); true -> stored
  // for that address. Default: false.
  bool store_for_unknown_recipient = false;
  // Incomplete segment sets are dropped after this long. Default: 60 s.
  std::chrono::milliseconds segment_timeout{60000};
  // Open (incomplete) segment sets, in all and per originator: a segment that would open one more
  // is refused (503 / 429), nothing stored. Defaults: 100000, 1000.
  std::size_t max_open_segment_sets = 100000;
  std::size_t max_open_segment_sets_per_originator = 1000;
  // How often the ticker looks for timed-out sets. Default: 1 s.
  std::chrono::milliseconds segment_sweep_interval{1000};
  // One sweep slice (one writer operation) drops at most this many sets, and stops after this
  // long; a normal write waits at most about one slice. Defaults: 256 sets, 5 ms.
  std::size_t segment_sweep_slice_sets = 256;
  std::chrono::microseconds segment_sweep_slice_time{5000};
  // Name of the broadcast gateway (BC destinations); empty: BC recipients are unreachable.
  std::string broadcast_gateway;
  // Largest reassembled message; a segment that would exceed it is refused. Default: 4 MiB.
  std::size_t max_reassembled_bytes = 4u << 20;
  // Message gateways routing rules and broadcast_gateway may name.
  std::vector<GatewayInfo> gateways;
  // Queued entries and bytes in all and per recipient, UE and AS registrations (docs/limits.md).
  QueueLimits limits;
  DeliveryOptions delivery;
  // Online backups (admin API); an empty root turns them off.
  storage::BackupOptions backup;
};

class DurableBroker final : public Broker, public Admin {
 public:
  // Loads registrations, groups, topics and routing rules from `store` (which must outlive the
  // broker) and starts the ticker (segment timeouts).
  // With a `channel` (which must outlive the broker), the delivery engine starts too and
  // forwards every queued entry; without one, messages are only stored (tests of the accept path).
  static Result<std::unique_ptr<DurableBroker>> Create(storage::Store& store, BrokerOptions options,
                                                       metrics::Registry* metrics,
                                                       DeliveryChannel* channel = nullptr);
  ~DurableBroker() override;

  // Broker
  void RegisterAs(AsRegistration registration,
                  std::function<void(Result<AsRegistration>)> done) override;
  void RegisterUe(UeRegistration registration, std::function<void(Status)> done) override;
  void DeregisterUe(std::string ue_id, std::string from_endpoint,
                    std::function<void(Status)> done) override;
  void UeContact(std::string ue_id, std::string endpoint, bool may_move,
                 std::function<void(Status)> done) override;
  void UeUnreachable(std::string ue_id) override;
  void DeregisterAs(std::string registration_id, std::string requester,
                    std::function<void(Status)> done) override;
  void SubmitMessage(Message message, std::function<void(Result<AcceptOutcome>)> done) override;
  void SubmitReport(Report report, std::function<void(Result<AcceptOutcome>)> done) override;

  // Admin
  void PutGroup(GroupRecord group, std::function<void(Status)> done) override;
  void DeleteGroup(std::string group_id, std::function<void(Status)> done) override;
  void AddGroupMember(std::string group_id, Address member,
                      std::function<void(Status)> done) override;
  void RemoveGroupMember(std::string group_id, Address member,
                         std::function<void(Status)> done) override;
  void ListGroups(std::function<void(Result<std::vector<GroupRecord>>)> done) override;
  void Subscribe(TopicSubscriptionRecord subscription, std::function<void(Status)> done) override;
  void Unsubscribe(std::string topic, Address subscriber, std::function<void(Status)> done) override;
  void ListSubscribers(std::string topic,
                       std::function<void(Result<std::vector<TopicSubscriptionRecord>>)> done) override;
  void PutRoutingRule(RoutingRuleRecord rule, std::function<void(Status)> done) override;
  void DeleteRoutingRule(std::string name, std::function<void(Status)> done) override;
  void ListRoutingRules(std::function<void(Result<std::vector<RoutingRuleRecord>>)> done) override;
  void PutClientPolicy(ClientPolicyRecord policy, std::function<void(Status)> done) override;
  void DeleteClientPolicy(std::string client_id, std::function<void(Status)> done) override;
  void ListClientPolicies(
      std::function<void(Result<std::vector<ClientPolicyRecord>>)> done) override;
  void SummarizeQueue(Address recipient, std::function<void(Result<QueueSummary>)> done) override;
  void FindMessage(Address origin, std::string msg_id,
                   std::function<void(Result<MessageView>)> done) override;
  void Stats(std::function<void(Result<BrokerStats>)> done) override;
  void ListQueues(std::size_t limit, std::function<void(Result<QueueList>)> done) override;
  void ListRegistrations(std::string ue_after, std::size_t ue_limit,
                         std::function<void(Result<RegistrationList>)> done) override;
  void PurgeQueue(Address recipient, std::function<void(Result<Removed>)> done) override;
  void ResendMessage(Address origin, std::string msg_id,
                     std::function<void(Result<Resent>)> done) override;
  void DeleteMessage(Address origin, std::string msg_id,
                     std::function<void(Result<Removed>)> done) override;
  void ListDestinations(bool ues, std::size_t limit,
                        std::function<void(Result<std::vector<DestinationView>>)> done) override;
  void ListGateways(std::function<void(Result<std::vector<GatewayView>>)> done) override;
  void CreateBackup(std::string name, std::function<void(Result<BackupInfo>)> done) override;
  void ListBackups(std::function<void(Result<std::vector<BackupInfo>>)> done) override;

  bool healthy() const { return store_.healthy(); }

  // Drain: new messages and reports are refused (Unavailable: 503 / 5.03) from now on, while
  // registrations and deliveries go on. One way: a drained broker is stopped, not resumed.
  void StopAccepting();
  // What the delivery engine holds (zeros without one); `done` runs on the engine thread.
  void DeliveryCounts(std::function<void(DeliveryEngine::Counts)> done);

  // What a sweep of timed-out segment sets did.
  using SegmentSweepResult = SegmentAssembly::SweepResult;
  // Starts a sweep of the timed-out segment sets now (the ticker does every
  // segment_sweep_interval); `done`, if set, runs (on the storage sync thread) when it ended.
  // False, and `done` is not called, when a sweep is already running.
  bool SweepExpiredSegments(std::function<void(SegmentSweepResult)> done = nullptr);
  // Stops the ticker and any running sweep at its next slice (what is left is swept after the
  // next start). Call at shutdown before draining; the destructor calls it too. Idempotent.
  void BeginShutdown();
  const storage::RecoveredState& recovered() const { return recovered_; }
  // The delivery engine (null without a channel).
  DeliveryEngine* delivery() { return engine_.get(); }
  // Stops delivery (call before destroying the channel). Idempotent.
  void StopDelivery();

 private:
  DurableBroker(storage::Store& store, BrokerOptions options, metrics::Registry* metrics);
  void Load(const storage::RecoveredState& state);

  // Writer-thread helpers.
  // `idempotency_key` defaults to m.msg_id; reassembled segments use their own key space.
  Status Accept(storage::Txn& txn, const Message& m, AcceptOutcome* out, const char* operation,
                const std::string* idempotency_key = nullptr);
  // A report about "M#n", "M~a" or "M~a#n" (broker/segmented_send.h) is about M when the
  // report's recipient sent M (and no message of that very id): M, else nullopt.
  static std::optional<std::string> OriginatorsMessageId(storage::Txn& txn, const Report& r);
  std::int64_t DefaultTtlMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.default_ttl).count();
  }
  // Finds (origin, msg_id) on the reader thread and hands it to `act` with `done`; answers
  // Unavailable when delivery is off and the lookup's error when there is no such message.
  template <class T>
  void OnFoundMessage(Address origin, std::string msg_id, std::function<void(Result<T>)> done,
                      std::function<void(const MessageView&, std::function<void(Result<T>)>)> act);
  // Submits a writer operation whose result is a T.
  template <class T>
  void Run(std::function<Status(storage::Txn&, T*)> fn, std::function<void(Result<T>)> done,
           std::size_t bytes_hint = 0);

  storage::Store& store_;
  BrokerOptions options_;
  std::unique_ptr<BrokerMetrics> metrics_;
  // Queue entries, their counts and bounds, delivery outcomes; every write goes through it.
  std::unique_ptr<Ledger> ledger_;
  // Registrations, groups, topics, routing rules, client policies; where messages go.
  std::unique_ptr<Registry> registry_;
  storage::RecoveredState recovered_;

  // Inbound segment sets: stored, reassembled, swept on timeout.
  std::unique_ptr<SegmentAssembly> segments_;
  // Answers of recent messages, for retries (any thread).
  RecentOutcomes recent_;

  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<storage::BackupService> backups_;  // null when backups are off
  std::atomic<bool> accepting_{true};                 // false once draining
  static Status DrainingStatus();
  std::vector<QueuedEntry> recovered_entries_;  // handed to the engine at start

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool stopping_ = false;
  std::thread ticker_;
};

}  // namespace msgin5g::broker
