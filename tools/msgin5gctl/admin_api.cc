#include "tools/msgin5gctl/admin_api.h"

#include <boost/json/parse.hpp>

namespace msgin5gctl {

namespace json = boost::json;

namespace {

std::string Member(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

}  // namespace

Exit ExitForStatus(int status) {
  if (status >= 200 && status < 300) return Exit::kOk;
  if (status == 401 || status == 403) return Exit::kAuth;
  if (status == 404) return Exit::kNotFound;
  return Exit::kRefused;
}

Error ErrorFromAnswer(int status, const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  std::string msg = std::to_string(status);
  if (ec || !v.is_object()) {
    if (!body.empty()) msg += ": " + FirstLine(body);
    return Error{ExitForStatus(status), msg};
  }
  const json::object& p = v.as_object();
  std::string cause = Member(p, "cause");
  if (cause.empty()) cause = Member(p, "title");
  if (!cause.empty()) msg += " " + cause;
  if (std::string detail = Member(p, "detail"); !detail.empty()) msg += ": " + detail;
  if (const auto* params = p.if_contains("invalidParams"); params != nullptr && params->is_array()) {
    for (const auto& ip : params->as_array()) {
      if (!ip.is_object()) continue;
      msg += "\n  invalid " + Member(ip.as_object(), "param") + ": " + Member(ip.as_object(), "reason");
    }
  }
  return Error{ExitForStatus(status), msg};
}

Result<json::value> AdminApi::Call(const std::string& method, const std::string& path,
                                   const std::string& body) const {
  auto res = Exchange(endpoint_, HttpRequest{method, "/admin/v1" + path, body, token_}, timeout_);
  if (!res.ok()) return res.error();
  if (ExitForStatus(res->status) != Exit::kOk) return ErrorFromAnswer(res->status, res->body);
  if (res->body.empty()) return json::value(nullptr);
  json::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (ec) {
    return Error{Exit::kRefused, "the answer from " + endpoint_.Describe() + " is not JSON: " +
                                     FirstLine(res->body)};
  }
  return v;
}

}  // namespace msgin5gctl
