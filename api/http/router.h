// Router: (method, path) -> handler, with {param} path segments and an apiRoot prefix
// (TS 29.501 §4.4.1: {apiRoot}/{apiName}/{apiVersion}/{apiSpecificResourceUriPart}).
//
// Unknown paths answer 404 and known paths with another method 405 (with Allow), both as
// ProblemDetails. Routes are added at startup and the router is read-only afterwards, so sessions on
// every thread share it without locks.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/http/message.h"
#include "api/http/responder.h"

namespace msgin5g::api::http {

using Handler = std::function<void(Request&, Responder)>;

class Router {
 public:
  // `api_root` is a path prefix such as "/msgin5g" (empty: none). Trailing '/' is ignored.
  explicit Router(std::string api_root = "");

  // `pattern` like "/msgs-asregistration/v1/registrations/{registrationId}". `operation` names the
  // route in metrics and logs. Add all routes before serving.
  void Add(std::string method, std::string pattern, std::string operation, Handler handler);

  struct Match {
    const Handler* handler = nullptr;     // null when no route matched
    std::string_view operation;           // route name, or "unknown"
    std::optional<Response> error;        // 400/404/405 ProblemDetails when handler is null
  };
  // Resolves req.target; fills req.path, req.path_params and req.operation.
  Match Resolve(Request& req) const;

  // Replaces every route's handler by wrap(method, handler), e.g. to put an authorization gate in
  // front of all of them. Call after the routes are added, before serving.
  void WrapAll(const std::function<Handler(const std::string& method, Handler)>& wrap);

  // Every route's operation name (for pre-creating metric series).
  std::vector<std::string> Operations() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{x}" marks a parameter
    std::string operation;
    Handler handler;
  };
  // Exact (parameterless) patterns -> route indices: most requests resolve with one hash lookup and
  // no per-segment allocation.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::string api_root_;
  std::vector<Route> routes_;
  std::unordered_map<std::string, std::vector<std::size_t>, Hash, std::equal_to<>> exact_;
};

// Splits "/a/b/c" into {"a","b","c"} with percent-decoding; false if the path is malformed.
bool SplitPath(std::string_view path, std::vector<std::string>* segments);

}  // namespace msgin5g::api::http
