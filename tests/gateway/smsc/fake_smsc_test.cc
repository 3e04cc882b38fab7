// The fake SMSC (tests/support/smsc/fake_smsc.js behind FakeSmsc) against a real SMPP peer: the
// npm package's client side, scripted by tests/support/smsc/smpp_client.js, and a raw TCP socket
// for bytes no client would send.
#include "tests/support/fake_smsc.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace msgin5g::testing_support {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint32_t kRinvpaswd = 0x0E;
constexpr std::uint32_t kRinvsysid = 0x0F;
constexpr std::uint32_t kRbindfail = 0x0D;
constexpr std::uint32_t kRthrottled = 0x58;
constexpr std::uint32_t kRsyserr = 0x08;

std::int64_t Int(const SmscEvent& e, const char* key) {
  const auto* v = e.if_contains(key);
  if (v == nullptr) return -1;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return -1;
}

std::string Str(const SmscEvent& e, const char* key) {
  const auto* v = e.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The npm package's SMPP client, as an ESME under the test's control.
class SmppClient {
 public:
  SmppClient()
      : proc_({"node", std::string(MSGIN5G_SOURCE_DIR) + "/tests/support/smsc/smpp_client.js"},
              ::testing::TempDir() + "/smpp_client-" + std::to_string(getpid()) + ".log") {}
  ~SmppClient() { proc_.Stop(seconds(2)); }

  void Connect(int port) { proc_.Command({{"cmd", "connect"}, {"port", port}}); }
  // Connect and expect a failure (the SMSC is down).
  bool TryConnect(int port) {
    try {
      Connect(port);
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }
  std::int64_t Bind(const std::string& system_id, const std::string& password,
                    const std::string& mode = "transceiver") {
    auto ack = proc_.Command(
        {{"cmd", "bind"}, {"mode", mode}, {"system_id", system_id}, {"password", password}});
    return Int(ack, "status");
  }
  void ConnectAndBind(int port) {
    Connect(port);
    ASSERT_EQ(Bind("msgin5g", "secret"), 0);
  }
  // Sends a submit_sm; its submit_sm_resp arrives as an event with "ref": ref.
  void Submit(int ref, const std::string& dest, const std::string& text, int registered_delivery,
              json::object tlvs = {}) {
    proc_.Command({{"cmd", "submit"},
                   {"ref", ref},
                   {"source", "MSGIN5G"},
                   {"source_ton", 5},
                   {"source_npi", 0},
                   {"dest", dest},
                   {"text", text},
                   {"registered_delivery", registered_delivery},
                   {"tlvs", std::move(tlvs)}});
  }
  SmscEvent SubmitResp(int ref) {
    auto e = proc_.WaitForEvent(EventWith("submit_sm_resp", "ref", ref), seconds(5));
    EXPECT_TRUE(e) << proc_.Transcript();
    return e.value_or(SmscEvent{});
  }
  // Answers for the next deliver_sm: a status each, or "none" for no answer.
  void AnswerDeliver(json::array statuses) {
    proc_.Command({{"cmd", "answer_deliver"}, {"statuses", std::move(statuses)}});
  }
  void Close() { proc_.Command({{"cmd", "close"}}); }
  JsonLinesProcess& proc() { return proc_; }

 private:
  JsonLinesProcess proc_;
};

FakeSmscOptions FastOptions() {
  FakeSmscOptions o;
  o.receipt_delay_ms = 50;
  o.response_timeout_ms = 800;
  o.retry_interval_ms = 200;
  o.max_attempts = 4;
  return o;
}

// A raw TCP connection to the SMSC.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawConnection() { close(fd_); }
  bool ok() const { return ok_; }
  void Write(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Everything read until the peer closes, `want` octets came, or `timeout` passes.
  std::string ReadUntilClosed(milliseconds timeout, std::size_t want = SIZE_MAX) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline && out.size() < want) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

TEST(FakeSmscTest, RefusesWrongCredentialsAndAcceptsRightOnes) {
  FakeSmsc smsc(FastOptions());
  ASSERT_GT(smsc.port(), 0);
  SmppClient client;
  client.Connect(smsc.port());
  EXPECT_EQ(client.Bind("msgin5g", "wrong"), kRinvpaswd);
  EXPECT_EQ(client.Bind("someone", "secret"), kRinvsysid);
  EXPECT_EQ(client.Bind("msgin5g", "secret"), 0);
  // A second bind on a bound session: ESME_RALYBND.
  EXPECT_EQ(client.Bind("msgin5g", "secret"), 0x05);

  // The transcript reaches us through the SMSC's stdout, after its answer: wait for it.
  auto binds = smsc.WaitForEvents(EventIs("bind"), 4, seconds(2));
  ASSERT_EQ(binds.size(), 4u) << smsc.Transcript();
  EXPECT_EQ(Str(binds[0], "status_name"), "ESME_RINVPASWD");
  EXPECT_EQ(Str(binds[0], "password"), "wrong");
  EXPECT_EQ(Str(binds[0], "mode"), "transceiver");
  EXPECT_EQ(Int(binds[2], "status"), 0);

  // Binds refused on command, e.g. to test the ESME's bind retry.
  smsc.RefuseBinds(true);
  SmppClient other;
  other.Connect(smsc.port());
  EXPECT_EQ(other.Bind("msgin5g", "secret", "receiver"), kRbindfail);
  smsc.RefuseBinds(false);
  EXPECT_EQ(other.Bind("msgin5g", "secret", "receiver"), 0);
  EXPECT_TRUE(smsc.WaitForBinds(2, seconds(1)));
}

TEST(FakeSmscTest, SubmitIsRecordedAndGetsAReceiptWithTheRulesStat) {
  FakeSmsc smsc(FastOptions());
  smsc.SetReceiptRule("4670000002", "UNDELIV", 5);
  SmppClient client;
  client.ConnectAndBind(smsc.port());

  client.Submit(1, "4670000001", "hello there, this text is longer than twenty", 1);
  client.Submit(2, "4670000002", "to an unreachable phone", 1);
  client.Submit(3, "4670000003", "no receipt asked", 0,
                {{"user_message_reference", 7}, {"message_payload", {{"hex", "c3a9"}}}});
  auto r1 = client.SubmitResp(1), r2 = client.SubmitResp(2), r3 = client.SubmitResp(3);
  EXPECT_EQ(Int(r1, "status"), 0);
  const std::regex hex_id("[0-9a-f]{16}");
  EXPECT_TRUE(std::regex_match(Str(r1, "message_id"), hex_id)) << Str(r1, "message_id");
  std::set<std::string> ids = {Str(r1, "message_id"), Str(r2, "message_id"),
                               Str(r3, "message_id")};
  EXPECT_EQ(ids.size(), 3u);

  auto subs = smsc.WaitForSubmits(3, seconds(2));
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[0].source_addr, "MSGIN5G");
  EXPECT_EQ(subs[0].source_addr_ton, 5);
  EXPECT_EQ(subs[0].destination_addr, "4670000001");
  EXPECT_EQ(subs[0].dest_addr_ton, 1);
  EXPECT_EQ(subs[0].registered_delivery, 1);
  EXPECT_EQ(subs[0].data_coding, 0);
  EXPECT_EQ(subs[0].short_message, "hello there, this text is longer than twenty");
  EXPECT_EQ(subs[0].message_id, Str(r1, "message_id"));
  EXPECT_TRUE(subs[0].tlvs.empty());
  ASSERT_EQ(subs[2].tlvs.size(), 2u);
  EXPECT_EQ(subs[2].Tlv(0x0204), std::string("\x00\x07", 2));  // user_message_reference
  EXPECT_EQ(subs[2].Tlv(0x0424), "\xc3\xa9");                  // message_payload
  EXPECT_EQ(subs[2].tlvs[0].name, "user_message_reference");
  EXPECT_FALSE(subs[2].Tlv(0x020a));

  // Two receipts, none for the third message.
  auto receipts =
      client.proc().WaitForEvents(EventWith("deliver_sm", "esm_class", 4), 2, seconds(3));
  ASSERT_EQ(receipts.size(), 2u) << client.proc().Transcript();
  const std::regex form(
      "id:([0-9a-f]+) sub:001 dlvrd:(00[01]) submit date:\\d{10} done date:\\d{10} "
      "stat:([A-Z]+) err:(\\d{3}) text:(.*)");
  std::map<std::string, std::smatch> by_id;
  std::vector<std::string> texts;
  for (const auto& r : receipts) texts.push_back(FromHex(Str(r, "short_message_hex")));
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(texts[i], m, form)) << texts[i];
    EXPECT_EQ(Str(receipts[i], "receipted_message_id"), m[1].str());
    // Source and destination swapped.
    EXPECT_EQ(Str(receipts[i], "destination_addr"), "MSGIN5G");
    if (m[1] == Str(r1, "message_id")) {
      EXPECT_EQ(Str(receipts[i], "source_addr"), "4670000001");
      EXPECT_EQ(m[2], "001");
      EXPECT_EQ(m[3], "DELIVRD");
      EXPECT_EQ(m[4], "000");
      EXPECT_EQ(m[5], "hello there, this te");
      EXPECT_EQ(Int(receipts[i], "message_state"), 2);
    } else {
      EXPECT_EQ(m[1], Str(r2, "message_id"));
      EXPECT_EQ(Str(receipts[i], "source_addr"), "4670000002");
      EXPECT_EQ(m[2], "000");
      EXPECT_EQ(m[3], "UNDELIV");
      EXPECT_EQ(m[4], "005");
      EXPECT_EQ(Int(receipts[i], "message_state"), 5);
    }
  }
  // The client's answers, as the SMSC recorded them.
  ASSERT_TRUE(WaitFor([&] { return smsc.receipt_answers().size() == 2; }, seconds(2)));
  for (const auto& a : smsc.receipt_answers()) {
    EXPECT_EQ(a.outcome, SmscDeliverAnswer::Outcome::kResponse);
    EXPECT_EQ(a.status, 0u);
    EXPECT_EQ(a.attempt, 1);
  }
  EXPECT_TRUE(smsc.Matching(EventWith("deliver_sm", "message_id", Str(r3, "message_id"))).empty());
}

