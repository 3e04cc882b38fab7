#include "gateway/l3g/sms_role.h"

#include "gateway/l3g/receipt_ids.h"

#include <algorithm>
#include <cctype>
#include <random>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "api/http/problem.h"
#include "common/logging.h"
#include "gateway/records.h"
#include "gateway/sms/concat.h"
#include "gateway/sms/receipt.h"
#include "gateway/sms/segmenter.h"

namespace msgin5g::gateway::l3g {

namespace json = boost::json;
using api::http::MakeProblem;
namespace cause = api::http::cause;

namespace {

using keys::kReceiptDeadline;
constexpr std::uint32_t kEsmeRInvEsmClass = 0x43;  // SMPP 3.4 §5.1.3: invalid esm_class (the UDH)

using rec::Flag;
using rec::NowMs;
using rec::Num;
using rec::Str;
using rec::ToJson;
api::sbi::Address AddrFrom(const json::object& o, const char* k) { return rec::AddrOf(o, k); }

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}
std::string Unhex(std::string_view h) {
  std::string out;
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(v(h[i]) * 16 + v(h[i + 1])));
  return out;
}

// "sms-<ms>-<random>": unique across restarts, so msgin5gd's idempotency (oriAddr, msgId) never
// mistakes a new MO SMS for an old one.
std::string NewMsgId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof buf, "sms-%llx-%08llx", static_cast<unsigned long long>(NowMs()),
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return buf;
}

// The SMSC's delivery receipt and intermediate notification (esm_class bits 2-5, SMPP 3.4
// §5.2.12); any other deliver_sm is an MO message.
bool IsReceipt(std::uint8_t esm_class) {
  const std::uint8_t type = esm_class & 0x3C;
  return type == 0x04 || type == 0x20;
}

std::string NormalizeMsisdn(std::string s) {
  if (!s.empty() && s.front() == '+') s.erase(0, 1);
  return s;
}

}  // namespace

// A message awaiting receipts.
struct SmsRole::Group {
  api::sbi::Address ori, dest;  // of the original message
  std::string msg_id;
  std::uint32_t total = 0;
  std::map<std::string, std::string> ids;  // SMSC message_id -> final state ("" while pending)
  std::string fail;                        // the first failure, as a failureCause
  std::int64_t deadline_ms = 0;

  json::object ToJson() const {
    json::object ids_json;
    for (const auto& [id, st] : ids) ids_json[id] = st;
    return {{"ori", rec::ToJson(ori)}, {"dest", rec::ToJson(dest)}, {"msgId", msg_id},
            {"total", total},          {"ids", ids_json},           {"fail", fail},
            {"dl", deadline_ms}};
  }
  static std::unique_ptr<Group> FromJson(const json::object& o) {
    auto g = std::make_unique<Group>();
    g->ori = AddrFrom(o, "ori");
    g->dest = AddrFrom(o, "dest");
    g->msg_id = Str(o, "msgId");
    g->total = static_cast<std::uint32_t>(Num(o, "total"));
    g->deadline_ms = Num(o, "dl");
    g->fail = Str(o, "fail");
    if (auto* ids = o.if_contains("ids"); ids && ids->is_object()) {
      for (const auto& [id, st] : ids->as_object()) {
        g->ids[std::string(id)] = st.is_string() ? std::string(st.as_string()) : "";
      }
    }
    return g;
  }
  bool complete() const {
    if (ids.size() < total) return false;
    for (const auto& [id, st] : ids) {
      if (st.empty()) return false;
    }
    return true;
  }
};

// A concatenated MO SMS being put together.
struct SmsRole::MoSet {
  std::string msisdn, dest_addr;
  std::uint8_t data_coding = 0;
  std::uint32_t total = 0;
  std::map<std::uint32_t, std::string> parts;  // seq -> user data (after the UDH)
  std::int64_t first_ms = 0;
};

