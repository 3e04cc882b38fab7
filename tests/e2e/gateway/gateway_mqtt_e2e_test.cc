// The gateway's N3G role (non-3GPP devices over MQTT) and BG role (Broadcast Areas as MQTT
// topics) end to end, with nothing mocked: a real HTTP/2 AS (tests/support/receiver.h) -> the
// real msgin5gd -> the real msgin5g-gatewayd -> a real mosquitto broker (/usr/sbin/mosquitto, one
// per test on a port of its own) -> devices played by the real mosquitto_sub / mosquitto_pub
// clients, and back (device messages, device reports).
//
// Wiring: the gateway's API listens on a port picked before msgin5gd starts (so msgin5gd's
// gateways.NAME.api_root stays right when the gateway is killed and restarted); the broker runs
// on a port picked before the gateway starts and keeps it across restarts; everything else takes
// port 0 and is read from ready files.
//
// The broker has persistence on (its sessions survive its own restart), and the devices that
// must get messages sent while the broker was down use persistent sessions (mosquitto_sub -c -i
// ID -q 1): the subscription exists before the outage, the broker keeps it across its restart,
// and queues what the gateway publishes before the device has reconnected.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/client_thread.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/gateway_harness.h"
#include "tests/support/json_util.h"
#include "tests/support/receiver.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;
namespace json = boost::json;
using api::http::ClientRequest;
using ts::Json;
using ts::Str;

