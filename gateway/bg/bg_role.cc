#include "gateway/bg/bg_role.h"

#include <boost/json.hpp>

#include "api/http/problem.h"
#include "api/sbi/codec.h"
#include "gateway/records.h"

namespace msgin5g::gateway::bg {

namespace json = boost::json;
using api::http::MakeProblem;
namespace cause = api::http::cause;

Result<std::unique_ptr<BgRole>> BgRole::Create(boost::asio::io_context& core, Store& store,
                                               mqtt::MqttLink& link, BgOptions options) {
  auto topic = mqtt::TopicTemplate::Parse(options.topic, "{areaId}");
  if (!topic.ok()) return Status::InvalidArgument("bg.topic: " + topic.status().message());
  return std::unique_ptr<BgRole>(new BgRole(core, store, link, std::move(options), std::move(*topic)));
}

BgRole::BgRole(boost::asio::io_context& core, Store& store, mqtt::MqttLink& link,
               BgOptions options, mqtt::TopicTemplate topic)
    : link_(link),
      options_(std::move(options)),
      topic_(std::move(topic)),
      outbox_(
          core, store, options_.outbox,
          [this](Outbox::Job& job, Outbox::Finish finish) {
            link_.Publish(rec::Str(job.rec, "topic"), rec::Str(job.rec, "body"), 1,
                          options_.retain,
                          [this, alive = alive_, finish = std::move(finish)](Status st) {
                            if (!*alive) return;
                            Outbox::Outcome o;
                            if (!st.ok()) {
                              o.kind = Outbox::Outcome::Kind::kRetry;
                              o.cause = st.message();
                            } else {
                              ++published_;
                            }
                            finish(std::move(o));
                          });
          },
          // Out of attempts: no report API to say so (msgin5gd reported the hand-over).
          [](Outbox::Job&) { return Outbox::Outcome{}; }) {}

void BgRole::Start() { outbox_.Start(); }
void BgRole::Stop() { outbox_.Stop(); }

std::optional<api::http::Response> BgRole::Admit(const Downlink& d) {
  if (d.kind != Downlink::Kind::kMessage) {
    return MakeProblem(400, cause::kMandatoryIeIncorrect, "a broadcast takes no reports");
  }
  if (auto topic = topic_.Expand(d.dest.addr); !topic.ok()) {
    return MakeProblem(404, cause::kUnknownRecipient,
                       "Broadcast Area " + d.dest.addr + " cannot name a topic: " +
                           topic.status().message(),
                       {{"/destAddr/addr", "not usable in an MQTT topic"}});
  }
  return std::nullopt;
}

std::function<void()> BgRole::Prepare(Batch& batch, const Downlink& d) {
  api::sbi::BgMessageDelivery m;
  m.oriAddr = d.ori;
  m.destAddr = d.dest;
  m.msgId = d.msg_id;
  m.appId = d.app_id;
  m.payload = d.payload;
  m.priority = d.priority.empty() ? std::string("MIDDLE") : d.priority;
  json::object r{{"topic", *topic_.Expand(d.dest.addr)}, {"body", api::sbi::Encode(m)}};
  std::string key = outbox_.Prepare(batch, r);
  return [this, key, r = std::move(r)]() mutable { outbox_.Adopt(key, std::move(r)); };
}

}  // namespace msgin5g::gateway::bg
