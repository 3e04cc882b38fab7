#include "api/http/h2_client.h"

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstring>
#include <deque>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "api/http/client_transport.h"
#include "common/logging.h"

namespace msgin5g::api::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// One connection to one authority. Lives on the client's io_context.
class H2Client::Connection : public std::enable_shared_from_this<H2Client::Connection> {
 public:
  Connection(H2Client& client, asio::io_context& ioc, const ClientOptions& options,
             TlsSessionCache& sessions, ClientTarget target)
      : client_(client), ioc_(ioc), options_(options),
        transport_(ioc, options, sessions, std::move(target)), shutdown_timer_(ioc) {}

  ~Connection() {
    if (h2_ != nullptr) nghttp2_session_del(h2_);
  }

  // False once the connection failed, was closed, or received GOAWAY: the pool makes a new one.
  bool usable() const { return !failed_ && !goaway_; }

  void Submit(ClientRequest request, ClientTarget target, Callback done) {
    auto pending = std::make_shared<Pending>();
    pending->request = std::move(request);
    pending->target = std::move(target);
    pending->done = std::move(done);
    pending->deadline =
        Clock::now() + pending->request.timeout.value_or(options_.request_timeout);
    pending->timer = std::make_unique<asio::steady_timer>(ioc_, pending->deadline);
    pending->timer->async_wait(
        [w = weak_from_this(), p = std::weak_ptr<Pending>(pending)](const boost::system::error_code& ec) {
          if (ec) return;
          auto self = w.lock();
          auto pend = p.lock();
          if (self && pend) self->TimedOut(pend);
        });
    if (!ready_) {
      queued_.push_back(pending);
      if (!connecting_) Connect();
      return;
    }
    SubmitNow(pending);
    Flush();
  }

  void Close() { Fail(Status::Unavailable("client closed"), /*orderly=*/true); }

  const ClientTarget& target() const { return transport_.target(); }

 private:
  struct Pending {
    ClientRequest request;
    ClientTarget target;
    Callback done;
    Clock::time_point deadline;
    std::unique_ptr<asio::steady_timer> timer;
    int32_t stream_id = -1;
    Response response;
    std::size_t body_offset = 0;
    bool finished = false;
  };

  void Finish(const std::shared_ptr<Pending>& p, Result<Response> result) {
    if (p->finished) return;
    p->finished = true;
    p->timer->cancel();
    auto done = std::move(p->done);
    done(std::move(result));
  }