const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";
const std::string kGwN3gDeliver = "/msgg-n3gdelivery/v1/deliver-message";
const std::string kAsReport = "/as/as-1/deliver-report";
const std::string kAsMessage = "/as/as-1/deliver-message";
const char* kMosquitto = "/usr/sbin/mosquitto";

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A real mosquitto on 127.0.0.1:port(), anonymous, with persistence in its own directory (a
// SIGTERM saves the sessions, the next Start loads them). Start/Stop as often as needed; the
// port stays the same.
class Mosquitto {
 public:
  explicit Mosquitto(std::string dir) : dir_(std::move(dir)), port_(ts::FreePort()) {
    std::filesystem::create_directories(dir_);
    conf_ = dir_ + "/mosquitto.conf";
    std::string c = "listener " + std::to_string(port_) + " 127.0.0.1\n"
                    "allow_anonymous true\n"
                    "persistence true\n"
                    "persistence_location " + dir_ + "/\n"
                    "autosave_interval 0\n"
                    "max_queued_messages 10000\n"  // UplinkBurstSurvivesGatewayKillDashNine
                    "log_type all\n";
    // Run as root (a container), mosquitto would switch to user "mosquitto" and then could not
    // write its persistence file into our directory.
    if (geteuid() == 0) c += "user root\n";
    ts::WriteFile(conf_, c);
  }
  ~Mosquitto() {
    if (proc_) proc_->Stop(SIGKILL, 5s);
  }

  bool Start() {
    log_ = dir_ + "/mosquitto-" + std::to_string(starts_++) + ".log";
    proc_ = std::make_unique<ts::Process>(std::vector<std::string>{kMosquitto, "-c", conf_}, log_);
    bool up = ts::WaitFor([&] { return CanConnect(port_) || !proc_->running(); }, 10s);
    if (!up || !proc_->running()) {
      ADD_FAILURE() << "mosquitto did not start on port " << port_ << ":\n" << log();
      return false;
    }
    return true;
  }
  // SIGTERM: mosquitto saves its sessions and exits.
  void Stop() {
    if (!proc_) return;
    auto rc = proc_->Stop(SIGTERM, 10s);
    EXPECT_TRUE(rc.has_value()) << "mosquitto did not stop";
    EXPECT_FALSE(CanConnect(port_));
  }
  int port() const { return port_; }
  std::string log() const {
    std::string out;
    for (int i = 0; i < starts_; ++i) {
      out += "--- mosquitto run " + std::to_string(i) + " ---\n" +
             ts::ReadFile(dir_ + "/mosquitto-" + std::to_string(i) + ".log");
    }
    return out;
  }

 private:
  std::string dir_;
  int port_;
  std::string conf_, log_;
  int starts_ = 0;
  std::unique_ptr<ts::Process> proc_;
};

struct MqttMessage {
  std::string topic;
  std::string payload;
};

// A device (or any subscriber): mosquitto_sub -v -d on `topics` at QoS 1, output kept in a file.
// With `client_id` and persistent, a persistent session (-c) the broker keeps while it is away.
class Subscriber {
 public:
  Subscriber(const std::string& dir, int port, std::vector<std::string> topics,
             std::string client_id = "", bool persistent = false) {
    static int n = 0;
    log_ = dir + "/sub-" + std::to_string(n++) + ".log";
    // stdbuf -oL: mosquitto_sub's -d lines (the SUBACK this waits for) are printf'd with no
    // flush, so into a file they would sit in stdio's buffer until the first message.
    std::vector<std::string> argv = {"stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p",
                                     std::to_string(port), "-q", "1", "-v", "-d"};
    if (!client_id.empty()) argv.insert(argv.end(), {"-i", client_id});
    if (persistent) argv.push_back("-c");
    for (const auto& t : topics) argv.insert(argv.end(), {"-t", t});
    proc_ = std::make_unique<ts::Process>(argv, log_);
  }
  // Waits for the broker's SUBACK (the n-th one: one per (re)connection).
  bool WaitSubscribed(std::chrono::milliseconds timeout = 10s, int n = 1) {
    return ts::WaitFor([&] { return Count("received SUBACK") >= n; }, timeout);
  }
  // Every message received so far, in order.
  std::vector<MqttMessage> Messages() const {
    std::vector<MqttMessage> out;
    std::istringstream in(ts::ReadFile(log_));
    for (std::string line; std::getline(in, line);) {
      // -d lines ("Client ... received PUBLISH", "Subscribed (mid...") and errors are not
      // messages; a message line is "TOPIC PAYLOAD" and every topic here has a '/'.
      if (line.rfind("Client ", 0) == 0 || line.rfind("Subscribed ", 0) == 0 ||
          line.rfind("Error", 0) == 0 || line.rfind("Warning", 0) == 0) {
        continue;
      }
      auto sp = line.find(' ');
      std::string topic = line.substr(0, sp);
      if (topic.find('/') == std::string::npos) continue;
      out.push_back({topic, sp == std::string::npos ? "" : line.substr(sp + 1)});
    }
    return out;
  }
  std::vector<MqttMessage> On(const std::string& topic) const {
    std::vector<MqttMessage> out;
    for (auto& m : Messages()) {
      if (m.topic == topic) out.push_back(m);
    }
    return out;
  }
  // The messages whose payload is JSON with this msgId.
  std::vector<MqttMessage> WithMsgId(const std::string& msg_id) const {
    std::vector<MqttMessage> out;
    for (auto& m : Messages()) {
      if (Str(Json(m.payload), "msgId") == msg_id) out.push_back(m);
    }
    return out;
  }
  // Waits until a message with msgId `msg_id` arrived; returns the first.
  std::optional<MqttMessage> WaitMsgId(const std::string& msg_id,
                                       std::chrono::milliseconds timeout = 15s) const {
    std::optional<MqttMessage> found;
    ts::WaitFor(
        [&] {
          auto v = WithMsgId(msg_id);
          if (!v.empty()) found = v.front();
          return found.has_value();
        },
        timeout);
    return found;
  }
  std::string log() const { return ts::ReadFile(log_); }
  bool running() { return proc_->running(); }

 private:
  int Count(const std::string& what) const {
    std::string s = ts::ReadFile(log_);
    int n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  }
  std::string log_;
  std::unique_ptr<ts::Process> proc_;
};

std::string Describe(const std::vector<MqttMessage>& v) {
  std::string out;
  for (const auto& m : v) out += m.topic + " " + m.payload.substr(0, 300) + "\n";
  return out;
}

class GatewayMqttE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<Mosquitto>(dir_.File("broker"));
    ASSERT_TRUE(broker_->Start());
    gw_port_ = ts::FreePort();
  }

  // An N3G gateway on the test's broker.
  ts::GatewayConfig BaseConfig() {
    ts::GatewayConfig c;
    c.api_listen = "127.0.0.1:" + std::to_string(gw_port_);
    c.server_api_root = daemon_ ? "http://" + daemon_->sbi() : "http://127.0.0.1:9";
    c.l3g = false;
    c.mqtt_port = broker_->port();
    c.mqtt_client_id = "gw-n3g-1";
    c.n3g = true;
    return c;
  }

  std::vector<std::string> DaemonArgs() {
    return {"--set", "delivery.retry_initial_ms=200",
            "--set", "delivery.retry_max_ms=1000",
            "--set", "delivery.request_timeout_ms=3000",
            "--set", "delivery.connect_timeout_ms=500"};
  }

  // msgin5gd with gateway "n3g-1" at the gateway's (future) address, the AS registered and
  // dev-* routed to n3g-1; then the gateway with `cfg` (BaseConfig() by default), connected.
  void StartAll(std::optional<ts::GatewayConfig> cfg = std::nullopt) {
    auto args = DaemonArgs();
    args.insert(args.end(),
                {"--set", "gateways.n3g-1.type=n3g", "--set",
                 "gateways.n3g-1.api_root=http://127.0.0.1:" + std::to_string(gw_port_)});
    daemon_ = std::make_unique<ts::Daemon>(dir_.File("server-data"), dir_.path(), args);
    ASSERT_TRUE(daemon_->ok()) << daemon_->log();
    RegisterAs("as-1");
    ASSERT_EQ(DaemonAdmin("PUT", "/routing-rules/devices",
                          R"({"pattern":"dev-*","gateway":"n3g-1","order":10})")
                  .status,
              200);
    cfg_ = cfg ? *cfg : BaseConfig();
    cfg_.server_api_root = "http://" + daemon_->sbi();
    StartGateway();
  }

  // (Re)starts the gateway on its data dir; with `ready`, waits for /readyz 200 (broker
  // connected, subscriptions acknowledged).
  void StartGateway(bool ready = true) {
    gw_.reset();
    gw_ = std::make_unique<ts::Gateway>(dir_.File("gateway-data"), dir_.path(), cfg_);
    ASSERT_TRUE(gw_->ok()) << gw_->log();
    if (ready) {
      ASSERT_TRUE(gw_->WaitReady(15s)) << gw_->log() << "\n" << broker_->log();
    }
  }

  ts::CurlResult DaemonAdmin(const std::string& method, const std::string& path,
                             const std::string& body = "") {
    return (*daemon_).Admin(method, path, body);
  }

  api::http::Response PostDaemon(const std::string& path, const std::string& body) {
    ClientRequest req;
    req.url = "http://" + daemon_->sbi() + path;
    req.headers.push_back({"content-type", "application/json"});
    req.body = body;
    auto r = client_.Call(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : api::http::Response{};
  }

  void RegisterAs(const std::string& svc) {
    json::object reg{{"asSvcId", svc}, {"targetUri", as_.as_target(svc)}};
    auto r = PostDaemon("/msgs-asregistration/v1/registrations", json::serialize(reg));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  static std::string AsMessage(const std::string& dest_type, const std::string& dest,
                               const std::string& msg_id, const std::string& payload,
                               bool report = true) {
    json::object m{{"oriAddr", {{"addrType", "AS"}, {"addr", "as-1"}}},
                   {"destAddr", {{"addrType", dest_type}, {"addr", dest}}},
                   {"msgId", msg_id},
                   {"payload", payload},
                   {"stoAndFwInd", true}};
    if (report) m["delivStReqInd"] = true;
    return json::serialize(m);
  }

  // The AS sends `payload` to UE `ue` through msgin5gd; msgin5gd accepts it.
  void SendAs(const std::string& ue, const std::string& msg_id, const std::string& payload,
              bool report = true) {
    auto r = PostDaemon(kDeliverAs, AsMessage("UE", ue, msg_id, payload, report));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // Straight to the gateway's MSGG_N3GDelivery (as msgin5gd would call it).
  ts::CurlResult PostGw(const std::string& body) {
    return ts::Curl({"-X", "POST", "-H", "content-type: application/json", "--data-binary", body,
                     gw_->api_url() + kGwN3gDeliver});
  }

  // Every report the AS got about `msg_id`.
  std::vector<json::object> ReportsFor(const std::string& msg_id) {
    std::vector<json::object> out;
    for (const auto& r : as_.received(kAsReport)) {
      auto j = Json(r.body);
      if (Str(j, "msgId") == msg_id) out.push_back(j);
    }
    return out;
  }
  std::optional<json::object> WaitReport(const std::string& msg_id, const std::string& deliv_st,
                                         std::chrono::milliseconds timeout = 15s) {
    std::optional<json::object> found;
    ts::WaitFor(
        [&] {
          for (auto& j : ReportsFor(msg_id)) {
            if (Str(j, "delivSt") == deliv_st) {
              found = j;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }
  std::string AllReports() {
    std::string out;
    for (const auto& r : as_.received(kAsReport)) out += r.body + "\n";
    return out;
  }
  // Messages the AS got from msgin5gd (deliver-message), from UE `ue`.
  std::vector<json::object> AsMessagesFrom(const std::string& ue) {
    std::vector<json::object> out;
    for (const auto& r : as_.received(kAsMessage)) {
      auto j = Json(r.body);
      if (ts::Addr(j, "oriAddr") == ue) out.push_back(j);
    }
    return out;
  }
  std::string AsMessages() {
    std::string out;
    for (const auto& r : as_.received(kAsMessage)) out += r.body + "\n";
    return out;
  }
  // What msgin5gd still holds for as-1 (~0 when it cannot say).
  std::uint64_t AsQueueCount() {
    auto j = Json(DaemonAdmin("GET", "/queues/AS/as-1").body);
    return j.contains("count") ? j["count"].to_number<std::uint64_t>() : ~0ull;
  }
  // The gateway's admin /queues member `name` (-1 when absent).
  static long GwQueue(const ts::Gateway& gw, const char* name) {
    auto j = Json(gw.AdminGet("/admin/v1/queues").body);
    const auto* v = j.if_contains(name);
    return v != nullptr && v->is_number() ? v->to_number<long>() : -1;
  }
  static bool WaitMetricAtLeast(const ts::Gateway& gw, const std::string& name,
                                const std::map<std::string, std::string>& labels, double min,
                                std::chrono::milliseconds timeout = 10s) {
    return ts::WaitFor([&] { return gw.Metric(name, labels) >= min; }, timeout);
  }
  bool WaitMetricAtLeast(const std::string& name, const std::map<std::string, std::string>& labels,
                         double min, std::chrono::milliseconds timeout = 10s) {
    return WaitMetricAtLeast(*gw_, name, labels, min, timeout);
  }
  // A device publishes (mosquitto_pub, QoS 1).
  ts::RunResult Publish(const std::string& topic, const std::string& payload) {
    return ts::Run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()),
                    "-q", "1", "-t", topic, "-m", payload},
                   "", 15s);
  }
  std::unique_ptr<Subscriber> Device(std::vector<std::string> topics, std::string id = "",
                                     bool persistent = false) {
    auto s = std::make_unique<Subscriber>(dir_.path(), broker_->port(), std::move(topics),
                                          std::move(id), persistent);
    EXPECT_TRUE(s->WaitSubscribed()) << s->log() << broker_->log();
    return s;
  }
  std::string Logs() {
    return "--- gateway log ---\n" + (gw_ ? gw_->log() : std::string("(none)")) +
           "\n--- gateway metrics ---\n" + (gw_ ? gw_->GatewayMetrics() : std::string()) +
           "\n--- msgin5gd log ---\n" + (daemon_ ? daemon_->log() : std::string("(none)")) +
           "\n--- AS reports ---\n" + AllReports() + "--- AS messages ---\n" + AsMessages();
  }

  ts::TempDir dir_;
  ts::Receiver as_;
  ts::ClientThread client_;
  std::unique_ptr<Mosquitto> broker_;
  int gw_port_ = 0;
  std::unique_ptr<ts::Daemon> daemon_;
  ts::GatewayConfig cfg_;
  std::unique_ptr<ts::Gateway> gw_;
};

// ---------------------------------------------------------------------------------------------
// 1. AS -> msgin5gd -> gateway -> device.

// The device gets UEMessageDelivery JSON on msgin5g/dev-1/down (QoS 1); with delivStReqInd the
// AS gets one report, REPT_DELY_SUCCESS, made by the gateway from the broker's PUBACK (msgin5gd
// adds none of its own for an N3G gateway).
TEST_F(GatewayMqttE2E, AsMessageReachesTheDeviceAndPubackIsTheOneReport) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto dev = Device({"msgin5g/dev-1/down"});
  SendAs("dev-1", "m-1", "Hello device \xC3\xA8");

  auto got = dev->WaitMsgId("m-1");
  ASSERT_TRUE(got) << dev->log() << Logs();
  EXPECT_EQ(got->topic, "msgin5g/dev-1/down");
  auto j = Json(got->payload);
  EXPECT_EQ(Str(j, "payload"), "Hello device \xC3\xA8") << got->payload;
  EXPECT_EQ(ts::Addr(j, "oriAddr"), "as-1") << got->payload;
  EXPECT_EQ(ts::Addr(j, "destAddr"), "dev-1") << got->payload;
  ASSERT_TRUE(j.contains("destAddr") && j["destAddr"].is_object()) << got->payload;
  EXPECT_EQ(Str(j["destAddr"].as_object(), "addrType"), "UE") << got->payload;

  auto rep = WaitReport("m-1", "REPT_DELY_SUCCESS");
  ASSERT_TRUE(rep) << Logs();
  EXPECT_EQ(ts::Addr(*rep, "oriAddr"), "dev-1") << json::serialize(*rep);
  EXPECT_EQ(ts::Addr(*rep, "destAddr"), "as-1") << json::serialize(*rep);
  // It is the gateway's report ...
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_reports_total",
                                {{"status", "REPT_DELY_SUCCESS"}, {"reason", "n3g"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "published"}}, 1))
      << gw_->GatewayMetrics();
  // ... and the only one: once msgin5gd has nothing left for the AS.
  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s)) << AsQueueCount();
  EXPECT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "uplink") == 0; }, 10s));
  EXPECT_EQ(ReportsFor("m-1").size(), 1u) << AllReports();
  EXPECT_EQ(dev->WithMsgId("m-1").size(), 1u) << Describe(dev->Messages());
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_mqtt_connected"), 1) << gw_->GatewayMetrics();
}

