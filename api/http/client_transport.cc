#include "api/http/client_transport.h"

#include <boost/asio/connect.hpp>

#include "common/logging.h"

namespace msgin5g::api::http {

namespace asio = boost::asio;

ClientTransport::ClientTransport(asio::io_context& ioc, const ClientOptions& options,
                                 TlsSessionCache& sessions, ClientTarget target)
    : ioc_(ioc), options_(options), sessions_(sessions), target_(std::move(target)),
      resolver_(ioc), timer_(ioc) {}

void ClientTransport::Connect(std::string alpn, std::shared_ptr<void> owner,
                              std::function<void(Status)> done) {
  done_ = std::move(done);
  timer_.expires_after(options_.connect_timeout);
  timer_.async_wait([this, owner](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    Finish(Status::Unavailable("connect timed out to " + target_.key()));
  });
  resolver_.async_resolve(
      target_.host, target_.port,
      [this, owner, alpn = std::move(alpn)](const boost::system::error_code& ec,
                                            tcp::resolver::results_type results) {
        if (finished_) return;
        if (ec) {
          Finish(Status::Unavailable("resolve " + target_.host + ": " + ec.message()));
          return;
        }
        socket_ = std::make_unique<tcp::socket>(ioc_);
        asio::async_connect(*socket_, results,
                            [this, owner, alpn](const boost::system::error_code& ec2,
                                                const tcp::endpoint&) {
                              OnConnected(ec2, alpn, owner);
                            });
      });
}

void ClientTransport::OnConnected(const boost::system::error_code& ec, const std::string& alpn,
                                  const std::shared_ptr<void>& owner) {
  if (finished_) return;
  if (ec) {
    Finish(Status::Unavailable("connect " + target_.key() + ": " + ec.message()));
    return;
  }
  boost::system::error_code ignored;
  // A connect to a loopback port nobody listens on can pick that very port as its source and
  // connect to itself (TCP simultaneous open): it would hold the port its server needs.
  auto local = socket_->local_endpoint(ignored);
  if (!ignored && local == socket_->remote_endpoint(ignored)) {
    Finish(Status::Unavailable("connect " + target_.key() + ": connected to itself (no listener)"));
    return;
  }
  socket_->set_option(tcp::no_delay(true), ignored);
  if (!target_.tls) {
    Finish(Status::Ok());
    return;
  }
  if (!options_.tls) {
    Finish(Status::InvalidArgument("https URL but no client TLS context configured"));
    return;
  }
  tls_ = std::make_unique<TlsStream>(std::move(*socket_), *options_.tls);
  socket_.reset();
  SSL* ssl = tls_->native_handle();
  SSL_set_tlsext_host_name(ssl, target_.host.c_str());
  if (SSL_CTX_get_verify_mode(options_.tls->native_handle()) != SSL_VERIFY_NONE) {
    SSL_set1_host(ssl, target_.host.c_str());
  }
  SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()),
                      static_cast<unsigned int>(alpn.size()));
  sessions_.Attach(ssl, &session_slot_, target_.key());
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [this, owner](const boost::system::error_code& e) {
                          if (finished_) return;
                          if (e) {
                            sessions_.Forget(target_.key());
                            Finish(Status::Unavailable("TLS handshake with " + target_.key() +
                                                       ": " + e.message()));
                            return;
                          }
                          bool resumed = SSL_session_reused(tls_->native_handle()) == 1;
                          LOG_DEBUG("http", "TLS to %s: %s handshake", target_.key().c_str(),
                                    resumed ? "resumed" : "full");
                          if (options_.on_tls_handshake) options_.on_tls_handshake(resumed);
                          Finish(Status::Ok());
                        });
}

void ClientTransport::Finish(Status status) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  if (!status.ok()) {
    resolver_.cancel();
    Close(/*tls_clean=*/false);
  }
  auto done = std::move(done_);
  done(std::move(status));
}

std::string ClientTransport::alpn() const {
  if (!tls_) return {};
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(tls_->native_handle(), &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

void ClientTransport::DetachSessions() {
  if (tls_) TlsSessionCache::Detach(tls_->native_handle());
}

void ClientTransport::CancelIo() {
  boost::system::error_code ec;
  if (tls_) tls_->lowest_layer().cancel(ec);
  if (socket_) socket_->cancel(ec);
}

void ClientTransport::Close(bool tls_clean) {
  boost::system::error_code ec;
  if (!finished_) {
    finished_ = true;  // a connect still under way ends here, and its `done` never runs
    timer_.cancel();
    resolver_.cancel();
  }
  if (tls_) {
    if (tls_clean) SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN);
    tls_->lowest_layer().close(ec);
  }
  if (socket_) socket_->close(ec);
}

}  // namespace msgin5g::api::http
