// Operator functions behind the admin API: groups, topic subscriptions, UE routing rules, queue
// and message inspection. Asynchronous like Broker; `done` may run on any thread.
// Errors: InvalidArgument, NotFound, Conflict, ResourceExhausted, Unavailable.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/delivery_engine.h"
#include "broker/types.h"
#include "common/status.h"
#include "storage/backup_manifest.h"

namespace msgin5g::broker {

struct RecipientView {
  Address recipient;
  std::string state;  // "QUEUED", "DELIVERED", "FAILED", "EXPIRED"
  Priority priority = Priority::kMiddle;
  std::int64_t due_ms = 0;
};

struct MessageView {
  std::uint64_t seq = 0;
  std::string kind;  // "MESSAGE" or "REPORT"
  Address origin;
  Address destination;
  std::string msg_id;
  std::string app_id;
  Priority priority = Priority::kMiddle;
  std::size_t payload_bytes = 0;
  std::int64_t accepted_ms = 0;
  std::int64_t expiry_ms = 0;
  bool report_requested = false;
  std::string outcome;  // the answer given: "ACCEPTED", "DELY_STORED", "DELY_FAILED"
  std::vector<RecipientView> recipients;
  // Recipients it did not reach (failed or expired), kept after the message is gone.
  struct Undelivered {
    Address recipient;
    std::string state;  // "FAILED" or "EXPIRED"
    std::string cause;
    std::int64_t finished_ms = 0;
  };
  std::vector<Undelivered> undelivered;
  std::uint32_t undelivered_more = 0;  // more undelivered recipients than listed
};

using BackupInfo = storage::BackupManifest;

// The recipients with the most queued entries (in memory: no store read).
struct QueueList {
  std::uint64_t recipients = 0;  // recipients with at least one queued entry
  struct Entry {
    Address recipient;
    std::uint32_t messages = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<Entry> largest;  // most entries first
};

using DestinationView = DeliveryEngine::DestinationView;

// A configured message gateway and the state of its destination (none before the first message
// for it).
struct GatewayView {
  GatewayInfo info;
  std::optional<DestinationView> destination;
};

// Registrations in force: every AS registration (bounded by max_as_registrations), and UE
// registrations in UE id order from `ue_after` (exclusive), at most the limit asked for.
struct RegistrationList {
  std::vector<AsRegistration> as;
  struct Ue {
    UeRegistration registration;
    bool asleep = false;  // stopped answering: held messages wait for its next contact
  };
  std::vector<Ue> ue;
  std::uint64_t ue_total = 0;
  std::uint64_t ue_asleep = 0;
  bool ue_more = false;  // more UE registrations after the last listed
};

struct BrokerStats {
  std::uint64_t queued_by_priority[3] = {0, 0, 0};
  std::uint64_t queued_bytes = 0;
  std::uint64_t registrations = 0;
  std::uint64_t groups = 0;
  std::uint64_t topic_subscriptions = 0;
  std::uint64_t routing_rules = 0;
  std::uint64_t open_segment_sets = 0;
  std::size_t storage_pending = 0;
  bool storage_healthy = true;
};

class Admin {
 public:
  virtual ~Admin() = default;

  // Creates or replaces a group (members: UE or AS addresses).
  virtual void PutGroup(GroupRecord group, std::function<void(Status)> done) = 0;
  virtual void DeleteGroup(std::string group_id, std::function<void(Status)> done) = 0;
  virtual void AddGroupMember(std::string group_id, Address member,
                              std::function<void(Status)> done) = 0;
  virtual void RemoveGroupMember(std::string group_id, Address member,
                                 std::function<void(Status)> done) = 0;
  virtual void ListGroups(std::function<void(Result<std::vector<GroupRecord>>)> done) = 0;

  // expiry_ms 0 = no expiry.
  virtual void Subscribe(TopicSubscriptionRecord subscription, std::function<void(Status)> done) = 0;
  virtual void Unsubscribe(std::string topic, Address subscriber,
                           std::function<void(Status)> done) = 0;
  virtual void ListSubscribers(std::string topic,
                               std::function<void(Result<std::vector<TopicSubscriptionRecord>>)> done) = 0;

  virtual void PutRoutingRule(RoutingRuleRecord rule, std::function<void(Status)> done) = 0;
  virtual void DeleteRoutingRule(std::string name, std::function<void(Status)> done) = 0;
  virtual void ListRoutingRules(std::function<void(Result<std::vector<RoutingRuleRecord>>)> done) = 0;

  // API client policies set through the admin API (stored opaque; the API layer validates them).
  virtual void PutClientPolicy(ClientPolicyRecord policy, std::function<void(Status)> done) = 0;
  virtual void DeleteClientPolicy(std::string client_id, std::function<void(Status)> done) = 0;
  virtual void ListClientPolicies(
      std::function<void(Result<std::vector<ClientPolicyRecord>>)> done) = 0;

  virtual void SummarizeQueue(Address recipient, std::function<void(Result<QueueSummary>)> done) = 0;
  virtual void FindMessage(Address origin, std::string msg_id,
                           std::function<void(Result<MessageView>)> done) = 0;
  virtual void Stats(std::function<void(Result<BrokerStats>)> done) = 0;

  // The `limit` largest queues (reader thread: O(recipients) per call, under the usage lock).
  virtual void ListQueues(std::size_t limit, std::function<void(Result<QueueList>)> done) = 0;
  // AS registrations, and up to `ue_limit` UE registrations after `ue_after` (reader thread: a
  // range scan from `ue_after`, O(ue_limit) per call).
  virtual void ListRegistrations(std::string ue_after, std::size_t ue_limit,
                                 std::function<void(Result<RegistrationList>)> done) = 0;

  // Operator removals (DeliveryEngine::Remove): every waiting entry of a recipient's queue, or of
  // one message (all its recipients), finished as failed with a cause saying so. Unavailable when
  // delivery is off; NotFound for an unknown message.
  using Removed = DeliveryEngine::RemoveResult;
  virtual void PurgeQueue(Address recipient, std::function<void(Result<Removed>)> done) = 0;
  virtual void DeleteMessage(Address origin, std::string msg_id,
                             std::function<void(Result<Removed>)> done) = 0;

  // An operator's resend (DeliveryEngine::RetryNow): the message's recipients waiting for a retry
  // are tried now. NotFound for an unknown message; Conflict when it is no longer
  // stored (every recipient finished: nothing is left to send).
  using Resent = DeliveryEngine::RetryResult;
  virtual void ResendMessage(Address origin, std::string msg_id,
                             std::function<void(Result<Resent>)> done) = 0;

  // Where deliveries go and their circuit breakers (UE endpoints only with `ues`), at most `limit`.
  virtual void ListDestinations(bool ues, std::size_t limit,
                                std::function<void(Result<std::vector<DestinationView>>)> done) = 0;
  // The configured gateways, in configuration order, with their destination's state.
  virtual void ListGateways(std::function<void(Result<std::vector<GatewayView>>)> done) = 0;

  // Online backup of the store under the configured backup directory (storage/backup_service.h).
  // NotFound when backups are off. `done` runs on the backup thread.
  virtual void CreateBackup(std::string name, std::function<void(Result<BackupInfo>)> done) = 0;
  virtual void ListBackups(std::function<void(Result<std::vector<BackupInfo>>)> done) = 0;
};

}  // namespace msgin5g::broker