TEST(FakeSmscTest, FailedSubmitsAndHeldReceiptsSurviveAReconnect) {
  FakeSmsc smsc(FastOptions());
  smsc.FailNextSubmits(1, kRthrottled);
  smsc.HoldReceipts(true);
  std::string id;
  {
    SmppClient client;
    client.ConnectAndBind(smsc.port());
    client.Submit(1, "4670000001", "first", 1);
    EXPECT_EQ(Int(client.SubmitResp(1), "status"), static_cast<std::int64_t>(kRthrottled));
    client.Submit(2, "4670000001", "second", 1);
    auto r = client.SubmitResp(2);
    EXPECT_EQ(Int(r, "status"), 0);
    id = Str(r, "message_id");
    ASSERT_TRUE(smsc.WaitForEvent(EventWith("receipt_held", "message_id", id), seconds(2)));
    // The "gateway" goes away with the receipt still due.
  }
  auto subs = smsc.submits();
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].status, kRthrottled);
  EXPECT_EQ(subs[0].message_id, "");

  // Held submit_sm_resp: none until released.
  SmppClient held;
  held.ConnectAndBind(smsc.port());
  smsc.HoldSubmits(true);
  held.Submit(3, "4670000001", "held", 0);
  ASSERT_EQ(smsc.WaitForSubmits(3, seconds(2)).size(), 3u);
  EXPECT_FALSE(held.proc().WaitForEvent(EventIs("submit_sm_resp"), milliseconds(300)));
  EXPECT_EQ(smsc.ReleaseSubmits(), 1);
  EXPECT_EQ(Int(held.SubmitResp(3), "status"), 0);
  held.Close();

  SmppClient restarted;
  std::size_t mark = smsc.EventCount();
  restarted.ConnectAndBind(smsc.port());
  ASSERT_TRUE(smsc.WaitForBinds(1, seconds(2), mark));
  EXPECT_EQ(smsc.ReleaseReceipts(), 1);
  auto receipt = restarted.proc().WaitForEvent(EventWith("deliver_sm", "esm_class", 4), seconds(3));
  ASSERT_TRUE(receipt) << smsc.Transcript();
  EXPECT_EQ(Str(*receipt, "receipted_message_id"), id);
}

