#include "api/http/problem.h"

#include <algorithm>
#include <atomic>

#include <boost/json.hpp>

namespace msgin5g::api::http {

namespace {
std::atomic<int> g_retry_after{1};

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kRateLimited: return 429;
    case StatusCode::kResourceExhausted: return 503;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kCorruption: return 500;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string_view DefaultCause(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return cause::kInvalidMsgFormat;
    case StatusCode::kPayloadTooLarge: return cause::kPayloadTooLarge;
    case StatusCode::kRateLimited: return cause::kNfCongestionRisk;
    case StatusCode::kResourceExhausted: return cause::kNfCongestion;
    case StatusCode::kUnavailable: return cause::kNfCongestion;
    case StatusCode::kCorruption: return cause::kSystemFailure;
    case StatusCode::kInternal: return cause::kSystemFailure;
    default: return StatusCodeName(code);
  }
}
}  // namespace

void SetRetryAfterSeconds(int seconds) { g_retry_after.store(seconds > 0 ? seconds : 1); }
int RetryAfterSeconds() { return g_retry_after.load(); }

std::string EncodeProblemDetails(const ProblemDetails& p) {
  boost::json::object o;
  if (!p.type.empty()) o["type"] = p.type;
  if (!p.title.empty()) o["title"] = p.title;
  if (p.status != 0) o["status"] = p.status;
  if (!p.detail.empty()) o["detail"] = p.detail;
  if (!p.instance.empty()) o["instance"] = p.instance;
  if (!p.cause.empty()) o["cause"] = p.cause;
  if (!p.invalid_params.empty()) {
    boost::json::array arr;
    for (const auto& ip : p.invalid_params) {
      boost::json::object e;
      e["param"] = ip.param;
      if (!ip.reason.empty()) e["reason"] = ip.reason;
      arr.push_back(std::move(e));
    }
    o["invalidParams"] = std::move(arr);
  }
  return boost::json::serialize(o);
}

Response MakeProblem(int status, std::string_view cause, std::string detail,
                     std::vector<InvalidParam> invalid_params) {
  ProblemDetails p;
  p.status = status;
  p.title = std::string(ReasonPhrase(status));
  p.cause = std::string(cause);
  p.detail = std::move(detail);
  p.invalid_params = std::move(invalid_params);
  Response r(status, "application/problem+json", EncodeProblemDetails(p));
  if (status == 503 || status == 429) {
    r.headers.push_back({"retry-after", std::to_string(g_retry_after.load())});
  }
  return r;
}

void SetRetryAfter(Response& response, int seconds) {
  auto& h = response.headers;
  h.erase(std::remove_if(h.begin(), h.end(), [](const Header& x) { return x.name == "retry-after"; }),
          h.end());
  h.push_back({"retry-after", std::to_string(seconds)});
}

Response ProblemFromStatus(const Status& status, std::string_view cause) {
  return MakeProblem(HttpStatusFor(status.code()),
                     cause.empty() ? DefaultCause(status.code()) : cause, status.message());
}

}  // namespace msgin5g::api::http
