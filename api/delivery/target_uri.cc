#include "api/delivery/target_uri.h"
#include "common/hex.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include <boost/url/parse.hpp>

namespace msgin5g::api {

namespace {

namespace ip = boost::asio::ip;

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 3986 6.2.2: percent-encoded unreserved characters decoded, the other triplets upper case.
// (The parser has already refused malformed triplets.)
std::string NormalizeOctets(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 && HexDigitValue(s[i + 2]) >= 0) {
      auto c = static_cast<unsigned char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2]));
      if (Unreserved(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
      }
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Fully decoded (for a host name, which must then be plain letters, digits, '-', '.', '_').
std::string DecodeAll(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 && HexDigitValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An IPv4-mapped IPv6 address is the IPv4 address it carries (the kernel connects to that).
ip::address Unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

bool InV4(std::uint32_t a, std::uint32_t net, int bits) {
  std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == net;
}

enum class Range { kPublic, kNeverAllowed, kPrivate };

// What a literal address is, for the rules in the header.
Range Classify(const ip::address& address, const char** why) {
  ip::address a = Unmapped(address);
  if (a.is_v4()) {
    std::uint32_t v = a.to_v4().to_uint();
    if (InV4(v, 0x00000000, 8)) {
      *why = "must not be an unspecified (0.0.0.0/8) address";
      return Range::kNeverAllowed;
    }
    if (InV4(v, 0xA9FE0000, 16)) {
      *why = "must not be a link-local (169.254.0.0/16) address";
      return Range::kNeverAllowed;
    }
    if (InV4(v, 0x7F000000, 8)) {
      *why = "must not be a loopback address (delivery.allow_private_targets)";
      return Range::kPrivate;
    }
    if (InV4(v, 0x0A000000, 8) || InV4(v, 0xAC100000, 12) || InV4(v, 0xC0A80000, 16)) {
      *why = "must not be a private address (delivery.allow_private_targets)";
      return Range::kPrivate;
    }
    return Range::kPublic;
  }
  const auto b = a.to_v6().to_bytes();
  if (a.to_v6().is_unspecified()) {
    *why = "must not be the unspecified address ::";
    return Range::kNeverAllowed;
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    *why = "must not be a link-local (fe80::/10) address";
    return Range::kNeverAllowed;
  }
  if (a.to_v6().is_loopback()) {
    *why = "must not be a loopback address (delivery.allow_private_targets)";
    return Range::kPrivate;
  }
  if ((b[0] & 0xfe) == 0xfc) {
    *why = "must not be a private (fc00::/7) address (delivery.allow_private_targets)";
    return Range::kPrivate;
  }
  return Range::kPublic;
}

// Whether connecting to `a` reaches this host: loopback, unspecified, or an interface's address.
bool IsLocalAddress(const ip::address& address) {
  ip::address a = Unmapped(address);
  if (a.is_loopback() || a.is_unspecified()) return true;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET && a.is_v4()) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      found = ntohl(sin->sin_addr.s_addr) == a.to_v4().to_uint();
    } else if (i->ifa_addr->sa_family == AF_INET6 && a.is_v6()) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      ip::address_v6::bytes_type bytes;
      std::copy(std::begin(sin6->sin6_addr.s6_addr), std::end(sin6->sin6_addr.s6_addr), bytes.begin());
      found = ip::address_v6(bytes) == a.to_v6();
    }
  }
  freeifaddrs(list);
  return found;
}

bool HostNameChars(std::string_view h) {
  for (char c : h) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

}  // namespace

void TargetUriPolicy::AddOwnListener(const ip::address& address, std::uint16_t port) {
  std::lock_guard<std::mutex> lock(mu_);
  own_.emplace_back(Unmapped(address), port);
}

bool TargetUriPolicy::IsOwnListener(const ip::address& address, std::uint16_t port) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [listener, p] : own_) {
    if (p != port) continue;
    if (listener == address) return true;
    if (listener.is_unspecified() && IsLocalAddress(address)) return true;
  }
  return false;
}

