// An HTTP server for SBI APIs: HTTP/2 (h2c with prior knowledge, h2 over TLS via ALPN) and
// HTTP/1.1 on the same port, on a pool of io_contexts.
//
// Threads: the acceptor runs on the pool's first io_context; each accepted connection is pinned to
// one io_context (round robin) for life. Handlers run on that thread and must not block; they answer
// through a Responder, from any thread. Listen() binds synchronously so the daemon learns about a busy
// port at startup.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "api/http/http_metrics.h"
#include "api/http/router.h"
#include "common/io_pool.h"
#include "common/status.h"

namespace msgin5g::api::http {

struct ServerOptions {
  // Name of the listener in logs and metrics ("sbi", "admin", "metrics").
  std::string name = "sbi";
  // host:port, or "unix:PATH" for a Unix domain socket (cleartext only; a stale socket file is
  // replaced, one a live process serves is not; removed when the server goes). Port 0 picks a
  // free port (see Server::local_endpoint). Default: 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";
  // Mode of a Unix socket file: who may connect. Default: owner and group.
  unsigned unix_mode = 0660;
  // Protocols accepted. HTTP/2 is detected by the client preface (cleartext) or ALPN (TLS).
  bool enable_http2 = true;
  bool enable_http1 = true;
  // Request body cap; larger bodies get 413. Default: 1 MiB.
  std::size_t max_body_bytes = 1 << 20;
  // Request header list cap (sum of name + value + 32 per field, RFC 9113 §6.5.2); larger: 431.
  std::size_t max_header_list_bytes = 64 << 10;
  // SETTINGS_MAX_CONCURRENT_STREAMS advertised and enforced. Default: 256.
  std::uint32_t max_concurrent_streams = 256;
  // Open connections cap; further connections are closed at accept. Default: 10000.
  std::size_t max_connections = 10000;
  // A connection with no open stream is closed (GOAWAY) after this long. Default: 120 s.
  std::chrono::milliseconds idle_timeout{120000};
  // A request whose headers or body stall this long closes its connection. Default: 30 s.
  std::chrono::milliseconds read_timeout{30000};
  // TLS handshake deadline. Default: 10 s.
  std::chrono::milliseconds handshake_timeout{10000};
  // null: cleartext. Otherwise TLS with ALPN h2 / http/1.1.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // TLS 1.3 external PSKs whose keys are fetched on demand (the CAPIF core function's): when
  // set, the server reads the PSK identities of each ClientHello before the handshake
  // (api/http/client_hello.h) and calls this with them; the handshake starts when `ready` runs
  // (on any thread), so the TLS context's PSK lookup can find what was fetched. `ready` names
  // the identity whose key could not be asked for (empty otherwise): a client that then has no
  // verified identity carries it as Request::peer_psk_unresolved. Not called for a ClientHello
  // without identities.
  using PskReady = std::function<void(std::string unresolved)>;
  std::function<void(std::vector<std::string> identities, PskReady ready)> psk_prefetch;
};

// One accepted connection, whatever its protocol. Owned by shared_ptr (pending async operations
// keep it alive).
class Connection {
 public:
  virtual ~Connection() = default;
  // Starts graceful shutdown: HTTP/2 GOAWAY, HTTP/1.1 "connection: close" after the current
  // response; the connection closes when its in-flight requests are answered. Posted onto the
  // connection's own executor by the server.
  virtual void GracefulShutdown() = 0;
  // Closes at once.
  virtual void Abort() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
};

// Shared by the server and its connections (which may outlive a Server that has been stopped).
class ConnectionTracker {
 public:
  void Add(Connection* c, std::weak_ptr<Connection> w);
  void Remove(Connection* c);
  std::size_t count() const;
  // Posts GracefulShutdown (or Abort) to every open connection.
  void ShutdownAll(bool abort);
  // Waits until no connection is open or `deadline` passes; true if all closed.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline);
  bool draining() const { return draining_.load(); }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> open_;
  std::atomic<bool> draining_{false};
};

// What every session needs: options, routes, metrics, the tracker.
struct ServerContext {
  ServerOptions options;
  const Router* router = nullptr;
  HttpMetrics* metrics = nullptr;  // may be null
  std::shared_ptr<ConnectionTracker> tracker;

  // The TLS context for new connections: options.tls until Server::ReplaceTls; null: cleartext.
  std::shared_ptr<boost::asio::ssl::context> CurrentTls() const;
  mutable std::mutex tls_mu;
  std::shared_ptr<boost::asio::ssl::context> tls_current;  // under tls_mu
};

class Server {
 public:
  Server(IoPool& pool, ServerOptions options, const Router& router, HttpMetrics* metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. InvalidArgument for a bad address, Unavailable if the port is taken.
  Status Listen();
  // Starts accepting (on the pool's first io_context).
  void Start();
  // The bound TCP endpoint (default-constructed on a Unix socket).
  boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }
  // "ip:port" or "unix:PATH"; empty before Listen.
  std::string local_address() const;
  // Stops accepting, shuts connections down gracefully, waits up to `drain` for them to close, then
  // aborts the rest. Returns the number of connections that had to be aborted. Call from a thread
  // that is not one of the pool's.
  std::size_t Shutdown(std::chrono::milliseconds drain);
  std::size_t open_connections() const { return ctx_->tracker->count(); }
  // Serves new connections with `tls` (certificate, key, CA, PSK reloaded on SIGHUP); open
  // connections keep the context they were accepted with. Only for listeners started with TLS.
  Status ReplaceTls(std::shared_ptr<boost::asio::ssl::context> tls);

  // The listener (TCP or Unix), defined in server.cc.
  class Acceptor;

 private:
  IoPool& pool_;
  std::shared_ptr<ServerContext> ctx_;
  std::shared_ptr<Acceptor> acceptor_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

inline constexpr std::string_view kUnixPrefix = "unix:";

// Parses "host:port", "[v6]:port" or ":port" (all interfaces).
Result<boost::asio::ip::tcp::endpoint> ParseEndpoint(const std::string& text);

}  // namespace msgin5g::api::http
