// libFuzzer target: our HTTP/1.1 and HTTP/2 server sessions, fed the input as what a client sent
// on a connected socket (a Unix socket pair, the session's real read loop): request lines,
// headers, chunked bodies, HTTP/2 frames, HPACK, in any order. The first byte picks the protocol
// (bit 0: HTTP/2; for HTTP/2, bit 1 clear: the client preface is sent first, so that the fuzzer
// need not find those 24 bytes). The session must answer, reset or close; never crash, leak or
// hang: each input runs until the session closed its end, at most two seconds.
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "api/http/message.h"
#include "api/http/responder.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "api/http/sessions.h"

namespace {

namespace http = msgin5g::api::http;
using Socket = boost::asio::local::stream_protocol::socket;

const http::Router& Routes() {
  static const http::Router* router = [] {
    auto* r = new http::Router();
    r->Add("POST", "/echo/{name}", "echo", [](http::Request& req, http::Responder resp) {
      resp.Send(http::Response::Json(200, "{\"n\":" + std::to_string(req.body.size()) + "}"));
    });
    r->Add("GET", "/hello", "hello",
           [](http::Request&, http::Responder resp) { resp.Send(http::Response::Empty(204)); });
    // A handler that never answers: the session must still close cleanly at EOF.
    r->Add("POST", "/hang", "hang", [](http::Request&, http::Responder) {});
    return r;
  }();
  return *router;
}

std::shared_ptr<const http::ServerContext> Context() {
  auto ctx = std::make_shared<http::ServerContext>();
  ctx->options.max_body_bytes = 16 << 10;
  ctx->options.max_header_list_bytes = 8 << 10;
  ctx->options.read_timeout = std::chrono::milliseconds(500);
  ctx->options.idle_timeout = std::chrono::milliseconds(500);
  ctx->router = &Routes();
  ctx->tracker = std::make_shared<http::ConnectionTracker>();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool h2 = (data[0] & 1) != 0;
  std::string input;
  if (h2 && (data[0] & 2) == 0) input = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  input.append(reinterpret_cast<const char*>(data) + 1, size - 1);

  boost::asio::io_context ioc;
  Socket server(ioc), client(ioc);
  boost::asio::local::connect_pair(server, client);
  if (h2) {
    http::StartH2ServerSession(Context(), std::move(server), "", http::PeerInfo{});
  } else {
    http::StartH1ServerSession(Context(), std::move(server), "", http::PeerInfo{});
  }
  bool closed = false;
  std::string out(64 << 10, '\0');
  std::function<void()> read = [&] {
    client.async_read_some(boost::asio::buffer(out), [&](const boost::system::error_code& ec, std::size_t) {
      if (ec) {
        closed = true;
        return;
      }
      read();
    });
  };
  boost::asio::async_write(client, boost::asio::buffer(input),
                           [&](const boost::system::error_code&, std::size_t) {
                             boost::system::error_code ignored;
                             client.shutdown(Socket::shutdown_send, ignored);
                           });
  read();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(std::chrono::milliseconds(20));
    if (ioc.stopped()) break;
  }
  boost::system::error_code ignored;
  client.close(ignored);
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds(50));  // the session's last handlers see the close
  return 0;
}
