// JSON codecs for the TS 29.538 schemas in models.h.
//
// Decoding checks what the OpenAPI schema says — JSON syntax, object shapes, required members,
// member types, minItems, DateTime and Uri formats — and reports every violation as an InvalidParam
// whose `param` is a JSON Pointer (RFC 6901) into the body. Unknown members are ignored
// (TS 29.501 §5.2.6 forward compatibility). The TS 29.500 cause is the most severe violation:
// MANDATORY_IE_MISSING > MANDATORY_IE_INCORRECT > OPTIONAL_IE_INCORRECT; a body that is not JSON,
// not an object, or repeats a member name in one object is INVALID_MSG_FORMAT.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/problem.h"
#include "api/sbi/models.h"

namespace msgin5g::api::sbi {

struct DecodeError {
  std::string cause;
  std::string detail;
  std::vector<http::InvalidParam> invalid_params;
};

template <class T>
struct Decoded {
  std::optional<T> value;
  DecodeError error;  // meaningful when !value
  bool ok() const { return value.has_value(); }
};

// One function per request/response schema.
Decoded<ASRegistration> DecodeASRegistration(std::string_view json);
Decoded<ASRegistrationAck> DecodeASRegistrationAck(std::string_view json);
Decoded<ASMessageDelivery> DecodeASMessageDelivery(std::string_view json);
Decoded<UEMessageDelivery> DecodeUEMessageDelivery(std::string_view json);
Decoded<MessageDeliveryAck> DecodeMessageDeliveryAck(std::string_view json);
Decoded<DeliveryStatusReport> DecodeDeliveryStatusReport(std::string_view json);
Decoded<L3gMessageDelivery> DecodeL3gMessageDelivery(std::string_view json);
Decoded<N3gMessageDelivery> DecodeN3gMessageDelivery(std::string_view json);
Decoded<BgMessageDelivery> DecodeBgMessageDelivery(std::string_view json);
Decoded<http::ProblemDetails> DecodeProblemDetails(std::string_view json);

std::string Encode(const ASRegistration& v);
std::string Encode(const ASRegistrationAck& v);
std::string Encode(const ASMessageDelivery& v);
std::string Encode(const UEMessageDelivery& v);
std::string Encode(const MessageDeliveryAck& v);
std::string Encode(const DeliveryStatusReport& v);
std::string Encode(const L3gMessageDelivery& v);
std::string Encode(const N3gMessageDelivery& v);
std::string Encode(const BgMessageDelivery& v);

// RFC 3339 date-time ("2026-11-27T10:00:00Z", "...T10:00:00.250+02:00"), as TS 29.571 DateTime.
// Years 1678 to 2261 only: system_clock's int64 nanoseconds hold no more, and a time outside would
// wrap around (decoding reports such a value as out of range, not as malformed).
enum class DateTimeParse { kOk, kMalformed, kOutOfRange };
DateTimeParse ParseDateTime(std::string_view text, std::chrono::system_clock::time_point* out);
std::optional<std::chrono::system_clock::time_point> ParseDateTime(std::string_view text);
std::string FormatDateTime(std::chrono::system_clock::time_point t);

// The JSON Pointer of the first member whose name repeats an earlier one of the same object, at
// any depth, or nullopt (also for text that is not JSON). Every Decode* refuses such a body
// (INVALID_MSG_FORMAT): which of the two values the sender meant cannot be known.
std::optional<std::string> FindDuplicateMember(std::string_view json);

}  // namespace msgin5g::api::sbi