TEST(FakeSmscTest, MoIsDeliveredAndRetriedAfterAnErrorAnswerOrNoAnswer) {
  FakeSmsc smsc(FastOptions());
  SmppClient client;
  client.ConnectAndBind(smsc.port());
  client.AnswerDeliver(json::array{kRsyserr, "none"});

  SmscMo mo;
  mo.source = "4670000009";
  mo.dest = "12345";
  mo.text = "hej";
  mo.tlvs = {{"source_port", 4242}};
  int id = smsc.SendMo(mo);
  auto done = smsc.WaitForDeliveryDone(id, seconds(5));
  ASSERT_TRUE(done) << smsc.Transcript();
  EXPECT_EQ(Str(*done, "result"), "delivered");
  EXPECT_EQ(Int(*done, "attempts"), 3);

  auto answers = smsc.mo_answers();
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].outcome, SmscDeliverAnswer::Outcome::kResponse);
  EXPECT_EQ(answers[0].status, kRsyserr);
  EXPECT_EQ(answers[1].outcome, SmscDeliverAnswer::Outcome::kTimeout);
  EXPECT_EQ(answers[2].outcome, SmscDeliverAnswer::Outcome::kResponse);
  EXPECT_EQ(answers[2].status, 0u);
  // The retry waits the retry interval after the error answer.
  auto attempts = smsc.Matching(EventWith("deliver_sm", "delivery_id", id));
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_GE(Int(attempts[1], "t_ms") - answers[0].t_ms, 190);

  auto got = client.proc().WaitForEvents(EventWith("deliver_sm", "source_addr", "4670000009"), 3,
                                         seconds(1));
  ASSERT_EQ(got.size(), 3u);
  for (const auto& e : got) {
    EXPECT_EQ(FromHex(Str(e, "short_message_hex")), "hej");
    EXPECT_EQ(Str(e, "destination_addr"), "12345");
    EXPECT_EQ(Int(e, "esm_class"), 0);
  }

  // An ESME that always refuses: the SMSC gives up after max_attempts.
  client.AnswerDeliver(json::array{kRsyserr, kRsyserr});
  SmscMo refused;
  refused.source = "4670000008";
  refused.dest = "12345";
  refused.short_message = std::string("\x00\x01\xff", 3);
  refused.data_coding = 4;
  refused.max_attempts = 2;
  int id2 = smsc.SendMo(refused);
  auto done2 = smsc.WaitForDeliveryDone(id2, seconds(5));
  ASSERT_TRUE(done2);
  EXPECT_EQ(Str(*done2, "result"), "gave_up");
  EXPECT_EQ(Int(*done2, "attempts"), 2);
  EXPECT_EQ(Str(smsc.Matching(EventWith("deliver_sm", "delivery_id", id2)).at(0),
                "short_message_hex"),
            "0001ff");
}

