#include "api/handlers/admin_routes.h"
#include "api/handlers/admin_json.h"

#include <charconv>

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include "api/http/problem.h"
#include "api/sbi/codec.h"

namespace msgin5g::api {

namespace admin_json {

using http::MakeProblem;
using http::Request;
using http::Responder;
using http::Response;
namespace cause = http::cause;

// Path identifiers (group ids, topics, addresses, rule names) become storage keys: bounded and
// free of control characters.
bool BadId(std::string_view id) {
  if (id.empty() || id.size() > 1024) return true;
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

json::object ToJson(const broker::Address& a) {
  return {{"addrType", broker::AddressTypeName(a.type)}, {"addr", a.id}};
}

json::value TimeJson(std::int64_t ms) {
  if (ms == 0) return nullptr;
  return json::value(sbi::FormatDateTime(std::chrono::system_clock::time_point(
      std::chrono::milliseconds(ms))));
}

Response JsonResponse(int status, const json::value& v) {
  return Response::Json(status, json::serialize(v));
}

Response Error(const Status& st) {
  return http::ProblemFromStatus(st, st.code() == StatusCode::kNotFound ? std::string_view("RESOURCE_NOT_FOUND")
                                                                        : std::string_view());
}

// Parses a JSON object body; on failure answers the request and returns nullopt.
std::optional<json::object> Body(const Request& req, const Responder& r, bool required) {
  if (req.body.empty() && !required) return json::object();
  std::string_view ct = req.header("content-type");
  if (ct.substr(0, 16) != "application/json") {
    r.Send(MakeProblem(415, cause::kUnsupportedMediaType, "Content-Type application/json is required",
                       {{"Content-Type", "must be application/json"}}));
    return std::nullopt;
  }
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec || !v.is_object()) {
    r.Send(MakeProblem(400, cause::kInvalidMsgFormat, "body must be a JSON object"));
    return std::nullopt;
  }
  // As on the SBI: a repeated member name is refused, not resolved to the last one.
  if (auto dup = sbi::FindDuplicateMember(req.body)) {
    r.Send(MakeProblem(400, cause::kInvalidMsgFormat, "member " + *dup + " appears twice",
                       {{*dup, "repeated member name"}}));
    return std::nullopt;
  }
  return v.as_object();
}

std::optional<std::size_t> Limit(const Request& req, const Responder& r, std::size_t fallback,
                                 std::size_t max) {
  auto v = QueryParam(req, "limit");
  if (!v) return fallback;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 1 || n > max) {
    const std::string why = "must be an integer 1.." + std::to_string(max);
    r.Send(MakeProblem(400, cause::kInvalidMsgFormat, "limit " + why, {{"limit", why}}));
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> QueryParam(const Request& req, std::string_view key) {
  auto q = req.target.find('?');
  if (q == std::string::npos) return std::nullopt;
  auto parsed = boost::urls::parse_query(std::string_view(req.target).substr(q + 1));
  if (!parsed) return std::nullopt;
  for (const auto& p : *parsed) {
    if (p.key == key) return std::string(p.value);
  }
  return std::nullopt;
}

}  // namespace admin_json

namespace {
using namespace admin_json;

namespace json = boost::json;
using broker::Address;
using broker::AddressType;
using http::MakeProblem;
using http::Request;
using http::Responder;
using http::Response;
namespace cause = http::cause;

// Reads {"addrType","addr"} at `ptr`; appends invalidParams on error.
std::optional<Address> ReadAddress(const json::value* v, const std::string& ptr,
                                   std::vector<http::InvalidParam>* bad) {
  if (v == nullptr || !v->is_object()) {
    bad->push_back({ptr, "must be an Address object"});
    return std::nullopt;
  }
  const auto& o = v->as_object();
  const auto* t = o.if_contains("addrType");
  const auto* a = o.if_contains("addr");
  std::optional<AddressType> type;
  if (t != nullptr && t->is_string()) type = broker::ParseAddressType(t->as_string());
  if (!type || (*type != AddressType::kUe && *type != AddressType::kAs)) {
    bad->push_back({ptr + "/addrType", "must be UE or AS"});
    return std::nullopt;
  }
  if (a == nullptr || !a->is_string() || BadId(a->as_string())) {
    bad->push_back({ptr + "/addr", "must be 1 to 1024 bytes without control characters"});
    return std::nullopt;
  }
  return Address{*type, std::string(a->as_string())};
}

std::optional<Address> PathAddress(const Request& req, const Responder& r) {
  auto type = broker::ParseAddressType(req.PathParam("addrType"));
  if (!type) {
    r.Send(MakeProblem(400, cause::kInvalidMsgFormat,
                       "addrType must be one of UE, AS, GROUP, BC, TOPIC",
                       {{"addrType", "unsupported address type"}}));
    return std::nullopt;
  }
  return Address{*type, std::string(req.PathParam("addr"))};
}

json::object GroupJson(const broker::GroupRecord& g) {
  json::array members;
  for (const auto& m : g.members) members.push_back(ToJson(m));
  return {{"groupId", g.group_id}, {"members", std::move(members)}};
}

void PutGroup(broker::Admin& admin, Request& req, Responder r, std::string id, int status) {
  auto body = Body(req, r);
  if (!body) return;
  std::vector<http::InvalidParam> bad;
  broker::GroupRecord g;
  if (id.empty()) {
    const auto* gid = body->if_contains("groupId");
    if (gid == nullptr || !gid->is_string() || BadId(gid->as_string())) {
      bad.push_back({"/groupId", "must be 1 to 1024 bytes without control characters"});
    } else {
      id = std::string(gid->as_string());
    }
  }
  g.group_id = id;
  const auto* members = body->if_contains("members");
  if (members == nullptr || !members->is_array()) {
    bad.push_back({"/members", "must be an array of Address"});
  } else {
    const auto& arr = members->as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (auto a = ReadAddress(&arr[i], "/members/" + std::to_string(i), &bad)) {
        g.members.push_back(std::move(*a));
      }
    }
  }
  if (!bad.empty()) {
    return r.Send(MakeProblem(400, bad.front().param == "/groupId" ? cause::kMandatoryIeMissing
                                                                   : cause::kMandatoryIeIncorrect,
                              bad.front().param + " " + bad.front().reason, bad));
  }
  admin.PutGroup(g, [r, g, status](Status st) {
    if (!st.ok()) return r.Send(Error(st));
    r.Send(JsonResponse(status, GroupJson(g)));
  });
}

http::Handler Checked(http::Handler h) {
  return [h = std::move(h)](Request& req, Responder r) {
    for (const auto& [name, value] : req.path_params) {
      if (BadId(value)) {
        return r.Send(MakeProblem(400, cause::kInvalidMsgFormat,
                                  name + " must be 1 to 1024 bytes without control characters",
                                  {{name, "invalid identifier"}}));
      }
    }
    h(req, std::move(r));
  };
}

// Adds routes whose path parameters are checked first.
class CheckedRouter {
 public:
  explicit CheckedRouter(http::Router& r) : r_(r) {}
  void Add(std::string method, std::string pattern, std::string operation, http::Handler h) {
    r_.Add(std::move(method), std::move(pattern), std::move(operation), Checked(std::move(h)));
  }

