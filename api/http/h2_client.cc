#include "api/http/h2_client.h"

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstring>
#include <deque>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include "common/logging.h"

namespace msgin5g::api::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string authority;  // host[:port] as sent in :authority
  std::string path;       // path and query
  std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

Result<Target> ParseTarget(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Status::InvalidArgument("bad URL: " + url);
  Target t;
  std::string scheme(parsed->scheme());
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme != "http") {
    return Status::InvalidArgument("unsupported URL scheme: " + scheme);
  }
  t.host = std::string(parsed->encoded_host());
  if (t.host.empty()) return Status::InvalidArgument("URL without host: " + url);
  if (t.host.size() > 2 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.authority = std::string(parsed->encoded_authority());
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

}  // namespace

// One connection to one authority. Lives on the client's io_context.
class H2Client::Connection : public std::enable_shared_from_this<H2Client::Connection> {
 public:
  Connection(asio::io_context& ioc, const ClientOptions& options, TlsSessionCache& sessions,
             Target target)
      : ioc_(ioc), options_(options), sessions_(sessions), target_(std::move(target)),
        resolver_(ioc), connect_timer_(ioc) {}

  ~Connection() {
    if (h2_ != nullptr) nghttp2_session_del(h2_);
  }

  // False once the connection failed, was closed, or received GOAWAY: the pool makes a new one.
  bool usable() const { return !failed_ && !goaway_; }

  void Submit(ClientRequest request, Target target, Callback done) {
    auto pending = std::make_shared<Pending>();
    pending->request = std::move(request);
    pending->target = std::move(target);
    pending->done = std::move(done);
    auto timeout = pending->request.timeout.value_or(options_.request_timeout);
    pending->timer = std::make_unique<asio::steady_timer>(ioc_, timeout);
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

 private:
  struct Pending {
    ClientRequest request;
    Target target;
    Callback done;
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
    boost::system::error_code ec;
    connect_timer_.cancel();
    resolver_.cancel();
    if (tls_) {
      // Tickets that would arrive from now on are not stored: the cache may be gone by then.
      TlsSessionCache::Detach(tls_->native_handle());
    }
    bool tls_intact = tls_ && ready_ && !tls_failed_;
    if (orderly && tls_intact && !writing_) {
      StartTlsShutdown();
    } else {
      // Without a close_notify OpenSSL marks the session of a freed SSL as not resumable. As far
      // as TLS goes this end is still clean unless the TLS layer itself failed (an alert, a bad
      // record): say so, and the session stays resumable for servers with stateless tickets.
      if (tls_intact) SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN);
      if (tls_) tls_->lowest_layer().close(ec);
      if (socket_) socket_->close(ec);
    }
    auto queued = std::move(queued_);
    auto streams = std::move(streams_);
    for (auto& p : queued) Finish(p, status);
    for (auto& [id, p] : streams) Finish(p, status);
  }

  // --- connect ---