// One run of a downlink job: its parts, submitted one after the other.
struct Submission {
  Outbox::Job* job;
  Outbox::Finish finish;
  std::vector<sms::Part> parts;
  std::uint8_t data_coding = 0;
  bool receipts = false;
};

SmsRole::SmsRole(boost::asio::io_context& core, Store& store, Uplink& uplink, IdentityMap& ids,
                 smpp::EsmeSession& session, SmsOptions options)
    : core_(core),
      store_(store),
      uplink_(uplink),
      ids_(ids),
      session_(session),
      options_(std::move(options)),
      outbox_(
          core, store, options_.outbox,
          [this](Outbox::Job& job, Outbox::Finish finish) { Run(job, std::move(finish)); },
          [this](Outbox::Job& job) {
            // Attempts used up: the originator learns it, if it asked.
            Outbox::Outcome o;
            if (Flag(job.rec, "report")) {
              auto p = uplink_.PrepareReportOn(o.then, AddrFrom(job.rec, "dest"),
                                               AddrFrom(job.rec, "ori"), Str(job.rec, "msgId"),
                                               false, "SMSC_UNREACHABLE");
              o.committed = [this, p] { uplink_.Adopt(p); };
              ++stats_.reports_failed;
            }
            return o;
          }),
      sweep_timer_(core) {
  next_ref_ = static_cast<std::uint16_t>(NowMs());
}

SmsRole::~SmsRole() { *alive_ = false; }

void SmsRole::Start() {
  // Concatenated MO SMS still being put together.
  std::string after;
  for (;;) {
    auto page = store_.Scan(keys::kMoPart, 1024, after);
    for (const auto& [key, value] : page) {
      boost::system::error_code ec;
      json::value v = json::parse(value, ec);
      auto last = key.rfind('\n');
      if (ec || !v.is_object() || last == std::string::npos) continue;
      const auto& o = v.as_object();
      const std::string set_key = key.substr(keys::kMoPart.size(), last - keys::kMoPart.size());
      auto& s = mo_sets_[set_key];
      if (!s) {
        s = std::make_unique<MoSet>();
        s->msisdn = Str(o, "msisdn");
        s->dest_addr = Str(o, "dest");
        s->data_coding = static_cast<std::uint8_t>(Num(o, "dc"));
        s->total = static_cast<std::uint32_t>(Num(o, "total", 1));
        s->first_ms = Num(o, "at");
      }
      s->parts[static_cast<std::uint32_t>(std::stoul(key.substr(last + 1)))] = Unhex(Str(o, "ud"));
    }
    if (page.size() < 1024) break;
    after = page.back().first;
  }
  // Messages awaiting receipts: one deadline entry each (the groups load when a receipt comes).
  receipt_groups_ = 0;
  after.clear();
  for (;;) {
    auto page = store_.Scan(kReceiptDeadline, 4096, after);
    receipt_groups_ += page.size();
    if (page.size() < 4096) break;
    after = page.back().first;
  }
  session_.OnDeliver([this](smpp::DeliverSm pdu, std::function<void(std::uint32_t)> respond) {
    OnDeliver(std::move(pdu), std::move(respond));
  });
  outbox_.Start();
  Sweep();
}

void SmsRole::Stop() {
  outbox_.Stop();
  sweep_timer_.cancel();
}

std::optional<api::http::Response> SmsRole::Admit(const Downlink& d) {
  if (!ids_.MsisdnOf(d.dest.addr)) {
    return MakeProblem(404, cause::kUnknownRecipient,
                       "UE " + d.dest.addr + " has no MSISDN in this gateway's identity map",
                       {{"/destAddr/addr", "not in the identity map"}});
  }
  if (d.kind == Downlink::Kind::kMessage) {
    const bool binary = d.app_id && options_.binary_app_ids.count(*d.app_id) > 0;
    sms::SegmentOptions so;
    so.max_parts = options_.max_parts;
    auto enc = sms::EncodeForSms(d.payload, binary, so);
    if (!enc.ok()) {
      return MakeProblem(400, cause::kMandatoryIeIncorrect, "payload: " + enc.status().message(),
                         {{"/payload", enc.status().message()}});
    }
  }
  return std::nullopt;
}

