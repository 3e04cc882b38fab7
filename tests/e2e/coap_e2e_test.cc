// MSGin5G-1 (CoAP, docs/coap.md) end to end: the real msgin5gd, the real msgin5g-ue simulator and
// the real coap-client-openssl (libcoap3-bin) on loopback, a real HTTP/2 test AS
// (tests/support/receiver.h) on the SBI side. Nothing is mocked.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/client_thread.h"
#include "api/coap/wire.h"
#include "tests/support/coap_wire.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/json_util.h"
#include "tests/support/metric_value.h"
#include "tests/support/receiver.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
using ts::Json;
using ts::Str;
using ts::Addr;
using api::http::ClientRequest;

const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";

// The simulator sits next to the daemon in the build tree: BUILD/daemon/msgin5gd ->
// BUILD/tools/msgin5g-ue.
std::string UePath() {
  return std::filesystem::path(ts::DaemonPath()).parent_path().parent_path().string() +
         "/tools/msgin5g-ue";
}

// The JSON objects among `text`'s lines (msgin5g-ue listen prints its REG answer as "2.01 {...}",
// then every received body as one JSON line).
std::vector<boost::json::object> JsonLines(const std::string& text) {
  std::vector<boost::json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') out.push_back(Json(line));
  }
  return out;
}

// 32 hex digits of an ASCII key: coap-client-openssl's -k takes the key as text, msgin5gd's
// [ues.ID] psk_key and msgin5g-ue's --psk-key as hex.
std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

// A UDP port on 127.0.0.1 that is free now (for coap-client-openssl -p).
int FreeUdpPort() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class CoapE2E : public ::testing::Test {
 protected:
  const int ue_port_ = FreeUdpPort();
  void Start(std::vector<std::string> extra = {}) {
    daemon_ = std::make_unique<ts::Daemon>(dir_.File("data"), dir_.path(), std::move(extra));
  }
  ts::Daemon& d() { return *daemon_; }
  std::string coap_server() { return "127.0.0.1:" + std::to_string(d().coap_port()); }
  std::string coaps_server() { return "127.0.0.1:" + std::to_string(d().coaps_port()); }
  std::string coap_uri() { return "coap://" + coap_server() + "/msgin5g"; }

  // msgin5g-ue with `args` (options and command), run to its end.
  ts::RunResult Ue(std::vector<std::string> args, std::chrono::milliseconds timeout = 40s) {
    args.insert(args.begin(), UePath());
    return ts::Run(args, "", timeout);
  }
  // coap-client-openssl POST /msgin5g with a JSON `body` (Content-Format 50). It exits 0 even on
  // an error code; the answer is on stdout (2.xx) or "4.03 {...}" on stderr.
  // Every call sends from the same local port (-p), as one UE would: over plain UDP msgin5gd
  // takes a UE's MSG, IMDN and DEREG only from the address it registered from.
  ts::RunResult CoapPost(const std::string& body, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"coap-client-openssl", "-m", "post", "-t", "50", "-B", "10"};
    if (std::find(extra.begin(), extra.end(), "-p") == extra.end()) {
      argv.insert(argv.end(), {"-p", std::to_string(ue_port_)});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"-e", body, coap_uri()});
    return ts::Run(argv, "", 30s);
  }

  api::http::Response Post(const std::string& path, const std::string& body) {
    ClientRequest req;
    req.url = "http://" + d().sbi() + path;
    req.headers.push_back({"content-type", "application/json"});
    req.body = body;
    auto r = client_.Call(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : api::http::Response{};
  }
  ts::CurlResult Admin(const std::string& path) {
    return d().Admin("GET", path);
  }
  void RegisterAs(const std::string& svc, const std::string& target) {
    auto r = Post("/msgs-asregistration/v1/registrations",
                  R"({"asSvcId":")" + svc + R"(","targetUri":")" + target + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // AS as-1 -> UE `ue`, stored and forwarded; `extra` starts with a comma.
  void SendToUe(const std::string& ue, const std::string& msg_id, const std::string& payload,
                const std::string& extra = "") {
    auto r = Post(kDeliverAs, R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":")" +
                                  ue + R"("},"msgId":")" + msg_id +
                                  R"(","stoAndFwInd":true,"payload":")" + payload + "\"" + extra +
                                  "}");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::uint64_t QueueCount(const std::string& type, const std::string& addr) {
    auto j = Json(Admin("/queues/" + type + "/" + addr).body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : ~0ull;
  }
  bool QueueDrains(const std::string& type, const std::string& addr, std::chrono::seconds timeout) {
    return ts::WaitFor([&] { return QueueCount(type, addr) == 0; }, timeout);
  }
  double Metric(const std::string& series) {
    return ts::MetricValue(ts::Curl({"http://" + d().metrics() + "/metrics"}).body, series);
  }
  // The admin stats' queued counts by priority, as one string ("HIGH/MIDDLE/LOW").
  std::string Queued() {
    auto j = Json(Admin("/stats").body);
    if (!j.contains("queued")) return "?";
    auto& q = j["queued"].as_object();
    return std::to_string(q["HIGH"].to_number<std::uint64_t>()) + "/" +
           std::to_string(q["MIDDLE"].to_number<std::uint64_t>()) + "/" +
           std::to_string(q["LOW"].to_number<std::uint64_t>());
  }

  // `msgin5g-ue listen` for `ue` in the background, printing to `out_path`, once its REG is
  // answered. `extra` goes before the command (e.g. --max-seg 64).
  std::unique_ptr<ts::Process> Listener(const std::string& ue, const std::string& out_path,
                                        std::vector<std::string> extra) {
    std::vector<std::string> argv = {UePath(), "--server", coap_server(), "--ue", ue};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"listen", "--seconds", "20"});
    auto p = std::make_unique<ts::Process>(argv, out_path);
    EXPECT_TRUE(ts::WaitFor(
        [&] { return ts::ReadFile(out_path).find("2.01 ") != std::string::npos; }, 10s))
        << ts::ReadFile(out_path);
    return p;
  }
  // "abc...zab..." of `n` bytes.
  static std::string Letters(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>('a' + i % 26));
    return out;
  }

  ts::TempDir dir_;
  ts::Receiver as_;
  ts::ClientThread client_;
  std::unique_ptr<ts::Daemon> daemon_;
};

// The issue's check: UE A registers and goes away; an AS sends it 10 messages of mixed priority
// with delivery reports asked for. The server's CON POST to A's old socket is never answered, so
// A is taken as asleep and all 10 park. When A registers again (msgin5g-ue listen) every message
// arrives exactly once, HIGH before MIDDLE before LOW, the AS gets 10 REPT_DELY_SUCCESS and A's
// queue is empty. Over UDP (our own endpoint, and libcoap's with coap.udp_engine = "libcoap"), and
// over DTLS-PSK (where the UE's exit also closes its DTLS session: the server then has no session
// to try at all).
class SleepingUe : public CoapE2E, public ::testing::WithParamInterface<std::string> {};

