#include "api/auth/policy_store.h"

#include <boost/json.hpp>

#include "api/auth/secret_hash.h"

namespace msgin5g::api::auth {

namespace json = boost::json;

Result<std::shared_ptr<const PolicySet>> PolicyStore::Merge(
    const std::vector<ClientPolicy>& configured,
    const std::map<std::string, ClientPolicy>& admin) const {
  std::vector<ClientPolicy> all;
  for (const auto& c : configured) {
    if (admin.count(c.client_id) == 0) all.push_back(c);
  }
  for (const auto& [id, p] : admin) all.push_back(p);
  return PolicySet::Build(std::move(all));
}

Status PolicyStore::SetConfigured(std::vector<ClientPolicy> clients) {
  std::lock_guard<std::mutex> lock(mu_);
  auto set = Merge(clients, admin_);
  if (!set.ok()) return set.status();
  configured_ = std::move(clients);
  auth_.SetPolicies(std::move(set.value()));
  return Status::Ok();
}

Status PolicyStore::CheckAdmin(const ClientPolicy& p) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto admin = admin_;
  admin[p.client_id] = p;
  return Merge(configured_, admin).status();
}

Status PolicyStore::PutAdmin(ClientPolicy p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto admin = admin_;
  p.from_admin = true;
  admin[p.client_id] = std::move(p);
  auto set = Merge(configured_, admin);
  if (!set.ok()) return set.status();
  admin_ = std::move(admin);
  auth_.SetPolicies(std::move(set.value()));
  return Status::Ok();
}

void PolicyStore::RemoveAdmin(const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto admin = admin_;
  admin.erase(client_id);
  auto set = Merge(configured_, admin);
  if (!set.ok()) return;  // cannot happen: removing a client never makes a set invalid
  admin_ = std::move(admin);
  auth_.SetPolicies(std::move(set.value()));
}

namespace {

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string Hex(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Rates print as integers when they are whole (100, not 1E2).
json::value Number(double d) {
  if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
  return d;
}

json::object View(const ClientPolicy& p) {
  json::object o;
  o["clientId"] = p.client_id;
  o["source"] = p.from_admin ? "admin" : "config";
  o["hasSecret"] = !p.secret_hash.empty();
  o["apis"] = Strings(p.apis);
  o["destinations"] = Strings(p.destinations);
  o["origins"] = Strings(p.origins);
  o["rateLimit"] = Number(p.rate_limit);
  o["rateBurst"] = Number(p.rate_burst);
  o["tlsIdentity"] = p.tls_identity;
  o["pskIdentity"] = p.psk_identity;
  return o;
}

}  // namespace

std::string PolicyToJson(const ClientPolicy& p) { return json::serialize(View(p)); }

std::string PolicyToStoredJson(const ClientPolicy& p) {
  json::object o = View(p);
  o.erase("hasSecret");
  o.erase("source");
  o["secretHash"] = p.secret_hash;
  o["pskKey"] = Hex(p.psk_key);
  return json::serialize(o);
}

Result<ClientPolicy> PolicyFromJson(const std::string& client_id, std::string_view body,
                                    std::vector<std::pair<std::string, std::string>>* bad) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Status::InvalidArgument("body must be a JSON object");
  const json::object& o = v.as_object();
  ClientPolicy p;
  p.client_id = client_id;
  auto str = [&](const char* name, std::string* out) {
    const auto* m = o.if_contains(name);
    if (m == nullptr) return;
    if (!m->is_string()) {
      bad->push_back({std::string("/") + name, "must be a string"});
      return;
    }
    *out = std::string(m->as_string());
  };
  auto list = [&](const char* name, std::vector<std::string>* out) {
    const auto* m = o.if_contains(name);
    if (m == nullptr) return;
    if (!m->is_array()) {
      bad->push_back({std::string("/") + name, "must be an array of strings"});
      return;
    }
    out->clear();
    for (const auto& e : m->as_array()) {
      if (!e.is_string()) {
        bad->push_back({std::string("/") + name, "must be an array of strings"});
        return;
      }
      out->emplace_back(e.as_string());
    }
  };
  auto num = [&](const char* name, double* out) {
    const auto* m = o.if_contains(name);
    if (m == nullptr) return;
    if (!m->is_number() || m->to_number<double>() < 0) {
      bad->push_back({std::string("/") + name, "must be a number >= 0"});
      return;
    }
    *out = m->to_number<double>();
  };
  static const char* kKnown[] = {"clientId", "source", "hasSecret", "secret", "secretHash", "apis",
                                 "destinations", "origins", "rateLimit", "rateBurst",
                                 "tlsIdentity", "pskIdentity", "pskKey"};
  for (const auto& kv : o) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return kv.key() == k; })) {
      bad->push_back({"/" + std::string(kv.key()), "unknown member"});
    }
  }
  p.apis = {"msgs-asregistration", "msgs-msgdelivery"};
  list("apis", &p.apis);
  list("destinations", &p.destinations);
  list("origins", &p.origins);
  num("rateLimit", &p.rate_limit);
  num("rateBurst", &p.rate_burst);
  str("tlsIdentity", &p.tls_identity);
  str("pskIdentity", &p.psk_identity);
  std::string secret, hash, psk_hex;
  str("secret", &secret);
  str("secretHash", &hash);
  str("pskKey", &psk_hex);
  if (!secret.empty() && !hash.empty()) bad->push_back({"/secret", "give secret or secretHash, not both"});
  if (!hash.empty() && !CheckHashFormat(hash).ok()) {
    bad->push_back({"/secretHash", "expected pbkdf2-sha256$ITERATIONS$SALT$HASH"});
  }
  p.secret_hash = !secret.empty() ? HashSecret(secret) : hash;
  if (!DecodeHex(psk_hex, &p.psk_key)) bad->push_back({"/pskKey", "must be hex"});
  if (!p.psk_key.empty() && p.psk_identity.empty()) p.psk_identity = client_id;
  if (!bad->empty()) return Status::InvalidArgument("invalid client policy");
  return p;
}

}  // namespace msgin5g::api::auth