// ---------------------------------------------------------------------------------------------
// 2. Device -> AS.

// JSON with destAddr reaches that AS; plain text without one goes to the AS that last messaged
// the device (the messaging transaction); a device nobody messaged, with no
// n3g.mo_default_destination, is dropped and counted (up_unroutable).
TEST_F(GatewayMqttE2E, DeviceMessagesReachTheAs) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto r = Publish("msgin5g/dev-1/up",
                   R"({"payload":"temperature 21.5","destAddr":{"addrType":"AS","addr":"as-1"},)"
                   R"("msgId":"up-1"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom("dev-1").empty(); }, 15s)) << Logs();
  auto m = AsMessagesFrom("dev-1").front();
  ASSERT_TRUE(m.contains("oriAddr") && m["oriAddr"].is_object()) << json::serialize(m);
  EXPECT_EQ(Str(m["oriAddr"].as_object(), "addrType"), "UE") << json::serialize(m);
  EXPECT_EQ(ts::Addr(m, "destAddr"), "as-1") << json::serialize(m);
  EXPECT_EQ(Str(m, "payload"), "temperature 21.5") << json::serialize(m);
  EXPECT_EQ(Str(m, "msgId"), "up-1") << json::serialize(m);

  // A transaction: the AS messages dev-2, the device answers in plain text.
  auto dev2 = Device({"msgin5g/dev-2/down"});
  SendAs("dev-2", "m-ask", "What is your state?", /*report=*/false);
  ASSERT_TRUE(dev2->WaitMsgId("m-ask")) << dev2->log() << Logs();
  r = Publish("msgin5g/dev-2/up", "all good, battery 80%");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom("dev-2").empty(); }, 15s)) << Logs();
  m = AsMessagesFrom("dev-2").front();
  EXPECT_EQ(Str(m["oriAddr"].as_object(), "addrType"), "UE") << json::serialize(m);
  EXPECT_EQ(ts::Addr(m, "destAddr"), "as-1") << json::serialize(m);
  EXPECT_EQ(Str(m, "payload"), "all good, battery 80%") << json::serialize(m);
  EXPECT_FALSE(Str(m, "msgId").empty()) << json::serialize(m);

  // Nobody messaged dev-3: dropped.
  r = Publish("msgin5g/dev-3/up", "anyone there?");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "up_unroutable"}}, 1))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "up_messages"}}, 2))
      << gw_->GatewayMetrics();
  EXPECT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "uplink") == 0; }, 10s));
  EXPECT_TRUE(AsMessagesFrom("dev-3").empty()) << AsMessages();
  EXPECT_EQ(AsMessagesFrom("dev-1").size(), 1u) << AsMessages();
  EXPECT_EQ(AsMessagesFrom("dev-2").size(), 1u) << AsMessages();
}

