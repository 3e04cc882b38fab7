// MQTT baseline for the 10,000-UE wake-and-drain bench (bench/coap_ue_bench.sh), against Mosquitto
// (bench/mosquitto_ue_baseline.sh). Each UE is an MQTT 3.1.1 client with a persistent session
// (clean session false, client id PREFIX<i>) subscribed at QoS 1 to its own topic ue/PREFIX<i>/dl.
// While the UEs are offline an AS publishes PER_UE QoS 1 messages to each topic, which the broker
// queues in their sessions; then every UE wakes once (reconnects) and drains its messages.
//
// One thread, non-blocking TCP sockets, one epoll. The few MQTT packets needed are encoded and
// decoded here, so no client library is required. Phases:
//   1. subscribe: every UE connects, SUBSCRIBEs at QoS 1, DISCONNECTs, and waits until the broker
//      closes the connection, so that its session is offline before anything is published.
//   2. publish: one AS connection (clean session) publishes UES x PER_UE QoS 1 messages, round robin
//      over the UEs, at most --pub-window unacknowledged; a PUBACK means queued in the session.
//   3. wake (timed): the UEs reconnect, --window of them between connect() and CONNACK at a time
//      (msgin5g-ue load's --window likewise counts REGs not yet answered); each UE PUBACKs every
//      message. A UE's latency runs from its connect() (the TCP handshake is part of waking up) to
//      its PER_UE-th distinct message.
//   4. every UE DISCONNECTs (not timed).
//
// Build: g++ -std=c++20 -O2 -Wall -Wextra -o /tmp/mqtt_wake_load bench/mqtt_wake_load.cc
// Usage: mqtt_wake_load --port P [--host 127.0.0.1] [--ues N (10000)] [--per-ue M (2)]
//          [--bytes B (payload size, 100, at least 4)] [--window W (16)] [--pub-window P (64)]
//          [--prefix ue-] [--timeout S (30: a phase that makes no progress for S seconds fails)]
//          [--broker-pid PID (to report the broker's RSS)]
// Output (one line): mosquitto ues= per_ue= expect= delivered= seconds= rate= p50_ms= p99_ms=
//                    ues_drained= duplicates= rss_before_mb= rss_after_mb=
//   expect = UES x PER_UE; delivered counts distinct messages (a redelivery is a duplicate);
//   seconds runs from the first connect() of phase 3 to the last expected message, rate =
//   delivered / seconds; p50/p99 are over the UEs that received anything. rss_* is the broker's
//   VmRSS (-1 without --broker-pid): after phase 2 (everything queued, nobody connected) and at the
//   end of phase 3 (everything drained, all UEs still connected). Phases 1 and 2 go to stderr.
// Exit codes: 0 every message delivered, 1 something missing or failed, 2 usage.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/mqtt/mqtt_packets.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int ues = 10000;
  int per_ue = 2;
  int bytes = 100;
  int window = 16;
  int pub_window = 64;
  std::string prefix = "ue-";
  int timeout_s = 30;
  int broker_pid = 0;
};

// Phase 1 is not timed; more connects at once only shorten the setup. Kept below Mosquitto's
// listen() backlog (100) so that no SYN is dropped and retried a second later.
constexpr int kSubscribeWindow = 64;

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }
[[noreturn]] void FailErrno(const std::string& what) { Fail(what + ": " + std::strerror(errno)); }

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---------------------------------------------------------------------------------------------
// MQTT 3.1.1 packets: the types this bench receives.

enum PacketType : std::uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kSubscribe = 8,
  kSuback = 9,
  kDisconnect = 14,
};

// Encoders: the gateway's MQTT codec (gateway/mqtt/mqtt_packets.h), appended to a connection's
// output buffer.
namespace wire = msgin5g::gateway::mqtt::wire;

void AppendConnect(std::string& out, std::string_view client_id, bool clean_session) {
  wire::ConnectFields f;
  f.client_id = std::string(client_id);
  f.clean_session = clean_session;
  // Keep alive 0 = off: UEs stay connected and idle after draining until the phase ends, and this
  // way nobody has to send PINGREQs (nor can a slow phase make the broker drop a UE).
  f.keepalive_s = 0;
  out += wire::EncodeConnect(f);
}

