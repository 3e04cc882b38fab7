// Who may use the admin API, against the real msgin5gd with curl: over TCP a bearer token with a
// role (none: 401, a read-only token writing: 403, and nothing changes), on the Unix socket the
// file's mode decides; every write leaves an audit line; SIGHUP re-reads the tokens; a socket
// left by a killed daemon is taken over, one a live daemon serves is not.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/auth/admin_guard.h"
#include "tests/support/daemon_harness.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

namespace ts = testing_support;
using namespace std::chrono_literals;

const std::string kReadOnly = "m5g_read-only-token-for-the-test";
const std::string kWriter = "m5g_writer-token-for-the-test";

boost::json::object Json(const std::string& s) {
  boost::json::error_code ec;
  auto v = boost::json::parse(s, ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

std::string Str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

class AdminAuthE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ts::WriteFile(tokens_, "# test tokens\nviewer read-only " + api::auth::AdminTokenHash(kReadOnly) +
                               "\nwriter read-write " + api::auth::AdminTokenHash(kWriter) + "\n");
    ts::WriteFile(config_, "[log]\nlevel = \"info\"\n");
    d_ = std::make_unique<ts::Daemon>(
        dir_.File("data"), dir_.path(),
        std::vector<std::string>{"--config", config_, "--set", "admin.tokens_file=" + tokens_,
                                 "--set", "admin.socket=" + socket_});
    ASSERT_TRUE(d_->ok());
  }

  // curl to the TCP admin listener; `auth` is the Authorization value (empty: none).
  ts::CurlResult Tcp(const std::string& method, const std::string& path, const std::string& auth,
                     const std::string& body = "") {
    std::vector<std::string> args = {"-X", method};
    if (!auth.empty()) args.insert(args.end(), {"-H", "authorization: " + auth});
    if (!body.empty()) args.insert(args.end(), {"-H", "content-type: application/json", "-d", body});
    args.push_back("http://" + d_->admin() + "/admin/v1" + path);
    return ts::Curl(args);
  }
  ts::CurlResult Unix(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    std::vector<std::string> args = {"--unix-socket", socket_, "-X", method};
    if (!body.empty()) args.insert(args.end(), {"-H", "content-type: application/json", "-d", body});
    args.push_back("http://localhost/admin/v1" + path);
    return ts::Curl(args);
  }
  std::uint64_t Groups() {
    auto stats = Json(Unix("GET", "/stats").body);
    return stats.contains("groups") ? stats.at("groups").to_number<std::uint64_t>() : 999;
  }

  ts::TempDir dir_;
  std::string tokens_ = dir_.File("admin-tokens");
  std::string config_ = dir_.File("msgin5gd.toml");
  std::string socket_ = dir_.File("admin.sock");
  std::unique_ptr<ts::Daemon> d_;
};

TEST_F(AdminAuthE2E, TcpWithoutCredentialsIs401AndChangesNothing) {
  const std::string group = R"({"members":[{"addrType":"UE","addr":"ue-1"}]})";
  auto r = Tcp("PUT", "/groups/g-anon", "", group);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.headers.find("content-type: application/problem+json"), std::string::npos) << r.headers;
  EXPECT_NE(r.headers.find("www-authenticate: bearer realm=\"msgin5g-admin\""), std::string::npos)
      << r.headers;
  auto p = Json(r.body);
  EXPECT_EQ(p["status"].to_number<int>(), 401);
  EXPECT_EQ(Str(p, "cause"), "MISSING_ACCESS_TOKEN");
  EXPECT_NE(Str(p, "detail").find("needs credentials"), std::string::npos) << r.body;
  // Reads are refused too: the queues and messages are nobody's business.
  EXPECT_EQ(Tcp("GET", "/stats", "").status, 401);

  auto wrong = Tcp("PUT", "/groups/g-anon", "Bearer m5g_not-a-token", group);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Str(Json(wrong.body), "cause"), "INVALID_ACCESS_TOKEN");
  EXPECT_NE(wrong.headers.find("error=\"invalid_token\""), std::string::npos) << wrong.headers;
  auto malformed = Tcp("PUT", "/groups/g-anon", "Basic dXNlcjpwYXNz", group);
  EXPECT_EQ(malformed.status, 401);
  EXPECT_NE(malformed.headers.find("error=\"invalid_request\""), std::string::npos);

  EXPECT_EQ(Groups(), 0u);
  EXPECT_EQ(Unix("GET", "/groups").body.find("g-anon"), std::string::npos);
  auto metrics = ts::Curl({"http://" + d_->metrics() + "/metrics"}).body;
  EXPECT_NE(metrics.find("msgin5g_admin_refusals_total{reason=\"missing_credentials\"} 2"),
            std::string::npos);
  EXPECT_NE(metrics.find("msgin5g_admin_refusals_total{reason=\"invalid_token\"} 2"),
            std::string::npos);
}