// ---------------------------------------------------------------------------------------------
// 3. Device reports.

// With n3g.device_reports the PUBACK is not the outcome: the device's report on its report
// topic is relayed (here REPT_DELY_FAILED with the device's failureCause), and a device that
// never reports makes REPT_DELY_FAILED NO_DEVICE_REPORT after n3g.report_timeout_s. One report
// per message either way.
TEST_F(GatewayMqttE2E, DeviceReportsAreRelayedOrTimeOut) {
  auto cfg = BaseConfig();
  cfg.n3g_device_reports = true;
  cfg.n3g_report_timeout_s = 2;
  ASSERT_NO_FATAL_FAILURE(StartAll(cfg));
  auto dev = Device({"msgin5g/dev-1/down"});

  SendAs("dev-1", "m-rep", "please report");
  auto got = dev->WaitMsgId("m-rep");
  ASSERT_TRUE(got) << dev->log() << Logs();
  EXPECT_TRUE(Json(got->payload).contains("delivStReqInd")) << got->payload;
  // The device answers as soon as it has the message (as a real one would).
  auto r = Publish("msgin5g/dev-1/report",
                   R"({"msgId":"m-rep","delivSt":"REPT_DELY_FAILED","failureCause":"APP_CLOSED"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = WaitReport("m-rep", "REPT_DELY_FAILED");
  ASSERT_TRUE(rep) << Logs();
  EXPECT_EQ(Str(*rep, "failureCause"), "APP_CLOSED") << json::serialize(*rep);
  EXPECT_EQ(ts::Addr(*rep, "oriAddr"), "dev-1") << json::serialize(*rep);
  EXPECT_EQ(ts::Addr(*rep, "destAddr"), "as-1") << json::serialize(*rep);
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "device_reports"}}, 1))
      << gw_->GatewayMetrics();

  // No report from the device this time.
  auto sent = std::chrono::steady_clock::now();
  SendAs("dev-1", "m-silent", "I will not answer");
  ASSERT_TRUE(dev->WaitMsgId("m-silent")) << dev->log() << Logs();
  rep = WaitReport("m-silent", "REPT_DELY_FAILED", 15s);
  ASSERT_TRUE(rep) << Logs();
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 2s) << "before the timeout";
  EXPECT_NE(Str(*rep, "failureCause").find("NO_DEVICE_REPORT"), std::string::npos)
      << json::serialize(*rep);
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "report_timeouts"}}, 1))
      << gw_->GatewayMetrics();

  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s)) << AsQueueCount();
  EXPECT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "uplink") == 0; }, 10s));
  EXPECT_EQ(ReportsFor("m-rep").size(), 1u) << AllReports();
  EXPECT_EQ(ReportsFor("m-silent").size(), 1u) << AllReports();
  EXPECT_FALSE(WaitReport("m-rep", "REPT_DELY_SUCCESS", 1ms)) << AllReports();
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_n3g_total", {{"outcome", "device_reports_unmatched"}}),
            0)
      << gw_->GatewayMetrics();
}