TEST_P(SleepingUe, GetsEverythingInPriorityOrderWhenItRegistersAgain) {
  const bool dtls = GetParam() == "DtlsPsk";
  std::vector<std::string> opts = {"--set", "coap.ack_timeout_ms=1000", "--set",
                                   "coap.max_retransmit=1"};
  if (GetParam() == "UdpLibcoap") opts.insert(opts.end(), {"--set", "coap.udp_engine=libcoap"});
  std::vector<std::string> ue = {"--ue", "ue-A"};
  if (dtls) {
    const std::string key = "ue-A secret key!";
    ts::WriteFile(dir_.File("ues.toml"), "[ues.ue-A]\npsk_key = \"" + Hex(key) + "\"\n");
    opts.insert(opts.end(), {"--config", dir_.File("ues.toml"), "--set",
                             "coap.dtls_listen=127.0.0.1:0", "--set", "coap.listen="});
  }
  Start(opts);
  ASSERT_TRUE(d().ok()) << d().log();
  if (dtls) {
    ue.insert(ue.end(), {"--server", coaps_server(), "--psk-key", Hex("ue-A secret key!")});
  } else {
    ue.insert(ue.end(), {"--server", coap_server()});
  }
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> a = ue;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  RegisterAs("as-1", as_.as_target("as-1"));

  auto reg = Ue(with({"register"}));
  ASSERT_EQ(reg.exit_code, 0) << reg.out << reg.err;
  auto reg_answer = reg.out.substr(reg.out.find('{'));
  EXPECT_EQ(reg.out.rfind("2.01 ", 0), 0u) << reg.out;
  auto ra = Json(reg_answer);
  EXPECT_EQ(Str(ra, "msgType"), "REG") << reg.out;
  EXPECT_EQ(Str(ra, "ueSvcId"), "ue-A") << reg.out;
  // The process has exited: its socket is gone, the server still has its session.

  const std::vector<std::string> priorities = {"LOW",    "HIGH", "MIDDLE", "MIDDLE", "LOW",
                                               "HIGH",   "MIDDLE", "LOW",  "HIGH",   "MIDDLE"};
  std::map<std::string, int> rank;  // msgId -> 0 HIGH, 1 MIDDLE, 2 LOW
  for (std::size_t i = 0; i < priorities.size(); ++i) {
    const std::string id = "a-" + std::to_string(i);
    rank[id] = priorities[i] == "HIGH" ? 0 : priorities[i] == "MIDDLE" ? 1 : 2;
    SendToUe("ue-A", id, "hello " + id,
             R"(,"delivStReqInd":true,"priority":")" + priorities[i] + "\"");
  }
  // ack_timeout 1 s, one retransmission: within ~4.5 s the first CON POST is given up and A
  // sleeps; all 10 entries then wait parked.
  const std::string unrouted = R"(msgin5g_delivery_pending_entries{state="unrouted"})";
  // ...and nothing is in flight to the old session any more (the server has settled: what it
  // sent there has been given up).
  ASSERT_TRUE(ts::WaitFor(
      [&] { return Metric(unrouted) == 10 && Metric("msgin5g_delivery_in_flight") == 0; }, 20s))
      << "unrouted " << Metric(unrouted) << "\n" << d().log();
  EXPECT_EQ(QueueCount("UE", "ue-A"), 10u);
  EXPECT_TRUE(as_.received("/deliver-report").empty());
  EXPECT_EQ(Metric("msgin5g_broker_ues_asleep"), 1) << "the dashboard's asleep UEs";

  auto listen = Ue(with({"listen", "--count", "10", "--seconds", "10"}));
  // `listen --count N` counts from before the REG (the first MSG often beats the REG's answer)
  // and exits 0 as soon as the Nth arrives.
  EXPECT_EQ(listen.exit_code, 0) << listen.out << listen.err;
  EXPECT_EQ(listen.out.rfind("2.01 ", 0), 0u) << listen.out;  // REG answered first
  EXPECT_EQ(Metric("msgin5g_broker_ues_asleep"), 0) << "awake again after its REG";
  std::vector<std::string> order;
  std::map<std::string, int> times;
  int aggregated = 0;  // messages that arrived inside an aggregated MSG
  for (const auto& m : JsonLines(listen.out)) {
    if (Str(m, "msgType") == "REG") continue;
    EXPECT_EQ(Str(m, "msgType"), "MSG") << boost::json::serialize(m);
    const std::string id = Str(m, "msgId");
    EXPECT_EQ(Addr(m, "destAddr"), "ue-A");
    EXPECT_EQ(Addr(m, "oriAddr"), "as-1");
    EXPECT_EQ(Str(m, "payload"), "hello " + id);
    if (times[id]++ == 0) order.push_back(id);
    // Aggregation (TS 23.554 8.4.3): small MIDDLE/LOW messages travel together, HIGH ones alone.
    const auto* agg = m.if_contains("inAggregate");
    const std::int64_t in_aggregate = agg != nullptr ? agg->to_number<std::int64_t>() : 1;
    if (rank[id] == 0) {
      EXPECT_EQ(in_aggregate, 1) << id << " (HIGH) was aggregated";
    }
    if (in_aggregate > 1) ++aggregated;
  }
  ASSERT_EQ(order.size(), 10u) << listen.out;
  // How many travel together depends on how many wait at once, i.e. on this machine's timing;
  // that they do is checked without timing in WaitingMessagesTravelAggregatedBehindAnUnansweredOne.
  EXPECT_EQ(Metric("msgin5g_coap_aggregated_messages_total"), aggregated);
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << id << " printed twice";
  for (std::size_t i = 1; i < order.size(); ++i) {
    EXPECT_LE(rank[order[i - 1]], rank[order[i]])
        << "position " << i << ": " << order[i - 1] << " before " << order[i] << "\n"
        << listen.out << "\n" << d().log();
  }

  ASSERT_TRUE(as_.WaitFor("/as/as-1/deliver-report", 10, 10s)) << d().log();
  std::set<std::string> reported;
  for (const auto& r : as_.received("/as/as-1/deliver-report")) {
    auto j = Json(r.body);
    EXPECT_EQ(Str(j, "delivSt"), "REPT_DELY_SUCCESS") << r.body;
    EXPECT_EQ(Addr(j, "oriAddr"), "ue-A") << r.body;  // the recipient reports
    EXPECT_EQ(Addr(j, "destAddr"), "as-1") << r.body;
    reported.insert(Str(j, "msgId"));
  }
  std::set<std::string> expected;
  for (const auto& [id, r] : rank) expected.insert(id);
  EXPECT_EQ(reported, expected);
  EXPECT_TRUE(QueueDrains("UE", "ue-A", 5s)) << QueueCount("UE", "ue-A");
  EXPECT_TRUE(ts::WaitFor([&] { return Metric(unrouted) == 0; }, 5s)) << Metric(unrouted);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(as_.received("/deliver-report").size(), 10u) << "one report per message";
}

