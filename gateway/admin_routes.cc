#include "gateway/admin_routes.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "api/http/problem.h"
#include "api/sbi/codec.h"
#include "api/sbi/request_checks.h"

namespace msgin5g::gateway {

namespace json = boost::json;
using api::http::MakeProblem;
using api::http::Request;
using api::http::Responder;
using api::http::Response;
namespace cause = api::http::cause;

namespace {

Response Json(int status, const json::object& o) { return Response::Json(status, json::serialize(o)); }

json::object EntryJson(const IdentityMap::Entry& e) {
  return {{"ueSvcId", e.ue}, {"msisdn", e.msisdn}, {"configured", e.configured}};
}

void PutIdentity(boost::asio::io_context& core, IdentityMap& ids, Request& req, Responder r) {
  if (auto bad = api::sbi::CheckJsonBody(req)) return r.Send(std::move(*bad));
  if (auto dup = api::sbi::FindDuplicateMember(req.body)) {
    return r.Send(MakeProblem(400, cause::kInvalidMsgFormat, "member " + *dup + " is repeated",
                              {{*dup, "repeated"}}));
  }
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  const json::value* m = !ec && v.is_object() ? v.as_object().if_contains("msisdn") : nullptr;
  if (ec || !v.is_object()) {
    return r.Send(MakeProblem(400, cause::kInvalidMsgFormat, "the body must be a JSON object"));
  }
  if (m == nullptr) {
    return r.Send(MakeProblem(400, cause::kMandatoryIeMissing, "/msisdn is required",
                              {{"/msisdn", "is required"}}));
  }
  if (!m->is_string() || !IdentityMap::IsMsisdn(m->as_string())) {
    return r.Send(MakeProblem(400, cause::kMandatoryIeIncorrect,
                              "/msisdn must be an MSISDN (E.164 digits)",
                              {{"/msisdn", "must be E.164 digits"}}));
  }
  std::string ue(req.PathParam("ueSvcId"));
  api::sbi::Semantics s;
  api::sbi::CheckId(s, "ueSvcId", ue, true);
  if (ue.empty()) s.Bad("ueSvcId", "must not be empty", true);
  if (auto bad = s.Problem()) return r.Send(std::move(*bad));
  std::string msisdn(m->as_string());
  boost::asio::post(core, [&core, &ids, ue, msisdn, r]() {
    ids.Put(ue, msisdn, [&core, ue, msisdn, r](Status st) {
      boost::asio::post(core, [ue, msisdn, r, st]() {
        if (st.code() == StatusCode::kConflict) {
          return r.Send(MakeProblem(409, "MSISDN_IN_USE", st.message(), {{"/msisdn", st.message()}}));
        }
        if (!st.ok()) return r.Send(api::http::ProblemFromStatus(st));
        r.Send(Json(200, EntryJson({ue, msisdn, false})));
      });
    });
  });
}

}  // namespace

void AddAdminRoutes(api::http::Router& router, boost::asio::io_context& core, AdminSources src) {
  IdentityMap* ids = src.ids;
  auto no_l3g = [] {
    return MakeProblem(404, cause::kResourceUriStructureNotFound,
                       "the L3G role is off: no identity map");
  };
  router.Add("GET", "/admin/v1/identities", "admin.identities.list",
             [&core, ids, no_l3g](Request&, Responder r) {
               if (ids == nullptr) return r.Send(no_l3g());
               boost::asio::post(core, [ids, r] {
                 json::array a;
                 for (const auto& e : ids->List()) a.push_back(EntryJson(e));
                 r.Send(Json(200, {{"identities", a}}));
               });
             });
  router.Add("PUT", "/admin/v1/identities/{ueSvcId}", "admin.identities.put",
             [&core, ids, no_l3g](Request& req, Responder r) {
               if (ids == nullptr) return r.Send(no_l3g());
               PutIdentity(core, *ids, req, std::move(r));
             });
  router.Add("DELETE", "/admin/v1/identities/{ueSvcId}", "admin.identities.delete",
             [&core, ids, no_l3g](Request& req, Responder r) {
               if (ids == nullptr) return r.Send(no_l3g());
               std::string ue(req.PathParam("ueSvcId"));
               boost::asio::post(core, [&core, ids, ue, r] {
                 ids->Remove(ue, [&core, r](Status st) {
                   boost::asio::post(core, [r, st] {
                     if (st.code() == StatusCode::kConflict) {
                       return r.Send(MakeProblem(409, cause::kModificationNotAllowed, st.message()));
                     }
                     if (!st.ok()) return r.Send(api::http::ProblemFromStatus(st));
                     r.Send(Response::Empty(204));
                   });
                 });
               });
             });
  router.Add("GET", "/admin/v1/smsc", "admin.smsc",
             [&core, f = src.smsc](Request&, Responder r) {
               boost::asio::post(core, [f, r] { r.Send(Json(200, f())); });
             });
  router.Add("GET", "/admin/v1/queues", "admin.queues",
             [&core, f = src.queues](Request&, Responder r) {
               boost::asio::post(core, [f, r] { r.Send(Json(200, f())); });
             });
}

}  // namespace msgin5g::gateway
