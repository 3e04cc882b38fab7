// End to end: the real msgin5gd binary, started on port 0 with --ready-file, driven by curl,
// nghttp and promtool exactly as an operator would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
namespace ts = testing_support;

const std::string kDaemon = ts::DaemonPath();

// Adapts the shared harness to this file's one-daemon-per-test use.
class Daemon {
 public:
  explicit Daemon(const ts::TempDir& dir, std::vector<std::string> extra = {})
      : d_(dir.File("data"), dir.path(), std::move(extra)) {
    EXPECT_TRUE(d_.ok());
  }
  std::string sbi() const { return d_.sbi(); }
  std::string metrics() const { return d_.metrics(); }
  std::string admin() const { return d_.admin(); }
  ts::CurlResult Admin(const std::string& method, const std::string& path) const {
    return d_.Admin(method, path);
  }
  std::string log() const { return d_.log(); }
  ts::Process& proc() { return d_.proc(); }

 private:
  ts::Daemon d_;
};

const std::string kDeliverAs = "/msgs-msgdelivery/v1/deliver-as-message";

std::string AsMessage(const std::string& msg_id, const std::string& extra = "") {
  return R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-7"},)"
         R"("msgId":")" + msg_id + R"(","stoAndFwInd":true,"payload":"hi")" + extra + "}";
}

