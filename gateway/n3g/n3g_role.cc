#include "gateway/n3g/n3g_role.h"

#include <random>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "api/http/problem.h"
#include "api/sbi/codec.h"
#include "common/logging.h"
#include "gateway/records.h"

namespace msgin5g::gateway::n3g {

namespace json = boost::json;
using api::http::MakeProblem;
namespace cause = api::http::cause;
using rec::Flag;
using rec::NowMs;
using rec::Str;

namespace {

std::string NewMsgId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof buf, "mqtt-%llx-%08llx", static_cast<unsigned long long>(NowMs()),
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return buf;
}

std::string DeadlineKey(std::string_view prefix, std::int64_t deadline_ms, const std::string& key) {
  return std::string(prefix) + keys::Fixed(static_cast<std::uint64_t>(deadline_ms), 16) + "\n" + key;
}

}  // namespace

Result<std::vector<mqtt::Subscription>> N3gRole::Subscriptions(const N3gOptions& o) {
  auto up = mqtt::TopicTemplate::Parse(o.up_topic, "{ueSvcId}");
  if (!up.ok()) return Status::InvalidArgument("n3g.up_topic: " + up.status().message());
  std::vector<mqtt::Subscription> subs{{up->Filter(), 1}};
  if (o.device_reports) {
    auto rep = mqtt::TopicTemplate::Parse(o.report_topic, "{ueSvcId}");
    if (!rep.ok()) return Status::InvalidArgument("n3g.report_topic: " + rep.status().message());
    subs.push_back({rep->Filter(), 1});
  }
  return subs;
}

Result<std::unique_ptr<N3gRole>> N3gRole::Create(boost::asio::io_context& core, Store& store,
                                                 Uplink& uplink, mqtt::MqttLink& link,
                                                 N3gOptions options) {
  auto down = mqtt::TopicTemplate::Parse(options.down_topic, "{ueSvcId}");
  if (!down.ok()) return Status::InvalidArgument("n3g.down_topic: " + down.status().message());
  auto up = mqtt::TopicTemplate::Parse(options.up_topic, "{ueSvcId}");
  if (!up.ok()) return Status::InvalidArgument("n3g.up_topic: " + up.status().message());
  auto rep = mqtt::TopicTemplate::Parse(options.report_topic, "{ueSvcId}");
  if (!rep.ok()) return Status::InvalidArgument("n3g.report_topic: " + rep.status().message());
  return std::unique_ptr<N3gRole>(new N3gRole(core, store, uplink, link, std::move(options),
                                              std::move(*down), std::move(*up), std::move(*rep)));
}

N3gRole::N3gRole(boost::asio::io_context& core, Store& store, Uplink& uplink,
                 mqtt::MqttLink& link, N3gOptions options, mqtt::TopicTemplate down,
                 mqtt::TopicTemplate up, mqtt::TopicTemplate report)
    : core_(core),
      store_(store),
      uplink_(uplink),
      link_(link),
      options_(std::move(options)),
      down_(std::move(down)),
      up_(std::move(up)),
      report_(std::move(report)),
      outbox_(
          core, store, options_.outbox,
          [this](Outbox::Job& job, Outbox::Finish finish) { Run(job, std::move(finish)); },
          [this](Outbox::Job& job) {
            Outbox::Outcome o;
            if (Flag(job.rec, "report")) {
              // Never published: no device report can come for it.
              const std::string dkey = Str(job.rec, "dkey");
              if (!dkey.empty()) {
                o.then.Delete(dkey);
                o.then.Delete(DeadlineKey(keys::kDeviceReportDeadline, rec::Num(job.rec, "dl"), dkey));
              }
              auto p = uplink_.PrepareReportOn(o.then, rec::AddrOf(job.rec, "dest"),
                                               rec::AddrOf(job.rec, "ori"), Str(job.rec, "msgId"),
                                               false, "MQTT_BROKER_UNREACHABLE");
              o.committed = [this, p] { uplink_.Adopt(p); };
              ++stats_.reports_failed;
            }
            return o;
          }),
      sweep_timer_(core) {}

N3gRole::~N3gRole() { *alive_ = false; }

void N3gRole::Start() {
  outbox_.Start();
  Sweep();
}

void N3gRole::Stop() {
  outbox_.Stop();
  sweep_timer_.cancel();
}

std::optional<api::http::Response> N3gRole::Admit(const Downlink& d) {
  if (auto topic = down_.Expand(d.dest.addr); !topic.ok()) {
    // An id that cannot name an MQTT topic level: never deliverable here.
    return MakeProblem(404, cause::kUnknownRecipient,
                       "UE " + d.dest.addr + " cannot be reached over MQTT: " +
                           topic.status().message(),
                       {{"/destAddr/addr", "not usable in an MQTT topic"}});
  }
  return std::nullopt;
}

