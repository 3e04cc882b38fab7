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
  // Runs the endpoint's loop for `d`, collecting what the peer receives.
  std::vector<std::string> Run(std::chrono::milliseconds d) {
    std::vector<std::string> got;
    const auto end = Clock::now() + d;
    while (Clock::now() < end) {
      pollfd p{ep_->fd(), POLLIN, 0};
      poll(&p, 1, 2);
      ep_->ReadSome();
      ep_->RunTimers(Clock::now());
      for (auto& g : peer_->Read()) got.push_back(std::move(g));
    }
    return got;
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
  auto got = Run(50ms);
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
  auto again = Run(50ms);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0], got[0]);
  EXPECT_EQ(handled_, 1);
  // A new Message ID is a new request.
  peer_->Send(Post(101, "tk", "{\"a\":1}"));
  EXPECT_EQ(Run(50ms).size(), 1u);
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
  auto got = Run(20ms);
  ASSERT_EQ(got.size(), 1u);
  auto ack = wire::Parse(got[0]);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->type, wire::Type::kAck);
  EXPECT_EQ(ack->code, wire::kEmpty);
  EXPECT_EQ(ack->message_id, 7);
  ASSERT_TRUE(later);
  // A duplicate while the answer is not ready: the empty ACK again.
  peer_->Send(Post(7, "sep", "{}"));
  auto dup = Run(20ms);
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0], got[0]);

  later({wire::kCreated, "{\"done\":true}"});
  ep_->RunTimers(Clock::now());
  auto first = Run(20ms);
  ASSERT_GE(first.size(), 1u);  // (more only if this machine stalled past the first timeout)
  auto resp = wire::Parse(first[0]);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->type, wire::Type::kCon);
  EXPECT_EQ(resp->code, wire::kCreated);
  EXPECT_EQ(resp->token, "sep");
  EXPECT_NE(resp->message_id, 7);
  EXPECT_EQ(resp->payload, "{\"done\":true}");
  // Not acknowledged: it comes again, with the same Message ID, after the timeout.
  auto retx = Run(100ms);
  ASSERT_GE(retx.size(), 1u);
  EXPECT_EQ(retx[0], first[0]);
  // Acknowledged: no more of it.
  wire::Builder b;
  b.type = wire::Type::kAck;
  b.message_id = resp->message_id;
  peer_->Send(b);
  Run(20ms);
  EXPECT_TRUE(Run(300ms).empty());
  EXPECT_EQ(ep_->outstanding(), 0u);
}

TEST_F(UdpEndpointTest, MalformedConfirmablesPingsAndStrayResponsesGetResets) {
  Open();
  auto expect_reset = [&](const std::string& d, std::uint16_t mid, const char* what) {
    peer_->Send(d);
    auto got = Run(30ms);
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
  EXPECT_TRUE(Run(30ms).empty());
  EXPECT_EQ(handled_, 0);
}

TEST_F(UdpEndpointTest, UnrecognisedCriticalOptionsAndOtherPathsReachTheHandlerMarked) {
  Open();
  auto b = Post(3, "x", "{}");
  b.Add(9, "?");  // odd: critical, and no option we know
  b.Add(wire::kUriPath, "more");
  peer_->Send(b);
  Run(30ms);
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
  auto got = Run(400ms);  // 20 + 40 + 80 ms (each up to 1.5x), then the last wait
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
  auto sent = [&] {
    ep_->RunTimers(Clock::now());
    auto got = Run(20ms);
    EXPECT_EQ(got.size(), 1u);
    auto m = wire::Parse(got.at(0));
    EXPECT_TRUE(m.ok());
    return std::make_pair(m->message_id, std::string(m->token));
  };
  // Piggybacked.
  ep_->Send(peer_->as_peer(), "{}", record);
  auto [mid1, tok1] = sent();
  wire::Builder a;
  a.type = wire::Type::kAck;
  a.code = wire::kChanged;
  a.message_id = mid1;
  a.token = tok1;
  peer_->Send(a);
  Run(20ms);
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
  Run(20ms);
  EXPECT_EQ(outcomes.size(), 1u);
  wire::Builder later;
  later.type = wire::Type::kCon;
  later.code = wire::Code(4, 4);
  later.message_id = 900;
  later.token = tok2;
  peer_->Send(later);
  auto acks = Run(20ms);
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
  Run(20ms);
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
    auto got = Run(30ms);
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
  Run(20ms);
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
  auto got = Run(30ms);
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
    auto part = Run(30ms);
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

}  // namespace
}  // namespace msgin5g::api::coap
