// HTTP/1.1 server session on Boost.Beast: one request at a time per connection (pipelined requests
// wait in the buffer), keep-alive, "Expect: 100-continue", body and header caps with 413/431.
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "api/http/dispatch.h"
#include "api/http/problem.h"
#include "api/http/sessions.h"
#include "common/logging.h"

namespace msgin5g::api::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

template <class Stream>
class H1ServerSession final : public Connection,
                              public ResponseSink,
                              public std::enable_shared_from_this<H1ServerSession<Stream>> {
 public:
  H1ServerSession(std::shared_ptr<const ServerContext> ctx, Stream stream, PeerInfo peer)
      : ctx_(std::move(ctx)), stream_(std::move(stream)), peer_(std::move(peer)),
        timer_(stream_.get_executor()) {}

  ~H1ServerSession() override {
    ctx_->tracker->Remove(this);
    if (ctx_->metrics != nullptr) ctx_->metrics->ConnectionClosed("http/1.1");
  }

  void Start(std::string initial_bytes) {
    ctx_->tracker->Add(this, this->shared_from_this());
    if (ctx_->metrics != nullptr) ctx_->metrics->ConnectionOpened("http/1.1");
    // Accepted just before shutdown began: answer the request in hand, then close.
    if (ctx_->tracker->draining()) shutting_down_ = true;
    if (!initial_bytes.empty()) {
      auto buf = buffer_.prepare(initial_bytes.size());
      std::memcpy(buf.data(), initial_bytes.data(), initial_bytes.size());
      buffer_.commit(initial_bytes.size());
    }
    ReadHeader();
  }

  void GracefulShutdown() override {
    shutting_down_ = true;
    if (!busy_) Abort();  // idle between requests: nothing to drain
  }

  // An orderly close after the last answer: over TLS a close_notify first (RFC 8446 §6.1), so the
  // client can tell the end of the answer from a truncation; bounded by a short timer.
  void Close() {
    if constexpr (std::is_same_v<Stream, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>) {
      if (closed_) return;
      ArmTimer(std::chrono::milliseconds(1000));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Abort(); });
    } else {
      Abort();
    }
  }

  void Abort() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    stream_.lowest_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
    pinned_.reset();
  }

  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }

  void Deliver(std::uint64_t token, Response&& response) override {
    if (closed_ || token != token_ || !busy_) return;
    Write(std::move(response));
  }

 private:
  void ArmTimer(std::chrono::milliseconds after) {
    timer_.expires_after(after);
    timer_.async_wait([w = this->weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) self->Abort();
    });
  }

  void ReadHeader() {
    if (closed_) return;
    if (shutting_down_) {
      Abort();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_->options.max_header_list_bytes));
    parser_->body_limit(ctx_->options.max_body_bytes);
    // Waiting for the next request is idle time; a started request must complete in read_timeout.
    ArmTimer(buffer_.size() > 0 ? ctx_->options.read_timeout : ctx_->options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    busy_ = true;
    auto& req = parser_->get();
    if (auto len = parser_->content_length(); len && *len > ctx_->options.max_body_bytes) {
      keep_alive_ = false;
      Reject(MakeProblem(413, cause::kPayloadTooLarge,
                         "request body exceeds " + std::to_string(ctx_->options.max_body_bytes) +
                             " bytes"));
      return;
    }
    ArmTimer(ctx_->options.read_timeout);
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      continue_ = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      boost::asio::async_write(stream_, boost::asio::buffer(*continue_),
                               [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                                 if (e) {
                                   self->Abort();
                                   return;
                                 }
                                 self->ReadBody();
                               });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->OnBody(ec);
                      });
  }

  void OnReadError(beast::error_code ec) {
    LOG_DEBUG("http1", "read error: %s", ec.message().c_str());
    if (ec == bhttp::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset) {
      Abort();
      return;
    }
    keep_alive_ = false;
    busy_ = true;
    if (ec == bhttp::error::header_limit) {
      Reject(MakeProblem(431, cause::kHeadersTooLarge,
                         "request header list exceeds " +
                             std::to_string(ctx_->options.max_header_list_bytes) + " bytes"));
    } else if (ec == bhttp::error::body_limit) {
      Reject(MakeProblem(413, cause::kPayloadTooLarge,
                         "request body exceeds " + std::to_string(ctx_->options.max_body_bytes) +
                             " bytes"));
    } else {
      Reject(MakeProblem(400, cause::kInvalidMsgFormat, "malformed HTTP/1.1 request: " + ec.message()));
    }
  }

  void OnBody(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    timer_.cancel();
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive() && !shutting_down_;
    Request req;
    req.http2 = false;
    req.scheme = peer_.tls ? "https" : "http";
    req.peer_address = peer_.address;
    req.peer_identity = peer_.identity;
    req.peer_psk = peer_.psk;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.authority = std::string(msg[bhttp::field::host]);
    req.length_known = msg.has_content_length() || msg.chunked();
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.push_back({std::move(name), std::string(f.value())});
    }
    req.body = std::move(msg.body());
    ++token_;
    pinned_ = this->shared_from_this();  // no I/O is pending while the handler works
    Dispatch(*ctx_, req, this->weak_from_this(), executor(), token_);
  }

  void Reject(Response response) {
    ++token_;
    pinned_ = this->shared_from_this();
    MakeResponder(*ctx_, this->weak_from_this(), executor(), token_, "unknown")
        .Send(std::move(response));
  }

  void Write(Response&& response) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    for (auto& h : response.headers) res->set(h.name, h.value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive_ && !shutting_down_);
    res->prepare_payload();
    // A client that stops reading must not hold the connection forever.
    ArmTimer(ctx_->options.read_timeout);
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                         self->busy_ = false;
                         self->pinned_.reset();
                         if (ec) {
                           self->Abort();
                           return;
                         }
                         if (!res->keep_alive()) {
                           self->Close();
                           return;
                         }
                         self->ReadHeader();
                       });
  }

  std::shared_ptr<const ServerContext> ctx_;
  Stream stream_;
  PeerInfo peer_;
  boost::asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<std::string> continue_;
  // Keeps the session alive between dispatching a request and writing its answer, when no other
  // operation holds it (the Responder only has a weak_ptr).
  std::shared_ptr<H1ServerSession> pinned_;
  std::uint64_t token_ = 0;
  bool busy_ = false;
  bool keep_alive_ = true;
  bool shutting_down_ = false;
  bool closed_ = false;
};

}  // namespace

template <class Stream>
void StartH1ServerSession(std::shared_ptr<const ServerContext> ctx, Stream stream,
                          std::string initial_bytes, PeerInfo peer) {
  auto session = std::make_shared<H1ServerSession<Stream>>(std::move(ctx), std::move(stream),
                                                           std::move(peer));
  session->Start(std::move(initial_bytes));
}

template void StartH1ServerSession<boost::asio::ip::tcp::socket>(
    std::shared_ptr<const ServerContext>, boost::asio::ip::tcp::socket, std::string, PeerInfo);
template void StartH1ServerSession<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>(
    std::shared_ptr<const ServerContext>, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>,
    std::string, PeerInfo);

}  // namespace msgin5g::api::http
