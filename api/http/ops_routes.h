// Operations endpoints for the metrics listener (HTTP/1.1, so Prometheus can scrape it):
// GET /metrics (text exposition 0.0.4), GET /healthz (process is up), GET /readyz (ready for
// traffic: 200, or 503 while starting, draining or when storage refuses writes).
#pragma once

#include <functional>

#include "api/http/router.h"
#include "metrics/registry.h"

namespace msgin5g::api {

void AddOpsRoutes(http::Router& router, metrics::Registry& registry,
                  std::function<bool()> ready);

}  // namespace msgin5g::api
