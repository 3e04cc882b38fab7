// Who decides about an API invoker that authenticated by certificate or TLS-PSK and is not a
// configured client: with CAPIF, the CAPIF core function (TS 29.222 5.6.2.4, the Security API's
// trustedInvokers resource; api/capif/ccf_client.h). The authorizer asks it in security.mode
// tls, and never lets such an invoker in without its answer.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::api::auth {

enum class InvokerVerdict { kAllowed, kRefused, kUnknown };

class InvokerAuthority {
 public:
  virtual ~InvokerAuthority() = default;
  // The decision still cached for `invoker` (a certificate identity, or a PSK identity when
  // `psk`) and `api`, or kUnknown. Called on I/O threads: it must not block.
  virtual InvokerVerdict Cached(const std::string& invoker, bool psk, std::string_view api) = 0;
  // Asks; `done` gets kAllowed or kRefused, or Unavailable when no answer could be had. It may
  // run on any thread.
  virtual void Ask(const std::string& invoker, bool psk, std::string_view api,
                   std::function<void(Result<InvokerVerdict>)> done) = 0;

  // TLS-PSK keys the authority hands out (with CAPIF: the key the CCF gives the AEF for an
  // invoker it onboarded, TS 33.122 6.5.2.2). CachedPskKey: the key still cached for `identity`;
  // any thread, never blocks. FetchPskKey: makes sure it is cached if the authority has one,
  // then runs `ready` (on any thread) with true when it could be asked (whatever it said),
  // false when no answer could be had.
  virtual bool CachedPskKey(const std::string& identity, std::string* key) {
    (void)identity;
    (void)key;
    return false;
  }
  virtual void FetchPskKey(const std::string& identity, std::function<void(bool asked)> ready) {
    (void)identity;
    ready(true);
  }
};

}  // namespace msgin5g::api::auth