  void TimedOut(const std::shared_ptr<Pending>& p) {
    if (p->finished) return;
    if (p->stream_id > 0 && h2_ != nullptr) {
      nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, p->stream_id, NGHTTP2_CANCEL);
      streams_.erase(p->stream_id);
      Flush();
    }
    for (auto it = queued_.begin(); it != queued_.end(); ++it) {
      if (*it == p) {
        queued_.erase(it);
        break;
      }
    }
    Finish(p, Status(StatusCode::kDeadlineExceeded, "request timed out"));
  }

  // `orderly`: we end a healthy connection (Close, or HTTP/2 is done with it after GOAWAY), so
  // over TLS a close_notify is sent first. Servers that keep sessions in a cache (rather than in
  // stateless tickets) drop the session of a connection that ended without one, and the next
  // connect could not resume.
  void Fail(const Status& status, bool orderly = false) {
    if (failed_) return;
    failed_ = true;
    // Tickets that would arrive from now on are not stored: the cache may be gone by then.
    transport_.DetachSessions();
    bool tls_intact = transport_.tls() != nullptr && ready_ && !tls_failed_;
    if (orderly && tls_intact && !writing_) {
      StartTlsShutdown();
    } else {
      transport_.Close(tls_intact);
    }
    auto queued = std::move(queued_);
    auto streams = std::move(streams_);
    for (auto& p : queued) Finish(p, status);
    for (auto& [id, p] : streams) Finish(p, status);
  }

  // The peer speaks HTTP/1.1 only. Nothing sent here reached it as a request (an HTTP/1.1
  // server reads our preface as one malformed request and answers that), so every request not
  // yet answered moves to the client's HTTP/1.1 connections of this authority, deadlines kept.
  void FallBackToHttp1(const std::string& why) {
    if (!options_.http1_fallback) {
      Fail(Status::Unavailable(target().key() + " speaks HTTP/1.1 only (" + why +
                               ") and the HTTP/1.1 fallback is off"));
      return;
    }
    failed_ = true;
    transport_.DetachSessions();
    transport_.Close(/*tls_clean=*/transport_.tls() != nullptr && !tls_failed_);
    std::vector<QueuedRequest> moved;
    auto take = [&](const std::shared_ptr<Pending>& p) {
      if (p->finished) return;
      p->finished = true;
      p->timer->cancel();
      moved.push_back({std::move(p->request), std::move(p->target), p->deadline,
                       std::move(p->done)});
    };
    auto queued = std::move(queued_);
    auto streams = std::move(streams_);
    for (auto& p : queued) take(p);
    for (auto& [id, p] : streams) take(p);
    client_.MoveToHttp1(target(), why, std::move(moved));
  }

  // --- connect ---

  void Connect() {
    connecting_ = true;
    // Over TLS the server picks: ALPN "http/1.1" (or none) means it speaks HTTP/1.1 only.
    static const std::string kH2("\x02h2", 3);
    static const std::string kH2OrHttp11("\x02h2\x08http/1.1", 12);
    transport_.Connect(options_.http1_fallback ? kH2OrHttp11 : kH2, shared_from_this(),
                       [this](Status s) { OnTransport(std::move(s)); });
  }

  void OnTransport(Status s) {
    if (failed_) return;
    if (!s.ok()) {
      Fail(s);
      return;
    }
    if (transport_.tls() == nullptr) {
      sniffing_ = true;  // cleartext: the first bytes tell an HTTP/1.x server (DoRead)
      StartSession();
      return;
    }
    std::string alpn = transport_.alpn();
    if (alpn == "h2") {
      StartSession();
    } else if (alpn.empty() || alpn == "http/1.1") {
      FallBackToHttp1(alpn.empty() ? "its TLS handshake selected no ALPN protocol"
                                   : "its TLS handshake selected ALPN http/1.1");
    } else {
      Fail(Status::Unavailable(target().key() + " selected ALPN " + alpn));
    }
  }

  void StartSession() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &OnDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &OnStreamClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &OnFrameRecv);
    int rv = nghttp2_session_client_new(&h2_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
      Fail(Status::Internal("nghttp2_session_client_new failed"));
      return;
    }
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, iv, std::size(iv));
    nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0, 8 << 20);
    ready_ = true;
    connecting_ = false;
    auto queued = std::move(queued_);
    for (auto& p : queued) {
      if (!p->finished) SubmitNow(p);
    }
    Flush();
    DoRead();
  }

  // --- requests ---

  void SubmitNow(const std::shared_ptr<Pending>& p) {
    const auto& req = p->request;
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", req.method},
        {":scheme", p->target.tls ? "https" : "http"},
        {":authority", p->target.authority},
        {":path", p->target.path},
    };
    for (const auto& h : req.headers) fields.emplace_back(h.name, h.value);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      fields.emplace_back("content-length", std::to_string(req.body.size()));
    }
    std::vector<nghttp2_nv> nva;
    nva.reserve(fields.size());
    for (auto& [n, v] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                     n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.source.ptr = p.get();
    provider.read_callback = &ReadRequestBody;
    int32_t id = nghttp2_submit_request(h2_, nullptr, nva.data(), nva.size(),
                                        req.body.empty() ? nullptr : &provider, p.get());
    if (id < 0) {
      Finish(p, Status::Unavailable(std::string("cannot submit request: ") + nghttp2_strerror(id)));
      return;
    }
    p->stream_id = id;
    streams_[id] = p;
  }

  static ssize_t ReadRequestBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                 uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* p = static_cast<Pending*>(source->ptr);
    std::size_t left = p->request.body.size() - p->body_offset;
    std::size_t n = std::min(left, length);
    std::memcpy(buf, p->request.body.data() + p->body_offset, n);
    p->body_offset += n;
    if (p->body_offset == p->request.body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  Pending* Find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
    auto* self = static_cast<Connection*>(ud);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Pending* p = self->Find(frame->hd.stream_id);
    if (p == nullptr) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int status = 0;
      for (char c : v) status = status * 10 + (c - '0');
      if (status >= 200) {  // 1xx interim responses are skipped
        p->response.status = status;
        p->response.headers.clear();
      }
    } else if (p->response.status >= 200) {
      p->response.headers.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* ud) {
    auto* self = static_cast<Connection*>(ud);
    Pending* p = self->Find(stream_id);
    if (p == nullptr) return 0;
    if (p->response.body.size() + len > self->options_.max_response_bytes) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
      self->to_finish_.emplace_back(self->streams_[stream_id],
                                    Status::ResourceExhausted("response body too large"));
      return 0;
    }
    p->response.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    auto* self = static_cast<Connection*>(ud);
    if (frame->hd.type == NGHTTP2_GOAWAY) self->goaway_ = true;
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* ud) {
    auto* self = static_cast<Connection*>(ud);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return 0;
    auto p = it->second;
    self->streams_.erase(it);
    // Completions run after nghttp2 returns: a callback may send more requests on this client.
    if (error_code == NGHTTP2_NO_ERROR && p->response.status >= 200) {
      self->to_finish_.emplace_back(p, std::move(p->response));
    } else {
      self->to_finish_.emplace_back(
          p, Status::Unavailable("stream closed by peer, error " + std::to_string(error_code)));
    }
    return 0;
  }

  void RunCompletions() {
    auto batch = std::move(to_finish_);
    to_finish_.clear();
    for (auto& [p, result] : batch) Finish(p, std::move(result));
  }

  // --- I/O loops (same shape as the server session) ---

  template <class F>
  void AsyncWrite(F&& f) {
    if (transport_.tls() != nullptr) {
      asio::async_write(*transport_.tls(), asio::buffer(inflight_), std::forward<F>(f));
    } else {
      asio::async_write(*transport_.socket(), asio::buffer(inflight_), std::forward<F>(f));
    }
  }

  // A failure of the TLS layer itself (not a TCP reset or EOF) makes the session unfit to resume.
  void NoteTlsError(const boost::system::error_code& ec) {
    if (ec.category() == asio::error::get_ssl_category()) tls_failed_ = true;
  }

  // close_notify needs the stream to itself: the read loop always has a read outstanding, so it
  // is cancelled first and the alert goes out once that read has returned. The socket is closed
  // when the peer answers with its own close_notify, or after a second.
  void StartTlsShutdown() {
    shutdown_wanted_ = true;
    transport_.CancelIo();
    if (!reading_) SendCloseNotify();
  }

  void SendCloseNotify() {
    if (shutdown_sent_) return;
    shutdown_sent_ = true;
    shutdown_timer_.expires_after(std::chrono::seconds(1));
    shutdown_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->transport_.Close(/*tls_clean=*/false);
    });
    transport_.tls()->async_shutdown([self = shared_from_this()](const boost::system::error_code&) {
      self->shutdown_timer_.cancel();
      self->transport_.Close(/*tls_clean=*/false);
    });
  }

  void DoRead() {
    if (failed_) return;
    reading_ = true;
    transport_.AsyncReadSome(asio::buffer(rbuf_), [self = shared_from_this()](
                                                      const boost::system::error_code& ec,
                                                      std::size_t n) {
      self->reading_ = false;
      if (self->failed_) {
        if (self->shutdown_wanted_) self->SendCloseNotify();
        return;
      }
      if (ec) {
        self->NoteTlsError(ec);
        self->Fail(Status::Unavailable("connection to " + self->target().key() + " lost: " +
                                       ec.message()));
        return;
      }
      const uint8_t* data = self->rbuf_.data();
      if (self->sniffing_) {
        switch (self->Sniff(n)) {
          case SniffResult::kHttp1:
            return;
          case SniffResult::kNeedMore:
            self->DoRead();
            return;
          case SniffResult::kHttp2:
            data = reinterpret_cast<const uint8_t*>(self->sniffed_.data());
            n = self->sniffed_.size();
            break;
        }
      }
      ssize_t rv = nghttp2_session_mem_recv(self->h2_, data, n);
      self->sniffed_.clear();
      self->RunCompletions();
      if (rv < 0) {
        self->Fail(Status::Unavailable(std::string("HTTP/2 protocol error: ") +
                                       nghttp2_strerror(static_cast<int>(rv))));
        return;
      }
      self->Flush();
      self->DoRead();
    });
  }

  enum class SniffResult { kHttp2, kHttp1, kNeedMore };

  // The first bytes of a cleartext peer. An HTTP/2 server's first frame is its SETTINGS (RFC
  // 9113 §3.4): a 9-byte header of type 4 on stream 0. An HTTP/1.x server reads our preface as a
  // malformed request and answers it with a status line ("HTTP/1.1 400 Bad Request"), or, as
  // Python's http.server does, with a bare error page: either way not a SETTINGS frame. Bytes
  // read while undecided are kept in sniffed_.
  SniffResult Sniff(std::size_t n) {
    static constexpr std::string_view kStatusLine = "HTTP/";
    static constexpr std::size_t kFrameHeader = 9;
    sniffed_.append(reinterpret_cast<const char*>(rbuf_.data()), n);
    std::string_view got(sniffed_);
    bool status_line = got.substr(0, kStatusLine.size()) == kStatusLine.substr(0, got.size());
    if (got.size() < (status_line ? kStatusLine.size() : kFrameHeader)) return SniffResult::kNeedMore;
    if (!status_line && got[3] == 0x04 && (got[5] & 0x7f) == 0 && got[6] == 0 && got[7] == 0 &&
        got[8] == 0) {
      sniffing_ = false;
      return SniffResult::kHttp2;
    }
    std::string first;  // the start of its answer, printable, for the log
    for (char c : got.substr(0, 40)) {
      if (c == '\r' || c == '\n') break;
      first += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    FallBackToHttp1("it answered the HTTP/2 preface with \"" + first + "\", not a SETTINGS frame");
    return SniffResult::kHttp1;
  }

  void Flush() {
    if (failed_ || writing_ || h2_ == nullptr) return;
    while (out_.size() < 64 * 1024) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(h2_, &data);
      if (n < 0) {
        Fail(Status::Unavailable("HTTP/2 send error"));
        return;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    RunCompletions();
    if (out_.empty()) {
      if (nghttp2_session_want_read(h2_) == 0 && nghttp2_session_want_write(h2_) == 0) {
        Fail(Status::Unavailable("connection to " + target().key() + " closed"), /*orderly=*/true);
      }
      return;
    }
    writing_ = true;
    std::swap(out_, inflight_);
    AsyncWrite([self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      self->writing_ = false;
      self->inflight_.clear();
      if (ec) {
        self->NoteTlsError(ec);
        self->Fail(Status::Unavailable("write to " + self->target().key() + ": " + ec.message()));
        return;
      }
      self->Flush();
    });
  }

  H2Client& client_;
  asio::io_context& ioc_;
  const ClientOptions& options_;
  ClientTransport transport_;
  asio::steady_timer shutdown_timer_;
  nghttp2_session* h2_ = nullptr;
  std::array<uint8_t, 16 * 1024> rbuf_{};
  std::string out_;
  std::string inflight_;
  std::string sniffed_;
  std::deque<std::shared_ptr<Pending>> queued_;
  std::unordered_map<int32_t, std::shared_ptr<Pending>> streams_;
  std::vector<std::pair<std::shared_ptr<Pending>, Result<Response>>> to_finish_;
  bool connecting_ = false;
  bool ready_ = false;
  bool failed_ = false;
  bool tls_failed_ = false;
  bool reading_ = false;
  bool shutdown_wanted_ = false;
  bool shutdown_sent_ = false;
  bool goaway_ = false;
  bool writing_ = false;
  bool sniffing_ = false;
};

H2Client::H2Client(asio::io_context& ioc, ClientOptions options)
    : ioc_(ioc), options_(std::move(options)) {}

H2Client::~H2Client() {
  for (auto& [k, c] : pool_) c->Close();
  for (auto& [k, p] : h1_pools_) p->Close();
}

void H2Client::Send(ClientRequest request, Callback done) {
  asio::post(ioc_, [this, r = std::move(request), d = std::move(done)]() mutable {
    SendOnLoop(std::move(r), std::move(d));
  });
}

void H2Client::SendOnLoop(ClientRequest request, Callback done) {
  auto target = ParseClientTarget(request.url);
  if (!target.ok()) {
    done(target.status());
    return;
  }
  std::string key = target->key();
  if (http1_.contains(key)) {
    auto deadline = std::chrono::steady_clock::now() +
                    request.timeout.value_or(options_.request_timeout);
    Http1Pool(key).Submit({std::move(request), std::move(*target), deadline, std::move(done)});
    return;
  }
  auto& conn = pool_[key];
  if (!conn || !conn->usable()) {
    conn = std::make_shared<Connection>(*this, ioc_, options_, sessions_, *target);
  }
  conn->Submit(std::move(request), std::move(*target), std::move(done));
}

H1ClientPool& H2Client::Http1Pool(const std::string& key) {
  auto& pool = h1_pools_[key];
  if (!pool) pool = std::make_shared<H1ClientPool>(ioc_, options_, sessions_);
  return *pool;
}

void H2Client::MoveToHttp1(const ClientTarget& target, const std::string& why,
                           std::vector<QueuedRequest> requests) {
  std::string key = target.key();
  if (http1_.insert(key).second) {
    LOG_WARN("http", "%s speaks HTTP/1.1 only (%s): HTTP/1.1 to it from now on", key.c_str(),
             why.c_str());
    if (options_.on_http1_fallback) options_.on_http1_fallback(key, why);
  }
  pool_.erase(key);  // the connection that found out (its handlers keep it alive until they end)
  auto& pool = Http1Pool(key);
  for (auto& r : requests) pool.Submit(std::move(r));
}

void H2Client::Close() {
  asio::post(ioc_, [this] {
    for (auto& [k, c] : pool_) c->Close();
    pool_.clear();
    for (auto& [k, p] : h1_pools_) p->Close();
    h1_pools_.clear();
  });
}

}  // namespace msgin5g::api::http