std::function<void()> SmsRole::Prepare(Batch& batch, const Downlink& d) {
  const std::string msisdn = *ids_.MsisdnOf(d.dest.addr);
  json::object rec{{"msisdn", msisdn}, {"ori", ToJson(d.ori)}, {"dest", ToJson(d.dest)},
                   {"msgId", d.msg_id}, {"ref", next_ref_++}, {"acc", json::array()}};
  if (d.kind == Downlink::Kind::kMessage) {
    rec["k"] = "msg";
    rec["payload"] = d.payload;
    if (d.app_id) rec["appId"] = *d.app_id;
    if (d.report_wanted) rec["report"] = true;
    // The messaging transaction (TS 23.554 8.7.1.4): a reply from this MSISDN goes back to the
    // originator, for a while.
    if (options_.transaction_ttl.count() > 0) {
      json::object tx{{"ori", ToJson(d.ori)},
                      {"exp", NowMs() + options_.transaction_ttl.count() * 1000}};
      batch.Put(std::string(keys::kTransaction) + NormalizeMsisdn(msisdn), json::serialize(tx));
    }
  } else {
    // A report for the UE about a message it sent: an SMS it can read.
    rec["k"] = "rep";
    std::string text = "MSGin5G " + d.msg_id + ": " +
                       (d.deliv_st == "REPT_DELY_SUCCESS" ? "delivered" : "not delivered");
    if (d.failure_cause && d.deliv_st != "REPT_DELY_SUCCESS") text += " (" + *d.failure_cause + ")";
    rec["payload"] = text;
  }
  std::string key = outbox_.Prepare(batch, rec);
  return [this, key, rec = std::move(rec)]() mutable { outbox_.Adopt(key, std::move(rec)); };
}

void SmsRole::Run(Outbox::Job& job, Outbox::Finish finish) {
  if (!session_.bound()) {
    Outbox::Outcome o;
    o.kind = Outbox::Outcome::Kind::kRetry;
    o.cause = "no SMSC bind";
    return finish(std::move(o));
  }
  const bool binary = Str(job.rec, "k") == "msg" && job.rec.contains("appId") &&
                      options_.binary_app_ids.count(Str(job.rec, "appId")) > 0;
  sms::SegmentOptions so;
  so.max_parts = options_.max_parts;
  so.reference = static_cast<std::uint16_t>(Num(job.rec, "ref"));
  auto enc = sms::EncodeForSms(Str(job.rec, "payload"), binary, so);
  if (!enc.ok()) {
    Outbox::Outcome o;
    o.kind = Outbox::Outcome::Kind::kFailed;
    o.cause = "cannot encode: " + enc.status().message();
    return finish(std::move(o));
  }
  if (!job.rec["acc"].is_array()) job.rec["acc"] = json::array();  // a record from elsewhere
  auto sub = std::make_shared<Submission>();
  sub->job = &job;
  sub->finish = std::move(finish);
  sub->parts = std::move(enc->parts);
  sub->data_coding = enc->data_coding;
  sub->receipts = Flag(job.rec, "report") && options_.request_receipts;
  SubmitPart(std::move(sub));
}

