// The admin API as calls that answer JSON or an Error whose exit code follows the status:
// 401/403 -> 4, 404 -> 5, any other 4xx/5xx -> 1. A ProblemDetails answer is reported as
// "STATUS CAUSE: DETAIL" plus one line per invalid parameter.
#pragma once

#include <chrono>
#include <string>

#include <boost/json/value.hpp>

#include "tools/msgin5gctl/http_client.h"
#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

class AdminApi {
 public:
  AdminApi(Endpoint endpoint, std::string token, std::chrono::seconds timeout)
      : endpoint_(std::move(endpoint)), token_(std::move(token)), timeout_(timeout) {}

  // METHOD /admin/v1{path}; `body` is sent as JSON when not empty. A 2xx answer's JSON (null
  // for an empty body, e.g. 204).
  Result<boost::json::value> Call(const std::string& method, const std::string& path,
                                  const std::string& body = "") const;

 private:
  Endpoint endpoint_;
  std::string token_;
  std::chrono::seconds timeout_;
};

// The exit code for an HTTP status.
Exit ExitForStatus(int status);

// The error for a non-2xx answer: "404 RESOURCE_NOT_FOUND: no client 'x'" (+ invalid params).
Error ErrorFromAnswer(int status, const std::string& body);

}  // namespace msgin5gctl
