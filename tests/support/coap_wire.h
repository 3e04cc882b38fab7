// Raw CoAP (RFC 7252) datagrams for end-to-end tests: build any PDU, well-formed or not, and a
// UDP peer on loopback that acknowledges the server's confirmable messages. For tests that must
// say things no real client says (an empty block-wise transfer, a 4.04 to a push).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace msgin5g::testing_support::coap_wire {

using namespace std::chrono_literals;
using Bytes = std::string;

// CoAP message types and a few option numbers (RFC 7252, RFC 7959, RFC 9175).
enum Type : int { kCon = 0, kNon = 1, kAck = 2, kRst = 3 };
constexpr int kUriPath = 11, kContentFormat = 12, kBlock2 = 23, kBlock1 = 27, kSize1 = 60,
              kObserve = 6, kRequestTag = 292, kEcho = 252;

struct Option {
  int number;
  Bytes value;
};

inline void PutExtended(Bytes& out, int v, int* nibble) {
  if (v < 13) {
    *nibble = v;
  } else if (v < 269) {
    *nibble = 13;
    out.push_back(static_cast<char>(v - 13));
  } else {
    *nibble = 14;
    out.push_back(static_cast<char>((v - 269) >> 8));
    out.push_back(static_cast<char>((v - 269) & 0xff));
  }
}

// One datagram: header, token, options (sorted by number), payload.
inline Bytes Pdu(int type, int code, std::uint16_t mid, const Bytes& token, std::vector<Option> opts,
          const Bytes& payload) {
  std::stable_sort(opts.begin(), opts.end(),
                   [](const Option& a, const Option& b) { return a.number < b.number; });
  Bytes out;
  out.push_back(static_cast<char>(0x40 | (type << 4) | static_cast<int>(token.size())));
  out.push_back(static_cast<char>(code));
  out.push_back(static_cast<char>(mid >> 8));
  out.push_back(static_cast<char>(mid & 0xff));
  out += token;
  int last = 0;
  for (const auto& o : opts) {
    Bytes ext;
    int d = 0, l = 0;
    PutExtended(ext, o.number - last, &d);
    Bytes lext;
    PutExtended(lext, static_cast<int>(o.value.size()), &l);
    out.push_back(static_cast<char>((d << 4) | l));
    out += ext + lext + o.value;
    last = o.number;
  }
  if (!payload.empty()) out += "\xff" + payload;
  return out;
}

inline Bytes Uint(unsigned v) {
  Bytes b;
  while (v != 0) {
    b.insert(b.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  }
  return b;
}

inline Bytes Block(unsigned num, bool more, unsigned szx) { return Uint((num << 4) | (more ? 8 : 0) | szx); }

constexpr int kPost = 2;

inline Bytes Post(std::uint16_t mid, const Bytes& token, const Bytes& json, std::vector<Option> extra = {}) {
  extra.push_back({kUriPath, "msgin5g"});
  extra.push_back({kContentFormat, Uint(50)});
  return Pdu(kCon, kPost, mid, token, std::move(extra), json);
}

// The options of datagram `d` (empty if malformed), in order.
inline std::vector<Option> ParseOptions(const Bytes& d) {
  std::vector<Option> out;
  if (d.size() < 4) return out;
  std::size_t i = 4 + (static_cast<unsigned char>(d[0]) & 0x0f);
  int number = 0;
  auto ext = [&](int nibble, int* v) {
    if (nibble < 13) { *v = nibble; return true; }
    if (nibble == 13 && i < d.size()) { *v = 13 + static_cast<unsigned char>(d[i++]); return true; }
    if (nibble == 14 && i + 1 < d.size()) {
      *v = 269 + (static_cast<unsigned char>(d[i]) << 8) + static_cast<unsigned char>(d[i + 1]);
      i += 2;
      return true;
    }
    return false;
  };
  while (i < d.size() && static_cast<unsigned char>(d[i]) != 0xff) {
    const int delta_nibble = static_cast<unsigned char>(d[i]) >> 4, len_nibble = d[i] & 0x0f;
    ++i;
    int delta = 0, len = 0;
    if (!ext(delta_nibble, &delta) || !ext(len_nibble, &len) || i + static_cast<std::size_t>(len) > d.size()) {
      return {};
    }
    number += delta;
    out.push_back({number, d.substr(i, static_cast<std::size_t>(len))});
    i += static_cast<std::size_t>(len);
  }
  return out;
}

constexpr int kMaxAge = 14;

class Peer {
 public:
  explicit Peer(int port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    to_.sin_family = AF_INET;
    to_.sin_port = htons(static_cast<std::uint16_t>(port));
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~Peer() { close(fd_); }
  int fd() const { return fd_; }
  void Send(const Bytes& d) {
    sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
  }
  // Off: CON messages from the server are returned unanswered (the test answers them itself).
  void set_auto_ack(bool on) { auto_ack_ = on; }
  // Reads what arrived; a CON from the server (a separate response) is acknowledged as a real
  // peer would, so that it is not retransmitted for the rest of the run. Returns the datagrams.
  std::vector<Bytes> Drain() {
    std::vector<Bytes> got;
    char buf[2048];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      Bytes d(buf, static_cast<std::size_t>(n));
      if (auto_ack_ && d.size() >= 4 && ((d[0] >> 4) & 3) == kCon) {
        Send(Pdu(kAck, 0, static_cast<std::uint16_t>((static_cast<unsigned char>(d[2]) << 8) |
                                                     static_cast<unsigned char>(d[3])),
                 "", {}, ""));
      }
      got.push_back(std::move(d));
    }
  }
  // A CoAP ping (empty CON) is answered with a RST of the same message id while the endpoint's
  // loop is alive. Sent again every 500 ms (a datagram can be dropped by a full socket buffer;
  // libcoap answers at most four pings a second per peer).
  bool Ping(std::uint16_t* mid, std::chrono::milliseconds timeout) {
    Drain();
    const auto end = std::chrono::steady_clock::now() + timeout;
    std::set<std::uint16_t> asked;
    auto next_send = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < end) {
      if (std::chrono::steady_clock::now() >= next_send) {
        asked.insert(++*mid);
        Send(Pdu(kCon, 0, *mid, "", {}, ""));
        next_send += 500ms;
      }
      pollfd p{fd_, POLLIN, 0};
      poll(&p, 1, 50);
      for (const auto& d : Drain()) {
        if (d.size() != 4 || ((d[0] >> 4) & 3) != kRst) continue;
        const auto got = static_cast<std::uint16_t>((static_cast<unsigned char>(d[2]) << 8) |
                                                    static_cast<unsigned char>(d[3]));
        if (asked.count(got) != 0) return true;
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
  sockaddr_in to_{};
  bool auto_ack_ = true;
};

}  // namespace msgin5g::testing_support::coap_wire
