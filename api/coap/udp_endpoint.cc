#include "api/coap/udp_endpoint.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "common/logging.h"

namespace msgin5g::api::coap {
namespace {

constexpr std::size_t kBatch = 32;             // datagrams per recvmmsg / sendmmsg
constexpr std::size_t kMaxDatagram = 65536;
constexpr std::uint16_t kMaxAge = 14;
constexpr std::uint16_t kSize2 = 28;

void AppendMid(std::string* key, std::uint16_t mid) {
  key->push_back(static_cast<char>(mid >> 8));
  key->push_back(static_cast<char>(mid & 0xFF));
}

std::string TokenBytes(std::uint64_t t) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(t >> (8 * (7 - i)));
  return s;
}

std::optional<std::uint64_t> TokenValue(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  std::uint64_t t = 0;
  for (char c : s) t = (t << 8) | static_cast<std::uint8_t>(c);
  return t;
}

// Critical options (odd numbers, RFC 7252 §5.4.1) a request to us may carry: Uri-Host, Uri-Port,
// Uri-Path, Uri-Query, Block2, Block1. Any other critical one is refused with 4.02.
bool KnownCritical(std::uint16_t n) {
  return n == 3 || n == 7 || n == wire::kUriPath || n == 15 || n == wire::kBlock2 ||
         n == wire::kBlock1;
}

std::uint64_t Seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

std::string UdpPeer::Endpoint() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return std::string("coap://[") + host + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
  inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
  return std::string("coap://") + host + ":" + std::to_string(ntohs(a->sin_port));
}

std::string UdpPeer::Key() const {
  std::string k;
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    k.push_back('6');
    k.append(reinterpret_cast<const char*>(&a->sin6_addr), sizeof(a->sin6_addr));
    k.append(reinterpret_cast<const char*>(&a->sin6_port), sizeof(a->sin6_port));
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    k.push_back('4');
    k.append(reinterpret_cast<const char*>(&a->sin_addr), sizeof(a->sin_addr));
    k.append(reinterpret_cast<const char*>(&a->sin_port), sizeof(a->sin_port));
  }
  return k;
}

// --- Exchange ---

void UdpEndpoint::Exchange::Now(UdpAnswer a) {
  if (answered_ || deferred_) return;
  answered_ = true;
  ep_->Answer(*peer_, *m_, std::move(a), false);
}

std::function<void(UdpAnswer)> UdpEndpoint::Exchange::Later() {
  if (answered_ || deferred_) return [](UdpAnswer) {};
  deferred_ = true;
  return [ep = ep_, peer = *peer_, token = std::string(m_->token),
          type = m_->type](UdpAnswer a) mutable {
    // The request as far as the answer needs it: its token and type (not its Message ID: a
    // separate response is a message of its own).
    wire::Message req;
    req.type = type;
    req.token = token;
    ep->Answer(peer, req, std::move(a), true);
  };
}

// --- UdpEndpoint ---

UdpEndpoint::UdpEndpoint(Options options, Handler handler)
    : options_(options), handler_(std::move(handler)) {
  const std::uint64_t s = Seed();
  next_token_ = s | 1;
}

UdpEndpoint::~UdpEndpoint() { Close(); }

Status UdpEndpoint::Open(const std::string& hostport) {
  std::string host, port;
  if (!hostport.empty() && hostport[0] == '[') {
    auto end = hostport.find(']');
    if (end == std::string::npos || end + 1 >= hostport.size() || hostport[end + 1] != ':') {
      return Status::InvalidArgument("'" + hostport + "' is not [IPv6]:PORT");
    }
    host = hostport.substr(1, end - 1);
    port = hostport.substr(end + 2);
  } else {
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) return Status::InvalidArgument("'" + hostport + "' is not HOST:PORT");
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    return Status::InvalidArgument("'" + hostport + "': bad port");
  }
  sockaddr_storage a{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(p));
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(p));
    len = sizeof(*v6);
  } else {
    return Status::InvalidArgument("'" + host + "' is not an IP address");
  }
  fd_ = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Status::Unavailable(std::string("udp socket: ") + std::strerror(errno));
  int buf = 4 << 20;  // bursts of wake-ups (capped by net.core.rmem_max / wmem_max)
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    std::string why = std::strerror(errno);
    close(fd_);
    fd_ = -1;
    return Status::Unavailable("cannot bind udp " + hostport + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  rbufs_.assign(kBatch, std::string(kMaxDatagram, '\0'));
  return Status::Ok();
}

