// msgin5gctl against the real msgin5gd: every command runs the real binary over the admin API
// (TCP with the harness's bearer token, the Unix socket, TLS), its --output json is parsed and
// checked against what the server holds; exit codes, table output, token lines that the daemon
// accepts.
#include <openssl/evp.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/daemon_harness.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

namespace ts = testing_support;
namespace json = boost::json;

std::string CtlPath() { return std::string(MSGIN5G_BINARY_DIR) + "/tools/msgin5gctl"; }

// Runs msgin5gctl with exactly these arguments.
ts::RunResult RunCtl(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), CtlPath());
  return ts::Run(args, input, std::chrono::seconds(30));
}

// msgin5gctl on a real terminal: script(1) gives it a pseudo-terminal as stdin, stdout and stderr;
// what it wrote there (both streams, "\r\n" line ends) comes back as out.
ts::RunResult RunCtlOnTerminal(std::vector<std::string> args) {
  std::string command = "'" + CtlPath() + "'";
  for (const auto& a : args) command += " '" + a + "'";  // the tests' arguments have no quote
  return ts::Run({"script", "-qfec", command, "/dev/null"}, "", std::chrono::seconds(30));
}

// An AS message from as-1 to UE `ue`, stored (no route needed): 200 or the test fails.
void SendAsMessage(ts::Daemon& d, const std::string& ue, const std::string& msg_id) {
  auto sent = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                        R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":")" +
                            ue + R"("},"msgId":")" + msg_id + R"(","stoAndFwInd":true,"payload":"hello"})",
                        "http://" + d.sbi() + "/msgs-msgdelivery/v1/deliver-as-message"});
  ASSERT_EQ(sent.status, 200) << sent.body << sent.err;
}

json::value Parse(const ts::RunResult& r) {
  json::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.out << "\nstderr: " << r.err;
  return ec ? json::value() : v;
}

std::string Str(const json::value& v, std::string_view key) {
  const auto* m = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : "<missing " + std::string(key) + ">";
}

std::int64_t Int(const json::value& v, std::string_view key) {
  const auto* m = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return m != nullptr && m->is_number() ? m->to_number<std::int64_t>() : -1;
}

// "UE:ue-1" for each {"addrType","addr"} of the array.
std::vector<std::string> Addresses(const json::value& arr) {
  std::vector<std::string> out;
  if (!arr.is_array()) return out;
  for (const auto& a : arr.as_array()) out.push_back(Str(a, "addrType") + ":" + Str(a, "addr"));
  std::sort(out.begin(), out.end());
  return out;
}

std::string Sha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

class CtlE2e : public ::testing::Test {
 protected:
  // msgin5gctl --url http://ADMIN --token TOKEN ARGS...
  ts::RunResult Ctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--url", "http://" + d_.admin(), "--token", d_.admin_token()});
    return RunCtl(args, input);
  }
  // The same with --output json; expects exit 0 and JSON.
  json::value Json(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.end(), {"--output", "json"});
    auto r = Ctl(args, input);
    EXPECT_EQ(r.exit_code, 0) << "msgin5gctl exit " << r.exit_code << "\n" << r.out << r.err;
    return Parse(r);
  }
  void SendMessage(const std::string& msg_id) { SendAsMessage(d_, "ue-1", msg_id); }

  ts::TempDir dir_;
  ts::Daemon d_{dir_.File("data"), dir_.path()};
};

TEST_F(CtlE2e, StatusAsJson) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  ASSERT_EQ(Ctl({"groups", "create", "g1", "UE:ue-1"}).exit_code, 0);
  ASSERT_EQ(Ctl({"routes", "put", "r1", "--json", "-"}, R"({"pattern":"ue-9*"})").exit_code, 0);
  SendMessage("m1");
  auto s = Json({"status"});
  EXPECT_EQ(Int(s, "groups"), 1) << s;
  EXPECT_EQ(Int(s, "routingRules"), 1) << s;
  EXPECT_EQ(Int(s.as_object()["queued"], "MIDDLE"), 1) << s;  // deliver-as-message's default
  EXPECT_GT(Int(s, "queuedBytes"), 0) << s;
  EXPECT_EQ(s.as_object()["storageHealthy"], json::value(true)) << s;
}

