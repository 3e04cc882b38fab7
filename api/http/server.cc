#include "api/http/server.h"

#include <array>
#include <cstring>

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/http/client_hello.h"
#include "api/http/sessions.h"
#include "api/http/tls_context.h"
#include "common/logging.h"

namespace msgin5g::api::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string RemoteAddress(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return {};
  return (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
         ":" + std::to_string(ep.port());
}

// Enough for any ClientHello a client sends in practice (OpenSSL's are under 2 KB; a post-quantum
// key share adds about 1.2 KB); a longer one is handed to the handshake unread. A handshake
// holds the first size until its hello proves longer than that (then 16 KB, until the hello is
// whole or the handshake deadline passes).
constexpr std::size_t kFirstPeekBytes = 2 << 10;
constexpr std::size_t kPeekBytes = 16 << 10;

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Reads just enough of a cleartext connection to tell the HTTP/2 client preface from HTTP/1.1
// (RFC 9113 §3.4), then starts the matching session with the bytes already read.
template <class Socket>
class Sniffer : public std::enable_shared_from_this<Sniffer<Socket>> {
 public:
  Sniffer(std::shared_ptr<const ServerContext> ctx, Socket socket, PeerInfo peer)
      : ctx_(std::move(ctx)), socket_(std::move(socket)), peer_(std::move(peer)),
        timer_(socket_.get_executor()) {}

  void Start() {
    timer_.expires_after(ctx_->options.read_timeout);
    timer_.async_wait([w = this->weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    Read();
  }

 private:
  void Read() {
    socket_.async_read_some(
        asio::buffer(buf_.data() + got_, buf_.size() - got_),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return;  // closed or timed out before a request: nothing to answer
          self->got_ += n;
          self->Decide();
        });
  }

  void Decide() {
    std::size_t cmp = std::min(got_, kH2Preface.size());
    bool prefix_matches = std::memcmp(buf_.data(), kH2Preface.data(), cmp) == 0;
    if (prefix_matches && got_ < kH2Preface.size()) {
      Read();
      return;
    }
    timer_.cancel();
    std::string initial(buf_.data(), got_);
    PeerInfo peer = std::move(peer_);
    if (prefix_matches && ctx_->options.enable_http2) {
      StartH2ServerSession(ctx_, std::move(socket_), std::move(initial), std::move(peer));
    } else if (!prefix_matches && ctx_->options.enable_http1) {
      StartH1ServerSession(ctx_, std::move(socket_), std::move(initial), std::move(peer));
    } else {
      boost::system::error_code ignored;
      socket_.close(ignored);
    }
  }

  std::shared_ptr<const ServerContext> ctx_;
  Socket socket_;
  PeerInfo peer_;
  asio::steady_timer timer_;
  std::array<char, 24> buf_{};
  std::size_t got_ = 0;
};

// TLS handshake under a deadline, then ALPN picks the session (no ALPN: HTTP/1.1).
class TlsHandshake : public std::enable_shared_from_this<TlsHandshake> {
 public:
  // `tls` is the context current at accept time (SIGHUP may replace the server's meanwhile).
  TlsHandshake(std::shared_ptr<const ServerContext> ctx, tcp::socket socket,
               std::shared_ptr<asio::ssl::context> tls)
      : ctx_(std::move(ctx)), tls_(std::move(tls)), stream_(std::move(socket), *tls_),
        timer_(stream_.get_executor()) {}

  void Start() {
    timer_.expires_after(ctx_->options.handshake_timeout);
    timer_.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) {
        boost::system::error_code ignored;
        self->stream_.lowest_layer().close(ignored);
      }
    });
    if (ctx_->options.psk_prefetch) {
      Peek();
    } else {
      Handshake();
    }
  }

 private:
  void Handshake() {
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              self->Done(ec);
                            });
  }

  // Reads the ClientHello without consuming it (MSG_PEEK), so OpenSSL reads it again from the
  // socket. Readiness is no signal once some bytes wait unread, so an incomplete hello is
  // peeked again after a growing pause (1 ms doubling to 64 ms) until the handshake deadline.
  void Peek() {
    stream_.next_layer().async_wait(
        tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
          if (!ec) self->PeekNow();
        });
  }

  void PeekNow() {
    const int fd = stream_.next_layer().native_handle();
    // Nothing new since the last look: wait again without copying and scanning it all again
    // (a client sending a hello slowly costs an ioctl per pause).
    int waiting = 0;
    if (fd >= 0 && ::ioctl(fd, FIONREAD, &waiting) == 0 && peeked_bytes_ > 0 &&
        static_cast<std::size_t>(waiting) == peeked_bytes_) {
      return PeekLater();
    }
    ssize_t n = ::recv(fd, peeked_.data(), peeked_.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Peek();
    if (n <= 0) return Handshake();  // closed or failed: the handshake reports it
    std::vector<std::string> ids;
    auto scan = ScanClientHelloPskIdentities(
        std::string_view(peeked_.data(), static_cast<std::size_t>(n)), &ids);
    if (scan == ClientHelloScan::kNeedMore && static_cast<std::size_t>(n) == peeked_.size() &&
        peeked_.size() < kPeekBytes) {
      peeked_.resize(kPeekBytes);  // a long hello: look at more of it now
      return PeekNow();
    }
    if (scan == ClientHelloScan::kNeedMore && static_cast<std::size_t>(n) < peeked_.size()) {
      peeked_bytes_ = static_cast<std::size_t>(n);
      return PeekLater();
    }
    std::vector<char>().swap(peeked_);
    if (ids.empty()) return Handshake();
    ctx_->options.psk_prefetch(std::move(ids), [self = shared_from_this()](std::string unresolved) {
      auto ex = self->stream_.get_executor();
      asio::post(ex, [self, unresolved = std::move(unresolved)]() mutable {
        self->psk_unresolved_ = std::move(unresolved);
        self->Handshake();
      });
    });
  }

  void PeekLater() {
    peek_timer_.expires_after(peek_pause_);
    peek_pause_ = std::min(peek_pause_ * 2, std::chrono::milliseconds(64));
    peek_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->PeekNow();
    });
  }

  void Done(const boost::system::error_code& ec) {
    timer_.cancel();
    peek_timer_.cancel();
    if (ec) {
      LOG_DEBUG("tls", "handshake failed: %s", ec.message().c_str());
      boost::system::error_code ignored;
      stream_.lowest_layer().close(ignored);
      return;
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(stream_.native_handle(), &alpn, &alpn_len);
    bool h2 = alpn_len == 2 && std::memcmp(alpn, "h2", 2) == 0;
    PeerInfo peer;
    peer.tls = true;
    peer.address = RemoteAddress(stream_.next_layer());
    peer.identity = PeerIdentity(stream_.native_handle(), &peer.psk);
    if (peer.identity.empty()) peer.psk_unresolved = std::move(psk_unresolved_);
    if (h2 && ctx_->options.enable_http2) {
      StartH2ServerSession(ctx_, std::move(stream_), std::string(), std::move(peer));
    } else if (!h2 && ctx_->options.enable_http1) {
      StartH1ServerSession(ctx_, std::move(stream_), std::string(), std::move(peer));
    } else {
      boost::system::error_code ignored;
      stream_.lowest_layer().close(ignored);
    }
  }

  std::shared_ptr<const ServerContext> ctx_;
  std::shared_ptr<asio::ssl::context> tls_;  // declared before stream_, which refers to it
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  asio::steady_timer peek_timer_{stream_.get_executor()};
  std::chrono::milliseconds peek_pause_{1};
  std::size_t peeked_bytes_ = 0;  // what the last incomplete peek saw
  std::string psk_unresolved_;
  std::vector<char> peeked_ = std::vector<char>(kFirstPeekBytes);
};

}  // namespace