boost::json::object Json(const std::string& s) {
  boost::json::error_code ec;
  auto v = boost::json::parse(s, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

TEST(Daemon, DeliversAckOverH2cHttp1AndCountsInMetrics) {
  ts::TempDir dir;
  Daemon d(dir);
  auto h2 = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                      AsMessage("e2e-1"), "http://" + d.sbi() + kDeliverAs});
  ASSERT_EQ(h2.exit_code, 0) << h2.err << d.log();
  EXPECT_EQ(h2.status, 200);
  EXPECT_EQ(h2.http_version, "2");
  auto ack = Json(h2.body);
  EXPECT_EQ(ack["msgId"].as_string(), "e2e-1");
  EXPECT_EQ(ack["oriAddr"].as_object()["addr"].as_string(), "as-1");
  EXPECT_EQ(ack["status"].as_string(), "DELY_STORED");

  // Without store-and-forward (one stoAndFwInd: a repeated member is refused).
  std::string no_store = AsMessage("e2e-2");
  no_store.replace(no_store.find(R"("stoAndFwInd":true)"), 18, R"("stoAndFwInd":false)");
  auto h1 = ts::Curl({"--http1.1", "-H", "content-type: application/json", "-d", no_store,
                      "http://" + d.sbi() + kDeliverAs});
  EXPECT_EQ(h1.status, 200) << h1.err;
  EXPECT_EQ(h1.http_version, "1.1");
  EXPECT_EQ(Json(h1.body)["status"].as_string(), "DELY_FAILED");

  auto metrics = ts::Run({"curl", "-sS", "http://" + d.metrics() + "/metrics"});
  ASSERT_EQ(metrics.exit_code, 0);
  EXPECT_NE(metrics.out.find(R"(msgin5g_api_requests_total{code="200",listener="sbi",operation="msgs-msgdelivery.deliver-as-message"} 2)"),
            std::string::npos)
      << metrics.out;
  auto promtool = ts::Run({"promtool", "check", "metrics"}, metrics.out);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;

  auto health = ts::Curl({"http://" + d.metrics() + "/healthz"});
  EXPECT_EQ(health.status, 200);
  auto ready = ts::Curl({"http://" + d.metrics() + "/readyz"});
  EXPECT_EQ(ready.status, 200);

  auto code = d.proc().Stop(SIGTERM, 10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << d.log();
}

struct BadInput {
  const char* name;
  std::vector<std::string> curl_args;  // appended before the URL
  std::string path;
  int status;
  std::string cause;
  std::string invalid_param;  // expected in invalidParams (empty: none required)
};

TEST(Daemon, BadInputGetsPreciseProblemDetails) {
  ts::TempDir dir;
  Daemon d(dir, {"--set", "api.max_body_bytes=4096"});
  ts::WriteFile(dir.File("big.json"), "{\"pad\":\"" + std::string(8000, 'x') + "\"}");
  const std::string json = "content-type: application/json";
  std::vector<BadInput> cases = {
      {"invalid JSON", {"-H", json, "-d", "{\"oriAddr\":"}, kDeliverAs, 400, "INVALID_MSG_FORMAT", ""},
      {"missing mandatory member",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":"a"},"destAddr":{"addrType":"UE","addr":"u"},"stoAndFwInd":true})"},
       kDeliverAs, 400, "MANDATORY_IE_MISSING", "/msgId"},
      {"wrong type",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":"a"},"destAddr":{"addrType":"UE","addr":"u"},"msgId":"m","stoAndFwInd":"yes"})"},
       kDeliverAs, 400, "MANDATORY_IE_INCORRECT", "/stoAndFwInd"},
      {"wrong enum type",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":"a"},"destAddr":{"addrType":7,"addr":"u"},"msgId":"m","stoAndFwInd":true})"},
       kDeliverAs, 400, "MANDATORY_IE_INCORRECT", "/destAddr/addrType"},
      {"unknown enum value",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":"a"},"destAddr":{"addrType":"SATELLITE","addr":"u"},"msgId":"m","stoAndFwInd":true})"},
       kDeliverAs, 400, "MANDATORY_IE_INCORRECT", "/destAddr/addrType"},
      {"wrong content type", {"-H", "content-type: text/plain", "-d", AsMessage("x")}, kDeliverAs,
       415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type"},
      {"empty body", {"-H", json, "-d", ""}, kDeliverAs, 400, "INVALID_MSG_FORMAT", ""},
      {"oversized body", {"-H", json, "--data-binary", "@" + dir.File("big.json")}, kDeliverAs, 413,
       "PAYLOAD_TOO_LARGE", ""},
      {"unknown path", {"-H", json, "-d", "{}"}, "/msgs-msgdelivery/v1/nope", 404,
       "RESOURCE_URI_STRUCTURE_NOT_FOUND", ""},
      {"wrong method", {"-X", "GET"}, kDeliverAs, 405, "METHOD_NOT_ALLOWED", ""},
      {"unknown registration", {"-X", "DELETE"}, "/msgs-asregistration/v1/registrations/nope", 404,
       "REGISTRATION_NOT_FOUND", ""},
      {"registration without asSvcId", {"-H", json, "-d", R"({"appId":"x"})"},
       "/msgs-asregistration/v1/registrations", 400, "MANDATORY_IE_MISSING", "/asSvcId"},
      {"overlong address",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":")" + std::string(1100, 'a') + R"("},"destAddr":{"addrType":"UE","addr":"u"},"msgId":"m","stoAndFwInd":true})"},
       kDeliverAs, 400, "MANDATORY_IE_INCORRECT", "/oriAddr/addr"},
      {"control character in msgId",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":"a"},"destAddr":{"addrType":"UE","addr":"u"},"msgId":"m\u0001x","stoAndFwInd":true})"},
       kDeliverAs, 400, "MANDATORY_IE_INCORRECT", "/msgId"},
      {"AS message to unregistered AS",
       {"-H", json, "-d", R"({"oriAddr":{"addrType":"AS","addr":"a"},"destAddr":{"addrType":"AS","addr":"nobody"},"msgId":"m","stoAndFwInd":true})"},
       kDeliverAs, 404, "UNKNOWN_RECIPIENT", ""},
  };
  for (const auto& proto : {"--http2-prior-knowledge", "--http1.1"}) {
    for (const auto& c : cases) {
      std::vector<std::string> args = {proto};
      args.insert(args.end(), c.curl_args.begin(), c.curl_args.end());
      args.push_back("http://" + d.sbi() + c.path);
      auto r = ts::Curl(args);
      SCOPED_TRACE(std::string(proto) + " " + c.name);
      EXPECT_EQ(r.status, c.status) << r.body << r.err;
      EXPECT_NE(r.headers.find("content-type: application/problem+json"), std::string::npos)
          << r.headers;
      auto p = Json(r.body);
      EXPECT_EQ(p["status"].as_int64(), c.status) << r.body;
      EXPECT_EQ(p["cause"].as_string(), c.cause) << r.body;
      EXPECT_FALSE(p["detail"].as_string().empty());
      if (!c.invalid_param.empty()) {
        bool found = false;
        for (const auto& ip : p["invalidParams"].as_array()) {
          if (ip.as_object().at("param").as_string() == c.invalid_param) found = true;
        }
        EXPECT_TRUE(found) << r.body;
      }
    }
  }
  // Nothing of the above was stored: a valid message with the same ids is a first submission.
  auto ok = ts::Curl({"--http2-prior-knowledge", "-H", json, "-d", AsMessage("m"),
                      "http://" + d.sbi() + kDeliverAs});
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(d.proc().running()) << d.log();
}

