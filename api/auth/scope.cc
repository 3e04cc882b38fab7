#include "api/auth/scope.h"

#include <algorithm>

namespace msgin5g::api::auth {

namespace {

std::vector<std::string_view> Split(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find_first_of(seps, i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// One scope token: CAPIF "[3gpp#]aef:api,api;aef:api" adds (aef, api) pairs; a plain name adds
// ("", name).
void Parse(std::string_view token, std::vector<std::pair<std::string_view, std::string_view>>* out) {
  if (token.substr(0, 5) == "3gpp#") token.remove_prefix(5);
  if (token.find(':') == std::string_view::npos) {
    out->emplace_back(std::string_view(), token);
    return;
  }
  for (auto entry : Split(token, ";")) {
    auto colon = entry.find(':');
    if (colon == std::string_view::npos) continue;
    auto apis = Split(entry.substr(colon + 1), ",");
    // "aef:" with no API: kept as an empty name, which grants nothing and RequestedApis refuses.
    if (apis.empty()) out->emplace_back(entry.substr(0, colon), std::string_view());
    for (auto api : apis) out->emplace_back(entry.substr(0, colon), api);
  }
}

}  // namespace

bool IsKnownApi(std::string_view api) { return api == kApiAsRegistration || api == kApiMsgDelivery; }

ScopeCheck CheckScope(const TokenClaims& claims, std::string_view server_id, std::string_view api) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (auto token : Split(claims.scope, " \t")) Parse(token, &pairs);
  bool aud_names_us = std::find(claims.aud.begin(), claims.aud.end(), server_id) != claims.aud.end();
  bool names_us = aud_names_us;
  for (const auto& [aef, name] : pairs) {
    bool ours = aef.empty() ? aud_names_us : aef == server_id;
    if (!aef.empty() && aef == server_id) names_us = true;
    if (ours && name == api) return ScopeCheck::kGranted;
  }
  return names_us ? ScopeCheck::kOtherApi : ScopeCheck::kOtherServer;
}

std::string MakeScope(std::string_view server_id, const std::vector<std::string>& apis) {
  std::string s = "3gpp#";
  s += server_id;
  s += ':';
  for (std::size_t i = 0; i < apis.size(); ++i) {
    if (i > 0) s += ',';
    s += apis[i];
  }
  return s;
}

Result<std::vector<std::string>> RequestedApis(std::string_view scope, std::string_view server_id) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (auto token : Split(scope, " \t")) Parse(token, &pairs);
  std::vector<std::string> apis;
  for (const auto& [aef, name] : pairs) {
    if (!aef.empty() && aef != server_id) {
      return Status::InvalidArgument("scope names another server '" + std::string(aef) + "'");
    }
    if (!IsKnownApi(name)) {
      return Status::InvalidArgument("scope names an unknown API '" + std::string(name) + "'");
    }
    if (std::find(apis.begin(), apis.end(), name) == apis.end()) apis.emplace_back(name);
  }
  return apis;
}

}  // namespace msgin5g::api::auth