bool UdpEndpoint::ReadSome(std::size_t max_datagrams) {
  if (fd_ < 0) return false;
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  UdpPeer from[kBatch];
  std::size_t read = 0;
  bool more = false;
  while (read < max_datagrams) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov[i] = {rbufs_[i].data(), kMaxDatagram};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i].addr;
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i].addr);
    }
    int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      from[i].len = msgs[i].msg_hdr.msg_namelen;
      // A datagram cut short by the buffer is not a whole message: dropped.
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
      Handle(from[i], std::string_view(rbufs_[static_cast<std::size_t>(i)].data(), msgs[i].msg_len));
    }
    read += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < kBatch) break;
    more = read >= max_datagrams;
  }
  auto done = std::move(finished_);
  finished_.clear();
  for (auto& [o, fn] : done) fn(o);
  Flush();
  return more;
}

void UdpEndpoint::Handle(const UdpPeer& peer, std::string_view d) {
  auto parsed = wire::Parse(d);
  if (!parsed.ok()) {
    // §4.2: a confirmable message that cannot be parsed is rejected with a Reset; others ignored.
    if (auto h = wire::PeekHeader(d); h && h->type == wire::Type::kCon) Transmit(peer, Reset(h->message_id));
    LOG_WARN_LIMITED("coap", "malformed datagram from %s: %s", peer.Endpoint().c_str(),
                     parsed.status().message().c_str());
    return;
  }
  const wire::Message& m = *parsed;
  const int cls = wire::CodeClass(m.code);
  if (m.type == wire::Type::kAck || m.type == wire::Type::kRst) {
    if (m.code == wire::kEmpty || (m.type == wire::Type::kAck && cls >= 2 && cls <= 5)) {
      HandleAckOrReset(peer, m);
    }
    return;
  }
  if (m.code == wire::kEmpty) {
    // An empty CON is a CoAP ping (§4.3): answered with Reset. An empty NON means nothing.
    if (m.type == wire::Type::kCon) Transmit(peer, Reset(m.message_id));
    return;
  }
  if (m.type == wire::Type::kCon) {
    std::string key = peer.Key();
    AppendMid(&key, m.message_id);
    request_hash_ = std::hash<std::string_view>{}(d);
    if (auto it = seen_.find(key); it != seen_.end()) {
      // A duplicate (§4.5): the same answer again, a few times at most. The same ID with other
      // bytes is not a retransmission of anything: dropped.
      Seen& seen = it->second;
      if (seen.request_hash == request_hash_ && seen.replays < options_.max_retransmit &&
          !seen.answer.empty()) {
        ++seen.replays;
        Transmit(peer, seen.answer);
      }
      return;
    }
  }
  if (cls == 0) return HandleRequest(peer, m);
  if (cls >= 2 && cls <= 5) return HandleResponse(peer, m);
  // Classes 1, 6, 7 are reserved (§12.1).
  if (m.type == wire::Type::kCon) Transmit(peer, Reset(m.message_id));
}

