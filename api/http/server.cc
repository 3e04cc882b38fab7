#include "api/http/server.h"

#include <array>
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

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

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Reads just enough of a cleartext connection to tell the HTTP/2 client preface from HTTP/1.1
// (RFC 9113 §3.4), then starts the matching session with the bytes already read.
class Sniffer : public std::enable_shared_from_this<Sniffer> {
 public:
  Sniffer(std::shared_ptr<const ServerContext> ctx, tcp::socket socket)
      : ctx_(std::move(ctx)), socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  void Start() {
    timer_.expires_after(ctx_->options.read_timeout);
    timer_.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
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
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
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
    PeerInfo peer;
    peer.address = RemoteAddress(socket_);
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
  tcp::socket socket_;
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
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              self->Done(ec);
                            });
  }

 private:
  void Done(const boost::system::error_code& ec) {
    timer_.cancel();
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

// --- Acceptor ---

class Server::Acceptor : public std::enable_shared_from_this<Server::Acceptor> {
 public:
  Acceptor(IoPool& pool, std::shared_ptr<ServerContext> ctx)
      : pool_(pool), ctx_(std::move(ctx)), acceptor_(pool.At(0)), backoff_(pool.At(0)) {}

  Status Listen(const tcp::endpoint& ep) {
    boost::system::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + ep.address().to_string() + ":" +
                                 std::to_string(ep.port()) + ": " + ec.message());
    }
    return Status::Ok();
  }

  tcp::endpoint local_endpoint() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec);
  }

  void Accept() {
    acceptor_.async_accept(
        pool_.Next(), [self = shared_from_this()](const boost::system::error_code& ec,
                                                  tcp::socket socket) {
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

  void Close() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ec;
      self->acceptor_.close(ec);
      self->backoff_.cancel();
    });
  }

 private:
  void OnAccepted(tcp::socket socket) {
    if (ctx_->tracker->count() >= ctx_->options.max_connections || ctx_->tracker->draining()) {
      boost::system::error_code ec;
      socket.close(ec);
      return;
    }
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    // The socket belongs to another io_context: start its session there.
    auto ex = socket.get_executor();
    asio::post(ex, [ctx = ctx_, s = std::make_shared<tcp::socket>(std::move(socket))]() mutable {
      if (auto tls = ctx->CurrentTls()) {
        std::make_shared<TlsHandshake>(ctx, std::move(*s), std::move(tls))->Start();
      } else {
        std::make_shared<Sniffer>(ctx, std::move(*s))->Start();
      }
    });
  }

  IoPool& pool_;
  std::shared_ptr<ServerContext> ctx_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
};

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
  acceptor_ = std::make_shared<Acceptor>(pool_, ctx_);
}

Server::~Server() = default;

Status Server::Listen() {
  auto ep = ParseEndpoint(ctx_->options.listen);
  if (!ep.ok()) return ep.status();
  MSGIN5G_RETURN_IF_ERROR(acceptor_->Listen(*ep));
  endpoint_ = acceptor_->local_endpoint();
  return Status::Ok();
}

void Server::Start() {
  asio::post(pool_.At(0), [a = acceptor_] { a->Accept(); });
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
  acceptor_->Close();
  auto& tracker = *ctx_->tracker;
  tracker.ShutdownAll(false);
  if (tracker.WaitEmpty(std::chrono::steady_clock::now() + drain)) return 0;
  std::size_t left = tracker.count();
  tracker.ShutdownAll(true);
  tracker.WaitEmpty(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  return left;
}

}  // namespace msgin5g::api::http