INSTANTIATE_TEST_SUITE_P(Transports, SleepingUe, ::testing::Values("Udp", "UdpLibcoap", "DtlsPsk"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// The same over DTLS-PSK: a UE with its key registers on the coaps port, receives what waited for
// it and sends to an AS; a wrong key does not get in; a UE may not act for another UE id than its
// PSK identity (4.03).
TEST_F(CoapE2E, DtlsPskDeliversAndHoldsUesToTheirIdentity) {
  const std::string key_b = "ue-B secret key!";  // 16 bytes
  const std::string key_c = "ue-C secret key!";
  ts::WriteFile(dir_.File("ues.toml"), "[ues.ue-B]\npsk_key = \"" + Hex(key_b) +
                                           "\"\n[ues.ue-C]\npsk_key = \"" + Hex(key_c) + "\"\n");
  Start({"--config", dir_.File("ues.toml"), "--set", "coap.dtls_listen=127.0.0.1:0"});
  ASSERT_TRUE(d().ok()) << d().log();
  ASSERT_NE(d().coaps_port(), 0);
  RegisterAs("as-1", as_.as_target("as-1"));

  // A wrong key: the server drops the handshake's Finished (DTLS discards records that fail
  // their MAC, no alert), so msgin5g-ue hears nothing and gives up after --timeout. It runs in
  // the background meanwhile; checked at the end.
  const std::string wrong_out = dir_.File("wrong-key.out");
  ts::Process wrong({UePath(), "--server", coaps_server(), "--ue", "ue-B", "--psk-key",
                     Hex("not the right k!"), "--timeout", "4", "register"},
                    wrong_out);

  for (int i = 0; i < 3; ++i) SendToUe("ue-B", "b-" + std::to_string(i), "dtls " + std::to_string(i));
  EXPECT_EQ(QueueCount("UE", "ue-B"), 3u);
  auto listen = Ue({"--server", coaps_server(), "--ue", "ue-B", "--psk-key", Hex(key_b), "listen",
                    "--count", "3", "--seconds", "5"});
  EXPECT_EQ(listen.exit_code, 0) << listen.out << listen.err;
  EXPECT_EQ(listen.out.rfind("2.01 ", 0), 0u) << listen.out;
  std::set<std::string> got;
  for (const auto& m : JsonLines(listen.out)) {
    if (Str(m, "msgType") != "MSG") continue;
    EXPECT_EQ(Str(m, "payload"), "dtls " + Str(m, "msgId").substr(2));
    got.insert(Str(m, "msgId"));
  }
  EXPECT_EQ(got, (std::set<std::string>{"b-0", "b-1", "b-2"})) << listen.out;
  EXPECT_TRUE(QueueDrains("UE", "ue-B", 5s));

  // UE-originated over DTLS, to the AS.
  auto send = Ue({"--server", coaps_server(), "--ue", "ue-B", "--psk-key", Hex(key_b), "send",
                  "--to", "AS:as-1", "--payload", "from B", "--msg-id", "bo-1"});
  EXPECT_EQ(send.exit_code, 0) << send.out << send.err;
  EXPECT_EQ(Str(Json(send.out.substr(std::min(send.out.find('{'), send.out.size()))), "msgType"),
            "MSGRESP")
      << send.out;
  ASSERT_TRUE(as_.WaitFor("/as/as-1/deliver-message", 1, 10s)) << d().log();
  auto delivered = Json(as_.received("/as/as-1/deliver-message").front().body);
  EXPECT_EQ(Str(delivered, "msgId"), "bo-1");
  EXPECT_EQ(Str(delivered, "payload"), "from B");
  EXPECT_EQ(Addr(delivered, "oriAddr"), "ue-B");

  // An identity the server has no key for fails the same way.
  auto unknown = Ue({"--server", coaps_server(), "--ue", "ue-Z", "--psk-key", Hex(key_b),
                     "register"});
  EXPECT_NE(unknown.exit_code, 0) << unknown.out << unknown.err;

  // ue-C (a valid PSK identity) acting for ue-B: refused, REG and MSG alike.
  const std::string coaps_uri = "coaps://" + coaps_server() + "/msgin5g";
  auto as_c = [&](const std::string& body) {
    return ts::Run({"coap-client-openssl", "-m", "post", "-t", "50", "-B", "10", "-u", "ue-C",
                    "-k", key_c, "-e", body, coaps_uri},
                   "", 30s);
  };
  auto own = as_c(R"({"msgType":"REG","ueSvcId":"ue-C"})");
  EXPECT_EQ(Str(Json(own.out), "ueSvcId"), "ue-C") << own.out << own.err;  // the key works
  auto imp = as_c(R"({"msgType":"REG","ueSvcId":"ue-B"})");
  EXPECT_EQ(imp.err.find("4.03"), 0u) << imp.out << "|" << imp.err;
  EXPECT_NE(imp.err.find("ORIGINATOR_NOT_ALLOWED"), std::string::npos) << imp.err;
  EXPECT_EQ(imp.out, "");
  auto imp_msg = as_c(R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-B"},)"
                      R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"fake-1",)"
                      R"("payload":"not from B","stoAndFwInd":true})");
  EXPECT_EQ(imp_msg.err.find("4.03"), 0u) << imp_msg.out << "|" << imp_msg.err;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(as_.received("/as/as-1/deliver-message").size(), 1u) << "fake-1 was not accepted";

  // A UE with a DTLS key may not use plain UDP: anyone could claim to be it there.
  auto udp = CoapPost(R"({"msgType":"REG","ueSvcId":"ue-B"})");
  EXPECT_EQ(udp.err.find("4.03"), 0u) << udp.out << "|" << udp.err;
  EXPECT_NE(udp.err.find("must use coaps://"), std::string::npos) << udp.err;

  // The wrong key never got a REG through.
  auto wrong_rc = wrong.Wait(15s);
  ASSERT_TRUE(wrong_rc.has_value()) << "msgin5g-ue with a wrong key still running";
  EXPECT_EQ(*wrong_rc, 1) << ts::ReadFile(wrong_out);
  EXPECT_EQ(ts::ReadFile(wrong_out).find("2.01"), std::string::npos) << ts::ReadFile(wrong_out);
  EXPECT_NE(ts::ReadFile(wrong_out).find("no answer"), std::string::npos) << ts::ReadFile(wrong_out);
  // Successful REGs over CoAP: ue-B's listen and ue-C's own; nothing for the wrong key or ue-Z.
  EXPECT_EQ(Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="REG"})"), 2);
}

// The README's quick start, step by step: the AS's m-1 to ue-1 is stored and reaches ue-1 when it
// registers with msgin5g-ue (it is not lost: the old quick start registered ue-1 with
// coap-client, which answered the push with 4.04). Then docs/coap.md "By hand", with
// coap-client-openssl; the README quotes these two commands (the test substitutes the daemon's
// port for 5683, and a free local port for 56830: both come from one address, as over plain UDP
// a UE's MSG must come from where it registered):
//
//   coap-client-openssl -m post -t 50 -p 56830 -e '{"msgType":"REG","ueSvcId":"ue-3"}' coap://127.0.0.1:5683/msgin5g
//   coap-client-openssl -m post -t 50 -p 56830 -e '{"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-3"},"destAddr":{"addrType":"UE","addr":"ue-2"},"msgId":"m1","payload":"hello","stoAndFwInd":true}' coap://127.0.0.1:5683/msgin5g
//
// The first prints {"msgType":"REG","ueSvcId":"ue-3","result":{"status":201,"cause":"SUCCESS"}},
// the second {"msgType":"MSGRESP","oriAddr":{"addrType":"UE","addr":"ue-3"},"msgId":"m1",
// "status":"DELY_STORED"} (ue-2 is not registered: the message waits for it).
TEST_F(CoapE2E, ReadmeExampleByHand) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  auto m1 = Post(kDeliverAs,
                 R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"m-1","stoAndFwInd":true,"payload":"hello"})");
  ASSERT_EQ(m1.status, 200) << m1.body;
  EXPECT_NE(m1.body.find("DELY_STORED"), std::string::npos) << m1.body;
  EXPECT_EQ(QueueCount("UE", "ue-1"), 1u);
  auto ue1 = Ue({"--server", coap_server(), "--ue", "ue-1", "listen", "--count", "1"});
  EXPECT_EQ(ue1.exit_code, 0) << ue1.out << ue1.err;
  EXPECT_NE(ue1.out.find("\"msgId\":\"m-1\""), std::string::npos) << ue1.out;
  EXPECT_TRUE(QueueDrains("UE", "ue-1", 5s));

  const std::string port = std::to_string(ue_port_);  // the README's 56830
  auto reg = ts::Run({"coap-client-openssl", "-m", "post", "-t", "50", "-p", port, "-e",
                      R"({"msgType":"REG","ueSvcId":"ue-3"})", coap_uri()},
                     "", 30s);
  EXPECT_EQ(reg.out, R"({"msgType":"REG","ueSvcId":"ue-3","result":{"status":201,"cause":"SUCCESS"}})" "\n")
      << reg.err;  // coap-client ends the answer with a newline
  auto msg = ts::Run({"coap-client-openssl", "-m", "post", "-t", "50", "-p", port, "-e",
                      R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-3"},"destAddr":{"addrType":"UE","addr":"ue-2"},"msgId":"m1","payload":"hello","stoAndFwInd":true})",
                      coap_uri()},
                     "", 30s);
  EXPECT_EQ(msg.out,
            R"({"msgType":"MSGRESP","oriAddr":{"addrType":"UE","addr":"ue-3"},"msgId":"m1","status":"DELY_STORED"})" "\n")
      << msg.err;
  EXPECT_EQ(QueueCount("UE", "ue-2"), 1u);
  auto queue = Json(Admin("/queues/UE/ue-2").body);
  EXPECT_EQ(queue["byPriority"].as_object()["MIDDLE"].to_number<int>(), 1);
  EXPECT_EQ(Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="MSG"})"), 1);
}

