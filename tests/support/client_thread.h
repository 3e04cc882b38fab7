// Our HTTP/2 client running on its own io_context thread, for tests and the crash test: Send from
// any thread (the callback runs on the client thread), or Call and wait.
#pragma once

#include <future>
#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "api/http/h2_client.h"

namespace msgin5g::testing_support {

class ClientThread {
 public:
  explicit ClientThread(api::http::ClientOptions options = {}) {
    client_ = std::make_unique<api::http::H2Client>(ioc_, std::move(options));
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~ClientThread() {
    // The client belongs to its io_context: destroy it there, then stop the thread.
    std::promise<void> gone;
    boost::asio::post(ioc_, [&] {
      client_.reset();
      gone.set_value();
    });
    gone.get_future().wait();
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }
  ClientThread(const ClientThread&) = delete;
  ClientThread& operator=(const ClientThread&) = delete;

  void Send(api::http::ClientRequest req, api::http::H2Client::Callback done) {
    client_->Send(std::move(req), std::move(done));
  }
  // Closes the client's connections: the next request opens a new one.
  void CloseConnections() { client_->Close(); }
  Result<api::http::Response> Call(api::http::ClientRequest req) {
    std::promise<Result<api::http::Response>> p;
    client_->Send(std::move(req), [&p](Result<api::http::Response> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      ioc_.get_executor()};
  std::unique_ptr<api::http::H2Client> client_;
  std::thread thread_;
};

}  // namespace msgin5g::testing_support