std::function<void()> N3gRole::Prepare(Batch& batch, const Downlink& d) {
  json::object r{{"topic", *down_.Expand(d.dest.addr)}, {"ori", rec::ToJson(d.ori)},
                 {"dest", rec::ToJson(d.dest)},          {"msgId", d.msg_id}};
  if (d.kind == Downlink::Kind::kMessage) {
    api::sbi::UEMessageDelivery m;
    m.oriAddr = d.ori;
    m.destAddr = d.dest;
    m.msgId = d.msg_id;
    m.appId = d.app_id;
    m.payload = d.payload;
    if (d.report_wanted) m.delivStReqInd = true;
    r["body"] = api::sbi::Encode(m);
    if (d.report_wanted) r["report"] = true;
    if (d.report_wanted && options_.device_reports) {
      // Awaited from now: a device may report before the broker's PUBACK reaches us.
      const std::int64_t dl = NowMs() + options_.report_timeout.count() * 1000;
      const std::string dkey = std::string(keys::kDeviceReport) + d.dest.addr + "\n" + d.msg_id;
      batch.Put(dkey, json::serialize(json::object{{"ori", rec::ToJson(d.ori)}, {"dl", dl}}));
      batch.Put(DeadlineKey(keys::kDeviceReportDeadline, dl, dkey), "");
      r["dkey"] = dkey;
      r["dl"] = dl;
    }
    if (options_.transaction_ttl.count() > 0) {
      json::object tx{{"ori", rec::ToJson(d.ori)},
                      {"exp", NowMs() + options_.transaction_ttl.count() * 1000}};
      batch.Put(std::string(keys::kN3gTransaction) + d.dest.addr, json::serialize(tx));
    }
  } else {
    api::sbi::DeliveryStatusReport rep;
    rep.oriAddr = d.ori;
    rep.destAddr = d.dest;
    rep.msgId = d.msg_id;
    rep.delivSt = d.deliv_st;
    rep.failureCause = d.failure_cause;
    r["body"] = api::sbi::Encode(rep);
  }
  std::string key = outbox_.Prepare(batch, r);
  return [this, key, r = std::move(r)]() mutable { outbox_.Adopt(key, std::move(r)); };
}

void N3gRole::Run(Outbox::Job& job, Outbox::Finish finish) {
  link_.Publish(Str(job.rec, "topic"), Str(job.rec, "body"), 1, false,
                [this, alive = alive_, &job, finish = std::move(finish)](Status st) {
                  if (!*alive) return;
                  Outbox::Outcome o;
                  if (!st.ok()) {
                    ++stats_.publish_failed;
                    o.kind = Outbox::Outcome::Kind::kRetry;
                    o.cause = st.message();
                    return finish(std::move(o));
                  }
                  ++stats_.published;
                  if (Flag(job.rec, "report")) {
                    const auto ue = rec::AddrOf(job.rec, "dest");
                    const auto ori = rec::AddrOf(job.rec, "ori");
                    const std::string msg_id = Str(job.rec, "msgId");
                    if (options_.device_reports) {
                      // Awaited since Prepare (dr/): the device answers on its report topic.
                    } else {
                      // The broker's PUBACK is the outcome (TS 23.554 8.6.1 step 4a).
                      auto p = uplink_.PrepareReportOn(o.then, ue, ori, msg_id, true);
                      o.committed = [this, p] { uplink_.Adopt(p); };
                      ++stats_.reports_success;
                    }
                  }
                  finish(std::move(o));
                });
}

bool N3gRole::OnMessage(const std::string& topic, const std::string& payload,
                        const mqtt::MqttLink::Ack& ack) {
  if (auto ue = up_.Match(topic)) {
    OnUp(*ue, payload, ack);
    return true;
  }
  if (auto ue = report_.Match(topic); ue && options_.device_reports) {
    OnDeviceReport(*ue, payload, ack);
    return true;
  }
  return false;
}