// Sends `bytes` in one write on a fresh TCP connection to `host_port` and reads until the server
// closes (or 10 s pass without a byte). Returns what arrived and whether the server closed.
std::pair<std::string, bool> RawExchange(const std::string& host_port, const std::string& bytes) {
  auto colon = host_port.rfind(':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &a.sin_addr);
  std::string out;
  bool closed = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) {
        closed = n == 0;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return {out, closed};
}

// The reported HTTP/1.1 request smuggling: "Transfer-Encoding: chunked, identity" used to be read
// as a body-less request (411) on a connection left open, and its body, a second deliver-as-message,
// was then served and stored. Now the first request is refused 400 before its body is read, the
// connection closes, and the smuggled message is stored nowhere.
TEST(Daemon, Http1RequestSmugglingIsRefusedAndStoresNothing) {
  ts::TempDir dir;
  Daemon d(dir);
  const std::string body = AsMessage("smuggled-1");
  const std::string smuggled = "POST " + kDeliverAs + " HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string attack = "POST " + kDeliverAs + " HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\n"
                             "Transfer-Encoding: chunked, identity\r\n\r\n" + smuggled;
  auto [data, closed] = RawExchange(d.sbi(), attack);
  EXPECT_EQ(data.rfind("HTTP/1.1 400 ", 0), 0u) << data;
  std::string lower = data;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(lower.find("\r\nconnection: close\r\n"), std::string::npos) << data;
  EXPECT_NE(lower.find("\r\ncontent-type: application/problem+json\r\n"), std::string::npos) << data;
  EXPECT_NE(data.find("INVALID_MSG_FORMAT"), std::string::npos) << data;
  EXPECT_EQ(data.find("HTTP/1.1 ", 1), std::string::npos) << "a second answer: " << data;
  EXPECT_TRUE(closed);

  // Nothing stored: the admin API knows no such message and ue-7's queue is empty.
  auto msg = d.Admin("GET", "/messages/AS/as-1/smuggled-1");
  EXPECT_EQ(msg.status, 404) << msg.body;
  auto queue = d.Admin("GET", "/queues/UE/ue-7");
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_EQ(Json(queue.body)["count"], 0) << queue.body;

  // Control: the same message sent properly is a first submission, and the admin API then has it.
  auto ok = ts::Curl({"--http1.1", "-H", "content-type: application/json", "-d", body,
                      "http://" + d.sbi() + kDeliverAs});
  EXPECT_EQ(ok.status, 200) << ok.body << ok.err;
  EXPECT_EQ(Json(ok.body)["status"], "DELY_STORED") << ok.body;
  EXPECT_EQ(d.Admin("GET", "/messages/AS/as-1/smuggled-1").status,
            200);
  EXPECT_TRUE(d.proc().running()) << d.log();
}

TEST(Daemon, AsRegistrationLifecycle) {
  ts::TempDir dir;
  Daemon d(dir);
  const std::string url = "http://" + d.sbi() + "/msgs-asregistration/v1/registrations";
  auto reg = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                       R"({"asSvcId":"as-9","targetUri":"http://127.0.0.1:1/cb","asProf":{"appName":"meter"}})",
                       url});
  ASSERT_EQ(reg.status, 201) << reg.body;
  auto ack = Json(reg.body);
  EXPECT_EQ(ack["asSvcId"].as_string(), "as-9");
  EXPECT_EQ(ack["result"].as_object()["status"].as_int64(), 201);
  auto loc_at = reg.headers.find("location: ");
  ASSERT_NE(loc_at, std::string::npos) << reg.headers;
  std::string location = reg.headers.substr(loc_at + 10, reg.headers.find('\r', loc_at) - loc_at - 10);
  EXPECT_EQ(location.rfind(url + "/", 0), 0u) << location;

  // The AS is now routable.
  auto to_as = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                         R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"AS","addr":"as-9"},"msgId":"x1","stoAndFwInd":false})",
                         "http://" + d.sbi() + kDeliverAs});
  EXPECT_EQ(to_as.status, 200) << to_as.body;
  EXPECT_FALSE(Json(to_as.body).contains("status"));  // accepted for delivery

  auto del = ts::Curl({"--http2-prior-knowledge", "-X", "DELETE", location});
  EXPECT_EQ(del.status, 204);
  auto again = ts::Curl({"--http2-prior-knowledge", "-X", "DELETE", location});
  EXPECT_EQ(again.status, 404);
}