void UdpEndpoint::HandleRequest(const UdpPeer& peer, const wire::Message& m) {
  const std::string endpoint = peer.Endpoint();
  // The later blocks of a large answer (RFC 7959 §2.4) come from the copy kept of it.
  if (const auto* b2 = m.Find(wire::kBlock2)) {
    auto blk = wire::DecodeBlock(b2->value);
    if (blk && blk->number > 0) {
      UdpAnswer a;
      auto copy = block2_.find(peer.Key());
      if (copy == block2_.end() ||
          static_cast<std::uint64_t>(blk->number) * blk->size >= copy->second.body.size()) {
        a.code = wire::Code(4, 8);
        a.body = "{\"status\":408,\"cause\":\"INVALID_MSG_FORMAT\",\"detail\":\"no such block\"}";
        return Answer(peer, m, std::move(a), false);
      }
      const std::string& body = copy->second.body;
      const std::size_t off = static_cast<std::size_t>(blk->number) * blk->size;
      wire::Builder b;
      b.type = wire::Type::kAck;
      b.message_id = m.message_id;
      b.code = copy->second.code;
      b.token = std::string(m.token);
      b.AddUint(wire::kContentFormat, wire::kFormatJson);
      const bool more = off + blk->size < body.size();
      b.Add(wire::kBlock2, wire::EncodeBlock({blk->number, more, blk->size}));
      b.payload = body.substr(off, blk->size);
      if (m.type != wire::Type::kCon) {
        b.type = wire::Type::kNon;
        b.message_id = NextMid(peer);
      }
      std::string datagram = wire::Serialize(b);
      if (m.type == wire::Type::kCon) {
        std::string key = peer.Key();
        AppendMid(&key, m.message_id);
        Remember(key, datagram, Clock::now());
      }
      return Transmit(peer, std::move(datagram));
    }
  }
  Request req{peer, endpoint, m.code, {}, std::nullopt, false, 0, m.payload};
  for (const auto& o : m.options) {
    if (o.number == wire::kUriPath) {
      if (!req.path.empty()) req.path.push_back('/');
      req.path.append(o.value);
    } else if (o.number == wire::kBlock1) {
      req.block1 = wire::DecodeBlock(o.value);
      req.bad_block1 = !req.block1.has_value();
    } else if ((o.number & 1) != 0 && !KnownCritical(o.number) && req.bad_option == 0) {
      req.bad_option = o.number;
    }
  }
  Exchange ex(this, &peer, &m);
  handler_(req, ex);
  if (!ex.answered_ && !ex.deferred_) {
    ex.Now({wire::Code(5, 0), "{\"status\":500,\"cause\":\"SYSTEM_FAILURE\"}", -1, std::nullopt});
  }
  if (ex.deferred_ && m.type == wire::Type::kCon) {
    AckEmpty(peer, m.message_id);
  }
}

