// Session factories. The listener decides the protocol (preface sniffing or ALPN) and hands the
// stream, plus any bytes it already read, to one of these. Both are instantiated for
// boost::asio::ip::tcp::socket, boost::asio::ssl::stream<tcp::socket> and
// boost::asio::local::stream_protocol::socket (Unix domain sockets).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/http/server.h"

namespace msgin5g::api::http {

// What the listener learnt about the peer; copied into every Request of the connection.
struct PeerInfo {
  bool tls = false;
  std::string address;   // "ip:port"
  std::string identity;  // verified TLS identity (see Request::peer_identity)
  bool psk = false;
  // A TLS-PSK identity the ClientHello offered whose key could not be fetched because whoever
  // holds it could not be asked (see Request::peer_psk_unresolved).
  std::string psk_unresolved;
  std::int64_t uid = -1;  // the peer process's user id on a Unix socket (SO_PEERCRED); -1 on TCP
};

template <class Stream>
void StartH2ServerSession(std::shared_ptr<const ServerContext> ctx, Stream stream,
                          std::string initial_bytes, PeerInfo peer);

template <class Stream>
void StartH1ServerSession(std::shared_ptr<const ServerContext> ctx, Stream stream,
                          std::string initial_bytes, PeerInfo peer);

}  // namespace msgin5g::api::http
