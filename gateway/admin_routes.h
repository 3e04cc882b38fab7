// The gateway's admin API (admin.listen; loopback by default):
//   GET    /admin/v1/identities                 {"identities":[{"ueSvcId","msisdn","configured"}]}
//   PUT    /admin/v1/identities/{ueSvcId}       {"msisdn":"4670..."} -> 200 the entry
//   DELETE /admin/v1/identities/{ueSvcId}       204; 404 none; 409 set in the configuration file
//   GET    /admin/v1/smsc                       {"enabled","bound","smsc","in_flight","window"}
//   GET    /admin/v1/queues                     {"sms","uplink","receipt_groups","mo_sets",
//                                                "segment_sets"}
// Errors are ProblemDetails. Handlers post to the core io_context (which owns the state).
#pragma once

#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "api/http/router.h"
#include "gateway/identity_map.h"

namespace msgin5g::gateway {

struct AdminSources {
  IdentityMap* ids = nullptr;                    // null: L3G off (identities 404)
  std::function<boost::json::object()> smsc;     // on the core
  std::function<boost::json::object()> queues;   // on the core
};

void AddAdminRoutes(api::http::Router& router, boost::asio::io_context& core, AdminSources src);

}  // namespace msgin5g::gateway
