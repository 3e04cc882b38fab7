#include "api/capif/ccf_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "api/auth/jwks.h"
#include "api/auth/policy.h"
#include "common/logging.h"

namespace msgin5g::api::capif {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kMaxPublishBackoff = std::chrono::milliseconds(60000);
constexpr auto kMinKeyFetchInterval = std::chrono::seconds(1);
constexpr auto kKeyRetry = std::chrono::seconds(5);

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  if (f) s << f.rdbuf();
  return s.str();
}

// Writes `content` to `path` through a fsync'd temporary file and a rename: a crash leaves the
// old file or the new one, never half of one.
bool WriteAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

// The serviceApiId of a 201: the body's apiId, else the last segment of Location.
std::string CreatedId(const http::Response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    if (const auto* id = v.as_object().if_contains("apiId"); id != nullptr && id->is_string()) {
      return std::string(id->as_string());
    }
  }
  std::string_view location = http::FindHeader(r.headers, "location");
  auto slash = location.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(location.substr(slash + 1));
}

constexpr std::size_t kMaxCachedInvokers = 100000;
constexpr std::size_t kMaxPskBytes = 256;  // OpenSSL's PSK_MAX_PSK_LEN is 512

// An identity as one path segment (RFC 3986 unreserved characters kept, the rest %XX): a
// certificate's SAN URI has ':' and '/'.
std::string PathSegment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string InvokerKey(const std::string& invoker, bool psk) {
  return (psk ? "psk:" : "pki:") + invoker;
}

}  // namespace

CcfClient::CcfClient(CcfOptions options, KeysCallback on_keys, metrics::Registry& registry)
    : options_(std::move(options)), on_keys_(std::move(on_keys)), guard_(ioc_.get_executor()),
      publish_timer_(ioc_), keys_timer_(ioc_) {
  client_ = std::make_unique<http::H2Client>(ioc_, options_.client);
  auto& published = prometheus::BuildGauge()
                        .Name("msgin5g_capif_published")
                        .Help("1 when the API is published at the CAPIF core function")
                        .Register(registry.prom());
  for (const auto& api : options_.api_names) published_gauges_.push_back(&published.Add({{"api", api}}));
  auto& fetches = prometheus::BuildCounter()
                      .Name("msgin5g_capif_key_fetches_total")
                      .Help("Fetches of the CAPIF core function's token signing keys, by result")
                      .Register(registry.prom());
  fetch_ok_ = &fetches.Add({{"result", "ok"}});
  fetch_failed_ = &fetches.Add({{"result", "failed"}});
  keys_ = &prometheus::BuildGauge()
               .Name("msgin5g_capif_keys")
               .Help("Token signing keys of the CAPIF core function in use")
               .Register(registry.prom())
               .Add({});
  auto& psk = prometheus::BuildCounter()
                  .Name("msgin5g_capif_psk_key_lookups_total")
                  .Help("TLS-PSK keys asked of the CAPIF core function before a handshake, by "
                        "result (found, none: it has no key for the identity, failed: no "
                        "answer, busy: too many questions outstanding)")
                  .Register(registry.prom());
  psk_found_ = &psk.Add({{"result", "found"}});
  psk_none_ = &psk.Add({{"result", "none"}});
  psk_failed_ = &psk.Add({{"result", "failed"}});
  psk_busy_ = &psk.Add({{"result", "busy"}});
  // What an earlier run published: updated in place rather than published again.
  boost::system::error_code ec;
  auto state = json::parse(ReadAll(options_.state_file), ec);
  if (!ec && state.is_object()) {
    for (const auto& [api, id] : state.as_object()) {
      if (id.is_string()) ids_[std::string(api)] = std::string(id.as_string());
    }
  }
}

CcfClient::~CcfClient() {
  stopping_ = true;  // nothing is rescheduled from here on, so run() returns
  asio::post(ioc_, [this] {
    publish_timer_.cancel();
    keys_timer_.cancel();
    client_->Close();
  });
  guard_.reset();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    ioc_.run();  // never started: the close runs here
  }
  client_.reset();
}

void CcfClient::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "capif");
    ioc_.run();
  });
  asio::post(ioc_, [this] {
    if (options_.publish && !options_.api_names.empty()) Publish(0);
    if (!options_.keys_url.empty()) FetchKeys();
  });
}

std::map<std::string, std::string> CcfClient::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ids_;
}

std::string CcfClient::CollectionUrl() const {
  return options_.api_root + "/published-apis/v1/" + options_.apf_id + "/service-apis";
}

