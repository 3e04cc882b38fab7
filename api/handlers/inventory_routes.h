// Admin API views of what the broker holds in memory (docs/admin-api.md):
//   GET /admin/v1/queues?limit=N            the N largest queues (default 100, at most 10000)
//   GET /admin/v1/registrations?limit=N&after=UE_ID
//                                           every AS registration; UE registrations in id order
//                                           from after `after` (default 100, at most 10000)
//   GET /admin/v1/destinations?ues=true&limit=N
//                                           where deliveries go, with their circuit breakers
//   GET /admin/v1/gateways                  the configured gateways and their breaker state
// Each call walks every recipient / UE on the store's writer thread: fine for an operator, not
// for a dashboard that polls every second (the metrics have the totals).
#pragma once

#include "api/http/router.h"
#include "broker/admin.h"

namespace msgin5g::api {

void AddInventoryRoutes(http::Router& router, broker::Admin& admin);

}  // namespace msgin5g::api