void UdpEndpoint::Answer(const UdpPeer& peer, const wire::Message& req, UdpAnswer a, bool separate) {
  wire::Builder b;
  if (separate) {
    const bool con = req.type == wire::Type::kCon && txs_.size() < options_.max_outstanding;
    b.type = con ? wire::Type::kCon : wire::Type::kNon;
    b.message_id = NextMid(peer);
  } else if (req.type == wire::Type::kCon) {
    b.type = wire::Type::kAck;
    b.message_id = req.message_id;
  } else {
    b.type = wire::Type::kNon;
    b.message_id = NextMid(peer);
  }
  b.code = a.code;
  b.token = std::string(req.token);
  if (!a.body.empty()) b.AddUint(wire::kContentFormat, wire::kFormatJson);
  if (a.max_age >= 0) b.AddUint(kMaxAge, static_cast<std::uint32_t>(a.max_age));
  if (a.block1) b.Add(wire::kBlock1, wire::EncodeBlock(*a.block1));
  auto bs = static_cast<std::uint32_t>(options_.block_size);
  if (const auto* o = req.Find(wire::kBlock2)) {  // early negotiation (RFC 7959 §2.4): NUM 0
    if (auto blk = wire::DecodeBlock(o->value); blk && blk->number == 0 && blk->size < bs) bs = blk->size;
  }
  if (a.body.size() > bs) {
    // Block2: the first block now, the rest from a copy when the peer asks for it.
    b.Add(wire::kBlock2, wire::EncodeBlock({0, true, bs}));
    b.AddUint(kSize2, static_cast<std::uint32_t>(a.body.size()));
    b.payload = a.body.substr(0, bs);
    const auto now = Clock::now();
    const std::string pkey = peer.Key();
    Copy& copy = block2_[pkey];  // one per peer: a newer large answer replaces the older
    block2_bytes_ = block2_bytes_ - copy.body.size() + a.body.size();
    copy = Copy{std::move(a.body), a.code, now + ExchangeLifetime()};
    block2_order_.emplace_back(copy.expires, pkey);
    // Bounded by count and bytes, and the order list too (a peer refreshing its copy adds to it).
    while (!block2_order_.empty() &&
           (block2_.size() > options_.max_block2_copies || block2_bytes_ > options_.max_block2_bytes ||
            block2_order_.size() > 2 * options_.max_block2_copies)) {
      auto& [when, k] = block2_order_.front();
      if (auto it = block2_.find(k); it != block2_.end() && it->second.expires == when) {
        block2_bytes_ -= it->second.body.size();
        block2_.erase(it);
      }
      block2_order_.pop_front();
    }
  } else {
    b.payload = std::move(a.body);
  }
  if (separate && b.type == wire::Type::kCon) {
    Tx tx;
    tx.peer = peer;
    StartTx(std::move(tx), std::move(b));
    return;
  }
  std::string datagram = wire::Serialize(b);
  if (!separate && req.type == wire::Type::kCon) {
    std::string key = peer.Key();
    AppendMid(&key, req.message_id);
    Remember(key, datagram, Clock::now());
  }
  Transmit(peer, std::move(datagram));
}

void UdpEndpoint::HandleAckOrReset(const UdpPeer& peer, const wire::Message& m) {
  std::string key = peer.Key();
  AppendMid(&key, m.message_id);
  auto found = by_mid_.find(key);
  if (found == by_mid_.end()) return;  // late or unknown: nothing waits for it
  const std::uint64_t id = found->second;
  Tx& tx = txs_.at(id);
  if (m.type == wire::Type::kRst) return Finish(id, {false, 0, true});
  if (m.code == wire::kEmpty) {
    if (tx.token == 0) return Finish(id, {true, 0, false});  // our separate response arrived
    tx.acked = true;  // the response follows on its own
    by_mid_.erase(found);
    Arm(id, Clock::now() + options_.separate_timeout);
    return;
  }
  if (TokenValue(m.token) != tx.token) return;
  HandleResponse(peer, m);
}

void UdpEndpoint::HandleResponse(const UdpPeer& peer, const wire::Message& m) {
  auto token = TokenValue(m.token);
  auto found = token ? by_token_.find(*token) : by_token_.end();
  if (found == by_token_.end() || txs_.at(found->second).peer.Key() != peer.Key()) {
    if (m.type == wire::Type::kCon) Transmit(peer, Reset(m.message_id));  // nobody waits for it
    return;
  }
  const std::uint64_t id = found->second;
  if (m.type == wire::Type::kCon) {
    AckEmpty(peer, m.message_id);
  }
  Tx& tx = txs_.at(id);
  if (m.code == wire::kContinue && !tx.body.empty()) {
    std::size_t next = static_cast<std::size_t>(tx.block + 1) * tx.block_size;
    if (next < tx.body.size()) {
      // A peer may ask for smaller blocks in its 2.31 (RFC 7959 §2.5): what it took so far
      // stays taken, the rest goes in its size.
      if (const auto* o = m.Find(wire::kBlock1)) {
        if (auto blk = wire::DecodeBlock(o->value); blk && blk->size < tx.block_size) {
          tx.block_size = blk->size;
        }
      }
      tx.block = static_cast<std::uint32_t>(next / tx.block_size);
      return SendBlock(id);
    }
  }
  Finish(id, {true, m.code, false});
}