// --- ConnectionTracker ---

void ConnectionTracker::Add(Connection* c, std::weak_ptr<Connection> w) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.emplace(c, std::move(w));
}

void ConnectionTracker::Remove(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.erase(c);
  if (open_.empty()) cv_.notify_all();
}

std::size_t ConnectionTracker::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

void ConnectionTracker::ShutdownAll(bool abort) {
  draining_.store(true);
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [p, w] : open_) {
      if (auto s = w.lock()) conns.push_back(std::move(s));
    }
  }
  for (auto& c : conns) {
    auto ex = c->executor();
    asio::post(ex, [c, abort] {
      if (abort) {
        c->Abort();
      } else {
        c->GracefulShutdown();
      }
    });
  }
}

bool ConnectionTracker::WaitEmpty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [this] { return open_.empty(); });
}

// --- Acceptors ---

// What the server needs of its listener, TCP or Unix.
class Server::Acceptor : public std::enable_shared_from_this<Server::Acceptor> {
 public:
  virtual ~Acceptor() = default;
  virtual void Accept() = 0;
  virtual void Close() = 0;
  virtual std::string LocalAddress() const = 0;
};

namespace {

// Accepts on the pool's first io_context and pins each connection to the next io_context.
// `Traits` says how to listen, what the peer is and how to tune a new socket.
template <class Traits>
class BasicAcceptor final : public Server::Acceptor {
 public:
  using Protocol = typename Traits::Protocol;
  using Socket = typename Protocol::socket;