// ServiceAPIDescription (TS29222_CAPIF_Publish_Service_API.yaml): apiName, and one AefProfile
// with aefId, versions [v1], protocol, dataFormat, securityMethods and the interface.
std::string CcfClient::Description(const std::string& api_name) const {
  json::object iface;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options_.interface_host, ec);
  if (ec) {
    iface["fqdn"] = options_.interface_host;
  } else if (addr.is_v4()) {
    iface["ipv4Addr"] = options_.interface_host;
  } else {
    iface["ipv6Addr"] = options_.interface_host;
  }
  iface["port"] = options_.interface_port;
  if (!options_.api_prefix.empty()) iface["apiPrefix"] = options_.api_prefix;
  json::array methods;
  for (const auto& m : options_.security_methods) methods.emplace_back(m);
  json::object profile{
      {"aefId", options_.aef_id},
      {"versions", json::array{json::object{{"apiVersion", "v1"}}}},
      {"protocol", "HTTP_2"},
      {"dataFormat", "JSON"},
      {"interfaceDescriptions", json::array{iface}},
  };
  if (!methods.empty()) profile["securityMethods"] = methods;
  json::object d{
      {"apiName", api_name},
      {"aefProfiles", json::array{profile}},
      {"description", "MSGin5G Server (TS 29.538 " + api_name + ")"},
  };
  return json::serialize(d);
}

void CcfClient::Publish(std::size_t index) {
  if (stopping_ || index >= options_.api_names.size()) return;
  const std::string api = options_.api_names[index];
  std::string known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = ids_.find(api); it != ids_.end()) known = it->second;
  }
  http::ClientRequest req;
  req.method = known.empty() ? "POST" : "PUT";
  req.url = known.empty() ? CollectionUrl() : CollectionUrl() + "/" + known;
  req.headers = {{"content-type", "application/json"}};
  req.body = Description(api);
  client_->Send(std::move(req), [this, index, api, known](Result<http::Response> r) {
    if (!r.ok()) {
      LOG_WARN_LIMITED("capif", "publishing %s at %s: %s; retrying", api.c_str(),
                       options_.api_root.c_str(), r.status().message().c_str());
      RetryPublish(index);
      return;
    }
    if (!known.empty() && r->status == 404) {
      LOG_INFO("capif", "%s: serviceApiId %s is unknown to the CAPIF core function; publishing anew",
               api.c_str(), known.c_str());
      {
        std::lock_guard<std::mutex> lock(mu_);
        ids_.erase(api);
      }
      Publish(index);
      return;
    }
    bool created = known.empty() && r->status == 201;
    bool updated = !known.empty() && (r->status == 200 || r->status == 204);
    std::string id = created ? CreatedId(*r) : known;
    if ((!created && !updated) || id.empty()) {
      LOG_WARN_LIMITED("capif", "publishing %s: the CAPIF core function answered %d %.200s; retrying",
                       api.c_str(), r->status, r->body.c_str());
      RetryPublish(index);
      return;
    }
    Published(index, id);
    Publish(index + 1);
  });
}

void CcfClient::RetryPublish(std::size_t index) {
  if (stopping_) return;
  publish_timer_.expires_after(publish_backoff_);
  publish_backoff_ = std::min(publish_backoff_ * 2, kMaxPublishBackoff);
  publish_timer_.async_wait([this, index](const boost::system::error_code& ec) {
    if (!ec) Publish(index);
  });
}

void CcfClient::Published(std::size_t index, const std::string& id) {
  publish_backoff_ = 1000ms;
  const std::string& api = options_.api_names[index];
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids_[api] = id;
  }
  // Recorded before the gauge says so: whoever sees "published" finds the id in the state file.
  SaveState();
  published_gauges_[index]->Set(1);
  LOG_INFO("capif", "%s published at %s as serviceApiId %s", api.c_str(), options_.api_root.c_str(),
           id.c_str());
}

void CcfClient::SaveState() {
  json::object o;
  for (const auto& [api, id] : published()) o[api] = id;
  if (!WriteAtomically(options_.state_file, json::serialize(o))) {
    LOG_WARN("capif", "cannot write %s: the next start publishes again", options_.state_file.c_str());
  }
}

void CcfClient::RefreshKeysSoon() {
  asio::post(ioc_, [this] {
    if (options_.keys_url.empty() || fetching_) return;
    if (std::chrono::steady_clock::now() - last_fetch_ < kMinKeyFetchInterval) return;
    FetchKeys();
  });
}

