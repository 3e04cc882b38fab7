#include "gateway/outbox.h"

#include <algorithm>
#include <cstdio>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/logging.h"

namespace msgin5g::gateway {

namespace json = boost::json;

namespace {
// Keys sort in submission order: a 16-digit hex sequence after the prefix.
std::string SeqKey(const std::string& prefix, std::uint64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(seq));
  return prefix + buf;
}
}  // namespace

Outbox::Outbox(boost::asio::io_context& ioc, Store& store, Options options, Handler handler,
               Exhausted exhausted)
    : ioc_(ioc),
      store_(store),
      options_(std::move(options)),
      handler_(std::move(handler)),
      exhausted_(std::move(exhausted)),
      timer_(ioc) {
  // Sequences continue from the wall clock (microseconds) so that keys made after a restart sort
  // after the stored ones even if every stored job is gone.
  next_seq_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
}

Outbox::~Outbox() { *alive_ = false; }

void Outbox::Start() {
  started_ = true;
  std::string after;
  for (;;) {
    auto page = store_.Scan(options_.prefix, 1024, after);
    for (auto& [key, value] : page) {
      boost::system::error_code ec;
      json::value v = json::parse(value, ec);
      if (ec || !v.is_object()) {
        LOG_ERROR("outbox", "%s: stored job %s is not a JSON object; left in place",
                  options_.name.c_str(), key.c_str());
        continue;
      }
      Entry e;
      e.job.key = key;
      e.job.rec = std::move(v.as_object());
      if (auto* a = e.job.rec.if_contains("attempts"); a != nullptr && a->is_int64()) {
        e.job.attempts = static_cast<std::uint32_t>(a->as_int64());
      }
      e.due = Clock::now();
      ++stats_.replayed;
      waiting_.emplace(e.due, key);
      jobs_.emplace(key, std::move(e));
    }
    if (page.size() < 1024) break;
    after = page.back().first;
  }
  if (!jobs_.empty()) {
    LOG_INFO("outbox", "%s: %zu stored jobs resume", options_.name.c_str(), jobs_.size());
    // Continue after the last stored key whatever the clock says.
    const std::string& last = jobs_.rbegin()->first;
    std::uint64_t seq = std::strtoull(last.c_str() + options_.prefix.size(), nullptr, 16);
    next_seq_ = std::max(next_seq_, seq + 1);
  }
  Pump();
}

void Outbox::Stop() {
  stopped_ = true;
  timer_.cancel();
}

std::string Outbox::Prepare(Batch& batch, const json::object& rec) {
  std::string key = SeqKey(options_.prefix, next_seq_++);
  batch.Put(key, json::serialize(rec));
  return key;
}

void Outbox::Adopt(const std::string& key, json::object rec) {
  Entry e;
  e.job.key = key;
  e.job.rec = std::move(rec);
  e.due = Clock::now();
  waiting_.emplace(e.due, key);
  jobs_.emplace(key, std::move(e));
  ++stats_.enqueued;
  Pump();
}

void Outbox::Persist(const Job& job, std::function<void(Status)> done) {
  Batch b;
  json::object rec = job.rec;
  rec["attempts"] = job.attempts;
  b.Put(job.key, json::serialize(rec));
  store_.Write(std::move(b), [this, alive = alive_, done = std::move(done)](Status st) mutable {
    boost::asio::post(ioc_, [alive, done = std::move(done), st]() {
      if (*alive) done(st);
    });
  });
}

void Outbox::Schedule(const std::string& key, Clock::time_point due) {
  Entry& e = jobs_.at(key);
  e.due = due;
  waiting_.emplace(due, key);
}

void Outbox::Kick() {
  const auto now = Clock::now();
  std::set<std::pair<Clock::time_point, std::string>> again;
  for (const auto& [due, key] : waiting_) {
    again.emplace(std::min(due, now), key);
    jobs_.at(key).due = std::min(due, now);
  }
  waiting_.swap(again);
  Pump();
}

void Outbox::Pump() {
  if (!started_ || stopped_) return;
  const auto now = Clock::now();
  while (!waiting_.empty() && running_.size() < options_.max_in_flight &&
         waiting_.begin()->first <= now) {
    std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    Run(key);
  }
  ArmTimer();
}

void Outbox::ArmTimer() {
  if (waiting_.empty() || running_.size() >= options_.max_in_flight) return;
  timer_.expires_at(waiting_.begin()->first);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Pump();
  });
}

void Outbox::Run(const std::string& key) {
  Entry& e = jobs_.at(key);
  running_.insert(key);
  ++e.job.attempts;
  handler_(e.job, [this, alive = alive_, key](Outcome outcome) {
    boost::asio::post(ioc_, [this, alive, key, o = std::move(outcome)]() mutable {
      if (*alive) Finished(key, std::move(o));
    });
  });
}

void Outbox::Finished(const std::string& key, Outcome outcome) {
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return;
  Entry& e = it->second;
  if (outcome.kind == Outcome::Kind::kRetry && e.job.attempts >= options_.max_attempts) {
    LOG_WARN_LIMITED("outbox", "%s: %s gives up after %u attempts: %s", options_.name.c_str(),
                     key.c_str(), e.job.attempts, outcome.cause.c_str());
    std::string cause = outcome.cause;
    outcome = exhausted_(e.job);
    outcome.kind = Outcome::Kind::kFailed;
    if (outcome.cause.empty()) outcome.cause = cause;
  }
  if (outcome.kind == Outcome::Kind::kRetry) {
    ++stats_.retries;
    running_.erase(key);
    e.backoff = e.backoff.count() == 0 ? options_.retry_initial
                                       : std::min(options_.retry_max, e.backoff * 2);
    auto delay = std::max(e.backoff, outcome.retry_after);
    Schedule(key, Clock::now() + delay);
    Pump();
    return;
  }
  (outcome.kind == Outcome::Kind::kDone ? stats_.done : stats_.failed)++;
  Batch b = std::move(outcome.then);
  b.Delete(key);
  store_.Write(std::move(b), [this, alive = alive_, key,
                              committed = std::move(outcome.committed)](Status st) mutable {
    boost::asio::post(ioc_, [this, alive, key, st, committed = std::move(committed)]() {
      if (!*alive) return;
      running_.erase(key);
      if (!st.ok()) {
        // Not recorded: the job stays and runs again later (its outcome may repeat).
        LOG_WARN_LIMITED("outbox", "%s: cannot record the outcome of %s: %s",
                         options_.name.c_str(), key.c_str(), st.message().c_str());
        Schedule(key, Clock::now() + options_.retry_max);
        Pump();
        return;
      }
      jobs_.erase(key);
      if (committed) committed();
      Pump();
    });
  });
}

}  // namespace msgin5g::gateway