void SmsRole::SubmitPart(std::shared_ptr<Submission> sub) {
  Outbox::Job& job = *sub->job;
  json::array& acc = job.rec["acc"].as_array();
  const std::size_t i = acc.size();
  if (i >= sub->parts.size()) {
    // Every part accepted.
    Outbox::Outcome o;
    if (Flag(job.rec, "report") && !options_.request_receipts) {
      // No receipts to wait for: the transport outcome is the report (TS 23.554 8.6.1 4a).
      auto p = uplink_.PrepareReportOn(o.then, AddrFrom(job.rec, "dest"), AddrFrom(job.rec, "ori"),
                                       Str(job.rec, "msgId"), true);
      o.committed = [this, p] { uplink_.Adopt(p); };
      ++stats_.reports_success;
    }
    return sub->finish(std::move(o));
  }
  smpp::SubmitSm pdu;
  pdu.source_addr_ton = options_.source_ton;
  pdu.source_addr_npi = options_.source_npi;
  pdu.source_addr = options_.source_addr;
  pdu.dest_addr_ton = options_.dest_ton;
  pdu.dest_addr_npi = options_.dest_npi;
  pdu.destination_addr = NormalizeMsisdn(Str(job.rec, "msisdn"));
  pdu.esm_class = sub->parts[i].esm_class;
  pdu.data_coding = sub->data_coding;
  pdu.registered_delivery = sub->receipts ? 1 : 0;
  pdu.short_message = sub->parts[i].short_message;
  ++stats_.parts_submitted;
  const auto sent_at = std::chrono::steady_clock::now();
  session_.Submit(std::move(pdu), [this, alive = alive_, sub, sent_at](smpp::SubmitResult r) {
    if (!*alive) return;
    Outbox::Job& j = *sub->job;
    if (r.kind == smpp::SubmitResult::Kind::kTransient) {
      ++stats_.parts_transient;
      if (r.sent) ++stats_.possible_duplicates;
      Outbox::Outcome o;
      o.kind = Outbox::Outcome::Kind::kRetry;
      o.cause = r.reason;
      return sub->finish(std::move(o));
    }
    if (r.kind == smpp::SubmitResult::Kind::kPermanent) {
      ++stats_.parts_refused;
      Outbox::Outcome o;
      o.kind = Outbox::Outcome::Kind::kFailed;
      o.cause = "SMPP " + smpp::CommandStatusName(r.command_status);
      const std::string gkey = std::string(keys::kReceiptGroup) + j.key.substr(j.key.rfind('/') + 1);
      if (auto g = groups_.find(gkey); g != groups_.end()) {
        // Parts already accepted wait for no receipt: the message has failed.
        g->second->fail = o.cause;
        auto p = FinishGroup(gkey, *g->second, false, o.then);
        o.committed = [this, p] { uplink_.Adopt(p); };
        groups_.erase(gkey);
      } else if (Flag(j.rec, "report")) {
        auto p = uplink_.PrepareReportOn(o.then, AddrFrom(j.rec, "dest"), AddrFrom(j.rec, "ori"),
                                         Str(j.rec, "msgId"), false, o.cause);
        o.committed = [this, p] { uplink_.Adopt(p); };
        ++stats_.reports_failed;
      }
      LOG_WARN_LIMITED("l3g", "SMSC refused a part of %s for good: %s",
                       Str(j.rec, "msgId").c_str(), o.cause.c_str());
      return sub->finish(std::move(o));
    }
    if (options_.on_submit_latency) {
      options_.on_submit_latency(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count());
    }
    j.rec["acc"].as_array().push_back(json::string(r.message_id));
    // Recorded at once (the Store writes in order, so a receipt for this part, written later,
    // finds it): a retry or restart resubmits only the parts not yet accepted.
    Batch b;
    json::object rec = j.rec;
    rec["attempts"] = j.attempts;
    b.Put(j.key, json::serialize(rec));
    if (sub->receipts) {
      const std::string gkey = std::string(keys::kReceiptGroup) + j.key.substr(j.key.rfind('/') + 1);
      auto& g = groups_[gkey];
      if (!g) {
        g = std::make_unique<Group>();
        g->ori = AddrFrom(j.rec, "ori");
        g->dest = AddrFrom(j.rec, "dest");
        g->msg_id = Str(j.rec, "msgId");
        g->total = static_cast<std::uint32_t>(sub->parts.size());
        g->deadline_ms = NowMs() + options_.receipt_timeout.count() * 1000;
        b.Put(std::string(kReceiptDeadline) + keys::Fixed(static_cast<std::uint64_t>(g->deadline_ms), 16) +
                  "\n" + gkey,
              "");
        ++receipt_groups_;
      }
      g->ids.emplace(r.message_id, "");
      receipt_index_[r.message_id] = gkey;
      b.Put(gkey, json::serialize(g->ToJson()));
      b.Put(std::string(keys::kReceipt) + r.message_id, gkey);
    }
    // Counted once recorded: a restart after this point resubmits nothing of this part, and
    // its receipt will be matched (what parts_total{accepted} promises).
    store_.Write(std::move(b), [this, alive = alive_](Status st) {
      if (!st.ok()) LOG_WARN_LIMITED("l3g", "cannot record an accepted part: %s", st.message().c_str());
      boost::asio::post(core_, [this, alive, ok = st.ok()] {
        if (*alive && ok) ++stats_.parts_accepted;
      });
    });
    SubmitPart(sub);
  });
}