namespace {

// The host of `u`: `literal` when it is an address (also a name the resolver reads as one, as
// "127.1" or "0x7f000001"), and `host` in the normal form Check stores and compares: an IPv4
// address in dotted decimal, an IPv6 address in brackets, a name decoded and lower case. `host`
// is empty when there is none, or a name with other characters than letters, digits, '-', '.',
// '_'.
struct Host {
  std::string host;
  std::optional<ip::address> literal;
};

Host HostOf(const boost::urls::url_view& u) {
  Host h;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      h.literal = ip::address_v4(u.host_ipv4_address().to_uint());
      break;
    case boost::urls::host_type::ipv6: {
      auto bytes = u.host_ipv6_address().to_bytes();
      ip::address_v6::bytes_type b;
      std::copy(bytes.begin(), bytes.end(), b.begin());
      h.literal = ip::address_v6(b);
      break;
    }
    case boost::urls::host_type::name: {
      std::string name = Lower(DecodeAll(u.encoded_host()));
      if (name.empty() || !HostNameChars(name)) return h;
      std::string bare = name;
      if (bare.back() == '.') bare.pop_back();
      in_addr a4{};
      if (!bare.empty() && inet_aton(bare.c_str(), &a4) != 0) {
        h.literal = ip::address_v4(ntohl(a4.s_addr));
      } else {
        h.host = std::move(name);
      }
      break;
    }
    default:
      return h;
  }
  if (h.literal) {
    h.host = h.literal->is_v6() ? "[" + h.literal->to_string() + "]" : h.literal->to_string();
  }
  return h;
}

// The port of `u` if it has one: 0 when it is out of range.
std::optional<std::uint32_t> PortOf(const boost::urls::url_view& u) {
  if (!u.has_port() || u.port().empty()) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : u.port()) {
    v = v * 10 + static_cast<std::uint32_t>(c - '0');  // the parser allows digits only
    if (v > 65535) return 0;
  }
  return v;
}

}  // namespace

Result<TargetUriPolicy::PlaintextTarget> TargetUriPolicy::ParsePlaintextTarget(
    std::string_view text) {
  const std::string uri = "http://" + std::string(text);
  auto parsed = boost::urls::parse_uri(uri);
  const auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a host or host:port (e.g. as.example.net:8080)");
  };
  if (text.empty() || !parsed) return bad();
  const boost::urls::url_view& u = *parsed;
  if (u.has_userinfo() || !u.encoded_path().empty() || u.has_query() || u.has_fragment()) {
    return bad();
  }
  PlaintextTarget t;
  t.host = HostOf(u).host;
  if (t.host.empty()) return bad();
  if (u.has_port()) {
    auto p = PortOf(u);
    if (!p || *p == 0) return bad();
    t.port = static_cast<std::uint16_t>(*p);
  }
  return t;
}

bool TargetUriPolicy::PlaintextAllowed(const std::string& host, std::uint16_t port) const {
  return std::any_of(plaintext_.begin(), plaintext_.end(), [&](const PlaintextTarget& t) {
    return t.host == host && (!t.port || *t.port == port);
  });
}

Status TargetUriPolicy::CheckTransport(std::string_view uri) const {
  auto parsed = boost::urls::parse_uri(uri);
  if (!parsed) return Status::InvalidArgument("must be an absolute URI");
  const std::string scheme = Lower(parsed->scheme());
  if (scheme == "https" || !require_tls_) return Status::Ok();
  auto port = PortOf(*parsed);
  if (scheme != "http" || (port && *port == 0)) {
    return Status::InvalidArgument("must be an http or https URI");
  }
  const std::string host = HostOf(*parsed).host;
  const auto p = static_cast<std::uint16_t>(port.value_or(80));
  if (PlaintextAllowed(host, p)) return Status::Ok();
  return Status::InvalidArgument("must be https:// while security.mode requires TLS (" + host +
                                 ":" + std::to_string(p) + " is not in delivery.plaintext_targets)");
}

