// The admin API (/admin/v1/...) on its own listener (loopback by default): groups, topic
// subscriptions, UE routing rules, queue and message inspection, stats. JSON bodies; errors are
// ProblemDetails like the SBI. Documented in docs/admin-api.md.
#pragma once

#include "api/http/router.h"
#include "broker/admin.h"

namespace msgin5g::api {

void AddAdminRoutes(http::Router& router, broker::Admin& admin);

}  // namespace msgin5g::api
