// api/coap/udp_endpoint: our CoAP-over-UDP loop against a raw UDP peer on loopback, datagram by
// datagram: piggybacked and separate answers, duplicates, Resets, retransmission with back-off,
// block-wise requests (Block1) and answers (Block2). The e2e tests run the same endpoint inside
// msgin5gd against libcoap's clients (msgin5g-ue, coap-client-openssl).
#include "api/coap/udp_endpoint.h"

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <functional>
#include <string>
#include <vector>

namespace msgin5g::api::coap {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A UDP socket on loopback that plays the other side.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&me), sizeof(me));
    to_.sin_family = AF_INET;
    to_.sin_port = htons(port);
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(me);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&me), &len);
    std::memcpy(&peer_.addr, &me, sizeof(me));
    peer_.len = sizeof(me);
  }
  ~RawPeer() { close(fd_); }
  void Send(const std::string& d) {
    sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof(to_));
  }
  void Send(const wire::Builder& b) { Send(wire::Serialize(b)); }
  std::vector<std::string> Read() {
    std::vector<std::string> got;
    char buf[65536];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return got;
      got.emplace_back(buf, static_cast<std::size_t>(n));
    }
  }
  const UdpPeer& as_peer() const { return peer_; }

 private:
  int fd_ = -1;
  sockaddr_in to_{};
  UdpPeer peer_;
};

class UdpEndpointTest : public ::testing::Test {
 protected:
  void Open(UdpEndpoint::Options o = {}) {
    ep_ = std::make_unique<UdpEndpoint>(o, [this](const UdpEndpoint::Request& r, UdpEndpoint::Exchange& ex) {
      ++handled_;
      last_path_ = r.path;
      last_payload_ = std::string(r.payload);
      last_bad_option_ = r.bad_option;
      handler_(r, ex);
    });
    ASSERT_TRUE(ep_->Open("127.0.0.1:0").ok());
    peer_ = std::make_unique<RawPeer>(ep_->port());
  }
  // One pass of the endpoint's loop; what the peer received is added to `got`.
  void Pass(std::vector<std::string>* got) {
    pollfd p{ep_->fd(), POLLIN, 0};
    poll(&p, 1, 2);
    ep_->ReadSome();
    ep_->RunTimers(Clock::now());
    for (auto& g : peer_->Read()) got->push_back(std::move(g));
  }
  // Runs the loop for `d` (at least one pass), collecting what the peer receives: for checks
  // that nothing (more) comes.
  std::vector<std::string> Run(std::chrono::milliseconds d) {
    std::vector<std::string> got;
    const auto end = Clock::now() + d;
    do {
      Pass(&got);
    } while (Clock::now() < end);
    return got;
  }
  // Runs the loop until `pred` holds or 5 s have passed (a loaded machine under the sanitizers).
  std::vector<std::string> RunUntil(const std::function<bool(const std::vector<std::string>&)>& pred) {
    std::vector<std::string> got;
    const auto end = Clock::now() + 5s;
    do {
      Pass(&got);
    } while (!pred(got) && Clock::now() < end);
    return got;
  }
  // Until `n` datagrams have come.
  std::vector<std::string> Collect(std::size_t n) {
    return RunUntil([n](const std::vector<std::string>& g) { return g.size() >= n; });
  }
  static wire::Builder Post(std::uint16_t mid, std::string token, std::string body,
                            wire::Type type = wire::Type::kCon) {
    wire::Builder b;
    b.type = type;
    b.code = wire::kPost;
    b.message_id = mid;
    b.token = std::move(token);
    b.Add(wire::kUriPath, "msgin5g").AddUint(wire::kContentFormat, wire::kFormatJson);
    b.payload = std::move(body);
    return b;
  }

  std::unique_ptr<UdpEndpoint> ep_;
  std::unique_ptr<RawPeer> peer_;
  std::function<void(const UdpEndpoint::Request&, UdpEndpoint::Exchange&)> handler_ =
      [](const UdpEndpoint::Request&, UdpEndpoint::Exchange& ex) { ex.Now({wire::kChanged, "{\"ok\":1}"}); };
  int handled_ = 0;
  std::string last_path_, last_payload_;
  std::uint16_t last_bad_option_ = 0;
};

