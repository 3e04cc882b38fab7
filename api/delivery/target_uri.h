// Where deliveries to an application server may go. An AS names its own callback address
// (MSGS_ASRegistration targetUri) and msgin5gd then POSTs to `{targetUri}/deliver-message` from
// inside the operator's network: without limits that is a request forgery tool (cloud metadata at
// 169.254.169.254, our own admin API, services on loopback). The same check runs at registration
// (400, nothing stored) and again before every delivery (a registration stored before these checks,
// or under a laxer configuration, fails permanently instead of being sent).
//
// Accepted: http or https (any case), a host, an optional port 1-65535, a path; no userinfo, no
// query, no fragment (each would change what `{targetUri}/deliver-message` means), no path that
// climbs above the root with "..". The normal form stored and used: scheme and host lower case, an
// IPv4 host in dotted decimal (also when written 0x7f.1 or 2130706433, as the resolver would read
// it), percent-encoded unreserved characters decoded, "." and ".." segments removed.
//
// Refused addresses (literal IPs only: host names are not resolved here, neither at registration
// nor before delivery — a name that resolves to a refused address is not caught):
//   always: link-local 169.254.0.0/16 and fe80::/10, unspecified 0.0.0.0/8 and ::, and any of our
//           own listeners (an unspecified listener address stands for every local address);
//   unless private targets are allowed: loopback 127.0.0.0/8 and ::1 (and the name "localhost"),
//           10/8, 172.16/12, 192.168/16, fc00::/7.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.
//
// Transport: with TLS required (msgin5gd: security.mode tls or oauth2) an http:// URI is refused
// unless its host, or host and port, is listed as a plaintext target (delivery.plaintext_targets):
// the SBI security of TS 33.501 and of the change request's clause 10 protects both directions,
// and a callback in clear would carry every message and, with OAuth2, our bearer token.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/status.h"

namespace msgin5g::api {

class TargetUriPolicy {
 public:
  // Longest targetUri accepted (it is stored with the registration and sent on every delivery).
  static constexpr std::size_t kMaxBytes = 2048;

  // A destination that http:// may name while TLS is required: a host (any port) or a host and
  // port, in the normal form Check compares with (see ParsePlaintextTarget).
  struct PlaintextTarget {
    std::string host;
    std::optional<std::uint16_t> port;
  };

  // "host", "host:port", "a.b.c.d[:port]" or "[v6][:port]" (names compared case-insensitively,
  // addresses in their normal form, so "0x7f.1" is 127.0.0.1); InvalidArgument otherwise.
  static Result<PlaintextTarget> ParsePlaintextTarget(std::string_view text);

  // `allow_private`: loopback and private ranges may be targets (msgin5gd: true with
  // security.mode off, else delivery.allow_private_targets). `require_tls`: http:// only to the
  // `plaintext` targets (msgin5gd: security.mode tls or oauth2, delivery.plaintext_targets).
  explicit TargetUriPolicy(bool allow_private = true, bool require_tls = false,
                           std::vector<PlaintextTarget> plaintext = {})
      : allow_private_(allow_private), require_tls_(require_tls), plaintext_(std::move(plaintext)) {}

  // One of our own listeners; targets at it are refused. Thread-safe: msgin5gd adds the bound
  // addresses once it listens, while deliveries may already be checked.
  void AddOwnListener(const boost::asio::ip::address& address, std::uint16_t port);

  // The normal form of `uri`, or InvalidArgument with the reason (worded to follow "/targetUri").
  Result<std::string> Check(std::string_view uri) const;

  // The transport rule alone, for destinations the configuration names (gateways' api_root, the
  // token endpoint), which the address rules do not apply to: OK, or InvalidArgument saying why.
  Status CheckTransport(std::string_view uri) const;

 private:
  bool IsOwnListener(const boost::asio::ip::address& address, std::uint16_t port) const;
  bool PlaintextAllowed(const std::string& host, std::uint16_t port) const;

  const bool allow_private_;
  const bool require_tls_;
  const std::vector<PlaintextTarget> plaintext_;
  mutable std::mutex mu_;
  std::vector<std::pair<boost::asio::ip::address, std::uint16_t>> own_;
};

}  // namespace msgin5g::api