void SmsRole::OnDeliver(smpp::DeliverSm pdu, std::function<void(std::uint32_t)> respond) {
  if (IsReceipt(pdu.esm_class)) return OnReceipt(pdu, std::move(respond));
  OnMo(pdu, std::move(respond));
}

SmsRole::Group* SmsRole::FindGroup(const std::string& message_id, std::string* matched) {
  std::string gkey;
  std::string id = message_id;
  auto lookup = [&](const std::string& candidate) {
    if (auto it = receipt_index_.find(candidate); it != receipt_index_.end()) {
      gkey = it->second;
    } else if (auto stored = store_.Get(std::string(keys::kReceipt) + candidate)) {
      gkey = *stored;
    }
    if (!gkey.empty()) id = candidate;
    return !gkey.empty();
  };
  if (!lookup(message_id)) {
    bool found = false;
    for (const auto& alt : OtherSpellings(message_id)) {
      if ((found = lookup(alt))) break;
    }
    if (!found) return nullptr;
  }
  Group* g = LoadGroup(gkey);
  if (g == nullptr) return nullptr;
  receipt_index_[id] = gkey;
  *matched = id;
  return g;
}

SmsRole::Group* SmsRole::LoadGroup(const std::string& gkey) {
  auto& g = groups_[gkey];
  if (!g) {
    auto stored = rec::Parse(store_.Get(gkey));
    if (!stored) {
      groups_.erase(gkey);
      return nullptr;
    }
    g = Group::FromJson(*stored);
    for (const auto& [part_id, st] : g->ids) receipt_index_[part_id] = gkey;
  }
  return g.get();
}

Uplink::Prepared SmsRole::FinishGroup(const std::string& key, Group& g, bool timed_out,
                                      Batch& batch) {
  api::sbi::DeliveryStatusReport r;
  r.oriAddr = g.dest;  // who reports: the recipient of the original message
  r.destAddr = g.ori;
  r.msgId = g.msg_id;
  if (timed_out) {
    r.delivSt = "REPT_DELY_FAILED";
    r.failureCause = "RECEIPT_TIMEOUT";
    ++stats_.receipt_timeouts;
  } else if (!g.fail.empty()) {
    r.delivSt = "REPT_DELY_FAILED";
    r.failureCause = g.fail;
  } else {
    r.delivSt = "REPT_DELY_SUCCESS";
  }
  (r.delivSt == "REPT_DELY_SUCCESS" ? stats_.reports_success : stats_.reports_failed)++;
  auto p = uplink_.PrepareReport(batch, r);
  batch.Delete(key);
  batch.Delete(std::string(kReceiptDeadline) + keys::Fixed(static_cast<std::uint64_t>(g.deadline_ms), 16) +
               "\n" + key);
  if (receipt_groups_ > 0) --receipt_groups_;
  for (const auto& [id, st] : g.ids) {
    batch.Delete(std::string(keys::kReceipt) + id);
    receipt_index_.erase(id);
  }
  return p;  // adopted by the caller once `batch` is durable
}

