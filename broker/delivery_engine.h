// The delivery engine: takes the durable queue entries and gets each to its recipient's route at
// least once, in priority order, without one slow or dead destination holding back the others.
//
// Every pending entry is known in memory: about 40 bytes for a recipient without a route (parked),
// about 200 for one with a route (payloads of fresh messages are kept up to a budget, older ones
// are read back from RocksDB when due). Entries are grouped by destination (route key: an AS targetUri, a gateway); each
// destination serves HIGH, then MIDDLE, then LOW, oldest first, with a bounded number in flight and
// a circuit breaker. Outcomes are persisted through the broker (OutcomeSink, the group-commit
// writer) before the entry changes in memory, so a crash can only cause a redelivery:
//   delivered / permanent failure / expired -> the entry leaves the queue (reports are queued by
//   the broker in the same write); transient failure -> attempts + 1 and a new due time (exponential
//   backoff with jitter, or the peer's Retry-After), stored.
//
// Threads: one engine thread owns all state; the public methods post to it and never block.
// Channels and the sink call back on their own threads; those callbacks post too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/backoff.h"
#include "broker/delivery.h"
#include "broker/route_table.h"
#include "broker/segmented_send.h"
#include "common/clock.h"
#include "common/status.h"
#include "metrics/registry.h"
#include "storage/records.h"

namespace msgin5g::broker {

struct DeliveryOptions {
  // Requests in flight per destination, and in all. Defaults: 64, 4096.
  std::size_t max_in_flight_per_destination = 64;
  // A UE over CoAP gets a few messages at a time: enough for the channel to aggregate small ones
  // (TS 23.554 8.4.3), few enough that when it stops answering only these wait for the
  // retransmission timeout while the rest stay in priority order (parked until it wakes).
  std::size_t max_in_flight_per_ue = 8;
  std::size_t max_in_flight = 4096;
  // Retry backoff: initial * 2^(attempt-1), capped, with jitter (half fixed, half random).
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{300000};
  // Attempts before a message is given up with a failure report. 0: until it expires. Messages
  // sent without stoAndFwInd use max_attempts_without_store (docs/delivery.md: dropped, not kept).
  std::uint32_t max_attempts = 0;
  std::uint32_t max_attempts_without_store = 3;
  // Consecutive transient failures that open a destination's circuit breaker; while open nothing
  // is sent there, then one probe decides (half-open). Default: 5.
  std::uint32_t breaker_failures = 5;
  // Payload bytes of pending messages kept in memory; beyond, payloads are read back when due.
  std::size_t payload_cache_bytes = 128u << 20;
  // How often expired entries are looked for. Default: 1 s.
  std::chrono::milliseconds expiry_scan_interval{1000};
  // The time retries, breaker pauses and expiry are measured on; null: the system clock. Must
  // outlive the engine.
  const Clock* clock = nullptr;
};

// Persistence and reads the engine needs (the broker, on the store's threads).
class OutcomeSink {
 public:
  // kHandedOver: taken by an L3G/N3G message gateway, which reports the outcome itself (TS 23.554
  // 8.6.1 steps 4a/5b: it relays the legacy UE's report or synthesizes one), so the server queues
  // no success report of its own; the entry is done as if delivered.
  enum class Final { kDelivered, kHandedOver, kFailed, kExpired };
  virtual ~OutcomeSink() = default;
  // Removes the entry from the durable queue; queues the originator's report if one was asked for.
  // `message` may be null (then the sink reads it). `done` runs after the write is durable.
  virtual void Finish(const storage::QueueEntryRecord& entry,
                      std::shared_ptr<const storage::MessageRecord> message, Final final,
                      std::string cause, std::function<void(Status)> done) = 0;
  // Stores a new due time and attempt count for the entry.
  virtual void Reschedule(const storage::QueueEntryRecord& entry, std::int64_t due_ms,
                          std::uint32_t attempts, std::function<void(Status)> done) = 0;
  // Reads messages by sequence number (null where gone).
  virtual void LoadMessages(
      std::vector<std::uint64_t> seqs,
      std::function<void(std::vector<std::shared_ptr<const storage::MessageRecord>>)> done) = 0;
};

// An entry the broker queued (after its write is durable), with its message when at hand.
struct QueuedEntry {
  storage::QueueEntryRecord entry;
  std::shared_ptr<const storage::MessageRecord> message;
};

class DeliveryEngine {
 public:
  DeliveryEngine(DeliveryOptions options, DeliveryChannel& channel, OutcomeSink& sink,
                 metrics::Registry* metrics);
  ~DeliveryEngine();  // Stop()
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  void Start();
  // Stops the engine thread; later posts (late channel answers) are dropped. Entries in flight
  // stay queued on disk and go out again after a restart.
  void Stop();

