#include "api/handlers/capif_routes.h"

#include <algorithm>

#include "api/handlers/admin_json.h"
#include "api/http/problem.h"

namespace msgin5g::api {
namespace {

using http::MakeProblem;
using http::Request;
using http::Responder;
using http::Response;
namespace json = boost::json;

Response NotStarted() {
  Response r = MakeProblem(503, http::cause::kCapifUnavailable,
                           "the CAPIF core function client is not running yet");
  http::SetRetryAfter(r, 1);
  return r;
}

}  // namespace

void AddCapifRoutes(http::Router& router, std::function<capif::CcfClient*()> ccf) {
  router.Add("DELETE", "/admin/v1/capif/invokers/{apiInvokerId}", "admin.capif.forget",
             [ccf](Request& req, Responder r) {
               auto* client = ccf();
               if (client == nullptr) return r.Send(NotStarted());
               client->ForgetInvoker(std::string(req.PathParam("apiInvokerId")));
               r.Send(Response::Empty(204));
             });
  router.Add(
      "POST", "/admin/v1/capif/invokers/{apiInvokerId}/revoke", "admin.capif.revoke",
      [ccf](Request& req, Responder r) {
        auto body = admin_json::Body(req, r, /*required=*/false);
        if (!body) return;
        std::vector<std::string> apis;
        if (const auto* v = body->if_contains("apis")) {
          static const std::vector<std::string> kOurs = {"msgs-asregistration", "msgs-msgdelivery"};
          bool ok = v->is_array() && !v->as_array().empty();
          for (const auto& a : ok ? v->as_array() : json::array()) {
            ok = ok && a.is_string() &&
                 std::find(kOurs.begin(), kOurs.end(), std::string(a.as_string())) != kOurs.end();
            if (ok) apis.emplace_back(a.as_string());
          }
          if (!ok) {
            return r.Send(MakeProblem(400, http::cause::kOptionalIeIncorrect,
                                      "/apis must be a non-empty array of msgs-asregistration, "
                                      "msgs-msgdelivery",
                                      {{"/apis", "not a list of our API names"}}));
          }
        }
        std::string cause = "UNEXPECTED_REASON";
        if (const auto* c = body->if_contains("cause")) {
          if (!c->is_string() || (c->as_string() != "OVERLIMIT_USAGE" &&
                                  c->as_string() != "UNEXPECTED_REASON")) {
            return r.Send(MakeProblem(400, http::cause::kOptionalIeIncorrect,
                                      "/cause must be OVERLIMIT_USAGE or UNEXPECTED_REASON",
                                      {{"/cause", "not a Cause of TS 29.222"}}));
          }
          cause = std::string(c->as_string());
        }
        auto* client = ccf();
        if (client == nullptr) return r.Send(NotStarted());
        client->RevokeInvoker(std::string(req.PathParam("apiInvokerId")), std::move(apis), std::move(cause),
                              [r](Status st) {
                                if (st.ok()) return r.Send(Response::Empty(204));
                                if (st.code() == StatusCode::kUnavailable) {
                                  Response resp = MakeProblem(503, http::cause::kCapifUnavailable,
                                                              st.message());
                                  http::SetRetryAfter(resp, 5);
                                  return r.Send(std::move(resp));
                                }
                                if (st.code() == StatusCode::kInternal) {  // the CCF refused it
                                  return r.Send(MakeProblem(
                                      502, http::cause::kUnspecifiedNfFailure, st.message()));
                                }
                                r.Send(admin_json::Error(st));
                              });
      });
}

}  // namespace msgin5g::api
