#include "api/handlers/drain_routes.h"

#include "api/handlers/admin_json.h"
#include "api/http/problem.h"

namespace msgin5g::api {
namespace {

using admin_json::JsonResponse;
using http::MakeProblem;
using http::Request;
using http::Responder;
namespace json = boost::json;

json::object StateJson(const DrainState& s) {
  return {{"draining", s.draining},
          {"deadline", admin_json::TimeJson(s.deadline_ms)},
          {"pending", s.pending},
          {"deliverable", s.deliverable},
          {"inFlight", s.in_flight}};
}

}  // namespace

void AddDrainRoutes(http::Router& router, DrainControl& drain) {
  router.Add("POST", "/admin/v1/drain", "admin.drain.start", [&drain](Request& req, Responder r) {
    auto body = admin_json::Body(req, r, /*required=*/false);
    if (!body) return;
    std::int64_t seconds = 60;
    if (const auto* d = body->if_contains("deadlineS")) {
      if (!d->is_int64() || d->as_int64() < 1 || d->as_int64() > 3600) {
        return r.Send(MakeProblem(400, http::cause::kMandatoryIeIncorrect,
                                  "/deadlineS must be an integer 1..3600",
                                  {{"/deadlineS", "must be an integer 1..3600"}}));
      }
      seconds = d->as_int64();
    }
    Status st = drain.Start(std::chrono::seconds(seconds));
    if (!st.ok()) return r.Send(MakeProblem(409, "DRAINING", st.message()));
    drain.State([r](DrainState s) { r.Send(JsonResponse(202, StateJson(s))); });
  });
  router.Add("GET", "/admin/v1/drain", "admin.drain.get", [&drain](Request&, Responder r) {
    drain.State([r](DrainState s) { r.Send(JsonResponse(200, StateJson(s))); });
  });
}

}  // namespace msgin5g::api
