#include "tests/support/server_fixture.h"

#include <boost/asio/post.hpp>

namespace msgin5g::testing_support {

using namespace api::http;

ServerFixture::ServerFixture(ServerOptions options, storage::StoreOptions so)
    : options_(std::move(options)) {
  options_.listen = "127.0.0.1:0";
  so.path = data_dir_.File("db");
  auto store = storage::Store::Open(so, &registry_);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store.value());
  auto b = broker::DurableBroker::Create(*store_, {}, &registry_);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  broker_ = std::move(b.value());
  router_.Add("POST", "/echo", "echo", [this](Request& req, Responder r) {
    {
      std::lock_guard<std::mutex> lock(parked_mu_);
      echoed_.push_back(req.body);
    }
    Response resp(200, std::string(req.header("content-type")), req.body);
    resp.headers.push_back({"x-protocol", req.http2 ? "h2" : "http/1.1"});
    r.Send(std::move(resp));
  });
  // Answers from another thread after {ms} milliseconds.
  router_.Add("GET", "/slow/{ms}", "slow", [](Request& req, Responder r) {
    int ms = std::stoi(std::string(req.PathParam("ms")));
    std::thread([r, ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      r.Send(Response(200, "text/plain", "slow " + std::to_string(ms)));
    }).detach();
  });
  // Never answered by the handler; the test takes the Responder.
  router_.Add("GET", "/park", "park", [this](Request&, Responder r) {
    std::lock_guard<std::mutex> lock(parked_mu_);
    parked_.push_back(std::move(r));
  });
  // An answer that ends its connection (Response::close_connection).
  router_.Add("GET", "/last", "last", [](Request&, Responder r) {
    Response resp(200, "text/plain", "last");
    resp.close_connection = true;
    r.Send(std::move(resp));
  });
  // The handler drops its Responder without answering: the client must get 500, not hang.
  router_.Add("GET", "/forget", "forget", [](Request&, Responder) {});
  api::AddMsgsRoutes(router_, *broker_, "", auth_);
  metrics_ = std::make_unique<HttpMetrics>(registry_, "sbi", router_.Operations());
  server_ = std::make_unique<Server>(pool_, options_, router_, metrics_.get());
  Status st = server_->Listen();
  EXPECT_TRUE(st.ok()) << st.ToString();
  server_->Start();
  pool_.Start();

  ClientOptions copts;
  copts.request_timeout = std::chrono::seconds(10);
  client_ = std::make_unique<H2Client>(client_ioc_, copts);
  client_thread_ = std::thread([this] { client_ioc_.run(); });
}

ServerFixture::~ServerFixture() {
  // The client lives on its own io_context: destroy it there, then stop that thread.
  std::promise<void> gone;
  boost::asio::post(client_ioc_, [this, &gone] {
    client_.reset();
    gone.set_value();
  });
  gone.get_future().wait();
  client_guard_.reset();
  client_ioc_.stop();
  client_thread_.join();
  {
    std::lock_guard<std::mutex> lock(parked_mu_);
    parked_.clear();
  }
  server_->Shutdown(std::chrono::milliseconds(2000));
  pool_.Abort();
  broker_.reset();
  store_.reset();
}

void ServerFixture::SetClientOptions(ClientOptions options) {
  std::promise<void> done;
  boost::asio::post(client_ioc_, [this, &done, options] {
    client_ = std::make_unique<H2Client>(client_ioc_, options);
    done.set_value();
  });
  done.get_future().wait();
}

std::string ServerFixture::base_url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" +
         std::to_string(server_->local_endpoint().port());
}

Result<Response> ServerFixture::Call(ClientRequest request) {
  std::promise<Result<Response>> p;
  auto f = p.get_future();
  boost::asio::post(client_ioc_, [this, &p, req = std::move(request)]() mutable {
    client_->Send(std::move(req), [&p](Result<Response> r) { p.set_value(std::move(r)); });
  });
  return f.get();
}

std::vector<Responder> ServerFixture::TakeParked() {
  std::lock_guard<std::mutex> lock(parked_mu_);
  return std::move(parked_);
}

std::vector<std::string> ServerFixture::echoed() {
  std::lock_guard<std::mutex> lock(parked_mu_);
  return echoed_;
}

std::size_t ServerFixture::parked_count() {
  std::lock_guard<std::mutex> lock(parked_mu_);
  return parked_.size();
}

}  // namespace msgin5g::testing_support
