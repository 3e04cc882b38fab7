// Turns the [security], [clients.*], [issuers.*] and [tls] configuration into the auth objects:
// client policies, trusted issuers and the SBI listener's TLS context (with TLS-PSK). Used at
// startup, by --check-config and on SIGHUP, so a bad file is refused the same way every time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "api/auth/authorizer.h"
#include "api/auth/jwt.h"
#include "api/auth/policy.h"
#include "api/http/server.h"
#include "common/status.h"
#include "daemon/config.h"

namespace msgin5g::daemon {

struct SecuritySetup {
  std::shared_ptr<const api::auth::PolicySet> policies;
  std::vector<api::auth::TrustedIssuer> issuers;  // external ones; our own is added by main
};

// InvalidArgument naming the key on a bad policy, pattern, hash or unreadable key file.
Result<SecuritySetup> BuildSecurity(const Config& cfg);

// The SBI listener's TLS context; TLS-PSK keys are looked up in `auth`'s current policies, so a
// SIGHUP that changes them needs no new context.
Result<std::shared_ptr<boost::asio::ssl::context>> BuildSbiTls(const Config& cfg,
                                                               api::auth::Authorizer* auth);

// With CAPIF in security.mode tls: fetches the TLS-PSK key of an identity a ClientHello offers
// that no configured client has, from `auth`'s invoker authority (the CCF client), before the
// handshake (api::http::ServerOptions::psk_prefetch). Empty otherwise.
using PskPrefetch = std::function<void(std::vector<std::string> identities,
                                       api::http::ServerOptions::PskReady ready)>;
PskPrefetch BuildPskPrefetch(const Config& cfg, api::auth::Authorizer* auth);

// The admin and metrics listeners' TLS context (same certificate, no PSK).
Result<std::shared_ptr<boost::asio::ssl::context>> BuildOpsTls(const Config& cfg);

api::auth::AuthOptions AuthOptionsFrom(const Config& cfg);

}  // namespace msgin5g::daemon
