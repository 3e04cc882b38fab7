// Admin API for API clients (docs/admin-api.md, docs/security.md):
//   GET    /admin/v1/clients               every client in force (file and admin)
//   GET    /admin/v1/clients/{clientId}
//   PUT    /admin/v1/clients/{clientId}    create or replace (stored durably; overrides the file)
//   DELETE /admin/v1/clients/{clientId}    removes an admin-set client (404 for file-only ones)
#pragma once

#include "api/auth/policy_store.h"
#include "api/http/router.h"
#include "broker/admin.h"

namespace msgin5g::api {

void AddClientRoutes(http::Router& router, broker::Admin& admin, auth::PolicyStore& store,
                     auth::Authorizer& auth);

// Restores the admin-set clients stored by the broker (at startup). Invalid stored entries are
// logged and skipped.
void LoadStoredClients(broker::Admin& admin, auth::PolicyStore& store);

}  // namespace msgin5g::api