// A device that reports the moment it has the message (a pipe: mosquitto_sub | sed |
// mosquitto_pub -l, no process start in between, as a real device on a fast network would): its
// report may reach the gateway before the gateway has handled the PUBACK of the message. Every
// report must still be matched and relayed, not dropped as unmatched and then timed out.
TEST_F(GatewayMqttE2E, DeviceReportRightAfterTheMessageIsMatched) {
  auto cfg = BaseConfig();
  cfg.n3g_device_reports = true;
  cfg.n3g_report_timeout_s = 3;
  ASSERT_NO_FATAL_FAILURE(StartAll(cfg));
  constexpr int kMessages = 5;
  const std::string p = std::to_string(broker_->port());
  const std::string script =
      "stdbuf -oL mosquitto_sub -h 127.0.0.1 -p " + p + " -q 1 -i fast-device -W 30 -t msgin5g/dev-1/down"
      " -C " + std::to_string(kMessages) +
      " | sed -u 's/.*\"msgId\":\"\\([^\"]*\\)\".*/{\"msgId\":\"\\1\",\"delivSt\":"
      "\"REPT_DELY_SUCCESS\"}/'"
      " | mosquitto_pub -h 127.0.0.1 -p " + p + " -q 1 -t msgin5g/dev-1/report -l";
  ts::Process device({"bash", "-c", script}, dir_.File("fast-device.log"));
  ASSERT_TRUE(ts::WaitFor(
      [&] { return broker_->log().find("Sending SUBACK to fast-device") != std::string::npos; },
      10s))
      << broker_->log() << ts::ReadFile(dir_.File("fast-device.log"));
  for (int i = 0; i < kMessages; ++i) SendAs("dev-1", "fast-" + std::to_string(i), "report now");
  for (int i = 0; i < kMessages; ++i) {
    const std::string id = "fast-" + std::to_string(i);
    EXPECT_TRUE(WaitReport(id, "REPT_DELY_SUCCESS", 10s))
        << id << "\n" << AllReports() << gw_->GatewayMetrics();
  }
  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s)) << AsQueueCount();
  for (int i = 0; i < kMessages; ++i) {
    const std::string id = "fast-" + std::to_string(i);
    EXPECT_EQ(ReportsFor(id).size(), 1u) << AllReports();
  }
  // Relayed from the device (with device_reports the PUBACK makes no report).
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "device_reports"}},
                                kMessages))
      << gw_->GatewayMetrics();
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_n3g_total", {{"outcome", "device_reports_unmatched"}}),
            0)
      << gw_->GatewayMetrics() << broker_->log();
}

// ---------------------------------------------------------------------------------------------
// 4. Broadcast.

