// The client policies in force: those of the configuration file ([clients.*], replaced on SIGHUP)
// overlaid by those set through the admin API (stored durably by the broker; an admin entry
// replaces a file entry with the same id). Every change republishes one PolicySet to the
// Authorizer, and is refused whole when the merged set would be invalid (e.g. two clients
// claiming one TLS identity).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/auth/authorizer.h"
#include "api/auth/policy.h"

namespace msgin5g::api::auth {

class PolicyStore {
 public:
  explicit PolicyStore(Authorizer& auth) : auth_(auth) {}

  Status SetConfigured(std::vector<ClientPolicy> clients);
  // Checks `p` against the merged set without changing anything.
  Status CheckAdmin(const ClientPolicy& p) const;
  Status PutAdmin(ClientPolicy p);
  void RemoveAdmin(const std::string& client_id);

 private:
  Result<std::shared_ptr<const PolicySet>> Merge(const std::vector<ClientPolicy>& configured,
                                                 const std::map<std::string, ClientPolicy>& admin) const;

  Authorizer& auth_;
  mutable std::mutex mu_;
  std::vector<ClientPolicy> configured_;
  std::map<std::string, ClientPolicy> admin_;
};

// The admin API's JSON for a policy: {"clientId","source","secretHash"?,"apis","destinations",
// "origins","rateLimit","rateBurst","tlsIdentity","pskIdentity"} (the PSK key is never shown; the
// secret hash only as "hasSecret").
std::string PolicyToJson(const ClientPolicy& p);
// Parses a PUT body: the members above plus "secret" (hashed at once, never stored in clear) or
// "secretHash", and "pskKey" (hex). InvalidArgument lists the bad members in `bad`.
Result<ClientPolicy> PolicyFromJson(const std::string& client_id, std::string_view body,
                                    std::vector<std::pair<std::string, std::string>>* bad);
// The stored form (includes secretHash and pskKey so a restart restores them).
std::string PolicyToStoredJson(const ClientPolicy& p);

}  // namespace msgin5g::api::auth