// Bad input: each is answered with its CoAP error code and a ProblemDetails payload, nothing is
// stored, and the daemon stays up.
// broker.max_ue_registrations: the REG of a new UE past it gets 5.03 ProblemDetails and stores
// nothing; a registered UE may always REG again; the count survives a restart.
TEST_F(CoapE2E, RegistrationOfANewUePastTheBoundGets503) {
  const std::vector<std::string> bound = {"--set", "broker.max_ue_registrations=2"};
  Start(bound);
  ASSERT_TRUE(d().ok()) << d().log();
  for (const char* ue : {"ue-1", "ue-2"}) {
    auto reg = CoapPost(std::string(R"({"msgType":"REG","ueSvcId":")") + ue + R"("})");
    ASSERT_NE(reg.out.find("SUCCESS"), std::string::npos) << ue << reg.out << reg.err;
  }
  auto refused_reg = [&] {
    auto r = CoapPost(R"({"msgType":"REG","ueSvcId":"ue-3"})");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("5.03 ", 0), 0u) << r.err;
    auto p = Json(r.err.substr(std::min(r.err.find('{'), r.err.size())));
    EXPECT_EQ(p["status"].is_int64() ? p["status"].as_int64() : -1, 503) << r.err;
    EXPECT_EQ(Str(p, "cause"), "NF_CONGESTION") << r.err;
    EXPECT_NE(Str(p, "detail").find("broker.max_ue_registrations"), std::string::npos) << r.err;
  };
  refused_reg();
  {
    // The 5.03 says when to come back: Max-Age = api.retry_after_seconds (RFC 8516).
    namespace wire = ts::coap_wire;
    wire::Peer peer(d().coap_port());
    peer.Send(wire::Post(7, "r3", R"({"msgType":"REG","ueSvcId":"ue-3"})"));
    std::string max_age;
    for (int i = 0; i < 100 && max_age.empty(); ++i) {
      pollfd p{peer.fd(), POLLIN, 0};
      poll(&p, 1, 50);
      for (const auto& got : peer.Drain()) {
        if (got.size() < 2 || static_cast<unsigned char>(got[1]) != ((5 << 5) | 3)) continue;
        for (const auto& o : wire::ParseOptions(got)) {
          if (o.number == wire::kMaxAge) max_age = o.value.empty() ? std::string(1, '\0') : o.value;
        }
        if (max_age.empty()) max_age = "none";
      }
    }
    EXPECT_EQ(max_age, std::string(1, '\x01')) << "Max-Age of the 5.03 (1 s by default)";
  }
  // Not registered: its MSG is refused as from an unknown UE.
  auto msg = CoapPost(
      R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-3"},"destAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"x","payload":"x","stoAndFwInd":true})");
  EXPECT_EQ(msg.err.rfind("4.03 ", 0), 0u) << msg.err;
  auto again = CoapPost(R"({"msgType":"REG","ueSvcId":"ue-1"})");
  EXPECT_NE(again.out.find("SUCCESS"), std::string::npos) << again.err;  // known: always
  auto metrics = ts::Curl({"http://" + d().metrics() + "/metrics"}).body;
  EXPECT_EQ(ts::MetricValue(metrics, "msgin5g_broker_usage{bound=\"ue_registrations\"}"), 2);
  EXPECT_EQ(ts::MetricValue(metrics, "msgin5g_broker_limit_refused_total{bound=\"ue_registrations\"}"),
            2);  // coap-client's REG and the raw one

  auto code = d().proc().Stop(SIGTERM, 10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << d().log();
  Start(bound);
  ASSERT_TRUE(d().ok()) << d().log();
  refused_reg();
  auto dereg = CoapPost(R"({"msgType":"DEREG","ueSvcId":"ue-2"})");
  EXPECT_NE(dereg.out.find("SUCCESS"), std::string::npos) << dereg.out << dereg.err;
  auto reg3 = CoapPost(R"({"msgType":"REG","ueSvcId":"ue-3"})");
  EXPECT_NE(reg3.out.find("SUCCESS"), std::string::npos) << reg3.out << reg3.err;
}