void UdpEndpoint::Send(const UdpPeer& peer, std::string body, OutcomeFn done) {
  Tx tx;
  tx.peer = peer;
  tx.token = next_token_++;
  if (tx.token == 0) tx.token = next_token_++;  // 0 marks a separate response
  tx.done = std::move(done);
  if (body.size() > options_.block_size) {
    tx.body = std::move(body);
    tx.block_size = static_cast<std::uint32_t>(options_.block_size);
    const std::uint64_t id = next_tx_++;
    by_token_[tx.token] = id;
    txs_.emplace(id, std::move(tx));
    return SendBlock(id);
  }
  wire::Builder b;
  b.type = wire::Type::kCon;
  b.code = wire::kPost;
  b.Add(wire::kUriPath, "msgin5g").AddUint(wire::kContentFormat, wire::kFormatJson);
  b.payload = std::move(body);
  StartTx(std::move(tx), std::move(b));
}

void UdpEndpoint::SendBlock(std::uint64_t id) {
  Tx& tx = txs_.at(id);
  if (!tx.key.empty()) {
    if (auto it = by_mid_.find(tx.key); it != by_mid_.end() && it->second == id) by_mid_.erase(it);
  }
  const std::uint32_t bs = tx.block_size;
  const std::size_t off = static_cast<std::size_t>(tx.block) * bs;
  wire::Builder b;
  b.type = wire::Type::kCon;
  b.code = wire::kPost;
  b.message_id = NextMid(tx.peer);
  b.token = TokenBytes(tx.token);
  b.Add(wire::kUriPath, "msgin5g").AddUint(wire::kContentFormat, wire::kFormatJson);
  b.Add(wire::kBlock1, wire::EncodeBlock({tx.block, off + bs < tx.body.size(), bs}));
  if (tx.block == 0) b.AddUint(wire::kSize1, static_cast<std::uint32_t>(tx.body.size()));
  b.payload = tx.body.substr(off, bs);
  tx.mid = b.message_id;
  tx.key = tx.peer.Key();
  AppendMid(&tx.key, tx.mid);
  tx.datagram = wire::Serialize(b);
  tx.retransmits = 0;
  tx.acked = false;
  by_mid_[tx.key] = id;
  Transmit(tx.peer, tx.datagram);
  Arm(id, Clock::now() + Timeout(0));
}

std::uint64_t UdpEndpoint::StartTx(Tx tx, wire::Builder b) {
  const std::uint64_t id = next_tx_++;
  b.message_id = NextMid(tx.peer);
  if (tx.token != 0) b.token = TokenBytes(tx.token);
  tx.mid = b.message_id;
  tx.key = tx.peer.Key();
  AppendMid(&tx.key, tx.mid);
  tx.datagram = wire::Serialize(b);
  by_mid_[tx.key] = id;
  if (tx.token != 0) by_token_[tx.token] = id;
  Transmit(tx.peer, tx.datagram);
  auto [it, fresh] = txs_.emplace(id, std::move(tx));
  (void)fresh;
  Arm(id, Clock::now() + Timeout(0));
  return id;
}

void UdpEndpoint::Arm(std::uint64_t id, Clock::time_point when) {
  txs_.at(id).deadline = when;
  timers_.emplace(when, id);
}

void UdpEndpoint::Finish(std::uint64_t id, Outcome o) {
  auto it = txs_.find(id);
  if (it == txs_.end()) return;
  Tx tx = std::move(it->second);
  txs_.erase(it);
  if (auto m = by_mid_.find(tx.key); m != by_mid_.end() && m->second == id) by_mid_.erase(m);
  if (tx.token != 0) by_token_.erase(tx.token);
  if (tx.done) finished_.emplace_back(o, std::move(tx.done));
}