  void Connect() {
    connecting_ = true;
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) {
        if (!self->ready_) self->Fail(Status::Unavailable("connect timed out to " + self->target_.key()));
      }
    });
    resolver_.async_resolve(
        target_.host, target_.port,
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    tcp::resolver::results_type results) {
          if (self->failed_) return;
          if (ec) {
            self->Fail(Status::Unavailable("resolve " + self->target_.host + ": " + ec.message()));
            return;
          }
          self->socket_ = std::make_unique<tcp::socket>(self->ioc_);
          asio::async_connect(*self->socket_, results,
                              [self](const boost::system::error_code& ec2, const tcp::endpoint&) {
                                self->OnConnected(ec2);
                              });
        });
  }

  void OnConnected(const boost::system::error_code& ec) {
    if (failed_) return;
    if (ec) {
      Fail(Status::Unavailable("connect " + target_.key() + ": " + ec.message()));
      return;
    }
    boost::system::error_code ignored;
    // A connect to a loopback port nobody listens on can pick that very port as its source and
    // connect to itself (TCP simultaneous open): it would hold the port its server needs.
    auto local = socket_->local_endpoint(ignored);
    if (!ignored && local == socket_->remote_endpoint(ignored)) {
      Fail(Status::Unavailable("connect " + target_.key() + ": connected to itself (no listener)"));
      return;
    }
    socket_->set_option(tcp::no_delay(true), ignored);
    if (!target_.tls) {
      StartSession();
      return;
    }
    if (!options_.tls) {
      Fail(Status::InvalidArgument("https URL but no client TLS context configured"));
      return;
    }
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*socket_), *options_.tls);
    socket_.reset();
    SSL_set_tlsext_host_name(tls_->native_handle(), target_.host.c_str());
    if (options_.tls->native_handle() != nullptr &&
        SSL_CTX_get_verify_mode(options_.tls->native_handle()) != SSL_VERIFY_NONE) {
      SSL_set1_host(tls_->native_handle(), target_.host.c_str());
    }
    sessions_.Attach(tls_->native_handle(), &session_slot_, target_.key());
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](const boost::system::error_code& e) {
                            self->OnHandshake(e);
                          });
  }

  void OnHandshake(const boost::system::error_code& e) {
    if (failed_) return;
    if (e) {
      sessions_.Forget(target_.key());
      Fail(Status::Unavailable("TLS handshake with " + target_.key() + ": " + e.message()));
      return;
    }
    const unsigned char* alpn = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(tls_->native_handle(), &alpn, &len);
    if (len != 2 || std::memcmp(alpn, "h2", 2) != 0) {
      Fail(Status::Unavailable(target_.key() + " did not negotiate h2 (ALPN)"));
      return;
    }
    bool resumed = SSL_session_reused(tls_->native_handle()) == 1;
    LOG_DEBUG("http", "TLS to %s: %s handshake", target_.key().c_str(), resumed ? "resumed" : "full");
    if (options_.on_tls_handshake) options_.on_tls_handshake(resumed);
    StartSession();
  }

  void StartSession() {
    connect_timer_.cancel();
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
  void AsyncReadSome(F&& f) {
    if (tls_) {
      tls_->async_read_some(asio::buffer(rbuf_), std::forward<F>(f));
    } else {
      socket_->async_read_some(asio::buffer(rbuf_), std::forward<F>(f));
    }
  }

  template <class F>
  void AsyncWrite(F&& f) {
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(inflight_), std::forward<F>(f));
    } else {
      asio::async_write(*socket_, asio::buffer(inflight_), std::forward<F>(f));
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
    boost::system::error_code ec;
    tls_->lowest_layer().cancel(ec);
    if (!reading_) SendCloseNotify();
  }

  void SendCloseNotify() {
    if (shutdown_sent_) return;
    shutdown_sent_ = true;
    connect_timer_.expires_after(std::chrono::seconds(1));
    connect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      boost::system::error_code ignored;
      if (!ec) self->tls_->lowest_layer().close(ignored);
    });
    tls_->async_shutdown([self = shared_from_this()](const boost::system::error_code&) {
      boost::system::error_code ignored;
      self->connect_timer_.cancel();
      self->tls_->lowest_layer().close(ignored);
    });
  }

  void DoRead() {
    if (failed_) return;
    reading_ = true;
    AsyncReadSome([self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      self->reading_ = false;
      if (self->failed_) {
        if (self->shutdown_wanted_) self->SendCloseNotify();
        return;
      }
      if (ec) {
        self->NoteTlsError(ec);
        self->Fail(Status::Unavailable("connection to " + self->target_.key() + " lost: " +
                                       ec.message()));
        return;
      }
      ssize_t rv = nghttp2_session_mem_recv(self->h2_, self->rbuf_.data(), n);
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
        Fail(Status::Unavailable("connection to " + target_.key() + " closed"), /*orderly=*/true);
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
        self->Fail(Status::Unavailable("write to " + self->target_.key() + ": " + ec.message()));
        return;
      }
      self->Flush();
    });
  }

  asio::io_context& ioc_;
  const ClientOptions& options_;
  TlsSessionCache& sessions_;
  Target target_;
  tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  std::unique_ptr<tcp::socket> socket_;
  TlsSessionCache::Slot session_slot_;  // before tls_: the SSL points to it until freed
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  nghttp2_session* h2_ = nullptr;
  std::array<uint8_t, 16 * 1024> rbuf_{};
  std::string out_;
  std::string inflight_;
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
};

H2Client::H2Client(asio::io_context& ioc, ClientOptions options)
    : ioc_(ioc), options_(std::move(options)) {}

H2Client::~H2Client() {
  for (auto& [k, c] : pool_) c->Close();
}

void H2Client::Send(ClientRequest request, Callback done) {
  asio::post(ioc_, [this, r = std::move(request), d = std::move(done)]() mutable {
    SendOnLoop(std::move(r), std::move(d));
  });
}

void H2Client::SendOnLoop(ClientRequest request, Callback done) {
  auto target = ParseTarget(request.url);
  if (!target.ok()) {
    done(target.status());
    return;
  }
  auto& conn = pool_[target->key()];
  if (!conn || !conn->usable()) {
    conn = std::make_shared<Connection>(ioc_, options_, sessions_, *target);
  }
  conn->Submit(std::move(request), std::move(*target), std::move(done));
}

void H2Client::Close() {
  asio::post(ioc_, [this] {
    for (auto& [k, c] : pool_) c->Close();
    pool_.clear();
  });
}

}  // namespace msgin5g::api::http
