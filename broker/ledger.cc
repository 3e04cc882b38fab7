#include "broker/ledger.h"

#include <algorithm>
#include <optional>

#include "broker/stored_names.h"
#include "common/clock.h"
#include "common/logging.h"

namespace msgin5g::broker {

using storage::MessageKind;
using storage::MessageRecord;
using storage::Txn;

Ledger::Ledger(storage::Store& store, const QueueLimits& limits, std::int64_t default_ttl_ms,
               BrokerMetrics& metrics)
    : store_(store),
      limits_(limits),
      default_ttl_ms_(default_ttl_ms),
      metrics_(metrics),
      usage_(limits_) {}

void Ledger::AddRecovered(const storage::QueueEntryRecord& q) {
  recovered_seqs_.push_back(q.seq);
  std::lock_guard<std::mutex> lock(usage_mu_);
  usage_.Add(q.recipient, q.payload_bytes);
}

void Ledger::FinishRecovery() {
  // Sorted sequence numbers: a run of equal ones is a fan-out message's entries.
  auto& seqs = recovered_seqs_;
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t i = 0; i < seqs.size();) {
    std::size_t j = i;
    while (j < seqs.size() && seqs[j] == seqs[i]) ++j;
    TrackFanOut(seqs[i], static_cast<std::uint32_t>(j - i));
    i = j;
  }
  seqs = {};
}

void Ledger::SetTotals(const std::uint64_t by_priority[3], std::uint64_t bytes) {
  for (std::size_t i = 0; i < 3; ++i) queued_[i] = by_priority[i];
  queued_bytes_ = bytes;
  UpdateMetrics();
}

void Ledger::Submit(storage::Store::Op fn, storage::Store::Done done, std::size_t bytes_hint,
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
          for (const auto& a : after->accepted) metrics_.Accepted(a.operation, a.dest, a.outcome);
          if (engine_ && !after->queued.empty()) engine_->Add(std::move(after->queued));
        }
        if (done) done(st);
      },
      bytes_hint, bounded);
}

Status Ledger::AdmitQueued(std::uint64_t entries, std::uint64_t bytes) {
  const QueueLimits& l = limits_;
  const std::uint64_t n = TotalQueued();
  if (n + entries > l.max_queued_messages) {
    metrics_.Refused("queued_messages");
    return Status::ResourceExhausted("the queues hold " + std::to_string(n) +
                                     " entries (broker.max_queued_messages " +
                                     std::to_string(l.max_queued_messages) +
                                     "): nothing new until messages are delivered or expire");
  }
  const std::uint64_t b = queued_bytes_.load();
  if (b + bytes > l.max_queued_bytes) {
    metrics_.Refused("queued_bytes");
    return Status::ResourceExhausted("the queues hold " + std::to_string(b) +
                                     " payload bytes (broker.max_queued_bytes " +
                                     std::to_string(l.max_queued_bytes) +
                                     "): nothing new until messages are delivered or expire");
  }
  return Status::Ok();
}

void Ledger::Enqueue(Txn& txn, const std::shared_ptr<const MessageRecord>& m, const Address& r,
                     std::int64_t due_ms) {
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

void Ledger::QueueReport(Txn& txn, const Address& to, const Address& about_recipient,
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
  r.expiry_ms = now_ms + default_ttl_ms_;
  r.report_status = status;
  r.failure_cause = cause;
  r.recipient_count = 1;
  txn.PutMessage(r);
  Enqueue(txn, rp, to, now_ms);
}

void Ledger::UpdateMetrics() {
  metrics_.Queued(queued_, queued_bytes_.load());
  metrics_.Usage("queued_messages", static_cast<double>(TotalQueued()));
  metrics_.Usage("queued_bytes", static_cast<double>(queued_bytes_.load()));
  metrics_.Recipients(usage_);
}

void Ledger::Finish(const storage::QueueEntryRecord& entry,
                    std::shared_ptr<const MessageRecord> message, Final final, std::string cause,
                    std::function<void(Status)> done) {
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
        UpdateMetrics();
        return Status::Ok();
      },
      std::move(done), 0, /*bounded=*/false);
}

void Ledger::RecordUndelivered(storage::Txn& txn, const MessageRecord& m,
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

void Ledger::Reschedule(const storage::QueueEntryRecord& entry, std::int64_t due_ms,
                        std::uint32_t attempts, std::function<void(Status)> done) {
  Submit(
      [entry, due_ms, attempts](Txn& txn) {
        txn.RescheduleEntry(entry, due_ms, attempts);
        return Status::Ok();
      },
      std::move(done), 0, /*bounded=*/false);
}

void Ledger::LoadMessages(
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

QueueList Ledger::ListQueues(std::size_t limit) const {
  QueueList out;
  std::lock_guard<std::mutex> lock(usage_mu_);
  out.recipients = usage_.recipients();
  for (auto& [recipient, use] : usage_.Largest(limit)) {
    out.largest.push_back({std::move(recipient), use.messages, use.bytes});
  }
  return out;
}

}  // namespace msgin5g::broker