  BasicAcceptor(IoPool& pool, std::shared_ptr<ServerContext> ctx)
      : pool_(pool), ctx_(std::move(ctx)), acceptor_(pool.At(0)), backoff_(pool.At(0)) {}
  ~BasicAcceptor() override { Traits::Unbind(bound_); }

  Status Listen(const typename Protocol::endpoint& ep) {
    MSGIN5G_RETURN_IF_ERROR(Traits::Listen(acceptor_, ep, ctx_->options));
    bound_ = acceptor_.local_endpoint();
    return Status::Ok();
  }

  std::string LocalAddress() const override { return Traits::Describe(bound_); }
  typename Protocol::endpoint local_endpoint() const { return bound_; }

  void Accept() override {
    auto self = std::static_pointer_cast<BasicAcceptor>(shared_from_this());
    acceptor_.async_accept(pool_.Next(), [self](const boost::system::error_code& ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) {
        self->OnAccepted(std::move(socket));
        self->Accept();
        return;
      }
      // Out of descriptors (EMFILE/ENFILE) or memory: retrying at once would spin this
      // thread; back off briefly so sessions (which free descriptors) keep running.
      LOG_WARN("http", "accept failed: %s; retrying in 100 ms", ec.message().c_str());
      self->backoff_.expires_after(std::chrono::milliseconds(100));
      self->backoff_.async_wait([self](const boost::system::error_code& e) {
        if (!e) self->Accept();
      });
    });
  }

  void Close() override {
    auto self = std::static_pointer_cast<BasicAcceptor>(shared_from_this());
    asio::post(acceptor_.get_executor(), [self] {
      boost::system::error_code ec;
      self->acceptor_.close(ec);
      self->backoff_.cancel();
    });
  }

 private:
  void OnAccepted(Socket socket) {
    if (ctx_->tracker->count() >= ctx_->options.max_connections || ctx_->tracker->draining()) {
      boost::system::error_code ec;
      socket.close(ec);
      return;
    }
    PeerInfo peer = Traits::Peer(socket);
    // The socket belongs to another io_context: start its session there.
    auto ex = socket.get_executor();
    asio::post(ex, [ctx = ctx_, s = std::make_shared<Socket>(std::move(socket)),
                    peer = std::move(peer)]() mutable {
      if constexpr (Traits::kTlsCapable) {
        if (auto tls = ctx->CurrentTls()) {
          std::make_shared<TlsHandshake>(ctx, std::move(*s), std::move(tls))->Start();
          return;
        }
      }
      std::make_shared<Sniffer<Socket>>(ctx, std::move(*s), std::move(peer))->Start();
    });
  }

  IoPool& pool_;
  std::shared_ptr<ServerContext> ctx_;
  typename Protocol::acceptor acceptor_;
  asio::steady_timer backoff_;
  typename Protocol::endpoint bound_;
};

struct TcpTraits {
  using Protocol = tcp;
  static constexpr bool kTlsCapable = true;

  static Status Listen(tcp::acceptor& a, const tcp::endpoint& ep, const ServerOptions&) {
    boost::system::error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable("cannot listen on " + Describe(ep) + ": " + ec.message());
    return Status::Ok();
  }
  static void Unbind(const tcp::endpoint&) {}
  static std::string Describe(const tcp::endpoint& ep) {
    return (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
           ":" + std::to_string(ep.port());
  }
  static PeerInfo Peer(tcp::socket& s) {
    boost::system::error_code ec;
    s.set_option(tcp::no_delay(true), ec);
    PeerInfo peer;
    peer.address = RemoteAddress(s);
    return peer;
  }
};

struct UnixTraits {
  using Protocol = asio::local::stream_protocol;
  static constexpr bool kTlsCapable = false;

