#include "tools/msgin5gctl/http_client.h"

#include <openssl/ssl.h>

#include <exception>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace msgin5gctl {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using UnixStream = beast::basic_stream<net::local::stream_protocol>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t kMaxBody = 64 * 1024 * 1024;

// Runs the asynchronous operation `start` begins on `io` until it completes and returns its
// error. The streams' own deadlines (expires_at) end it with beast::error::timeout.
template <class Start>
beast::error_code Await(net::io_context& io, Start&& start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

class Exchanger {
 public:
  Exchanger(const Endpoint& e, std::chrono::seconds timeout)
      : e_(e), timeout_(timeout), deadline_(Clock::now() + timeout) {}

  Result<HttpResponse> Run(const HttpRequest& req) {
    switch (e_.kind) {
      case Endpoint::Kind::kUnix: {
        UnixStream s(io_);
        s.expires_at(deadline_);
        net::local::stream_protocol::endpoint ep(e_.path);
        if (auto ec = Await(io_, [&](auto h) { s.async_connect(ep, h); })) return Fail("connect", ec);
        return Talk(s, req);
      }
      case Endpoint::Kind::kTcp: {
        beast::tcp_stream s(io_);
        if (auto err = Connect(s)) return *err;
        return Talk(s, req);
      }
      case Endpoint::Kind::kTls: {
        ssl::context ctx(ssl::context::tls_client);
        if (auto err = SetUpTls(ctx)) return *err;
        TlsStream s(io_, ctx);
        if (auto err = Connect(beast::get_lowest_layer(s))) return *err;
        boost::system::error_code ec;
        beast::net::ip::make_address(e_.host, ec);
        if (ec && !SSL_set_tlsext_host_name(s.native_handle(), e_.host.c_str())) {
          return Error{Exit::kConnect, "TLS: cannot set the server name " + e_.host};
        }
        s.set_verify_mode(ssl::verify_peer);
        s.set_verify_callback(ssl::host_name_verification(e_.host));
        if (auto hec = Await(io_, [&](auto h) { s.async_handshake(ssl::stream_base::client, h); })) {
          return Fail("TLS handshake", hec);
        }
        return Talk(s, req);
      }
    }
    return Error{Exit::kConnect, "unknown endpoint"};
  }

 private:
  Error Fail(const std::string& step, const beast::error_code& ec) const {
    std::string why = ec == beast::error::timeout
                          ? "timed out after " + std::to_string(timeout_.count()) + " s"
                          : ec.message();
    return Error{Exit::kConnect, step + " " + e_.Describe() + ": " + why};
  }

  std::optional<Error> SetUpTls(ssl::context& ctx) {
    boost::system::error_code ec;
    ctx.set_verify_mode(ssl::verify_peer, ec);
    if (!ec) {
      if (e_.cacert.empty()) {
        ctx.set_default_verify_paths(ec);
      } else {
        ctx.load_verify_file(e_.cacert, ec);
        if (ec) return Error{Exit::kConnect, "TLS: cannot load --cacert " + e_.cacert + ": " + ec.message()};
      }
    }
    if (!ec && !e_.cert.empty()) {
      ctx.use_certificate_chain_file(e_.cert, ec);
      if (ec) return Error{Exit::kConnect, "TLS: cannot load --cert " + e_.cert + ": " + ec.message()};
      ctx.use_private_key_file(e_.key, ssl::context::pem, ec);
      if (ec) return Error{Exit::kConnect, "TLS: cannot load --key " + e_.key + ": " + ec.message()};
    }
    if (ec) return Error{Exit::kConnect, "TLS: " + ec.message()};
    return std::nullopt;
  }

  // Resolves host:port (bounded by the deadline too) and connects to the first that answers.
  std::optional<Error> Connect(beast::tcp_stream& s) {
    tcp::resolver resolver(io_);
    net::steady_timer timer(io_, deadline_);
    tcp::resolver::results_type results;
    bool timed_out = false;
    timer.async_wait([&](beast::error_code ec) {
      if (!ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    auto ec = Await(io_, [&](auto h) {
      resolver.async_resolve(e_.host, e_.port, [&, h](beast::error_code rec, tcp::resolver::results_type r) mutable {
        timer.cancel();
        results = std::move(r);
        h(rec);
      });
    });
    if (timed_out) return Fail("resolve", beast::error::timeout);
    if (ec) return Fail("resolve", ec);
    s.expires_at(deadline_);
    if (auto cec = Await(io_, [&](auto h) { s.async_connect(results, h); })) return Fail("connect", cec);
    return std::nullopt;
  }

  // The request is written and the answer parsed without Beast's stream algorithms: those are
  // instantiated once per stream type and made this file the slowest of the project to compile
  // (52 s optimised, 92 s under ASan). Only write and read_some are per stream; the parser is one.
  template <class Stream>
  Result<HttpResponse> Talk(Stream& s, const HttpRequest& req) {
    const std::string text = RequestText(req);
    if (auto ec = Await(io_, [&](auto h) { net::async_write(s, net::buffer(text), h); })) {
      return Fail("send to", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    std::string pending;  // bytes read that the parser has not consumed yet
    char chunk[16 * 1024];
    while (!parser.is_done()) {
      std::size_t n = 0;
      auto ec = Await(io_, [&](auto h) {
        s.async_read_some(net::buffer(chunk), [&n, h](beast::error_code rec, std::size_t got) mutable {
          n = got;
          h(rec);
        });
      });
      if (ec == net::error::eof || ec == net::ssl::error::stream_truncated) {
        beast::error_code pec;
        parser.put_eof(pec);  // an answer delimited by the end of the connection is complete
        if (pec) return Fail("read the answer of", pec);
        break;
      }
      if (ec) return Fail("read the answer of", ec);
      pending.append(chunk, n);
      if (auto err = Feed(parser, pending)) return *err;
    }
    const auto& res = parser.get();
    return HttpResponse{static_cast<int>(res.result_int()),
                        std::string(res[http::field::content_type]), res.body()};
  }

  static std::string RequestText(const HttpRequest& req) {
    std::string text = req.method + " " + req.target + " HTTP/1.1\r\n";
    text += "Host: localhost\r\nUser-Agent: msgin5gctl/" MSGIN5G_VERSION "\r\n";
    text += "Accept: application/json, application/problem+json\r\nConnection: close\r\n";
    if (!req.token.empty()) text += "Authorization: Bearer " + req.token + "\r\n";
    if (!req.body.empty()) text += "Content-Type: application/json\r\n";
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      text += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    }
    return text + "\r\n" + req.body;
  }

  // Hands the parser what it can take of `pending` and keeps the rest for the next read.
  std::optional<Error> Feed(http::response_parser<http::string_body>& parser, std::string& pending) {
    while (!pending.empty() && !parser.is_done()) {
      beast::error_code ec;
      std::size_t used = parser.put(net::buffer(pending), ec);
      if (ec == http::error::need_more) ec = {};
      if (ec) return Fail("read the answer of", ec);
      pending.erase(0, used);
      if (used == 0) break;  // the parser wants more bytes than are here
    }
    return std::nullopt;
  }

  const Endpoint& e_;
  std::chrono::seconds timeout_;
  Clock::time_point deadline_;
  net::io_context io_;
};

}  // namespace

std::string Endpoint::Describe() const {
  if (kind == Kind::kUnix) return "unix socket " + path;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (kind == Kind::kTls ? "https://" : "http://") + h + ":" + port;
}

Result<HttpResponse> Exchange(const Endpoint& endpoint, const HttpRequest& request,
                              std::chrono::seconds timeout) {
  try {
    return Exchanger(endpoint, timeout).Run(request);
  } catch (const std::exception& e) {  // Boost throws from a few places (bad_alloc, ssl init)
    return Error{Exit::kConnect, endpoint.Describe() + ": " + e.what()};
  }
}

}  // namespace msgin5gctl