TEST(FakeSmscTest, DownDropsSessionsAndUpListensOnTheSamePort) {
  FakeSmsc smsc(FastOptions());
  int port = smsc.port();
  SmppClient client;
  client.ConnectAndBind(port);
  smsc.Down();
  ASSERT_TRUE(client.proc().WaitForEvent(EventIs("close"), seconds(2)));
  EXPECT_FALSE(client.TryConnect(port));

  // An MO due while no ESME is bound waits for the next bind.
  SmscMo mo;
  mo.source = "4670000007";
  mo.dest = "12345";
  mo.text = "while down";
  int id = smsc.SendMo(mo);
  ASSERT_TRUE(smsc.WaitForEvent(EventWith("deliver_sm_waiting", "delivery_id", id), seconds(1)));

  smsc.Up();
  EXPECT_EQ(smsc.port(), port);
  SmppClient again;
  again.ConnectAndBind(port);
  auto done = smsc.WaitForDeliveryDone(id, seconds(3));
  ASSERT_TRUE(done) << smsc.Transcript();
  EXPECT_EQ(Str(*done, "result"), "delivered");
  EXPECT_EQ(Int(*done, "attempts"), 1);

  // enquire_link and unbind from the SMSC's side.
  smsc.SendEnquireLink();
  EXPECT_TRUE(again.proc().WaitForEvent(EventIs("enquire_link"), seconds(2)));
  EXPECT_TRUE(smsc.WaitForEvent(EventWith("enquire_link_resp", "status", 0), seconds(2)));
  smsc.SendUnbind();
  EXPECT_TRUE(smsc.WaitForEvent(EventIs("unbind_resp"), seconds(2)));
  EXPECT_TRUE(again.proc().WaitForEvent(EventIs("close"), seconds(2)));
  auto counters = smsc.Counters();
  EXPECT_EQ(Int(counters, "binds_ok"), 2);
  EXPECT_EQ(Int(counters, "bound_sessions"), 0);
}

