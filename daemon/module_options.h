// Each module's Options from the daemon's configuration, in one place: main() builds the modules
// from these and copies no configuration field itself. The defaults live in config.cc (one table
// of keys); these functions only translate units and types.
#pragma once

#include <memory>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "api/coap/coap_server.h"
#include "api/http/server.h"
#include "broker/durable_broker.h"
#include "common/status.h"
#include "daemon/config.h"
#include "storage/store.h"

namespace msgin5g::daemon {

// The OAuth2 signing key msgin5gd creates beside its data when no key file is configured; backups
// carry it so that a restored daemon's tokens stay valid.
inline constexpr std::string_view kSigningKeyFile = "oauth2-signing-key.pem";

storage::StoreOptions StoreOptionsFrom(const Config& cfg);
broker::BrokerOptions BrokerOptionsFrom(const Config& cfg);
// The CoAP endpoint for UEs, with the configured PSKs as its key lookup.
api::coap::CoapOptions CoapOptionsFrom(const Config& cfg);
bool CoapEnabled(const Config& cfg);
// The SBI listener; `tls` null: h2c (and HTTP/1.1 when api.http1).
api::http::ServerOptions SbiServerOptionsFrom(const Config& cfg,
                                              std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace msgin5g::daemon