TEST_F(UdpEndpointTest, ConfirmableRequestIsAnsweredPiggybackedAndADuplicateGetsTheSameAnswer) {
  Open();
  peer_->Send(Post(100, "tk", "{\"a\":1}"));
  auto got = Collect(1);
  ASSERT_EQ(got.size(), 1u);
  auto m = wire::Parse(got[0]);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, wire::Type::kAck);
  EXPECT_EQ(m->message_id, 100);
  EXPECT_EQ(m->token, "tk");
  EXPECT_EQ(m->code, wire::kChanged);
  EXPECT_EQ(m->payload, "{\"ok\":1}");
  EXPECT_EQ(wire::DecodeUint(m->Find(wire::kContentFormat)->value), wire::kFormatJson);
  EXPECT_EQ(last_path_, "msgin5g");
  EXPECT_EQ(last_payload_, "{\"a\":1}");

  // The same Message ID again (our ACK was lost, say): the same bytes, the handler not called.
  peer_->Send(Post(100, "tk", "{\"a\":1}"));
  auto again = Collect(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0], got[0]);
  EXPECT_EQ(handled_, 1);
  // A new Message ID is a new request.
  peer_->Send(Post(101, "tk", "{\"a\":1}"));
  EXPECT_EQ(Collect(1).size(), 1u);
  EXPECT_EQ(handled_, 2);
  // Other bytes under a Message ID already seen are no retransmission: no answer, no handler.
  peer_->Send(Post(101, "tk", "{\"b\":2}"));
  EXPECT_TRUE(Run(100ms).empty());
  EXPECT_EQ(handled_, 2);
}

TEST_F(UdpEndpointTest, LaterAnswerIsAnEmptyAckThenASeparateResponseRetransmittedUntilAcknowledged) {
  UdpEndpoint::Options o;
  o.ack_timeout = 30ms;
  o.max_retransmit = 3;
  Open(o);
  std::function<void(UdpAnswer)> later;
  handler_ = [&](const UdpEndpoint::Request&, UdpEndpoint::Exchange& ex) { later = ex.Later(); };
  peer_->Send(Post(7, "sep", "{}"));
  auto got = Collect(1);
  ASSERT_EQ(got.size(), 1u);
  auto ack = wire::Parse(got[0]);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->type, wire::Type::kAck);
  EXPECT_EQ(ack->code, wire::kEmpty);
  EXPECT_EQ(ack->message_id, 7);
  ASSERT_TRUE(later);
  // A duplicate while the answer is not ready: the empty ACK again.
  peer_->Send(Post(7, "sep", "{}"));
  auto dup = Collect(1);
  ASSERT_GE(dup.size(), 1u);
  EXPECT_EQ(dup[0], got[0]);

  later({wire::kCreated, "{\"done\":true}"});
  ep_->RunTimers(Clock::now());
  auto first = Collect(1);
  ASSERT_GE(first.size(), 1u);
  auto resp = wire::Parse(first[0]);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->type, wire::Type::kCon);
  EXPECT_EQ(resp->code, wire::kCreated);
  EXPECT_EQ(resp->token, "sep");
  EXPECT_NE(resp->message_id, 7);
  EXPECT_EQ(resp->payload, "{\"done\":true}");
  // Not acknowledged: it comes again, with the same Message ID, after the timeout.
  auto retx = Collect(1);
  ASSERT_GE(retx.size(), 1u);
  EXPECT_EQ(retx[0], first[0]);
  // Acknowledged: no more of it.
  wire::Builder b;
  b.type = wire::Type::kAck;
  b.message_id = resp->message_id;
  peer_->Send(b);
  RunUntil([&](const auto&) { return ep_->outstanding() == 0; });
  EXPECT_EQ(ep_->outstanding(), 0u);
  peer_->Read();
  EXPECT_TRUE(Run(300ms).empty());
}

