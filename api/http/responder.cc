#include "api/http/responder.h"

#include <atomic>

#include <boost/asio/post.hpp>

#include "api/http/problem.h"

namespace msgin5g::api::http {

class Responder::State {
 public:
  State(std::weak_ptr<ResponseSink> sink, boost::asio::any_io_executor executor,
        std::uint64_t token, std::function<void(const Response&)> observer)
      : sink_(std::move(sink)), executor_(std::move(executor)), token_(token),
        observer_(std::move(observer)) {}

  ~State() {
    if (!answered_.load()) {
      Send(MakeProblem(500, cause::kSystemFailure, "the request was not answered"));
    }
  }

  void Send(Response response) {
    if (answered_.exchange(true)) return;
    if (observer_) observer_(response);
    // Always post, even on the session's own thread: the session may be inside an nghttp2
    // callback, and nghttp2 must not be re-entered (Envoy's dispatching_ rule).
    boost::asio::post(executor_, [sink = sink_, token = token_,
                                  r = std::move(response)]() mutable {
      if (auto s = sink.lock()) s->Deliver(token, std::move(r));
    });
  }

 private:
  std::weak_ptr<ResponseSink> sink_;
  boost::asio::any_io_executor executor_;
  std::uint64_t token_;
  std::function<void(const Response&)> observer_;  // metrics hook, runs once with the response
  std::atomic<bool> answered_{false};
};

Responder::Responder(std::weak_ptr<ResponseSink> sink, boost::asio::any_io_executor executor,
                     std::uint64_t token, std::function<void(const Response&)> observer)
    : state_(std::make_shared<State>(std::move(sink), std::move(executor), token,
                                     std::move(observer))) {}

void Responder::Send(Response response) const {
  if (state_) state_->Send(std::move(response));
}

}  // namespace msgin5g::api::http
