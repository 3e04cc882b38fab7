// RFC 6750 bearer credentials, shared by the SBI authorizer and the admin API guard.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/http/message.h"

namespace msgin5g::api::auth {

// "Bearer" 1*SP b64token (RFC 6750 §2.1). Returns the token, or nullopt when malformed.
std::optional<std::string_view> BearerToken(std::string_view header);

// A ProblemDetails refusal with its WWW-Authenticate challenge (RFC 6750 §3). `error` is empty for
// a request that carried no credentials.
http::Response BearerChallenge(std::string_view realm, int status, std::string_view error,
                               std::string_view problem_cause, const std::string& detail);

}  // namespace msgin5g::api::auth
