#include "api/http/router.h"

#include "api/http/problem.h"
#include "common/hex.h"

namespace msgin5g::api::http {

namespace {
bool IsParam(const std::string& seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}
}  // namespace

bool SplitPath(std::string_view path, std::vector<std::string>* segments) {
  segments->clear();
  if (path.empty() || path.front() != '/') return false;
  std::string current;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      segments->push_back(std::move(current));
      current.clear();
      continue;
    }
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return false;
      int hi = HexDigitValue(path[i + 1]);
      int lo = HexDigitValue(path[i + 2]);
      if (hi < 0 || lo < 0) return false;
      char decoded = static_cast<char>(hi * 16 + lo);
      // Segments are split on raw '/' above, so an encoded one is data of its segment (an
      // address such as "ue/1" is looked up as ue%2F1), never a separator. NUL never is.
      if (decoded == '\0') return false;
      current.push_back(decoded);
      i += 2;
      continue;
    }
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    current.push_back(c);
  }
  // "/a/b/" has an empty last segment: treat a single trailing slash as absent.
  if (segments->size() > 1 && segments->back().empty()) segments->pop_back();
  return true;
}

Router::Router(std::string api_root) : api_root_(std::move(api_root)) {
  while (!api_root_.empty() && api_root_.back() == '/') api_root_.pop_back();
}

void Router::Add(std::string method, std::string pattern, std::string operation, Handler handler) {
  Route r;
  r.method = std::move(method);
  SplitPath(pattern, &r.segments);
  r.operation = std::move(operation);
  r.handler = std::move(handler);
  if (pattern.find('{') == std::string::npos) exact_[pattern].push_back(routes_.size());
  routes_.push_back(std::move(r));
}

std::vector<std::string> Router::Operations() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.operation);
  return out;
}

Router::Match Router::Resolve(Request& req) const {
  Match m;
  m.operation = "unknown";
  std::string_view target = req.target;
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (!api_root_.empty()) {
    if (path.substr(0, api_root_.size()) != api_root_ ||
        (path.size() > api_root_.size() && path[api_root_.size()] != '/')) {
      m.error = MakeProblem(404, cause::kResourceUriStructureNotFound,
                            "no resource at " + std::string(path));
      return m;
    }
    path.remove_prefix(api_root_.size());
    if (path.empty()) path = "/";
  }
  req.path = std::string(path);

  if (path.find('%') == std::string_view::npos) {
    auto hit = exact_.find(path);
    if (hit != exact_.end()) {
      for (std::size_t i : hit->second) {
        const Route& r = routes_[i];
        if (r.method != req.method) continue;
        req.path_params.clear();
        req.operation = r.operation;
        m.handler = &r.handler;
        m.operation = r.operation;
        return m;
      }
      // Known path, other method: the general walk below builds the 405 with Allow.
    }
  }

  std::vector<std::string> segs;
  if (!SplitPath(path, &segs)) {
    m.error = MakeProblem(400, cause::kInvalidMsgFormat, "malformed request path");
    return m;
  }

  std::string allow;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < segs.size() && match; ++i) {
      if (IsParam(r.segments[i])) {
        match = !segs[i].empty();
      } else {
        match = r.segments[i] == segs[i];
      }
    }
    if (!match) continue;
    if (r.method != req.method) {
      if (!allow.empty()) allow += ", ";
      allow += r.method;
      continue;
    }
    req.path_params.clear();
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (IsParam(r.segments[i])) {
        req.path_params.emplace_back(r.segments[i].substr(1, r.segments[i].size() - 2), segs[i]);
      }
    }
    req.operation = r.operation;
    m.handler = &r.handler;
    m.operation = r.operation;
    return m;
  }
  if (!allow.empty()) {
    m.error = MakeProblem(405, cause::kMethodNotAllowed,
                          "method " + req.method + " is not allowed on " + std::string(path));
    m.error->headers.push_back({"allow", allow});
    return m;
  }
  m.error = MakeProblem(404, cause::kResourceUriStructureNotFound,
                        "no resource at " + std::string(path));
  return m;
}

void Router::WrapAll(const std::function<Handler(const std::string& method, Handler)>& wrap) {
  for (Route& r : routes_) r.handler = wrap(r.method, std::move(r.handler));
}

}  // namespace msgin5g::api::http
