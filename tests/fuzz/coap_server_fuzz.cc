// libFuzzer target: the CoAP endpoint UEs talk to (api/coap), running as in msgin5gd: our own UDP
// endpoint (api/coap/udp_endpoint) on the CoAP thread, a durable broker on a real RocksDB store,
// the endpoint as the broker's channel to UEs. The input is a sequence of UDP datagrams sent from two loopback ports (two UEs, or a
// UE and an impersonator), so that sequences reach the stateful paths: REG then MSG, block-wise
// transfers, segment sets, SEGREC and SEGCONFIR for what the server sent.
//
// Input: the first byte is the mode.
// - bit 0 clear, raw: records of a 2-byte header (bit 15: which port; bits 0..14: length)
//   followed by that many bytes, each sent as one datagram (cut to 1400 bytes). The message id
//   of every datagram is XORed with a per-input number, so that what one input sends is seldom
//   a retransmission of an earlier input's datagram (ids are 16 bits: they wrap after 65,536
//   inputs); repeats within one input stay repeats.
// - bit 0 set, JSON: records separated by a zero byte, each one byte of flags (bit 0: which
//   port; bit 1: non-confirmable) then a JSON body, sent as POST /msgin5g, Content-Format 50,
//   with a fresh message id and token: the fuzzer works on the MSGin5G-1 bodies (docs/coap.md).
// After the datagrams, each port that sent one sends a GET and waits for its answer (4.05):
// The endpoint handles a port's datagrams in order, so when that is answered every datagram before
// it has been read and dispatched. What the broker does with them afterwards (the fsync, the
// separate response, deliveries) runs on beside the next input, as in a daemon: a crash there
// may show during a later input, and the input saved may not repeat it alone. No answer to the
// GET within MSGIN5G_COAP_FUZZ_HANG_SECONDS (5; the replay tests allow 30) is a hang (abort).
// The store lives in /dev/shm when there is one (fsyncs there cost nothing) and grows over the
// run, as a daemon's would; stores of runs that crashed (their process gone) are removed at
// start.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/coap/coap_server.h"
#include "api/delivery/split_channel.h"
#include "broker/durable_broker.h"
#include "common/logging.h"
#include "metrics/registry.h"
#include "storage/store.h"
#include "tests/support/coap_wire.h"

namespace {

namespace coap = msgin5g::api::coap;
namespace wire = msgin5g::testing_support::coap_wire;
using namespace std::chrono_literals;

constexpr std::size_t kMaxDatagram = 1400;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "coap_server_fuzz: %s\n", what);
  std::abort();
}

// A UDP socket on an ephemeral loopback port, connected to the endpoint.
int Peer(std::uint16_t server_port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(server_port);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("no UDP socket");
  return fd;
}

std::string dir;  // the store's scratch directory
void RemoveDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

constexpr char kDirPrefix[] = "coap-server-fuzz-";

// Stores named after processes that are gone: a crash skips the exit handlers.
void RemoveStaleStores(const std::string& parent) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + sizeof kDirPrefix - 1, nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

std::chrono::seconds HangLimit() {
  const char* v = std::getenv("MSGIN5G_COAP_FUZZ_HANG_SECONDS");
  const long s = v != nullptr ? std::strtol(v, nullptr, 10) : 0;
  return std::chrono::seconds(s > 0 ? s : 5);
}

// What runs for the whole process: never torn down (the threads of the endpoint and the broker
// run until the process ends).
struct Rig {
  msgin5g::metrics::Registry registry;
  std::unique_ptr<msgin5g::storage::Store> store;
  msgin5g::api::SplitDeliveryChannel split{nullptr};  // no HTTP: deliveries to ASs wait
  std::unique_ptr<msgin5g::broker::DurableBroker> broker;
  std::unique_ptr<coap::CoapServer> server;
  int peers[2] = {-1, -1};
  std::uint16_t epoch = 0;  // per input: XORed into message ids, in the tokens
  std::uint16_t json_mid = 0;   // ids of the JSON requests: 0..0x7fff
  std::uint16_t sync_mid = 0;   // ids of the sync GETs: 0x8000..0xffff
  std::chrono::seconds hang_limit = HangLimit();

