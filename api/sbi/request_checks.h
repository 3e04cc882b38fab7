// What every TS 29.538 JSON request is checked for beyond its schema, shared by the MSGin5G Server
// (api/handlers, api/coap) and the Message Gateway (gateway/): the HTTP framing of a JSON POST,
// the 400 answer of a codec error, and the semantic limits on identifiers and text. No broker here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/message.h"
#include "api/http/problem.h"
#include "api/sbi/codec.h"
#include "api/sbi/models.h"

namespace msgin5g::api::sbi {

// Checks shared by every JSON POST: length known (411), media type (415), body present (400).
std::optional<http::Response> CheckJsonBody(const http::Request& req);
bool IsJsonMediaType(std::string_view content_type);

// The 400 ProblemDetails of a codec error.
http::Response FromDecodeError(const DecodeError& e);

// Semantic checks beyond the schema, gathered like the codec's so one answer lists them all; the
// cause is the most severe, as the codec's.
class Semantics {
 public:
  void Bad(std::string ptr, std::string reason, bool mandatory);
  void Missing(std::string ptr);
  bool empty() const { return params_.empty(); }
  std::optional<http::Response> Problem() const;

 private:
  std::vector<http::InvalidParam> params_;
  int severity_ = 0;
};

// Identifiers become storage keys (the server's and the gateway's): at most kMaxIdBytes and free of
// control characters (which also keeps them apart from internal key spaces).
inline constexpr std::size_t kMaxIdBytes = 1024;
void CheckId(Semantics& s, const std::string& ptr, std::string_view id, bool mandatory);
// Free text that is stored (failureCause, the AS profile): bounded like identifiers, any character.
inline constexpr std::size_t kMaxTextBytes = 1024;
inline constexpr std::size_t kMaxListItems = 64;
void CheckText(Semantics& s, const std::string& ptr, std::string_view text, bool mandatory);
// A value quoted back in a reason, cut short: an answer need not repeat a megabyte it refuses.
std::string Quoted(std::string_view v);

// The AddressType values this release serves (UE, AS, GROUP, BC, TOPIC).
bool IsKnownAddressType(std::string_view t);
// addrType known, addr non-empty and an identifier; `ptr` is the Address's JSON Pointer.
void CheckAddress(Semantics& s, const Address& a, const std::string& ptr);
// segInd / segParams as TS 29.538 means them: with segInd true, segId, totalSegCount (1..65535)
// and segNumb (1..totalSegCount) are required.
void CheckSegmentation(Semantics& s, const std::optional<bool>& seg_ind,
                       const std::optional<MessageSegmentParameters>& params);
// msgId required, an identifier; appId optional, an identifier.
void CheckMessageIds(Semantics& s, std::string_view msg_id, const std::optional<std::string>& app_id);

}  // namespace msgin5g::api::sbi
