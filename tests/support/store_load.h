// Load for durability tests (crash, backup): our HTTP/2 client on its own thread, store-and-forward
// messages from one AS to one UE, and admin reads over TCP with the harness's token.
#pragma once

#include <string>

#include "api/http/h2_client.h"
#include "tests/support/client_thread.h"
#include "tests/support/daemon_harness.h"

namespace msgin5g::testing_support {

class Loader : public ClientThread {
 public:
  Loader() : ClientThread(Options()) {}

 private:
  static api::http::ClientOptions Options() {
    api::http::ClientOptions o;
    o.request_timeout = std::chrono::seconds(10);
    o.connect_timeout = std::chrono::seconds(2);
    return o;
  }
};

// deliver-as-message from AS `as` to UE `ue`, stored when not deliverable; payload "payload-{id}".
inline api::http::ClientRequest StoredMessage(const std::string& sbi, const std::string& as,
                                             const std::string& ue, const std::string& msg_id) {
  api::http::ClientRequest r;
  r.url = "http://" + sbi + "/msgs-msgdelivery/v1/deliver-as-message";
  r.headers.push_back({"content-type", "application/json"});
  r.body = R"({"oriAddr":{"addrType":"AS","addr":")" + as +
           R"("},"destAddr":{"addrType":"UE","addr":")" + ue + R"("},"msgId":")" + msg_id +
           R"(","stoAndFwInd":true,"payload":"payload-)" + msg_id + R"("})";
  return r;
}

inline api::http::ClientRequest AdminGet(const Daemon& d, const std::string& path) {
  api::http::ClientRequest r;
  r.method = "GET";
  r.url = "http://" + d.admin() + "/admin/v1" + path;
  r.headers.push_back({"authorization", "Bearer " + d.admin_token()});
  return r;
}

}  // namespace msgin5g::testing_support
