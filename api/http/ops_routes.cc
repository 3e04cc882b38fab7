#include "api/http/ops_routes.h"

#include "api/http/problem.h"

namespace msgin5g::api {

void AddOpsRoutes(http::Router& router, metrics::Registry& registry, std::function<bool()> ready) {
  router.Add("GET", "/metrics", "metrics", [&registry](http::Request&, http::Responder r) {
    r.Send(http::Response(200, "text/plain; version=0.0.4; charset=utf-8", registry.Serialize()));
  });
  router.Add("GET", "/healthz", "healthz", [](http::Request&, http::Responder r) {
    r.Send(http::Response(200, "text/plain", "ok\n"));
  });
  router.Add("GET", "/readyz", "readyz", [ready = std::move(ready)](http::Request&, http::Responder r) {
    if (ready()) {
      r.Send(http::Response(200, "text/plain", "ready\n"));
    } else {
      r.Send(http::MakeProblem(503, http::cause::kNfCongestion, "not ready"));
    }
  });
}

}  // namespace msgin5g::api
