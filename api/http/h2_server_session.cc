// HTTP/2 server session: one nghttp2_session per connection, on the connection's io_context.
//
// Read loop: async_read_some -> nghttp2_session_mem_recv -> Flush. Write loop: Flush drains
// nghttp2_session_mem_send into a buffer with at most one async_write in flight (nghttp2-asio).
// nghttp2 is never re-entered from its own callbacks: responses produced while mem_recv runs are
// submitted (allowed) and flushed after it returns; responses from handlers always arrive by post.
#include <nghttp2/nghttp2.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "api/http/dispatch.h"
#include "api/http/problem.h"
#include <boost/asio/local/stream_protocol.hpp>

#include "api/http/sessions.h"
#include "common/logging.h"

namespace msgin5g::api::http {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kReadBufferSize = 16 * 1024;
constexpr std::size_t kWriteChunk = 64 * 1024;
// Stop reading while this much output is waiting for a slow reader (requests keep producing
// responses; without this a client that never reads could grow our memory without bound).
constexpr std::size_t kMaxPendingOutput = 1 << 20;
constexpr int32_t kWindowSize = 1 << 20;

struct StreamState {
  Request request;
  std::size_t header_bytes = 0;
  bool headers_too_large = false;
  bool body_too_large = false;
  bool request_complete = false;  // END_STREAM received
  bool dispatched = false;
  bool responded = false;
  bool reset = false;  // we sent RST_STREAM: waiting for nghttp2 to close it
  std::string response_body;
  std::size_t response_offset = 0;
  std::chrono::steady_clock::time_point opened;    // HEADERS received
  std::chrono::steady_clock::time_point answered;  // response submitted
};

template <class Stream>
class H2ServerSession final : public Connection,
                              public ResponseSink,
                              public std::enable_shared_from_this<H2ServerSession<Stream>> {
 public:
  H2ServerSession(std::shared_ptr<const ServerContext> ctx, Stream stream, PeerInfo peer)
      : ctx_(std::move(ctx)), stream_(std::move(stream)), peer_(std::move(peer)),
        timer_(stream_.get_executor()) {}

  ~H2ServerSession() override {
    if (h2_ != nullptr) nghttp2_session_del(h2_);
    ctx_->tracker->Remove(this);
    if (ctx_->metrics != nullptr) ctx_->metrics->ConnectionClosed("h2");
  }

  void Start(std::string initial_bytes) {
    ctx_->tracker->Add(this, this->shared_from_this());
    if (ctx_->metrics != nullptr) ctx_->metrics->ConnectionOpened("h2");
    if (!InitSession()) {
      Abort();
      return;
    }
    last_stream_activity_ = Clock::now();
    ArmTimer();
    if (!initial_bytes.empty() && !Feed(reinterpret_cast<const uint8_t*>(initial_bytes.data()),
                                        initial_bytes.size())) {
      return;
    }
    if (ctx_->tracker->draining()) GracefulShutdown();
    Flush();
    DoRead();
  }

  void GracefulShutdown() override {
    if (closed_ || goaway_sent_) return;
    goaway_sent_ = true;
    nghttp2_submit_goaway(h2_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h2_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    Flush();
  }

  void Abort() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    stream_.lowest_layer().shutdown(boost::asio::socket_base::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
  }

  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }

  // ResponseSink: runs on our executor.
  void Deliver(std::uint64_t token, Response&& response) override {
    if (closed_) return;
    auto it = streams_.find(static_cast<int32_t>(token));
    if (it == streams_.end() || it->second.responded) return;  // reset or closed meanwhile
    Submit(static_cast<int32_t>(token), it->second, std::move(response));
    if (!in_recv_) Flush();
  }

 private:
  bool InitSession() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &OnBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &OnHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &OnFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &OnDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &OnStreamClose);

