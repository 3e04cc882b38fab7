#include "api/handlers/backup_routes.h"

#include <ctime>

#include "api/handlers/admin_json.h"
#include "api/http/problem.h"
#include "storage/backup_manifest.h"

namespace msgin5g::api {
namespace {

using admin_json::JsonResponse;
using admin_json::TimeJson;
using http::MakeProblem;
using http::Request;
using http::Responder;
using http::Response;
namespace json = boost::json;

json::object BackupJson(const broker::BackupInfo& b) {
  return {{"name", b.name},
          {"directory", b.directory},
          {"formatVersion", b.format_version},
          {"sequence", b.sequence},
          {"createdAt", TimeJson(b.created_ms)},
          {"tookMs", b.took_ms},
          {"files", b.files.size()},
          {"bytes", b.bytes}};
}

Response BackupError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kConflict: return MakeProblem(409, "BACKUP_EXISTS", st.message());
    case StatusCode::kRateLimited: return MakeProblem(429, "BACKUP_IN_PROGRESS", st.message());
    case StatusCode::kNotFound: return MakeProblem(404, "BACKUPS_OFF", st.message());
    case StatusCode::kInvalidArgument:
      return MakeProblem(400, http::cause::kMandatoryIeIncorrect, st.message(),
                         {{"/name", st.message()}});
    case StatusCode::kUnavailable: return MakeProblem(503, "BACKUP_FAILED", st.message());
    default: return http::ProblemFromStatus(st);
  }
}

std::string DefaultName() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "msgin5g-%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

void AddBackupRoutes(http::Router& router, broker::Admin& admin) {
  router.Add("POST", "/admin/v1/backups", "admin.backups.create", [&admin](Request& req, Responder r) {
    auto body = admin_json::Body(req, r, /*required=*/false);
    if (!body) return;
    std::string name = DefaultName();
    if (const auto* n = body->if_contains("name")) {
      if (!n->is_string() || !storage::ValidBackupName(n->as_string())) {
        return r.Send(MakeProblem(400, http::cause::kMandatoryIeIncorrect,
                                  "/name must be 1 to 128 of A-Z a-z 0-9 . _ - not starting with . or -",
                                  {{"/name", "must be 1 to 128 of A-Z a-z 0-9 . _ - not starting "
                                             "with . or -"}}));
      }
      name = std::string(n->as_string());
    }
    admin.CreateBackup(name, [r](Result<broker::BackupInfo> b) {
      if (!b.ok()) return r.Send(BackupError(b.status()));
      Response resp = JsonResponse(201, BackupJson(*b));
      resp.headers.push_back({"location", "/admin/v1/backups/" + b->name});
      r.Send(std::move(resp));
    });
  });
  router.Add("GET", "/admin/v1/backups", "admin.backups.list", [&admin](Request&, Responder r) {
    admin.ListBackups([r](Result<std::vector<broker::BackupInfo>> list) {
      if (!list.ok()) return r.Send(BackupError(list.status()));
      json::array arr;
      for (const auto& b : *list) arr.push_back(BackupJson(b));
      r.Send(JsonResponse(200, json::object{{"backups", std::move(arr)}}));
    });
  });
  router.Add("GET", "/admin/v1/backups/{name}", "admin.backups.get", [&admin](Request& req, Responder r) {
    std::string name(req.PathParam("name"));
    admin.ListBackups([r, name](Result<std::vector<broker::BackupInfo>> list) {
      if (!list.ok()) return r.Send(BackupError(list.status()));
      for (const auto& b : *list) {
        if (b.name == name) return r.Send(JsonResponse(200, BackupJson(b)));
      }
      r.Send(MakeProblem(404, "RESOURCE_NOT_FOUND", "no complete backup named " + name));
    });
  });
}

}  // namespace msgin5g::api