  Rig() {
    msgin5g::log::SetLevel(msgin5g::log::Level::kError);  // a refused request is not news here
    const std::string parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    RemoveStaleStores(parent);
    std::string tmpl = parent + "/" + kDirPrefix + std::to_string(getpid()) + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) Die("no scratch directory");
    dir = tmpl;
    std::fprintf(stderr, "coap_server_fuzz: store in %s (left there by a crash)\n", dir.c_str());
    // Removed when the process ends: by exit() under libFuzzer, by quick_exit() in the replay
    // driver (which must not run static destructors under this rig's threads).
    std::atexit(&RemoveDir);
    std::at_quick_exit(&RemoveDir);
    msgin5g::storage::StoreOptions so;
    so.path = tmpl;
    so.block_cache_bytes = 8u << 20;
    auto opened = msgin5g::storage::Store::Open(so, &registry);
    if (!opened.ok()) Die("store does not open");
    store = std::move(opened.value());
    auto created = msgin5g::broker::DurableBroker::Create(*store, {}, &registry, &split);
    if (!created.ok()) Die("broker does not start");
    broker = std::move(created.value());
    coap::CoapOptions co;
    co.listen = "127.0.0.1:0";
    co.ack_timeout = 1000ms;  // the fuzzer's ports never answer: UEs fall asleep soon
    co.max_retransmit = 1;
    co.segment_recovery_after = 500ms;
    server = std::make_unique<coap::CoapServer>(std::move(co), *broker, &registry);
    if (!server->Start().ok()) Die("CoAP endpoint does not start");
    split.SetUeChannel(server.get());
    for (int& p : peers) p = Peer(server->udp_port());
  }

  void Send(int peer, const std::string& d) {
    // Non-blocking: a full socket buffer drops the datagram, as the network may.
    (void)send(peers[peer], d.data(), d.size(), 0);
  }

  // Sends a GET /msgin5g from `peer` until its answer comes back (an ACK with its message id
  // and token): everything sent earlier has been dispatched. (Not a CoAP ping: libcoap answers
  // at most one ping per session in 250 ms.)
  void Sync(int peer) {
    const auto deadline = std::chrono::steady_clock::now() + hang_limit;
    char buf[2048];
    while (std::chrono::steady_clock::now() < deadline) {
      const std::uint16_t mid = static_cast<std::uint16_t>(0x8000 | sync_mid++);
      Send(peer, wire::Pdu(wire::kCon, 1, mid, "sync", {{wire::kUriPath, "msgin5g"}}, ""));
      const auto retry = std::chrono::steady_clock::now() + 500ms;
      while (std::chrono::steady_clock::now() < retry) {
        pollfd p{peers[peer], POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n;
        while ((n = recv(peers[peer], buf, sizeof buf, 0)) >= 4) {
          const auto got = static_cast<std::uint16_t>((static_cast<unsigned char>(buf[2]) << 8) |
                                                      static_cast<unsigned char>(buf[3]));
          const bool ack = ((static_cast<unsigned char>(buf[0]) >> 4) & 3) == wire::kAck;
          const std::size_t tkl = static_cast<unsigned char>(buf[0]) & 0x0f;
          if (ack && got == mid && tkl == 4 && n >= 8 && std::memcmp(buf + 4, "sync", 4) == 0) {
            return;
          }
        }
      }
    }
    Die("the CoAP endpoint answered no request for MSGIN5G_COAP_FUZZ_HANG_SECONDS (hang)");
  }
};

Rig& TheRig() {
  static Rig* rig = new Rig();
  return *rig;
}

std::string Json(Rig& r, bool non, const std::string& body) {
  const std::uint16_t mid = static_cast<std::uint16_t>(r.json_mid++ & 0x7fff);
  std::string token = {static_cast<char>(r.epoch >> 8), static_cast<char>(r.epoch & 0xff),
                       static_cast<char>(mid >> 8), static_cast<char>(mid & 0xff)};
  return wire::Pdu(non ? wire::kNon : wire::kCon, wire::kPost, mid, token,
                   {{wire::kUriPath, "msgin5g"}, {wire::kContentFormat, wire::Uint(50)}}, body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Rig& r = TheRig();
  ++r.epoch;
  const bool json = (data[0] & 1) != 0;
  bool used[2] = {false, false};
  std::size_t i = 1;
  while (i < size) {
    int peer;
    std::string d;
    if (json) {
      const std::uint8_t flags = data[i++];
      const std::uint8_t* end = static_cast<const std::uint8_t*>(std::memchr(data + i, 0, size - i));
      const std::size_t n = (end == nullptr ? size : static_cast<std::size_t>(end - data)) - i;
      peer = flags & 1;
      d = Json(r, (flags & 2) != 0,
               std::string(reinterpret_cast<const char*>(data + i), std::min(n, kMaxDatagram)));
      i += n + 1;
    } else {
      if (i + 2 > size) break;
      const unsigned header = (static_cast<unsigned>(data[i]) << 8) | data[i + 1];
      i += 2;
      peer = static_cast<int>(header >> 15);
      const std::size_t n = std::min<std::size_t>(header & 0x7fffu, size - i);
      d.assign(reinterpret_cast<const char*>(data + i), std::min(n, kMaxDatagram));
      i += n;
      if (d.size() >= 4) {
        d[2] = static_cast<char>(d[2] ^ (r.epoch >> 8));
        d[3] = static_cast<char>(d[3] ^ (r.epoch & 0xff));
      }
    }
    r.Send(peer, d);
    used[peer] = true;
  }
  for (int p = 0; p < 2; ++p) {
    if (used[p]) r.Sync(p);
  }
  return 0;
}