// Two BG gateways (two processes) on one broker, each with its own topic prefix: msgin5gd sends
// a broadcast to north-3 to bc-north (areas north-*) only, one to south-1 to bc-all
// (broker.broadcast_gateway) only. Each is BgMessageDelivery JSON on {prefix}/bc/{areaId}.
TEST_F(GatewayMqttE2E, BroadcastGoesToTheAreasGatewayOnly) {
  const int north_port = gw_port_;
  const int all_port = ts::FreePort();
  auto args = DaemonArgs();
  args.insert(args.end(),
              {"--set", "gateways.bc-north.type=bg",
               "--set", "gateways.bc-north.api_root=http://127.0.0.1:" + std::to_string(north_port),
               "--set", "gateways.bc-north.areas=north-*",
               "--set", "gateways.bc-all.type=bg",
               "--set", "gateways.bc-all.api_root=http://127.0.0.1:" + std::to_string(all_port),
               "--set", "broker.broadcast_gateway=bc-all"});
  daemon_ = std::make_unique<ts::Daemon>(dir_.File("server-data"), dir_.path(), args);
  ASSERT_TRUE(daemon_->ok()) << daemon_->log();
  ASSERT_NO_FATAL_FAILURE(RegisterAs("as-1"));

  auto bg_config = [&](int port, const std::string& id, const std::string& topic) {
    ts::GatewayConfig c = BaseConfig();
    c.api_listen = "127.0.0.1:" + std::to_string(port);
    c.server_api_root = "http://" + daemon_->sbi();
    c.n3g = false;
    c.bg = true;
    c.mqtt_client_id = id;
    c.bg_topic = topic;
    return c;
  };
  ts::Gateway north(dir_.File("gw-north"), dir_.path(),
                    bg_config(north_port, "gw-bc-north", "north/bc/{areaId}"));
  ASSERT_TRUE(north.ok()) << north.log();
  ts::Gateway all(dir_.File("gw-all"), dir_.path(),
                  bg_config(all_port, "gw-bc-all", "all/bc/{areaId}"));
  ASSERT_TRUE(all.ok()) << all.log();
  ASSERT_TRUE(north.WaitReady(15s)) << north.log();
  ASSERT_TRUE(all.WaitReady(15s)) << all.log();
  auto watcher = Device({"north/#", "all/#"});

  auto send_bc = [&](const std::string& area, const std::string& id) {
    auto r = PostDaemon(kDeliverAs, AsMessage("BC", area, id, "broadcast to " + area));
    ASSERT_EQ(r.status, 200) << r.body;
  };
  ASSERT_NO_FATAL_FAILURE(send_bc("north-3", "bc-1"));
  ASSERT_NO_FATAL_FAILURE(send_bc("south-1", "bc-2"));
  auto logs = [&] {
    return "--- north ---\n" + north.log() + north.GatewayMetrics() + "--- all ---\n" +
           all.log() + all.GatewayMetrics() + "--- msgin5gd ---\n" + daemon_->log() +
           "--- watcher ---\n" + Describe(watcher->Messages());
  };
  auto n3 = watcher->WaitMsgId("bc-1");
  ASSERT_TRUE(n3) << logs();
  EXPECT_EQ(n3->topic, "north/bc/north-3");
  auto j = Json(n3->payload);
  EXPECT_EQ(Str(j, "payload"), "broadcast to north-3") << n3->payload;
  EXPECT_EQ(ts::Addr(j, "oriAddr"), "as-1") << n3->payload;
  ASSERT_TRUE(j.contains("destAddr") && j["destAddr"].is_object()) << n3->payload;
  EXPECT_EQ(Str(j["destAddr"].as_object(), "addrType"), "BC") << n3->payload;
  EXPECT_EQ(Str(j["destAddr"].as_object(), "addr"), "north-3") << n3->payload;
  EXPECT_FALSE(Str(j, "priority").empty()) << n3->payload;

  auto s1 = watcher->WaitMsgId("bc-2");
  ASSERT_TRUE(s1) << logs();
  EXPECT_EQ(s1->topic, "all/bc/south-1");
  EXPECT_EQ(Str(Json(s1->payload), "payload"), "broadcast to south-1") << s1->payload;

  // Each gateway published exactly one broadcast (counted as it got the PUBACK), so nothing
  // went to the other prefix.
  EXPECT_TRUE(WaitMetricAtLeast(north, "msgin5g_gateway_n3g_total", {{"outcome", "broadcasts"}}, 1))
      << logs();
  EXPECT_TRUE(WaitMetricAtLeast(all, "msgin5g_gateway_n3g_total", {{"outcome", "broadcasts"}}, 1))
      << logs();
  // msgin5gd reports the hand-over to the BG gateway itself: wait for both, then count.
  EXPECT_TRUE(WaitReport("bc-1", "REPT_DELY_SUCCESS")) << AllReports();
  EXPECT_TRUE(WaitReport("bc-2", "REPT_DELY_SUCCESS")) << AllReports();
  EXPECT_TRUE(ts::WaitFor([&] { return GwQueue(north, "bc") == 0 && GwQueue(all, "bc") == 0; },
                          10s));
  EXPECT_EQ(north.Metric("msgin5g_gateway_n3g_total", {{"outcome", "broadcasts"}}), 1)
      << logs();
  EXPECT_EQ(all.Metric("msgin5g_gateway_n3g_total", {{"outcome", "broadcasts"}}), 1) << logs();
  EXPECT_EQ(watcher->WithMsgId("bc-1").size(), 1u) << logs();
  EXPECT_EQ(watcher->WithMsgId("bc-2").size(), 1u) << logs();
  EXPECT_EQ(watcher->Messages().size(), 2u) << logs();
}

// ---------------------------------------------------------------------------------------------
// 5. Broker outage.

// Broker stopped: the gateway goes unready (503) and still takes messages (204: stored in its
// outbox); the broker back on the same port: every one reaches the device (a persistent session
// subscribed before the outage), once, and the AS gets its success reports.
TEST_F(GatewayMqttE2E, BrokerOutageMessagesAreStoredAndDeliveredAfter) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto dev = Device({"msgin5g/dev-1/down"}, "dev-1-device", /*persistent=*/true);
  SendAs("dev-1", "o-0", "before the outage");
  ASSERT_TRUE(dev->WaitMsgId("o-0")) << dev->log() << Logs();

  broker_->Stop();
  ASSERT_TRUE(ts::WaitFor([&] { return gw_->MetricsGet("/readyz").status == 503; }, 10s))
      << gw_->MetricsGet("/readyz").status << Logs();
  EXPECT_TRUE(ts::WaitFor([&] { return gw_->Metric("msgin5g_gateway_mqtt_connected") == 0; }, 5s))
      << gw_->GatewayMetrics();
  SendAs("dev-1", "o-1", "during the outage 1");
  SendAs("dev-1", "o-2", "during the outage 2");
  // Also straight to the gateway: 204, it took responsibility.
  json::object direct{{"oriAddr", {{"addrType", "AS"}, {"addr", "as-1"}}},
                      {"destAddr", {{"addrType", "UE"}, {"addr", "dev-1"}}},
                      {"msgId", "o-3"},
                      {"payload", "during the outage 3"}};
  auto r = PostGw(json::serialize(direct));
  EXPECT_EQ(r.status, 204) << r.body;
  ASSERT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "mqtt") == 3; }, 10s))
      << gw_->AdminGet("/admin/v1/queues").body << Logs();
  EXPECT_EQ(gw_->MetricsGet("/readyz").status, 503);
  EXPECT_TRUE(dev->WithMsgId("o-1").empty());

  ASSERT_TRUE(broker_->Start());
  // The link's reconnect backoff (1 s doubling, jittered) is what this waits for.
  EXPECT_TRUE(gw_->WaitReady(40s)) << Logs() << broker_->log();
  for (const char* id : {"o-1", "o-2", "o-3"}) {
    EXPECT_TRUE(dev->WaitMsgId(id, 20s)) << id << "\n" << dev->log() << Logs();
  }
  EXPECT_TRUE(WaitReport("o-1", "REPT_DELY_SUCCESS")) << Logs();
  EXPECT_TRUE(WaitReport("o-2", "REPT_DELY_SUCCESS")) << Logs();
  EXPECT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "mqtt") == 0; }, 10s));
  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  for (const char* id : {"o-0", "o-1", "o-2", "o-3"}) {
    EXPECT_EQ(dev->WithMsgId(id).size(), 1u) << id << "\n" << Describe(dev->Messages());
  }
  for (const char* id : {"o-1", "o-2"}) EXPECT_EQ(ReportsFor(id).size(), 1u) << AllReports();
  EXPECT_FALSE(WaitReport("o-1", "REPT_DELY_FAILED", 1ms)) << AllReports();
}