TEST_F(UdpEndpointTest, MalformedConfirmablesPingsAndStrayResponsesGetResets) {
  Open();
  auto expect_reset = [&](const std::string& d, std::uint16_t mid, const char* what) {
    peer_->Send(d);
    auto got = Collect(1);
    ASSERT_EQ(got.size(), 1u) << what;
    auto m = wire::Parse(got[0]);
    ASSERT_TRUE(m.ok()) << what;
    EXPECT_EQ(m->type, wire::Type::kRst) << what;
    EXPECT_EQ(m->message_id, mid) << what;
  };
  // A CON whose option runs past the end.
  expect_reset(std::string("\x40\x02\x00\x05\xB5ms", 7), 5, "malformed CON");
  wire::Builder ping;
  ping.type = wire::Type::kCon;
  ping.message_id = 6;
  expect_reset(wire::Serialize(ping), 6, "ping");
  wire::Builder stray;
  stray.type = wire::Type::kCon;
  stray.code = wire::kChanged;
  stray.message_id = 8;
  stray.token = "12345678";
  expect_reset(wire::Serialize(stray), 8, "a response nobody waits for");
  // A malformed NON is dropped silently.
  peer_->Send(std::string("\x50\x02\x00\x09\xB5ms", 7));
  EXPECT_TRUE(Run(100ms).empty());
  EXPECT_EQ(handled_, 0);
}

TEST_F(UdpEndpointTest, UnrecognisedCriticalOptionsAndOtherPathsReachTheHandlerMarked) {
  Open();
  auto b = Post(3, "x", "{}");
  b.Add(9, "?");  // odd: critical, and no option we know
  b.Add(wire::kUriPath, "more");
  peer_->Send(b);
  RunUntil([&](const auto&) { return handled_ > 0; });
  EXPECT_EQ(last_bad_option_, 9);
  EXPECT_EQ(last_path_, "msgin5g/more");
}

TEST_F(UdpEndpointTest, SentRequestIsRetransmittedWithTheSameIdThenReportedUnanswered) {
  UdpEndpoint::Options o;
  o.ack_timeout = 20ms;
  o.max_retransmit = 2;
  Open(o);
  std::vector<UdpEndpoint::Outcome> outcomes;
  ep_->Send(peer_->as_peer(), "{\"msgType\":\"MSG\"}", [&](UdpEndpoint::Outcome r) { outcomes.push_back(r); });
  ep_->RunTimers(Clock::now());
  auto got = RunUntil([&](const auto&) { return !outcomes.empty(); });
  ASSERT_EQ(got.size(), 3u);  // the first and two retransmissions
  EXPECT_EQ(got[1], got[0]);
  EXPECT_EQ(got[2], got[0]);
  auto m = wire::Parse(got[0]);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, wire::Type::kCon);
  EXPECT_EQ(m->code, wire::kPost);
  EXPECT_EQ(m->Find(wire::kUriPath)->value, "msgin5g");
  EXPECT_EQ(m->payload, "{\"msgType\":\"MSG\"}");
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].answered);
  EXPECT_FALSE(outcomes[0].reset);
  EXPECT_EQ(ep_->outstanding(), 0u);
}

