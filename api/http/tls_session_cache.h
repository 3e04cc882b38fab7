// Client-side TLS session resumption. The HTTP/2 client reconnects to the same ASs and gateways
// all day (a connection lost, a GOAWAY, an idle close); resuming the previous session spares the
// peer's certificate signature and our verification of its chain on every reconnect.
//
// One session is kept per authority ("https://host:port"): the latest one the server issued (TLS
// 1.3 tickets arrive after the handshake, TLS 1.2 ones at its end; OpenSSL hands both to the
// context's new-session callback, which finds the cache through the SSL's ex_data). The key
// includes the host the certificate was checked against, so a session is only offered to the
// authority whose certificate it proved. A handshake that fails drops the authority's session.
//
// Threads: any; a mutex guards the map (touched once per handshake and per ticket).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include <openssl/ssl.h>

namespace msgin5g::api::http {

class TlsSessionCache {
 public:
  // What an SSL is bound to: the cache and the authority. Must outlive the SSL it is attached to.
  struct Slot {
    TlsSessionCache* cache = nullptr;
    std::string key;
  };

  explicit TlsSessionCache(std::size_t max_entries = 1024);
  ~TlsSessionCache();
  TlsSessionCache(const TlsSessionCache&) = delete;
  TlsSessionCache& operator=(const TlsSessionCache&) = delete;

  // Makes a client context hand the sessions it receives to the cache its SSL is attached to
  // (MakeClientTlsContext calls it). A context's own internal store stays off: the cache decides.
  static void Install(SSL_CTX* ctx);

  // Before `ssl`'s handshake: binds it to `key` through `slot` and offers the session stored for
  // `key`, if one is still resumable.
  void Attach(SSL* ssl, Slot* slot, std::string key);
  // Unbinds `ssl`: sessions it receives from now on are not stored (its connection is ending, and
  // the cache may be destroyed before the SSL is).
  static void Detach(SSL* ssl);
  // After a failed handshake: the stored session may be what the server refused.
  void Forget(const std::string& key);

  std::size_t size() const;

 private:
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);
  void Store(const std::string& key, SSL_SESSION* session);  // takes the reference

  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, SSL_SESSION*> sessions_;  // one reference each
};

}  // namespace msgin5g::api::http
