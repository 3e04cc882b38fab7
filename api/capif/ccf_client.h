// msgin5gd's side of CAPIF (TS 29.222) towards a CAPIF core function (CCF), as the API publishing
// function (APF) and API exposing function (AEF) of its two northbound APIs:
// - Publish_Service_API: on start, each API (msgs-asregistration, msgs-msgdelivery) is published
//   with POST {apiRoot}/published-apis/v1/{apfId}/service-apis, and the serviceApiId the CCF
//   returns is kept in a state file; after a restart the same id is updated with PUT (a 404
//   publishes anew), so the CCF does not collect one copy per restart. A CCF that cannot be
//   reached is retried with backoff (1 s doubling to 60 s); serving does not wait for it.
// - The CCF's token signing keys: a JWK set fetched from `keys_url` at start, every
//   `keys_refresh`, and soon after a token names an unknown kid (at most once a second), handed
//   to the authorizer. A fetch that fails keeps the keys already fetched.
// - The Security API's trustedInvokers (TS 29.222 5.6.2.4): an invoker that authenticated by
//   certificate or TLS-PSK and is no configured client is looked up with
//   GET {apiRoot}/capif-security/v1/trustedInvokers/{apiInvokerId}?authenticationInfo=true&
//   authorizationInfo=true (its identity is the apiInvokerId). It is allowed an API when one
//   securityInfo entry names our aefId (or, by interfaceDetails, our port), the method it used
//   (PKI or PSK) as selected (or preferred), and that API's serviceApiId or no apiId; 404 means
//   not trusted. Answers are cached for `invoker_ttl`; concurrent questions about one invoker
//   share one request. No answer (the CCF down, a 5xx, a timeout) is never taken as an allow.
// - TLS-PSK keys of invokers the CCF onboarded: the same GET, asked before the TLS handshake of
//   a ClientHello offering an unknown PSK identity (api/http/client_hello.h). The key is the
//   `authenticationInfo` of a securityInfo entry that names us and PSK, in hex (TS 29.222 leaves
//   its format open; TS 33.122 derives a 256-bit K_AEF); it is cached with the answer. At most
//   kMaxKeyQuestions are asked at once: a flood of made-up identities cannot queue requests to
//   the CCF without bound.
//
// Threads: its own ("capif"), with its own HTTP client; the callbacks run there.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/auth/invoker_authority.h"
#include "api/auth/jwt.h"
#include "api/http/client_options.h"
#include "api/http/h2_client.h"
#include "metrics/registry.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace msgin5g::api::capif {

struct CcfOptions {
  std::string api_root;  // the CCF's apiRoot: https://host:port[/prefix]
  std::string apf_id;    // our APF identifier at the CCF
  std::string aef_id;    // our AEF identifier (security.server_id): aefProfiles[].aefId
  bool publish = true;
  std::vector<std::string> api_names = {"msgs-asregistration", "msgs-msgdelivery"};
  // Our SBI as invokers reach it: InterfaceDescription ipv4Addr / ipv6Addr / fqdn, port and
  // apiPrefix (api.api_root); the protocol and security methods of AefProfile.
  std::string interface_host;
  int interface_port = 0;
  std::string api_prefix;
  std::vector<std::string> security_methods;  // PSK, PKI, OAUTH
  std::string state_file;                     // serviceApiIds by API name (JSON)

  std::string issuer;    // the iss of the CCF's tokens
  std::string keys_url;  // the CCF's JWK set; empty: none fetched
  std::chrono::seconds keys_refresh{300};

  std::chrono::seconds invoker_ttl{300};  // trustedInvokers answers kept this long

  http::ClientOptions client;  // TLS towards the CCF (mTLS with our certificate)
};

class CcfClient : public auth::InvokerAuthority {
 public:
  using KeysCallback = std::function<void(std::vector<auth::TrustedIssuer>)>;

  CcfClient(CcfOptions options, KeysCallback on_keys, metrics::Registry& registry);
  ~CcfClient() override;  // stops
  CcfClient(const CcfClient&) = delete;
  CcfClient& operator=(const CcfClient&) = delete;