TEST_F(CoapE2E, BadInputIsRefusedWithDiagnosticsAndNothingStored) {
  Start({"--set", "coap.max_body_bytes=1024"});
  ASSERT_TRUE(d().ok()) << d().log();
  auto reg = CoapPost(R"({"msgType":"REG","ueSvcId":"ue-1"})");
  ASSERT_NE(reg.out.find("SUCCESS"), std::string::npos) << reg.out << reg.err;
  const std::string before = Queued();
  ASSERT_EQ(before, "0/0/0");

  // "4.00 {json}" on stderr: the code and the ProblemDetails.
  auto expect_error = [&](const std::string& what, const ts::RunResult& r, const std::string& code,
                          int status, const std::string& cause) -> boost::json::object {
    EXPECT_EQ(r.out, "") << what;
    EXPECT_EQ(r.err.rfind(code + " ", 0), 0u) << what << ": " << r.err;
    auto p = Json(r.err.substr(std::min(r.err.find('{'), r.err.size())));
    EXPECT_EQ(p["status"].is_int64() ? p["status"].as_int64() : -1, status) << what << ": " << r.err;
    EXPECT_EQ(Str(p, "cause"), cause) << what << ": " << r.err;
    EXPECT_FALSE(Str(p, "detail").empty()) << what << ": " << r.err;
    return p;
  };
  const std::string msg_head =
      R"({"msgType":"MSG","destAddr":{"addrType":"UE","addr":"ue-2"},"payload":"x","stoAndFwInd":true,)";

  expect_error("malformed JSON", CoapPost(R"({"msgType":"MSG",)"), "4.00", 400,
               "INVALID_MSG_FORMAT");
  auto unknown = expect_error("unknown msgType", CoapPost(R"({"msgType":"HELLO"})"), "4.00", 400,
                              "MANDATORY_IE_INCORRECT");
  EXPECT_NE(Str(unknown, "detail").find("HELLO"), std::string::npos);
  auto no_id = expect_error("MSG without msgId",
                            CoapPost(msg_head + R"("oriAddr":{"addrType":"UE","addr":"ue-1"}})"),
                            "4.00", 400, "MANDATORY_IE_MISSING");
  ASSERT_TRUE(no_id.contains("invalidParams")) << boost::json::serialize(no_id);
  EXPECT_EQ(Str(no_id["invalidParams"].as_array().at(0).as_object(), "param"), "/msgId");

  // 2 KB through block-wise transfer (coap-client -f): over coap.max_body_bytes.
  std::string big = msg_head + R"("oriAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"big","x":")" +
                    std::string(2048, 'a') + "\"}";
  ts::WriteFile(dir_.File("big.json"), big);
  expect_error("2 KB body",
               ts::Run({"coap-client-openssl", "-m", "post", "-t", "50", "-B", "10", "-f",
                        dir_.File("big.json"), coap_uri()},
                       "", 30s),
               "4.13", 413, "PAYLOAD_TOO_LARGE");
  expect_error("MSG from an unregistered UE",
               CoapPost(msg_head + R"("oriAddr":{"addrType":"UE","addr":"ue-9"},"msgId":"u-1"})"),
               "4.03", 403, "ORIGINATOR_NOT_ALLOWED");
  auto no_ue = expect_error("REG without ueSvcId", CoapPost(R"({"msgType":"REG"})"), "4.00", 400,
                           "MANDATORY_IE_MISSING");
  EXPECT_EQ(Str(no_ue["invalidParams"].as_array().at(0).as_object(), "param"), "/ueSvcId");
  auto typed = expect_error("REG with a numeric ueSvcId",
                            CoapPost(R"({"msgType":"REG","ueSvcId":7})"), "4.00", 400,
                            "MANDATORY_IE_INCORRECT");
  EXPECT_EQ(Str(typed["invalidParams"].as_array().at(0).as_object(), "param"), "/ueSvcId");
  expect_error("DEREG of an unknown UE", CoapPost(R"({"msgType":"DEREG","ueSvcId":"ue-nobody"})"),
               "4.04", 404, "UNKNOWN_RECIPIENT");
  // Segment recovery requests act on what was sent to the UE's current address: from another
  // port, ue-1's SEGREC is not ue-1's.
  expect_error("SEGREC from another address than the UE's",
               CoapPost(R"({"msgType":"SEGREC","ueSvcId":"ue-1","segId":"s","missingSegs":[1]})",
                        {"-p", std::to_string(FreeUdpPort())}),
               "4.03", 403, "ORIGINATOR_NOT_ALLOWED");
  expect_error("SEGCONFIR without ueSvcId", CoapPost(R"({"msgType":"SEGCONFIR","segId":"s"})"),
               "4.00", 400, "MANDATORY_IE_MISSING");
  // What libcoap used to answer itself, in plain text: another method, another path.
  auto other = [&](const std::string& method, const std::string& path) {
    return ts::Run({"coap-client-openssl", "-m", method, "-B", "10",
                    "coap://" + coap_server() + path},
                   "", 30s);
  };
  expect_error("GET /msgin5g", other("get", "/msgin5g"), "4.05", 405, "METHOD_NOT_ALLOWED");
  expect_error("DELETE /msgin5g", other("delete", "/msgin5g"), "4.05", 405, "METHOD_NOT_ALLOWED");
  expect_error("POST /other", other("post", "/other"), "4.04", 404,
               "RESOURCE_URI_STRUCTURE_NOT_FOUND");
  expect_error("PUT /a/b", other("put", "/a/b"), "4.04", 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND");
  {
    // An unrecognised critical option (RFC 7252 §5.4.1; coap-client cannot send one): 4.02 with
    // a ProblemDetails, the MSG it carries not stored.
    namespace raw = ts::coap_wire;
    raw::Peer peer(d().coap_port());
    peer.Send(raw::Post(9, "bo", msg_head + R"("oriAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"bo-1"})",
                        {{9, "x"}}));
    std::string answer;
    ASSERT_TRUE(ts::WaitFor(
        [&] {
          pollfd p{peer.fd(), POLLIN, 0};
          poll(&p, 1, 50);
          for (const auto& g : peer.Drain()) answer = g;
          return !answer.empty();
        },
        10s));
    auto m = api::coap::wire::Parse(answer);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->type, api::coap::wire::Type::kAck);
    EXPECT_EQ(m->code, api::coap::wire::Code(4, 2));
    auto p = Json(std::string(m->payload));
    EXPECT_EQ(p["status"].as_int64(), 402);
    EXPECT_EQ(Str(p, "cause"), "INVALID_MSG_FORMAT");
    EXPECT_NE(Str(p, "detail").find("option 9"), std::string::npos) << Str(p, "detail");
  }

  EXPECT_EQ(Queued(), before);
  EXPECT_EQ(QueueCount("UE", "ue-2"), 0u);
  EXPECT_EQ(Json(Admin("/messages/UE/ue-9/u-1").body).contains("outcome"), false);
  EXPECT_TRUE(d().proc().running());
  EXPECT_EQ(ts::Curl({"http://" + d().metrics() + "/healthz"}).status, 200);
  // The endpoint still works after all that.
  auto ok = CoapPost(msg_head + R"("oriAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"ok-1"})");
  EXPECT_NE(ok.out.find("MSGRESP"), std::string::npos) << ok.out << ok.err;
  EXPECT_EQ(QueueCount("UE", "ue-2"), 1u);
  EXPECT_EQ(Metric(R"(msgin5g_coap_requests_total{class="4.xx",msg_type="MSG"})"), 2);
}

// Over plain UDP the source address is all that identifies a UE: MSG, IMDN and DEREG for a UE
// from any address but the one it registered from are refused (4.03), store nothing and leave
// its downlink where it was (the attack: a MSG as ue-v from elsewhere used to be stored as
// ue-v's and moved ue-v's deliveries to the sender; anyone could DEREG anyone).
TEST_F(CoapE2E, PlainUdpRequestsForAUeMustComeFromItsRegisteredAddress) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  const std::string out = dir_.File("victim.out");
  ts::Process victim({UePath(), "--server", coap_server(), "--ue", "ue-v", "listen", "--count", "1",
                      "--seconds", "20"},
                     out);
  for (int i = 0; i < 100 && Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="REG"})") < 1; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="REG"})"), 1) << d().log();
  const std::string before = Queued();

  auto refused = [&](const std::string& what, const std::string& body, const std::string& code) {
    auto r = CoapPost(body);  // from this test's own port, not the victim's
    EXPECT_EQ(r.out, "") << what;
    EXPECT_EQ(r.err.rfind(code + " ", 0), 0u) << what << ": " << r.err;
    auto p = Json(r.err.substr(std::min(r.err.find('{'), r.err.size())));
    EXPECT_EQ(Str(p, "cause"), "ORIGINATOR_NOT_ALLOWED") << what << ": " << r.err;
  };
  refused("MSG as ue-v",
          R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-v"},"destAddr":{"addrType":"UE","addr":"ue-2"},"msgId":"spoof-1","payload":"x","stoAndFwInd":true})",
          "4.03");
  refused("IMDN as ue-v",
          R"({"msgType":"IMDN","oriAddr":{"addrType":"UE","addr":"ue-v"},"destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"m-1","delivSt":"REPT_DELY_SUCCESS"})",
          "4.03");
  refused("DEREG of ue-v", R"({"msgType":"DEREG","ueSvcId":"ue-v"})", "4.03");
  EXPECT_EQ(Queued(), before);
  EXPECT_EQ(QueueCount("UE", "ue-2"), 0u);

  // ue-v is still registered where it was: the next message reaches the victim's own socket.
  SendToUe("ue-v", "after-attack", "still yours");
  auto rc = victim.Wait(30s);
  ASSERT_TRUE(rc.has_value()) << ts::ReadFile(out);
  EXPECT_EQ(*rc, 0) << ts::ReadFile(out);
  EXPECT_NE(ts::ReadFile(out).find("after-attack"), std::string::npos) << ts::ReadFile(out);
}

