// HTTP/1.1 server session on Boost.Beast: one request at a time per connection (pipelined requests
// wait in the buffer), keep-alive, "Expect: 100-continue", body and header caps with 413/431.
//
// Framing (RFC 9112 §6, docs/api.md "HTTP/1.1 framing"): the header section is checked before any
// of the body is read. Beast alone is too lenient for a server that may sit behind a proxy: it
// ignores a Transfer-Encoding whose last coding is not chunked (so "chunked, identity" was read as
// an empty body and the body as the next request), takes Content-Length beside an unknown coding,
// accepts codings it cannot decode before chunked, chunked on HTTP/1.0, repeated Content-Lengths
// and obs-fold. Any such request is refused and its connection closed, so no byte after it is ever
// parsed as a request.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http.hpp>

#include "api/http/dispatch.h"
#include "api/http/problem.h"
#include <boost/asio/local/stream_protocol.hpp>

#include "api/http/sessions.h"
#include "common/logging.h"

namespace msgin5g::api::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using RequestParser = bhttp::request_parser<bhttp::string_body>;

constexpr std::string_view kTransferEncoding = "Transfer-Encoding";
constexpr std::string_view kContentLength = "Content-Length";

Response FramingProblem(int status, std::string_view cause, std::string detail,
                        std::string_view header) {
  return MakeProblem(status, cause, std::move(detail),
                     {InvalidParam{std::string(header), "request framing (RFC 9112 §6)"}});
}

Response BadFraming(std::string detail, std::string_view header) {
  return FramingProblem(400, cause::kInvalidMsgFormat, std::move(detail), header);
}

