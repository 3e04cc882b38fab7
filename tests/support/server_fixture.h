// An in-process HTTP server on 127.0.0.1:0 with test routes, plus our HTTP/2 client on its own
// thread. Real sockets, real nghttp2, real TLS when asked; nothing mocked.
#pragma once

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "api/handlers/msgs_routes.h"
#include "api/http/h2_client.h"
#include "api/http/http_metrics.h"
#include "api/http/server.h"
#include "broker/durable_broker.h"
#include "storage/store.h"
#include "tests/support/test_util.h"
#include "common/io_pool.h"
#include "metrics/registry.h"

namespace msgin5g::testing_support {

class ServerFixture {
 public:
  explicit ServerFixture(api::http::ServerOptions options = {},
                         storage::StoreOptions store_options = {});
  ~ServerFixture();

  std::string base_url() const;  // http(s)://127.0.0.1:PORT
  int port() const { return server_->local_endpoint().port(); }
  api::http::Server& server() { return *server_; }
  metrics::Registry& registry() { return registry_; }
  broker::DurableBroker& broker() { return *broker_; }
  storage::Store& store() { return *store_; }

  // Blocking call through our H2 client (runs on the client thread).
  Result<api::http::Response> Call(api::http::ClientRequest request);
  void SetClientOptions(api::http::ClientOptions options);

  // Responders parked by GET /park, answered by the test.
  std::vector<api::http::Responder> TakeParked();
  std::size_t parked_count();

  // The bodies of the requests the POST /echo handler was given, in order: which requests the
  // server really handled (the HTTP/1.1 framing tests check that a smuggled one never was).
  std::vector<std::string> echoed();

 private:
  api::http::ServerOptions options_;
  TempDir data_dir_;
  metrics::Registry registry_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<broker::DurableBroker> broker_;
  IoPool pool_{2};
  api::auth::Authorizer auth_{api::auth::AuthOptions{}, nullptr};  // security off
  api::http::Router router_;
  std::unique_ptr<api::http::HttpMetrics> metrics_;
  std::unique_ptr<api::http::Server> server_;

  std::mutex parked_mu_;
  std::vector<api::http::Responder> parked_;
  std::vector<std::string> echoed_;  // under parked_mu_

  boost::asio::io_context client_ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> client_guard_{
      client_ioc_.get_executor()};
  std::unique_ptr<api::http::H2Client> client_;
  std::thread client_thread_;
};

}  // namespace msgin5g::testing_support
