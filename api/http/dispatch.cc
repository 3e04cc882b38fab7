#include "api/http/dispatch.h"

#include <chrono>

namespace msgin5g::api::http {

Responder MakeResponder(const ServerContext& ctx, std::weak_ptr<ResponseSink> sink,
                        boost::asio::any_io_executor executor, std::uint64_t token,
                        std::string_view operation) {
  std::function<void(const Response&)> observer;
  if (ctx.metrics != nullptr) {
    observer = [m = ctx.metrics, operation, start = std::chrono::steady_clock::now()](
                   const Response& r) {
      m->RequestDone(operation, r.status, std::chrono::steady_clock::now() - start);
    };
  }
  return Responder(std::move(sink), std::move(executor), token, std::move(observer));
}

void Dispatch(const ServerContext& ctx, Request& req, std::weak_ptr<ResponseSink> sink,
              boost::asio::any_io_executor executor, std::uint64_t token) {
  Router::Match m = ctx.router->Resolve(req);
  Responder responder =
      MakeResponder(ctx, std::move(sink), std::move(executor), token, m.operation);
  if (m.handler == nullptr) {
    responder.Send(std::move(*m.error));
    return;
  }
  (*m.handler)(req, std::move(responder));
}

}  // namespace msgin5g::api::http