void AppendSubscribe(std::string& out, std::uint16_t packet_id, std::string_view topic) {
  out += wire::EncodeSubscribe(packet_id, {{std::string(topic), 1}});
}

void AppendPublishQos1(std::string& out, std::string_view topic, std::uint16_t packet_id,
                       std::string_view payload) {
  out += wire::EncodePublish(topic, payload, 1, /*retain=*/false, /*dup=*/false, packet_id);
}

void AppendPuback(std::string& out, std::uint16_t packet_id) {
  out += wire::EncodeIdOnly(wire::Type::kPubAck, packet_id);
}

void AppendDisconnect(std::string& out) { out += wire::EncodeDisconnect(); }

struct Incoming {
  PacketType type;
  std::uint8_t flags;
  std::string_view body;  // points into the connection's input buffer: valid until it is compacted
};

// Takes one complete packet from `in` at `pos` and advances `pos` past it; nullopt while the
// packet is still incomplete (TCP delivers a byte stream: a read may end anywhere in a packet).
std::optional<Incoming> NextPacket(const std::string& in, std::size_t& pos) {
  std::size_t avail = in.size() - pos;
  std::size_t length = 0, header = 1;
  for (std::size_t shift = 0;; shift += 7, ++header) {
    if (header > 4) Fail("malformed remaining length from the broker");
    if (header >= avail) return std::nullopt;
    auto byte = static_cast<std::uint8_t>(in[pos + header]);
    length |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  ++header;  // the last length byte
  if (avail < header + length) return std::nullopt;
  auto first = static_cast<std::uint8_t>(in[pos]);
  Incoming p{static_cast<PacketType>(first >> 4), static_cast<std::uint8_t>(first & 0x0f),
             std::string_view(in).substr(pos + header, length)};
  pos += header + length;
  return p;
}

std::uint16_t GetU16(std::string_view s, std::size_t at) {
  if (s.size() < at + 2) Fail("packet from the broker too short");
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(s[at]) << 8 | static_cast<std::uint8_t>(s[at + 1]));
}

struct PublishIn {
  int qos;
  std::string_view topic;
  std::uint16_t packet_id;  // 0 for QoS 0
  std::string_view payload;
};

PublishIn ParsePublish(const Incoming& p) {
  PublishIn m{};
  m.qos = (p.flags >> 1) & 3;
  std::size_t topic_len = GetU16(p.body, 0);
  if (p.body.size() < 2 + topic_len) Fail("PUBLISH from the broker too short");
  m.topic = p.body.substr(2, topic_len);
  std::size_t at = 2 + topic_len;
  if (m.qos > 0) {
    m.packet_id = GetU16(p.body, at);
    at += 2;
  }
  m.payload = p.body.substr(at);
  return m;
}

// The payload: the message's index for its UE (4 bytes, big endian), so that the UE can tell a
// redelivery from a new message, then filler up to the requested size.
std::string Payload(int bytes, std::uint32_t index) {
  std::string p(static_cast<std::size_t>(bytes), 'x');
  for (int i = 0; i < 4; ++i) p[static_cast<std::size_t>(i)] = static_cast<char>(index >> (24 - 8 * i));
  return p;
}

std::uint32_t PayloadIndex(std::string_view p) {
  if (p.size() < 4) return UINT32_MAX;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<std::uint8_t>(p[static_cast<std::size_t>(i)]);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Connections.

struct Conn {
  int fd = -1;
  std::uint64_t key = 0;    // epoll's data: the UE's index, or the publisher's key
  bool connecting = false;  // the non-blocking connect() has not completed yet
  bool writing = false;     // EPOLLOUT is registered (there is output the socket did not take)
  std::string in;
  std::size_t in_pos = 0;  // parsed up to here
  std::string out;
  std::size_t out_pos = 0;  // sent up to here
};

struct Ue {
  std::string id;
  std::string topic;
  Conn conn;
  bool said_bye = false;  // DISCONNECT queued: the broker closing the connection is expected
  Clock::time_point woke{}, last{};
  std::vector<bool> seen;  // by payload index
  int received = 0;        // distinct messages
};

long RssKb(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// 10,000 sockets are above the usual soft limit of 1,024 descriptors.
void RaiseFdLimit(int needed) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) FailErrno("getrlimit");
  r.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &r) != 0) FailErrno("setrlimit");
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < static_cast<rlim_t>(needed)) {
    Fail("RLIMIT_NOFILE hard limit " + std::to_string(r.rlim_cur) + " < " + std::to_string(needed) +
         " descriptors needed (raise ulimit -Hn)");
  }
}

