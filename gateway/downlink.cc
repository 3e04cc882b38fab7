#include "gateway/downlink.h"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "api/http/problem.h"
#include "common/logging.h"
#include "gateway/records.h"
#include "gateway/uplink.h"

namespace msgin5g::gateway {

namespace json = boost::json;
using api::http::MakeProblem;
using api::http::Response;
namespace cause = api::http::cause;

namespace {

using rec::NowMs;
using rec::Str;
using rec::ToJson;
api::sbi::Address AddrFrom(const json::value* v) {
  return v != nullptr && v->is_object() ? rec::AddrOf(json::object{{"x", *v}}, "x") : api::sbi::Address{};
}

// msgin5gd names a retried segment set "<msgId>~<attempt>": the whole message is still <msgId>.
std::string MessageIdOfSet(const std::string& seg_id) {
  auto tilde = seg_id.rfind('~');
  if (tilde == std::string::npos || tilde + 1 == seg_id.size()) return seg_id;
  for (std::size_t i = tilde + 1; i < seg_id.size(); ++i) {
    if (seg_id[i] < '0' || seg_id[i] > '9') return seg_id;
  }
  return seg_id.substr(0, tilde);
}

std::string SegmentKey(const std::string& set_key, std::uint32_t n) {
  return std::string(keys::kSegment) + set_key + "\n" + keys::Fixed(n, 5);
}

}  // namespace

DownlinkIntake::DownlinkIntake(boost::asio::io_context& core, Store& store, Uplink& uplink,
                               Options options)
    : core_(core), store_(store), uplink_(uplink), options_(options), sweep_timer_(core) {}

DownlinkIntake::~DownlinkIntake() { *alive_ = false; }

void DownlinkIntake::Start() {
  std::string after;
  for (;;) {
    auto page = store_.Scan(keys::kSegment, 1024, after);
    for (const auto& [key, value] : page) {
      boost::system::error_code ec;
      json::value v = json::parse(value, ec);
      auto nl = key.rfind('\n');
      if (ec || !v.is_object() || nl == std::string::npos) continue;
      const auto& o = v.as_object();
      std::string set_key = key.substr(keys::kSegment.size(), nl - keys::kSegment.size());
      auto role = roles_by_name_.find(Str(o, "role"));
      if (role == roles_by_name_.end()) continue;  // a role since turned off: left to expire
      OpenSet& s = sets_[set_key];
      // Each record holds the total as known when it was stored (0: not yet): the largest wins.
      const auto* total = o.if_contains("total");
      if (total != nullptr && total->is_int64() && total->as_int64() > 0 && total->as_int64() <= 65535) {
        s.total = std::max(s.total, static_cast<std::uint32_t>(total->as_int64()));
      }
      if (s.role == nullptr) {
        s.role = role->second;
        s.first = std::chrono::steady_clock::now();
        s.head.ori = AddrFrom(o.if_contains("ori"));
        s.head.dest = AddrFrom(o.if_contains("dest"));
        s.head.msg_id = Str(o, "msgId");
        if (o.contains("appId")) s.head.app_id = Str(o, "appId");
        s.head.report_wanted = o.contains("report");
      }
      std::string payload = Str(o, "payload");
      s.bytes += payload.size();
      open_bytes_ += payload.size();
      s.payloads[static_cast<std::uint32_t>(std::stoul(key.substr(nl + 1)))] = std::move(payload);
    }
    if (page.size() < 1024) break;
    after = page.back().first;
  }
  if (!sets_.empty()) LOG_INFO("intake", "%zu incomplete segment sets resume", sets_.size());
  Sweep();
}

void DownlinkIntake::Stop() { sweep_timer_.cancel(); }

void DownlinkIntake::Submit(Role& role, Downlink d, std::optional<SegmentOf> seg, Done done) {
  boost::asio::post(core_, [this, alive = alive_, &role, d = std::move(d), seg = std::move(seg),
                            done = std::move(done)]() mutable {
    if (!*alive) return done(MakeProblem(503, cause::kSystemFailure, "the gateway is stopping"));
    OnCore(role, std::move(d), std::move(seg), std::move(done));
  });
}

std::string DownlinkIntake::IdemKey(const Downlink& d) const {
  return std::string(keys::kIdempotency) + keys::Addr(d.ori) + "\n" +
         (d.kind == Downlink::Kind::kReport ? "R" : "M") + d.msg_id;
}

void DownlinkIntake::OnCore(Role& role, Downlink d, std::optional<SegmentOf> seg, Done done) {
  if (seg) return OnSegment(role, std::move(d), *seg, std::move(done));
  AcceptWhole(role, std::move(d), Batch{}, std::move(done));
}

void DownlinkIntake::AcceptWhole(Role& role, Downlink d, Batch batch, Done done) {
  const std::string idem = IdemKey(d);
  if (auto p = pending_.find(idem); p != pending_.end()) {
    ++stats_.duplicates;
    p->second.push_back(std::move(done));  // answered with the first one's outcome
    return;
  }
  if (store_.Get(idem)) {
    ++stats_.duplicates;
    if (!batch.empty()) store_.Write(std::move(batch), [](Status) {});  // a set's leftovers
    return done(Response::Empty(204));
  }
  if (auto refused = role.Admit(d)) {
    ++stats_.refused;
    if (!batch.empty()) store_.Write(std::move(batch), [](Status) {});
    return done(std::move(*refused));
  }
  const std::int64_t exp = NowMs() + options_.idempotency_ttl.count() * 1000;
  batch.Put(idem, std::to_string(exp));
  batch.Put(std::string(keys::kIdempotencyIndex) + keys::Fixed(static_cast<std::uint64_t>(exp), 16) +
                "\n" + idem,
            "");
  std::function<void()> then = role.Prepare(batch, d);
  ++stats_.accepted;
  Commit(std::move(batch), std::move(then), idem, std::move(done));
}

void DownlinkIntake::Commit(Batch batch, std::function<void()> then, std::string idem_key,
                            Done done) {
  pending_[idem_key].push_back(std::move(done));
  store_.Write(std::move(batch), [this, alive = alive_, then = std::move(then),
                                  idem_key](Status st) mutable {
    boost::asio::post(core_, [this, alive, then = std::move(then), idem_key, st]() {
      if (!*alive) return;
      auto waiters = std::move(pending_[idem_key]);
      pending_.erase(idem_key);
      if (st.ok() && then) then();
      for (auto& w : waiters) {
        w(st.ok() ? Response::Empty(204) : api::http::ProblemFromStatus(st));
      }
    });
  });
}

void DownlinkIntake::OnSegment(Role& role, Downlink d, const SegmentOf& seg, Done done) {
  ++stats_.segments;
  // The set is named by its sender and segId; its members' msgIds ("segId#n") are not the
  // message's.
  const std::string set_key = keys::Addr(d.ori) + "\n" + seg.seg_id;
  auto it = sets_.find(set_key);
  if (it == sets_.end()) {
    Downlink probe = d;
    probe.msg_id = MessageIdOfSet(seg.seg_id);
    if (store_.Get(IdemKey(probe))) {  // the whole message was delivered already
      ++stats_.duplicates;
      return done(Response::Empty(204));
    }
    if (sets_.size() >= options_.max_open_segment_sets) {
      return done(MakeProblem(503, cause::kNfCongestion, "too many incomplete segment sets"));
    }
    if (auto refused = role.Admit(probe)) return done(std::move(*refused));
    it = sets_.emplace(set_key, OpenSet{}).first;
    it->second.first = std::chrono::steady_clock::now();
    it->second.head = probe;
    it->second.head.payload.clear();
    it->second.role = &role;
  }
  OpenSet& s = it->second;
  const std::uint32_t highest = s.payloads.empty() ? 0 : s.payloads.rbegin()->first;
  if (seg.total != 0 && s.total != 0 && seg.total != s.total) {
    return done(MakeProblem(400, cause::kMandatoryIeIncorrect,
                            "totalSegCount differs from the set's (" + std::to_string(s.total) + ")",
                            {{"/segParams/totalSegCount", "differs from earlier segments"}}));
  }
  if (seg.total != 0 && highest > seg.total) {
    return done(MakeProblem(400, cause::kMandatoryIeIncorrect,
                            "segment " + std::to_string(highest) + " of this set was received",
                            {{"/segParams/totalSegCount", "below a segment number received"}}));
  }
  if (s.total != 0 && seg.number > s.total) {
    return done(MakeProblem(400, cause::kMandatoryIeIncorrect,
                            "the set has " + std::to_string(s.total) + " segments",
                            {{"/segParams/segNumb", "beyond the set's totalSegCount"}}));
  }
  if (auto held = s.payloads.find(seg.number); held != s.payloads.end()) {
    if (held->second == d.payload) return done(Response::Empty(204));  // a repeat
    return done(MakeProblem(400, cause::kMandatoryIeIncorrect,
                            "segment " + std::to_string(seg.number) +
                                " was already received with other content",
                            {{"/segParams/segNumb", "repeated with other content"}}));
  }
  if (open_bytes_ + d.payload.size() > options_.max_open_segment_bytes) {
    return done(MakeProblem(503, cause::kNfCongestion, "incomplete segment sets hold too much"));
  }
  s.bytes += d.payload.size();
  open_bytes_ += d.payload.size();
  s.payloads[seg.number] = d.payload;
  if (s.total == 0) s.total = seg.total;
  if (seg.number == 1) s.head.report_wanted = d.report_wanted;  // the first segment's say
  if (s.total == 0 || s.payloads.size() < s.total) {
    json::object rec{{"role", role.name()},   {"total", s.total},
                     {"ori", ToJson(s.head.ori)}, {"dest", ToJson(s.head.dest)},
                     {"msgId", s.head.msg_id}, {"payload", d.payload}};
    if (s.head.app_id) rec["appId"] = *s.head.app_id;
    if (s.head.report_wanted) rec["report"] = true;
    Batch b;
    b.Put(SegmentKey(set_key, seg.number), json::serialize(rec));
    return Commit(std::move(b), nullptr, "seg\n" + set_key + "\n" + std::to_string(seg.number),
                  std::move(done));
  }
  // Complete: the stored segments leave in the batch that stores the whole message.
  Downlink whole = s.head;
  Batch b;
  for (auto& [n, payload] : s.payloads) {
    whole.payload += payload;
    b.Delete(SegmentKey(set_key, n));
  }
  open_bytes_ -= s.bytes;
  sets_.erase(it);
  ++stats_.sets_completed;
  AcceptWhole(role, std::move(whole), std::move(b), std::move(done));
}

void DownlinkIntake::Sweep() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = sets_.begin(); it != sets_.end();) {
    if (now - it->second.first < options_.segment_timeout) {
      ++it;
      continue;
    }
    OpenSet& s = it->second;
    LOG_WARN_LIMITED("intake", "segment set %s incomplete after %lld s (%zu of %u): dropped",
                     s.head.msg_id.c_str(), static_cast<long long>(options_.segment_timeout.count()),
                     s.payloads.size(), s.total);
    Batch b;
    for (const auto& [n, payload] : s.payloads) b.Delete(SegmentKey(it->first, n));
    std::optional<Uplink::Prepared> report;
    if (s.head.report_wanted) {
      api::sbi::DeliveryStatusReport r;
      r.oriAddr = s.head.dest;  // who reports: the recipient
      r.destAddr = s.head.ori;
      r.msgId = s.head.msg_id;
      r.delivSt = "REPT_DELY_FAILED";
      r.failureCause = "SEGMENTS_INCOMPLETE";
      report = uplink_.PrepareReport(b, r);
    }
    store_.Write(std::move(b), [this, alive = alive_, report](Status st) {
      if (!st.ok() || !report) return;
      boost::asio::post(core_, [this, alive, report]() {
        if (*alive) uplink_.Adopt(*report);
      });
    });
    open_bytes_ -= s.bytes;
    ++stats_.sets_expired;
    it = sets_.erase(it);
  }
  // Idempotency records past their time, oldest first, a page per round.
  const std::string now_key =
      std::string(keys::kIdempotencyIndex) + keys::Fixed(static_cast<std::uint64_t>(NowMs()), 16);
  auto old = store_.Scan(keys::kIdempotencyIndex, 4096);
  Batch b;
  for (const auto& [key, value] : old) {
    if (key >= now_key) break;
    b.Delete(key);
    b.Delete(key.substr(key.find('\n') + 1));
  }
  if (!b.empty()) store_.Write(std::move(b), [](Status) {});
  sweep_timer_.expires_after(std::chrono::seconds(5));
  sweep_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Sweep();
  });
}

}  // namespace msgin5g::gateway