 private:
  http::Router& r_;
};

}  // namespace

void AddAdminRoutes(http::Router& base_router, broker::Admin& admin) {
  CheckedRouter router(base_router);
  const std::string root = "/admin/v1";
  router.Add("POST", root + "/groups", "admin.groups.create", [&admin](Request& req, Responder r) {
    PutGroup(admin, req, std::move(r), "", 201);
  });
  router.Add("PUT", root + "/groups/{groupId}", "admin.groups.put",
             [&admin](Request& req, Responder r) {
               PutGroup(admin, req, std::move(r), std::string(req.PathParam("groupId")), 200);
             });
  router.Add("GET", root + "/groups", "admin.groups.list", [&admin](Request&, Responder r) {
    admin.ListGroups([r](Result<std::vector<broker::GroupRecord>> groups) {
      if (!groups.ok()) return r.Send(Error(groups.status()));
      json::array arr;
      for (const auto& g : *groups) arr.push_back(GroupJson(g));
      r.Send(JsonResponse(200, json::object{{"groups", std::move(arr)}}));
    });
  });
  router.Add("DELETE", root + "/groups/{groupId}", "admin.groups.delete",
             [&admin](Request& req, Responder r) {
               admin.DeleteGroup(std::string(req.PathParam("groupId")), [r](Status st) {
                 r.Send(st.ok() ? Response::Empty(204) : Error(st));
               });
             });
  router.Add("POST", root + "/groups/{groupId}/members", "admin.groups.add-member",
             [&admin](Request& req, Responder r) {
               auto body = Body(req, r);
               if (!body) return;
               std::vector<http::InvalidParam> bad;
               json::value v(*body);
               auto a = ReadAddress(&v, "", &bad);
               if (!a) {
                 return r.Send(MakeProblem(400, cause::kMandatoryIeIncorrect,
                                           bad.front().param + " " + bad.front().reason, bad));
               }
               admin.AddGroupMember(std::string(req.PathParam("groupId")), *a, [r](Status st) {
                 r.Send(st.ok() ? Response::Empty(204) : Error(st));
               });
             });
  router.Add("DELETE", root + "/groups/{groupId}/members/{addrType}/{addr}",
             "admin.groups.remove-member", [&admin](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.RemoveGroupMember(std::string(req.PathParam("groupId")), *a, [r](Status st) {
                 r.Send(st.ok() ? Response::Empty(204) : Error(st));
               });
             });

  router.Add("PUT", root + "/topics/{topic}/subscribers/{addrType}/{addr}", "admin.topics.subscribe",
             [&admin](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               if (a->type != AddressType::kUe && a->type != AddressType::kAs) {
                 return r.Send(MakeProblem(400, cause::kInvalidMsgFormat,
                                           "subscribers are UEs or ASs",
                                           {{"addrType", "must be UE or AS"}}));
               }
               auto body = Body(req, r, /*required=*/false);
               if (!body) return;
               broker::TopicSubscriptionRecord s{std::string(req.PathParam("topic")), *a, 0};
               if (const auto* e = body->if_contains("expiry")) {
                 std::optional<std::chrono::system_clock::time_point> t;
                 if (e->is_string()) t = sbi::ParseDateTime(e->as_string());
                 if (!t) {
                   return r.Send(MakeProblem(400, cause::kOptionalIeIncorrect,
                                             "/expiry must be an RFC 3339 date-time",
                                             {{"/expiry", "must be an RFC 3339 date-time"}}));
                 }
                 s.expiry_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   t->time_since_epoch())
                                   .count();
               }
               admin.Subscribe(s, [r](Status st) {
                 r.Send(st.ok() ? Response::Empty(204) : Error(st));
               });
             });
  router.Add("DELETE", root + "/topics/{topic}/subscribers/{addrType}/{addr}",
             "admin.topics.unsubscribe", [&admin](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.Unsubscribe(std::string(req.PathParam("topic")), *a, [r](Status st) {
                 r.Send(st.ok() ? Response::Empty(204) : Error(st));
               });
             });
  router.Add("GET", root + "/topics/{topic}/subscribers", "admin.topics.list",
             [&admin](Request& req, Responder r) {
               admin.ListSubscribers(
                   std::string(req.PathParam("topic")),
                   [r](Result<std::vector<broker::TopicSubscriptionRecord>> subs) {
                     if (!subs.ok()) return r.Send(Error(subs.status()));
                     json::array arr;
                     for (const auto& s : *subs) {
                       json::object o = ToJson(s.subscriber);
                       o["expiry"] = TimeJson(s.expiry_ms);
                       arr.push_back(std::move(o));
                     }
                     r.Send(JsonResponse(200, json::object{{"subscribers", std::move(arr)}}));
                   });
             });

