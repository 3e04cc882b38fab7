#include "tools/msgin5g-ue/swarm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/json.hpp>

#include "api/coap/wire.h"

namespace msgin5g::ue {
namespace {

namespace json = boost::json;
namespace wire = api::coap::wire;
using Clock = std::chrono::steady_clock;

// UE j of a socket sends from 127.1.0.0 + j, skipping host bytes 0 and 255: 254 per /24.
constexpr std::uint32_t kBase = 0x7F010000;
std::uint32_t AddressOf(std::size_t j) {
  return kBase + static_cast<std::uint32_t>((j / 254) * 256 + j % 254 + 1);
}
bool IndexOf(std::uint32_t a, std::size_t* j) {
  if (a < kBase || a >= 0x7F800000) return false;
  std::uint32_t low = a & 0xFF;
  if (low == 0 || low == 255) return false;
  *j = ((a - kBase) >> 8) * 254 + (low - 1);
  return true;
}

// RFC 7252 defaults for the REG's retransmission.
constexpr auto kAckTimeout = std::chrono::milliseconds(2000);
constexpr int kMaxRetransmit = 4;
constexpr std::size_t kBatch = 64;  // datagrams per recvmmsg / sendmmsg

enum class Phase : std::uint8_t { kIdle, kRegSent, kRegAcked, kRegistered, kFailed };

struct Ue {
  Phase phase = Phase::kIdle;
  std::uint8_t retransmits = 0;
  std::uint16_t mid = 0;             // our REG's Message ID
  std::uint16_t last_server_mid = 0;  // the server's last request, and what we answered it
  bool answered_any = false;
  std::string last_answer;
  std::string blocks;  // a Block1 body being put together
  Clock::time_point deadline{}, started{}, last_received{};
  std::uint32_t received = 0, duplicates = 0;
  std::unordered_set<std::string> seen;
};

struct Datagram {
  std::uint32_t source;  // the UE's address
  std::string bytes;
};

class Swarm {
 public:
  explicit Swarm(const SwarmOptions& o) : o_(o), ues_(static_cast<std::size_t>(o.ues)) {}

  int Run() {
    if (!Setup()) return 2;
    const auto t0 = Clock::now();
    last_activity_ = t0;
    std::size_t next = 0;
    const std::size_t window = static_cast<std::size_t>(std::max(1, o_.window));
    for (;;) {
      while (next < ues_.size() && next - done_regs_ < window) StartReg(next++);
      Flush();
      Poll(next < ues_.size() || done_regs_ < ues_.size() ? 5 : 20);
      Timers();
      Flush();
      if (next == ues_.size() && done_regs_ == ues_.size() && AllDrained()) break;
      if (Clock::now() - last_activity_ > std::chrono::seconds(o_.seconds)) break;
    }
    return Report(Clock::now() - t0);
  }

 private:
  bool Setup() {
    auto colon = o_.server.rfind(':');
    server_.sin_family = AF_INET;
    if (colon == std::string::npos ||
        inet_pton(AF_INET, o_.server.substr(0, colon).c_str(), &server_.sin_addr) != 1) {
      std::fprintf(stderr, "msgin5g-ue swarm: --server must be IPv4 HOST:PORT\n");
      return false;
    }
    server_.sin_port = htons(static_cast<std::uint16_t>(std::atoi(o_.server.c_str() + colon + 1)));
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    const int n = std::max(1, o_.sockets);
    for (int i = 0; i < n; ++i) {
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int one = 1, buf = 8 << 20;
      setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));  // root; else the default
      setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
      sockaddr_in any{};
      any.sin_family = AF_INET;
      any.sin_addr.s_addr = htonl(INADDR_ANY);  // replies to every 127.1.x.y:port land here
      if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) {
        std::perror("msgin5g-ue swarm: socket");
        return false;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
      fds_.push_back(fd);
    }
    out_.resize(fds_.size());
    return true;
  }

  std::size_t SocketOf(std::size_t ue) const { return ue % fds_.size(); }

  std::string Token(std::size_t ue) const {
    std::string t(4, '\0');
    for (int i = 0; i < 4; ++i) t[static_cast<std::size_t>(i)] = static_cast<char>(ue >> (8 * i));
    return t;
  }

