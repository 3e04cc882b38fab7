#include "api/http/dispatch.h"


namespace msgin5g::api::http {

Responder MakeResponder(const ServerContext& ctx, std::weak_ptr<ResponseSink> sink,
                        boost::asio::any_io_executor executor, std::uint64_t token,
                        std::string_view operation) {
  return Responder(std::move(sink), std::move(executor), token, ctx.metrics, operation);
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
