#include "api/handlers/client_routes.h"

#include <future>

#include "api/handlers/admin_json.h"
#include "api/http/problem.h"
#include "common/logging.h"

namespace msgin5g::api {

namespace {

using http::MakeProblem;
using http::Request;
using http::Responder;
using http::Response;
namespace cause = http::cause;
using namespace admin_json;

}  // namespace

void AddClientRoutes(http::Router& router, broker::Admin& admin, auth::PolicyStore& store,
                     auth::Authorizer& auth) {
  router.Add("GET", "/admin/v1/clients", "clients.list", [&auth](Request&, Responder r) {
    std::string out = "{\"clients\":[";
    auto policies = auth.policies();
    for (std::size_t i = 0; i < policies->clients().size(); ++i) {
      if (i > 0) out += ',';
      out += auth::PolicyToJson(policies->clients()[i]);
    }
    r.Send(Response::Json(200, out + "]}"));
  });
  router.Add("GET", "/admin/v1/clients/{clientId}", "clients.get", [&auth](Request& req, Responder r) {
    auto policies = auth.policies();
    const auto* p = policies->Find(req.PathParam("clientId"));
    if (p == nullptr) {
      return r.Send(MakeProblem(404, "RESOURCE_NOT_FOUND",
                                "no client '" + std::string(req.PathParam("clientId")) + "'"));
    }
    r.Send(Response::Json(200, auth::PolicyToJson(*p)));
  });
  router.Add("PUT", "/admin/v1/clients/{clientId}", "clients.put",
             [&admin, &store](Request& req, Responder r) {
               std::string id(req.PathParam("clientId"));
               if (BadId(id)) {
                 return r.Send(MakeProblem(400, cause::kInvalidMsgFormat, "bad client id",
                                           {{"clientId", "1..1024 bytes, no control characters"}}));
               }
               if (!Body(req, r)) return;
               std::vector<std::pair<std::string, std::string>> bad;
               auto p = auth::PolicyFromJson(id, req.body, &bad);
               if (!p.ok()) {
                 std::vector<http::InvalidParam> params;
                 for (auto& [ptr, reason] : bad) params.push_back({ptr, reason});
                 return r.Send(MakeProblem(400, cause::kMandatoryIeIncorrect, p.status().message(),
                                           std::move(params)));
               }
               if (Status st = store.CheckAdmin(*p); !st.ok()) {
                 return r.Send(MakeProblem(400, cause::kMandatoryIeIncorrect, st.message()));
               }
               broker::ClientPolicyRecord rec{id, auth::PolicyToStoredJson(*p)};
               admin.PutClientPolicy(std::move(rec), [r, &store, p = *p](Status st) mutable {
                 if (!st.ok()) return r.Send(Error(st));
                 // Checked above; a concurrent PUT could still make it clash: then say so.
                 if (Status s2 = store.PutAdmin(p); !s2.ok()) {
                   return r.Send(MakeProblem(409, "CONFLICT", s2.message()));
                 }
                 p.from_admin = true;
                 r.Send(Response::Json(200, auth::PolicyToJson(p)));
               });
             });
  router.Add("DELETE", "/admin/v1/clients/{clientId}", "clients.delete",
             [&admin, &store](Request& req, Responder r) {
               std::string id(req.PathParam("clientId"));
               admin.DeleteClientPolicy(id, [r, &store, id](Status st) {
                 if (!st.ok()) return r.Send(Error(st));
                 store.RemoveAdmin(id);
                 r.Send(Response::Empty(204));
               });
             });
}

void LoadStoredClients(broker::Admin& admin, auth::PolicyStore& store) {
  std::promise<Result<std::vector<broker::ClientPolicyRecord>>> listed;
  admin.ListClientPolicies(
      [&listed](Result<std::vector<broker::ClientPolicyRecord>> r) { listed.set_value(std::move(r)); });
  auto records = listed.get_future().get();
  if (!records.ok()) {
    LOG_ERROR("security", "cannot read stored clients: %s", records.status().message().c_str());
    return;
  }
  for (const auto& rec : *records) {
    std::vector<std::pair<std::string, std::string>> bad;
    auto p = auth::PolicyFromJson(rec.client_id, rec.json, &bad);
    Status st = p.ok() ? store.PutAdmin(*p) : p.status();
    if (!st.ok()) {
      LOG_ERROR("security", "stored client '%s' skipped: %s", rec.client_id.c_str(),
                st.message().c_str());
    }
  }
}

}  // namespace msgin5g::api