// The configuration refuses plain UDP on a non-loopback address unless coap.insecure_udp says
// the operator accepts that UEs are then known by source address only.
TEST_F(CoapE2E, PlainUdpOffLoopbackNeedsInsecureUdp) {
  auto check = [](std::vector<std::string> extra) {
    std::vector<std::string> argv = {ts::DaemonPath(), "--check-config", "--set", "coap.listen=0.0.0.0:5683"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return ts::Run(argv, "", 30s);
  };
  auto refused = check({});
  EXPECT_EQ(refused.exit_code, 78) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("coap.insecure_udp"), std::string::npos) << refused.err;
  auto allowed = check({"--set", "coap.insecure_udp=true"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
}

// A push the UE refuses with 4.04 (coap-client, for one, serves no /msgin5g: the README's old
// quick start lost its message that way, without a word) is a permanent failure, and it leaves a
// trace: a log line with msgId, oriAddr and the cause; the recipient's final state and cause in
// the admin message view after the message is gone; the REPT_DELY_FAILED report asked for.
TEST_F(CoapE2E, APushTheUeRefusesLeavesATrace) {
  namespace wire = ts::coap_wire;
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", as_.as_target("as-1"));
  SendToUe("ue-r", "m-refused", "hello", R"(,"delivStReqInd":true)");

  wire::Peer ue(d().coap_port());
  ue.set_auto_ack(false);
  ue.Send(wire::Post(1, "rg", R"({"msgType":"REG","ueSvcId":"ue-r"})"));
  bool pushed = false;
  for (int i = 0; i < 200 && !pushed; ++i) {
    pollfd p{ue.fd(), POLLIN, 0};
    poll(&p, 1, 50);
    for (const auto& got : ue.Drain()) {
      if (got.size() < 4 || ((got[0] >> 4) & 3) != wire::kCon) continue;
      const auto mid = static_cast<std::uint16_t>((static_cast<unsigned char>(got[2]) << 8) |
                                                  static_cast<unsigned char>(got[3]));
      const std::string token = got.substr(4, static_cast<std::size_t>(got[0] & 0x0f));
      if (static_cast<unsigned char>(got[1]) == wire::kPost) {
        ue.Send(wire::Pdu(wire::kAck, (4 << 5) | 4, mid, token, {}, ""));  // 4.04 to the push
        pushed = true;
      } else {
        ue.Send(wire::Pdu(wire::kAck, 0, mid, "", {}, ""));  // the REG's separate 2.01
      }
    }
  }
  ASSERT_TRUE(pushed) << d().log();

  boost::json::object view;
  ASSERT_TRUE(ts::WaitFor(
      [&] {
        view = Json(Admin("/messages/AS/as-1/m-refused").body);
        return view.contains("undelivered");
      },
      10s))
      << boost::json::serialize(view);
  EXPECT_EQ(Str(view, "state"), "FINISHED");
  const auto& u = view["undelivered"].as_array().at(0).as_object();
  EXPECT_EQ(Str(u, "addrType"), "UE");
  EXPECT_EQ(Str(u, "addr"), "ue-r");
  EXPECT_EQ(Str(u, "state"), "FAILED");
  EXPECT_NE(Str(u, "cause").find("4.04"), std::string::npos) << Str(u, "cause");
  EXPECT_TRUE(ts::WaitFor(
      [&] {
        const std::string log = d().log();
        return log.find("msgId=\"m-refused\" oriAddr=AS:as-1 to UE:ue-r failed") != std::string::npos;
      },
      5s))
      << d().log();
  ASSERT_TRUE(as_.WaitFor("/as/as-1/deliver-report", 1, 10s)) << d().log();
  auto report = Json(as_.received("/as/as-1/deliver-report").front().body);
  EXPECT_EQ(Str(report, "delivSt"), "REPT_DELY_FAILED");
  EXPECT_EQ(Str(report, "msgId"), "m-refused");
}

// Aggregation (TS 23.554 8.4.3) without timing: a raw UE acknowledges the first push but holds
// its answer (an empty ACK: the answer would follow separately), so the other three MIDDLE
// messages wait behind it (one request at a time per UE); once it answers, they leave together
// as one {"msgType":"MSG","aggregated":[...]} request whose one 2.04 delivers all three.
TEST_F(CoapE2E, WaitingMessagesTravelAggregatedBehindAnUnansweredOne) {
  namespace raw = ts::coap_wire;
  namespace cw = api::coap::wire;
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  for (int i = 0; i < 4; ++i) {
    SendToUe("ue-g", "g-" + std::to_string(i), "small " + std::to_string(i), R"(,"priority":"MIDDLE")");
  }
  raw::Peer ue(d().coap_port());
  ue.set_auto_ack(false);
  ue.Send(raw::Post(1, "rg", R"({"msgType":"REG","ueSvcId":"ue-g"})"));
  struct Push {
    std::uint16_t mid;
    std::string token, body;
  };
  std::vector<Push> pushes;
  // Reads for up to `ms`, acknowledging the REG's separate answer; pushes are collected.
  auto read = [&](std::chrono::milliseconds ms) {
    const auto end = std::chrono::steady_clock::now() + ms;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{ue.fd(), POLLIN, 0};
      poll(&p, 1, 20);
      for (const auto& got : ue.Drain()) {
        auto m = cw::Parse(got);
        if (!m.ok() || m->type != cw::Type::kCon) continue;
        if (m->code == cw::kPost) {
          pushes.push_back({m->message_id, std::string(m->token), std::string(m->payload)});
        } else {
          ue.Send(raw::Pdu(raw::kAck, 0, m->message_id, "", {}, ""));
        }
      }
    }
  };
  ASSERT_TRUE(ts::WaitFor([&] { read(50ms); return !pushes.empty(); }, 10s)) << d().log();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(Str(Json(pushes[0].body), "msgId"), "g-0") << pushes[0].body;
  ue.Send(raw::Pdu(raw::kAck, 0, pushes[0].mid, "", {}, ""));  // acknowledged, answer held
  // All four are with the CoAP channel now: one sent, three queued behind it.
  ASSERT_TRUE(ts::WaitFor([&] { return Metric("msgin5g_delivery_in_flight") == 4; }, 10s))
      << Metric("msgin5g_delivery_in_flight");
  read(300ms);
  EXPECT_EQ(pushes.size(), 1u) << "a second request went out while the first was unanswered";
  // The held answer, as a separate response (confirmable, the push's token).
  ue.Send(raw::Pdu(raw::kCon, (2 << 5) | 4, 700, pushes[0].token, {{raw::kContentFormat, raw::Uint(50)}},
                   R"({"msgType":"MSGRESP","msgId":"g-0"})"));
  ASSERT_TRUE(ts::WaitFor([&] { read(50ms); return pushes.size() >= 2; }, 10s)) << d().log();
  auto second = Json(pushes[1].body);
  EXPECT_EQ(Str(second, "msgType"), "MSG") << pushes[1].body;
  ASSERT_TRUE(second.contains("aggregated") && second["aggregated"].is_array()) << pushes[1].body;
  std::vector<std::string> ids;
  for (const auto& item : second["aggregated"].as_array()) ids.push_back(Str(item.as_object(), "msgId"));
  EXPECT_EQ(ids, (std::vector<std::string>{"g-1", "g-2", "g-3"}));
  ue.Send(raw::Pdu(raw::kAck, (2 << 5) | 4, pushes[1].mid, pushes[1].token, {}, ""));
  EXPECT_TRUE(QueueDrains("UE", "ue-g", 10s)) << QueueCount("UE", "ue-g");
  EXPECT_EQ(Metric("msgin5g_coap_aggregated_messages_total"), 3);
}

// A message over one CoAP block (1,024 bytes) from our UDP endpoint to a libcoap UE goes
// block-wise (Block1, the UE answering 2.31 to each block but the last) and arrives whole. (Large
// answers go block-wise too, Block2; libcoap's clients fetch the later blocks of a 2.xx answer
// only, so that is checked in coap_udp_endpoint_test with a raw peer.)
TEST_F(CoapE2E, LargeMessagesToUesGoBlockWise) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  const std::string out_path = dir_.File("ue-7.out");
  auto listener = Listener("ue-7", out_path, {"--max-seg", "8192"});
  const std::string payload = Letters(3000);
  SendToUe("ue-7", "large-7", payload);
  auto whole = [&] {
    for (const auto& m : JsonLines(ts::ReadFile(out_path))) {
      if (Str(m, "msgId") == "large-7") return Str(m, "payload") == payload;
    }
    return false;
  };
  EXPECT_TRUE(ts::WaitFor(whole, 15s)) << ts::ReadFile(out_path).substr(0, 400);
  listener->Stop(SIGTERM, 5s);
  EXPECT_TRUE(QueueDrains("UE", "ue-7", 5s));
}

