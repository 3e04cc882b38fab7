// msgin5gd as the OAuth2 authorization server from local configuration (TS 29.538 clause 10):
// the client-credentials grant (RFC 6749 §4.4) at
//   POST {apiRoot}/oauth2/token
//   POST {apiRoot}/capif-security/v1/securities/{securityId}/token   (TS 29.222 AccessTokenReq)
// Clients authenticate with client_id + client_secret in the form or with HTTP Basic (§2.3.1).
// Answers: 200 AccessTokenRsp {access_token, token_type "Bearer", expires_in, scope}; errors
// AccessTokenErr {error, error_description} with 400, or 401 for invalid_client (§5.2).
#pragma once

#include <cstdint>
#include <string>

#include "api/auth/authorizer.h"
#include "api/auth/jwt.h"
#include "api/http/router.h"

namespace msgin5g::api::auth {

struct TokenEndpointOptions {
  std::string issuer;               // iss of issued tokens
  std::string server_id;            // named in the scope
  std::int64_t lifetime_s = 3600;   // expires_in
};

// `authorizer` supplies the client policies and records audit lines; it must outlive the router.
void AddTokenRoutes(http::Router& router, Authorizer& authorizer, SigningKey key,
                    TokenEndpointOptions options);

}  // namespace msgin5g::api::auth
