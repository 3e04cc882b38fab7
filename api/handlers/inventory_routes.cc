#include "api/handlers/inventory_routes.h"

#include "api/handlers/admin_json.h"
#include "api/http/problem.h"

namespace msgin5g::api {
namespace {

using admin_json::JsonResponse;
using admin_json::TimeJson;
using admin_json::ToJson;
using http::Request;
using http::Responder;
namespace json = boost::json;

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 10000;

json::object AsJson(const broker::AsRegistration& a) {
  return {{"registrationId", a.registration_id}, {"asSvcId", a.as_svc_id},
          {"appId", a.app_id},                   {"targetUri", a.target_uri},
          {"owner", a.owner}};
}

json::object UeJson(const broker::RegistrationList::Ue& u) {
  const auto& r = u.registration;
  json::object o{{"ueId", r.ue_id},
                 {"endpoint", r.endpoint},
                 {"registeredAt", TimeJson(r.registered_ms)},
                 {"asleep", u.asleep}};
  if (r.max_segment_bytes != 0) o["maxSegmentBytes"] = r.max_segment_bytes;
  if (!r.comm_availability.empty()) o["commAvailability"] = r.comm_availability;
  if (!r.psk_identity.empty()) o["pskIdentity"] = r.psk_identity;
  return o;
}

json::object DestinationJson(const broker::DestinationView& d) {
  return {{"channel", d.channel},
          {"base", d.base},
          {"ready", d.ready},
          {"inFlight", d.in_flight},
          {"failures", d.failures},
          {"breaker", d.breaker},
          {"blockedUntil", TimeJson(d.blocked_until_ms)}};
}

}  // namespace

void AddInventoryRoutes(http::Router& router, broker::Admin& admin) {
  router.Add("GET", "/admin/v1/queues", "admin.queues.list", [&admin](Request& req, Responder r) {
    auto limit = admin_json::Limit(req, r, kDefaultLimit, kMaxLimit);
    if (!limit) return;
    admin.ListQueues(*limit, [r](Result<broker::QueueList> list) {
      if (!list.ok()) return r.Send(admin_json::Error(list.status()));
      json::array arr;
      for (const auto& e : list->largest) {
        json::object o = ToJson(e.recipient);
        o["count"] = e.messages;
        o["bytes"] = e.bytes;
        arr.push_back(std::move(o));
      }
      r.Send(JsonResponse(200, json::object{{"recipients", list->recipients},
                                            {"queues", std::move(arr)}}));
    });
  });
  router.Add("GET", "/admin/v1/registrations", "admin.registrations.list",
             [&admin](Request& req, Responder r) {
               auto limit = admin_json::Limit(req, r, kDefaultLimit, kMaxLimit);
               if (!limit) return;
               std::string after = admin_json::QueryParam(req, "after").value_or("");
               admin.ListRegistrations(after, *limit, [r](Result<broker::RegistrationList> list) {
                 if (!list.ok()) return r.Send(admin_json::Error(list.status()));
                 json::array as, ue;
                 for (const auto& a : list->as) as.push_back(AsJson(a));
                 for (const auto& u : list->ue) ue.push_back(UeJson(u));
                 json::object out{{"as", std::move(as)},
                                  {"ue", std::move(ue)},
                                  {"ueTotal", list->ue_total},
                                  {"ueAsleep", list->ue_asleep},
                                  {"ueMore", list->ue_more}};
                 r.Send(JsonResponse(200, out));
               });
             });
  router.Add("GET", "/admin/v1/destinations", "admin.destinations.list",
             [&admin](Request& req, Responder r) {
               auto limit = admin_json::Limit(req, r, kDefaultLimit, kMaxLimit);
               if (!limit) return;
               auto ues = admin_json::QueryParam(req, "ues");
               if (ues && *ues != "true" && *ues != "false") {
                 return r.Send(http::MakeProblem(400, http::cause::kInvalidMsgFormat,
                                                 "ues must be true or false",
                                                 {{"ues", "must be true or false"}}));
               }
               admin.ListDestinations(
                   ues && *ues == "true", *limit,
                   [r](Result<std::vector<broker::DestinationView>> list) {
                     if (!list.ok()) return r.Send(admin_json::Error(list.status()));
                     json::array arr;
                     for (const auto& d : *list) arr.push_back(DestinationJson(d));
                     r.Send(JsonResponse(200, json::object{{"destinations", std::move(arr)}}));
                   });
             });
  router.Add("GET", "/admin/v1/gateways", "admin.gateways.list", [&admin](Request&, Responder r) {
    admin.ListGateways([r](Result<std::vector<broker::GatewayView>> list) {
      if (!list.ok()) return r.Send(admin_json::Error(list.status()));
      json::array arr;
      for (const auto& g : *list) {
        json::object o{{"name", g.info.name},
                       {"type", broker::GatewayKindName(g.info.kind)},
                       {"apiRoot", g.info.api_root}};
        if (g.destination) {
          o["destination"] = DestinationJson(*g.destination);
        } else {
          o["destination"] = nullptr;  // nothing sent to it since the start
        }
        arr.push_back(std::move(o));
      }
      r.Send(JsonResponse(200, json::object{{"gateways", std::move(arr)}}));
    });
  });
}

}  // namespace msgin5g::api