void SmsRole::WriteThen(Batch batch, std::vector<Uplink::Prepared> reports,
                        std::function<void(Status)> then) {
  store_.Write(std::move(batch), [this, alive = alive_, reports = std::move(reports),
                                  then = std::move(then)](Status st) mutable {
    boost::asio::post(core_, [this, alive, reports = std::move(reports), then = std::move(then),
                              st]() mutable {
      if (!*alive) return;
      if (st.ok()) {
        for (auto& p : reports) uplink_.Adopt(std::move(p));
      }
      if (then) then(st);
    });
  });
}

void SmsRole::OnReceipt(const smpp::DeliverSm& pdu, std::function<void(std::uint32_t)> respond) {
  std::string_view text = pdu.short_message;
  if (auto payload = pdu.tlvs.message_payload(); text.empty() && payload) text = *payload;
  sms::ReceiptTlvs tlvs{pdu.tlvs.receipted_message_id(), pdu.tlvs.message_state()};
  auto receipt = sms::ParseReceipt(text, tlvs);
  if (!receipt.ok()) {
    // Answered OK all the same: refusing would only make the SMSC send it again and again.
    ++stats_.receipts_malformed;
    LOG_WARN_LIMITED("l3g", "malformed delivery receipt from the SMSC: %s",
                     receipt.status().message().c_str());
    return respond(smpp::kEsmeROk);
  }
  ++stats_.receipts_by_state[static_cast<int>(receipt->state) % 9];
  std::string part_id;  // the id as the SMSC gave it in submit_sm_resp
  Group* g = FindGroup(receipt->message_id, &part_id);
  if (g == nullptr) {
    ++stats_.receipts_unmatched;
    LOG_WARN_LIMITED("l3g", "receipt for unknown SMSC message_id %s (%s)",
                     receipt->message_id.c_str(),
                     std::string(sms::ReceiptStateName(receipt->state)).c_str());
    return respond(smpp::kEsmeROk);
  }
  ++stats_.receipts_matched;
  const sms::ReceiptVerdict verdict = sms::Judge(*receipt);
  if (verdict.outcome == sms::ReceiptOutcome::kPending) return respond(smpp::kEsmeROk);
  const std::string gkey = receipt_index_.at(part_id);
  g->ids[part_id] = std::string(sms::ReceiptStateName(receipt->state));
  if (verdict.outcome == sms::ReceiptOutcome::kFailed && g->fail.empty()) {
    g->fail = verdict.failure_cause;
  }
  Batch b;
  std::vector<Uplink::Prepared> reports;
  if (g->complete()) {
    reports.push_back(FinishGroup(gkey, *g, false, b));
    groups_.erase(gkey);
  } else {
    b.Put(gkey, json::serialize(g->ToJson()));
  }
  WriteThen(std::move(b), std::move(reports), [respond = std::move(respond)](Status st) {
    respond(st.ok() ? smpp::kEsmeROk : smpp::kEsmeRxTAppn);
  });
}

std::optional<api::sbi::Address> SmsRole::MoDestination(const std::string& msisdn,
                                                         const std::string& dest_addr) {
  if (auto sc = options_.short_codes.find(dest_addr); sc != options_.short_codes.end()) {
    return api::sbi::Address{"AS", sc->second};
  }
  if (auto tx = store_.Get(std::string(keys::kTransaction) + msisdn)) {
    boost::system::error_code ec;
    json::value v = json::parse(*tx, ec);
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      if (Num(o, "exp") > NowMs()) {
        return AddrFrom(o, "ori");
      }
    }
  }
  if (!options_.mo_default_destination.empty()) {
    return api::sbi::Address{"AS", options_.mo_default_destination};
  }
  return std::nullopt;
}

