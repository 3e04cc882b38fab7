// One outbound TCP connection to an authority, with TLS for https://: resolve, connect and
// handshake under ClientOptions::connect_timeout, with SNI, the certificate checked against the
// host, and the authority's previous TLS session offered (tls_session_cache.h). The HTTP/2 and
// HTTP/1.1 connections of the client (h2_client.cc, h1_client_pool.cc) run their protocol on it.
//
// Threads: the client's io_context only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/http/client_options.h"
#include "api/http/client_target.h"
#include "api/http/tls_session_cache.h"
#include "common/status.h"

namespace msgin5g::api::http {

class ClientTransport {
 public:
  using tcp = boost::asio::ip::tcp;
  using TlsStream = boost::asio::ssl::stream<tcp::socket>;

  ClientTransport(boost::asio::io_context& ioc, const ClientOptions& options,
                  TlsSessionCache& sessions, ClientTarget target);
  ClientTransport(const ClientTransport&) = delete;
  ClientTransport& operator=(const ClientTransport&) = delete;

  // Connects; over TLS offers `alpn` (RFC 7301 wire format). `done` runs once on the io_context:
  // OK, Unavailable (resolve, connect, timeout, handshake) or InvalidArgument (an https:// URL
  // without a client TLS context). `owner` is kept alive by the pending handlers.
  void Connect(std::string alpn, std::shared_ptr<void> owner, std::function<void(Status)> done);

  const ClientTarget& target() const { return target_; }
  // After a successful Connect: exactly one of the two is set.
  tcp::socket* socket() { return socket_.get(); }
  TlsStream* tls() { return tls_.get(); }
  // The protocol ALPN selected; empty without TLS or when the server selected none.
  std::string alpn() const;

  // Reads and writes on whichever stream is set.
  template <class Buffers, class Handler>
  void AsyncReadSome(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      socket_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  // Sessions the server sends from now on are not stored (the connection is ending).
  void DetachSessions();
  // Cancels the operations outstanding on the socket; they complete with operation_aborted.
  void CancelIo();
  // Closes the socket now. `tls_clean`: the TLS layer itself did not fail, so the session is
  // marked as shut down and stays resumable (OpenSSL makes a session freed without a
  // close_notify non-resumable; a peer with stateless tickets could still resume it).
  void Close(bool tls_clean);

 private:
  void OnConnected(const boost::system::error_code& ec, const std::string& alpn,
                   const std::shared_ptr<void>& owner);
  void Finish(Status status);

  boost::asio::io_context& ioc_;
  const ClientOptions& options_;
  TlsSessionCache& sessions_;
  ClientTarget target_;
  tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  std::function<void(Status)> done_;
  std::unique_ptr<tcp::socket> socket_;
  TlsSessionCache::Slot session_slot_;  // before tls_: the SSL points to it until freed
  std::unique_ptr<TlsStream> tls_;
  bool finished_ = false;
};

}  // namespace msgin5g::api::http