// Table output: a header row, aligned columns, no escape codes when stdout is not a terminal.
TEST_F(CtlE2e, TablesHaveAHeaderRow) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto status = Ctl({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out.substr(0, status.out.find('\n')).substr(0, 5), "FIELD") << status.out;
  EXPECT_NE(status.out.find("\nstorageHealthy"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find('\033'), std::string::npos);
  ASSERT_EQ(Ctl({"groups", "create", "a-long-group-name", "UE:ue-1", "AS:as-1"}).exit_code, 0);
  ASSERT_EQ(Ctl({"groups", "create", "g", "UE:ue-2"}).exit_code, 0);
  auto list = Ctl({"groups", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out,
            "GROUP              COUNT  MEMBERS\n"
            "a-long-group-name  2      UE:ue-1,AS:as-1\n"
            "g                  1      UE:ue-2\n");
}

TEST_F(CtlE2e, GroupsCreateListShowAddRemoveDelete) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto created = Json({"groups", "create", "g1", "UE:ue-1", "as:as-1"});
  EXPECT_EQ(Str(created, "groupId"), "g1");
  EXPECT_EQ(Addresses(created.as_object()["members"]), (std::vector<std::string>{"AS:as-1", "UE:ue-1"}));

  auto list = Json({"groups", "list"});
  ASSERT_EQ(list.as_object()["groups"].as_array().size(), 1u) << list;
  EXPECT_EQ(Str(list.as_object()["groups"].as_array()[0], "groupId"), "g1");

  EXPECT_EQ(Json({"groups", "add-member", "g1", "UE:ue-2"}).as_object()["added"], json::value(true));
  EXPECT_EQ(Json({"groups", "remove-member", "g1", "UE:ue-1"}).as_object()["removed"], json::value(true));
  auto shown = Json({"groups", "show", "g1"});
  EXPECT_EQ(Addresses(shown.as_object()["members"]), (std::vector<std::string>{"AS:as-1", "UE:ue-2"}));
  // The server agrees (read with curl, not with msgin5gctl).
  auto server = json::parse(d_.Admin("GET", "/groups").body);
  EXPECT_EQ(Addresses(server.as_object()["groups"].as_array()[0].as_object()["members"]),
            (std::vector<std::string>{"AS:as-1", "UE:ue-2"}));
  // Removing a member that is not there, showing a group that is not there: 404, exit 5.
  auto again = Ctl({"groups", "remove-member", "g1", "UE:ue-1"});
  EXPECT_EQ(again.exit_code, 5) << again.err;
  EXPECT_NE(again.err.find("error: 404 RESOURCE_NOT_FOUND"), std::string::npos) << again.err;

  EXPECT_EQ(Json({"groups", "delete", "g1"}).as_object()["deleted"], json::value(true));
  EXPECT_EQ(Ctl({"groups", "show", "g1"}).exit_code, 5);
  EXPECT_EQ(Ctl({"groups", "delete", "g1"}).exit_code, 5);
  EXPECT_TRUE(Json({"groups", "list"}).as_object()["groups"].as_array().empty());
}

TEST_F(CtlE2e, TopicsSubscribeListUnsubscribe) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto sub = Json({"topics", "subscribe", "news/eu", "UE:ue-1", "--expiry-ms", "3600000"});
  EXPECT_TRUE(sub.as_object()["expiry"].is_string()) << sub;
  Json({"topics", "subscribe", "news/eu", "AS:as-1"});
  auto list = Json({"topics", "list", "news/eu"});
  const auto& subs = list.as_object()["subscribers"];
  ASSERT_EQ(Addresses(subs), (std::vector<std::string>{"AS:as-1", "UE:ue-1"})) << list;
  for (const auto& s : subs.as_array()) {
    if (Str(s, "addr") == "ue-1") {
      // As msgin5gctl sent it, and an hour from now.
      std::string expiry = Str(s, "expiry");
      EXPECT_EQ(expiry, Str(sub, "expiry")) << list;
      std::tm tm{};
      ASSERT_NE(strptime(expiry.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << expiry;
      const auto in = timegm(&tm) - std::time(nullptr);
      EXPECT_GT(in, 3600 - 60) << expiry;
      EXPECT_LE(in, 3600) << expiry;
    } else {
      EXPECT_TRUE(s.as_object().at("expiry").is_null()) << list;
    }
  }
  EXPECT_TRUE(Json({"topics", "list", "other"}).as_object()["subscribers"].as_array().empty());
  Json({"topics", "unsubscribe", "news/eu", "AS:as-1"});
  EXPECT_EQ(Addresses(Json({"topics", "list", "news/eu"}).as_object()["subscribers"]),
            (std::vector<std::string>{"UE:ue-1"}));
  EXPECT_EQ(Ctl({"topics", "unsubscribe", "news/eu", "AS:as-1"}).exit_code, 5);
}

TEST_F(CtlE2e, RoutesPutListDelete) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  ts::WriteFile(dir_.File("r1.json"), R"({"pattern":"ue-1*","order":5})");
  auto put = Json({"routes", "put", "r1", "--json", dir_.File("r1.json")});
  EXPECT_EQ(Str(put, "pattern"), "ue-1*");
  EXPECT_EQ(Int(put, "order"), 5);
  Json({"routes", "put", "r0", "--json", "-"}, R"({"pattern":"ue-*","order":1})");
  auto rules = Json({"routes", "list"}).as_object()["rules"].as_array();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(Str(rules[0], "name"), "r0");  // evaluation order
  EXPECT_EQ(Str(rules[1], "name"), "r1");
  auto table = Ctl({"routes", "list"});
  EXPECT_NE(table.out.find("r1    ue-1*    (direct)  5"), std::string::npos) << table.out;
  Json({"routes", "delete", "r1"});
  rules = Json({"routes", "list"}).as_object()["rules"].as_array();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(Str(rules[0], "name"), "r0");
  EXPECT_EQ(Ctl({"routes", "delete", "r1"}).exit_code, 5);
}

TEST_F(CtlE2e, ClientsPutListShowDelete) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto put = Json({"clients", "put", "as-7", "--json", "-"},
                  R"({"secret":"s3cret","destinations":["UE:ue-*"],"rateLimit":10})");
  EXPECT_EQ(Str(put, "source"), "admin") << put;
  EXPECT_EQ(put.as_object()["hasSecret"], json::value(true)) << put;
  auto shown = Json({"clients", "show", "as-7"});
  EXPECT_EQ(Int(shown, "rateLimit"), 10) << shown;
  EXPECT_EQ(shown.as_object()["destinations"].as_array().at(0), json::value("UE:ue-*")) << shown;
  bool listed = false;
  auto list = Json({"clients", "list"});
  for (const auto& c : list.as_object()["clients"].as_array()) {
    listed = listed || Str(c, "clientId") == "as-7";
  }
  EXPECT_TRUE(listed);
  Json({"clients", "delete", "as-7"});
  EXPECT_EQ(Ctl({"clients", "show", "as-7"}).exit_code, 5);
}

