#include "api/http/responder.h"

#include <atomic>
#include <chrono>

#include <boost/asio/io_context.hpp>

#include <boost/asio/post.hpp>

#include "api/http/http_metrics.h"
#include "api/http/problem.h"

namespace msgin5g::api::http {

class Responder::State {
 public:
  State(std::weak_ptr<ResponseSink> sink, boost::asio::any_io_executor executor,
        std::uint64_t token, HttpMetrics* metrics, std::string_view operation)
      : sink_(std::move(sink)), executor_(std::move(executor)), token_(token), metrics_(metrics),
        operation_(operation), start_(std::chrono::steady_clock::now()) {}

  ~State() {
    // A dropped, unanswered request gets 500 - unless its connection is already gone (shutdown).
    if (!answered_.load() && !sink_.expired()) {
      Send(MakeProblem(500, cause::kSystemFailure, "the request was not answered"));
    }
  }

  void Send(Response response) {
    if (answered_.exchange(true)) return;
    if (observer_) observer_(response.status);
    if (metrics_ != nullptr) {
      metrics_->RequestDone(operation_, response.status, std::chrono::steady_clock::now() - start_);
    }
    // On the session's own thread the answer goes straight in: sessions accept Deliver at any
    // point, even from inside their nghttp2 callbacks (they submit, and flush once nghttp2 has
    // returned), so a synchronous handler costs no post and its answer leaves in the same write
    // as its neighbours'. From other threads it is posted.
    auto* io = executor_.target<boost::asio::io_context::executor_type>();
    if (io != nullptr && io->running_in_this_thread()) {
      if (auto s = sink_.lock()) s->Deliver(token_, std::move(response));
      return;
    }
    boost::asio::post(executor_, [sink = sink_, token = token_,
                                  r = std::move(response)]() mutable {
      if (auto s = sink.lock()) s->Deliver(token, std::move(r));
    });
  }

 private:
  std::weak_ptr<ResponseSink> sink_;
  boost::asio::any_io_executor executor_;
  std::uint64_t token_;
  HttpMetrics* metrics_;
  std::string_view operation_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> answered_{false};

 public:
  const boost::asio::any_io_executor& executor() const { return executor_; }
  std::function<void(int)> observer_;  // set before the request is handed on
};

Responder::Responder(std::weak_ptr<ResponseSink> sink, boost::asio::any_io_executor executor,
                     std::uint64_t token, HttpMetrics* metrics, std::string_view operation)
    : state_(std::make_shared<State>(std::move(sink), std::move(executor), token, metrics,
                                     operation)) {}

void Responder::Send(Response response) const {
  if (state_) state_->Send(std::move(response));
}

boost::asio::any_io_executor Responder::executor() const {
  return state_ ? state_->executor() : boost::asio::any_io_executor();
}

void Responder::OnSend(std::function<void(int status)> observer) const {
  if (state_) state_->observer_ = std::move(observer);
}

}  // namespace msgin5g::api::http
