// Admin API for msgin5gd's CAPIF invokers (docs/admin-api.md "CAPIF"), with [capif] enabled:
//   DELETE /admin/v1/capif/invokers/{apiInvokerId} -> 204: what is cached about the invoker (the
//          CCF's trustedInvokers answers, by certificate and by PSK, and its PSK key) is dropped,
//          so its next request asks the CCF again. For a revocation made at the CCF: without it,
//          a cached allow holds for capif.invoker_cache_ttl_s.
//   POST   /admin/v1/capif/invokers/{apiInvokerId}/revoke {"apis"?: [API names], "cause"?:
//          "OVERLIMIT_USAGE" | "UNEXPECTED_REASON" (default)} -> 204: the authorization is revoked
//          at the CCF (TS 29.222 Security API, trustedInvokers/{id}/delete, as the AEF), then
//          forgotten here. 404 when the CCF does not know the invoker, 409 when none of those
//          APIs is published yet, 502 when the CCF refused the revocation (a 4xx but 404),
//          503 CAPIF_UNAVAILABLE when it gave no answer or a 5xx.
// Both answer 503 CAPIF_UNAVAILABLE until the CCF client runs (it starts after the listeners).
#pragma once

#include <functional>

#include "api/capif/ccf_client.h"
#include "api/http/router.h"

namespace msgin5g::api {

void AddCapifRoutes(http::Router& router, std::function<capif::CcfClient*()> ccf);

}  // namespace msgin5g::api
