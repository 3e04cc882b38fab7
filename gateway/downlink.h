// What msgin5gd hands the gateway (MSGG_*Delivery deliver-message and deliver-report), after the
// HTTP layer checked the body: the intake makes it durable exactly once and gives it to the role
// (L3G / N3G / BG) that turns it into SMS or MQTT work.
//
// Intake, in order, on the gateway's core io_context:
//  1. Idempotency: a message already accepted (same oriAddr + msgId, within api.idempotency_ttl_s)
//     is answered 204 again and nothing new is stored (msgin5gd retries when it missed our 204).
//  2. Segments (segInd): each is stored as it arrives and answered 204; the set is put together
//     when its last one is in (TS 29.538 segParams), and only then handed to the role, so a long
//     message becomes one SMS conversation. An incomplete set is dropped after
//     gateway.segment_timeout_s, with a REPT_DELY_FAILED report when one was asked for.
//  3. The role admits it (recipient known, payload convertible: else a ProblemDetails) and adds
//     its job to the same batch as the idempotency record; 204 after the batch is fsync'd.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/http/message.h"
#include "api/sbi/models.h"
#include "gateway/store.h"

namespace msgin5g::gateway {

class Uplink;

struct Downlink {
  enum class Kind { kMessage, kReport };
  Kind kind = Kind::kMessage;
  api::sbi::Address ori;
  api::sbi::Address dest;
  std::string msg_id;
  std::optional<std::string> app_id;
  std::string payload;
  bool report_wanted = false;
  std::string priority;  // BG only
  // kReport:
  std::string deliv_st;
  std::optional<std::string> failure_cause;
};

struct SegmentOf {
  std::string seg_id;
  std::uint32_t total = 0;  // 0: this segment does not say (only the first and last must)
  std::uint32_t number = 0;
};

class Role {
 public:
  virtual ~Role() = default;
  virtual const char* name() const = 0;  // "l3g", "n3g", "bg"
  // Whether `d` can be served (nullopt) or the ProblemDetails answer (e.g. 404 for a UE with no
  // MSISDN). On the core io_context.
  virtual std::optional<api::http::Response> Admit(const Downlink& d) = 0;
  // Adds the work for `d` to `batch`; returns what to run once the batch is durable (on the core
  // io_context).
  virtual std::function<void()> Prepare(Batch& batch, const Downlink& d) = 0;
};

class DownlinkIntake {
 public:
  struct Options {
    std::chrono::seconds idempotency_ttl{86400};
    std::chrono::seconds segment_timeout{300};
    std::size_t max_open_segment_sets = 10000;
    std::size_t max_open_segment_bytes = 64u << 20;
  };
  struct Stats {
    std::uint64_t accepted = 0, duplicates = 0, segments = 0, sets_completed = 0,
                  sets_expired = 0, refused = 0;
  };

  DownlinkIntake(boost::asio::io_context& core, Store& store, Uplink& uplink, Options options);
  ~DownlinkIntake();
  // Loads the stored segments of open sets and starts the sweeps. On the core io_context.
  void Start();
  void Stop();

  // From any thread; `done` (any thread) gets 204 or a ProblemDetails.
  void Submit(Role& role, Downlink d, std::optional<SegmentOf> seg,
              std::function<void(api::http::Response)> done);

  const Stats& stats() const { return stats_; }
  std::size_t open_segment_sets() const { return sets_.size(); }

 private:
  struct OpenSet {
    std::uint32_t total = 0;  // 0: no segment said yet
    std::map<std::uint32_t, std::string> payloads;  // what arrived, by segment number
    std::size_t bytes = 0;
    std::chrono::steady_clock::time_point first;
    Downlink head;  // the message fields (the first segment's)
    Role* role = nullptr;
  };
  using Done = std::function<void(api::http::Response)>;

  void OnCore(Role& role, Downlink d, std::optional<SegmentOf> seg, Done done);
  void AcceptWhole(Role& role, Downlink d, Batch batch, Done done);
  void OnSegment(Role& role, Downlink d, const SegmentOf& seg, Done done);
  void Commit(Batch batch, std::function<void()> then, std::string idem_key, Done done);
  std::string IdemKey(const Downlink& d) const;
  void Sweep();

  boost::asio::io_context& core_;
  Store& store_;
  Uplink& uplink_;
  Options options_;
  std::map<std::string, OpenSet> sets_;  // by "ori\nsegId"
  std::size_t open_bytes_ = 0;
  // Idempotency keys whose batch is not yet durable, with the answers waiting on it.
  std::map<std::string, std::vector<Done>> pending_;
  boost::asio::steady_timer sweep_timer_;
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<std::string, Role*> roles_by_name_;  // for sets recovered at start
 public:
  // Roles that recovered segment sets may be handed to (by Role::name()). Before Start.
  void AddRole(Role& r) { roles_by_name_[r.name()] = &r; }
};

}  // namespace msgin5g::gateway