  // Thread-safe; never block.
  void Add(std::vector<QueuedEntry> entries);
  void SetRoutes(std::shared_ptr<const RouteTable> routes);
  // One UE's entry in the shared UE directory (RouteTable::UeDirectory) changed: it registered,
  // woke, moved or fell asleep. Re-places only that UE's entries, where SetRoutes re-places every
  // entry and parked recipient: a wake burst of 10,000 UEs costs 10,000 small steps, not 10,000
  // full passes. Coalesced like SetRoutes.
  void UeRouteChanged(std::string ue_id);

  struct Counts {
    std::size_t pending = 0;    // entries known to the engine
    std::size_t unrouted = 0;   // of which no route exists for now
    std::size_t in_flight = 0;
  };
  // For tests and stats; the answer comes on the engine thread.
  void GetCounts(std::function<void(Counts)> done);
  // Makes the engine look at its timers now: after a test moved its clock (DeliveryOptions::clock).
  void Wake();

  // One destination (an AS targetUri, a gateway, a UE endpoint) and its circuit breaker.
  struct DestinationView {
    std::string channel;  // "as", "l3g", "n3g", "bg", "ue"
    std::string base;     // targetUri, apiRoot or coap:// endpoint
    std::size_t ready = 0;
    std::size_t in_flight = 0;
    std::uint32_t failures = 0;   // consecutive transient failures
    std::string breaker;          // "closed", "open" (nothing sent until blocked_until_ms), "half-open"
    std::int64_t blocked_until_ms = 0;
  };
  // An operator's removal: every queue entry of `recipient` and/or of message `seq` that waits
  // (ready, due later, or parked without a route) is finished as failed with `cause` (the
  // originator gets a failure report when it asked for one). Entries being sent finish on their
  // own and are counted in in_flight. `done` runs once the removals are stored.
  struct RemoveResult {
    std::size_t removed = 0;
    std::size_t in_flight = 0;
  };
  void Remove(std::optional<Address> recipient, std::optional<std::uint64_t> seq, std::string cause,
              std::function<void(Result<RemoveResult>)> done);

  // An operator's resend of message `seq`: every entry waiting for a retry is made ready now
  // instead of at the end of its backoff (its attempt count stays, so a further failure backs
  // off as before). What cannot go now is counted: recipients without a route (a sleeping UE,
  // no routing rule) and destinations whose circuit breaker is open wait as they did. The answer
  // comes on the engine thread.
  struct RetryResult {
    std::size_t ready = 0;         // will be sent now
    std::size_t in_flight = 0;     // being sent, or its attempt's outcome being stored
    std::size_t no_route = 0;      // waits for its recipient's route
    std::size_t breaker_open = 0;  // ready, but its destination sends nothing until the breaker closes
  };
  void RetryNow(std::uint64_t seq, std::function<void(RetryResult)> done);

  // Destinations the engine knows, by channel then base; UE endpoints only with `ues` (there can
  // be millions). At most `limit`. The answer comes on the engine thread.
  void ListDestinations(bool ues, std::size_t limit,
                        std::function<void(std::vector<DestinationView>)> done);

 private:
  class Metrics;
  struct Destination;
  struct Entry;