TEST_F(AdminAuthE2E, ReadOnlyTokenReadsButCannotWrite) {
  const std::string ro = "Bearer " + kReadOnly;
  EXPECT_EQ(Tcp("GET", "/stats", ro).status, 200);
  EXPECT_EQ(Tcp("GET", "/groups", ro).status, 200);
  auto put = Tcp("PUT", "/groups/g-ro", ro, R"({"members":[{"addrType":"UE","addr":"ue-1"}]})");
  EXPECT_EQ(put.status, 403);
  auto p = Json(put.body);
  EXPECT_EQ(Str(p, "cause"), "INSUFFICIENT_ROLE");
  EXPECT_NE(Str(p, "detail").find("token:viewer is read-only"), std::string::npos) << put.body;
  EXPECT_EQ(Tcp("DELETE", "/routing-rules/any", ro).status, 403);
  EXPECT_EQ(Groups(), 0u);

  // The read-write token may; its write is audited with the token's name and the answer.
  auto ok = Tcp("PUT", "/groups/g-rw", "Bearer " + kWriter,
                R"({"members":[{"addrType":"UE","addr":"ue-1"}]})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Groups(), 1u);
  EXPECT_TRUE(ts::WaitFor(
      [&] {
        return d_->log().find("admin PUT /admin/v1/groups/g-rw by token:writer from 127.0.0.1:") !=
               std::string::npos;
      },
      5s))
      << d_->log();
  EXPECT_NE(d_->log().find("refused (insufficient_role)"), std::string::npos);
  // A read is not audited.
  EXPECT_EQ(d_->log().find("admin GET /admin/v1/stats by"), std::string::npos);
}

TEST_F(AdminAuthE2E, UnixSocketIsOwnerAndGroupOnlyAndNeedsNoToken) {
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  auto r = Unix("PUT", "/groups/g-sock", R"({"members":[{"addrType":"AS","addr":"as-1"}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Groups(), 1u);
  const std::string who = "by uid:" + std::to_string(::getuid()) + " from unix:uid=";
  EXPECT_TRUE(ts::WaitFor([&] { return d_->log().find(who) != std::string::npos; }, 5s)) << d_->log();
  // A read-only token on the socket is still read-only: a token always decides.
  std::vector<std::string> args = {"--unix-socket", socket_, "-X", "DELETE", "-H",
                                   "authorization: Bearer " + kReadOnly,
                                   "http://localhost/admin/v1/groups/g-sock"};
  EXPECT_EQ(ts::Curl(args).status, 403);
  EXPECT_EQ(Groups(), 1u);
}

TEST_F(AdminAuthE2E, SighupReloadsTheTokens) {
  const std::string fresh = "m5g_added-after-start";
  EXPECT_EQ(Tcp("GET", "/stats", "Bearer " + fresh).status, 401);
  ts::WriteFile(tokens_, "late read-only " + api::auth::AdminTokenHash(fresh) + "\n");
  ::kill(d_->proc().pid(), SIGHUP);
  EXPECT_TRUE(ts::WaitFor([&] { return Tcp("GET", "/stats", "Bearer " + fresh).status == 200; }, 10s))
      << d_->log();
  EXPECT_EQ(Tcp("GET", "/stats", "Bearer " + kWriter).status, 401);  // no longer in the file
  // A broken file is reported and the tokens in force stay.
  ts::WriteFile(tokens_, "late read-only sha256:nothex\n");
  ::kill(d_->proc().pid(), SIGHUP);
  EXPECT_TRUE(ts::WaitFor(
      [&] { return d_->log().find("admin.tokens_file") != std::string::npos; }, 10s))
      << d_->log();
  EXPECT_EQ(Tcp("GET", "/stats", "Bearer " + fresh).status, 200);
}

TEST_F(AdminAuthE2E, StaleSocketIsTakenOverLiveOneIsNot) {
  // A second daemon (its own data) on the socket the first serves: refused, the first unharmed.
  ts::TempDir other;
  auto r = ts::Run({ts::DaemonPath(), "--set", "api.listen=127.0.0.1:0", "--set",
                    "metrics.listen=127.0.0.1:0", "--set", "coap.listen=127.0.0.1:0", "--set",
                    "admin.socket=" + socket_, "--set", "storage.path=" + other.File("data")},
                   "", 30s);
  EXPECT_EQ(r.exit_code, 69) << r.err;
  EXPECT_NE(r.err.find("another process is serving it"), std::string::npos) << r.err;
  EXPECT_EQ(Unix("GET", "/stats").status, 200);
  // kill -9 leaves the file behind; the next start replaces it.
  d_->proc().Stop(SIGKILL, 10s);
  ASSERT_TRUE(std::filesystem::exists(socket_));
  d_ = std::make_unique<ts::Daemon>(dir_.File("data"), dir_.path(),
                                    std::vector<std::string>{"--set", "admin.socket=" + socket_});
  ASSERT_TRUE(d_->ok());
  EXPECT_EQ(Unix("GET", "/stats").status, 200);
  // A clean stop removes it.
  EXPECT_EQ(d_->proc().Stop(SIGTERM, 30s), 0);
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

// A tokens file that cannot be used stops the start (78, --check-config too) with its line; a
// socket that cannot be made stops it with 69.
TEST(AdminAuthStart, BadTokensFileIs78AndAnUnusableSocketPathIs69) {
  ts::TempDir dir;
  ts::WriteFile(dir.File("tokens"), "ops read-write sha256:abc\n");
  auto bad = ts::Run({ts::DaemonPath(), "--set", "admin.tokens_file=" + dir.File("tokens"),
                      "--set", "admin.listen=127.0.0.1:0", "--check-config"});
  EXPECT_EQ(bad.exit_code, 78);
  EXPECT_NE(bad.err.find("admin.tokens_file: " + dir.File("tokens") + ":1: the hash must be"),
            std::string::npos)
      << bad.err;
  auto missing = ts::Run({ts::DaemonPath(), "--set", "admin.tokens_file=" + dir.File("none"),
                          "--check-config"});
  EXPECT_EQ(missing.exit_code, 78);
  EXPECT_NE(missing.err.find("cannot read admin tokens file"), std::string::npos) << missing.err;
  auto sock = ts::Run({ts::DaemonPath(), "--set", "api.listen=127.0.0.1:0", "--set",
                       "metrics.listen=127.0.0.1:0", "--set", "coap.listen=127.0.0.1:0", "--set",
                       "admin.socket=" + dir.File("no-such-dir/admin.sock"), "--set",
                       "storage.path=" + dir.File("data")},
                      "", 30s);
  EXPECT_EQ(sock.exit_code, 69);
  EXPECT_NE(sock.err.find("admin.socket: cannot listen on unix:" + dir.File("no-such-dir/admin.sock")),
            std::string::npos)
      << sock.err;
}

}  // namespace
}  // namespace msgin5g