  void Start();
  // Fetches the keys again now unless that was done less than a second ago. Any thread.
  void RefreshKeysSoon();
  // serviceApiId by API name, for those published so far.
  std::map<std::string, std::string> published() const;

  // auth::InvokerAuthority (thread-safe).
  auth::InvokerVerdict Cached(const std::string& invoker, bool psk, std::string_view api) override;
  void Ask(const std::string& invoker, bool psk, std::string_view api,
           std::function<void(Result<auth::InvokerVerdict>)> done) override;
  bool CachedPskKey(const std::string& identity, std::string* key) override;
  void FetchPskKey(const std::string& identity, std::function<void(bool)> ready) override;

  static constexpr std::size_t kMaxKeyQuestions = 64;

  // Admin API (api/handlers/capif_routes.h). ForgetInvoker: drops what is cached about
  // `invoker` (its answers by certificate and by PSK, and its PSK key), so that its next
  // request asks the CCF again; how many entries went. Any thread.
  std::size_t ForgetInvoker(const std::string& invoker);
  // Revokes `invoker`'s authorization for `api_names` (empty: every API of ours published) at
  // the CCF with the Security API (POST trustedInvokers/{id}/delete, a SecurityNotification of
  // our aefId, those serviceApiIds and `cause`), then forgets it. `done` (on the capif thread):
  // Ok; NotFound when the CCF does not know the invoker (forgotten all the same); Conflict when
  // none of those APIs is published yet; Internal when the CCF refused it (another 4xx);
  // Unavailable when it gave no answer or a 5xx.
  void RevokeInvoker(std::string invoker, std::vector<std::string> api_names, std::string cause,
                     std::function<void(Status)> done);

 private:
  struct InvokerEntry {
    std::map<std::string, bool> allowed;  // by API name
    std::string psk_key;                  // PSK invokers: the key the CCF gave, if any
    std::chrono::steady_clock::time_point expires;
  };
  using Waiter = std::pair<std::string, std::function<void(Result<auth::InvokerVerdict>)>>;
  void AskCcf(const std::string& key, const std::string& invoker, bool psk);
  // `undecided`: the answer is no ServiceSecurity, or an entry names an apiId while one of our
  // APIs has no serviceApiId yet.
  InvokerEntry Judge(const std::string& service_security, bool psk, bool* undecided) const;
  void MakeRoomLocked();  // under mu_
  void Publish(std::size_t index);
  void RetryPublish(std::size_t index);
  void Published(std::size_t index, const std::string& id);
  void FetchKeys();
  void ScheduleKeys(std::chrono::milliseconds after);
  std::string Description(const std::string& api_name) const;
  std::string CollectionUrl() const;
  void SaveState();

  CcfOptions options_;
  KeysCallback on_keys_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<http::H2Client> client_;
  boost::asio::steady_timer publish_timer_;
  boost::asio::steady_timer keys_timer_;
  std::chrono::milliseconds publish_backoff_{1000};
  std::chrono::steady_clock::time_point last_fetch_{};
  bool fetching_ = false;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::string> ids_;  // under mu_
  std::map<std::string, InvokerEntry> invokers_;  // "pki:" / "psk:" + identity, under mu_
  std::map<std::string, std::vector<Waiter>> asking_;  // capif thread only
  std::vector<prometheus::Gauge*> published_gauges_;
  prometheus::Counter* fetch_ok_ = nullptr;
  prometheus::Counter* fetch_failed_ = nullptr;
  prometheus::Gauge* keys_ = nullptr;
  std::set<std::string> key_questions_;  // keys asked for a PSK handshake; capif thread only
  std::uint64_t forget_generation_ = 0;   // ForgetInvoker calls so far, under mu_
  prometheus::Counter* psk_found_ = nullptr;
  prometheus::Counter* psk_none_ = nullptr;
  prometheus::Counter* psk_failed_ = nullptr;
  prometheus::Counter* psk_busy_ = nullptr;
  std::thread thread_;
};

}  // namespace msgin5g::api::capif
