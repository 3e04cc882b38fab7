// A bounded mutation run against the real msgin5gd's CoAP port: valid MSGin5G-1 datagrams
// (docs/coap.md), block-wise sequences and CoAP signalling, mutated at random and sent from a few
// source ports at once, the way an attacker on the network would. The daemon must stay up, keep
// answering, and store nothing (no sender ever registers, so every request is refused).
//
// MSGIN5G_COAP_FUZZ_DATAGRAMS (default 200000) and MSGIN5G_COAP_FUZZ_SECONDS (default 120) bound
// the run; MSGIN5G_COAP_FUZZ_SEED repeats one (the seed is printed).
#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/byte_mutator.h"
#include "tests/support/coap_wire.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/metric_value.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
using namespace ts::coap_wire;

// The valid datagrams mutations start from. None is a REG: nothing here may be stored.
std::vector<Bytes> Seeds() {
  const Bytes msg =
      R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-victim"},"destAddr":{"addrType":"UE","addr":"ue-2"},"msgId":"m1","payload":"hello","stoAndFwInd":true,"delivStReqInd":true})";
  const Bytes seg =
      R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-1"},"destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"s1","payload":"aGVsbG8=","segInd":true,"segParams":{"segId":"g1","segNumb":1,"totalSegNumb":3}})";
  const Bytes imdn =
      R"({"msgType":"IMDN","oriAddr":{"addrType":"UE","addr":"ue-1"},"destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"m9","delivSt":"REPT_DELY_SUCCESS"})";
  const Bytes dereg = R"({"msgType":"DEREG","ueSvcId":"ue-victim"})";
  const Bytes segrec = R"({"msgType":"SEGREC","ueSvcId":"ue-1","segId":"g1","missingSegs":[1,2,65535]})";
  const Bytes segconfir = R"({"msgType":"SEGCONFIR","ueSvcId":"ue-1","segId":"g1","result":"SUCCESS"})";
  const Bytes tok = "tokC";
  std::vector<Bytes> s = {
      Post(1, tok, msg),
      Post(2, tok, seg),
      Post(3, tok, imdn),
      Post(4, tok, dereg),
      Post(5, tok, segrec),
      Post(6, tok, segconfir),
      Post(7, tok, R"({"msgType":"MSGRESP"})"),
      Post(8, "", msg, {{kObserve, ""}}),
      Pdu(kNon, kPost, 9, tok, {{kUriPath, "msgin5g"}}, msg),
      Pdu(kCon, 1, 10, tok, {{kUriPath, "msgin5g"}}, ""),            // GET
      Pdu(kCon, kPost, 11, tok, {{kUriPath, "other"}}, msg),         // unknown resource
      Pdu(kCon, 0, 12, "", {}, ""),                                  // ping
      Pdu(kAck, 0x45, 13, "abcdefgh", {}, "{}"),                     // a response nobody asked for
      Pdu(kRst, 0, 14, "", {}, ""),
      Pdu(kCon, 0x44, 15, "zz", {{kBlock2, Block(1, true, 2)}}, "x"),
      // The crash of the attack report: Block1 block 0 with more and no payload, then block 1.
      Post(16, tok, "", {{kBlock1, Block(0, true, 6)}}),
      Post(17, tok, "", {{kBlock1, Block(1, false, 6)}}),
  };
  // A block-wise MSG in 16-byte blocks, each block a seed, plus Size1 / Request-Tag / Echo.
  for (unsigned i = 0; i * 16 < msg.size(); ++i) {
    const bool more = (i + 1) * 16 < msg.size();
    std::vector<Option> o = {{kBlock1, Block(i, more, 0)}};
    if (i == 0) o.push_back({kSize1, Uint(static_cast<unsigned>(msg.size()))});
    if (i % 3 == 1) o.push_back({kRequestTag, "rt"});
    if (i % 5 == 2) o.push_back({kEcho, "echo-value"});
    s.push_back(Post(static_cast<std::uint16_t>(100 + i), Bytes(1, static_cast<char>(i)),
                     msg.substr(i * 16, 16), std::move(o)));
  }
  return s;
}

std::string Metrics(ts::Daemon& d) { return ts::Curl({"http://" + d.metrics() + "/metrics"}).body; }

// The two datagrams of the attack report (an empty Block1 transfer) crashed libcoap 4.3.1's
// single-body reassembly. Now: block 0 is continued (2.31), block 1 refused (4.08), and the
// daemon answers the next request.
TEST(CoapFuzz, EmptyBlockwiseTransferIsRefusedNotACrash) {
  ts::TempDir dir;
  ts::Daemon d(dir.File("data"), dir.path());
  ASSERT_TRUE(d.ok()) << d.log();
  Peer peer(d.coap_port());
  auto answer = [&](const Bytes& req) -> Bytes {
    peer.Drain();
    peer.Send(req);
    for (int i = 0; i < 100; ++i) {
      pollfd p{peer.fd(), POLLIN, 0};
      poll(&p, 1, 50);
      for (auto& got : peer.Drain()) {
        if (got.size() >= 2 && static_cast<unsigned char>(got[1]) != 0) return got;  // not an empty ACK
      }
    }
    return {};
  };
  Bytes first = answer(Post(1, "tokC", "", {{kBlock1, Block(0, true, 6)}}));
  ASSERT_GE(first.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(first[1]), (2 << 5) | 31) << "2.31 Continue";
  Bytes second = answer(Post(2, "tokC", "", {{kBlock1, Block(1, false, 6)}}));
  ASSERT_GE(second.size(), 2u) << d.log();
  // Block 0 carried no bytes, so block 1 (at byte 1024) does not follow it: 4.08 Request Entity
  // Incomplete, with a ProblemDetails.
  EXPECT_EQ(static_cast<unsigned char>(second[1]), (4 << 5) | 8) << "4.08";
  EXPECT_NE(second.find("\"cause\":\"INVALID_MSG_FORMAT\""), Bytes::npos) << second;
  ASSERT_TRUE(d.proc().running()) << d.log();
  // A block that does not follow the body so far is refused as incomplete (4.08).
  Bytes gap = answer(Post(3, "tokD", "{\"msg", {{kBlock1, Block(0, true, 0)}}));
  ASSERT_GE(gap.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gap[1]), (2 << 5) | 31);
  gap = answer(Post(4, "tokD", "Type\":\"REG\"}", {{kBlock1, Block(2, false, 0)}}));
  ASSERT_GE(gap.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gap[1]), (4 << 5) | 8) << "4.08";
  std::uint16_t mid = 100;
  EXPECT_TRUE(peer.Ping(&mid, 10s));
}

