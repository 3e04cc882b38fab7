// A durable queue of work the gateway accepted and has not yet handed on: SMS to submit, MQTT
// messages to publish, messages and reports to pass to msgin5gd. One Outbox per kind of work,
// each its own key prefix in the Store.
//
// A job is written to the Store (fsync'd) before whoever gave it is answered; it leaves the
// Store only in the same atomic batch that records what came of it (a receipt to wait for, a
// report to pass on). So kill -9 at any point loses nothing: on start, every stored job is run
// again. The price is that a job whose outcome was not yet recorded may run twice (counted as
// `replayed`); the handlers make that rare and bounded (SMS parts already accepted are kept in the
// job as they go).
//
// Threads: everything runs on the io_context given at construction, the handler too; Store
// completions are posted back to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "gateway/store.h"

namespace msgin5g::gateway {

class Outbox {
 public:
  using Clock = std::chrono::steady_clock;

  struct Job {
    std::string key;
    boost::json::object rec;  // the stored record; handlers may update it (Persist)
    std::uint32_t attempts = 0;  // runs so far, this one included
  };

  // What came of one run.
  struct Outcome {
    enum class Kind { kDone, kRetry, kFailed };
    Kind kind = Kind::kDone;
    // Written atomically with the job's deletion (kDone, kFailed): what the outcome leads to.
    Batch then;
    // Run on the io_context once `then` is durable (e.g. another Outbox adopting a job put in it).
    std::function<void()> committed;
    // kRetry: at least this long before the next run (Retry-After); else the backoff.
    std::chrono::milliseconds retry_after{0};
    std::string cause;  // kRetry / kFailed: why, for the log
  };
  using Finish = std::function<void(Outcome)>;
  // Runs one job; must call `finish` exactly once (possibly later, on the io_context).
  using Handler = std::function<void(Job& job, Finish finish)>;
  // A job that ran max_attempts times without kDone is given to `exhausted`, which returns the
  // batch its failure leads to (e.g. a failure report); it is then deleted.
  using Exhausted = std::function<Outcome(Job& job)>;

  struct Options {
    std::string name;    // for logs and metrics: "sms", "mqtt", "uplink"
    std::string prefix;  // key prefix, e.g. "ob/sms/"
    std::size_t max_in_flight = 16;
    std::chrono::milliseconds retry_initial{1000};
    std::chrono::milliseconds retry_max{60000};
    std::uint32_t max_attempts = 100;
  };

  struct Stats {
    std::uint64_t enqueued = 0, done = 0, failed = 0, retries = 0, replayed = 0;
  };

  Outbox(boost::asio::io_context& ioc, Store& store, Options options, Handler handler,
         Exhausted exhausted);
  ~Outbox();

  // Loads every stored job (a restart: they run again) and starts. Call once, on the io_context.
  void Start();
  // Stops running jobs (those in flight finish; nothing new starts). On the io_context.
  void Stop();

  // A new job: adds its record to `batch` and returns its key; once the caller's batch is durable
  // the caller calls Adopt(key, rec) (on the io_context) and the job is run.
  std::string Prepare(Batch& batch, const boost::json::object& rec);
  void Adopt(const std::string& key, boost::json::object rec);
  // Writes the job's current record (progress a retry must not redo), then `done` on the
  // io_context.
  void Persist(const Job& job, std::function<void(Status)> done);
  // Runs every waiting job now (e.g. the SMSC bind came up), backoff or not.
  void Kick();

  std::size_t size() const { return jobs_.size(); }
  std::size_t in_flight() const { return running_.size(); }
  const Stats& stats() const { return stats_; }
  const std::string& name() const { return options_.name; }

 private:
  struct Entry {
    Job job;
    Clock::time_point due;
    std::chrono::milliseconds backoff{0};
  };
  void Schedule(const std::string& key, Clock::time_point due);
  void Pump();
  void Run(const std::string& key);
  void Finished(const std::string& key, Outcome outcome);
  void ArmTimer();

  boost::asio::io_context& ioc_;
  Store& store_;
  Options options_;
  Handler handler_;
  Exhausted exhausted_;
  std::map<std::string, Entry> jobs_;   // by key (= submission order)
  std::set<std::string> running_;
  // Waiting jobs by due time (each job is either here or in running_): Pump takes from the front,
  // so a backlog of a million costs log n per job, not a scan.
  std::set<std::pair<Clock::time_point, std::string>> waiting_;
  boost::asio::steady_timer timer_;
  std::uint64_t next_seq_ = 0;
  bool started_ = false, stopped_ = false;
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msgin5g::gateway
