// The segments recently sent to UEs, kept so that a UE's SEGREC (it lost some of a set it was
// receiving: a reboot between segments, a reassembly buffer it had to drop) can be answered by
// sending exactly those again. Every segment was acknowledged when it went out, so the broker
// has finished with them; this is a best-effort, bounded window: `max_bytes` in total, each set
// for `keep_for` after its last segment went out, dropped early when the UE confirms the set
// (SEGCONFIR). A SEGREC for anything older is refused (the set cannot be recovered).
// Not thread-safe: the CoAP I/O thread owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

namespace msgin5g::api::coap {

class SentSegments {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::size_t max_bytes = 8u << 20;
    std::chrono::milliseconds keep_for{120000};
  };

  explicit SentSegments(Options options) : options_(options) {}

  // Segment `number` of `ue`'s set `seg_id`, as its request body went out.
  void Sent(const std::string& ue, const std::string& seg_id, std::uint32_t number,
            std::string body, Clock::time_point now);

  // The body of a kept segment, or nullptr.
  const std::string* Find(const std::string& ue, const std::string& seg_id,
                          std::uint32_t number) const;

  // The UE confirmed the set (or gave it up): nothing of it is needed any more.
  void Forget(const std::string& ue, const std::string& seg_id);

  // Drops sets older than `keep_for`, and the oldest while over `max_bytes`.
  void Trim(Clock::time_point now);

  std::size_t bytes() const { return bytes_; }
  std::size_t sets() const { return sets_.size(); }
  std::size_t order_entries() const { return order_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // (ue, segId)
  struct Set {
    std::map<std::uint32_t, std::string> bodies;
    std::size_t bytes = 0;
    Clock::time_point last_sent;
    std::uint64_t generation = 0;  // matches the newest entry for it in order_
  };
  void Erase(std::map<Key, Set>::iterator it);
  void Compact();

  Options options_;
  std::map<Key, Set> sets_;
  // Sets in the order they were last sent to; stale entries (an older generation) are skipped.
  std::deque<std::pair<Key, std::uint64_t>> order_;
  std::uint64_t next_generation_ = 1;
  std::size_t bytes_ = 0;
};

}  // namespace msgin5g::api::coap