  void Send(std::size_t ue, std::string bytes) {
    out_[SocketOf(ue)].push_back(Datagram{AddressOf(ue / fds_.size()), std::move(bytes)});
  }

  std::string RegDatagram(std::size_t ue) {
    json::object body{{"msgType", "REG"}, {"ueSvcId", o_.prefix + std::to_string(ue)}};
    if (o_.max_seg > 0) body["maxSegSize"] = o_.max_seg;
    wire::Builder b;
    b.type = wire::Type::kCon;
    b.code = wire::kPost;
    b.message_id = ues_[ue].mid;
    b.token = Token(ue);
    b.Add(wire::kUriPath, "msgin5g").AddUint(wire::kContentFormat, wire::kFormatJson);
    b.payload = json::serialize(body);
    return wire::Serialize(b);
  }

  void StartReg(std::size_t ue) {
    Ue& u = ues_[ue];
    u.phase = Phase::kRegSent;
    u.mid = static_cast<std::uint16_t>(ue * 7 + 1);
    u.retransmits = 0;
    u.started = Clock::now();
    u.deadline = u.started + kAckTimeout;
    in_flight_.push_back(ue);
    Send(ue, RegDatagram(ue));
  }

  void RegDone(std::size_t ue, bool ok) {
    Ue& u = ues_[ue];
    if (u.phase == Phase::kRegistered || u.phase == Phase::kFailed) return;
    u.phase = ok ? Phase::kRegistered : Phase::kFailed;
    if (!ok) ++refused_;
    ++done_regs_;
  }

  // REGs not yet acknowledged: retransmitted with a doubling timeout, given up after the last.
  void Timers() {
    const auto now = Clock::now();
    std::size_t keep = 0;
    for (std::size_t ue : in_flight_) {
      Ue& u = ues_[ue];
      if (u.phase == Phase::kRegSent && now >= u.deadline) {
        if (u.retransmits >= kMaxRetransmit) {
          RegDone(ue, false);
          continue;
        }
        ++u.retransmits;
        u.deadline = now + kAckTimeout * (1 << u.retransmits);
        Send(ue, RegDatagram(ue));
      }
      if (u.phase == Phase::kRegSent || u.phase == Phase::kRegAcked) in_flight_[keep++] = ue;
    }
    in_flight_.resize(keep);
  }

  void Poll(int timeout_ms) {
    epoll_event events[64];
    int n = epoll_wait(epoll_, events, 64, timeout_ms);
    for (int i = 0; i < n; ++i) Receive(events[i].data.u32);
  }

