// SegmentAssembly: inbound segment sets (segInd, TS 23.554 8.5) — each segment stored as it
// arrives, in any order; the one that completes the set turns it into one message whose msgId is
// the segId (accepted through the broker, and remembered under its own idempotency key space),
// and sets not complete within segment_timeout dropped by a sweep in slices.
//
// Bounds: a set may hold at most max_reassembled_bytes; a segment that would open a set past
// max_open (ResourceExhausted, 503) or past max_open_per_originator for its originator
// (RateLimited, 429) is refused, while segments of sets already open are still taken.
//
// Threads: Accept and the sweep's slices run on the store's writer thread, which owns the open
// sets; `open()` and the sweep's start and stop are for any thread. A sweep is a chain of writer
// operations, each queued only once the previous is durable, so a normal write waits at most
// about one slice (slice_sets sets or slice_time).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_metrics.h"
#include "broker/ledger.h"
#include "broker/open_segment_sets.h"
#include "broker/registry.h"
#include "broker/types.h"
#include "storage/store.h"

namespace msgin5g::broker {

class SegmentAssembly {
 public:
  struct Options {
    std::size_t max_open = 100000;
    std::size_t max_open_per_originator = 1000;
    std::size_t max_reassembled_bytes = 4u << 20;
    std::chrono::milliseconds timeout{60000};
    std::size_t slice_sets = 256;
    std::chrono::microseconds slice_time{5000};
    std::int64_t default_ttl_ms = 86'400'000;  // how long a segment's answer is remembered
  };
  // Accepts the reassembled message `whole` (idempotency key `key`) into `out`. Writer thread.
  using AcceptWhole = std::function<Status(storage::Txn& txn, const Message& whole,
                                           const std::string& key, AcceptOutcome* out)>;

  // `ledger` (reports of timed-out sets, and the sweep's writes), `registry` (the first segment
  // of a set checks its recipient) and `metrics` must outlive this.
  SegmentAssembly(Options options, Ledger& ledger, const Registry& registry,
                  BrokerMetrics& metrics);

  // The sets open on disk, from the store's recovery. Writer thread, before any segment.
  void Load(const std::vector<storage::SegmentSetRecord>& open_sets);

  // Takes segment `m` (m.segment set) from `m.origin`: stored, or completing its set, in which
  // case `accept_whole` accepts the reassembled message and its answer is this segment's.
  // Writer thread.
  Status Accept(storage::Txn& txn, const Message& m, AcceptOutcome* out,
                const AcceptWhole& accept_whole);

  // What a sweep of timed-out sets did.
  struct SweepResult {
    std::size_t sets = 0;    // sets dropped
    std::size_t slices = 0;  // writer operations it took
    bool stopped = false;    // ended by Stop (or a storage failure) before it was done
  };
  // Starts a sweep now; `done`, if set, runs (on the storage sync thread) when it ended. False,
  // and `done` is not called, when a sweep is already running or after Stop.
  bool Sweep(std::function<void(SweepResult)> done = nullptr);
  // No new sweep, and a running one stops at its next slice (what is left is swept after the
  // next start). Idempotent.
  void Stop() { stop_.store(true); }

  std::size_t open() const { return open_count_.load(); }  // any thread

 private:
  struct Run;
  void SubmitSlice(std::shared_ptr<Run> run);
  // One slice: drops timed-out sets, oldest first, within the slice bounds. True when timed-out
  // sets remain. Writer thread.
  bool Slice(storage::Txn& txn, Run& run);
  // Refuses a segment that would open one more set past the bounds. Writer thread.
  Status AdmitNewSet(const Address& origin);
  // After open_ changed: its gauge and size.
  void OpenChanged();
  bool TimedOut(const storage::SegmentSetRecord* s, std::int64_t now_ms) const {
    return s != nullptr && now_ms - s->first_seen_ms >= options_.timeout.count();
  }

  const Options options_;
  Ledger& ledger_;
  const Registry& registry_;
  BrokerMetrics& metrics_;
  OpenSegmentSets open_;  // writer thread
  std::atomic<std::size_t> open_count_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> sweeping_{false};  // a sweep's slices are queued or running
};

}  // namespace msgin5g::broker