void UdpEndpoint::RunTimers(Clock::time_point now) {
  ExpireSeen(now);
  while (!timers_.empty() && timers_.top().first <= now) {
    auto [when, id] = timers_.top();
    timers_.pop();
    auto it = txs_.find(id);
    if (it == txs_.end() || it->second.deadline != when) continue;  // finished or re-armed
    Tx& tx = it->second;
    if (tx.acked || tx.retransmits >= options_.max_retransmit) {
      Finish(id, {false, 0, false, tx.acked});
      continue;
    }
    ++tx.retransmits;
    Transmit(tx.peer, tx.datagram);
    Arm(id, now + Timeout(tx.retransmits));
  }
  auto done = std::move(finished_);
  finished_.clear();
  for (auto& [o, fn] : done) fn(o);
  Flush();
}

UdpEndpoint::Clock::time_point UdpEndpoint::NextDeadline() const {
  return timers_.empty() ? Clock::time_point::max() : timers_.top().first;
}

void UdpEndpoint::Remember(const std::string& key, std::string answer, Clock::time_point now) {
  auto [it, fresh] = seen_.try_emplace(key);
  seen_bytes_ = seen_bytes_ - it->second.answer.size() + answer.size();
  it->second.answer = std::move(answer);
  if (!fresh) return;
  it->second.expires = now + ExchangeLifetime();
  it->second.request_hash = request_hash_;
  seen_order_.emplace_back(it->second.expires, key);
  while (!seen_order_.empty() &&
         (seen_.size() > options_.max_remembered || seen_bytes_ > options_.max_remembered_bytes)) {
    auto& [when, k] = seen_order_.front();
    if (auto old = seen_.find(k); old != seen_.end() && old->second.expires == when) {
      seen_bytes_ -= old->second.answer.size();
      seen_.erase(old);
    }
    seen_order_.pop_front();
  }
}

std::uint16_t UdpEndpoint::NextMid(const UdpPeer& peer) {
  std::string key = peer.Key();
  auto it = mids_.find(key);
  if (it == mids_.end()) {
    // A peer new to us (or forgotten) starts at a random ID: whatever it saw from us before is
    // then as unlikely to come again as any other ID.
    static thread_local std::minstd_rand rng(static_cast<unsigned>(Seed()));
    const auto expires = Clock::now() + ExchangeLifetime();
    it = mids_.emplace(key, PeerMid{static_cast<std::uint16_t>(rng()), expires}).first;
    mids_order_.emplace_back(expires, key);
    while (mids_.size() > options_.max_mid_peers && !mids_order_.empty()) {
      auto& [when, k] = mids_order_.front();
      if (auto old = mids_.find(k); old != mids_.end() && old->second.expires == when) mids_.erase(old);
      mids_order_.pop_front();
    }
    it = mids_.find(key);
  }
  // Never the ID of one of our messages to this peer that still waits for its ACK.
  std::uint16_t mid = it->second.next++;
  for (int i = 0; i < 8; ++i) {
    std::string k = key;
    AppendMid(&k, mid);
    if (by_mid_.count(k) == 0) break;
    mid = it->second.next++;
  }
  return mid;
}

void UdpEndpoint::ExpireSeen(Clock::time_point now) {
  while (!seen_order_.empty() && seen_order_.front().first <= now) {
    auto& [when, k] = seen_order_.front();
    if (auto it = seen_.find(k); it != seen_.end() && it->second.expires == when) {
      seen_bytes_ -= it->second.answer.size();
      seen_.erase(it);
    }
    seen_order_.pop_front();
  }
  while (!block2_order_.empty() && block2_order_.front().first <= now) {
    auto& [when, k] = block2_order_.front();
    if (auto it = block2_.find(k); it != block2_.end() && it->second.expires == when) {
      block2_bytes_ -= it->second.body.size();
      block2_.erase(it);
    }
    block2_order_.pop_front();
  }
  while (!mids_order_.empty() && mids_order_.front().first <= now) {
    auto& [when, k] = mids_order_.front();
    if (auto it = mids_.find(k); it != mids_.end() && it->second.expires == when) mids_.erase(it);
    mids_order_.pop_front();
  }
}