TEST(FakeSmscTest, SurvivesGarbageFromTheEsmeAndSendsGarbageToIt) {
  FakeSmsc smsc(FastOptions());
  {
    // A command_length below the header: generic_nack, then the session is dropped.
    RawConnection raw(smsc.port());
    ASSERT_TRUE(raw.ok());
    raw.Write(std::string("\x00\x00\x00\x05garbage", 11));
    std::string got = raw.ReadUntilClosed(seconds(2));
    ASSERT_GE(got.size(), 16u);
    EXPECT_EQ(ToHex(got.substr(4, 4)), "80000000");  // generic_nack
  }
  {
    // An unknown command: generic_nack ESME_RINVCMDID, the session stays.
    RawConnection raw(smsc.port());
    raw.Write(FromHex("00000010000000ee0000000000000007"));
    raw.Write(FromHex("00000010000000150000000000000008"));  // enquire_link
    std::string got = raw.ReadUntilClosed(seconds(3), 32);
    ASSERT_EQ(got.size(), 32u) << ToHex(got);
    EXPECT_EQ(ToHex(got.substr(0, 16)), "00000010800000000000000300000007");
    EXPECT_EQ(ToHex(got.substr(16, 16)), "00000010800000150000000000000008");
  }
  {
    // A submit_sm whose body ends after the source address: ESME_RINVCMDLEN.
    RawConnection raw(smsc.port());
    raw.Write(FromHex("000000150000000400000000000000090001013100"));
    std::string got = raw.ReadUntilClosed(seconds(3), 16);
    ASSERT_GE(got.size(), 16u) << ToHex(got);
    EXPECT_EQ(ToHex(got.substr(4, 12)), "800000040000000200000009");
  }
  EXPECT_TRUE(smsc.WaitForEvent(EventIs("protocol_error"), seconds(1)));
  EXPECT_TRUE(smsc.WaitForEvent(EventIs("unknown_command"), seconds(1)));

  // Garbage towards a real client, then the SMSC still serves a fresh one.
  {
    SmppClient client;
    client.ConnectAndBind(smsc.port());
    smsc.SendMalformed("unknown_command");
    smsc.SendMalformed("truncated_deliver_sm");
    smsc.SendGarbage(std::string("\x00\x00\x00\x05\xff", 5));
  }
  SmppClient fresh;
  fresh.ConnectAndBind(smsc.port());
  fresh.Submit(1, "4670000001", "still alive", 0);
  EXPECT_EQ(Int(fresh.SubmitResp(1), "status"), 0);
  EXPECT_TRUE(smsc.Matching(EventIs("error")).empty()) << smsc.Transcript();
}

}  // namespace
}  // namespace msgin5g::testing_support