// A message sent on the SBI with curl: its queue counts it, and the message shows its recipient
// still queued, in JSON and as a table row.
TEST_F(CtlE2e, QueuesAndMessagesShowASentMessage) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto empty = Json({"queues", "show", "UE", "ue-1"});
  EXPECT_EQ(Int(empty, "count"), 0) << empty;
  SendMessage("m1");
  auto q = Json({"queues", "show", "UE", "ue-1"});
  EXPECT_EQ(Int(q, "count"), 1) << q;
  EXPECT_GT(Int(q, "bytes"), 0) << q;
  EXPECT_EQ(Int(q.as_object()["byPriority"], "MIDDLE"), 1) << q;
  auto m = Json({"messages", "show", "AS", "as-1", "m1"});
  EXPECT_EQ(Str(m, "msgId"), "m1");
  EXPECT_EQ(Str(m, "state"), "PENDING") << m;
  const auto& recipients = m.as_object()["recipients"];
  ASSERT_EQ(Addresses(recipients), (std::vector<std::string>{"UE:ue-1"})) << m;
  EXPECT_EQ(Str(recipients.as_array()[0], "state"), "QUEUED") << m;
  auto table = Ctl({"messages", "show", "AS", "as-1", "m1"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("RECIPIENT  STATE   PRIORITY"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("UE:ue-1    QUEUED  MIDDLE"), std::string::npos) << table.out;
}

// The line token create prints is the SHA-256 of the token, and msgin5gd takes it: a read-only
// token reads and is refused a write (exit 4).
// queues list: the largest queues first; registrations: ASs and UEs (one registered with the real
// msgin5g-ue over CoAP), paged by --limit/--after; a bad --limit is the server's 400.
TEST_F(CtlE2e, QueuesListAndRegistrations) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  for (const char* id : {"q1", "q2", "q3"}) SendMessage(id);  // to UE ue-1
  auto other = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                         R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-2"},"msgId":"q4","stoAndFwInd":true,"payload":"hi"})",
                         "http://" + d_.sbi() + "/msgs-msgdelivery/v1/deliver-as-message"});
  ASSERT_EQ(other.status, 200) << other.body;
  auto queues = Json({"queues", "list", "--limit", "1"});
  EXPECT_EQ(Int(queues, "recipients"), 2) << queues;
  ASSERT_EQ(queues.as_object()["queues"].as_array().size(), 1u) << queues;
  const auto& top = queues.as_object()["queues"].as_array()[0];
  EXPECT_EQ(Str(top, "addr"), "ue-1");
  EXPECT_EQ(Int(top, "count"), 3);
  auto table = Ctl({"queues", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("UE:ue-1    3"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("UE:ue-2    1"), std::string::npos) << table.out;
  auto bad = Ctl({"queues", "list", "--limit", "0"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("400"), std::string::npos) << bad.err;

  auto as = ts::Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                      R"({"asSvcId":"as-svc-1","targetUri":"http://127.0.0.1:1/as"})",
                      "http://" + d_.sbi() + "/msgs-asregistration/v1/registrations"});
  ASSERT_EQ(as.status, 201) << as.body;
  for (const char* ue : {"ue-a", "ue-b"}) {
    auto reg = ts::Run({std::string(MSGIN5G_BINARY_DIR) + "/tools/msgin5g-ue", "--server",
                        "127.0.0.1:" + std::to_string(d_.coap_port()), "--ue", ue,
                        "register"});
    ASSERT_EQ(reg.exit_code, 0) << reg.out << reg.err;
  }
  auto regs = Json({"registrations", "--limit", "1"});
  ASSERT_EQ(regs.as_object()["as"].as_array().size(), 1u) << regs;
  EXPECT_EQ(Str(regs.as_object()["as"].as_array()[0], "asSvcId"), "as-svc-1");
  EXPECT_EQ(Int(regs, "ueTotal"), 2) << regs;
  ASSERT_EQ(regs.as_object()["ue"].as_array().size(), 1u) << regs;
  EXPECT_EQ(Str(regs.as_object()["ue"].as_array()[0], "ueId"), "ue-a");
  EXPECT_EQ(regs.as_object()["ueMore"], json::value(true));
  auto next = Json({"registrations", "--limit", "1", "--after", "ue-a"});
  ASSERT_EQ(next.as_object()["ue"].as_array().size(), 1u) << next;
  const auto& b = next.as_object()["ue"].as_array()[0];
  EXPECT_EQ(Str(b, "ueId"), "ue-b");
  EXPECT_EQ(Str(b, "endpoint").rfind("coap://127.0.0.1:", 0), 0u) << b;
  EXPECT_EQ(b.as_object().at("asleep"), json::value(false));
  EXPECT_EQ(next.as_object()["ueMore"], json::value(false));
  auto text = Ctl({"registrations", "--limit", "1"});
  EXPECT_NE(text.out.find("2 UE registrations, 0 asleep; more: --after ue-a"), std::string::npos)
      << text.out;
}