// An empty ACK of the peer's confirmable message `mid`, remembered as its answer (a duplicate of
// it gets the same ACK).
void UdpEndpoint::AckEmpty(const UdpPeer& peer, std::uint16_t mid) {
  wire::Builder ack;
  ack.type = wire::Type::kAck;
  ack.message_id = mid;
  std::string datagram = wire::Serialize(ack);
  std::string key = peer.Key();
  AppendMid(&key, mid);
  Remember(key, datagram, Clock::now());
  Transmit(peer, std::move(datagram));
}

std::string UdpEndpoint::Reset(std::uint16_t mid) const {
  wire::Builder b;
  b.type = wire::Type::kRst;
  b.message_id = mid;
  return wire::Serialize(b);
}

// RFC 7252 §4.8.2: MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY (100 s) + PROCESSING_DELAY (ACK_TIMEOUT).
UdpEndpoint::Clock::duration UdpEndpoint::ExchangeLifetime() const {
  const auto span = options_.ack_timeout * ((1 << options_.max_retransmit) - 1) * 3 / 2;
  return span + std::chrono::seconds(200) + options_.ack_timeout;
}

// The n-th wait for an ACK: ACK_TIMEOUT doubled per retransmission, times a factor in [1, 1.5)
// (§4.2) so that many peers' retransmissions do not line up.
UdpEndpoint::Clock::duration UdpEndpoint::Timeout(int retransmits) const {
  static thread_local std::minstd_rand rng(static_cast<unsigned>(Seed()));
  const auto base = std::chrono::duration_cast<std::chrono::microseconds>(options_.ack_timeout);
  const auto jitter = std::uniform_int_distribution<std::int64_t>(0, base.count() / 2)(rng);
  return (base + std::chrono::microseconds(jitter)) * (1 << retransmits);
}

void UdpEndpoint::Transmit(const UdpPeer& peer, std::string datagram) {
  out_.emplace_back(peer, std::move(datagram));
}

void UdpEndpoint::Flush() {
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < out_.size()) {
    const std::size_t n = std::min(kBatch, out_.size() - sent);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    for (std::size_t i = 0; i < n; ++i) {
      auto& [peer, d] = out_[sent + i];
      iov[i] = {d.data(), d.size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &peer.addr;
      msgs[i].msg_hdr.msg_namelen = peer.len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd_, msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (r <= 0) {
      if (r < 0 && errno != EAGAIN && errno != ENOBUFS) {
        // This datagram cannot go (e.g. an address the route refuses): the next may.
        LOG_WARN_LIMITED("coap", "udp send to %s failed: %s", out_[sent].first.Endpoint().c_str(),
                         std::strerror(errno));
        ++sent;
        continue;
      }
      // The socket buffer is full: what is left is dropped, CoAP's retransmissions cover it.
      LOG_WARN_LIMITED("coap", "udp send buffer full: %zu datagrams dropped", out_.size() - sent);
      break;
    }
    sent += static_cast<std::size_t>(r);
  }
  out_.clear();
}

void UdpEndpoint::Close() {
  std::vector<OutcomeFn> dones;
  for (auto& [id, tx] : txs_) {
    if (tx.done) dones.push_back(std::move(tx.done));
  }
  txs_.clear();
  by_mid_.clear();
  by_token_.clear();
  timers_ = {};
  seen_.clear();
  seen_order_.clear();
  seen_bytes_ = 0;
  mids_.clear();
  mids_order_.clear();
  block2_bytes_ = 0;
  block2_.clear();
  block2_order_.clear();
  out_.clear();
  finished_.clear();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  for (auto& d : dones) d({false, 0, false});
}

}  // namespace msgin5g::api::coap
