// Admin API for online backups (docs/admin-api.md, docs/operations.md "Backup and restore"):
//   POST /admin/v1/backups          {"name"?} -> 201 with the backup; name defaults to
//                                   msgin5g-YYYYMMDDTHHMMSSZ. 409 BACKUP_EXISTS, 429
//                                   BACKUP_IN_PROGRESS (one at a time), 404 BACKUPS_OFF.
//   GET  /admin/v1/backups          the complete backups, oldest first
//   GET  /admin/v1/backups/{name}
// The answer to POST leaves when the backup is complete (manifest written), seconds to minutes.
#pragma once

#include "api/http/router.h"
#include "broker/admin.h"

namespace msgin5g::api {

void AddBackupRoutes(http::Router& router, broker::Admin& admin);

}  // namespace msgin5g::api