// RFC 9110 §5.6.2 tchar.
bool IsTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Checks the framing of a request whose header section is parsed and whose body is not yet read.
// `raw` is that header section as received (request line to the empty line). Returns the answer
// for a request that must be refused (its connection is then closed), nothing when it is fine.
std::optional<Response> CheckFraming(const RequestParser& parser, std::string_view raw) {
  const auto& req = parser.get();
  // obs-fold (RFC 9112 §5.2): Beast would join the lines, so that "Transfer-Encoding:" CRLF
  // " chunked" means chunked here but maybe nothing to a proxy in front. Refused in any field.
  for (std::size_t i = raw.find("\r\n"); i != std::string_view::npos && i + 2 < raw.size();
       i = raw.find("\r\n", i + 2)) {
    if (raw[i + 2] == ' ' || raw[i + 2] == '\t') {
      return MakeProblem(400, cause::kInvalidMsgFormat,
                         "obsolete line folding (obs-fold) in the request header section");
    }
  }

  // Content-Length: exactly one field of 1*DIGIT (Beast already refused other characters and
  // differing values, but takes "5, 5" and a repeated equal field).
  // (Whole-list walks: Beast's equal_range spans whatever lies between the first and last match.)
  std::size_t content_lengths = 0;
  for (const auto& f : req) {
    if (f.name() != bhttp::field::content_length) continue;
    ++content_lengths;
    std::string_view v = f.value();
    if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return BadFraming("invalid Content-Length \"" + std::string(v) + "\"", kContentLength);
    }
  }
  if (content_lengths > 1) return BadFraming("more than one Content-Length", kContentLength);

  // Transfer-Encoding: all its fields make one list (RFC 9110 §5.3).
  std::vector<std::string_view> codings;
  bool has_te = false;
  bool malformed = false;
  for (const auto& f : req) {
    if (f.name() != bhttp::field::transfer_encoding) continue;
    has_te = true;
    std::string_view v = f.value();
    for (;;) {
      std::size_t comma = v.find(',');
      std::string_view element = TrimOws(v.substr(0, comma));
      // An empty element, parameters, quoted strings: not a plain "chunked" and not a coding name.
      if (element.empty() || !std::all_of(element.begin(), element.end(), IsTchar)) {
        malformed = true;
      } else {
        codings.push_back(element);
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  if (!has_te) return std::nullopt;
  // RFC 9112 §6.1: an HTTP/1.0 recipient must treat TE as faulty framing.
  if (req.version() < 11) {
    return BadFraming("Transfer-Encoding in an HTTP/1.0 request", kTransferEncoding);
  }
  // RFC 9112 §6.3: TE beside CL is a smuggling attempt or a broken client; we refuse both.
  if (content_lengths > 0) {
    return BadFraming("Transfer-Encoding together with Content-Length", kTransferEncoding);
  }
  if (malformed) return BadFraming("malformed Transfer-Encoding", kTransferEncoding);
  std::size_t chunked = 0;
  for (auto c : codings) chunked += beast::iequals(c, "chunked") ? 1 : 0;
  // RFC 9112 §6.3: chunked not final means the length cannot be known: 400 and close. Chunked may
  // be applied only once (§7).
  if (chunked > 1 || (chunked == 1 && !beast::iequals(codings.back(), "chunked"))) {
    return BadFraming("chunked must be the final transfer coding, applied once", kTransferEncoding);
  }
  // RFC 9112 §6.1: a coding the server does not understand is 501. Only chunked is.
  for (auto c : codings) {
    if (!beast::iequals(c, "chunked")) {
      return FramingProblem(501, cause::kUnsupportedTransferCoding,
                            "unsupported transfer coding \"" + std::string(c) +
                                "\"; only chunked is implemented",
                            kTransferEncoding);
    }
  }
  return std::nullopt;
}

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
    if (!busy_) Abort();  // idle between requests, or lingering after the last answer
  }

  // An orderly close after the last answer. Over TLS a close_notify first (RFC 8446 §6.1), so the
  // client can tell the end of the answer from a truncation; bounded by a short timer. In
  // cleartext a lingering close (RFC 9112 §9.6): half-close, then read and discard what the
  // client still sends (the rest of a refused request, a smuggled one) until it closes or a short
  // time passes. Closing with unread bytes would make the kernel send a RST, which can destroy
  // the answer before the client has read it.
  void Close() {
    if (closed_) return;
    buffer_.clear();  // nothing more of this connection is ever parsed
    if constexpr (std::is_same_v<Stream, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>) {
      ArmTimer(std::chrono::milliseconds(1000), OnExpiry::kClose);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Abort(); });
    } else {
      boost::system::error_code ec;
      stream_.shutdown(boost::asio::socket_base::shutdown_send, ec);
      if (ec) {
        Abort();
        return;
      }
      ArmTimer(std::min<std::chrono::milliseconds>(ctx_->options.read_timeout,
                                                   std::chrono::milliseconds(2000)),
               OnExpiry::kClose);
      Drain();
    }
  }

  void Abort() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    CancelTimer();
    stream_.lowest_layer().shutdown(boost::asio::socket_base::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
    pinned_.reset();
  }

  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }

  void Deliver(std::uint64_t token, Response&& response) override {
    if (closed_ || token != token_ || !busy_) return;
    Write(std::move(response));
  }

 private:
  // What the timer does when it fires: close silently (idle, lingering, a client not reading its
  // answer), or answer 408 (a request started and not completed in time).
  enum class OnExpiry { kClose, kRequestTimeout };

  void ArmTimer(std::chrono::milliseconds after, OnExpiry what) {
    // The generation tells a stale expiry (already queued when the timer was re-armed or
    // cancelled) from the current one.
    std::uint64_t gen = ++timer_gen_;
    timer_.expires_after(after);
    timer_.async_wait([w = this->weak_from_this(), gen, what](const boost::system::error_code& ec) {
      if (ec) return;
      auto self = w.lock();
      if (!self || self->closed_ || gen != self->timer_gen_) return;
      if (what == OnExpiry::kRequestTimeout) {
        self->OnRequestTimeout();
      } else {
        self->Abort();
      }
    });
  }

  void CancelTimer() {
    ++timer_gen_;
    timer_.cancel();
  }

  // A request is being read (header or body) and stalled. Its pending read is cancelled; the
  // read's handler, seeing timed_out_, writes the 408, so that no read is pending on the stream
  // while the answer and the close happen.
  void OnRequestTimeout() {
    timed_out_ = true;
    if (continue_writing_) {
      Abort();  // a client that does not even take "100 Continue"
      return;
    }
    boost::system::error_code ec;
    stream_.lowest_layer().cancel(ec);
  }

  void SendRequestTimeout() {
    LOG_DEBUG("http1", "request not completed within %lld ms",
              static_cast<long long>(ctx_->options.read_timeout.count()));
    keep_alive_ = false;
    busy_ = true;
    Reject(MakeProblem(408, cause::kRequestTimeout,
                       "the request was not completed within " +
                           std::to_string(ctx_->options.read_timeout.count()) + " ms"));
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
    request_started_ = false;
    // Waiting for the next request is idle time; from its first byte it must complete in
    // read_timeout (ParseHeader re-arms).
    ArmTimer(ctx_->options.idle_timeout, OnExpiry::kClose);
    ParseHeader();
  }

  // Like Beast's read_header, but by hand: when the parser reports the header done, the header
  // section's raw bytes are still at the front of buffer_, for CheckFraming.
  void ParseHeader() {
    if (buffer_.size() > 0) {
      if (!request_started_) {
        request_started_ = true;
        ArmTimer(ctx_->options.read_timeout, OnExpiry::kRequestTimeout);
      }
      beast::error_code ec;
      std::size_t n = parser_->put(buffer_.data(), ec);
      if (ec && ec != bhttp::error::need_more) {
        OnReadError(ec);
        return;
      }
      if (!ec && parser_->is_header_done()) {
        std::string_view raw(static_cast<const char*>(buffer_.data().data()), n);
        auto refused = CheckFraming(*parser_, raw);
        buffer_.consume(n);
        OnHeader(std::move(refused));
        return;
      }
      buffer_.consume(n);
    }
    auto space = buffer_.prepare(beast::read_size(buffer_, 65536));
    stream_.async_read_some(space, [self = this->shared_from_this()](beast::error_code ec,
                                                                     std::size_t n) {
      self->OnHeaderBytes(ec, n);
    });
  }

  void OnHeaderBytes(beast::error_code ec, std::size_t n) {
    if (closed_) return;
    if (timed_out_) {
      SendRequestTimeout();
      return;
    }
    if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated) {
      // As Beast: the end of the stream between requests is a close, inside one a partial message.
      OnReadError(parser_->got_some() || buffer_.size() > 0 ? beast::error_code(bhttp::error::partial_message)
                                                            : beast::error_code(bhttp::error::end_of_stream));
      return;
    }
    if (ec) {
      OnReadError(ec);
      return;
    }
    buffer_.commit(n);
    ParseHeader();
  }

  void OnHeader(std::optional<Response> refused) {
    busy_ = true;
    if (refused) {
      keep_alive_ = false;
      Reject(std::move(*refused));
      return;
    }
    auto& req = parser_->get();
    if (auto len = parser_->content_length(); len && *len > ctx_->options.max_body_bytes) {
      keep_alive_ = false;
      Reject(MakeProblem(413, cause::kPayloadTooLarge,
                         "request body exceeds " + std::to_string(ctx_->options.max_body_bytes) +
                             " bytes"));
      return;
    }
    ArmTimer(ctx_->options.read_timeout, OnExpiry::kRequestTimeout);
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      continue_ = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      continue_writing_ = true;
      boost::asio::async_write(stream_, boost::asio::buffer(*continue_),
                               [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                                 self->continue_writing_ = false;
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
    if (closed_) return;
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
    // Every error from here on is one of framing or size: the connection cannot be trusted to
    // find the start of a next request, so it closes after this answer.
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
    } else if (ec == bhttp::error::bad_transfer_encoding) {
      // Beast's own refusals while parsing fields: TE after CL, TE after a chunked TE.
      Reject(BadFraming("malformed HTTP/1.1 request: " + ec.message(), kTransferEncoding));
    } else if (ec == bhttp::error::bad_content_length ||
               ec == bhttp::error::multiple_content_length) {
      Reject(BadFraming("malformed HTTP/1.1 request: " + ec.message(),
                        parser_->chunked() ? kTransferEncoding : kContentLength));
    } else {
      Reject(MakeProblem(400, cause::kInvalidMsgFormat, "malformed HTTP/1.1 request: " + ec.message()));
    }
  }

  void OnBody(beast::error_code ec) {
    if (closed_) return;
    if (timed_out_) {
      SendRequestTimeout();
      return;
    }
    if (ec) {
      OnReadError(ec);
      return;
    }
    CancelTimer();
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive() && !shutting_down_;
    Request req;
    req.http2 = false;
    req.scheme = peer_.tls ? "https" : "http";
    req.peer_address = peer_.address;
    req.peer_identity = peer_.identity;
    req.peer_psk = peer_.psk;
    req.peer_psk_unresolved = peer_.psk_unresolved;
    req.peer_uid = peer_.uid;
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
    if (response.close_connection) keep_alive_ = false;
    res->keep_alive(keep_alive_ && !shutting_down_);  // false: "Connection: close"
    res->prepare_payload();
    // A client that stops reading must not hold the connection forever.
    ArmTimer(ctx_->options.read_timeout, OnExpiry::kClose);
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

  // Lingering close: reads and drops until the client closes, an error, or the timer.
  void Drain() {
    stream_.async_read_some(boost::asio::buffer(drain_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (self->closed_) return;
                              if (ec) {
                                self->Abort();
                                return;
                              }
                              self->Drain();
                            });
  }

  std::shared_ptr<const ServerContext> ctx_;
  Stream stream_;
  PeerInfo peer_;
  boost::asio::steady_timer timer_;
  std::uint64_t timer_gen_ = 0;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::shared_ptr<std::string> continue_;
  std::array<char, 4096> drain_{};
  // Keeps the session alive between dispatching a request and writing its answer, when no other
  // operation holds it (the Responder only has a weak_ptr).
  std::shared_ptr<H1ServerSession> pinned_;
  std::uint64_t token_ = 0;
  bool busy_ = false;
  bool keep_alive_ = true;
  bool shutting_down_ = false;
  bool closed_ = false;
  bool request_started_ = false;  // a byte of the current request has arrived
  bool timed_out_ = false;        // read_timeout passed while reading a request
  bool continue_writing_ = false;
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

template void StartH1ServerSession<boost::asio::local::stream_protocol::socket>(
    std::shared_ptr<const ServerContext>, boost::asio::local::stream_protocol::socket, std::string,
    PeerInfo);

}  // namespace msgin5g::api::http