void CcfClient::ScheduleKeys(std::chrono::milliseconds after) {
  if (stopping_) return;
  keys_timer_.expires_after(after);
  keys_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !fetching_) FetchKeys();
  });
}

void CcfClient::FetchKeys() {
  if (stopping_) return;
  fetching_ = true;
  last_fetch_ = std::chrono::steady_clock::now();
  http::ClientRequest req;
  req.method = "GET";
  req.url = options_.keys_url;
  req.headers = {{"accept", "application/json"}};
  client_->Send(std::move(req), [this](Result<http::Response> r) {
    fetching_ = false;
    std::string why;
    if (!r.ok()) {
      why = r.status().message();
    } else if (r->status != 200) {
      why = "status " + std::to_string(r->status);
    } else {
      auto keys = auth::ParseJwks(r->body, options_.issuer);
      if (!keys.ok()) {
        why = keys.status().message();
      } else {
        for (const auto& s : keys->skipped) LOG_WARN("capif", "keys at %s: %s", options_.keys_url.c_str(), s.c_str());
        if (keys->keys.empty()) {
          why = "no usable key";
        } else {
          fetch_ok_->Increment();
          keys_->Set(static_cast<double>(keys->keys.size()));
          LOG_DEBUG("capif", "%zu keys of %s from %s", keys->keys.size(), options_.issuer.c_str(),
                    options_.keys_url.c_str());
          on_keys_(std::move(keys->keys));
          ScheduleKeys(options_.keys_refresh);
          return;
        }
      }
    }
    fetch_failed_->Increment();
    LOG_WARN_LIMITED("capif", "fetching the CAPIF core function's keys from %s: %s; keeping the "
                     "keys in use", options_.keys_url.c_str(), why.c_str());
    ScheduleKeys(std::min<std::chrono::milliseconds>(kKeyRetry, options_.keys_refresh));
  });
}


auth::InvokerVerdict CcfClient::Cached(const std::string& invoker, bool psk, std::string_view api) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = invokers_.find(InvokerKey(invoker, psk));
  if (it == invokers_.end() || it->second.expires <= std::chrono::steady_clock::now()) {
    return auth::InvokerVerdict::kUnknown;
  }
  auto a = it->second.allowed.find(std::string(api));
  return a != it->second.allowed.end() && a->second ? auth::InvokerVerdict::kAllowed
                                                    : auth::InvokerVerdict::kRefused;
}

void CcfClient::Ask(const std::string& invoker, bool psk, std::string_view api,
                    std::function<void(Result<auth::InvokerVerdict>)> done) {
  asio::post(ioc_, [this, invoker, psk, api = std::string(api), done = std::move(done)]() mutable {
    if (stopping_) {
      done(Status::Unavailable("shutting down"));
      return;
    }
    std::string key = InvokerKey(invoker, psk);
    // Answered while this question waited for the thread?
    auto cached = Cached(invoker, psk, api);
    if (cached != auth::InvokerVerdict::kUnknown) {
      done(cached);
      return;
    }
    auto& waiting = asking_[key];
    waiting.emplace_back(api, std::move(done));
    if (waiting.size() == 1) AskCcf(key, invoker, psk);
  });
}

std::size_t CcfClient::ForgetInvoker(const std::string& invoker) {
  std::lock_guard<std::mutex> lock(mu_);
  ++forget_generation_;
  return invokers_.erase(InvokerKey(invoker, false)) + invokers_.erase(InvokerKey(invoker, true));
}

// Room for one more answer. Made-up identities (anyone may offer one in a ClientHello) leave
// refusals behind: the expired entries go first, then the refusals, and only then everything,
// so that such a flood does not push out the invokers that are let in.
void CcfClient::MakeRoomLocked() {
  if (invokers_.size() < kMaxCachedInvokers) return;
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(invokers_, [now](const auto& kv) { return kv.second.expires <= now; });
  if (invokers_.size() < kMaxCachedInvokers) return;
  std::erase_if(invokers_, [](const auto& kv) {
    const InvokerEntry& e = kv.second;
    return e.psk_key.empty() &&
           std::none_of(e.allowed.begin(), e.allowed.end(), [](const auto& a) { return a.second; });
  });
  if (invokers_.size() >= kMaxCachedInvokers) invokers_.clear();
}

