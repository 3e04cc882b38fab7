// OAuth2 scopes naming this server and its APIs.
//
// Two spellings are accepted. CAPIF (TS 29.222 / TS 33.122 Annex C): "3gpp#aefId:api1,api2;aef2:api3"
// (the "3gpp#" prefix optional) — the server identifier is the aefId. NRF style (TS 29.510): plain
// space-separated API names ("msgs-msgdelivery"), with the server identifier in `aud`. msgin5gd
// issues the CAPIF spelling.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/auth/jwt.h"
#include "common/status.h"

namespace msgin5g::api::auth {

// The APIs a client can be granted (TS 29.538 clause 5.2 service names).
inline constexpr std::string_view kApiAsRegistration = "msgs-asregistration";
inline constexpr std::string_view kApiMsgDelivery = "msgs-msgdelivery";
bool IsKnownApi(std::string_view api);

enum class ScopeCheck {
  kGranted,
  kOtherServer,  // the token does not name this server: not meant for us (401 invalid_token)
  kOtherApi,     // names this server but not the invoked API (403 insufficient_scope)
};

ScopeCheck CheckScope(const TokenClaims& claims, std::string_view server_id, std::string_view api);

// "3gpp#server:api1,api2".
std::string MakeScope(std::string_view server_id, const std::vector<std::string>& apis);

// The API names a token request's `scope` asks for at this server (either spelling). Empty scope:
// an empty list (meaning "everything permitted"). InvalidArgument if it names another server or
// an unknown API.
Result<std::vector<std::string>> RequestedApis(std::string_view scope, std::string_view server_id);

}  // namespace msgin5g::api::auth