// A broker that stays away longer than n3g.max_attempts publish attempts: the message fails,
// and the AS is told so (REPT_DELY_FAILED MQTT_BROKER_UNREACHABLE), once; it is not published
// when the broker comes back.
TEST_F(GatewayMqttE2E, BrokerAwayPastMaxAttemptsIsReportedFailed) {
  auto cfg = BaseConfig();
  cfg.n3g_max_attempts = 3;
  ASSERT_NO_FATAL_FAILURE(StartAll(cfg));
  auto dev = Device({"msgin5g/dev-1/down"}, "dev-1-device", /*persistent=*/true);
  broker_->Stop();
  ASSERT_TRUE(ts::WaitFor([&] { return gw_->MetricsGet("/readyz").status == 503; }, 10s))
      << Logs();
  SendAs("dev-1", "gives-up", "the broker will not be back in time");
  auto rep = WaitReport("gives-up", "REPT_DELY_FAILED", 20s);
  ASSERT_TRUE(rep) << Logs();
  EXPECT_NE(Str(*rep, "failureCause").find("MQTT_BROKER_UNREACHABLE"), std::string::npos)
      << json::serialize(*rep);
  EXPECT_EQ(ts::Addr(*rep, "oriAddr"), "dev-1") << json::serialize(*rep);
  EXPECT_EQ(GwQueue(*gw_, "mqtt"), 0) << gw_->AdminGet("/admin/v1/queues").body;

  ASSERT_TRUE(broker_->Start());
  ASSERT_TRUE(gw_->WaitReady(40s)) << Logs();
  SendAs("dev-1", "after-back", "this one goes");
  ASSERT_TRUE(dev->WaitMsgId("after-back", 20s)) << dev->log() << Logs();
  ASSERT_TRUE(WaitReport("after-back", "REPT_DELY_SUCCESS")) << Logs();
  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  EXPECT_TRUE(dev->WithMsgId("gives-up").empty()) << Describe(dev->Messages());
  EXPECT_EQ(ReportsFor("gives-up").size(), 1u) << AllReports();
}

// kill -9 of the gateway while the broker is down, with messages in its outbox: the restarted
// gateway (same data, same port, same client id) publishes them once the broker is back.
TEST_F(GatewayMqttE2E, GatewayKilledDuringBrokerOutageStillDelivers) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto dev = Device({"msgin5g/dev-1/down"}, "dev-1-device", /*persistent=*/true);
  broker_->Stop();
  ASSERT_TRUE(ts::WaitFor([&] { return gw_->MetricsGet("/readyz").status == 503; }, 10s))
      << Logs();
  SendAs("dev-1", "k-1", "kept across a crash 1");
  SendAs("dev-1", "k-2", "kept across a crash 2");
  ASSERT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "mqtt") == 2; }, 10s))
      << gw_->AdminGet("/admin/v1/queues").body << Logs();

  gw_->Kill();
  ASSERT_NO_FATAL_FAILURE(StartGateway(/*ready=*/false));
  EXPECT_EQ(gw_->MetricsGet("/readyz").status, 503);
  EXPECT_EQ(GwQueue(*gw_, "mqtt"), 2) << gw_->AdminGet("/admin/v1/queues").body;
  ASSERT_TRUE(broker_->Start());
  EXPECT_TRUE(gw_->WaitReady(40s)) << Logs() << broker_->log();
  for (const char* id : {"k-1", "k-2"}) {
    EXPECT_TRUE(dev->WaitMsgId(id, 20s)) << id << "\n" << dev->log() << Logs();
    EXPECT_TRUE(WaitReport(id, "REPT_DELY_SUCCESS")) << id << "\n" << Logs();
  }
  ASSERT_TRUE(ts::WaitFor([&] { return AsQueueCount() == 0; }, 10s));
  EXPECT_TRUE(ts::WaitFor([&] { return GwQueue(*gw_, "mqtt") == 0; }, 10s));
  for (const char* id : {"k-1", "k-2"}) {
    EXPECT_EQ(dev->WithMsgId(id).size(), 1u) << id << "\n" << Describe(dev->Messages());
    EXPECT_EQ(ReportsFor(id).size(), 1u) << AllReports();
  }
  EXPECT_GE(gw_->Metric("msgin5g_gateway_outbox_replayed_total", {{"outbox", "mqtt"}}), 2)
      << gw_->GatewayMetrics();

  // The other way: the gateway is gone (kill -9, broker up) when the device publishes; the
  // broker keeps it for the gateway's persistent session, and the restarted gateway takes it.
  gw_->Kill();
  auto r = Publish("msgin5g/dev-1/up",
                   R"({"payload":"sent while the gateway was down",)"
                   R"("destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"up-while-down"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom("dev-1").empty(); }, 15s)) << Logs();
  auto m = AsMessagesFrom("dev-1");
  ASSERT_EQ(m.size(), 1u) << AsMessages();
  EXPECT_EQ(Str(m[0], "msgId"), "up-while-down");
  EXPECT_EQ(Str(m[0], "payload"), "sent while the gateway was down");
}

