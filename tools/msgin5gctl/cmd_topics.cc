// topics list|subscribe|unsubscribe (/admin/v1/topics/{topic}/subscribers).
#include <ctime>

#include "tools/msgin5gctl/address.h"
#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {

namespace json = boost::json;

namespace {

// now + ms as RFC 3339 in UTC with milliseconds: 2026-12-03T11:32:42.123Z.
std::string Rfc3339FromNow(long long ms) {
  auto t = std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
  auto since = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(since / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(since % 1000));
  return out;
}

std::string SubscriberPath(const std::string& topic, const Address& a) {
  return "/topics/" + Segment(topic) + "/subscribers" + AddressPath(a);
}

}  // namespace

Result<Rendered> RunTopicsList(const CommandContext& c) {
  auto res = CallForObject(c, "GET", "/topics/" + Segment(c.args[0]) + "/subscribers");
  if (!res.ok()) return res.error();
  Table t({"TOPIC", "SUBSCRIBER", "EXPIRY"});
  if (const auto* subs = res->if_contains("subscribers"); subs != nullptr && subs->is_array()) {
    for (const auto& s : subs->get_array()) {
      t.Add({c.args[0], CellOf(s, "addrType") + ":" + CellOf(s, "addr"), CellOf(s, "expiry")});
    }
  }
  return Show(*res, t.Render());
}

Result<Rendered> RunTopicsSubscribe(const CommandContext& c) {
  auto a = ParseMember(c.args[1]);
  if (!a.ok()) return a.error();
  json::value expiry = nullptr;
  if (auto ms = c.inv.get("--expiry-ms")) {
    auto v = ParseInteger(*ms, 1, 100LL * 365 * 24 * 3600 * 1000);
    if (!v) return UsageError("--expiry-ms must be a whole number of milliseconds, at least 1");
    expiry = Rfc3339FromNow(*v);
  }
  std::string body = expiry.is_null() ? "" : json::serialize(json::object{{"expiry", expiry}});
  auto res = c.api->Call("PUT", SubscriberPath(c.args[0], *a), body);
  if (!res.ok()) return res.error();
  std::string text = a->type + ":" + a->addr + " subscribed to topic " + c.args[0];
  if (!expiry.is_null()) text += " until " + std::string(expiry.get_string());
  return Show(json::object{{"topic", c.args[0]}, {"subscriber", AddressJson(*a)}, {"expiry", expiry}},
              text + "\n");
}

Result<Rendered> RunTopicsUnsubscribe(const CommandContext& c) {
  auto a = ParseMember(c.args[1]);
  if (!a.ok()) return a.error();
  auto res = c.api->Call("DELETE", SubscriberPath(c.args[0], *a));
  if (!res.ok()) return res.error();
  return Show(json::object{{"topic", c.args[0]}, {"subscriber", AddressJson(*a)}, {"removed", true}},
              a->type + ":" + a->addr + " unsubscribed from topic " + c.args[0] + "\n");
}

}  // namespace msgin5gctl