  void Receive(std::size_t s) {
    static constexpr std::size_t kMax = 65536;
    if (bufs_.empty()) bufs_.assign(kBatch, std::string(kMax, '\0'));
    auto& bufs = bufs_;
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    sockaddr_in from[kBatch];
    alignas(cmsghdr) char control[kBatch][CMSG_SPACE(sizeof(in_pktinfo))];
    for (;;) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i].data(), kMax};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        msgs[i].msg_hdr.msg_control = control[i];
        msgs[i].msg_hdr.msg_controllen = sizeof(control[i]);
      }
      int n = recvmmsg(fds_[s], msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        std::uint32_t to = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr;
             c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof(info));
            to = ntohl(info.ipi_addr.s_addr);
          }
        }
        std::size_t j = 0;
        if (!IndexOf(to, &j)) continue;
        const std::size_t ue = j * fds_.size() + s;
        if (ue >= ues_.size()) continue;
        Handle(ue, std::string_view(bufs[static_cast<std::size_t>(i)].data(), msgs[i].msg_len));
      }
      last_activity_ = Clock::now();
      if (static_cast<std::size_t>(n) < kBatch) return;
    }
  }

  void Handle(std::size_t ue, std::string_view d) {
    auto parsed = wire::Parse(d);
    if (!parsed.ok()) return;
    const wire::Message& m = *parsed;
    Ue& u = ues_[ue];
    const bool response = wire::CodeClass(m.code) >= 2;
    if ((m.type == wire::Type::kAck || m.type == wire::Type::kRst) && m.message_id == u.mid &&
        u.phase == Phase::kRegSent) {
      if (m.type == wire::Type::kRst) return RegDone(ue, false);
      if (m.code == wire::kEmpty) {
        u.phase = Phase::kRegAcked;  // the answer follows as a separate response
        return;
      }
      return RegDone(ue, wire::CodeClass(m.code) == 2);
    }
    if (response && m.type != wire::Type::kAck && m.token == Token(ue)) {
      if (m.type == wire::Type::kCon) Send(ue, EmptyAck(m.message_id));
      return RegDone(ue, wire::CodeClass(m.code) == 2);
    }
    if (m.code == wire::kPost && m.type != wire::Type::kAck && m.type != wire::Type::kRst) {
      if (m.type == wire::Type::kCon && u.answered_any && m.message_id == u.last_server_mid) {
        Send(ue, u.last_answer);  // a retransmission: the same answer again
        return;
      }
      std::string answer = Serve(ue, m);
      if (m.type == wire::Type::kCon) {
        u.answered_any = true;
        u.last_server_mid = m.message_id;
        u.last_answer = answer;
      }
      Send(ue, std::move(answer));
    }
  }

  static std::string EmptyAck(std::uint16_t mid) {
    wire::Builder b;
    b.type = wire::Type::kAck;
    b.message_id = mid;
    return wire::Serialize(b);
  }

  // The server's POST /msgin5g: the answer (piggybacked on the ACK of a CON).
  std::string Serve(std::size_t ue, const wire::Message& m) {
    Ue& u = ues_[ue];
    wire::Builder b;
    b.type = m.type == wire::Type::kCon ? wire::Type::kAck : wire::Type::kNon;
    b.message_id = m.type == wire::Type::kCon ? m.message_id : static_cast<std::uint16_t>(++nonce_);
    b.token = std::string(m.token);
    std::string body;
    if (const auto* opt = m.Find(wire::kBlock1)) {
      auto blk = wire::DecodeBlock(opt->value);
      if (!blk || blk->number * blk->size != u.blocks.size()) {
        u.blocks.clear();
        b.code = wire::Code(4, 8);  // Request Entity Incomplete
        return wire::Serialize(b);
      }
      u.blocks.append(m.payload);
      if (blk->more) {
        b.code = wire::kContinue;
        b.Add(wire::kBlock1, std::string(opt->value));
        return wire::Serialize(b);
      }
      b.Add(wire::kBlock1, std::string(opt->value));
      body.swap(u.blocks);
    } else {
      body = std::string(m.payload);
    }
    std::string ids;
    std::size_t count = 0;
    auto take = [&](const json::object& msg) {
      const auto* id = msg.if_contains("msgId");
      std::string msg_id = id != nullptr && id->is_string() ? std::string(id->as_string()) : "";
      if (!ids.empty()) ids += ',';
      ids += json::serialize(json::value(msg_id));
      ++count;
      if (!u.seen.insert(std::move(msg_id)).second) {
        ++u.duplicates;
      } else {
        ++u.received;
        u.last_received = Clock::now();
      }
    };
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      const auto* type = o.if_contains("msgType");
      const bool control = type != nullptr && type->is_string() &&
                           (type->as_string() == "SEGREC" || type->as_string() == "SEGCONFIR");
      if (const auto* agg = o.if_contains("aggregated"); agg != nullptr && agg->is_array()) {
        for (const auto& item : agg->as_array()) {
          if (item.is_object()) take(item.as_object());
        }
      } else if (!control) {
        take(o);
      }
    }
    b.code = wire::kChanged;
    b.AddUint(wire::kContentFormat, wire::kFormatJson);
    b.payload = count > 1 ? "{\"msgType\":\"MSGRESP\",\"msgIds\":[" + ids + "]}"
                          : "{\"msgType\":\"MSGRESP\",\"msgId\":" + (ids.empty() ? "\"\"" : ids) + "}";
    return wire::Serialize(b);
  }

  // Sends what was queued, per socket, in sendmmsg batches, each datagram from its UE's address.
  void Flush() {
    for (std::size_t s = 0; s < fds_.size(); ++s) {
      auto& q = out_[s];
      std::size_t sent = 0;
      while (sent < q.size()) {
        const std::size_t n = std::min(kBatch, q.size() - sent);
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        alignas(cmsghdr) char control[kBatch][CMSG_SPACE(sizeof(in_pktinfo))];
        for (std::size_t i = 0; i < n; ++i) {
          Datagram& d = q[sent + i];
          iov[i] = {d.bytes.data(), d.bytes.size()};
          msgs[i] = {};
          msgs[i].msg_hdr.msg_name = &server_;
          msgs[i].msg_hdr.msg_namelen = sizeof(server_);
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
          std::memset(control[i], 0, sizeof(control[i]));
          msgs[i].msg_hdr.msg_control = control[i];
          msgs[i].msg_hdr.msg_controllen = sizeof(control[i]);
          cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
          c->cmsg_level = IPPROTO_IP;
          c->cmsg_type = IP_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo info{};
          info.ipi_spec_dst.s_addr = htonl(d.source);
          std::memcpy(CMSG_DATA(c), &info, sizeof(info));
        }
        int r = sendmmsg(fds_[s], msgs, static_cast<unsigned>(n), 0);
        if (r < 0) {
          if (errno == EAGAIN || errno == ENOBUFS) {
            pollfd p{fds_[s], POLLOUT, 0};
            poll(&p, 1, 10);
            continue;
          }
          std::perror("msgin5g-ue swarm: sendmmsg");
          ++sent;  // drop it: CoAP's retransmission covers a lost datagram
          continue;
        }
        sent += static_cast<std::size_t>(r);
      }
      q.clear();
    }
  }

  bool AllDrained() const {
    if (o_.expect == 0) return true;
    for (const auto& u : ues_) {
      if (u.received < static_cast<std::uint32_t>(o_.expect)) return false;
    }
    return true;
  }

  int Report(Clock::duration elapsed) {
    std::vector<double> lat;
    long total = 0, dups = 0;
    std::size_t registered = 0;
    for (const auto& u : ues_) {
      total += u.received;
      dups += u.duplicates;
      registered += u.phase == Phase::kRegistered;
      if (u.received > 0) {
        lat.push_back(std::chrono::duration<double, std::milli>(u.last_received - u.started).count());
      }
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
      return lat.empty() ? 0.0
                         : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))];
    };
    const double secs = std::chrono::duration<double>(elapsed).count();
    std::printf("{\"ues\":%d,\"delivered\":%ld,\"seconds\":%.3f,\"msgs_per_s\":%.0f,"
                "\"wake_to_last_ms_p50\":%.1f,\"wake_to_last_ms_p99\":%.1f,\"ues_drained\":%zu,"
                "\"refused\":%zu,\"duplicates\":%ld,\"registered\":%zu,\"sockets\":%zu}\n",
                o_.ues, total, secs, secs > 0 ? static_cast<double>(total) / secs : 0.0, pct(0.50),
                pct(0.99), lat.size(), refused_, dups, registered, fds_.size());
    std::fflush(stdout);
    for (int fd : fds_) close(fd);
    close(epoll_);
    return registered == ues_.size() && AllDrained() ? 0 : 1;
  }

  SwarmOptions o_;
  std::vector<Ue> ues_;
  std::vector<int> fds_;
  std::vector<std::vector<Datagram>> out_;  // per socket, until Flush
  std::vector<std::size_t> in_flight_;      // UEs whose REG is unanswered
  std::vector<std::string> bufs_;           // recvmmsg buffers
  sockaddr_in server_{};
  int epoll_ = -1;
  std::size_t done_regs_ = 0, refused_ = 0;
  std::uint32_t nonce_ = 0;
  Clock::time_point last_activity_{};
};

}  // namespace

int RunSwarm(const SwarmOptions& options) {
  if (options.ues < 1 || options.sockets < 1) {
    std::fprintf(stderr, "msgin5g-ue swarm: --ues and --sockets must be positive\n");
    return 2;
  }
  // 127.1.0.1 .. 127.127.255.254 per socket: 32,512 x 254 addresses.
  if (static_cast<std::size_t>(options.ues) / static_cast<std::size_t>(options.sockets) >= 254u * 32512u) {
    std::fprintf(stderr, "msgin5g-ue swarm: too many UEs per socket\n");
    return 2;
  }
  return Swarm(options).Run();
}

}  // namespace msgin5g::ue