TEST(CoapFuzz, MutatedDatagramsLeaveTheDaemonUpAndStoreNothing) {
  ts::TempDir dir;
  ts::Daemon d(dir.File("data"), dir.path());
  ASSERT_TRUE(d.ok()) << d.log();
  ASSERT_GT(d.coap_port(), 0);
  const double written_before = ts::MetricValue(Metrics(d), "msgin5g_storage_written_bytes_total");

  const long datagrams = ts::EnvInt("MSGIN5G_COAP_FUZZ_DATAGRAMS", 200000);
  const auto budget = std::chrono::seconds(ts::EnvInt("MSGIN5G_COAP_FUZZ_SECONDS", 120));
  const auto seed = static_cast<std::uint64_t>(
      ts::EnvInt("MSGIN5G_COAP_FUZZ_SEED", std::random_device{}() & 0x7fffffff));
  std::cout << "seed " << seed << " (MSGIN5G_COAP_FUZZ_SEED)\n";

  const std::vector<Bytes> seeds = Seeds();
  ts::ByteMutator mutate(seed, 1400);  // a datagram on a 1500-byte MTU
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < 8; ++i) peers.push_back(std::make_unique<Peer>(d.coap_port()));
  Peer probe(d.coap_port());

  const auto start = std::chrono::steady_clock::now();
  long sent = 0;
  std::uint16_t ping_mid = 1;
  while (sent < datagrams && std::chrono::steady_clock::now() - start < budget) {
    for (int i = 0; i < 256 && sent < datagrams; ++i, ++sent) {
      peers[static_cast<std::size_t>(sent) % peers.size()]->Send(mutate.Next(seeds));
    }
    for (auto& p : peers) p->Drain();
    // About 50,000 datagrams a second at most: fast enough to find races, slow enough that
    // the daemon reads most of them instead of the kernel dropping them.
    std::this_thread::sleep_for(5ms);
    if (sent % 8192 < 256) {
      ASSERT_TRUE(d.proc().running()) << "msgin5gd died after " << sent << " datagrams (seed "
                                      << seed << ")\n" << d.log();
      ASSERT_TRUE(probe.Ping(&ping_mid, 10s))
          << "no answer to a CoAP ping after " << sent << " datagrams (seed " << seed << ")";
    }
  }
  std::cout << "sent " << sent << " datagrams in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
            << " ms\n";
  EXPECT_GE(sent, std::min<long>(datagrams, 20000)) << "the run was too slow to mean anything";
  ASSERT_TRUE(d.proc().running()) << d.log();
  EXPECT_TRUE(probe.Ping(&ping_mid, 10s));

  // Still serving: a real client's request gets its real answer (a MSG from an unregistered UE
  // is refused).
  auto r = ts::Run({"coap-client-openssl", "-m", "post", "-t", "50", "-B", "10", "-e",
                    R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-1"},"destAddr":{"addrType":"UE","addr":"ue-2"},"msgId":"after","payload":"x","stoAndFwInd":true})",
                    "coap://127.0.0.1:" + std::to_string(d.coap_port()) + "/msgin5g"},
                   "", 30s);
  EXPECT_NE((r.out + r.err).find("4.03"), std::string::npos) << r.out << r.err;
  // Nothing malformed is stored. A mutation can also make a valid request, though: cutting "DE"
  // from the DEREG seed gives a REG, and that UE's MSGs are then valid too (plain UDP on loopback
  // needs no credentials). Storage writes are then theirs; without an accepted REG there must be
  // none.
  const std::string after = Metrics(d);
  const double registered =
      ts::MetricValue(after, R"(msgin5g_coap_requests_total{class="2.xx",msg_type="REG"})");
  if (registered <= 0) {
    EXPECT_EQ(ts::MetricValue(after, "msgin5g_storage_written_bytes_total"), written_before)
        << "a mutated datagram was stored: " << d.Admin("GET", "/stats").body << "\n"
        << d.Admin("GET", "/queues?limit=5").body;
  } else {
    std::cout << registered << " mutated datagrams were valid REGs; what they and the requests "
              << "after them stored is not checked\n";
  }
  EXPECT_EQ(d.proc().Stop(SIGTERM, 30s), 0) << d.log();
}

}  // namespace
}  // namespace msgin5g