void SmsRole::OnMo(const smpp::DeliverSm& pdu, std::function<void(std::uint32_t)> respond) {
  const std::string msisdn = NormalizeMsisdn(pdu.source_addr);
  if (!ids_.UeOf(msisdn)) {
    ++stats_.mo_unknown_msisdn;
    LOG_WARN_LIMITED("l3g", "MO SMS from %s, which is not in the identity map: refused",
                     msisdn.c_str());
    return respond(smpp::kEsmeRInvSrcAdr);
  }
  std::string_view ud = pdu.short_message;
  if (auto payload = pdu.tlvs.message_payload(); ud.empty() && payload) ud = *payload;
  // A UDH says it is a part; so do the SAR TLVs (SMPP 3.4 §5.3.2.22-24).
  Result<std::optional<sms::ConcatInfo>> concat = sms::ParseConcat(pdu.esm_class, ud);
  const auto sar_ref = pdu.tlvs.sar_msg_ref_num();
  const auto sar_total = pdu.tlvs.sar_total_segments();
  const auto sar_seq = pdu.tlvs.sar_segment_seqnum();
  if (concat.ok() && !concat->has_value() && sar_ref && sar_total && sar_seq) {
    auto body = sms::UserDataAfterUdh(pdu.esm_class, ud);
    auto sar = body.ok() ? sms::ConcatFromSar(*sar_ref, *sar_total, *sar_seq, *body)
                         : Result<sms::ConcatInfo>(body.status());
    concat = sar.ok() ? Result<std::optional<sms::ConcatInfo>>(std::optional(std::move(*sar)))
                      : Result<std::optional<sms::ConcatInfo>>(sar.status());
  }
  if (!concat.ok()) {
    ++stats_.mo_malformed;
    LOG_WARN_LIMITED("l3g", "MO SMS from %s with a malformed UDH: %s", msisdn.c_str(),
                     concat.status().message().c_str());
    return respond(kEsmeRInvEsmClass);
  }
  if (!MoDestination(msisdn, pdu.destination_addr)) {
    ++stats_.mo_unroutable;
    LOG_WARN_LIMITED("l3g", "MO SMS from %s to %s: no short-code rule, no open transaction and no "
                     "l3g.mo_default_destination: refused",
                     msisdn.c_str(), pdu.destination_addr.c_str());
    return respond(smpp::kEsmeRxPAppn);
  }
  if (!concat->has_value()) {
    auto body = sms::UserDataAfterUdh(pdu.esm_class, ud);  // a UDH without concatenation (ports)
    if (!body.ok()) {
      ++stats_.mo_malformed;
      return respond(kEsmeRInvEsmClass);
    }
    bool binary = false;
    std::string text = sms::DecodeText(pdu.data_coding, *body, &binary);
    ++stats_.mo_messages;
    return ForwardMo(msisdn, pdu.destination_addr, std::move(text), binary, Batch{},
                     std::move(respond));
  }
  const sms::ConcatInfo& c = **concat;
  ++stats_.mo_parts;
  const std::string set_key =
      msisdn + "\n" + keys::Fixed(c.ref, 5) + "\n" + keys::Fixed(c.total, 3);
  auto& s = mo_sets_[set_key];
  if (!s) {
    s = std::make_unique<MoSet>();
    s->msisdn = msisdn;
    s->dest_addr = pdu.destination_addr;
    s->data_coding = pdu.data_coding;
    s->total = c.total;
    s->first_ms = NowMs();
  }
  if (s->parts.count(c.seq)) return respond(smpp::kEsmeROk);  // the SMSC sent it again
  s->parts[c.seq] = std::string(c.body);
  const std::string part_key = std::string(keys::kMoPart) + set_key + "\n" + keys::Fixed(c.seq, 3);
  if (s->parts.size() < s->total) {
    json::object rec{{"msisdn", msisdn}, {"dest", s->dest_addr}, {"dc", s->data_coding},
                     {"total", s->total}, {"at", s->first_ms},  {"ud", Hex(c.body)}};
    Batch b;
    b.Put(part_key, json::serialize(rec));
    return WriteThen(std::move(b), {}, [this, respond = std::move(respond)](Status st) {
      if (!st.ok()) ++stats_.mo_store_errors;
      respond(st.ok() ? smpp::kEsmeROk : smpp::kEsmeRxTAppn);
    });
  }
  // The last part: the stored ones leave in the batch that stores the message for msgin5gd.
  std::string ud_all;
  Batch b;
  for (const auto& [seq, body] : s->parts) {
    ud_all += body;
    b.Delete(std::string(keys::kMoPart) + set_key + "\n" + keys::Fixed(seq, 3));
  }
  const std::uint8_t dc = s->data_coding;
  const std::string dest_addr = s->dest_addr;
  mo_sets_.erase(set_key);
  bool binary = false;
  std::string text = sms::DecodeText(dc, ud_all, &binary);
  ++stats_.mo_messages;
  ForwardMo(msisdn, dest_addr, std::move(text), binary, std::move(b), std::move(respond));
}

