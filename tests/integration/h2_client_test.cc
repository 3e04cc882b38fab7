// Our HTTP/2 client against a real third-party server: nghttpd (cleartext and TLS), plus failure
// paths (connection refused, timeouts, bad URLs); and its HTTP/1.1 fallback against Python's
// http.server (tests/support/http1_server.py), a server that speaks HTTP/1.1 only.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "api/http/h2_client.h"
#include "api/http/tls_context.h"
#include "tests/support/client_thread.h"
#include "tests/support/http1_server.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
using api::http::ClientOptions;
using api::http::ClientRequest;
using api::http::H2Client;
using api::http::Response;
namespace ts = testing_support;

using ClientHarness = ts::ClientThread;

// nghttpd serving a docroot on a free port; waits until it accepts connections.
class Nghttpd {
 public:
  // port 0: a free one.
  Nghttpd(const ts::TempDir& dir, const ts::TestCerts* certs, int port = 0) {
    docroot_ = dir.File("docroot");
    std::filesystem::create_directories(docroot_);
    ts::WriteFile(docroot_ + "/hello.txt", "hello from nghttpd\n");
    port_ = port != 0 ? port : ts::FreePort();
    std::vector<std::string> argv = {"nghttpd", "-d", docroot_, "--address=127.0.0.1"};
    if (certs == nullptr) argv.push_back("--no-tls");
    argv.push_back(std::to_string(port_));
    if (certs != nullptr) {
      argv.push_back(certs->server_key);
      argv.push_back(certs->server_cert);
    }
    proc_ = std::make_unique<ts::Process>(argv, dir.File("nghttpd.log"));
    bool up = ts::WaitFor(
        [&] {
          return ts::Run({"curl", "-s", "-o", "/dev/null", "-k", "--http2-prior-knowledge",
                          std::string(certs ? "https" : "http") + "://127.0.0.1:" +
                              std::to_string(port_) + "/hello.txt"})
                     .exit_code == 0 ||
                 !proc_->running();
        },
        5s);
    EXPECT_TRUE(up && proc_->running()) << ts::ReadFile(dir.File("nghttpd.log"));
  }
  int port() const { return port_; }

 private:
  std::string docroot_;
  int port_ = 0;
  std::unique_ptr<ts::Process> proc_;
};

ClientRequest Get(const std::string& url) {
  ClientRequest r;
  r.method = "GET";
  r.url = url;
  return r;
}

