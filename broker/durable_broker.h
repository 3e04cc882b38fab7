// DurableBroker: the MSGin5G Server's broker on the RocksDB store (docs/architecture.md, "The durable path").
//
// Every decision that needs shared state (idempotency, registrations, groups, topics, routing)
// runs inside a storage operation on the store's single writer thread, so the in-memory caches are
// owned by that thread and need no locks, and an answer is given only after the batch holding the
// message is fsync'd. What is stored per message: the payload once (messages CF), one small queue
// entry and one recipient-state record per recipient, the expiry index entry and the idempotency
// record (oriAddr, msgId) -> outcome.
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
#include "broker/delivery_engine.h"
#include "broker/open_segment_sets.h"
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

class DurableBroker final : public Broker, public Admin, private OutcomeSink {
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
  struct SegmentSweepResult {
    std::size_t sets = 0;    // sets dropped
    std::size_t slices = 0;  // writer operations it took
    bool stopped = false;    // ended by BeginShutdown (or a storage failure) before it was done
  };
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
  class Metrics;
  struct Resolved {
    Address recipient;
    bool reachable = false;
  };

  DurableBroker(storage::Store& store, BrokerOptions options, metrics::Registry* metrics);
  void Load(const storage::RecoveredState& state);

  // Writer-thread helpers.
  // `idempotency_key` defaults to m.msg_id; reassembled segments use their own key space.
  Status Accept(storage::Txn& txn, const Message& m, AcceptOutcome* out, const char* operation,
                const std::string* idempotency_key = nullptr);
  Status AcceptSegment(storage::Txn& txn, const Message& m, AcceptOutcome* out);
  Status Resolve(const Address& dest, std::int64_t now_ms, std::vector<Resolved>* out);
  bool Reachable(const Address& a) const;
  void QueueReport(storage::Txn& txn, const Address& to, const Address& about_recipient,
                   const std::string& msg_id, storage::ReportStatus status,
                   const std::string& cause, std::int64_t now_ms);
  void EnqueueCounted(storage::Txn& txn, const std::shared_ptr<const storage::MessageRecord>& m,
                      const Address& r, std::int64_t due_ms);
  struct SweepRun;
  void SubmitSweepSlice(std::shared_ptr<SweepRun> run);
  // One slice: drops timed-out sets, oldest first, within the slice bounds. Writer thread. True
  // when timed-out sets remain.
  bool SweepSlice(storage::Txn& txn, SweepRun& run);
  // Refuses a segment that would open one more set past the bounds. Writer thread.
  Status AdmitNewSegmentSet(const Address& origin);
  // Refuses `entries` more queue entries with `bytes` payload bytes past the total bounds.
  Status AdmitQueued(std::uint64_t entries, std::uint64_t bytes);
  std::uint64_t TotalQueued() const { return queued_[0] + queued_[1] + queued_[2]; }
  // Updates the queue gauges (and the bounds' usage). Writer thread.
  void UpdateQueueMetrics();
  // After registrations_ / ues_ or open_segments_ changed: their gauges and sizes_. Writer thread.
  void RegistrationsChanged();
  void OpenSetsChanged();
  std::int64_t DefaultTtlMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.default_ttl).count();
  }
  // A new route snapshot from registrations_, rules_ and the configured gateways, handed to the
  // engine. Writer thread.
  void RebuildRoutes();

  // OutcomeSink (called by the engine).
  void Finish(const storage::QueueEntryRecord& entry,
              std::shared_ptr<const storage::MessageRecord> message, Final final, std::string cause,
              std::function<void(Status)> done) override;
  void RecordUndelivered(storage::Txn& txn, const storage::MessageRecord& m,
                         const storage::QueueEntryRecord& entry,
                         storage::RecipientState state, const std::string& cause);
  void Reschedule(const storage::QueueEntryRecord& entry, std::int64_t due_ms,
                  std::uint32_t attempts, std::function<void(Status)> done) override;
  void LoadMessages(
      std::vector<std::uint64_t> seqs,
      std::function<void(std::vector<std::shared_ptr<const storage::MessageRecord>>)> done) override;

  // Every broker write goes through here: entries queued by `fn` (EnqueueCounted) are handed to
  // the delivery engine once the write is durable, and dropped if the operation was refused.
  void Submit(storage::Store::Op fn, storage::Store::Done done, std::size_t bytes_hint = 0,
              bool bounded = true);
  // Applies `change` to a copy of group `group_id` and stores it; NotFound for an unknown group.
  void UpdateGroup(std::string group_id, std::function<Status(GroupRecord&)> change,
                   std::function<void(Status)> done);

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
  std::unique_ptr<Metrics> metrics_;
  storage::RecoveredState recovered_;

  // Owned by the store's writer thread.
  std::unordered_map<std::string, AsRegistration> registrations_;    // by registration_id
  std::unordered_map<std::string, std::string> registration_by_svc_;  // asSvcId -> id
  std::unordered_map<std::string, UeRegistration> ues_;               // by UE Service ID
  std::unordered_set<std::string> asleep_;  // registered UEs that stopped answering (no route)
  std::shared_ptr<RouteTable::UeDirectory> ue_routes_ = std::make_shared<RouteTable::UeDirectory>();
  // Publishes `ue_id`'s route (registered and awake) or its absence into ue_routes_.
  void PublishUe(const std::string& ue_id);
  std::map<std::string, GroupRecord> groups_;
  std::map<std::string, std::map<Address, std::int64_t>> topics_;  // topic -> subscriber -> expiry
  std::vector<RoutingRuleRecord> rules_;  // sorted by (order, name)
  std::map<std::string, std::string> client_policies_;  // client id -> JSON (admin API)
  OpenSegmentSets open_segments_;
  QueueUsage usage_;  // queued entries per recipient (bounds); changed under usage_mu_
  std::shared_ptr<const RouteTable> routes_;
  // Fan-out messages with two or more entries still queued: seq -> how many. A message not here
  // has one entry left (or none).
  std::unordered_map<std::uint64_t, std::uint32_t> remaining_;
  // What the operation running now leaves for after its write is durable (moved out when it
  // returns OK, dropped when it was refused): the entries it queued, for the delivery engine, and
  // the accept outcomes it decided, for the metrics (a counted message is a stored one).
  struct AcceptCount {
    const char* operation;
    AddressType dest;
    storage::OutcomeKind outcome;
  };
  struct AfterDurable {
    std::vector<QueuedEntry> queued;
    std::vector<AcceptCount> accepted;
  };
  AfterDurable op_after_;
  void CountAccepted(const char* operation, AddressType dest, storage::OutcomeKind outcome) {
    op_after_.accepted.push_back({operation, dest, outcome});
  }

  // Answers of recent messages, for retries (any thread).
  RecentOutcomes recent_;

  // Read by Stats and metrics from any thread.
  std::atomic<std::uint64_t> queued_[3] = {0, 0, 0};
  std::atomic<std::uint64_t> queued_bytes_{0};
  // Sizes of the writer's caches, set by the writer after each change, for Stats and the
  // registration list (answered off the writer: admin reads never wait behind a write batch).
  struct CacheSizes {
    std::atomic<std::size_t> as_registrations{0};
    std::atomic<std::size_t> ue_registrations{0};
    std::atomic<std::size_t> ues_asleep{0};
    std::atomic<std::size_t> groups{0};
    std::atomic<std::size_t> topic_subscriptions{0};
    std::atomic<std::size_t> routing_rules{0};
    std::atomic<std::size_t> open_segment_sets{0};
  };
  CacheSizes sizes_;
  // Guards usage_'s changes (writer) against ListQueues (reader thread); the writer reads it
  // without the lock, being its only writer.
  mutable std::mutex usage_mu_;

  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<storage::BackupService> backups_;  // null when backups are off
  std::atomic<bool> accepting_{true};                 // false once draining
  static Status DrainingStatus();
  std::vector<QueuedEntry> recovered_entries_;  // handed to the engine at start

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool stopping_ = false;
  std::thread ticker_;
  // Set by BeginShutdown: no new sweep, no next slice.
  std::atomic<bool> sweep_stop_{false};
  std::atomic<bool> sweeping_{false};  // a sweep's slices are queued or running
};

}  // namespace msgin5g::broker