  void Post(std::function<void()> fn);
  void Loop();
  void AddOnLoop(std::vector<QueuedEntry> entries);
  void SetRoutesOnLoop(std::shared_ptr<const RouteTable> routes);
  void UeRouteChangedOnLoop(const std::string& ue_id);
  // `key`: RecipientKey(recipient) when the caller has it already.
  std::shared_ptr<Destination> DestinationFor(const Address& recipient, const std::string& key = {});
  // Puts the entry in its destination's ready queue; false when its recipient has no route.
  bool MakeReady(std::uint64_t id, Entry& e);
  void Activate(const std::shared_ptr<Destination>& d);  // into active_ (once)
  // Entries of recipients without a route, kept compact (no payload, no map node): in a large
  // deployment most recipients are sleeping devices. Brought back when a route appears, or to expire.
  struct Parked {
    std::int64_t due_ms;
    std::int64_t expiry_ms;
    std::uint64_t seq;
    std::uint32_t attempts;
    std::uint32_t bytes;
    storage::Priority priority;
  };
  struct ParkedRecipient {
    Address address;
    std::vector<Parked> items;
  };
  void Park(const storage::QueueEntryRecord& r, std::string key = {});
  void ParkEntry(std::uint64_t id);  // moves entries_[id] into parked_
  std::uint64_t Unpark(const Address& recipient, const Parked& p);  // a new entries_ id
  void PromoteDue(std::int64_t now);
  void ScanExpired(std::int64_t now);
  void DispatchAll(std::int64_t now);
  void Dispatch(Destination& d, std::int64_t now, std::vector<std::uint64_t>* to_load);
  void Send(std::uint64_t id, Entry& e);
  void SendParts(std::uint64_t id, Entry& e, SegmentedSend& set);  // while its window has room
  void SendPart(std::uint64_t id, Entry& e, std::string_view payload,
                std::optional<SegmentInfo> segment);
  void OnResult(std::uint64_t id, DeliveryResult r);
  void Complete(std::uint64_t id, Entry& e, DeliveryResult r, std::int64_t now);
  // `persisted`, when set, runs on the engine thread once the outcome is stored (or refused).
  void Finish(std::uint64_t id, Entry& e, OutcomeSink::Final final, std::string cause,
              std::function<void(Status)> persisted = nullptr);
  void Release(Entry& e);
  void CacheMessage(Entry& e, std::shared_ptr<const storage::MessageRecord> m);
  std::int64_t NextWakeup(std::int64_t now) const;

  DeliveryOptions options_;
  const Clock& clock_;
  Backoff backoff_;  // engine thread only
  DeliveryChannel& channel_;
  OutcomeSink& sink_;
  std::unique_ptr<Metrics> metrics_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> inbox_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;

  std::mutex routes_mu_;
  std::shared_ptr<const RouteTable> next_routes_;  // under routes_mu_: the latest SetRoutes
  bool routes_posted_ = false;                     // under routes_mu_
  std::unordered_set<std::string> changed_ues_;     // under routes_mu_: UeRouteChanged since the last pass
  bool ues_posted_ = false;                         // under routes_mu_

  // Engine thread only.
  std::shared_ptr<const RouteTable> routes_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::string, std::shared_ptr<Destination>> destinations_;  // by Route::Key
  std::unordered_map<std::string, std::shared_ptr<Destination>> by_recipient_;  // null: unrouted
  std::unordered_map<std::string, ParkedRecipient> parked_;                      // by recipient
  std::size_t parked_count_ = 0;
  std::unordered_map<std::uint64_t, SegmentedSend> partial_;  // segmented deliveries in flight
  using Timer = std::pair<std::int64_t, std::uint64_t>;  // (due ms, entry id)
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> waiting_;
  std::size_t in_flight_ = 0;
  std::size_t cached_bytes_ = 0;
  std::int64_t next_expiry_scan_ = 0;
  // Destinations that may have ready entries, in round-robin order; each at most once (active).
  std::deque<std::shared_ptr<Destination>> active_;
  static constexpr std::size_t kMaxCachedRecipients = 100000;
};

}  // namespace msgin5g::broker