TEST(Daemon, ServesTlsWithConfiguredCertificate) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  Daemon d(dir, {"--set", "tls.enabled=true", "--set", "tls.cert_file=" + certs.server_cert,
                 "--set", "tls.key_file=" + certs.server_key});
  auto r = ts::Curl({"--http2", "-k", "-H", "content-type: application/json", "-d",
                     AsMessage("tls-1"), "https://" + d.sbi() + kDeliverAs});
  ASSERT_EQ(r.exit_code, 0) << r.err << d.log();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, "2");
  auto verified = ts::Curl({"--http2", "--cacert", certs.ca_cert, "-H",
                            "content-type: application/json", "-d", AsMessage("tls-2"),
                            "https://" + d.sbi() + kDeliverAs});
  EXPECT_EQ(verified.status, 200) << verified.err;
}

TEST(Daemon, ConfigurationErrorsExit78) {
  ts::TempDir dir;
  ts::WriteFile(dir.File("bad.toml"), "[api]\nlisten = 8080\n");
  auto r = ts::Run({kDaemon, "--config", dir.File("bad.toml"), "--check-config"});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("api.listen"), std::string::npos) << r.err;
  auto unknown = ts::Run({kDaemon, "--set", "api.nope=1", "--check-config"});
  EXPECT_EQ(unknown.exit_code, 78);
  auto tls = ts::Run({kDaemon, "--set", "tls.enabled=true", "--check-config"});
  EXPECT_EQ(tls.exit_code, 78);
}