TEST_F(UdpEndpointTest, SentRequestsAreSettledByPiggybackedSeparateOrResetAnswers) {
  Open();
  std::vector<UdpEndpoint::Outcome> outcomes;
  auto record = [&](UdpEndpoint::Outcome r) { outcomes.push_back(r); };
  // The request just sent, as the peer got it (Message ID and token; 0 and "" if it did not).
  auto sent = [&] {
    ep_->RunTimers(Clock::now());
    auto got = Collect(1);
    EXPECT_EQ(got.size(), 1u);
    if (got.empty()) return std::make_pair(std::uint16_t{0}, std::string());
    auto m = wire::Parse(got[0]);
    EXPECT_TRUE(m.ok());
    if (!m.ok()) return std::make_pair(std::uint16_t{0}, std::string());
    return std::make_pair(m->message_id, std::string(m->token));
  };
  auto settled = [&](std::size_t n) { RunUntil([&](const auto&) { return outcomes.size() >= n; }); };
  // Piggybacked.
  ep_->Send(peer_->as_peer(), "{}", record);
  auto [mid1, tok1] = sent();
  wire::Builder a;
  a.type = wire::Type::kAck;
  a.code = wire::kChanged;
  a.message_id = mid1;
  a.token = tok1;
  peer_->Send(a);
  settled(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].answered);
  EXPECT_EQ(outcomes[0].code, wire::kChanged);

  // Separate: an empty ACK, then a CON response, which we acknowledge.
  ep_->Send(peer_->as_peer(), "{}", record);
  auto [mid2, tok2] = sent();
  wire::Builder empty;
  empty.type = wire::Type::kAck;
  empty.message_id = mid2;
  peer_->Send(empty);
  Run(50ms);
  EXPECT_EQ(outcomes.size(), 1u);
  wire::Builder later;
  later.type = wire::Type::kCon;
  later.code = wire::Code(4, 4);
  later.message_id = 900;
  later.token = tok2;
  peer_->Send(later);
  auto acks = Collect(1);
  ASSERT_EQ(acks.size(), 1u);
  auto ack = wire::Parse(acks[0]);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->type, wire::Type::kAck);
  EXPECT_EQ(ack->message_id, 900);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[1].answered);
  EXPECT_EQ(outcomes[1].code, wire::Code(4, 4));

  // Reset.
  ep_->Send(peer_->as_peer(), "{}", record);
  auto [mid3, tok3] = sent();
  wire::Builder rst;
  rst.type = wire::Type::kRst;
  rst.message_id = mid3;
  peer_->Send(rst);
  settled(3);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_FALSE(outcomes[2].answered);
  EXPECT_TRUE(outcomes[2].reset);
  EXPECT_EQ(ep_->outstanding(), 0u);
}

TEST_F(UdpEndpointTest, LargeRequestsGoBlockWiseAndEachBlockWaitsForItsContinue) {
  Open();
  std::string body(2500, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  std::vector<UdpEndpoint::Outcome> outcomes;
  ep_->Send(peer_->as_peer(), body, [&](UdpEndpoint::Outcome r) { outcomes.push_back(r); });
  ep_->RunTimers(Clock::now());
  std::string whole;
  for (std::uint32_t n = 0; n < 3; ++n) {
    auto got = Collect(1);
    ASSERT_EQ(got.size(), 1u) << "block " << n;
    auto m = wire::Parse(got[0]);
    ASSERT_TRUE(m.ok());
    auto blk = wire::DecodeBlock(m->Find(wire::kBlock1)->value);
    ASSERT_TRUE(blk.has_value());
    EXPECT_EQ(blk->number, n);
    EXPECT_EQ(blk->size, 1024u);
    EXPECT_EQ(blk->more, n < 2);
    if (n == 0) {
      EXPECT_EQ(wire::DecodeUint(m->Find(wire::kSize1)->value), 2500u);
    }
    whole.append(m->payload);
    wire::Builder a;
    a.type = wire::Type::kAck;
    a.code = n < 2 ? wire::kContinue : wire::kChanged;
    a.message_id = m->message_id;
    a.token = std::string(m->token);
    a.Add(wire::kBlock1, std::string(m->Find(wire::kBlock1)->value));
    peer_->Send(a);
    EXPECT_TRUE(outcomes.empty() || n == 2);
  }
  RunUntil([&](const auto&) { return !outcomes.empty(); });
  EXPECT_EQ(whole, body);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code, wire::kChanged);
}

