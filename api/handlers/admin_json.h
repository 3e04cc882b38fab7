// Helpers shared by the admin API's route files: JSON bodies, answers and identifier checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "api/http/message.h"
#include "api/http/responder.h"
#include "broker/types.h"
#include "common/status.h"

namespace msgin5g::api::admin_json {

namespace json = boost::json;

// Path identifiers become storage keys: bounded (1 KiB) and free of control characters.
bool BadId(std::string_view id);
json::object ToJson(const broker::Address& a);
// RFC 3339 time, or null for 0.
json::value TimeJson(std::int64_t ms);
http::Response JsonResponse(int status, const json::value& v);
// ProblemDetails for a broker error (404 RESOURCE_NOT_FOUND).
http::Response Error(const Status& st);
// Parses a JSON object body; on failure answers the request (415 / 400) and returns nullopt.
std::optional<json::object> Body(const http::Request& req, const http::Responder& r,
                                 bool required = true);

// The decoded value of query parameter `key` (first occurrence), nullopt when absent.
std::optional<std::string> QueryParam(const http::Request& req, std::string_view key);
// ?limit=N within 1..max (default `fallback`); otherwise answers 400 and returns nullopt.
std::optional<std::size_t> Limit(const http::Request& req, const http::Responder& r,
                                 std::size_t fallback, std::size_t max);

}  // namespace msgin5g::api::admin_json