// UE -> AS over HTTP/2; and AS -> UE segmented to the UE's maxSegSize.
TEST_F(CoapE2E, UeToAsAndSegmentsToAUe) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", as_.as_target("as-1"));

  auto reg = Ue({"--server", coap_server(), "--ue", "ue-5", "register"});
  ASSERT_EQ(reg.exit_code, 0) << reg.out << reg.err;
  auto send = Ue({"--server", coap_server(), "--ue", "ue-5", "send", "--to", "AS:as-1",
                  "--payload", "to the AS over CoAP", "--msg-id", "u5-1"});
  EXPECT_EQ(send.exit_code, 0) << send.out << send.err;
  EXPECT_EQ(send.out.rfind("2.01 ", 0), 0u) << send.out;
  ASSERT_TRUE(as_.WaitFor("/as/as-1/deliver-message", 1, 10s)) << d().log();
  auto got = as_.received("/as/as-1/deliver-message");
  ASSERT_EQ(got.size(), 1u);
  auto m = Json(got[0].body);
  EXPECT_EQ(Str(m, "msgId"), "u5-1") << got[0].body;
  EXPECT_EQ(Str(m, "payload"), "to the AS over CoAP");
  EXPECT_EQ(Addr(m, "oriAddr"), "ue-5");
  EXPECT_EQ(Addr(m, "destAddr"), "as-1");
  EXPECT_FALSE(m.contains("msgType")) << "the SBI body is a plain UEMessageDelivery";
  EXPECT_TRUE(QueueDrains("AS", "as-1", 5s));

  // ue-6 listens with maxSegSize 64; a 300-byte payload reaches it in segments.
  const std::string out_path = dir_.File("ue-6.out");
  auto listener = Listener("ue-6", out_path, {"--max-seg", "64"});
  const std::string payload = Letters(300);
  SendToUe("ue-6", "big-6", payload);
  std::map<std::int64_t, std::string> pieces;
  std::int64_t total = -1;
  auto collect = [&] {
    pieces.clear();
    for (const auto& s : JsonLines(ts::ReadFile(out_path))) {
      if (Str(s, "msgType") != "MSG") continue;
      const auto* sp = s.if_contains("segParams");
      if (sp == nullptr || !sp->is_object()) continue;
      const auto& p = sp->as_object();
      total = p.contains("totalSegCount") ? p.at("totalSegCount").to_number<std::int64_t>() : -1;
      pieces[p.contains("segNumb") ? p.at("segNumb").to_number<std::int64_t>() : 0] =
          Str(s, "payload");
    }
    return total > 0 && static_cast<std::int64_t>(pieces.size()) == total;
  };
  EXPECT_TRUE(ts::WaitFor(collect, 15s)) << ts::ReadFile(out_path);
  listener->Stop(SIGTERM, 5s);
  const auto lines = JsonLines(ts::ReadFile(out_path));
  int segments = 0;
  std::set<std::string> seg_ids;
  for (const auto& s : lines) {
    if (Str(s, "msgType") != "MSG") continue;
    ++segments;
    EXPECT_TRUE(s.contains("segInd") && s.at("segInd").is_bool() && s.at("segInd").as_bool())
        << boost::json::serialize(s);
    ASSERT_TRUE(s.contains("segParams")) << boost::json::serialize(s);
    const auto& p = s.at("segParams").as_object();
    seg_ids.insert(Str(p, "segId"));
    EXPECT_EQ(p.at("lastSegFlag").as_bool(), p.at("segNumb").to_number<std::int64_t>() == total);
    EXPECT_LE(Str(s, "payload").size(), 64u);
    EXPECT_EQ(Addr(s, "destAddr"), "ue-6");
  }
  EXPECT_GT(total, 1);
  EXPECT_EQ(segments, total);
  EXPECT_EQ(seg_ids, (std::set<std::string>{"big-6"}));
  std::string joined;
  for (const auto& [n, piece] : pieces) joined += piece;
  EXPECT_EQ(joined, payload);
  EXPECT_TRUE(QueueDrains("UE", "ue-6", 5s));
}

// Segment recovery, UE -> server (docs/coap.md "Segments"): ue-s sends a 4-segment message to the
// AS but holds segment 2 back. After coap.segment_recovery_ms of silence the server asks for it
// (SEGREC missingSegs [2]); the UE sends it; the set completes, the AS receives one reassembled
// message, and the server confirms (SEGCONFIR SUCCESS). A UE that never completes its set is
// given up after coap.segment_recovery_requests SEGRECs.
TEST_F(CoapE2E, UeSegmentSetIsRecoveredWithSegrecAndConfirmed) {
  Start({"--set", "coap.segment_recovery_ms=300", "--set", "coap.segment_recovery_requests=2"});
  ASSERT_TRUE(d().ok()) << d().log();
  RegisterAs("as-1", as_.as_target("as-1"));
  ASSERT_EQ(Ue({"--server", coap_server(), "--ue", "ue-s", "register"}).exit_code, 0);

  const std::string payload = "0123456789abcdefghijklmnopqrstuvwxyz";  // 36 bytes: 4 segments of 10
  auto send = Ue({"--server", coap_server(), "--ue", "ue-s", "send", "--to", "AS:as-1", "--payload",
                  payload, "--msg-id", "s-1", "--seg-size", "10", "--skip-seg", "2", "--seconds",
                  "10"});
  EXPECT_EQ(send.exit_code, 0) << send.out << send.err;
  std::vector<std::string> control;
  for (const auto& m : JsonLines(send.out)) {
    control.push_back(boost::json::serialize(m));
  }
  EXPECT_EQ(control, (std::vector<std::string>{
                         R"({"msgType":"SEGREC","segId":"s-1","missingSegs":[2]})",
                         R"({"msgType":"SEGCONFIR","segId":"s-1","result":"SUCCESS"})"}))
      << send.out;
  ASSERT_TRUE(as_.WaitFor("/as/as-1/deliver-message", 1, 10s)) << d().log();
  std::this_thread::sleep_for(200ms);
  auto got = as_.received("/as/as-1/deliver-message");
  ASSERT_EQ(got.size(), 1u);
  auto m = Json(got[0].body);
  EXPECT_EQ(Str(m, "msgId"), "s-1");
  EXPECT_EQ(Str(m, "payload"), payload);
  EXPECT_EQ(Addr(m, "oriAddr"), "ue-s");
  EXPECT_EQ(Metric(R"(msgin5g_coap_segment_recovery_total{event="segrec_sent"})"), 1);
  EXPECT_EQ(Metric(R"(msgin5g_coap_segment_recovery_total{event="recovered"})"), 1);

  // ue-g sends segment 1 of 3 and is gone: two SEGRECs, then the set is given up. Nothing
  // reaches the AS.
  auto part = Ue({"--server", coap_server(), "--ue", "ue-g", "request", "--body",
                  R"({"msgType":"MSG","oriAddr":{"addrType":"UE","addr":"ue-g"},)"
                  R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"g-1#1","payload":"part","stoAndFwInd":true,)"
                  R"("segInd":true,"segParams":{"segId":"g-1","totalSegCount":3,"segNumb":1}})"});
  EXPECT_EQ(part.exit_code, 0) << part.out << part.err;
  EXPECT_TRUE(ts::WaitFor(
      [&] { return Metric(R"(msgin5g_coap_segment_recovery_total{event="given_up"})") == 1; }, 15s))
      << d().log();
  EXPECT_EQ(Metric(R"(msgin5g_coap_segment_recovery_total{event="segrec_sent"})"), 3);
  EXPECT_EQ(as_.received("/as/as-1/deliver-message").size(), 1u);
}