struct WakeResult {
  long delivered = 0;
  long duplicates = 0;
  int drained = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  long rss_before_kb = -1, rss_after_kb = -1;
};

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o), ues_(static_cast<std::size_t>(o.ues)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) FailErrno("epoll_create1");
    for (std::size_t i = 0; i < ues_.size(); ++i) {
      ues_[i].id = o.prefix + std::to_string(i);
      ues_[i].topic = "ue/" + ues_[i].id + "/dl";
      ues_[i].seen.assign(static_cast<std::size_t>(o.per_ue), false);
    }
  }
  ~Bench() {
    for (auto& u : ues_) Close(u.conn);
    Close(pub_);
    close(ep_);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  void SubscribeAll() {
    auto t0 = Clock::now();
    BeginPhase(Phase::kSubscribe);
    if (!Run([&] { return finished_ == ues_.size(); })) Stalled("subscribe", finished_);
    std::fprintf(stderr, "mqtt_wake_load: phase 1: %zu persistent sessions subscribed in %.1f s\n", finished_,
                 Seconds(Clock::now() - t0));
  }

  void PublishAll() {
    auto t0 = Clock::now();
    BeginPhase(Phase::kPublish);
    pub_inflight_.assign(65536, false);
    OpenConn(pub_, PublisherKey());
    AppendConnect(pub_.out, "bench-as", /*clean_session=*/true);
    Flush(pub_);
    if (!Run([&] { return pub_done_; })) Stalled("publish", pub_acked_);
    double s = Seconds(Clock::now() - t0);
    std::fprintf(stderr, "mqtt_wake_load: phase 2: %zu QoS 1 messages queued in %.1f s (%.0f msgs/s)\n",
                 pub_acked_, s, static_cast<double>(pub_acked_) / s);
  }

  WakeResult WakeAll() {
    WakeResult r;
    r.rss_before_kb = RssKb(o_.broker_pid);
    BeginPhase(Phase::kWake);
    bool complete = Run([&] { return drained_ == ues_.size(); });
    r.rss_after_kb = RssKb(o_.broker_pid);
    if (!complete) {
      std::fprintf(stderr, "mqtt_wake_load: wake phase stalled for %d s: %zu of %zu UEs drained\n", o_.timeout_s,
                   drained_, ues_.size());
    }
    std::vector<double> latency_ms;
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    for (const auto& u : ues_) {
      r.delivered += u.received;
      if (u.woke != Clock::time_point{}) first = std::min(first, u.woke);
      if (u.received == 0) continue;
      last = std::max(last, u.last);
      latency_ms.push_back(Seconds(u.last - u.woke) * 1000);
    }
    std::sort(latency_ms.begin(), latency_ms.end());
    // Same percentile as msgin5g-ue load: the element at p x n.
    auto pct = [&](double p) {
      if (latency_ms.empty()) return 0.0;
      return latency_ms[std::min(latency_ms.size() - 1, static_cast<std::size_t>(p * latency_ms.size()))];
    };
    r.p50_ms = pct(0.50);
    r.p99_ms = pct(0.99);
    r.seconds = latency_ms.empty() ? 0 : Seconds(last - first);
    r.duplicates = duplicates_;
    r.drained = static_cast<int>(drained_);
    return r;
  }

  // Not timed: a clean goodbye, so that the broker logs no unexpected disconnects.
  void DisconnectAll() {
    BeginPhase(Phase::kDisconnect);
    for (auto& u : ues_) {
      if (u.conn.fd < 0) {
        ++finished_;
        continue;
      }
      AppendDisconnect(u.conn.out);
      u.said_bye = true;
      Flush(u.conn);
    }
    if (!Run([&] { return finished_ == ues_.size(); })) {
      std::fprintf(stderr, "mqtt_wake_load: %zu of %zu connections not closed by the broker\n",
                   ues_.size() - finished_, ues_.size());
    }
  }

 private:
  enum class Phase { kSubscribe, kPublish, kWake, kDisconnect };

  std::uint64_t PublisherKey() const { return ues_.size(); }
  Conn& ConnOf(std::uint64_t key) { return key == PublisherKey() ? pub_ : ues_[key].conn; }

  void BeginPhase(Phase p) {
    phase_ = p;
    next_ = 0;
    finished_ = 0;
    for (auto& u : ues_) u.said_bye = false;
  }

  [[noreturn]] void Stalled(const char* phase, std::size_t done) {
    Fail(std::string(phase) + " phase made no progress for " + std::to_string(o_.timeout_s) + " s (" +
         std::to_string(done) + " done)");
  }

  // The event loop: starts connects as the phase's window allows and handles socket events until
  // done() holds (true) or nothing happened for --timeout seconds (false).
  bool Run(const std::function<bool()>& done) {
    epoll_event events[512];
    last_progress_ = Clock::now();
    while (true) {
      StartConnects();
      if (done()) return true;
      int n = epoll_wait(ep_, events, 512, 100);
      if (n < 0 && errno != EINTR) FailErrno("epoll_wait");
      for (int i = 0; i < n; ++i) OnEvent(events[i].data.u64, events[i].events);
      if (Clock::now() - last_progress_ > std::chrono::seconds(o_.timeout_s)) return false;
    }
  }

  void StartConnects() {
    if (phase_ == Phase::kSubscribe) {
      // A UE occupies a slot from connect() until the broker has closed its connection.
      while (next_ < ues_.size() && next_ - finished_ < static_cast<std::size_t>(kSubscribeWindow)) {
        StartUe(next_++);
      }
    } else if (phase_ == Phase::kWake) {
      // A UE occupies a slot from connect() to CONNACK, as a REG does in msgin5g-ue load.
      while (next_ < ues_.size() && next_ - connacked_ < static_cast<std::size_t>(o_.window)) {
        ues_[next_].woke = Clock::now();
        StartUe(next_++);
      }
    }
  }

  void StartUe(std::size_t i) {
    Ue& u = ues_[i];
    OpenConn(u.conn, i);
    AppendConnect(u.conn.out, u.id, /*clean_session=*/false);
    Flush(u.conn);
  }

  void OpenConn(Conn& c, std::uint64_t key) {
    c = Conn{};
    c.key = key;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) FailErrno("socket");
    // Our writes are whole packets, batched per event; waiting for more data would only add delay.
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr) != 1) Fail("bad --host " + o_.host);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      if (errno != EINPROGRESS) FailErrno("connect");
      c.connecting = true;
    }
    // EPOLLOUT until the connect completes and everything queued has been written.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = key;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) FailErrno("epoll_ctl add");
    c.writing = true;
  }

  void Close(Conn& c) {
    if (c.fd >= 0) close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
  }

  // Writes what the socket takes; what is left is written when EPOLLOUT says there is room.
  void Flush(Conn& c) {
    if (c.fd < 0 || c.connecting) return;
    while (c.out_pos < c.out.size()) {
      ssize_t w = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_pos += static_cast<std::size_t>(w);
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else {
        FailErrno("send");
      }
    }
    if (c.out_pos == c.out.size()) {
      c.out.clear();
      c.out_pos = 0;
    }
    bool want = !c.out.empty();
    if (want == c.writing) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = c.key;
    if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0) FailErrno("epoll_ctl mod");
    c.writing = want;
  }

  // Reads everything available into c.in; true at end of stream (the broker closed).
  bool ReadAvailable(Conn& c) {
    char buf[65536];
    while (true) {
      ssize_t r = read(c.fd, buf, sizeof(buf));
      if (r > 0) {
        c.in.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0) {
        return true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return false;
      } else if (errno == ECONNRESET) {
        return true;
      } else {
        FailErrno("read");
      }
    }
  }

  void OnEvent(std::uint64_t key, std::uint32_t events) {
    Conn& c = ConnOf(key);
    if (c.fd < 0) return;
    if (c.connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) Fail(std::string("connect to the broker: ") + std::strerror(err));
      c.connecting = false;
    }
    bool eof = false;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      eof = ReadAvailable(c);
      while (auto p = NextPacket(c.in, c.in_pos)) {
        last_progress_ = Clock::now();
        Handle(key, *p);
      }
      // Drop what has been parsed; a partial packet moves to the front and waits for the rest.
      c.in.erase(0, c.in_pos);
      c.in_pos = 0;
    }
    if (eof) {
      Close(c);  // anything unsent has nowhere to go; OnClosed decides whether this was expected
      last_progress_ = Clock::now();
      OnClosed(key);
      return;
    }
    // Replies (PUBACKs, the next request) go out in one write per event, not one per packet.
    Flush(c);
  }

  void Handle(std::uint64_t key, const Incoming& p) {
    if (key == PublisherKey()) return HandlePublisher(p);
    Ue& u = ues_[key];
    switch (phase_) {
      case Phase::kSubscribe:
        return HandleSubscribing(u, p);
      case Phase::kWake:
        return HandleWaking(u, p);
      case Phase::kDisconnect:
        return;  // anything still arriving is of no interest now
      case Phase::kPublish:
        break;
    }
    Fail("packet type " + std::to_string(p.type) + " for " + u.id + " while publishing");
  }

  static void CheckConnack(const Ue& u, const Incoming& p) {
    if (p.body.size() < 2) Fail("short CONNACK");
    if (p.body[1] != 0) Fail(u.id + ": CONNACK return code " + std::to_string(p.body[1]));
  }

  void HandleSubscribing(Ue& u, const Incoming& p) {
    if (p.type == kConnack) {
      CheckConnack(u, p);
      AppendSubscribe(u.conn.out, 1, u.topic);
    } else if (p.type == kSuback) {
      if (p.body.size() < 3 || p.body[2] != 1) Fail(u.id + ": SUBACK did not grant QoS 1");
      AppendDisconnect(u.conn.out);
      u.said_bye = true;
    } else {
      Fail(u.id + ": unexpected packet type " + std::to_string(p.type) + " while subscribing");
    }
  }

  void HandleWaking(Ue& u, const Incoming& p) {
    if (p.type == kConnack) {
      CheckConnack(u, p);
      // Session present = 0 would mean the broker forgot the subscription and the queued messages.
      if (!(p.body[0] & 1)) Fail(u.id + ": the broker did not keep its session");
      ++connacked_;
      return;
    }
    if (p.type != kPublish) Fail(u.id + ": unexpected packet type " + std::to_string(p.type));
    PublishIn m = ParsePublish(p);
    if (m.qos == 1) AppendPuback(u.conn.out, m.packet_id);
    if (m.qos == 2) Fail(u.id + ": QoS 2 message (nothing published at QoS 2)");
    if (m.topic != u.topic) Fail(u.id + ": message for " + std::string(m.topic));
    std::uint32_t index = PayloadIndex(m.payload);
    if (index >= u.seen.size()) Fail(u.id + ": message with an unknown index");
    if (u.seen[index]) {
      ++duplicates_;
      return;
    }
    u.seen[index] = true;
    u.last = Clock::now();
    if (++u.received == o_.per_ue) ++drained_;
  }

  void HandlePublisher(const Incoming& p) {
    if (p.type == kConnack) {
      if (p.body.size() < 2 || p.body[1] != 0) Fail("publisher: CONNACK refused");
    } else if (p.type == kPuback) {
      std::uint16_t id = GetU16(p.body, 0);
      if (!pub_inflight_[id]) Fail("publisher: PUBACK for packet id " + std::to_string(id) + " not in flight");
      pub_inflight_[id] = false;
      --pub_unacked_;
      ++pub_acked_;
    } else {
      Fail("publisher: unexpected packet type " + std::to_string(p.type));
    }
    PumpPublishes();
  }

  // Message i goes to UE i % UES as that UE's message i / UES: round robin, like the AS in our bench.
  void PumpPublishes() {
    const std::size_t total = ues_.size() * static_cast<std::size_t>(o_.per_ue);
    while (pub_next_ < total && pub_unacked_ < static_cast<std::size_t>(o_.pub_window)) {
      const Ue& u = ues_[pub_next_ % ues_.size()];
      auto index = static_cast<std::uint32_t>(pub_next_ / ues_.size());
      // Packet ids 1..65535 in turn; with at most --pub-window in flight an id is free again
      // long before it comes round.
      pub_packet_id_ = static_cast<std::uint16_t>(pub_packet_id_ % 65535 + 1);
      if (pub_inflight_[pub_packet_id_]) Fail("publisher: packet id still in flight");
      pub_inflight_[pub_packet_id_] = true;
      AppendPublishQos1(pub_.out, u.topic, pub_packet_id_, Payload(o_.bytes, index));
      ++pub_unacked_;
      ++pub_next_;
    }
    if (pub_acked_ == total && !pub_said_bye_) {
      AppendDisconnect(pub_.out);
      pub_said_bye_ = true;
    }
  }

  void OnClosed(std::uint64_t key) {
    if (key == PublisherKey()) {
      if (!pub_said_bye_) Fail("the broker closed the publisher's connection");
      pub_done_ = true;
      return;
    }
    Ue& u = ues_[key];
    if (!u.said_bye) Fail("the broker closed " + u.id + "'s connection");
    ++finished_;
  }

  const Options& o_;
  int ep_ = -1;
  std::vector<Ue> ues_;
  Phase phase_ = Phase::kSubscribe;
  Clock::time_point last_progress_;
  std::size_t next_ = 0;       // the next UE to connect in this phase
  std::size_t finished_ = 0;   // UEs whose connection the broker closed after our DISCONNECT
  std::size_t connacked_ = 0;  // wake phase: CONNACKs received
  std::size_t drained_ = 0;    // wake phase: UEs with all their messages
  long duplicates_ = 0;

  Conn pub_;
  std::vector<bool> pub_inflight_;  // by packet id
  std::uint16_t pub_packet_id_ = 0;
  std::size_t pub_next_ = 0, pub_unacked_ = 0, pub_acked_ = 0;
  bool pub_said_bye_ = false, pub_done_ = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "mqtt_wake_load: %s (see the comment at the top of bench/mqtt_wake_load.cc)\n", why);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + flag).c_str());
    std::string v = argv[++i];
    if (flag == "--host") o.host = v;
    else if (flag == "--port") o.port = std::atoi(v.c_str());
    else if (flag == "--ues") o.ues = std::atoi(v.c_str());
    else if (flag == "--per-ue") o.per_ue = std::atoi(v.c_str());
    else if (flag == "--bytes") o.bytes = std::atoi(v.c_str());
    else if (flag == "--window") o.window = std::atoi(v.c_str());
    else if (flag == "--pub-window") o.pub_window = std::atoi(v.c_str());
    else if (flag == "--prefix") o.prefix = v;
    else if (flag == "--timeout") o.timeout_s = std::atoi(v.c_str());
    else if (flag == "--broker-pid") o.broker_pid = std::atoi(v.c_str());
    else Usage(("unknown option " + flag).c_str());
  }
  if (o.port <= 0 || o.port > 65535) Usage("--port is required");
  if (o.ues < 1 || o.per_ue < 1 || o.window < 1 || o.pub_window < 1 || o.timeout_s < 1) {
    Usage("--ues, --per-ue, --window, --pub-window and --timeout must be at least 1");
  }
  if (o.bytes < 4) Usage("--bytes must be at least 4 (the payload carries the message's index)");
  if (o.pub_window > 32768) Usage("--pub-window must be at most 32768 (packet ids)");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  try {
    RaiseFdLimit(o.ues + 64);
    Bench bench(o);
    bench.SubscribeAll();
    bench.PublishAll();
    WakeResult r = bench.WakeAll();
    bench.DisconnectAll();
    const long expect = static_cast<long>(o.ues) * o.per_ue;
    auto mb = [](long kb) { return kb < 0 ? -1.0 : static_cast<double>(kb) / 1024; };
    std::printf("mosquitto ues=%d per_ue=%d expect=%ld delivered=%ld seconds=%.3f rate=%.0f p50_ms=%.1f "
                "p99_ms=%.1f ues_drained=%d duplicates=%ld rss_before_mb=%.0f rss_after_mb=%.0f\n",
                o.ues, o.per_ue, expect, r.delivered, r.seconds,
                r.seconds > 0 ? static_cast<double>(r.delivered) / r.seconds : 0.0, r.p50_ms, r.p99_ms, r.drained,
                r.duplicates, mb(r.rss_before_kb), mb(r.rss_after_kb));
    return r.delivered == expect ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mqtt_wake_load: %s\n", e.what());
    return 1;
  }
}
