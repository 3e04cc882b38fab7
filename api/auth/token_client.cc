#include "api/auth/token_client.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/logging.h"

namespace msgin5g::api::auth {

namespace {

std::string FormEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

OutboundTokens::OutboundTokens(http::H2Client& client, OutboundTokenOptions options)
    : client_(client), options_(std::move(options)) {}

void OutboundTokens::Get(Callback done) {
  auto now = Clock::now();
  if (!token_.empty() && now < expires_at_) {
    if (now >= refresh_at_ && !fetching_) Fetch();  // early refresh; this caller need not wait
    done(token_);
    return;
  }
  if (!fetching_ && now - failed_at_ < std::chrono::seconds(1)) {
    done(last_error_);
    return;
  }
  waiters_.push_back(std::move(done));
  if (!fetching_) Fetch();
}

void OutboundTokens::Invalidate(const std::string& token) {
  if (token == token_) {
    token_.clear();
    expires_at_ = {};
  }
}

void OutboundTokens::Fetch() {
  fetching_ = true;
  ++fetches_;
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.token_url;
  req.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
  req.body = "grant_type=client_credentials&client_id=" + FormEncode(options_.client_id);
  if (!options_.client_secret.empty()) {
    req.body += "&client_secret=" + FormEncode(options_.client_secret);
  }
  if (!options_.scope.empty()) req.body += "&scope=" + FormEncode(options_.scope);
  auto started = Clock::now();
  client_.Send(std::move(req), [this, started](Result<http::Response> r) {
    if (!r.ok()) return Finish(Status::Unavailable("token endpoint: " + r.status().message()));
    if (r->status != 200) {
      return Finish(Status::Unavailable("token endpoint answered " + std::to_string(r->status) +
                                        ": " + r->body.substr(0, 200)));
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(r->body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* tok = o ? o->if_contains("access_token") : nullptr;
    const auto* type = o ? o->if_contains("token_type") : nullptr;
    const auto* exp = o ? o->if_contains("expires_in") : nullptr;
    if (tok == nullptr || !tok->is_string() || tok->as_string().empty() || type == nullptr ||
        !type->is_string() || type->as_string().size() != 6) {
      return Finish(Status::Unavailable("token endpoint: no Bearer access_token in the answer"));
    }
    // RFC 6749 §5.1: expires_in is RECOMMENDED; without it assume five minutes.
    std::int64_t lifetime = 300;
    if (exp != nullptr && exp->is_int64()) lifetime = std::max<std::int64_t>(exp->as_int64(), 1);
    if (exp != nullptr && exp->is_uint64()) lifetime = static_cast<std::int64_t>(exp->as_uint64());
    token_ = std::string(tok->as_string());
    expires_at_ = started + std::chrono::seconds(lifetime);
    refresh_at_ = started + std::chrono::seconds(lifetime - std::min<std::int64_t>(60, lifetime / 5));
    Finish(token_);
  });
}

void OutboundTokens::Finish(Result<std::string> result) {
  fetching_ = false;
  if (!result.ok()) {
    failed_at_ = Clock::now();
    last_error_ = result.status();
    LOG_WARN("delivery", "outbound token: %s", result.status().message().c_str());
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w(result);
}

}  // namespace msgin5g::api::auth