void N3gRole::OnUp(const std::string& ue, const std::string& payload,
                   const mqtt::MqttLink::Ack& ack) {
  api::sbi::UEMessageDelivery m;
  m.oriAddr = {"UE", ue};
  m.stoAndFwInd = true;
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (!ec && v.is_object() && v.as_object().contains("payload")) {
    // Structured: the members of a UEMessageDelivery the device may set.
    const json::object& o = v.as_object();
    if (!o.at("payload").is_string()) {
      ++stats_.up_malformed;
      LOG_WARN_LIMITED("n3g", "uplink message from %s: payload must be a string; dropped", ue.c_str());
      ack();
      return;
    }
    m.payload = std::string(o.at("payload").as_string());
    if (const auto* dest = o.if_contains("destAddr"); dest != nullptr && dest->is_object()) {
      m.destAddr.addrType = Str(dest->as_object(), "addrType");
      m.destAddr.addr = Str(dest->as_object(), "addr");
    }
    m.msgId = Str(o, "msgId");
    if (o.contains("appId")) m.appId = Str(o, "appId");
    if (Flag(o, "delivStReqInd")) m.delivStReqInd = true;
  } else {
    m.payload = payload;  // plain text: the whole message is the payload
  }
  if (m.msgId.empty()) m.msgId = NewMsgId();
  if (m.destAddr.addr.empty()) {
    auto tx = rec::Parse(store_.Get(std::string(keys::kN3gTransaction) + ue));
    if (tx && rec::Num(*tx, "exp") > NowMs()) {
      m.destAddr = rec::AddrOf(*tx, "ori");
    } else if (!options_.mo_default_destination.empty()) {
      m.destAddr = {"AS", options_.mo_default_destination};
    } else {
      ++stats_.up_unroutable;
      LOG_WARN_LIMITED("n3g", "uplink message from %s has no destAddr, no open transaction and "
                       "there is no n3g.mo_default_destination: dropped", ue.c_str());
      ack();
      return;
    }
  }
  ++stats_.up_messages;
  Batch b;
  auto p = uplink_.PrepareMessage(b, m);
  store_.Write(std::move(b), [this, alive = alive_, p, ack](Status st) mutable {
    // Stored (WAL fsync'd): now the broker may let go of its copy. Not stored: the link
    // reconnects and the broker sends it again.
    if (st.ok()) {
      ack();
    } else {
      ack.Fail(st.message());
    }
    boost::asio::post(core_, [this, alive, p = std::move(p), st]() mutable {
      if (!*alive) return;
      if (!st.ok()) {
        ++stats_.up_store_errors;
        LOG_ERROR_LIMITED("n3g", "uplink message not stored (%s): left unacknowledged at the "
                          "broker, which sends it again after the reconnect",
                          st.message().c_str());
        return;
      }
      uplink_.Adopt(std::move(p));
    });
  });
}

void N3gRole::OnDeviceReport(const std::string& ue, const std::string& payload,
                             const mqtt::MqttLink::Ack& ack) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec || !v.is_object()) {
    ++stats_.up_malformed;
    LOG_WARN_LIMITED("n3g", "report from %s is not a JSON object; dropped", ue.c_str());
    ack();
    return;
  }
  const json::object& o = v.as_object();
  const std::string msg_id = Str(o, "msgId");
  const std::string st = Str(o, "delivSt");
  if (msg_id.empty() || (st != "REPT_DELY_SUCCESS" && st != "REPT_DELY_FAILED")) {
    ++stats_.up_malformed;
    LOG_WARN_LIMITED("n3g", "report from %s needs msgId and delivSt; dropped", ue.c_str());
    ack();
    return;
  }
  const std::string dkey = std::string(keys::kDeviceReport) + ue + "\n" + msg_id;
  auto pending = rec::Parse(store_.Get(dkey));
  if (!pending) {
    ++stats_.device_reports_unmatched;
    ack();
    return;
  }
  ++stats_.device_reports;
  (st == "REPT_DELY_SUCCESS" ? stats_.reports_success : stats_.reports_failed)++;
  std::optional<std::string> why;
  if (o.contains("failureCause")) why = Str(o, "failureCause").substr(0, 1024);
  Batch b;
  b.Delete(dkey);
  b.Delete(DeadlineKey(keys::kDeviceReportDeadline, rec::Num(*pending, "dl"), dkey));
  auto p = uplink_.PrepareReportOn(b, {"UE", ue}, rec::AddrOf(*pending, "ori"), msg_id,
                                   st == "REPT_DELY_SUCCESS", why);
  store_.Write(std::move(b), [this, alive = alive_, p, ack](Status s) mutable {
    if (s.ok()) {
      ack();
    } else {
      ack.Fail(s.message());
    }
    boost::asio::post(core_, [this, alive, p = std::move(p), s]() mutable {
      if (*alive && s.ok()) uplink_.Adopt(std::move(p));
    });
  });
}

void N3gRole::Sweep() {
  const std::string now_key = std::string(keys::kDeviceReportDeadline) +
                              keys::Fixed(static_cast<std::uint64_t>(NowMs()), 16);
  for (const auto& [key, unused] : store_.Scan(keys::kDeviceReportDeadline, 256)) {
    if (key >= now_key) break;
    const std::string dkey = key.substr(key.find('\n') + 1);
    Batch b;
    b.Delete(key);
    b.Delete(dkey);
    std::optional<Uplink::Prepared> p;
    if (auto pending = rec::Parse(store_.Get(dkey))) {
      const auto nl = dkey.find('\n');
      const std::string ue = dkey.substr(keys::kDeviceReport.size(), nl - keys::kDeviceReport.size());
      p = uplink_.PrepareReportOn(b, {"UE", ue}, rec::AddrOf(*pending, "ori"),
                                  dkey.substr(nl + 1), false, "NO_DEVICE_REPORT");
      ++stats_.report_timeouts;
      ++stats_.reports_failed;
    }
    store_.Write(std::move(b), [this, alive = alive_, p](Status s) mutable {
      boost::asio::post(core_, [this, alive, p = std::move(p), s]() mutable {
        if (*alive && s.ok() && p) uplink_.Adopt(std::move(*p));
      });
    });
  }
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Sweep();
  });
}

}  // namespace msgin5g::gateway::n3g