  router.Add("PUT", root + "/routing-rules/{name}", "admin.routing.put",
             [&admin](Request& req, Responder r) {
               auto body = Body(req, r);
               if (!body) return;
               broker::RoutingRuleRecord rule;
               rule.name = std::string(req.PathParam("name"));
               std::vector<http::InvalidParam> bad;
               const auto* p = body->if_contains("pattern");
               if (p == nullptr || !p->is_string() || p->as_string().empty()) {
                 bad.push_back({"/pattern", "must be a non-empty UE id pattern"});
               } else {
                 rule.pattern = std::string(p->as_string());
               }
               if (const auto* g = body->if_contains("gateway")) {
                 // Omitted: direct. An empty name is refused rather than read as "direct": it
                 // is far more often a template's unfilled field than a decision.
                 if (!g->is_string() || g->as_string().empty()) {
                   bad.push_back({"/gateway", "must name a configured gateway (omit it for direct)"});
                 } else {
                   rule.gateway = std::string(g->as_string());
                 }
               }
               if (const auto* o = body->if_contains("order")) {
                 if (!o->is_int64() || o->as_int64() < 0 || o->as_int64() > 1000000) {
                   bad.push_back({"/order", "must be an integer 0..1000000"});
                 } else {
                   rule.order = static_cast<std::uint32_t>(o->as_int64());
                 }
               }
               if (!bad.empty()) {
                 return r.Send(MakeProblem(400, cause::kMandatoryIeIncorrect,
                                           bad.front().param + " " + bad.front().reason, bad));
               }
               admin.PutRoutingRule(rule, [r, rule](Status st) {
                 if (!st.ok()) return r.Send(Error(st));
                 r.Send(JsonResponse(200, json::object{{"name", rule.name},
                                                       {"pattern", rule.pattern},
                                                       {"gateway", rule.gateway},
                                                       {"order", rule.order}}));
               });
             });
  router.Add("DELETE", root + "/routing-rules/{name}", "admin.routing.delete",
             [&admin](Request& req, Responder r) {
               admin.DeleteRoutingRule(std::string(req.PathParam("name")), [r](Status st) {
                 r.Send(st.ok() ? Response::Empty(204) : Error(st));
               });
             });
  router.Add("GET", root + "/routing-rules", "admin.routing.list", [&admin](Request&, Responder r) {
    admin.ListRoutingRules([r](Result<std::vector<broker::RoutingRuleRecord>> rules) {
      if (!rules.ok()) return r.Send(Error(rules.status()));
      json::array arr;
      for (const auto& x : *rules) {
        arr.push_back(json::object{
            {"name", x.name}, {"pattern", x.pattern}, {"gateway", x.gateway}, {"order", x.order}});
      }
      r.Send(JsonResponse(200, json::object{{"rules", std::move(arr)}}));
    });
  });