Result<std::string> TargetUriPolicy::Check(std::string_view uri) const {
  if (uri.size() > kMaxBytes) {
    return Status::InvalidArgument("must be at most " + std::to_string(kMaxBytes) + " bytes");
  }
  auto parsed = boost::urls::parse_uri(uri);
  if (!parsed) return Status::InvalidArgument("must be an absolute URI");
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = Lower(u.scheme());
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("must be an http or https URI");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return Status::InvalidArgument("must have a host");
  }
  // Each of these would change the request `{targetUri}/deliver-message` makes: userinfo can
  // disguise the host, a query swallows the suffix into a parameter, a fragment drops it.
  if (u.has_userinfo()) return Status::InvalidArgument("must not contain userinfo");
  if (u.has_query()) return Status::InvalidArgument("must not contain a query");
  if (u.has_fragment()) return Status::InvalidArgument("must not contain a fragment");

  // Port (an empty one, "host:", is the default).
  std::uint16_t port = scheme == "https" ? 443 : 80;
  std::string port_text;
  if (auto p = PortOf(u)) {
    if (*p == 0) return Status::InvalidArgument("must have a port from 1 to 65535");
    port = static_cast<std::uint16_t>(*p);
    port_text = ":" + std::to_string(*p);
  }

  // Host: a literal address, or a name (not resolved; see the header).
  const Host h = HostOf(u);
  const std::string& host = h.host;
  if (host.empty()) return Status::InvalidArgument("must have a DNS name or an IP address as host");
  if (h.literal) {
    const char* why = "";
    Range r = Classify(*h.literal, &why);
    if (r == Range::kNeverAllowed || (r == Range::kPrivate && !allow_private_)) {
      return Status::InvalidArgument(why);
    }
    if (IsOwnListener(Unmapped(*h.literal), port)) {
      return Status::InvalidArgument("must not address one of this server's own listeners");
    }
  } else {
    std::string_view bare = host;
    if (bare.back() == '.') bare.remove_suffix(1);
    if (bare == "localhost" ||
        (bare.size() > 10 && bare.compare(bare.size() - 10, 10, ".localhost") == 0)) {
      // RFC 6761 6.3: always loopback. Judged as 127.0.0.1, kept as written.
      if (!allow_private_) {
        return Status::InvalidArgument(
            "must not be a loopback address (delivery.allow_private_targets)");
      }
      if (IsOwnListener(ip::address_v4::loopback(), port)) {
        return Status::InvalidArgument("must not address one of this server's own listeners");
      }
    }
  }
  if (scheme == "http" && require_tls_ && !PlaintextAllowed(host, port)) {
    return Status::InvalidArgument("must be https:// while security.mode requires TLS (" + host +
                                   ":" + std::to_string(port) +
                                   " is not in delivery.plaintext_targets)");
  }

  // Path: normalised segment by segment; ".." above the root is refused rather than clamped, so
  // that what is stored is what the AS asked for.
  std::vector<std::string> segments;
  std::string_view path = u.encoded_path();
  if (!path.empty()) {
    path.remove_prefix(1);  // with an authority the path is empty or starts with '/'
    for (;;) {
      auto slash = path.find('/');
      std::string seg = NormalizeOctets(path.substr(0, slash));
      if (seg == "..") {
        if (segments.empty()) return Status::InvalidArgument("must not climb above the root with ..");
        segments.pop_back();
      } else if (seg != ".") {
        segments.push_back(std::move(seg));
      }
      if (slash == std::string_view::npos) break;
      path.remove_prefix(slash + 1);
    }
  }
  std::string out = scheme + "://" + host + port_text;
  for (const auto& s : segments) out += "/" + s;
  return out;
}

}  // namespace msgin5g::api