TEST(CtlToken, CreatePrintsATokensFileLineTheDaemonAccepts) {
  auto r = RunCtl({"token", "create", "ops.ro", "--role", "read-only", "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = Parse(r);
  const std::string token = Str(t, "token");
  ASSERT_EQ(token.substr(0, 4), "m5g_");
  EXPECT_EQ(token.size(), 4u + 43u);  // 32 bytes in base64url without padding
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4),
            std::string::npos);
  EXPECT_EQ(Str(t, "name"), "ops.ro");
  EXPECT_EQ(Str(t, "role"), "read-only");
  EXPECT_EQ(Str(t, "line"), "ops.ro read-only sha256:" + Sha256Hex(token));
  EXPECT_NE(Str(Parse(RunCtl({"token", "create", "x", "--role", "read-write", "--output", "json"})), "token"),
            token);
  EXPECT_EQ(RunCtl({"token", "create", "bad name", "--role", "read-only"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"token", "create", "x", "--role", "admin"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"token", "create", "x"}).exit_code, 2);

  ts::TempDir dir;
  ts::WriteFile(dir.File("tokens"), Str(t, "line") + "\n");
  ts::WriteFile(dir.File("token"), token + "\n");
  ts::Daemon d(dir.File("data"), dir.path(), {"--set", "admin.tokens_file=" + dir.File("tokens")});
  ASSERT_TRUE(d.ok()) << d.log();
  const std::vector<std::string> conn = {"--url", "http://" + d.admin(), "--token-file", dir.File("token")};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), conn.begin(), conn.end());
    return RunCtl(args);
  };
  auto read = with({"status"});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  auto write = with({"groups", "create", "g1", "UE:ue-1"});
  EXPECT_EQ(write.exit_code, 4) << write.err;
  EXPECT_NE(write.err.find("403 INSUFFICIENT_ROLE"), std::string::npos) << write.err;
  EXPECT_EQ(RunCtl({"--url", "http://" + d.admin(), "--token", "m5g_not-a-token", "status"}).exit_code, 4);
}

TEST_F(CtlE2e, ExitCodes) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  // Usage: 2.
  EXPECT_EQ(Ctl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Ctl({"groups", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(Ctl({"groups", "show"}).exit_code, 2);
  EXPECT_EQ(Ctl({"groups", "list", "--bogus"}).exit_code, 2);
  EXPECT_EQ(Ctl({"groups", "list", "--json", "x"}).exit_code, 2);  // not an option of this one
  EXPECT_EQ(Ctl({"groups", "create", "g", "ue-1"}).exit_code, 2);  // MEMBER without TYPE:
  EXPECT_EQ(Ctl({"routes", "put", "r"}).exit_code, 2);              // no --json
  EXPECT_EQ(Ctl({"status", "--output", "yaml"}).exit_code, 2);
  EXPECT_EQ(RunCtl({}).exit_code, 2);
  // Cannot connect: 3 (a port nothing listens on; a socket file that is not there).
  auto refused = RunCtl({"--url", "http://127.0.0.1:" + std::to_string(ts::FreePort()), "status"});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.err.find("error: connect http://127.0.0.1:"), std::string::npos) << refused.err;
  EXPECT_EQ(RunCtl({"--socket", dir_.File("nothing.sock"), "status"}).exit_code, 3);
  // No token over TCP: 401, exit 4.
  auto anonymous = RunCtl({"--url", "http://" + d_.admin(), "status"});
  EXPECT_EQ(anonymous.exit_code, 4) << anonymous.err;
  // Not found: 5.
  auto missing = Ctl({"messages", "show", "AS", "as-1", "no-such-message"});
  EXPECT_EQ(missing.exit_code, 5) << missing.err;
  EXPECT_NE(missing.err.find("error: 404 RESOURCE_NOT_FOUND: "), std::string::npos) << missing.err;
  // A body the server refuses: 1, with its cause and the invalid parameter.
  auto invalid = Ctl({"routes", "put", "r1", "--json", "-"}, R"({"pattern":""})");
  EXPECT_EQ(invalid.exit_code, 1) << invalid.err;
  EXPECT_NE(invalid.err.find("error: 400 MANDATORY_IE_INCORRECT: "), std::string::npos) << invalid.err;
  EXPECT_NE(invalid.err.find("invalid /pattern: must be a non-empty UE id pattern"), std::string::npos)
      << invalid.err;
  EXPECT_EQ(Ctl({"clients", "put", "c1", "--json", "-"}, "not json").exit_code, 1);
}

// A server that accepts the connection and never answers: --timeout ends the wait, exit 3.
TEST(CtlTimeout, ASilentServerTimesOut) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto start = std::chrono::steady_clock::now();
  auto r = RunCtl({"--url", "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)), "--timeout", "1",
                   "status"});
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("timed out after 1 s"), std::string::npos) << r.err;
  EXPECT_LT(took, std::chrono::seconds(5));
}