void SmsRole::ForwardMo(const std::string& msisdn, const std::string& dest_addr, std::string text,
                        bool binary, Batch batch, std::function<void(std::uint32_t)> respond) {
  api::sbi::UEMessageDelivery m;
  m.oriAddr = {"UE", *ids_.UeOf(msisdn)};
  m.destAddr = *MoDestination(msisdn, dest_addr);
  m.msgId = NewMsgId();
  m.payload = std::move(text);
  m.stoAndFwInd = true;  // the AS may be away: msgin5gd keeps it
  (void)binary;          // 8-bit MO data arrives base64 (sms::DecodeText)
  std::vector<Uplink::Prepared> items{uplink_.PrepareMessage(batch, m)};
  WriteThen(std::move(batch), std::move(items), [this, respond = std::move(respond)](Status st) {
    if (!st.ok()) ++stats_.mo_store_errors;
    respond(st.ok() ? smpp::kEsmeROk : smpp::kEsmeRxTAppn);
  });
}

void SmsRole::Sweep() {
  const std::int64_t now = NowMs();
  // Receipts that never came.
  const std::string now_key = std::string(kReceiptDeadline) + keys::Fixed(static_cast<std::uint64_t>(now), 16);
  auto due = store_.Scan(kReceiptDeadline, 256);
  for (const auto& [key, unused] : due) {
    if (key >= now_key) break;
    const std::string gkey = key.substr(key.find('\n') + 1);
    Group* g = LoadGroup(gkey);
    if (g == nullptr) {  // gone already: only the index entry is left
      if (receipt_groups_ > 0) --receipt_groups_;
      Batch b;
      b.Delete(key);
      WriteThen(std::move(b), {}, nullptr);
      continue;
    }
    Batch b;
    std::vector<Uplink::Prepared> reports{FinishGroup(gkey, *g, true, b)};
    groups_.erase(gkey);
    WriteThen(std::move(b), std::move(reports), nullptr);
  }
  // Concatenated MO SMS whose parts stopped coming.
  const std::int64_t mo_cutoff = now - options_.mo_reassembly_timeout.count() * 1000;
  for (auto it = mo_sets_.begin(); it != mo_sets_.end();) {
    if (it->second->first_ms > mo_cutoff) {
      ++it;
      continue;
    }
    ++stats_.mo_expired_sets;
    LOG_WARN_LIMITED("l3g", "concatenated MO SMS from %s incomplete (%zu of %u parts): dropped",
                     it->second->msisdn.c_str(), it->second->parts.size(), it->second->total);
    Batch b;
    for (const auto& [seq, body] : it->second->parts) {
      b.Delete(std::string(keys::kMoPart) + it->first + "\n" + keys::Fixed(seq, 3));
    }
    WriteThen(std::move(b), {}, nullptr);
    it = mo_sets_.erase(it);
  }
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Sweep();
  });
}

}  // namespace msgin5g::gateway::l3g