  router.Add("GET", root + "/queues/{addrType}/{addr}", "admin.queues.get",
             [&admin](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.SummarizeQueue(*a, [r](Result<broker::QueueSummary> q) {
                 if (!q.ok()) return r.Send(Error(q.status()));
                 r.Send(JsonResponse(
                     200, json::object{{"count", q->count},
                                       {"bytes", q->bytes},
                                       {"oldest", TimeJson(q->oldest_due_ms)},
                                       {"byPriority", json::object{{"HIGH", q->by_priority[0]},
                                                                   {"MIDDLE", q->by_priority[1]},
                                                                   {"LOW", q->by_priority[2]}}}}));
               });
             });
  // Removals answer once they are stored; entries being sent at that moment finish on their own.
  auto removed = [](const Responder& r) {
    return [r](Result<broker::Admin::Removed> x) {
      if (!x.ok()) return r.Send(Error(x.status()));
      r.Send(JsonResponse(200, json::object{{"removed", x->removed}, {"inFlight", x->in_flight}}));
    };
  };
  router.Add("DELETE", root + "/queues/{addrType}/{addr}", "admin.queues.purge",
             [&admin, removed](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.PurgeQueue(*a, removed(r));
             });
  router.Add("DELETE", root + "/messages/{addrType}/{addr}/{msgId}", "admin.messages.delete",
             [&admin, removed](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.DeleteMessage(*a, std::string(req.PathParam("msgId")), removed(r));
             });
  router.Add("POST", root + "/messages/{addrType}/{addr}/{msgId}/resend", "admin.messages.resend",
             [&admin](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.ResendMessage(*a, std::string(req.PathParam("msgId")),
                                   [r](Result<broker::Admin::Resent> x) {
                 if (!x.ok()) {
                   return r.Send(x.status().code() == StatusCode::kConflict
                                     ? http::ProblemFromStatus(x.status(), "MESSAGE_FINISHED")
                                     : Error(x.status()));
                 }
                 r.Send(JsonResponse(200, json::object{{"resent", x->ready},
                                                       {"inFlight", x->in_flight},
                                                       {"noRoute", x->no_route},
                                                       {"breakerOpen", x->breaker_open}}));
               });
             });
  router.Add("GET", root + "/messages/{addrType}/{addr}/{msgId}", "admin.messages.get",
             [&admin](Request& req, Responder r) {
               auto a = PathAddress(req, r);
               if (!a) return;
               admin.FindMessage(*a, std::string(req.PathParam("msgId")),
                                 [r](Result<broker::MessageView> m) {
                                   if (!m.ok()) return r.Send(Error(m.status()));
                                   json::array recipients;
                                   for (const auto& x : m->recipients) {
                                     json::object o = ToJson(x.recipient);
                                     o["state"] = x.state;
                                     o["priority"] = broker::PriorityName(x.priority);
                                     recipients.push_back(std::move(o));
                                   }
                                   json::object o{{"msgId", m->msg_id},
                                                  {"oriAddr", ToJson(m->origin)},
                                                  {"outcome", m->outcome}};
                                   if (m->seq != 0 && m->kind.empty()) {
                                     // Every recipient is done: the message is no longer stored
                                     // (its msgId is remembered for the dedup window).
                                     o["state"] = "FINISHED";
                                   } else if (m->seq != 0) {
                                     o["state"] = "PENDING";
                                     o["kind"] = m->kind;
                                     o["destAddr"] = ToJson(m->destination);
                                     o["priority"] = broker::PriorityName(m->priority);
                                     o["payloadBytes"] = m->payload_bytes;
                                     o["accepted"] = TimeJson(m->accepted_ms);
                                     o["expiry"] = TimeJson(m->expiry_ms);
                                     o["delivStReqInd"] = m->report_requested;
                                   }
                                   o["recipients"] = std::move(recipients);
                                   // Who it did not reach, and why: kept after it is gone.
                                   json::array undelivered;
                                   for (const auto& u : m->undelivered) {
                                     json::object x = ToJson(u.recipient);
                                     x["state"] = u.state;
                                     x["cause"] = u.cause;
                                     x["finished"] = TimeJson(u.finished_ms);
                                     undelivered.push_back(std::move(x));
                                   }
                                   if (!undelivered.empty()) {
                                     o["undelivered"] = std::move(undelivered);
                                   }
                                   if (m->undelivered_more > 0) {
                                     o["undeliveredMore"] = m->undelivered_more;
                                   }
                                   r.Send(JsonResponse(200, o));
                                 });
             });
  router.Add("GET", root + "/stats", "admin.stats", [&admin](Request&, Responder r) {
    admin.Stats([r](Result<broker::BrokerStats> s) {
      if (!s.ok()) return r.Send(Error(s.status()));
      r.Send(JsonResponse(
          200, json::object{{"queued", json::object{{"HIGH", s->queued_by_priority[0]},
                                                    {"MIDDLE", s->queued_by_priority[1]},
                                                    {"LOW", s->queued_by_priority[2]}}},
                            {"queuedBytes", s->queued_bytes},
                            {"registrations", s->registrations},
                            {"groups", s->groups},
                            {"topicSubscriptions", s->topic_subscriptions},
                            {"routingRules", s->routing_rules},
                            {"openSegmentSets", s->open_segment_sets},
                            {"storagePending", s->storage_pending},
                            {"storageHealthy", s->storage_healthy}}));
    });
  });
}

}  // namespace msgin5g::api
