// Per-client authorization and admission policy (TS 29.538 clause 11.2 NOTE 2): who a client is
// (client_id; TLS certificate identity; TLS-PSK identity), which APIs it may call, which
// destinations and origins its messages may name, and its request rate.
//
// A PolicySet is immutable once built; the Authorizer swaps whole sets (SIGHUP, admin API), so
// request threads read without locks.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/types.h"
#include "common/status.h"

namespace msgin5g::api::auth {

struct ClientPolicy {
  std::string client_id;
  std::string secret_hash;                // empty: this client cannot use the token endpoint
  std::vector<std::string> apis;          // msgs-asregistration, msgs-msgdelivery
  // Address patterns "TYPE:GLOB" (TYPE UE, AS, GROUP, TOPIC, BC; GLOB with '*' and '?') or "*".
  std::vector<std::string> destinations = {"*"};
  std::vector<std::string> origins = {"*"};
  double rate_limit = 0;                  // requests per second; 0: unlimited
  double rate_burst = 0;                  // bucket size; 0: max(1, rate_limit)
  std::string tls_identity;               // certificate SAN URI / DNS / CN naming this client
  std::string psk_identity;               // TLS-PSK identity (with psk_key)
  std::string psk_key;                    // raw key bytes
  bool from_admin = false;                // set through the admin API (persisted), not the file

  bool AllowsApi(std::string_view api) const;
  bool AllowsDestination(const broker::Address& a) const;
  bool AllowsOrigin(const broker::Address& a) const;
};

// Hex text -> bytes (PSK keys); false on an odd length or a non-hex digit.
bool DecodeHex(std::string_view hex, std::string* out);

// Checks a pattern list entry; InvalidArgument names the problem.
Status CheckAddressPattern(std::string_view pattern);
bool MatchAddress(std::string_view pattern, const broker::Address& a);
// '*' and '?' glob: the routing rules' matcher (broker::GlobMatch).
bool Glob(std::string_view pattern, std::string_view text);

class PolicySet {
 public:
  // InvalidArgument on duplicate client ids, TLS or PSK identities, unknown APIs or bad patterns.
  static Result<std::shared_ptr<const PolicySet>> Build(std::vector<ClientPolicy> clients);

  const ClientPolicy* Find(std::string_view client_id) const;
  const ClientPolicy* FindByTlsIdentity(std::string_view identity) const;
  const ClientPolicy* FindByPskIdentity(std::string_view identity) const;
  const std::vector<ClientPolicy>& clients() const { return clients_; }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Index = std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>>;
  std::vector<ClientPolicy> clients_;
  Index by_id_, by_tls_, by_psk_;
};

}  // namespace msgin5g::api::auth