void CcfClient::RevokeInvoker(std::string invoker, std::vector<std::string> api_names,
                              std::string cause, std::function<void(Status)> done) {
  asio::post(ioc_, [this, invoker = std::move(invoker), api_names = std::move(api_names),
                    cause = std::move(cause), done = std::move(done)]() mutable {
    if (stopping_) return done(Status::Unavailable("shutting down"));
    const auto ids = published();
    json::array api_ids;
    for (const auto& api : options_.api_names) {
      bool named = api_names.empty() ||
                   std::find(api_names.begin(), api_names.end(), api) != api_names.end();
      if (auto it = ids.find(api); named && it != ids.end()) api_ids.emplace_back(it->second);
    }
    if (api_ids.empty()) {
      return done(Status::Conflict("none of those APIs is published at the CAPIF core function yet"));
    }
    http::ClientRequest req;
    req.method = "POST";
    req.url = options_.api_root + "/capif-security/v1/trustedInvokers/" + PathSegment(invoker) +
              "/delete";
    req.headers = {{"content-type", "application/json"}};
    req.body = json::serialize(json::object{{"apiInvokerId", invoker},
                                            {"aefId", options_.aef_id},
                                            {"apiIds", std::move(api_ids)},
                                            {"cause", cause}});
    client_->Send(std::move(req), [this, invoker, done = std::move(done)](Result<http::Response> r) {
      if (!r.ok()) {
        return done(Status::Unavailable("CAPIF core function: " + r.status().message()));
      }
      if (r->status >= 400 && r->status < 500 && r->status != 404) {
        // It refused what we sent: retrying the same will not help.
        return done(Status::Internal("the CAPIF core function refused the revocation: " +
                                     std::to_string(r->status) + " " + r->body.substr(0, 200)));
      }
      if (r->status != 204 && r->status != 200 && r->status != 404) {
        return done(Status::Unavailable("the CAPIF core function answered " +
                                        std::to_string(r->status) + " " + r->body.substr(0, 200)));
      }
      ForgetInvoker(invoker);
      LOG_INFO("capif", "invoker %.128s: authorization revoked at the CAPIF core function (%d)",
               invoker.c_str(), r->status);
      done(r->status == 404 ? Status::NotFound("the CAPIF core function does not know invoker " +
                                               invoker)
                            : Status());
    });
  });
}

bool CcfClient::CachedPskKey(const std::string& identity, std::string* key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = invokers_.find(InvokerKey(identity, true));
  if (it == invokers_.end() || it->second.expires <= std::chrono::steady_clock::now() ||
      it->second.psk_key.empty()) {
    return false;
  }
  *key = it->second.psk_key;
  return true;
}

void CcfClient::FetchPskKey(const std::string& identity, std::function<void(bool)> ready) {
  asio::post(ioc_, [this, identity, ready = std::move(ready)]() mutable {
    std::string key = InvokerKey(identity, true);
    // An answer about to expire is asked again: the handshake that follows must still find it.
    const auto margin = std::min<std::chrono::steady_clock::duration>(
        std::chrono::seconds(10), options_.invoker_ttl / 4);
    bool fresh = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = invokers_.find(key);
      fresh = it != invokers_.end() &&
              it->second.expires > std::chrono::steady_clock::now() + margin;
    }
    if (fresh) return ready(true);  // a cached answer, with or without a key, is the answer
    if (stopping_) return ready(false);
    auto& waiting = asking_[key];
    if (waiting.empty()) {
      if (key_questions_.size() >= kMaxKeyQuestions) {
        asking_.erase(key);
        psk_busy_->Increment();
        LOG_WARN_LIMITED("capif", "%zu TLS-PSK keys are being asked of the CAPIF core function "
                         "already: the handshake of %.64s goes on without asking",
                         key_questions_.size(), identity.c_str());
        return ready(false);
      }
      key_questions_.insert(key);  // a question of its own, counted until answered
    }
    // A waiter for no API: it only needs the answer cached.
    waiting.emplace_back(std::string(), [ready = std::move(ready)](
                                            Result<auth::InvokerVerdict> answer) {
      ready(answer.ok());
    });
    if (waiting.size() == 1) AskCcf(key, identity, true);
  });
}