// Segment recovery, server -> UE: ue-l drops segment 2 of a 5-segment message once (answered, then
// lost), asks for it with SEGREC when the last segment is in, gets it again from the server's
// window of sent segments, reassembles the whole payload and confirms. SEGRECs the server cannot
// serve are refused precisely.
TEST_F(CoapE2E, SegmentsLostByTheUeAreSentAgainOnItsSegrec) {
  Start();
  ASSERT_TRUE(d().ok()) << d().log();
  const std::string out_path = dir_.File("ue-l.out");
  auto listener = Listener("ue-l", out_path, {"--max-seg", "64", "--lose-seg", "2"});
  const std::string payload = Letters(300);
  SendToUe("ue-l", "big-l", payload);
  auto reassembled = [&]() -> boost::json::object {
    for (const auto& l : JsonLines(ts::ReadFile(out_path))) {
      if (Str(l, "event") == "reassembled") return l;
    }
    return {};
  };
  ASSERT_TRUE(ts::WaitFor([&] { return !reassembled().empty(); }, 15s)) << ts::ReadFile(out_path);
  auto whole = reassembled();
  EXPECT_EQ(Str(whole, "segId"), "big-l");
  EXPECT_EQ(whole["segments"].to_number<int>(), 5);
  EXPECT_EQ(Str(whole, "payload"), payload);
  EXPECT_EQ(Metric(R"(msgin5g_coap_segment_recovery_total{event="resent"})"), 1);
  // The UE's SEGCONFIR arrives after its reassembly.
  EXPECT_TRUE(ts::WaitFor(
      [&] { return Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="SEGCONFIR"})") == 1; },
      5s));
  EXPECT_EQ(Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="SEGREC"})"), 1);
  listener->Stop(SIGTERM, 5s);
  EXPECT_TRUE(QueueDrains("UE", "ue-l", 5s));

  // From a registered UE's own socket (msgin5g-ue request registers first).
  auto ask = [&](const std::string& body) {
    return Ue({"--server", coap_server(), "--ue", "ue-l", "request", "--body", body});
  };
  auto confirmed = ask(R"({"msgType":"SEGREC","ueSvcId":"ue-l","segId":"big-l","missingSegs":[2]})");
  EXPECT_NE(confirmed.out.find("4.04 "), std::string::npos) << confirmed.out;
  EXPECT_NE(confirmed.out.find("SEGMENTS_NOT_HELD"), std::string::npos)
      << "confirmed sets are let go: " << confirmed.out;
  auto bad = ask(R"({"msgType":"SEGREC","ueSvcId":"ue-l","segId":"big-l","missingSegs":[0]})");
  EXPECT_NE(bad.out.find("4.00 "), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("/missingSegs/0"), std::string::npos) << bad.out;
  auto bad_result = ask(R"({"msgType":"SEGCONFIR","ueSvcId":"ue-l","segId":"big-l","result":"MAYBE"})");
  EXPECT_NE(bad_result.out.find("4.00 "), std::string::npos) << bad_result.out;
  EXPECT_NE(bad_result.out.find("/result"), std::string::npos) << bad_result.out;
}

// DTLS with certificates (coap.dtls_cert_listen), beside DTLS-PSK: a UE whose certificate
// chains to coap.dtls_ca_file is the UE its certificate names. PKI made with the openssl CLI.
TEST_F(CoapE2E, DtlsCertificatesNameTheUe) {
  const std::string pki = dir_.File("pki");
  std::filesystem::create_directories(pki);
  auto run = [&](std::vector<std::string> argv) {
    auto r = ts::Run(argv, "", 30s);
    ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
  };
  auto ca = [&](const std::string& name) {
    run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", pki + "/" + name + ".key", "-out", pki + "/" + name + ".pem", "-days",
         "2", "-subj", "/CN=" + name});
  };
  auto issue = [&](const std::string& name, const std::string& cn, const std::string& by) {
    const std::string base = pki + "/" + name;
    run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn});
    run({"openssl", "x509", "-req", "-in", base + ".csr", "-CA", pki + "/" + by + ".pem", "-CAkey",
         pki + "/" + by + ".key", "-set_serial", "0x" + std::to_string(name.size() * 7919), "-days",
         "2", "-out", base + ".pem"});
  };
  ca("ca");
  ca("other-ca");
  issue("server", "localhost", "ca");
  issue("ue-c1", "ue-c1", "ca");
  issue("impostor", "ue-c1", "other-ca");  // the right name, from a CA we do not trust
  const std::string psk = "ue-P secret key!";
  ts::WriteFile(dir_.File("ues.toml"), "[ues.ue-P]\npsk_key = \"" + Hex(psk) + "\"\n");
  Start({"--config", dir_.File("ues.toml"), "--set", "coap.dtls_listen=127.0.0.1:0", "--set",
         "coap.dtls_cert_listen=127.0.0.1:0", "--set", "coap.dtls_cert_file=" + pki + "/server.pem",
         "--set", "coap.dtls_key_file=" + pki + "/server.key", "--set",
         "coap.dtls_ca_file=" + pki + "/ca.pem"});
  ASSERT_TRUE(d().ok()) << d().log();
  ASSERT_NE(d().coaps_cert_port(), 0);
  ASSERT_NE(d().coaps_port(), d().coaps_cert_port());
  RegisterAs("as-1", as_.as_target("as-1"));
  const std::string server = "127.0.0.1:" + std::to_string(d().coaps_cert_port());
  auto with_cert = [&](const std::string& name) {
    return std::vector<std::string>{"--server", server, "--cert", pki + "/" + name + ".pem",
                                    "--key", pki + "/" + name + ".key", "--ca", pki + "/ca.pem"};
  };
  auto args = [](std::vector<std::string> a, std::vector<std::string> more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };

  // Stored while ue-c1 sleeps, delivered over DTLS once it listens.
  SendToUe("ue-c1", "c-0", "cert 0");
  SendToUe("ue-c1", "c-1", "cert 1");
  auto listen = Ue(args(with_cert("ue-c1"), {"--ue", "ue-c1", "listen", "--count", "2", "--seconds", "5"}));
  EXPECT_EQ(listen.exit_code, 0) << listen.out << listen.err;
  std::set<std::string> got;
  for (const auto& m : JsonLines(listen.out)) {
    if (Str(m, "msgType") == "MSG") got.insert(Str(m, "msgId") + "=" + Str(m, "payload"));
  }
  EXPECT_EQ(got, (std::set<std::string>{"c-0=cert 0", "c-1=cert 1"})) << listen.out;
  EXPECT_TRUE(QueueDrains("UE", "ue-c1", 5s));

  auto send = Ue(args(with_cert("ue-c1"),
                      {"--ue", "ue-c1", "send", "--to", "AS:as-1", "--payload", "signed", "--msg-id", "c1-1"}));
  EXPECT_EQ(send.exit_code, 0) << send.out << send.err;
  ASSERT_TRUE(as_.WaitFor("/as/as-1/deliver-message", 1, 10s)) << d().log();
  EXPECT_EQ(Addr(Json(as_.received("/as/as-1/deliver-message").front().body), "oriAddr"), "ue-c1");

  // The certificate names ue-c1: acting for another UE is refused.
  auto other = Ue(args(with_cert("ue-c1"), {"--ue", "ue-c9", "register"}));
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.out.find("4.03 "), std::string::npos) << other.out;
  EXPECT_NE(other.out.find("ORIGINATOR_NOT_ALLOWED"), std::string::npos) << other.out;
  // A certificate from another CA, or none: no handshake, no answer.
  auto impostor = Ue(args(with_cert("impostor"), {"--ue", "ue-c1", "--timeout", "4", "register"}));
  EXPECT_EQ(impostor.exit_code, 1) << impostor.out;
  EXPECT_EQ(impostor.out.find("2.01"), std::string::npos) << impostor.out;
  auto bare = ts::Run({"coap-client-openssl", "-m", "post", "-t", "50", "-B", "4", "-e",
                       R"({"msgType":"REG","ueSvcId":"ue-c1"})", "coaps://" + server + "/msgin5g"},
                      "", 30s);
  EXPECT_EQ(bare.out.find("ueSvcId"), std::string::npos) << bare.out << bare.err;
  EXPECT_NE((bare.out + bare.err).find("handshake failure"), std::string::npos) << bare.out << bare.err;
  // The PSK endpoint works beside it (a second libcoap context on the same thread).
  auto p = Ue({"--server", coaps_server(), "--ue", "ue-P", "--psk-key", Hex(psk), "register"});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  // ue-c1's listen, ue-c1's send needs none; ue-P's REG: 2 successful REGs in all.
  EXPECT_EQ(Metric(R"(msgin5g_coap_requests_total{class="2.xx",msg_type="REG"})"), 2);
  EXPECT_NE(d().log().find("unknown CA"), std::string::npos) << "libcoap's reason is in our log";
}

}  // namespace
}  // namespace msgin5g