TEST_F(UdpEndpointTest, LargeAnswersGoBlockWiseFromAKeptCopy) {
  Open();
  std::string big(2100, 'q');
  big[0] = '{';
  big[2099] = '}';
  handler_ = [&](const UdpEndpoint::Request&, UdpEndpoint::Exchange& ex) { ex.Now({wire::Code(4, 0), big}); };
  peer_->Send(Post(20, "bb", "{}"));
  auto got = Collect(1);
  ASSERT_EQ(got.size(), 1u);
  auto first = wire::Parse(got[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->code, wire::Code(4, 0));
  auto b0 = wire::DecodeBlock(first->Find(wire::kBlock2)->value);
  ASSERT_TRUE(b0 && b0->more && b0->number == 0);
  EXPECT_EQ(wire::DecodeUint(first->Find(28)->value), 2100u);  // Size2
  std::string whole(first->payload);
  for (std::uint32_t n = 1; n < 3; ++n) {
    auto next = Post(static_cast<std::uint16_t>(20 + n), "b" + std::to_string(n), "");
    next.Add(wire::kBlock2, wire::EncodeBlock({n, false, 1024}));
    peer_->Send(next);
    auto part = Collect(1);
    ASSERT_EQ(part.size(), 1u);
    auto m = wire::Parse(part[0]);
    ASSERT_TRUE(m.ok());
    auto blk = wire::DecodeBlock(m->Find(wire::kBlock2)->value);
    ASSERT_TRUE(blk.has_value());
    EXPECT_EQ(blk->number, n);
    EXPECT_EQ(blk->more, n < 2);
    EXPECT_EQ(m->code, wire::Code(4, 0));
    whole.append(m->payload);
  }
  EXPECT_EQ(whole, big);
  EXPECT_EQ(handled_, 1);  // the later blocks came from the copy
}

TEST_F(UdpEndpointTest, AnAcknowledgedRequestWithoutAResponseIsReportedAcknowledged) {
  UdpEndpoint::Options o;
  o.separate_timeout = 100ms;
  Open(o);
  std::vector<UdpEndpoint::Outcome> outcomes;
  ep_->Send(peer_->as_peer(), "{}", [&](UdpEndpoint::Outcome r) { outcomes.push_back(r); });
  ep_->RunTimers(Clock::now());
  auto got = Collect(1);
  ASSERT_EQ(got.size(), 1u);
  auto m = wire::Parse(got[0]);
  ASSERT_TRUE(m.ok());
  wire::Builder empty;
  empty.type = wire::Type::kAck;
  empty.message_id = m->message_id;
  peer_->Send(empty);
  RunUntil([&](const auto&) { return !outcomes.empty(); });
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].answered);
  EXPECT_TRUE(outcomes[0].acked);  // awake: msgin5gd tries again later instead of parking the UE
}

TEST_F(UdpEndpointTest, ADuplicateIsAnsweredAFewTimesAtMost) {
  UdpEndpoint::Options o;
  o.max_retransmit = 2;
  Open(o);
  peer_->Send(Post(50, "d", "{}"));
  ASSERT_EQ(Collect(1).size(), 1u);
  for (int i = 0; i < 6; ++i) peer_->Send(Post(50, "d", "{}"));
  auto got = Run(200ms);
  EXPECT_EQ(got.size(), 2u);  // max_retransmit replays: no amplifier for a spoofed source
  EXPECT_EQ(handled_, 1);
}

TEST_F(UdpEndpointTest, CopiesOfLargeAnswersStayWithinTheirBounds) {
  UdpEndpoint::Options o;
  o.max_block2_copies = 4;
  o.max_block2_bytes = 5000;
  Open(o);
  handler_ = [&](const UdpEndpoint::Request&, UdpEndpoint::Exchange& ex) {
    ex.Now({wire::Code(4, 0), std::string(2000, 'e')});
  };
  // One peer refreshing its copy 300 times, then other peers (their own sockets).
  for (int i = 0; i < 300; ++i) peer_->Send(Post(static_cast<std::uint16_t>(1000 + i), "r", "{}"));
  RunUntil([&](const auto&) { return handled_ >= 300; });  // (answers the peer drops: no matter)
  std::vector<std::unique_ptr<RawPeer>> others;
  for (int i = 0; i < 6; ++i) {
    others.push_back(std::make_unique<RawPeer>(ep_->port()));
    others.back()->Send(wire::Serialize(Post(1, "o", "{}")));
  }
  RunUntil([&](const auto&) { return handled_ >= 306; });
  EXPECT_EQ(handled_, 306);
  const auto u = ep_->usage();
  EXPECT_LE(u.copies, 2u);  // 5,000 bytes hold two copies of 2,000
  EXPECT_LE(u.copy_bytes, 5000u);
  EXPECT_LE(u.order_entries, 2 * 4 + 310u);  // the copies' order is bounded; the dedup table's
                                             // holds one entry per request here
}

