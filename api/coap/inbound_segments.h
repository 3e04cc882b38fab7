// Segment recovery for UE-originated segmented messages (TS 23.554 8.5.3, TS 24.538 SEGREC /
// SEGCONFIR). The broker stores each segment durably and reassembles the set when the last one
// arrives; what it does not do is notice a set that stalls. A UE sending non-confirmable
// segments, or one that lost track after a reboot, would leave the set to expire unseen. This
// tracker remembers which segment numbers each UE's open sets have, and when a set has been
// silent for `recovery_after` it says so: the CoAP endpoint then asks the UE for exactly the
// missing ones (SEGREC), up to `max_requests` times, and finally tells it the set failed
// (SEGCONFIR FAILURE). A set that needed a SEGREC and then completes is confirmed (SEGCONFIR
// SUCCESS), so that the UE can let its copy go.
//
// In memory only, on purpose: after a restart the stored segments still complete the set if the
// UE resends them, or expire after broker.segment_timeout with a failure report; only the
// recovery prompts are lost. Bounded by `max_sets` (new sets beyond it are not tracked).
// Not thread-safe: the CoAP I/O thread owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace msgin5g::api::coap {

class InboundSegments {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds recovery_after{5000};  // silence before a SEGREC
    int max_requests = 3;                             // SEGRECs before giving up
    std::size_t max_sets = 10000;  // x up to 8 KiB each (65535 segment flags)
    std::size_t max_missing_listed = 128;  // numbers in one SEGREC (one datagram)
    // A finished set (complete or given up) is remembered this long, so that a repeated or late
    // segment of it does not open it again (the broker answers a repeat 2.01 from its
    // idempotency record). The broker's segment timeout is the natural value.
    std::chrono::milliseconds remember_finished{60000};
  };

  // What the endpoint should send to a UE.
  struct Action {
    enum class Kind { kRequest, kConfirmSuccess, kConfirmFailure };
    Kind kind = Kind::kRequest;
    std::string ue;
    std::string seg_id;
    std::vector<std::uint32_t> missing;  // kRequest, kConfirmFailure
  };

  explicit InboundSegments(Options options) : options_(options) {}

  // Segment `number` of `total` in `ue`'s set `seg_id` is stored. `total` 0: not known from
  // this segment (only the first carries totalSegCount, and the last tells it by lastSegFlag);
  // until some segment tells it, the missing ones are the gaps below the highest number seen.
  // When this completes a set that was asked for (a SEGREC went out), returns the SUCCESS
  // confirmation to send.
  std::vector<Action> Stored(const std::string& ue, const std::string& seg_id, std::uint32_t total,
                             std::uint32_t number, Clock::time_point now);

  // Sets silent for `recovery_after`: a SEGREC each, or the FAILURE confirmation after
  // `max_requests` of them (the set is then forgotten).
  std::vector<Action> Due(Clock::time_point now);

  // The UE answered a SEGREC with a refusal (it no longer has the set): stop asking, and do not
  // open the set again.
  void Forget(const std::string& ue, const std::string& seg_id);
  // The UE deregistered.
  void ForgetUe(const std::string& ue);

  std::size_t size() const { return sets_.size(); }
  std::size_t finished() const { return finished_.size(); }

 private:
  struct Set {
    std::uint32_t total = 0;  // 0: not known yet
    std::vector<bool> have;   // total flags once known, else up to the highest number seen
    std::uint32_t count = 0;
    int requests = 0;
    Clock::time_point last_progress;
  };
  std::vector<std::uint32_t> Missing(const Set& s) const;
  void Finish(std::pair<std::string, std::string> key, Clock::time_point now);
  bool Finished(const std::pair<std::string, std::string>& key, Clock::time_point now);

  Options options_;
  std::map<std::pair<std::string, std::string>, Set> sets_;  // (ue, segId)
  // Finished sets, oldest first (bounded by max_sets as well as by time).
  std::map<std::pair<std::string, std::string>, Clock::time_point> finished_;
  std::deque<std::pair<std::pair<std::string, std::string>, Clock::time_point>> finished_order_;
};

}  // namespace msgin5g::api::coap
