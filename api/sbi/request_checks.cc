#include "api/sbi/request_checks.h"

#include <algorithm>
#include <cctype>

namespace msgin5g::api::sbi {

using http::MakeProblem;
using http::Response;
namespace cause = http::cause;

bool IsJsonMediaType(std::string_view ct) {
  // "application/json" with optional parameters, case-insensitive type.
  auto semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != 16) return false;
  static constexpr std::string_view kJson = "application/json";
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  }
  return true;
}

std::optional<Response> CheckJsonBody(const http::Request& req) {
  if (!req.length_known) {
    return MakeProblem(411, cause::kIncorrectLength,
                       "Content-Length (or chunked transfer coding) is required");
  }
  std::string_view ct = req.header("content-type");
  if (!IsJsonMediaType(ct)) {
    return MakeProblem(415, cause::kUnsupportedMediaType,
                       ct.empty() ? "Content-Type application/json is required"
                                  : "unsupported Content-Type " + std::string(ct) +
                                        "; expected application/json",
                       {{"Content-Type", "must be application/json"}});
  }
  if (req.body.empty()) {
    return MakeProblem(400, cause::kInvalidMsgFormat, "a JSON request body is required");
  }
  return std::nullopt;
}

Response FromDecodeError(const DecodeError& e) {
  return MakeProblem(400, e.cause, e.detail, e.invalid_params);
}

void Semantics::Bad(std::string ptr, std::string reason, bool mandatory) {
  params_.push_back({std::move(ptr), std::move(reason)});
  severity_ = std::max(severity_, mandatory ? 2 : 1);
}

void Semantics::Missing(std::string ptr) {
  params_.push_back({std::move(ptr), "is required"});
  severity_ = 3;
}

std::optional<Response> Semantics::Problem() const {
  if (params_.empty()) return std::nullopt;
  std::string_view c = severity_ == 3   ? cause::kMandatoryIeMissing
                       : severity_ == 2 ? cause::kMandatoryIeIncorrect
                                        : cause::kOptionalIeIncorrect;
  std::string detail = params_.size() == 1 ? params_[0].param + " " + params_[0].reason
                                           : std::to_string(params_.size()) + " invalid members";
  return MakeProblem(400, c, std::move(detail), params_);
}

void CheckId(Semantics& s, const std::string& ptr, std::string_view id, bool mandatory) {
  if (id.size() > kMaxIdBytes) {
    s.Bad(ptr, "must be at most " + std::to_string(kMaxIdBytes) + " bytes", mandatory);
    return;
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      s.Bad(ptr, "must not contain control characters", mandatory);
      return;
    }
  }
}

void CheckText(Semantics& s, const std::string& ptr, std::string_view text, bool mandatory) {
  if (text.size() > kMaxTextBytes) {
    s.Bad(ptr, "must be at most " + std::to_string(kMaxTextBytes) + " bytes", mandatory);
  }
}

std::string Quoted(std::string_view v) {
  constexpr std::size_t kMax = 64;
  return "'" + std::string(v.substr(0, kMax)) + (v.size() > kMax ? "...'" : "'");
}

bool IsKnownAddressType(std::string_view t) {
  return t == "UE" || t == "AS" || t == "GROUP" || t == "BC" || t == "TOPIC";
}

void CheckAddress(Semantics& s, const Address& a, const std::string& ptr) {
  if (!IsKnownAddressType(a.addrType)) {
    s.Bad(ptr + "/addrType", "unsupported address type " + Quoted(a.addrType), true);
  }
  if (a.addr.empty()) s.Bad(ptr + "/addr", "must not be empty", true);
  CheckId(s, ptr + "/addr", a.addr, true);
}

void CheckSegmentation(Semantics& s, const std::optional<bool>& seg_ind,
                       const std::optional<MessageSegmentParameters>& params) {
  if (!seg_ind.value_or(false)) return;
  if (!params) {
    s.Missing("/segParams");
    return;
  }
  const auto& p = *params;
  if (!p.segId || p.segId->empty()) s.Missing("/segParams/segId");
  if (p.segId) CheckId(s, "/segParams/segId", *p.segId, true);
  if (!p.segNumb) s.Missing("/segParams/segNumb");
  // TS 23.554 8.5: the total is carried by the first segment; later ones may repeat it.
  if (!p.totalSegCount && p.segNumb && *p.segNumb == 1) s.Missing("/segParams/totalSegCount");
  if (p.totalSegCount && (*p.totalSegCount < 1 || *p.totalSegCount > 65535)) {
    s.Bad("/segParams/totalSegCount", "must be between 1 and 65535", true);
  }
  if (p.segNumb && (*p.segNumb < 1 || *p.segNumb > 65535)) {
    s.Bad("/segParams/segNumb", "must be between 1 and 65535", true);
  } else if (p.segNumb && p.totalSegCount && *p.segNumb > *p.totalSegCount) {
    s.Bad("/segParams/segNumb", "must not exceed totalSegCount", true);
  }
}

void CheckMessageIds(Semantics& s, std::string_view msg_id,
                     const std::optional<std::string>& app_id) {
  if (msg_id.empty()) s.Bad("/msgId", "must not be empty", true);
  CheckId(s, "/msgId", msg_id, true);
  if (app_id) CheckId(s, "/appId", *app_id, false);
}

}  // namespace msgin5g::api::sbi