TEST_F(UdpEndpointTest, MessageIdsToOnePeerDoNotRepeat) {
  Open();
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 200; ++i) ep_->Send(peer_->as_peer(), "{}", [](UdpEndpoint::Outcome) {});
  ep_->RunTimers(Clock::now());
  for (const auto& d : Collect(200)) {
    auto m = wire::Parse(d);
    ASSERT_TRUE(m.ok());
    ids.insert(m->message_id);
  }
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(ep_->usage().mid_peers, 1u);
}

// RFC 7959 §2.5: a UE that takes the first 1,024 bytes but asks for 256-byte blocks in its 2.31
// gets the rest in 256-byte blocks, numbered in that size (the next one is 4).
TEST_F(UdpEndpointTest, APeerAskingForSmallerBlocksGetsTheRestInThem) {
  Open();
  std::string body(2500, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  std::vector<UdpEndpoint::Outcome> outcomes;
  ep_->Send(peer_->as_peer(), body, [&](UdpEndpoint::Outcome r) { outcomes.push_back(r); });
  ep_->RunTimers(Clock::now());
  std::string whole;
  std::vector<std::uint32_t> numbers;
  for (int round = 0; round < 20 && outcomes.empty(); ++round) {
    auto got = Collect(1);
    ASSERT_EQ(got.size(), 1u);
    auto m = wire::Parse(got[0]);
    ASSERT_TRUE(m.ok());
    auto blk = wire::DecodeBlock(m->Find(wire::kBlock1)->value);
    ASSERT_TRUE(blk.has_value());
    EXPECT_EQ(blk->size, round == 0 ? 1024u : 256u);
    EXPECT_EQ(static_cast<std::size_t>(blk->number) * blk->size, whole.size());
    numbers.push_back(blk->number);
    whole.append(m->payload);
    wire::Builder a;
    a.type = wire::Type::kAck;
    a.code = blk->more ? wire::kContinue : wire::kChanged;
    a.message_id = m->message_id;
    a.token = std::string(m->token);
    a.Add(wire::kBlock1, wire::EncodeBlock({blk->number, blk->more, 256}));
    peer_->Send(a);
    if (!blk->more) RunUntil([&](const auto&) { return !outcomes.empty(); });
  }
  EXPECT_EQ(whole, body);
  ASSERT_GE(numbers.size(), 2u);
  EXPECT_EQ(numbers[1], 4u);
  EXPECT_EQ(numbers.size(), 1u + (2500u - 1024u + 255u) / 256u);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code, wire::kChanged);
}

// RFC 7959 §2.4: a request whose Block2 (NUM 0) names a smaller size gets its answer in that size.
TEST_F(UdpEndpointTest, AnAnswerComesInTheBlockSizeTheRequestAsksFor) {
  Open();
  const std::string big(700, 'z');
  handler_ = [&](const UdpEndpoint::Request&, UdpEndpoint::Exchange& ex) { ex.Now({wire::kChanged, big}); };
  auto req = Post(60, "s", "{}");
  req.Add(wire::kBlock2, wire::EncodeBlock({0, false, 256}));
  peer_->Send(req);
  auto got = Collect(1);
  ASSERT_EQ(got.size(), 1u);
  auto m = wire::Parse(got[0]);
  ASSERT_TRUE(m.ok());
  auto blk = wire::DecodeBlock(m->Find(wire::kBlock2)->value);
  ASSERT_TRUE(blk.has_value());
  EXPECT_EQ(blk->size, 256u);
  EXPECT_TRUE(blk->more);
  EXPECT_EQ(m->payload.size(), 256u);
}

}  // namespace
}  // namespace msgin5g::api::coap
