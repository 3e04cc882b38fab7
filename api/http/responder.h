// Responder: how a handler answers a request, now or later, from any thread.
//
// The session that owns the request implements ResponseSink. A Responder keeps only a weak_ptr to
// it plus the session's executor: the answer is posted back, and if the connection or the stream is
// gone by then it is dropped safely. Copies share one answer: the first Send wins, later ones are
// ignored. When the last copy goes away unanswered, the client gets 500, so a handler bug never
// leaves a request hanging.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "api/http/message.h"

namespace msgin5g::api::http {

class HttpMetrics;

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Runs on the session's executor. `token` names the request within the session.
  virtual void Deliver(std::uint64_t token, Response&& response) = 0;
};

class Responder {
 public:
  Responder() = default;
  // `metrics` (may be null) counts the answer under `operation`, which must outlive the Responder
  // (route names live in the Router).
  Responder(std::weak_ptr<ResponseSink> sink, boost::asio::any_io_executor executor,
            std::uint64_t token, HttpMetrics* metrics, std::string_view operation);

  // Sends the response (first call only). Thread-safe with respect to other copies.
  void Send(Response response) const;

  // The session's executor, where a handler resumed from another thread should run.
  boost::asio::any_io_executor executor() const;

  // `observer` sees the status of the answer when it is sent (on the sending thread), e.g. for an
  // audit line. Set it before handing the Responder on; one observer per request.
  void OnSend(std::function<void(int status)> observer) const;

 private:
  class State;
  std::shared_ptr<State> state_;
};

}  // namespace msgin5g::api::http
