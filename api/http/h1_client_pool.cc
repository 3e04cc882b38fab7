#include "api/http/h1_client_pool.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "api/http/client_transport.h"

namespace msgin5g::api::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

// Response headers larger than this end the exchange (a server's whole header block, not one
// field): far above what any callback sends, far below what would hurt.
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;

// Fields the connection itself writes, or that do not exist in HTTP/1.1.
bool SkippedField(const std::string& name) {
  return name.empty() || name[0] == ':' || name == "host" || name == "content-length" ||
         name == "connection" || name == "transfer-encoding" || name == "te" ||
         name == "keep-alive" || name == "upgrade";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct H1ClientPool::Exchange {
  QueuedRequest q;
  std::unique_ptr<asio::steady_timer> timer;
  std::weak_ptr<Connection> on;  // the connection carrying it, if any
  bool finished = false;
  bool retried = false;
};

// One HTTP/1.1 connection: connect on first use, then one exchange at a time.
class H1ClientPool::Connection : public std::enable_shared_from_this<H1ClientPool::Connection> {
 public:
  Connection(std::weak_ptr<H1ClientPool> pool, asio::io_context& ioc, const ClientOptions& options,
             TlsSessionCache& sessions, const ClientTarget& target)
      : pool_(std::move(pool)), options_(options), transport_(ioc, options, sessions, target) {}

  bool idle() const { return !busy_ && !dead_; }
  bool dead() const { return dead_; }

  void Start(std::shared_ptr<Exchange> x) {
    x_ = std::move(x);
    busy_ = true;
    if (connected_) {
      Write(/*reused=*/true);
      return;
    }
    static const std::string kAlpn("\x08http/1.1", 9);
    transport_.Connect(kAlpn, shared_from_this(), [this](Status s) {
      if (dead_) return;
      if (!s.ok()) {
        // The authority cannot be reached: what waits for it would fail the same way.
        auto pool = pool_.lock();
        End(s);
        if (pool) pool->FailWaiting(s);
        return;
      }
      connected_ = true;
      Write(/*reused=*/false);
    });
  }

  // Ends the connection; its exchange, if still open, fails with `status`.
  void Abort(const Status& status) {
    if (dead_) return;
    dead_ = true;
    transport_.DetachSessions();
    transport_.Close(/*tls_clean=*/true);
    if (x_) Finish(*x_, status);
    x_.reset();
  }

 private:
  template <class F>
  void WithStream(F&& f) {
    if (transport_.tls() != nullptr) {
      f(*transport_.tls());
    } else {
      f(*transport_.socket());
    }
  }

  void Write(bool reused) {
    reused_ = reused;
    const QueuedRequest& q = x_->q;
    req_ = std::make_unique<bhttp::request<bhttp::string_body>>();
    bhttp::verb verb = bhttp::string_to_verb(q.request.method);
    if (verb == bhttp::verb::unknown) {
      req_->method_string(q.request.method);
    } else {
      req_->method(verb);
    }
    req_->target(q.target.path);
    req_->version(11);
    req_->set(bhttp::field::host, q.target.authority);
    for (const auto& h : q.request.headers) {
      if (!SkippedField(h.name)) req_->insert(h.name, h.value);
    }
    req_->body() = q.request.body;
    req_->prepare_payload();
    WithStream([this](auto& stream) {
      bhttp::async_write(stream, *req_,
                         [self = shared_from_this()](const boost::system::error_code& ec,
                                                     std::size_t) { self->OnWritten(ec); });
    });
  }

  void OnWritten(const boost::system::error_code& ec) {
    if (dead_) return;
    if (ec) {
      Lost("write to " + transport_.target().key() + ": " + ec.message(), /*maybe_idle_close=*/true);
      return;
    }
    parser_ = std::make_unique<bhttp::response_parser<bhttp::string_body>>();
    parser_->body_limit(options_.max_response_bytes);
    parser_->header_limit(kMaxResponseHeaderBytes);
    WithStream([this](auto& stream) {
      bhttp::async_read(stream, buffer_, *parser_,
                        [self = shared_from_this()](const boost::system::error_code& e,
                                                    std::size_t) { self->OnRead(e); });
    });
  }

  void OnRead(const boost::system::error_code& ec) {
    if (dead_) return;
    if (ec == bhttp::error::body_limit) {
      End(Status::ResourceExhausted("response body too large"));
      return;
    }
    if (ec) {
      Lost("HTTP/1.1 response from " + transport_.target().key() + ": " + ec.message(),
           !parser_->got_some());
      return;
    }
    auto& msg = parser_->get();
    Response r;
    r.status = msg.result_int();
    for (const auto& field : msg) {
      r.headers.push_back({Lower(field.name_string()), std::string(field.value())});
    }
    r.body = std::move(msg.body());
    bool keep_alive = msg.keep_alive();
    auto x = std::move(x_);
    busy_ = false;
    if (!keep_alive) {
      dead_ = true;
      transport_.DetachSessions();
      transport_.Close(/*tls_clean=*/true);
    }
    Finish(*x, std::move(r));
    if (auto pool = pool_.lock()) pool->Dispatch();
  }

  // The connection broke mid-exchange. When it was reused and the server said nothing at all,
  // the likeliest story is an idle connection the server had closed: the request goes out again,
  // once, on a fresh connection.
  void Lost(const std::string& what, bool maybe_idle_close) {
    auto pool = pool_.lock();
    if (reused_ && maybe_idle_close && pool && x_ && !x_->retried && !x_->finished) {
      auto x = std::move(x_);
      dead_ = true;
      transport_.DetachSessions();
      transport_.Close(/*tls_clean=*/false);
      pool->Retry(std::move(x));
      return;
    }
    End(Status::Unavailable(what));
    if (pool) pool->Dispatch();
  }

  void End(const Status& status) {
    dead_ = true;
    transport_.DetachSessions();
    transport_.Close(/*tls_clean=*/false);
    if (x_) Finish(*x_, status);
    x_.reset();
  }

  std::weak_ptr<H1ClientPool> pool_;
  const ClientOptions& options_;
  ClientTransport transport_;
  beast::flat_buffer buffer_;
  std::unique_ptr<bhttp::request<bhttp::string_body>> req_;
  std::unique_ptr<bhttp::response_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Exchange> x_;
  bool connected_ = false;
  bool busy_ = false;
  bool dead_ = false;
  bool reused_ = false;
};

H1ClientPool::H1ClientPool(asio::io_context& ioc, const ClientOptions& options,
                           TlsSessionCache& sessions)
    : ioc_(ioc), options_(options), sessions_(sessions) {}

H1ClientPool::~H1ClientPool() { Close(); }

void H1ClientPool::Finish(Exchange& x, Result<Response> result) {
  if (x.finished) return;
  x.finished = true;
  x.timer->cancel();
  auto done = std::move(x.q.done);
  done(std::move(result));
}

void H1ClientPool::Submit(QueuedRequest request) {
  auto x = std::make_shared<Exchange>();
  x->q = std::move(request);
  if (closed_) {
    auto done = std::move(x->q.done);
    done(Status::Unavailable("client closed"));
    return;
  }
  x->timer = std::make_unique<asio::steady_timer>(ioc_, x->q.deadline);
  x->timer->async_wait([w = weak_from_this(), wx = std::weak_ptr<Exchange>(x)](
                           const boost::system::error_code& ec) {
    if (ec) return;
    auto self = w.lock();
    auto xs = wx.lock();
    if (!self || !xs || xs->finished) return;
    auto it = std::find(self->waiting_.begin(), self->waiting_.end(), xs);
    if (it != self->waiting_.end()) self->waiting_.erase(it);
    auto on = xs->on.lock();
    Finish(*xs, Status(StatusCode::kDeadlineExceeded, "request timed out"));
    // HTTP/1.1 cannot cancel one request: its connection goes.
    if (on) on->Abort(Status(StatusCode::kDeadlineExceeded, "request timed out"));
    self->Dispatch();
  });
  waiting_.push_back(std::move(x));
  Dispatch();
}

void H1ClientPool::Retry(std::shared_ptr<Exchange> x) {
  x->retried = true;
  x->on.reset();
  waiting_.push_front(std::move(x));
  Dispatch();
}

void H1ClientPool::Dispatch() {
  if (closed_) return;
  std::erase_if(connections_, [](const auto& c) { return c->dead(); });
  while (!waiting_.empty()) {
    auto x = waiting_.front();
    if (x->finished) {
      waiting_.pop_front();
      continue;
    }
    std::shared_ptr<Connection> free;
    for (auto& c : connections_) {
      if (c->idle()) {
        free = c;
        break;
      }
    }
    if (!free) {
      if (connections_.size() >= std::max<std::size_t>(1, options_.http1_connections)) return;
      free = std::make_shared<Connection>(weak_from_this(), ioc_, options_, sessions_, x->q.target);
      connections_.push_back(free);
    }
    waiting_.pop_front();
    x->on = free;
    free->Start(std::move(x));
  }
}

void H1ClientPool::FailWaiting(const Status& status) {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& x : waiting) Finish(*x, status);
}

void H1ClientPool::Close() {
  if (closed_) return;
  closed_ = true;
  FailWaiting(Status::Unavailable("client closed"));
  auto connections = std::move(connections_);
  for (auto& c : connections) c->Abort(Status::Unavailable("client closed"));
}

}  // namespace msgin5g::api::http