    nghttp2_option* opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_outbound_ack(opt, 1000);  // SETTINGS/PING flood guard
    int rv = nghttp2_session_server_new2(&h2_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return false;

    const auto& o = ctx_->options;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, o.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kWindowSize)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(o.max_header_list_bytes)},
    };
    if (nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, iv, std::size(iv)) != 0) return false;
    // Connection-level window: let a few large bodies be in flight at once.
    nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0, 8 * kWindowSize);
    return true;
  }

  // --- read side ---

  void DoRead() {
    if (closed_ || reading_) return;
    if (pending_output() > kMaxPendingOutput) return;  // resumed when the write completes
    reading_ = true;
    stream_.async_read_some(
        boost::asio::buffer(rbuf_),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->reading_ = false;
          if (ec) {
            self->Abort();
            return;
          }
          if (!self->Feed(self->rbuf_.data(), n)) return;
          self->Flush();
          self->DoRead();
        });
  }

  // Returns false when the connection is being torn down.
  bool Feed(const uint8_t* data, std::size_t n) {
    in_recv_ = true;
    ssize_t rv = nghttp2_session_mem_recv(h2_, data, n);
    in_recv_ = false;
    if (rv < 0) {
      LOG_DEBUG("h2", "protocol error from client: %s", nghttp2_strerror(static_cast<int>(rv)));
      // nghttp2 has queued a GOAWAY for most errors; send it, then close.
      Flush();
      if (!writing_) Abort();
      close_after_write_ = true;
      return false;
    }
    return true;
  }

  // --- write side ---

  std::size_t pending_output() const { return out_.size() + inflight_.size(); }

  void Flush() {
    if (closed_ || writing_) return;
    while (out_.size() < kWriteChunk) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(h2_, &data);
      if (n < 0) {
        Abort();
        return;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (out_.empty()) {
      if (close_after_write_ ||
          (nghttp2_session_want_read(h2_) == 0 && nghttp2_session_want_write(h2_) == 0)) {
        Abort();
      }
      return;
    }
    writing_ = true;
    std::swap(out_, inflight_);
    boost::asio::async_write(
        stream_, boost::asio::buffer(inflight_),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->writing_ = false;
          self->inflight_.clear();
          if (ec) {
            self->Abort();
            return;
          }
          self->Flush();
          self->DoRead();
        });
  }

  // --- timers ---

  void ArmTimer() {
    const auto& o = ctx_->options;
    // Checked twice per shortest deadline: a deadline is enforced at most 50 % late.
    auto period = std::max(std::chrono::milliseconds(10), std::min(o.idle_timeout, o.read_timeout) / 2);
    timer_.expires_after(period);
    timer_.async_wait([w = this->weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) self->OnTimer();
    });
  }

  // Deadlines are per stream, measured from the stream's own start, so that traffic on other
  // streams or PINGs cannot keep a stalled one alive:
  // - a request not complete within read_timeout of its HEADERS is reset (slow or stuck upload);
  // - a response not fully taken by the client within read_timeout (zero window, not reading,
  //   or still uploading after an early 413) is reset;
  // - a request waiting for its handler has no deadline here (storage answers or 503s).
  // A connection without streams for idle_timeout gets GOAWAY; PINGs do not count as activity.
  void OnTimer() {
    if (closed_) return;
    const auto& o = ctx_->options;
    auto now = Clock::now();
    bool reset_any = false;
    for (auto& [id, s] : streams_) {
      if (s.reset) continue;
      bool stalled_request = !s.request_complete && !s.responded && now - s.opened >= o.read_timeout;
      bool stalled_response = s.responded && now - s.answered >= o.read_timeout;
      if (stalled_request || stalled_response) {
        LOG_DEBUG("h2", "stream %d %s: reset", id,
                  stalled_request ? "request stalled" : "response not consumed");
        nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        s.reset = true;
        reset_any = true;
      }
    }
    if (reset_any) Flush();
    if (streams_.empty() && now - last_stream_activity_ >= o.idle_timeout) {
      GracefulShutdown();
      close_after_write_ = true;
      Flush();
      return;
    }
    ArmTimer();
  }

  // --- requests and responses ---

  void Submit(int32_t stream_id, StreamState& s, Response&& response) {
    s.responded = true;
    s.answered = Clock::now();
    s.response_body = std::move(response.body);
    s.response_offset = 0;

    std::string status = std::to_string(response.status);
    std::string length = std::to_string(s.response_body.size());
    // Header fields are copied by nghttp2 during submit; build them on the stack when they fit.
    constexpr std::size_t kInline = 16;
    std::array<nghttp2_nv, kInline> inline_nva;
    std::vector<nghttp2_nv> heap_nva;
    std::size_t count = 0;
    const bool use_heap = response.headers.size() + 2 > kInline;
    if (use_heap) heap_nva.resize(response.headers.size() + 2);
    nghttp2_nv* nva_data = use_heap ? heap_nva.data() : inline_nva.data();
    auto add = [&](const std::string& name, const std::string& value) {
      nva_data[count++] = {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                           reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                           value.size(), NGHTTP2_NV_FLAG_NONE};
    };
    static const std::string kStatus = ":status";
    static const std::string kLength = "content-length";
    add(kStatus, status);
    for (const auto& h : response.headers) add(h.name, h.value);
    add(kLength, length);

    nghttp2_data_provider provider{};
    provider.read_callback = &ReadResponseBody;
    int rv = nghttp2_submit_response(h2_, stream_id, nva_data, count,
                                     s.response_body.empty() ? nullptr : &provider);
    if (rv != 0) {
      nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
    }
    if (response.close_connection) GracefulShutdown();
  }

  // Answers a stream before its request is complete (413, 431) via the usual Responder path.
  void RejectEarly(int32_t stream_id, Response response) {
    auto it = streams_.find(stream_id);
    if (it == streams_.end() || it->second.dispatched) return;
    it->second.dispatched = true;
    MakeResponder(*ctx_, this->weak_from_this(), executor(), static_cast<std::uint64_t>(stream_id),
                  "unknown")
        .Send(std::move(response));
  }

  void DispatchStream(int32_t stream_id, StreamState& s) {
    if (s.dispatched) return;
    s.dispatched = true;
    s.request.http2 = true;
    s.request.scheme = peer_.tls ? "https" : "http";
    s.request.peer_address = peer_.address;
    s.request.peer_identity = peer_.identity;
    s.request.peer_psk = peer_.psk;
    s.request.peer_psk_unresolved = peer_.psk_unresolved;
    s.request.peer_uid = peer_.uid;
    if (s.request.method.empty() || s.request.target.empty()) {
      RejectEarly(stream_id, MakeProblem(400, cause::kInvalidMsgFormat, "missing :method or :path"));
      return;
    }
    Dispatch(*ctx_, s.request, this->weak_from_this(), executor(),
             static_cast<std::uint64_t>(stream_id));
  }

  static H2ServerSession* Self(void* user_data) { return static_cast<H2ServerSession*>(user_data); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto* self = Self(user_data);
    auto [it, inserted] = self->streams_.try_emplace(frame->hd.stream_id);
    if (inserted) {
      it->second.request.headers.reserve(8);
      it->second.opened = Clock::now();
      self->last_stream_activity_ = it->second.opened;
    }
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    auto* self = Self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto it = self->streams_.find(frame->hd.stream_id);
    if (it == self->streams_.end()) return 0;  // trailers of an unknown stream: ignore
    StreamState& s = it->second;
    s.header_bytes += namelen + valuelen + 32;
    if (s.header_bytes > self->ctx_->options.max_header_list_bytes) {
      s.headers_too_large = true;
      return 0;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers are ignored
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") {
      s.request.method = v;
    } else if (n == ":path") {
      s.request.target = v;
    } else if (n == ":authority") {
      s.request.authority = v;
    } else if (n == ":scheme") {
      // the connection decides the scheme
    } else {
      s.request.headers.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto* self = Self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    int32_t id = frame->hd.stream_id;
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) return 0;
    StreamState& s = it->second;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      if (s.headers_too_large) {
        self->RejectEarly(id, MakeProblem(431, cause::kHeadersTooLarge,
                                          "request header list exceeds " +
                                              std::to_string(self->ctx_->options.max_header_list_bytes) +
                                              " bytes"));
        return 0;
      }
      std::string_view cl = s.request.header("content-length");
      if (!cl.empty()) {
        char* end = nullptr;
        std::string tmp(cl);
        unsigned long long len = std::strtoull(tmp.c_str(), &end, 10);
        if (end != nullptr && *end == '\0') {
          if (len > self->ctx_->options.max_body_bytes) {
            s.body_too_large = true;
            self->RejectEarly(id, self->TooLarge());
            return 0;
          }
          s.request.body.reserve(len);  // one allocation for the whole body
        }
      }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      s.request_complete = true;
      self->DispatchStream(id, s);
    }
    return 0;
  }

  Response TooLarge() const {
    return MakeProblem(413, cause::kPayloadTooLarge,
                       "request body exceeds " + std::to_string(ctx_->options.max_body_bytes) +
                           " bytes");
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    auto* self = Self(user_data);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return 0;
    StreamState& s = it->second;
    if (s.body_too_large || s.dispatched) return 0;  // already answered: discard
    if (s.request.body.size() + len > self->ctx_->options.max_body_bytes) {
      s.body_too_large = true;
      s.request.body.clear();
      s.request.body.shrink_to_fit();
      self->RejectEarly(stream_id, self->TooLarge());
      return 0;
    }
    s.request.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    auto* self = Self(user_data);
    self->streams_.erase(stream_id);
    self->last_stream_activity_ = Clock::now();
    return 0;
  }

  static ssize_t ReadResponseBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                  uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    auto* self = Self(user_data);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    StreamState& s = it->second;
    std::size_t left = s.response_body.size() - s.response_offset;
    std::size_t n = std::min(left, length);
    std::memcpy(buf, s.response_body.data() + s.response_offset, n);
    s.response_offset += n;
    if (s.response_offset == s.response_body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  std::shared_ptr<const ServerContext> ctx_;
  Stream stream_;
  PeerInfo peer_;
  boost::asio::steady_timer timer_;
  nghttp2_session* h2_ = nullptr;
  std::array<uint8_t, kReadBufferSize> rbuf_{};
  std::string out_;
  std::string inflight_;
  std::unordered_map<int32_t, StreamState> streams_;
  Clock::time_point last_stream_activity_{};
  bool reading_ = false;
  bool writing_ = false;
  bool in_recv_ = false;
  bool closed_ = false;
  bool goaway_sent_ = false;
  bool close_after_write_ = false;
};

}  // namespace

template <class Stream>
void StartH2ServerSession(std::shared_ptr<const ServerContext> ctx, Stream stream,
                          std::string initial_bytes, PeerInfo peer) {
  auto session = std::make_shared<H2ServerSession<Stream>>(std::move(ctx), std::move(stream),
                                                           std::move(peer));
  session->Start(std::move(initial_bytes));
}

template void StartH2ServerSession<boost::asio::ip::tcp::socket>(
    std::shared_ptr<const ServerContext>, boost::asio::ip::tcp::socket, std::string, PeerInfo);
template void StartH2ServerSession<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>(
    std::shared_ptr<const ServerContext>, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>,
    std::string, PeerInfo);

template void StartH2ServerSession<boost::asio::local::stream_protocol::socket>(
    std::shared_ptr<const ServerContext>, boost::asio::local::stream_protocol::socket, std::string,
    PeerInfo);

}  // namespace msgin5g::api::http
