// Where and as whom to connect, from the options and the environment:
//   --url, else --socket, else $MSGIN5G_ADMIN_URL, else $MSGIN5G_ADMIN_SOCKET, else
//   /run/msgin5g/admin.sock when it exists, else ./msgin5g-admin.sock;
//   --token, else the first line of --token-file, else $MSGIN5G_ADMIN_TOKEN, else none.
#pragma once

#include <string>

#include "tools/msgin5gctl/args.h"
#include "tools/msgin5gctl/http_client.h"
#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

Result<Endpoint> ResolveEndpoint(const Invocation& inv);
Result<std::string> ResolveToken(const Invocation& inv);  // "" for none

// Parses http://HOST[:PORT] or https://HOST[:PORT] (a trailing "/" is allowed, nothing else).
Result<Endpoint> ParseAdminUrl(const std::string& url);

}  // namespace msgin5gctl
