#include "api/sbi/peer_answer.h"

#include <algorithm>
#include <charconv>

#include "api/sbi/codec.h"

namespace msgin5g::api::sbi {

std::chrono::milliseconds RetryAfter(const http::Response& r) {
  std::string_view v = http::FindHeader(r.headers, "retry-after");
  std::int64_t secs = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc() || p != v.data() + v.size() || secs < 0) return {};  // HTTP-date: ignored
  return std::chrono::seconds(std::min<std::int64_t>(secs, 86400));
}

PeerAnswer ClassifyAnswer(const Result<http::Response>& r) {
  PeerAnswer out;
  if (!r.ok()) {
    // A request we could not even form (bad URL) will not get better; anything else might.
    out.kind = r.status().code() == StatusCode::kInvalidArgument ? PeerAnswer::Kind::kPermanent
                                                                 : PeerAnswer::Kind::kTransient;
    out.detail = r.status().message();
    return out;
  }
  out.status = r->status;
  if (r->status >= 200 && r->status < 300) return out;
  out.detail = "HTTP " + std::to_string(r->status);
  if (!r->body.empty()) {
    auto problem = DecodeProblemDetails(r->body);
    if (problem.ok() && !problem.value->cause.empty()) out.detail += " " + problem.value->cause;
  }
  if (r->status == 408 || r->status == 429 || r->status >= 500) {
    out.kind = PeerAnswer::Kind::kTransient;
    if (r->status == 429 || r->status == 503) out.retry_after = RetryAfter(*r);
  } else {
    out.kind = PeerAnswer::Kind::kPermanent;
  }
  return out;
}

}  // namespace msgin5g::api::sbi