// An uplink message is PUBACKed to the broker only once the gateway has stored it, so kill -9
// of the gateway in the middle of a burst loses none: what it had not stored is still the
// broker's (persistent session) and comes again to the restarted gateway. Duplicates are
// bounded by what was in flight at the kill.
TEST_F(GatewayMqttE2E, UplinkBurstSurvivesGatewayKillDashNine) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  constexpr int kMessages = 2000;
  std::string lines;
  for (int i = 0; i < kMessages; ++i) {
    lines += R"({"payload":"burst )" + std::to_string(i) +
             R"(","destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"burst-)" +
             std::to_string(i) + "\"}\n";
  }
  // One device publishing every line as a QoS 1 message; the broker queues them for the
  // gateway's session while the gateway is frozen (SIGSTOP), so that the kill below lands in
  // the middle of its work through them rather than after it.
  ASSERT_EQ(kill(gw_->proc().pid(), SIGSTOP), 0);
  auto r = ts::Run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()),
                    "-q", "1", "-i", "dev-burst", "-t", "msgin5g/dev-9/up", "-l"},
                   lines, 30s);
  EXPECT_EQ(kill(gw_->proc().pid(), SIGCONT), 0);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(30ms);
  gw_->Kill();
  const std::size_t at_kill = AsMessagesFrom("dev-9").size();
  ASSERT_LT(at_kill, static_cast<std::size_t>(kMessages)) << "the kill came after the burst: it tests nothing";
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_TRUE(ts::WaitFor(
      [&] {
        std::set<std::string> ids;
        for (const auto& m : AsMessagesFrom("dev-9")) ids.insert(Str(m, "msgId"));
        return ids.size() == static_cast<std::size_t>(kMessages);
      },
      60s))
      << "at the kill the AS had " << at_kill << "; now " << AsMessagesFrom("dev-9").size()
      << "\n" << Logs();
  std::map<std::string, int> seen;
  for (const auto& m : AsMessagesFrom("dev-9")) seen[Str(m, "msgId")]++;
  int duplicates = 0;
  for (const auto& [id, n] : seen) duplicates += n - 1;
  // At most the broker's in-flight window (mosquitto: 20) plus what the gateway had stored but
  // not yet handed on can come twice.
  EXPECT_LE(duplicates, 100) << duplicates << " duplicates";
  RecordProperty("duplicates", duplicates);
  RecordProperty("delivered_at_kill", static_cast<int>(at_kill));
}

// ---------------------------------------------------------------------------------------------
// 6. Bad input.

// UE ids that would reach other topics if put in one ("a/b" a deeper level, "+" and "#"
// wildcards) are 404 UNKNOWN_RECIPIENT from the gateway and publish nothing; an uplink whose
// payload is not a string is counted up_malformed; an uplink over 1 MiB is dropped and counted
// (dropped_oversize). The gateway keeps working after each.
TEST_F(GatewayMqttE2E, TopicInjectionMalformedAndOversizeInput) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto everything = Device({"#"});
  auto msg = [](const std::string& ue, const std::string& id) {
    json::object m{{"oriAddr", {{"addrType", "AS"}, {"addr", "as-1"}}},
                   {"destAddr", {{"addrType", "UE"}, {"addr", ue}}},
                   {"msgId", id},
                   {"payload", "injected"}};
    return json::serialize(m);
  };
  int i = 0;
  for (const std::string ue : {"a/b", "+", "#", "dev-1/../dev-2", "dev-1/#", "x+y"}) {
    SCOPED_TRACE(ue);
    auto r = PostGw(msg(ue, "inj-" + std::to_string(i++)));
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(Str(Json(r.body), "cause"), "UNKNOWN_RECIPIENT") << r.body;
  }
  // Through msgin5gd too (dev-* matches "dev-x/y"): the gateway refuses it, nothing published.
  SendAs("dev-x/down", "inj-via-server", "injected via msgin5gd");

  // A malformed uplink, then an oversize one.
  auto r = Publish("msgin5g/dev-1/up", R"({"payload":42,"destAddr":{"addrType":"AS","addr":"as-1"}})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "up_malformed"}}, 1))
      << gw_->GatewayMetrics();
  const std::string big_file = dir_.File("big.txt");
  ts::WriteFile(big_file, std::string(1024 * 1024 + 100, 'x'));
  r = ts::Run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()), "-q", "1",
               "-t", "msgin5g/dev-1/up", "-f", big_file},
              "", 15s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_mqtt_events_total",
                                {{"event", "dropped_oversize"}}, 1))
      << gw_->GatewayMetrics() << gw_->log();

  // Still working, both ways: a message to the device, and one from it.
  SendAs("dev-1", "after-bad", "still working");
  ASSERT_TRUE(everything->WaitMsgId("after-bad")) << Describe(everything->Messages()) << Logs();
  r = Publish("msgin5g/dev-1/up",
              R"({"payload":"fine","destAddr":{"addrType":"AS","addr":"as-1"},"msgId":"up-ok"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(ts::WaitFor([&] { return !AsMessagesFrom("dev-1").empty(); }, 15s)) << Logs();
  auto from_dev = AsMessagesFrom("dev-1");
  ASSERT_EQ(from_dev.size(), 1u) << AsMessages();
  EXPECT_EQ(Str(from_dev[0], "payload"), "fine");

  EXPECT_TRUE(gw_->proc().running()) << gw_->log();
  EXPECT_EQ(gw_->MetricsGet("/healthz").status, 200);
  EXPECT_EQ(gw_->MetricsGet("/readyz").status, 200);
  // Nothing but the one good message went down (the uplinks the device itself published are on
  // .../up).
  std::vector<MqttMessage> down;
  for (auto& m : everything->Messages()) {
    if (m.topic.size() < 3 || m.topic.substr(m.topic.size() - 3) != "/up") down.push_back(m);
  }
  ASSERT_EQ(down.size(), 1u) << Describe(everything->Messages());
  EXPECT_EQ(down[0].topic, "msgin5g/dev-1/down");
  // (The metrics are refreshed once a second.)
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_n3g_total", {{"outcome", "published"}}, 1));
  EXPECT_EQ(gw_->Metric("msgin5g_gateway_n3g_total", {{"outcome", "published"}}), 1)
      << gw_->GatewayMetrics();
  EXPECT_TRUE(WaitMetricAtLeast("msgin5g_gateway_downlink_total", {{"outcome", "refused"}}, 7))
      << gw_->GatewayMetrics();
  // msgin5gd tells the AS that the one it forwarded failed.
  auto rep = WaitReport("inj-via-server", "REPT_DELY_FAILED");
  EXPECT_TRUE(rep) << AllReports() << daemon_->log();
}

}  // namespace
}  // namespace msgin5g