  // A socket file left by a daemon that died is removed; one that still answers belongs to a
  // running process, and taking it over would cut that process's clients off.
  static Status Listen(Protocol::acceptor& a, const Protocol::endpoint& ep,
                       const ServerOptions& options) {
    const std::string path = ep.path();
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return Status::Unavailable("cannot listen on unix:" + path + ": it exists and is not a socket");
      }
      Protocol::socket probe(a.get_executor());
      boost::system::error_code ec;
      probe.connect(ep, ec);
      if (!ec) {
        return Status::Unavailable("cannot listen on unix:" + path +
                                   ": another process is serving it");
      }
      ::unlink(path.c_str());
    }
    boost::system::error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) a.bind(ep, ec);
    if (ec) return Status::Unavailable("cannot listen on unix:" + path + ": " + ec.message());
    // Access to the admin API is access to this file: owner and group only.
    if (::chmod(path.c_str(), options.unix_mode) != 0) {
      std::string why = std::strerror(errno);
      ::unlink(path.c_str());
      return Status::Unavailable("cannot set the mode of unix:" + path + ": " + why);
    }
    a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable("cannot listen on unix:" + path + ": " + ec.message());
    return Status::Ok();
  }
  static void Unbind(const Protocol::endpoint& ep) {
    if (!ep.path().empty()) ::unlink(ep.path().c_str());
  }
  static std::string Describe(const Protocol::endpoint& ep) { return "unix:" + ep.path(); }
  static PeerInfo Peer(Protocol::socket& s) {
    PeerInfo peer;
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      peer.uid = cred.uid;
      peer.address = "unix:uid=" + std::to_string(cred.uid) + ",pid=" + std::to_string(cred.pid);
    } else {
      peer.address = "unix";
    }
    return peer;
  }
};

}  // namespace

// --- Server ---

Result<tcp::endpoint> ParseEndpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("expected host:port: " + text);
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || end == nullptr || *end != '\0' || port < 0 || port > 65535) {
    return Status::InvalidArgument("bad port in " + text);
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("bad address in " + text + " (use an IP literal)");
  return tcp::endpoint(addr, static_cast<unsigned short>(port));
}

Server::Server(IoPool& pool, ServerOptions options, const Router& router, HttpMetrics* metrics)
    : pool_(pool), ctx_(std::make_shared<ServerContext>()) {
  ctx_->options = std::move(options);
  ctx_->router = &router;
  ctx_->metrics = metrics;
  ctx_->tracker = std::make_shared<ConnectionTracker>();
}

Server::~Server() = default;

Status Server::Listen() {
  const std::string& listen = ctx_->options.listen;
  if (listen.rfind(kUnixPrefix, 0) == 0) {
    std::string path = listen.substr(kUnixPrefix.size());
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::InvalidArgument("a Unix socket path must be 1 to " +
                                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                     " bytes: " + listen);
    }
    if (ctx_->options.tls) return Status::InvalidArgument("TLS is not offered on a Unix socket");
    auto a = std::make_shared<BasicAcceptor<UnixTraits>>(pool_, ctx_);
    MSGIN5G_RETURN_IF_ERROR(a->Listen(asio::local::stream_protocol::endpoint(path)));
    acceptor_ = std::move(a);
    return Status::Ok();
  }
  auto ep = ParseEndpoint(listen);
  if (!ep.ok()) return ep.status();
  auto a = std::make_shared<BasicAcceptor<TcpTraits>>(pool_, ctx_);
  MSGIN5G_RETURN_IF_ERROR(a->Listen(*ep));
  endpoint_ = a->local_endpoint();
  acceptor_ = std::move(a);
  return Status::Ok();
}

std::string Server::local_address() const { return acceptor_ ? acceptor_->LocalAddress() : ""; }

void Server::Start() {
  if (acceptor_) asio::post(pool_.At(0), [a = acceptor_] { a->Accept(); });
}

Status Server::ReplaceTls(std::shared_ptr<asio::ssl::context> tls) {
  if (!ctx_->options.tls) return Status::InvalidArgument("listener " + ctx_->options.name + " is not TLS");
  if (!tls) return Status::InvalidArgument("no TLS context");
  std::lock_guard<std::mutex> lock(ctx_->tls_mu);
  ctx_->tls_current = std::move(tls);
  return Status::Ok();
}

std::shared_ptr<asio::ssl::context> ServerContext::CurrentTls() const {
  std::lock_guard<std::mutex> lock(tls_mu);
  return tls_current ? tls_current : options.tls;
}

std::size_t Server::Shutdown(std::chrono::milliseconds drain) {
  if (acceptor_) acceptor_->Close();
  auto& tracker = *ctx_->tracker;
  tracker.ShutdownAll(false);
  if (tracker.WaitEmpty(std::chrono::steady_clock::now() + drain)) return 0;
  std::size_t left = tracker.count();
  tracker.ShutdownAll(true);
  tracker.WaitEmpty(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  return left;
}

}  // namespace msgin5g::api::http
