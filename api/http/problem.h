// ProblemDetails (TS 29.571 §5.2.4.1, RFC 7807) responses with TS 29.500 application error causes.
// Every error answer of every HTTP interface of msgin5g is built here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http/message.h"
#include "common/status.h"

namespace msgin5g::api::http {

// TS 29.500 Table 5.2.7.2-1 causes used by msgin5g (plus project-defined ones, documented in
// docs/api.md).
namespace cause {
inline constexpr std::string_view kInvalidMsgFormat = "INVALID_MSG_FORMAT";
inline constexpr std::string_view kMandatoryIeMissing = "MANDATORY_IE_MISSING";
inline constexpr std::string_view kMandatoryIeIncorrect = "MANDATORY_IE_INCORRECT";
inline constexpr std::string_view kOptionalIeIncorrect = "OPTIONAL_IE_INCORRECT";
inline constexpr std::string_view kUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";  // project
inline constexpr std::string_view kIncorrectLength = "INCORRECT_LENGTH";
inline constexpr std::string_view kPayloadTooLarge = "PAYLOAD_TOO_LARGE";  // project
inline constexpr std::string_view kResourceUriStructureNotFound = "RESOURCE_URI_STRUCTURE_NOT_FOUND";
inline constexpr std::string_view kMethodNotAllowed = "METHOD_NOT_ALLOWED";  // project
inline constexpr std::string_view kHeadersTooLarge = "HEADERS_TOO_LARGE";  // project
// HTTP/1.1 framing (docs/api.md): a request not completed within api.read_timeout (408), a
// Transfer-Encoding other than chunked (501).
inline constexpr std::string_view kRequestTimeout = "REQUEST_TIMEOUT";  // project
inline constexpr std::string_view kUnsupportedTransferCoding = "UNSUPPORTED_TRANSFER_CODING";  // project
inline constexpr std::string_view kNfCongestion = "NF_CONGESTION";
inline constexpr std::string_view kNfCongestionRisk = "NF_CONGESTION_RISK";
inline constexpr std::string_view kSystemFailure = "SYSTEM_FAILURE";
inline constexpr std::string_view kUnspecifiedNfFailure = "UNSPECIFIED_NF_FAILURE";
inline constexpr std::string_view kInsufficientResources = "INSUFFICIENT_RESOURCES";
inline constexpr std::string_view kUnknownRecipient = "UNKNOWN_RECIPIENT";            // project
inline constexpr std::string_view kRegistrationNotFound = "REGISTRATION_NOT_FOUND";  // project
inline constexpr std::string_view kSegmentsNotHeld = "SEGMENTS_NOT_HELD";  // project (CoAP SEGREC)
inline constexpr std::string_view kModificationNotAllowed = "MODIFICATION_NOT_ALLOWED";
// Security (docs/security.md); all project-defined except MODIFICATION_NOT_ALLOWED above.
inline constexpr std::string_view kMissingAccessToken = "MISSING_ACCESS_TOKEN";
inline constexpr std::string_view kInvalidAccessToken = "INVALID_ACCESS_TOKEN";
inline constexpr std::string_view kInsufficientScope = "INSUFFICIENT_SCOPE";
inline constexpr std::string_view kInsufficientRole = "INSUFFICIENT_ROLE";  // project (admin API)
inline constexpr std::string_view kApiNotAllowed = "API_NOT_ALLOWED";
inline constexpr std::string_view kCapifUnavailable = "CAPIF_UNAVAILABLE";  // project: 503
inline constexpr std::string_view kRecipientNotAllowed = "RECIPIENT_NOT_ALLOWED";
inline constexpr std::string_view kOriginatorNotAllowed = "ORIGINATOR_NOT_ALLOWED";
inline constexpr std::string_view kSuccess = "SUCCESS";  // ASRegistrationAck.result on 201
}  // namespace cause

struct InvalidParam {
  std::string param;   // JSON Pointer (RFC 6901) into the request body, or a header/query name
  std::string reason;
};

struct ProblemDetails {
  std::string type;
  std::string title;
  int status = 0;
  std::string detail;
  std::string instance;
  std::string cause;
  std::vector<InvalidParam> invalid_params;
};

std::string EncodeProblemDetails(const ProblemDetails& p);

// An application/problem+json response. 503 and 429 carry Retry-After.
Response MakeProblem(int status, std::string_view cause, std::string detail,
                     std::vector<InvalidParam> invalid_params = {});

// The one mapping from Status to HTTP: code -> status, with `cause` (or a default per code).
Response ProblemFromStatus(const Status& status, std::string_view cause = {});

// Seconds advertised in Retry-After on 503/429. Default: 1.
void SetRetryAfterSeconds(int seconds);
// Sets the answer's Retry-After to `seconds`, replacing the default MakeProblem put on a 503/429.
void SetRetryAfter(Response& response, int seconds);
int RetryAfterSeconds();

}  // namespace msgin5g::api::http
