#include "broker/segment_assembly.h"

#include <algorithm>

#include "broker/stored_names.h"
#include "common/clock.h"
#include "common/logging.h"

namespace msgin5g::broker {

using storage::IdempotencyRecord;
using storage::Txn;

// One sweep across its slices. Touched by one slice at a time (writer thread, then that slice's
// done on the sync thread, which queues the next: ordered by the store's locks).
struct SegmentAssembly::Run {
  std::function<void(SweepResult)> done;
  SweepResult result;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool more = false;  // set by the last slice
};

SegmentAssembly::SegmentAssembly(Options options, Ledger& ledger, const Registry& registry,
                                 BrokerMetrics& metrics)
    : options_(std::move(options)), ledger_(ledger), registry_(registry), metrics_(metrics) {}

void SegmentAssembly::Load(const std::vector<storage::SegmentSetRecord>& open_sets) {
  // The bounds count what is open on disk, across restarts.
  for (const auto& s : open_sets) open_.Put(s);
  OpenChanged();
}

void SegmentAssembly::OpenChanged() {
  metrics_.OpenSets(open_.size());
  open_count_ = open_.size();
}

Status SegmentAssembly::Accept(Txn& txn, const Message& m, AcceptOutcome* out,
                               const AcceptWhole& accept_whole) {
  const auto& seg = *m.segment;
  const std::int64_t now = UnixMillis();
  auto set = txn.GetSegmentSet(m.origin, seg.segment_id);
  // The set's size: totalSegCount is required on the first segment only (TS 23.554 8.5) and may
  // repeat on others; the segment with lastSegFlag says it too (its number). Whatever says it
  // must agree with what was said before and with the numbers already received.
  std::uint32_t told = seg.total;
  if (seg.last) {
    if (told != 0 && told != seg.number) {
      return Status::InvalidArgument("lastSegFlag on segment " + std::to_string(seg.number) +
                                     " of a set of " + std::to_string(told));
    }
    told = seg.number;
  }
  if (set) {
    if (told != 0 && set->total != 0 && told != set->total) {
      return Status::InvalidArgument("totalSegCount " + std::to_string(told) +
                                     " differs from the set's " + std::to_string(set->total));
    }
    if (told != 0 && set->max_number > told) {
      return Status::InvalidArgument("a set of " + std::to_string(told) + " segments, but segment " +
                                     std::to_string(set->max_number) + " was received");
    }
    if (set->total != 0 && seg.number > set->total) {
      return Status::InvalidArgument("segment " + std::to_string(seg.number) + " of a set of " +
                                     std::to_string(set->total));
    }
    if (set->destination != m.destination) {
      return Status::InvalidArgument("segment destination differs from the set's");
    }
  }
  if (!set) {
    // Check before storing anything: an unknown recipient is refused on the first segment.
    std::vector<Registry::Resolved> probe;
    Status st = registry_.Resolve(m.destination, now, &probe);
    if (!st.ok()) return st;
    // A set that stays open after this segment counts against the bounds (a single-segment set
    // completes at once and is never held).
    if (told != 1) MSGIN5G_RETURN_IF_ERROR(AdmitNewSet(m.origin));
    set = storage::SegmentSetRecord{m.origin, seg.segment_id, m.destination, m.msg_id, now,
                                    told, 0, m.report_requested};
  }
  if (set->total == 0) set->total = told;
  if (seg.number == 1) {
    // The first segment carries the message-level fields: the failure report of a set that
    // times out names its msgId, and goes out only if it asked for reports.
    set->msg_id = m.msg_id;
    set->report_requested = m.report_requested;
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
    set->max_number = std::max(set->max_number, seg.number);
  }
  out->kind = AcceptOutcome::Kind::kAccepted;
  const auto key = std::make_pair(m.origin, seg.segment_id);
  if (set->total == 0 || set->received < set->total) {
    txn.PutSegmentSet(*set);
    open_.Put(*set);
    OpenChanged();
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
    Status st = accept_whole(txn, whole, whole_key, out);
    out->remembered = true;  // the set is consumed: this segment's answer is final
    // Refused (e.g. the recipient is gone): the store rolls this operation back, so the set stays
    // open on disk and must stay in open_ too (swept on timeout like any other).
    if (!st.ok()) return st;
    open_.Erase(key);
    OpenChanged();
    // The completing segment's answer points at the reassembled message (earlier segments' answers
    // say only that the segment was taken).
    if (auto whole_idem = txn.GetIdempotency(m.origin, whole_key)) idem.seq = whole_idem->seq;
  }
  idem.outcome = ToStored(out->kind);
  idem.failure_cause = out->failure_cause;
  idem.expiry_ms = now + options_.default_ttl_ms;
  txn.PutIdempotency(m.origin, m.msg_id, idem);
  return Status::Ok();
}

Status SegmentAssembly::AdmitNewSet(const Address& origin) {
  if (open_.size() >= options_.max_open) {
    metrics_.RefusedSet(false);
    return Status::ResourceExhausted(
        "too many open segment sets (" + std::to_string(open_.size()) +
        ", broker.max_open_segment_sets): no new set until others complete or time out");
  }
  const std::size_t mine = open_.CountFrom(origin);
  if (mine >= options_.max_open_per_originator) {
    metrics_.RefusedSet(true);
    return Status(StatusCode::kRateLimited,
                  "originator " + origin.id + " has " + std::to_string(mine) +
                      " open segment sets (broker.max_open_segment_sets_per_originator): no new "
                      "set until its others complete or time out");
  }
  return Status::Ok();
}

bool SegmentAssembly::Sweep(std::function<void(SweepResult)> done) {
  if (stop_.load() || sweeping_.exchange(true)) return false;
  auto run = std::make_shared<Run>();
  run->done = std::move(done);
  SubmitSlice(std::move(run));
  return true;
}

void SegmentAssembly::SubmitSlice(std::shared_ptr<Run> run) {
  // Not bounded by the queue limit: one slice at most is queued at any time (the next is queued
  // only when this one is durable), behind the writes that arrived meanwhile.
  ledger_.Submit(
      [this, run](Txn& txn) {
        if (!stop_.load()) {
          run->more = Slice(txn, *run);
        } else {  // stopped before this slice: say whether anything was left undone
          run->more = TimedOut(open_.Oldest(), UnixMillis());
        }
        return Status::Ok();
      },
      [this, run](Status st) {
        if (st.ok() && run->more && !stop_.load()) return SubmitSlice(run);
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

bool SegmentAssembly::Slice(Txn& txn, Run& run) {
  const std::int64_t now = UnixMillis();
  const auto deadline = std::chrono::steady_clock::now() + options_.slice_time;
  std::size_t n = 0;
  // Oldest first: the first set not yet timed out ends the sweep.
  while (TimedOut(open_.Oldest(), now)) {
    if (n >= options_.slice_sets || (n > 0 && std::chrono::steady_clock::now() >= deadline)) {
      break;
    }
    const storage::SegmentSetRecord s = *open_.Oldest();
    txn.TakeSegments(s.origin, s.seg_id);
    txn.DeleteSegmentSet(s);
    if (s.report_requested) {
      ledger_.QueueReport(txn, s.origin, s.destination, s.msg_id, storage::ReportStatus::kFailed,
                          "segment reassembly timed out (" + std::to_string(s.received) + " of " +
                              (s.total != 0 ? std::to_string(s.total) : std::string("?")) +
                              " segments)",
                          now);
    }
    LOG_DEBUG("broker", "segment set %s from %s timed out with %u of %u segments",
              s.seg_id.c_str(), s.origin.id.c_str(), s.received, s.total);
    open_.Erase(OpenSegmentSets::KeyOf(s));
    ++n;
  }
  ++run.result.slices;
  run.result.sets += n;
  metrics_.ExpiredSets(n);
  OpenChanged();
  ledger_.UpdateMetrics();  // failure reports queued above
  return TimedOut(open_.Oldest(), now);
}

}  // namespace msgin5g::broker