TEST(H2Client, GetsFileFromNghttpdOverH2c) {
  ts::TempDir dir;
  Nghttpd server(dir, nullptr);
  ClientHarness c;
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  auto r = c.Call(Get(base + "/hello.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello from nghttpd\n");
  auto missing = c.Call(Get(base + "/nope"));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  // Many requests multiplexed; all succeed.
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    ts.emplace_back([&] {
      auto x = c.Call(Get(base + "/hello.txt"));
      if (x.ok() && x->status == 200) ++ok;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 50);
}

TEST(H2Client, GetsFileFromNghttpdOverTls) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  Nghttpd server(dir, &certs);
  api::http::TlsOptions t;
  t.ca_file = certs.ca_cert;
  auto ctx = api::http::MakeClientTlsContext(t);
  ASSERT_TRUE(ctx.ok());
  ClientOptions o;
  o.tls = *ctx;
  ClientHarness c(o);
  auto r = c.Call(Get("https://127.0.0.1:" + std::to_string(server.port()) + "/hello.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "hello from nghttpd\n");
}

// Client options trusting `ca_file` that record each TLS handshake: resumed or full.
class HandshakeLog {
 public:
  ClientOptions Options(const std::string& ca_file) {
    api::http::TlsOptions t;
    t.ca_file = ca_file;
    auto ctx = api::http::MakeClientTlsContext(t);
    EXPECT_TRUE(ctx.ok());
    ClientOptions o;
    if (ctx.ok()) o.tls = *ctx;
    o.on_tls_handshake = [this](bool resumed) {
      std::lock_guard<std::mutex> lock(mu_);
      resumed_.push_back(resumed);
    };
    return o;
  }
  std::vector<bool> resumed() {
    std::lock_guard<std::mutex> lock(mu_);
    return resumed_;
  }

 private:
  std::mutex mu_;
  std::vector<bool> resumed_;
};

TEST(H2Client, ResumesTheTlsSessionWhenItReconnects) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  Nghttpd server(dir, &certs);
  HandshakeLog log;
  ClientHarness c(log.Options(certs.ca_cert));
  std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/hello.txt";
  for (int i = 0; i < 3; ++i) {
    auto r = c.Call(Get(url));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "hello from nghttpd\n");
    c.CloseConnections();
  }
  EXPECT_EQ(log.resumed(), (std::vector<bool>{false, true, true}));
}

TEST(H2Client, FallsBackToAFullHandshakeWhenTheServerForgotTheSession) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  HandshakeLog log;
  ClientHarness c(log.Options(certs.ca_cert));
  int port = 0;
  {
    Nghttpd first(dir, &certs);
    port = first.port();
    auto r = c.Call(Get("https://127.0.0.1:" + std::to_string(port) + "/hello.txt"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // A new server process has new ticket keys: the stored session is refused, the handshake
  // completes in full instead of failing.
  c.CloseConnections();
  Nghttpd second(dir, &certs, port);
  auto r = c.Call(Get("https://127.0.0.1:" + std::to_string(port) + "/hello.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(log.resumed(), (std::vector<bool>{false, false}));
}

TEST(H2Client, RejectsServerCertificateFromUnknownCa) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  Nghttpd server(dir, &certs);
  auto ctx = api::http::MakeClientTlsContext({});  // system trust store: does not know our CA
  ASSERT_TRUE(ctx.ok());
  ClientOptions o;
  o.tls = *ctx;
  ClientHarness c(o);
  auto r = c.Call(Get("https://127.0.0.1:" + std::to_string(server.port()) + "/hello.txt"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(H2Client, ConnectionRefusedIsUnavailable) {
  ClientHarness c;
  auto r = c.Call(Get("http://127.0.0.1:" + std::to_string(ts::FreePort()) + "/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(H2Client, BadUrlIsInvalidArgument) {
  ClientHarness c;
  for (const char* url : {"not a url", "ftp://127.0.0.1/x", "http:///nohost"}) {
    auto r = c.Call(Get(url));
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(H2Client, SilentPeerTimesOut) {
  // A listener that accepts (kernel backlog) but never speaks HTTP/2.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ClientHarness c;
  ClientRequest req = Get("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x");
  req.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = c.Call(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  close(fd);
}

// --- HTTP/1.1 peers ---

ClientRequest PostTo(const std::string& url, const std::string& body) {
  ClientRequest r;
  r.url = url;
  r.headers = {{"content-type", "application/json"}};
  r.body = body;
  return r;
}

// Client options that record each HTTP/1.1 fallback: the authority and why.
class FallbackLog {
 public:
  void Watch(ClientOptions& o) {
    o.on_http1_fallback = [this](const std::string& authority, const std::string& why) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.emplace_back(authority, why);
    };
  }
  std::vector<std::pair<std::string, std::string>> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> seen_;
};

TEST(H2Client, SpeaksHttp1ToAServerThatAnswersThePrefaceWithHttp1) {
  ts::Http1Server server;
  ASSERT_TRUE(server.ok());
  FallbackLog log;
  ClientOptions o;
  log.Watch(o);
  ClientHarness c(o);
  auto r = c.Call(PostTo(server.url() + "/echo/1", R"({"n":1})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"n":1})");
  EXPECT_EQ(FindHeader(r->headers, "x-protocol"), "HTTP/1.1");

  // Remembered: 30 more at once go straight to HTTP/1.1, over several kept-alive connections.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 30; ++i) {
    threads.emplace_back([&, i] {
      auto x = c.Call(PostTo(server.url() + "/echo/" + std::to_string(i), "body " + std::to_string(i)));
      if (x.ok() && x->status == 200 && x->body == "body " + std::to_string(i)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 30);
  auto seen = log.seen();
  ASSERT_EQ(seen.size(), 1u) << "found out once";
  EXPECT_EQ(seen[0].first, "http://127.0.0.1:" + std::to_string(server.port()));
  // Python's http.server answers the preface with a bare error page, no status line.
  EXPECT_NE(seen[0].second.find("not a SETTINGS frame"), std::string::npos) << seen[0].second;

  // Every request reached the server once, as HTTP/1.1 with our headers and Host.
  auto got = server.received();
  ASSERT_EQ(got.size(), 31u);
  for (const auto& q : got) {
    EXPECT_EQ(q.version, "HTTP/1.1");
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(q.headers.at("content-type"), "application/json");
  }
  EXPECT_EQ(got[0].body, R"({"n":1})");
}

TEST(H2Client, SpeaksHttp1OverTlsWhenAlpnSelectsIt) {
  ts::TempDir dir;
  auto certs = ts::MakeTestCerts(dir.path());
  ts::Http1Server server({.tls = &certs});
  ASSERT_TRUE(server.ok());
  FallbackLog log;
  HandshakeLog handshakes;
  ClientOptions o = handshakes.Options(certs.ca_cert);
  log.Watch(o);
  ClientHarness c(o);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Call(PostTo(server.url() + "/echo", "over tls"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "over tls");
    EXPECT_EQ(FindHeader(r->headers, "x-protocol"), "HTTP/1.1");
  }
  auto seen = log.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].second.find("ALPN http/1.1"), std::string::npos) << seen[0].second;
  // The handshake that found out, then one for the HTTP/1.1 connection; it stays open after.
  EXPECT_EQ(handshakes.resumed().size(), 2u);
}

TEST(H2Client, WithoutTheFallbackAnHttp1ServerIsUnavailable) {
  ts::Http1Server server;
  ASSERT_TRUE(server.ok());
  ClientOptions o;
  o.http1_fallback = false;
  ClientHarness c(o);
  auto r = c.Call(PostTo(server.url() + "/echo", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("HTTP/1.1 only"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(server.received().empty());
}

TEST(H2Client, Http1RequestOnAConnectionTheServerClosedWhileIdleIsSentAgain) {
  ts::Http1Server server({.idle_timeout_s = 0.3});
  ASSERT_TRUE(server.ok());
  ClientHarness c;
  ASSERT_TRUE(c.Call(PostTo(server.url() + "/echo", "first")).ok());
  std::this_thread::sleep_for(1s);  // the server closes the kept-alive connection
  auto r = c.Call(PostTo(server.url() + "/echo", "second"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "second");
  // "Connection: close" is honoured: the next request opens a new connection.
  auto closed = c.Call(PostTo(server.url() + "/close", ""));
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->status, 204);
  auto after = c.Call(PostTo(server.url() + "/echo", "third"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->body, "third");
  auto got = server.received();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].body, "second");
}

TEST(H2Client, Http1DeadlinesAndResponseLimitsHold) {
  ts::Http1Server server;
  ASSERT_TRUE(server.ok());
  ClientOptions o;
  o.max_response_bytes = 1 << 20;
  ClientHarness c(o);
  ASSERT_TRUE(c.Call(PostTo(server.url() + "/echo", "warm up")).ok());
  ClientRequest slow = PostTo(server.url() + "/slow", "");
  slow.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = c.Call(slow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  auto big = c.Call(PostTo(server.url() + "/big", ""));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  auto fine = c.Call(PostTo(server.url() + "/echo", "still fine"));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->body, "still fine");
}

}  // namespace
}  // namespace msgin5g
