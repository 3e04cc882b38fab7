// Glue between sessions and the router: every request, routed or rejected early, is answered
// through a Responder so metrics see every answer exactly once.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "api/http/message.h"
#include "api/http/responder.h"
#include "api/http/server.h"

namespace msgin5g::api::http {

Responder MakeResponder(const ServerContext& ctx, std::weak_ptr<ResponseSink> sink,
                        boost::asio::any_io_executor executor, std::uint64_t token,
                        std::string_view operation);

// Routes `req` and calls its handler, or answers 400/404/405.
void Dispatch(const ServerContext& ctx, Request& req, std::weak_ptr<ResponseSink> sink,
              boost::asio::any_io_executor executor, std::uint64_t token);

}  // namespace msgin5g::api::http
