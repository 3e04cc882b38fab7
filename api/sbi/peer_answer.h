// How an SBI client judges the answer of a peer it sent a request to: accepted (2xx), worth trying
// again later (connect errors, timeouts, 408, 429, 5xx; Retry-After on 429/503 honoured), or
// refused for good (other 4xx). Shared by msgin5gd's delivery channel and msgin5g-gatewayd's
// uplink, so both sides of MSGG/MSGS retry the same way.
#pragma once

#include <chrono>
#include <string>

#include "api/http/message.h"
#include "common/status.h"

namespace msgin5g::api::sbi {

struct PeerAnswer {
  enum class Kind { kAccepted, kTransient, kPermanent };
  Kind kind = Kind::kAccepted;
  int status = 0;                            // HTTP status; 0: no answer
  std::chrono::milliseconds retry_after{0};  // from Retry-After on 429/503; 0: none
  std::string detail;                        // "HTTP 404 UNKNOWN_RECIPIENT", or the error
};

PeerAnswer ClassifyAnswer(const Result<http::Response>& r);

// Retry-After in delta-seconds (an HTTP-date is ignored), at most a day; 0 when absent.
std::chrono::milliseconds RetryAfter(const http::Response& r);

}  // namespace msgin5g::api::sbi