// The Unix socket needs no token; $MSGIN5G_ADMIN_SOCKET and $MSGIN5G_ADMIN_URL with
// $MSGIN5G_ADMIN_TOKEN choose the server when no option does.
TEST_F(CtlE2e, UnixSocketAndEnvironment) {
  ASSERT_TRUE(d_.ok()) << d_.log();
  auto created = RunCtl({"--socket", d_.admin_socket(), "groups", "create", "g1", "UE:ue-1"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  auto env_socket = ts::Run({"env", "MSGIN5G_ADMIN_SOCKET=" + d_.admin_socket(), CtlPath(), "groups",
                             "show", "g1", "--output", "json"});
  ASSERT_EQ(env_socket.exit_code, 0) << env_socket.err;
  EXPECT_EQ(Addresses(Parse(env_socket).as_object()["members"]), (std::vector<std::string>{"UE:ue-1"}));
  auto env_url = ts::Run({"env", "MSGIN5G_ADMIN_URL=http://" + d_.admin(),
                          "MSGIN5G_ADMIN_TOKEN=" + d_.admin_token(), CtlPath(), "status", "--output", "json"});
  ASSERT_EQ(env_url.exit_code, 0) << env_url.err;
  EXPECT_EQ(Int(Parse(env_url), "groups"), 1);
  // --url wins over the socket.
  auto both = RunCtl({"--socket", dir_.File("nothing.sock"), "--url", "http://" + d_.admin(), "--token",
                      d_.admin_token(), "status"});
  EXPECT_EQ(both.exit_code, 0) << both.err;
}

// https: the server certificate is verified (--cacert), a client certificate is a read-write
// admin without a token (mutual TLS).
TEST(CtlTls, VerifiesTheServerAndSendsAClientCertificate) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  const std::string key = dir.File("client.key"), csr = dir.File("client.csr"), cert = dir.File("client.pem");
  ASSERT_EQ(ts::Run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", key, "-out", csr, "-subj", "/CN=ops-client"})
                .exit_code,
            0);
  ASSERT_EQ(ts::Run({"openssl", "x509", "-req", "-in", csr, "-CA", certs.ca_cert, "-CAkey",
                     dir.File("ca.key"), "-CAcreateserial", "-out", cert, "-days", "2"})
                .exit_code,
            0);
  ts::Daemon d(dir.File("data"), dir.path(),
               {"--set", "admin.tls=true", "--set", "tls.cert_file=" + certs.server_cert, "--set",
                "tls.key_file=" + certs.server_key, "--set", "tls.ca_file=" + certs.ca_cert});
  ASSERT_TRUE(d.ok()) << d.log();
  const std::string url = "https://" + d.admin();
  auto mtls = RunCtl({"--url", url, "--cacert", certs.ca_cert, "--cert", cert, "--key", key, "groups",
                      "create", "g1", "UE:ue-1", "--output", "json"});
  ASSERT_EQ(mtls.exit_code, 0) << mtls.err << d.log();
  EXPECT_EQ(Str(Parse(mtls), "groupId"), "g1");
  auto token = RunCtl({"--url", url, "--cacert", certs.ca_cert, "--token", d.admin_token(), "status",
                       "--output", "json"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  EXPECT_EQ(Int(Parse(token), "groups"), 1);
  // The test CA is not one the system trusts: without --cacert the handshake fails.
  auto unverified = RunCtl({"--url", url, "--token", d.admin_token(), "status"});
  EXPECT_EQ(unverified.exit_code, 3) << unverified.err;
  EXPECT_NE(unverified.err.find("TLS handshake"), std::string::npos) << unverified.err;
  // Neither certificate nor token: 401.
  EXPECT_EQ(RunCtl({"--url", url, "--cacert", certs.ca_cert, "status"}).exit_code, 4);
  // TLS files need an https URL.
  EXPECT_EQ(RunCtl({"--url", "http://" + d.admin(), "--cacert", certs.ca_cert, "status"}).exit_code, 2);
}

TEST(CtlHelp, VersionAndHelp) {
  auto v = RunCtl({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, std::string("msgin5gctl ") + MSGIN5G_VERSION + "\n");
  auto h = RunCtl({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* c : {"status", "queues show", "messages show", "groups remove-member", "topics subscribe",
                        "routes put", "clients delete", "token create"}) {
    EXPECT_NE(h.out.find("  " + std::string(c) + " "), std::string::npos) << c;
  }
  auto g = RunCtl({"groups", "create", "--help"});
  EXPECT_EQ(g.exit_code, 0);
  EXPECT_NE(g.out.find("Usage: msgin5gctl groups create ID [MEMBER...]"), std::string::npos) << g.out;
}

// backup create|list over the admin API, then restore (msgin5gd --restore) into a fresh directory
// that a daemon then serves the backed-up message from; msgin5gd's refusals pass through.
TEST(CtlBackup, CreateListRestoreAndServeTheRestoredStore) {
  ts::TempDir dir;
  const std::string backups = dir.File("backups");
  const std::string restored = dir.File("restored");
  {
    ts::Daemon d(dir.File("data"), dir.path(), {"--set", "storage.backup_dir=" + backups});
    ASSERT_TRUE(d.ok()) << d.log();
    SendAsMessage(d, "ue-1", "kept");
    auto ctl = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--socket", d.admin_socket()});
      return RunCtl(args);
    };
    auto created = ctl({"backup", "create", "nightly", "--output", "json"});
    ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
    json::value b = Parse(created);
    EXPECT_EQ(Str(b, "name"), "nightly");
    EXPECT_EQ(Str(b, "directory"), backups + "/nightly");
    EXPECT_GT(Int(b, "bytes"), 0);
    auto again = ctl({"backup", "create", "nightly"});
    EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
    EXPECT_NE(again.err.find("BACKUP_EXISTS"), std::string::npos) << again.err;
    auto table = ctl({"backup", "list"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_EQ(table.out.substr(0, table.out.find(' ')), "NAME") << table.out;
    EXPECT_NE(table.out.find("\nnightly "), std::string::npos) << table.out;
  }
  const std::vector<std::string> base = {"restore", backups + "/nightly", "--daemon",
                                         ts::DaemonPath()};
  auto busy = base;
  busy.insert(busy.end(), {"--data-dir", dir.File("data")});
  auto refused = RunCtl(busy);
  EXPECT_EQ(refused.exit_code, 73) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("is not empty"), std::string::npos) << refused.err;

  auto ok = base;
  ok.insert(ok.end(), {"--data-dir", restored, "--output", "json"});
  auto r = RunCtl(ok);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json::value out = Parse(r);
  EXPECT_EQ(Int(out, "exitCode"), 0);
  EXPECT_NE(Str(out, "output").find("restored backup " + backups + "/nightly into " + restored),
            std::string::npos)
      << out;

  ts::Daemon d(restored, dir.path());
  ASSERT_TRUE(d.ok()) << d.log();
  auto m = RunCtl({"--socket", d.admin_socket(), "messages", "show", "AS", "as-1", "kept",
                   "--output", "json"});
  EXPECT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_EQ(Str(Parse(m), "msgId"), "kept");
}

// gateways and destinations: a configured gateway is "(unused)" until a message goes to it; one
// whose address refuses connections opens its breaker, which both commands show.
TEST(CtlGateways, ShowTheBreakerOfAGatewayThatRefusesConnections) {
  ts::TempDir dir;
  ts::Daemon d(dir.File("data"), dir.path(),
               {"--set", "gateways.sms-1.type=l3g", "--set",
                "gateways.sms-1.api_root=http://127.0.0.1:" + std::to_string(ts::FreePort()),
                "--set", "delivery.breaker_failures=1", "--set", "delivery.retry_initial_ms=100",
                "--set", "delivery.allow_private_targets=true"});
  ASSERT_TRUE(d.ok()) << d.log();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", d.admin_socket()});
    return RunCtl(args);
  };
  auto idle = ctl({"gateways"});
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_NE(idle.out.find("sms-1    l3g   http://127.0.0.1:"), std::string::npos) << idle.out;
  EXPECT_NE(idle.out.find("(unused)"), std::string::npos) << idle.out;

  auto rule = ts::Run({CtlPath(), "--socket", d.admin_socket(), "routes", "put", "sms", "--json", "-"},
                      R"({"pattern":"ue-*","gateway":"sms-1"})");
  ASSERT_EQ(rule.exit_code, 0) << rule.err;
  SendAsMessage(d, "ue-1", "g1");

  json::value gw;
  ASSERT_TRUE(ts::WaitFor([&] {
    auto r = ctl({"gateways", "--output", "json"});
    gw = Parse(r);
    const auto& list = gw.as_object()["gateways"].as_array();
    return list.size() == 1 && list[0].as_object().at("destination").is_object() &&
           Str(list[0].as_object().at("destination"), "breaker") == "open";
  }, std::chrono::seconds(20))) << gw << d.log();
  const auto& dest = gw.as_object()["gateways"].as_array()[0].as_object().at("destination");
  EXPECT_GE(Int(dest, "failures"), 1) << dest;
  EXPECT_NE(Str(dest, "blockedUntil"), "<missing blockedUntil>");

  auto all = ctl({"destinations"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out.substr(0, 7), "CHANNEL") << all.out;
  EXPECT_NE(all.out.find("l3g      http://127.0.0.1:"), std::string::npos) << all.out;
  auto bad = ctl({"destinations", "--limit", "0"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
}

// queues purge and messages delete remove what waits (parked here: no route), answer once it is
// stored, and a read-only token can do neither (exit 4, nothing removed); messages resend counts
// what has no route and refuses a finished message.
TEST(CtlRemovals, PurgeAndDeleteAndAReadOnlyTokenCannot) {
  ts::TempDir dir;
  const std::string ro = "m5g_read-only-token-for-this-test";
  const std::string rw = "m5g_harness-read-write-token-not-secret";  // the harness's
  ts::WriteFile(dir.File("tokens"), "ro read-only sha256:" + Sha256Hex(ro) +
                                        "\nrw read-write sha256:" + Sha256Hex(rw) + "\n");
  ts::Daemon d(dir.File("data"), dir.path(), {"--set", "admin.tokens_file=" + dir.File("tokens")});
  ASSERT_TRUE(d.ok()) << d.log();
  auto send = [&](const std::string& ue, const std::string& id) { SendAsMessage(d, ue, id); };

  for (const char* id : {"p1", "p2", "p3"}) send("ue-p", id);
  for (const char* id : {"q1", "q2"}) send("ue-q", id);
  auto as = [&](const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", "http://" + d.admin(), "--token", token});
    return RunCtl(args);
  };
  auto count = [&](const std::string& ue) {
    return Int(Parse(as(rw, {"queues", "show", "UE", ue, "--output", "json"})), "count");
  };

  auto refused = as(ro, {"queues", "purge", "UE", "ue-p"});
  EXPECT_EQ(refused.exit_code, 4) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("INSUFFICIENT_ROLE"), std::string::npos) << refused.err;
  EXPECT_EQ(as(ro, {"messages", "delete", "AS", "as-1", "q1"}).exit_code, 4);
  EXPECT_EQ(count("ue-p"), 3);
  EXPECT_EQ(count("ue-q"), 2);

  // resend: nothing here has a route, so it is counted and keeps waiting.
  EXPECT_EQ(as(ro, {"messages", "resend", "AS", "as-1", "q2"}).exit_code, 4);
  auto resent = as(rw, {"messages", "resend", "AS", "as-1", "q2"});
  ASSERT_EQ(resent.exit_code, 0) << resent.err;
  EXPECT_EQ(resent.out,
            "message q2: 0 resent now, 1 without a route (they go when the recipient has one)\n");
  EXPECT_EQ(Int(Parse(as(rw, {"messages", "resend", "AS", "as-1", "q2", "--output", "json"})),
                "noRoute"),
            1);
  EXPECT_EQ(as(rw, {"messages", "resend", "AS", "as-1", "nope"}).exit_code, 5);
  EXPECT_EQ(count("ue-q"), 2);

  auto purged = as(rw, {"queues", "purge", "UE", "ue-p", "--output", "json"});
  ASSERT_EQ(purged.exit_code, 0) << purged.out << purged.err;
  EXPECT_EQ(Int(Parse(purged), "removed"), 3) << purged.out;
  EXPECT_EQ(count("ue-p"), 0);
  auto text = as(rw, {"messages", "delete", "AS", "as-1", "q1"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out, "message q1: 1 removed\n");
  EXPECT_EQ(count("ue-q"), 1);
  auto view = Parse(as(rw, {"messages", "show", "AS", "as-1", "q1", "--output", "json"}));
  EXPECT_NE(json::serialize(view).find("deleted by an operator"), std::string::npos) << view;
  EXPECT_EQ(as(rw, {"messages", "delete", "AS", "as-1", "nope"}).exit_code, 5);
  auto gone = as(rw, {"messages", "resend", "AS", "as-1", "q1"});
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err;
  EXPECT_NE(gone.err.find("MESSAGE_FINISHED"), std::string::npos) << gone.err;
  // The queue of a purged recipient takes new messages as before.
  send("ue-p", "p4");
  EXPECT_EQ(count("ue-p"), 1);
}

// drain: msgin5gd stops by itself (nothing here has a route), msgin5gctl reports it with the last
// state seen, the daemon exits 0 and the message is still stored at the next start.
TEST(CtlDrain, StopsTheDaemonAndReportsWhatIsKept) {
  ts::TempDir dir;
  ts::Daemon d(dir.File("data"), dir.path());
  ASSERT_TRUE(d.ok()) << d.log();
  SendAsMessage(d, "ue-away", "kept");
  auto bad = RunCtl({"--socket", d.admin_socket(), "drain", "--deadline", "0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  auto r = RunCtl({"--socket", d.admin_socket(), "drain", "--deadline", "5", "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json::value out = Parse(r);
  EXPECT_EQ(out.as_object()["stopped"], json::value(true)) << out;
  EXPECT_EQ(out.as_object()["draining"], json::value(true)) << out;
  EXPECT_EQ(Int(out, "pending"), 1) << out;
  EXPECT_EQ(Int(out, "deliverable"), 0) << out;
  EXPECT_NE(r.err.find("draining: 0 deliverable, 0 in flight, 1 stored"), std::string::npos) << r.err;
  auto code = d.proc().Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  ts::Daemon again(dir.File("data"), dir.path());
  ASSERT_TRUE(again.ok()) << again.log();
  auto q = RunCtl({"--socket", again.admin_socket(), "queues", "show", "UE", "ue-away", "--output", "json"});
  EXPECT_EQ(Int(Parse(q), "count"), 1) << q.out;
}

// On a terminal, restore and drain redraw one progress line in place (\r ... ESC[K); elsewhere they
// print plain lines (the other tests).
TEST(CtlTerminal, RestoreAndDrainRedrawAProgressLine) {
  ts::TempDir dir;
  const std::string backups = dir.File("backups");
  ts::Daemon d(dir.File("data"), dir.path(), {"--set", "storage.backup_dir=" + backups});
  ASSERT_TRUE(d.ok()) << d.log();
  SendAsMessage(d, "ue-1", "t1");
  ASSERT_EQ(RunCtl({"--socket", d.admin_socket(), "backup", "create", "b1"}).exit_code, 0);

  auto restored = RunCtlOnTerminal({"restore", backups + "/b1", "--daemon", ts::DaemonPath(),
                                    "--data-dir", dir.File("restored")});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("\rrestore ["), std::string::npos) << restored.out;
  EXPECT_NE(restored.out.find("] 100% verifying checksums\x1b[K\r\n"), std::string::npos)
      << restored.out;
  EXPECT_EQ(restored.out.find("restore: copied"), std::string::npos) << restored.out;
  EXPECT_NE(restored.out.find("restored backup " + backups + "/b1"), std::string::npos)
      << restored.out;

  auto drained = RunCtlOnTerminal({"--socket", d.admin_socket(), "drain", "--deadline", "5"});
  ASSERT_EQ(drained.exit_code, 0) << drained.out << drained.err;
  EXPECT_NE(drained.out.find("\rdraining (0 s) 0 deliverable, 0 in flight, 1 stored\x1b[K"),
            std::string::npos)
      << drained.out;
  EXPECT_EQ(drained.out.find("draining: "), std::string::npos) << drained.out;
  EXPECT_NE(drained.out.find("stopped"), std::string::npos) << drained.out;
  auto code = d.proc().Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

// The bash completion script offers the commands, subcommands and options msgin5gctl has.
TEST(CtlBashCompletion, CompletesCommandsSubcommandsAndOptions) {
  const std::string script = std::string(MSGIN5G_SOURCE_DIR) + "/packaging/bash-completion/msgin5gctl";
  auto complete = [&](const std::string& words) {
    auto r = ts::Run({"bash", "-c",
                      "source \"$1\"; eval \"COMP_WORDS=($2)\"; COMP_CWORD=$((${#COMP_WORDS[@]}-1)); "
                      "_msgin5gctl; echo \"${COMPREPLY[*]}\"",
                      "bash", script, words});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(complete("msgin5gctl ''"),
            "status queues messages registrations gateways destinations drain groups topics "
            "routes clients backup restore token\n");
  EXPECT_EQ(complete("msgin5gctl backup ''"), "create list\n");
  EXPECT_EQ(complete("msgin5gctl restore nightly --d"), "--data-dir --daemon\n");
  EXPECT_EQ(complete("msgin5gctl --output json groups ''"),
            "list show create delete add-member remove-member\n");
  EXPECT_EQ(complete("msgin5gctl topics subscribe t1 UE : ue-1 --e"), "--expiry-ms\n");
  EXPECT_EQ(complete("msgin5gctl token create ops --role ''"), "read-only read-write\n");
  EXPECT_EQ(complete("msgin5gctl groups add-member g1 ''"), "UE: AS:\n");
  EXPECT_EQ(complete("msgin5gctl --output = j"), "json\n");
  // Every command of --help is offered.
  auto help = RunCtl({"--help"}).out;
  for (const char* group : {"queues", "messages", "groups", "topics", "routes", "clients", "backup"}) {
    std::string offered = " " + complete(std::string("msgin5gctl ") + group + " ''");
    offered.back() = ' ';
    std::size_t pos = 0;
    const std::string prefix = std::string("\n  ") + group + " ";
    while ((pos = help.find(prefix, pos)) != std::string::npos) {
      pos += prefix.size();
      std::string sub = help.substr(pos, help.find_first_of(" \n", pos) - pos);
      EXPECT_NE(offered.find(" " + sub + " "), std::string::npos) << group << " " << sub;
    }
  }
}

}  // namespace
}  // namespace msgin5g
