// One entry delivered as segments (TS 23.554 8.4.2): its payload split to the destination's
// segment size, the parts sent a window at a time, the answers combined into one result.
//
// A retry is a fresh set (segment id "MSGID~N" for attempt N): the receiver may have dropped the
// previous partial set (its reassembly timeout) yet still remember those segments as seen. The
// first failure stops new parts; the result waits for the parts still out, and the worst answer
// decides (permanent over transient over requeue over delivered), with the longest Retry-After.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/delivery.h"

namespace msgin5g::broker {

// Splits `payload` into parts of at most `max` bytes, never inside a UTF-8 sequence (payloads are
// JSON strings). max == 0 or a payload that fits: one part.
std::vector<std::string_view> SplitPayload(std::string_view payload, std::size_t max);

// The msgId of part `number` of set `seg_id` ("{segId}#{number}"): each part is a request of its
// own, and its msgId must differ from its siblings' and from an earlier attempt's.
std::string SegmentMessageId(const std::string& seg_id, std::uint32_t number);

// The message a segment's or a set's id names: "M#n" (a part), "M~a" (the set of attempt a, as a
// receiver that reassembled it names the whole) and "M~a#n" give M; anything else nullopt. A
// receiver's report about one of those ids is a report about M.
std::optional<std::string> MessageIdOfSegmentId(std::string_view id);

// How bad an answer is, for combining the answers to several parts.
int Severity(DeliveryResult::Kind k);

class SegmentedSend {
 public:
  // At most this many parts in flight: a tiny segment size must not turn one entry into
  // thousands of concurrent streams.
  static constexpr std::size_t kWindow = 8;

  // `parts` point into the message's payload, which must outlive this object. `attempts`: the
  // entry's failed attempts so far.
  SegmentedSend(std::vector<std::string_view> parts, const std::string& msg_id,
                std::uint32_t attempts);

  // The next part to send and its segment header, while the window has room, no part failed and
  // parts are left.
  std::optional<std::pair<std::string_view, SegmentInfo>> Next();

  // Records one part's answer. True when the set is done (every part answered, or a failure and
  // nothing left out): TakeResult() is then the entry's outcome.
  bool OnAnswer(DeliveryResult r);
  DeliveryResult TakeResult() { return std::move(worst_); }

  const std::string& segment_id() const { return seg_id_; }
  std::size_t in_flight() const { return in_flight_; }

 private:
  std::vector<std::string_view> parts_;
  std::string seg_id_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  DeliveryResult worst_;
};

}  // namespace msgin5g::broker