void CcfClient::AskCcf(const std::string& key, const std::string& invoker, bool psk) {
  http::ClientRequest req;
  req.method = "GET";
  req.url = options_.api_root + "/capif-security/v1/trustedInvokers/" + PathSegment(invoker) +
            "?authenticationInfo=true&authorizationInfo=true";
  req.headers = {{"accept", "application/json"}};
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation = forget_generation_;
  }
  client_->Send(std::move(req), [this, key, invoker, psk, generation](Result<http::Response> r) {
    auto waiters = std::move(asking_[key]);
    asking_.erase(key);
    key_questions_.erase(key);
    std::optional<InvokerEntry> entry;
    std::string why;
    if (!r.ok()) {
      why = r.status().message();
    } else if (r->status == 200) {
      bool undecided = false;
      entry = Judge(r->body, psk, &undecided);
      if (undecided) {
        // Unreadable, or naming an apiId while ours is not published yet: neither allowed nor
        // refused.
        entry.reset();
        why = "its answer cannot be judged (not a ServiceSecurity, or an apiId not known yet)";
      }
    } else if (r->status == 404) {
      entry = InvokerEntry{};  // not a trusted invoker: nothing allowed
    } else {
      why = "status " + std::to_string(r->status);
    }
    bool key_asked = false;
    for (const auto& [api, done] : waiters) key_asked |= api.empty();
    if (!entry) {
      LOG_WARN_LIMITED("capif", "trustedInvokers/%s at %s: %s; the invoker is refused with 503",
                       invoker.c_str(), options_.api_root.c_str(), why.c_str());
      if (key_asked) psk_failed_->Increment();
      for (auto& [api, done] : waiters) done(Status::Unavailable("CAPIF core function: " + why));
      return;
    }
    if (key_asked) (entry->psk_key.empty() ? psk_none_ : psk_found_)->Increment();
    entry->expires = std::chrono::steady_clock::now() + options_.invoker_ttl;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // An answer sent for before an admin forgot invokers may predate a revocation: it serves
      // the requests that waited for it, and is not kept.
      if (generation == forget_generation_) {
        MakeRoomLocked();
        invokers_[key] = *entry;
      }
    }
    for (auto& [api, done] : waiters) {
      auto a = entry->allowed.find(api);
      done(a != entry->allowed.end() && a->second ? auth::InvokerVerdict::kAllowed
                                                  : auth::InvokerVerdict::kRefused);
    }
  });
}

// ServiceSecurity (TS29222_CAPIF_Security_API.yaml): which of our APIs its securityInfo grants.
CcfClient::InvokerEntry CcfClient::Judge(const std::string& body, bool psk,
                                         bool* undecided) const {
  InvokerEntry entry;
  for (const auto& api : options_.api_names) entry.allowed[api] = false;
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  const json::array* infos = nullptr;
  if (!ec && doc.is_object()) {
    if (const auto* v = doc.as_object().if_contains("securityInfo"); v && v->is_array()) {
      infos = &v->as_array();
    }
  }
  if (infos == nullptr) {  // an answer we cannot read is no answer: 503, nothing cached
    *undecided = true;
    return entry;
  }
  const std::string method = psk ? "PSK" : "PKI";
  auto ids = published();
  for (const auto& v : *infos) {
    if (!v.is_object()) continue;
    const auto& info = v.as_object();
    auto str = [&](const char* name) {
      const auto* x = info.if_contains(name);
      return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    bool ours = str("aefId") == options_.aef_id;
    if (!ours && !info.contains("aefId")) {
      const auto* iface = info.if_contains("interfaceDetails");
      const auto* port = iface && iface->is_object() ? iface->as_object().if_contains("port") : nullptr;
      ours = port && port->is_int64() && port->as_int64() == options_.interface_port;
    }
    if (!ours) continue;
    bool method_ok = false;
    if (info.contains("selSecurityMethod")) {
      method_ok = str("selSecurityMethod") == method;
    } else if (const auto* pref = info.if_contains("prefSecurityMethods"); pref && pref->is_array()) {
      for (const auto& m : pref->as_array()) method_ok |= m.is_string() && m.as_string() == method;
    }
    if (!method_ok) continue;
    if (psk && entry.psk_key.empty()) {
      std::string key;
      std::string hex = str("authenticationInfo");
      if (!hex.empty() && auth::DecodeHex(hex, &key) && key.size() <= kMaxPskBytes) {
        entry.psk_key = std::move(key);
      } else if (!hex.empty()) {
        LOG_WARN_LIMITED("capif", "a PSK authenticationInfo of the CAPIF core function is not a "
                         "hex key of 1 to %zu bytes: ignored", kMaxPskBytes);
      }
    }
    std::string api_id = str("apiId");
    for (auto& [api, allowed] : entry.allowed) {
      auto id = ids.find(api);
      if (api_id.empty() || (id != ids.end() && id->second == api_id)) allowed = true;
      if (!api_id.empty() && id == ids.end()) *undecided = true;
    }
  }
  // An answer that allows every API is decided whatever the ids still unknown would have said.
  bool all = true;
  for (const auto& [api, allowed] : entry.allowed) all = all && allowed;
  if (all) *undecided = false;
  return entry;
}

}  // namespace msgin5g::api::capif
