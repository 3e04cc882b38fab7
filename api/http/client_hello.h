// Reads the PSK identities a TLS 1.3 ClientHello offers (RFC 8446 §4.2.11, the pre_shared_key
// extension) from the first bytes a client sent, before any TLS library sees them.
//
// Why: OpenSSL asks for an external PSK's key from a synchronous callback in the middle of the
// handshake, and the key of an invoker the CAPIF core function onboarded is only known by asking
// the CCF over the network. Peeking at the ClientHello lets the server fetch the key first and
// start the handshake once it is cached, without blocking an I/O thread. TLS 1.2 PSK suites name
// the identity only in the ClientKeyExchange, after the server's first flight: they cannot be
// served this way.
//
// The input is untrusted: every length is checked against what is there, and the parser never
// reads beyond `bytes`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace msgin5g::api::http {

enum class ClientHelloScan {
  kNeedMore,     // a well-formed prefix of a ClientHello: more bytes may complete it
  kDone,         // a whole ClientHello: `identities` holds what its pre_shared_key offers
  kNotAHello,    // not a TLS handshake record carrying a ClientHello, or malformed
};

// `bytes` are the first bytes of the connection (TLS records). At most `max_identities` are kept.
ClientHelloScan ScanClientHelloPskIdentities(std::string_view bytes,
                                             std::vector<std::string>* identities,
                                             std::size_t max_identities = 4);

}  // namespace msgin5g::api::http