TEST(Daemon, PrintedDefaultConfigIsValidAndDocumented) {
  ts::TempDir dir;
  auto printed = ts::Run({kDaemon, "--print-default-config"});
  ASSERT_EQ(printed.exit_code, 0);
  ts::WriteFile(dir.File("default.toml"), printed.out);
  auto check = ts::Run({kDaemon, "--config", dir.File("default.toml"), "--check-config"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  // The sample shipped in packaging/ is exactly what the binary prints.
  EXPECT_EQ(ts::ReadFile(std::string(MSGIN5G_SOURCE_DIR) + "/packaging/msgin5gd.toml"), printed.out);
  auto help = ts::Run({kDaemon, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("api.max_body_bytes"), std::string::npos);
}

TEST(Daemon, BusyPortExits69) {
  ts::TempDir dir;
  Daemon first(dir);
  ts::TempDir dir2;
  auto r = ts::Run({kDaemon, "--set", "api.listen=" + first.sbi(), "--set",
                    "metrics.listen=127.0.0.1:0", "--set", "admin.socket=" + dir2.File("admin.sock"),
                    "--set", "coap.listen=127.0.0.1:0", "--set", "storage.path=" + dir2.File("data")},
                   "", 10s);
  EXPECT_EQ(r.exit_code, 69) << r.err;
}

// Every configuration problem at once, each with its key and FILE:LINE, then exit 78; the same
// with and without --check-config.
TEST(Daemon, ConfigurationErrorsAreAllListedWithKeyAndLine) {
  ts::TempDir dir;
  const std::string file = dir.File("bad.toml");
  ts::WriteFile(file,
                "[api]\n"
                "listen = \"127.0.0.1:99999\"\n"
                "threads = 1000\n"
                "[storage]\n"
                "max_batch_ops = 0\n");
  for (bool check_only : {true, false}) {
    std::vector<std::string> argv = {kDaemon, "--config", file, "--set", "log.level=loud", "--set",
                                     "storage.path=" + dir.File("data")};
    if (check_only) argv.push_back("--check-config");
    auto r = ts::Run(argv, "", 30s);
    SCOPED_TRACE(check_only ? "--check-config" : "start");
    EXPECT_EQ(r.exit_code, 78) << r.err;
    for (const std::string& line :
         {file + ":2: api.listen: bad port in 127.0.0.1:99999 (0..65535)",
          file + ":3: api.threads: 1000 is outside [0, 256]",
          file + ":5: storage.max_batch_ops: 0 is outside [1, 65536]",
          std::string("--set log.level: must be debug, info, warn or error")}) {
      EXPECT_NE(r.err.find("msgin5gd: configuration error: " + line + "\n"), std::string::npos)
          << line << "\n" << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.File("data"))) << "nothing started";
  }
}

// Message payloads are the daemon user's alone: the data directory is 0700 and every file in it
// (RocksDB's and ours) has no group or other bits.
TEST(Daemon, DataDirectoryAndFilesArePrivate) {
  ts::TempDir dir;
  // Started with the usual permissive umask, so that only the daemon itself can make them private.
  mode_t old_umask = umask(022);
  Daemon d(dir);
  umask(old_umask);
  auto ok = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                      AsMessage("private-1"), "http://" + d.sbi() + kDeliverAs});
  ASSERT_EQ(ok.status, 200) << ok.body << d.log();
  struct stat st{};
  ASSERT_EQ(stat(dir.File("data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  std::vector<std::string> seen;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.File("data"))) {
    ASSERT_EQ(lstat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << e.path() << " mode " << std::oct << (st.st_mode & 07777);
    seen.push_back(e.path().filename().string());
  }
  auto has = [&](const std::string& prefix) {
    for (const auto& n : seen) {
      if (n.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  for (const char* f : {"CURRENT", "MANIFEST-", "OPTIONS-", "LOCK", "msgin5gd.pid"}) {
    EXPECT_TRUE(has(f)) << f;
  }
  bool wal = false;
  for (const auto& n : seen) wal |= n.size() > 4 && n.substr(n.size() - 4) == ".log";
  EXPECT_TRUE(wal) << "a RocksDB WAL file";
}

// An existing data directory open to others (from an older msgin5gd, or made by hand) is made
// private at start, with a warning, and its data is still served.
TEST(Daemon, AnOpenDataDirectoryIsMadePrivateAtStart) {
  ts::TempDir dir;
  const std::string data = dir.File("data");
  {
    Daemon first(dir);
    auto ok = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                        AsMessage("kept-1"), "http://" + first.sbi() + kDeliverAs});
    ASSERT_EQ(ok.status, 200) << ok.body;
    ASSERT_EQ(first.proc().Stop(SIGTERM, 20s), 0);
  }
  ASSERT_EQ(chmod(data.c_str(), 0755), 0);
  ASSERT_EQ(chmod((data + "/CURRENT").c_str(), 0644), 0);
  Daemon d(dir);
  struct stat st{};
  ASSERT_EQ(stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(stat((data + "/CURRENT").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(d.log().find("storage.path was open to group/others, made private: " + data +
                         ": mode 0755 -> 0700"),
            std::string::npos)
      << d.log();
  EXPECT_EQ(d.Admin("GET", "/messages/AS/as-1/kept-1").status, 200);
}

// A second msgin5gd on a data directory in use says which process holds it and exits 75, before
// it binds anything; the first one goes on serving.
TEST(Daemon, SecondDaemonOnTheSameDataDirectoryExits75NamingTheHolder) {
  ts::TempDir dir;
  Daemon first(dir);
  auto r = ts::Run({kDaemon, "--set", "api.listen=127.0.0.1:0", "--set", "metrics.listen=127.0.0.1:0",
                    "--set", "admin.socket=" + dir.File("second-admin.sock"), "--set",
                    "coap.listen=127.0.0.1:0", "--set", "storage.path=" + dir.File("data")},
                   "", 30s);
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_EQ(r.err, "msgin5gd: storage.path " + dir.File("data") +
                       " is in use by another msgin5gd (pid " +
                       std::to_string(first.proc().pid()) + ")\n");
  EXPECT_EQ(ts::ReadFile(dir.File("data") + "/msgin5gd.pid"),
            std::to_string(first.proc().pid()) + "\n");
  auto ok = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                      AsMessage("after-second"), "http://" + first.sbi() + kDeliverAs});
  EXPECT_EQ(ok.status, 200) << ok.body << first.log();
  EXPECT_EQ(Json(ok.body)["status"], "DELY_STORED") << ok.body;
  EXPECT_EQ(first.proc().Stop(SIGTERM, 20s), 0) << first.log();
  // Once it has stopped, the directory is free again (the pid file left behind holds no lock).
  Daemon again(dir);
  EXPECT_EQ(again.Admin("GET", "/messages/AS/as-1/after-second").status,
            200);
}

}  // namespace
}  // namespace msgin5g
