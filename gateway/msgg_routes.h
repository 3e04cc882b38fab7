// The gateway as producer of TS 29.538 MSGG_L3GDelivery, MSGG_N3GDelivery and MSGG_BGDelivery
// (what msgin5gd calls):
//   POST /msgg-l3gdelivery/v1/deliver-message  L3gMessageDelivery   -> 204
//   POST /msgg-l3gdelivery/v1/deliver-report   DeliveryStatusReport -> 204
//   POST /msgg-n3gdelivery/v1/deliver-message  N3gMessageDelivery   -> 204
//   POST /msgg-n3gdelivery/v1/deliver-report   DeliveryStatusReport -> 204
//   POST /msgg-bgdelivery/v1/deliver-message   BgMessageDelivery    -> 204
// Only the roles configured get routes (others are 404). Every body is schema-checked by the
// shared codec and the shared semantic checks (api/sbi/request_checks.h): a bad one gets the
// ProblemDetails msgin5gd's own SBI would give, and nothing is stored or sent. 204 only once the
// message is durable (gateway/downlink.h).
#pragma once

#include "api/http/router.h"
#include "gateway/downlink.h"

namespace msgin5g::gateway {

// Any of `l3g`, `n3g`, `bg` may be null (role off). They and `intake` must outlive the router.
void AddMsggRoutes(api::http::Router& router, DownlinkIntake& intake, Role* l3g, Role* n3g,
                   Role* bg);

}  // namespace msgin5g::gateway
