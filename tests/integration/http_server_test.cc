// The HTTP/2 + HTTP/1.1 server on real loopback sockets, driven by our own client, curl, nghttp and
// raw sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <cctype>
#include <cstdlib>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include "api/http/client_hello.h"
#include "api/http/tls_context.h"
#include "tests/support/byte_mutator.h"
#include "tests/support/server_fixture.h"
#include "tests/support/test_util.h"

namespace msgin5g {
namespace {

using namespace std::chrono_literals;
using api::http::ClientRequest;
using api::http::FindHeader;
using testing_support::Curl;
using testing_support::ServerFixture;

ClientRequest Post(const std::string& url, std::string body,
                   std::string content_type = "application/json") {
  ClientRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::move(body);
  r.headers.push_back({"content-type", std::move(content_type)});
  return r;
}

ClientRequest Get(const std::string& url) {
  ClientRequest r;
  r.method = "GET";
  r.url = url;
  return r;
}

// A raw TCP connection for the cases no well-behaved client produces.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& data) { ASSERT_EQ(write(fd_, data.data(), data.size()), (ssize_t)data.size()); }
  // Whatever arrives within `wait` (empty if nothing).
  std::string ReadSome(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    std::string out;
    if (poll(&p, 1, static_cast<int>(wait.count())) > 0) {
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n > 0) out.assign(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Reads until the peer closes (or 5 s pass); returns what arrived and whether it closed.
  std::pair<std::string, bool> ReadUntilClose() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n == 0) return {out, true};
      if (n < 0) return {out, false};
      out.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// One HTTP/1.1 answer as a raw client sees it. Header names and values are lower-cased.
struct RawResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// Splits what the server sent into answers (every answer of this server has a Content-Length);
// an incomplete tail is left out.
std::vector<RawResponse> SplitResponses(const std::string& data) {
  std::vector<RawResponse> out;
  std::size_t pos = 0;
  for (;;) {
    std::size_t end = data.find("\r\n\r\n", pos);
    if (end == std::string::npos || data.compare(pos, 9, "HTTP/1.1 ") != 0) break;
    RawResponse r;
    r.status = std::atoi(data.substr(pos + 9, 3).c_str());
    r.headers = data.substr(pos, end + 2 - pos);
    for (auto& c : r.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t len = 0;
    if (auto cl = r.headers.find("\r\ncontent-length: "); cl != std::string::npos) {
      len = std::strtoul(r.headers.c_str() + cl + 18, nullptr, 10);
    }
    if (data.size() < end + 4 + len) break;
    r.body = data.substr(end + 4, len);
    out.push_back(std::move(r));
    pos = end + 4 + len;
  }
  return out;
}

// The JSON object in `body`; empty when it is not one (so that a wrong answer fails an expectation
// rather than throwing).
boost::json::object JsonObject(const std::string& body) {
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

// Reads until `n` whole answers arrived (or nothing more comes for 5 s).
std::string ReadResponses(RawConnection& c, std::size_t n) {
  std::string data;
  while (SplitResponses(data).size() < n) {
    std::string more = c.ReadSome(5000ms);
    if (more.empty()) break;
    data += more;
  }
  return data;
}

const char* kValidAsMessage =
    R"({"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-1"},)"
    R"("msgId":"m-1","stoAndFwInd":true,"payload":"hello","priority":"HIGH"})";

TEST(HttpServer, OurClientEchoesOverH2c) {
  ServerFixture f;
  auto r = f.Call(Post(f.base_url() + "/echo", "{\"a\":1}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"a\":1}");
  EXPECT_EQ(FindHeader(r->headers, "x-protocol"), "h2");
}

TEST(HttpServer, ManyConcurrentStreamsOnOneConnection) {
  ServerFixture f;
  constexpr int kRequests = 300;
  std::vector<std::future<void>> done;
  std::atomic<int> ok{0};
  // Issue them all before any answer: the client multiplexes them on one connection, and the
  // server answers each from another thread after a short delay.
  std::vector<std::thread> callers;
  for (int i = 0; i < kRequests; ++i) {
    callers.emplace_back([&f, &ok, i] {
      auto r = f.Call(Get(f.base_url() + "/slow/" + std::to_string(i % 20)));
      if (r.ok() && r->status == 200 && r->body == "slow " + std::to_string(i % 20)) ++ok;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), kRequests);
  EXPECT_EQ(f.server().open_connections(), 1u);
}

TEST(HttpServer, LargeBodyWithinLimitRoundTrips) {
  ServerFixture f;
  std::string body(900 * 1024, 'x');
  auto r = f.Call(Post(f.base_url() + "/echo", body, "text/plain"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), body.size());
}

TEST(HttpServer, OversizedBodyGets413OverH2AndConnectionStaysUsable) {
  api::http::ServerOptions o;
  o.max_body_bytes = 64 * 1024;
  ServerFixture f(o);
  auto r = f.Call(Post(f.base_url() + "/echo", std::string(200 * 1024, 'x')));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(FindHeader(r->headers, "content-type"), "application/problem+json");
  auto again = f.Call(Post(f.base_url() + "/echo", "{}"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
}

TEST(HttpServer, HandlerThatNeverAnswersYields500) {
  ServerFixture f;
  auto r = f.Call(Get(f.base_url() + "/forget"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  auto body = boost::json::parse(r->body).as_object();
  EXPECT_EQ(body.at("cause").as_string(), "SYSTEM_FAILURE");
}

TEST(HttpServer, AnswerAfterClientResetIsDroppedSafely) {
  ServerFixture f;
  ClientRequest req = Get(f.base_url() + "/park");
  req.timeout = 200ms;
  auto r = f.Call(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(testing_support::WaitFor([&] { return f.parked_count() == 1; }, 2s));
  // The stream was reset by the client (RST_STREAM CANCEL); answering it now must be harmless.
  for (auto& responder : f.TakeParked()) responder.Send(api::http::Response(200, "", "late"));
  std::this_thread::sleep_for(50ms);
  auto next = f.Call(Post(f.base_url() + "/echo", "{}"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->status, 200);
}

TEST(HttpServer, GracefulShutdownLetsInFlightRequestsFinish) {
  auto f = std::make_unique<ServerFixture>();
  std::promise<Result<api::http::Response>> slow;
  std::thread caller([&] { slow.set_value(f->Call(Get(f->base_url() + "/slow/500"))); });
  ASSERT_TRUE(testing_support::WaitFor([&] { return f->server().open_connections() == 1; }, 2s));
  std::this_thread::sleep_for(100ms);  // the request is in flight
  std::size_t cut = f->server().Shutdown(5s);
  caller.join();
  auto r = slow.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(cut, 0u);
  EXPECT_EQ(f->server().open_connections(), 0u);
}

TEST(HttpServer, IdleConnectionIsClosed) {
  api::http::ServerOptions o;
  o.idle_timeout = 300ms;
  ServerFixture f(o);
  auto r = f.Call(Post(f.base_url() + "/echo", "{}"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.server().open_connections(), 1u);
  EXPECT_TRUE(testing_support::WaitFor([&] { return f.server().open_connections() == 0; }, 3s));
}

// A request started but not completed within read_timeout is answered 408 and its connection
// closed (RFC 9110 §15.5.9); nothing of it reaches a handler.
void ExpectRequestTimeout(RawConnection& c, ServerFixture& f) {
  auto [data, closed] = c.ReadUntilClose();
  auto answers = SplitResponses(data);
  ASSERT_EQ(answers.size(), 1u) << data;
  EXPECT_EQ(answers[0].status, 408) << data;
  EXPECT_NE(answers[0].headers.find("\r\nconnection: close\r\n"), std::string::npos) << data;
  EXPECT_NE(answers[0].headers.find("\r\ncontent-type: application/problem+json\r\n"),
            std::string::npos)
      << data;
  auto p = JsonObject(answers[0].body);
  EXPECT_EQ(p["status"], 408);
  EXPECT_EQ(p["cause"], "REQUEST_TIMEOUT");
  EXPECT_TRUE(closed);
  EXPECT_TRUE(f.echoed().empty());
}

// A request stalled in its body, or in its header: 408 and close, either way.
TEST(HttpServer, StalledHttp1BodyOrHeaderGets408AndClose) {
  for (const char* stalled : {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"partial",
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"}) {
    SCOPED_TRACE(stalled);
    api::http::ServerOptions o;
    o.read_timeout = 300ms;
    ServerFixture f(o);
    RawConnection c(f.port());
    ASSERT_TRUE(c.connected());
    c.Send(stalled);
    ExpectRequestTimeout(c, f);
  }
}

// The next request on a keep-alive connection is held to read_timeout from its first byte, not to
// the (much longer) idle timeout that applied while nothing was being sent.
TEST(HttpServer, StalledSecondHttp1RequestGets408AtReadTimeout) {
  api::http::ServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 600s;
  ServerFixture f(o);
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  auto first = SplitResponses(ReadResponses(c, 1));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].status, 200);
  ASSERT_EQ(f.echoed(), std::vector<std::string>{"ok"});
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le");
  auto [data, closed] = c.ReadUntilClose();
  auto answers = SplitResponses(data);
  ASSERT_EQ(answers.size(), 1u) << data;
  EXPECT_EQ(answers[0].status, 408) << data;
  EXPECT_NE(answers[0].headers.find("\r\nconnection: close\r\n"), std::string::npos) << data;
  EXPECT_TRUE(closed);
  EXPECT_EQ(f.echoed(), std::vector<std::string>{"ok"});
}

// An idle keep-alive connection (no byte of a next request) is just closed: there is no request to
// answer.
TEST(HttpServer, IdleHttp1KeepAliveConnectionClosesWithoutAnswer) {
  api::http::ServerOptions o;
  o.idle_timeout = 300ms;
  ServerFixture f(o);
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  auto first = SplitResponses(ReadResponses(c, 1));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].status, 200);
  auto [data, closed] = c.ReadUntilClose();
  EXPECT_TRUE(closed);
  EXPECT_EQ(data, "");
}

// A stream whose request stalls is reset at read_timeout of its own start, even though the client
// keeps the connection busy with PINGs; the connection itself stays usable.
TEST(HttpServer, StalledH2StreamIsResetDespitePings) {
  api::http::ServerOptions o;
  o.read_timeout = 300ms;
  ServerFixture f(o);
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::string settings("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  // HEADERS stream 1, END_HEADERS only (no END_STREAM), HPACK: :method POST (idx 3),
  // :scheme http (6), :path / (4), :authority "a" (literal with indexed name 1).
  std::string block = std::string("\x83\x86\x84\x41\x01", 5) + "a";
  std::string headers;
  headers += static_cast<char>(0);
  headers += static_cast<char>(0);
  headers += static_cast<char>(block.size());
  headers += std::string("\x01\x04\x00\x00\x00\x01", 6);
  headers += block;
  c.Send(preface + settings + headers);
  const std::string ping = std::string("\x00\x00\x08\x06\x00\x00\x00\x00\x00", 9) + std::string(8, 'p');
  auto start = std::chrono::steady_clock::now();
  std::string got;
  bool reset = false;
  while (!reset && std::chrono::steady_clock::now() - start < 3s) {
    c.Send(ping);
    got += c.ReadSome(100ms);
    // Walk the frames received so far looking for RST_STREAM (type 0x3) on stream 1.
    for (std::size_t i = 0; i + 9 <= got.size();) {
      std::size_t len = (static_cast<unsigned char>(got[i]) << 16) |
                        (static_cast<unsigned char>(got[i + 1]) << 8) |
                        static_cast<unsigned char>(got[i + 2]);
      if (got[i + 3] == 0x3 && got[i + 8] == 0x1) reset = true;
      i += 9 + len;
    }
  }
  EXPECT_TRUE(reset) << "no RST_STREAM for the stalled stream";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(f.server().open_connections(), 1u);  // only the stream was cut
}

TEST(HttpServer, GarbageAfterH2PrefaceClosesConnectionWithGoaway) {
  ServerFixture f;
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  c.Send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(64, '\xff'));
  auto [data, closed] = c.ReadUntilClose();
  EXPECT_TRUE(closed);
  // Somewhere in what we got back is a GOAWAY frame (type 0x7).
  bool goaway = false;
  for (std::size_t i = 0; i + 9 <= data.size();) {
    std::size_t len = (static_cast<unsigned char>(data[i]) << 16) |
                      (static_cast<unsigned char>(data[i + 1]) << 8) |
                      static_cast<unsigned char>(data[i + 2]);
    if (data[i + 3] == 0x7) goaway = true;
    i += 9 + len;
  }
  EXPECT_TRUE(goaway);
  // The server still serves others.
  auto r = f.Call(Post(f.base_url() + "/echo", "{}"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServer, Http1PostWithoutLengthGets411) {
  ServerFixture f;
  RawConnection c(f.port());
  c.Send("POST /msgs-msgdelivery/v1/deliver-as-message HTTP/1.1\r\nHost: x\r\n"
         "Content-Type: application/json\r\nConnection: close\r\n\r\n");
  auto [data, closed] = c.ReadUntilClose();
  EXPECT_NE(data.find("HTTP/1.1 411"), std::string::npos) << data;
  EXPECT_NE(data.find("INCORRECT_LENGTH"), std::string::npos) << data;
}

TEST(HttpServer, MalformedHttp1RequestGets400) {
  ServerFixture f;
  RawConnection c(f.port());
  c.Send("THIS IS NOT HTTP\r\n\r\n");
  auto [data, closed] = c.ReadUntilClose();
  EXPECT_NE(data.find("HTTP/1.1 400"), std::string::npos) << data;
  EXPECT_TRUE(closed);
}

// RFC 9112 §6 framing, each case followed on the same connection by a second request. A request
// whose framing is not exactly understood (Transfer-Encoding other than a final, single `chunked`;
// Transfer-Encoding with Content-Length or on HTTP/1.0; several or invalid Content-Lengths;
// obs-fold) is answered 400/501 with `Connection: close` before its body is read, and the
// connection is closed: the bytes after it, where an attacker puts a smuggled request, are never
// parsed. Valid framings keep the connection and serve the second request.
struct FramingCase {
  const char* name;
  std::string request;  // the first request
  int status;           // the answer to it
  const char* cause;    // error answers only
};

TEST(HttpServer, Http1FramingErrorsCloseTheConnectionAndNothingIsSmuggled) {
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n";
  const std::string chunked_body = "5\r\nhello\r\n0\r\n\r\n";
  const char* bad = "INVALID_MSG_FORMAT";
  const char* coding = "UNSUPPORTED_TRANSFER_CODING";
  std::vector<FramingCase> cases = {
      // The reported attack: Beast ignored a non-final chunked, took the body as empty and parsed
      // the body (the second request) as the next request.
      {"chunked, identity", head + "Transfer-Encoding: chunked, identity\r\n\r\n", 400, bad},
      {"chunked, gzip", head + "Transfer-Encoding: chunked, gzip\r\n\r\n" + chunked_body, 400, bad},
      {"xchunked with Content-Length",
       head + "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello", 400, bad},
      {"chunked then Content-Length",
       head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked_body, 400, bad},
      {"Content-Length then chunked",
       head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body, 400, bad},
      {"gzip, chunked", head + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked_body, 501, coding},
      {"gzip and chunked on two lines",
       head + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body, 501,
       coding},
      {"xchunked", head + "Transfer-Encoding: xchunked\r\n\r\n" + chunked_body, 501, coding},
      {"identity", head + "Transfer-Encoding: identity\r\n\r\n" + chunked_body, 501, coding},
      {"chunked twice", head + "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked_body, 400, bad},
      {"chunked on two lines",
       head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body, 400,
       bad},
      {"chunked on HTTP/1.0",
       "POST /echo HTTP/1.0\r\nHost: x\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n"
       "Transfer-Encoding: chunked\r\n\r\n" + chunked_body,
       400, bad},
      {"chunked with a parameter", head + "Transfer-Encoding: chunked;q=1\r\n\r\n" + chunked_body,
       400, bad},
      {"empty list element", head + "Transfer-Encoding: chunked,\r\n\r\n" + chunked_body, 400, bad},
      {"empty Transfer-Encoding", head + "Transfer-Encoding: \r\n\r\n", 400, bad},
      {"obs-fold in Transfer-Encoding",
       head + "Transfer-Encoding:\r\n chunked\r\n\r\n" + chunked_body, 400, bad},
      {"obs-fold in another field", head + "X-Note: a\r\n\tb\r\nContent-Length: 5\r\n\r\nhello", 400,
       bad},
      {"space before colon", head + "Transfer-Encoding : chunked\r\n\r\n" + chunked_body, 400, bad},
      {"tab before colon", head + "Transfer-Encoding\t: chunked\r\n\r\n" + chunked_body, 400, bad},
      {"two equal Content-Lengths",
       head + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, bad},
      {"two different Content-Lengths",
       head + "Content-Length: 5\r\nContent-Length: 0\r\n\r\nhello", 400, bad},
      {"Content-Length list", head + "Content-Length: 5, 5\r\n\r\nhello", 400, bad},
      {"Content-Length: +5", head + "Content-Length: +5\r\n\r\nhello", 400, bad},
      {"Content-Length: -5", head + "Content-Length: -5\r\n\r\nhello", 400, bad},
      {"Content-Length: 0x5", head + "Content-Length: 0x5\r\n\r\nhello", 400, bad},
      {"bad chunk size", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400,
       bad},
      // Valid: the connection stays open and the second request is served.
      {"chunked", head + "Transfer-Encoding: chunked\r\n\r\n" + chunked_body, 200, nullptr},
      {"tab before chunked", head + "Transfer-Encoding:\tchunked\r\n\r\n" + chunked_body, 200,
       nullptr},
      {"whitespace around chunked", head + "Transfer-Encoding: \t chunked \t\r\n\r\n" + chunked_body,
       200, nullptr},
      {"CHUNKED", head + "Transfer-Encoding: CHUNKED\r\n\r\n" + chunked_body, 200, nullptr},
      {"chunk extension and trailer",
       head + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n", 200,
       nullptr},
      {"Content-Length", head + "Content-Length: 5\r\n\r\nhello", 200, nullptr},
  };
  // The second request; it asks to close, so a kept connection ends after its answer.
  const std::string second =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n"
      "Connection: close\r\n\r\nSMUGGLED";
  ServerFixture f;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::size_t before = f.echoed().size();
    RawConnection conn(f.port());
    ASSERT_TRUE(conn.connected());
    conn.Send(c.request + second);  // one write: both are in the server's buffer together
    auto [data, closed] = conn.ReadUntilClose();
    EXPECT_TRUE(closed) << data;
    auto answers = SplitResponses(data);
    ASSERT_FALSE(answers.empty()) << data;
    EXPECT_EQ(answers[0].status, c.status) << data;
    auto handled = f.echoed();
    std::vector<std::string> seen(handled.begin() + static_cast<std::ptrdiff_t>(before),
                                  handled.end());
    if (c.status == 200) {
      ASSERT_EQ(answers.size(), 2u) << data;
      EXPECT_EQ(answers[0].body, "hello");
      EXPECT_EQ(answers[0].headers.find("\r\nconnection: close\r\n"), std::string::npos) << data;
      EXPECT_EQ(answers[1].status, 200);
      EXPECT_EQ(seen, (std::vector<std::string>{"hello", "SMUGGLED"}));
      continue;
    }
    EXPECT_EQ(answers.size(), 1u) << data;  // nothing after the error answer
    EXPECT_NE(answers[0].headers.find("\r\nconnection: close\r\n"), std::string::npos) << data;
    EXPECT_NE(answers[0].headers.find("\r\ncontent-type: application/problem+json\r\n"),
              std::string::npos)
        << data;
    auto p = JsonObject(answers[0].body);
    EXPECT_EQ(p["status"], c.status);
    EXPECT_EQ(p["cause"], c.cause);
    EXPECT_TRUE(p["detail"].is_string() && !p["detail"].as_string().empty());
    EXPECT_TRUE(seen.empty()) << "handled: " << seen.size() << " requests";
  }
  // The server is unharmed.
  auto r = f.Call(Post(f.base_url() + "/echo", "{}"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

// The errors that name a framing header say which one in invalidParams.
TEST(HttpServer, Http1FramingErrorsNameTheHeader) {
  ServerFixture f;
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + "Transfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding"},
      {head + "Transfer-Encoding: chunked, identity\r\n\r\n", "Transfer-Encoding"},
      {head + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", "Content-Length"},
      {head + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding"},
  };
  for (const auto& [request, param] : cases) {
    SCOPED_TRACE(request);
    RawConnection c(f.port());
    c.Send(request);
    auto [data, closed] = c.ReadUntilClose();
    auto answers = SplitResponses(data);
    ASSERT_EQ(answers.size(), 1u) << data;
    auto p = JsonObject(answers[0].body);
    ASSERT_TRUE(p.contains("invalidParams") && p["invalidParams"].is_array() &&
                !p["invalidParams"].as_array().empty())
        << data;
    EXPECT_EQ(p["invalidParams"].as_array()[0].as_object()["param"], boost::json::value(param));
  }
}

// curl's own chunked upload (what a real client sends) still works, keep-alive included.
TEST(HttpServer, CurlHttp1ChunkedUploadAndKeepAlive) {
  ServerFixture f;
  // Two URLs in one curl: the second goes over the kept connection.
  auto r = Curl({"-v", "--http1.1", "-H", "Transfer-Encoding: chunked", "-H",
                 "content-type: text/plain", "--data-binary", "chunked body", f.base_url() + "/echo",
                 f.base_url() + "/echo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.echoed(), (std::vector<std::string>{"chunked body", "chunked body"}));
  EXPECT_NE(r.err.find("Re-using existing connection"), std::string::npos) << r.err;
}

TEST(HttpServer, CurlH2cAndHttp1BothWork) {
  ServerFixture f;
  auto h2 = Curl({"--http2-prior-knowledge", "-H", "content-type: application/json", "-d",
                  kValidAsMessage, f.base_url() + "/msgs-msgdelivery/v1/deliver-as-message"});
  ASSERT_EQ(h2.exit_code, 0) << h2.err;
  EXPECT_EQ(h2.status, 200);
  EXPECT_EQ(h2.http_version, "2");
  auto ack = boost::json::parse(h2.body).as_object();
  EXPECT_EQ(ack.at("msgId").as_string(), "m-1");
  EXPECT_EQ(ack.at("status").as_string(), "DELY_STORED");

  auto h1 = Curl({"--http1.1", "-H", "content-type: application/json", "-d", kValidAsMessage,
                  f.base_url() + "/msgs-msgdelivery/v1/deliver-as-message"});
  ASSERT_EQ(h1.exit_code, 0) << h1.err;
  EXPECT_EQ(h1.status, 200);
  EXPECT_EQ(h1.http_version, "1.1");
  EXPECT_EQ(h1.body, h2.body);  // idempotent repeat: the first answer
  std::promise<Result<broker::QueueSummary>> q;
  f.broker().SummarizeQueue({broker::AddressType::kUe, "ue-1"},
                            [&q](Result<broker::QueueSummary> r) { q.set_value(std::move(r)); });
  auto summary = q.get_future().get();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->count, 1u);  // stored once
}

TEST(HttpServer, CurlHttp1ExpectContinueAndOversizedBody) {
  api::http::ServerOptions o;
  o.max_body_bytes = 4096;
  ServerFixture f(o);
  testing_support::TempDir dir;
  testing_support::WriteFile(dir.File("big"), std::string(3000, 'a'));
  auto ok = Curl({"--http1.1", "-H", "Expect: 100-continue", "-H", "content-type: text/plain",
                  "--data-binary", "@" + dir.File("big"), f.base_url() + "/echo"});
  EXPECT_EQ(ok.status, 200) << ok.err;
  EXPECT_EQ(ok.body.size(), 3000u);
  testing_support::WriteFile(dir.File("huge"), std::string(10000, 'a'));
  auto big = Curl({"--http1.1", "-H", "content-type: application/json", "--data-binary",
                   "@" + dir.File("huge"), f.base_url() + "/echo"});
  EXPECT_EQ(big.status, 413) << big.err;
  auto big2 = Curl({"--http2-prior-knowledge", "-H", "content-type: application/json",
                    "--data-binary", "@" + dir.File("huge"), f.base_url() + "/echo"});
  EXPECT_EQ(big2.status, 413) << big2.err;
}

TEST(HttpServer, OversizedHeadersGet431) {
  api::http::ServerOptions o;
  o.max_header_list_bytes = 2048;
  ServerFixture f(o);
  std::string big_header = "x-big: " + std::string(4000, 'b');
  auto h2 = Curl({"--http2-prior-knowledge", "-H", big_header, f.base_url() + "/forget"});
  EXPECT_EQ(h2.status, 431) << h2.err;
  auto h1 = Curl({"--http1.1", "-H", big_header, f.base_url() + "/forget"});
  EXPECT_EQ(h1.status, 431) << h1.err;
}

TEST(HttpServer, NghttpSeesAdvertisedSettings) {
  api::http::ServerOptions o;
  o.max_concurrent_streams = 77;
  ServerFixture f(o);
  auto r = testing_support::Run({"nghttp", "-nv", f.base_url() + "/forget"});
  EXPECT_NE(r.out.find("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):77"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":status: 500"), std::string::npos) << r.out;
}

// The same refusal over TLS (ALPN http/1.1): 400, close_notify and close; the smuggled request is
// never handled. openssl s_client keeps reading after its input ends (-ign_eof), so it only exits
// because the server closed.
TEST(HttpServer, Http1OverTlsFramingErrorClosesAndNothingIsSmuggled) {
  testing_support::TempDir dir;
  auto certs = testing_support::MakeTestCerts(dir.path());
  api::http::TlsOptions t;
  t.cert_file = certs.server_cert;
  t.key_file = certs.server_key;
  auto ctx = api::http::MakeServerTlsContext(t);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  api::http::ServerOptions o;
  o.tls = *ctx;
  ServerFixture f(o);
  const std::string attack =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
      "Transfer-Encoding: chunked, identity\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\n"
      "SMUGGLED";
  auto r = testing_support::Run({"openssl", "s_client", "-connect",
                                 "127.0.0.1:" + std::to_string(f.port()), "-alpn", "http/1.1",
                                 "-CAfile", certs.ca_cert, "-quiet", "-ign_eof"},
                                attack, 20s);
  EXPECT_EQ(r.exit_code, 0) << r.err;  // not killed at the timeout: the server closed
  auto answers = SplitResponses(r.out);
  ASSERT_EQ(answers.size(), 1u) << r.out;
  EXPECT_EQ(answers[0].status, 400);
  EXPECT_NE(answers[0].headers.find("\r\nconnection: close\r\n"), std::string::npos) << r.out;
  EXPECT_TRUE(f.echoed().empty());
}

TEST(HttpServer, TlsWithAlpnServesH2AndHttp1) {
  testing_support::TempDir dir;
  auto certs = testing_support::MakeTestCerts(dir.path());
  api::http::TlsOptions t;
  t.cert_file = certs.server_cert;
  t.key_file = certs.server_key;
  auto ctx = api::http::MakeServerTlsContext(t);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  api::http::ServerOptions o;
  o.tls = *ctx;
  ServerFixture f(o);

  auto h2 = Curl({"--http2", "--cacert", certs.ca_cert, "-H", "content-type: application/json",
                  "-d", kValidAsMessage, f.base_url() + "/msgs-msgdelivery/v1/deliver-as-message"});
  ASSERT_EQ(h2.exit_code, 0) << h2.err;
  EXPECT_EQ(h2.status, 200);
  EXPECT_EQ(h2.http_version, "2");
  auto h1 = Curl({"--http1.1", "--cacert", certs.ca_cert, "-H", "content-type: text/plain", "-d",
                  "hi", f.base_url() + "/echo"});
  EXPECT_EQ(h1.status, 200) << h1.err;
  EXPECT_EQ(h1.http_version, "1.1");

  // Our client over TLS, verifying the server against the test CA.
  api::http::TlsOptions ct;
  ct.ca_file = certs.ca_cert;
  auto cctx = api::http::MakeClientTlsContext(ct);
  ASSERT_TRUE(cctx.ok());
  api::http::ClientOptions copts;
  copts.tls = *cctx;
  f.SetClientOptions(copts);
  auto r = f.Call(Post(f.base_url() + "/echo", "{\"tls\":true}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "{\"tls\":true}");
  EXPECT_EQ(FindHeader(r->headers, "x-protocol"), "h2");

  // A plaintext client on the TLS port gets nothing, and the handshake deadline frees the slot.
  RawConnection raw(f.port());
  raw.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto [data, closed] = raw.ReadUntilClose();
  EXPECT_TRUE(closed);
  EXPECT_EQ(data.find("HTTP/1.1 200"), std::string::npos);
}

// ---- TLS-PSK keys fetched before the handshake (ServerOptions::psk_prefetch)

// The first flight of a real OpenSSL client: a ClientHello offering TLS 1.3 and, when `identity`
// is not empty, that external PSK (as `openssl s_client -psk` sends it).
std::string OpenSslClientHello(const std::string& identity) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  static std::string psk_identity;
  psk_identity = identity;
  if (!identity.empty()) {
    SSL_set_psk_client_callback(ssl, [](SSL*, const char*, char* id, unsigned int max_id,
                                        unsigned char* psk, unsigned int max_psk) -> unsigned int {
      if (psk_identity.size() + 1 > max_id || max_psk < 16) return 0;
      std::memcpy(id, psk_identity.c_str(), psk_identity.size() + 1);
      std::memset(psk, 0x11, 16);  // the key PskPrefetchServer gives
      return 16;
    });
  }
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_connect(ssl);  // wants to read the server's answer: the ClientHello is in `out`
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

TEST(ClientHello, PskIdentitiesAreReadFromARealClientHello) {
  using api::http::ClientHelloScan;
  using api::http::ScanClientHelloPskIdentities;
  std::string hello = OpenSslClientHello("invoker-7");
  ASSERT_GT(hello.size(), 100u);
  std::vector<std::string> ids;
  EXPECT_EQ(ScanClientHelloPskIdentities(hello, &ids), ClientHelloScan::kDone);
  EXPECT_EQ(ids, std::vector<std::string>{"invoker-7"});

  // Every proper prefix is a hello still arriving.
  for (std::size_t n = 0; n < hello.size(); ++n) {
    ASSERT_EQ(ScanClientHelloPskIdentities(std::string_view(hello).substr(0, n), &ids),
              ClientHelloScan::kNeedMore) << n;
  }
  // The same handshake message split over two records (RFC 8446 §5.1 allows it).
  std::string body = hello.substr(5);
  auto record = [&](std::string_view frag) {
    std::string r = hello.substr(0, 3);
    r += static_cast<char>(frag.size() >> 8);
    r += static_cast<char>(frag.size() & 0xff);
    return r + std::string(frag);
  };
  std::string split = record(std::string_view(body).substr(0, 50)) +
                      record(std::string_view(body).substr(50));
  EXPECT_EQ(ScanClientHelloPskIdentities(split, &ids), ClientHelloScan::kDone);
  EXPECT_EQ(ids, std::vector<std::string>{"invoker-7"});

  // No PSK offered: a whole hello with no identities.
  EXPECT_EQ(ScanClientHelloPskIdentities(OpenSslClientHello(""), &ids), ClientHelloScan::kDone);
  EXPECT_TRUE(ids.empty());
  // Not TLS at all, or not a hello.
  EXPECT_EQ(ScanClientHelloPskIdentities("GET / HTTP/1.1\r\n\r\n", &ids),
            ClientHelloScan::kNotAHello);
  const std::string alert("\x15\x03\x03\x00\x02\x02\x28", 7);
  EXPECT_EQ(ScanClientHelloPskIdentities(alert, &ids), ClientHelloScan::kNotAHello);
  std::string server_hello = hello;
  server_hello[5] = 2;
  EXPECT_EQ(ScanClientHelloPskIdentities(server_hello, &ids), ClientHelloScan::kNotAHello);
}

TEST(ClientHello, MutatedHellosAreScannedWithinTheirBytes) {
  // Under ASan any read past the input fails the test; the scan itself must always answer.
  std::string hello = OpenSslClientHello("invoker-7");
  testing_support::ByteMutator mutate(7, 4096, 64);
  const std::vector<std::string> seeds = {hello, OpenSslClientHello("")};
  std::vector<std::string> ids;
  int done = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string m = mutate.Next(seeds);
    auto copy = std::make_unique<char[]>(m.size());  // exact size: ASan sees any overread
    std::memcpy(copy.get(), m.data(), m.size());
    auto scan = api::http::ScanClientHelloPskIdentities(std::string_view(copy.get(), m.size()), &ids);
    EXPECT_LE(ids.size(), 4u);
    if (scan != api::http::ClientHelloScan::kDone) {
      EXPECT_TRUE(ids.empty());
    }
    done += scan == api::http::ClientHelloScan::kDone;
  }
  EXPECT_GT(done, 0);  // some mutations keep the hello readable
}

// A TLS server whose PSK keys come only from psk_prefetch, which answers after a delay from
// another thread, as the CCF client does: identities "known-*" get the key 0x11 x 16, the others
// none.
class PskPrefetchServer {
 public:
  explicit PskPrefetchServer(const testing_support::TestCerts& certs) {
    api::http::TlsOptions t;
    t.cert_file = certs.server_cert;
    t.key_file = certs.server_key;
    t.psk_lookup = [this](std::string_view id, std::string* key) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = keys_.find(std::string(id));
      if (it == keys_.end()) return false;
      *key = it->second;
      return true;
    };
    auto ctx = api::http::MakeServerTlsContext(t);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    api::http::ServerOptions o;
    o.tls = *ctx;
    o.psk_prefetch = [this](std::vector<std::string> ids, api::http::ServerOptions::PskReady ready) {
      std::lock_guard<std::mutex> lock(mu_);
      asked_.insert(asked_.end(), ids.begin(), ids.end());
      threads_.emplace_back([this, ids, ready = std::move(ready)] {
        std::this_thread::sleep_for(200ms);
        {
          std::lock_guard<std::mutex> held(mu_);
          for (const auto& id : ids) {
            if (id.rfind("known-", 0) == 0) keys_[id] = std::string(16, '\x11');
          }
        }
        ready(std::string());
      });
    };
    fixture_ = std::make_unique<ServerFixture>(o);
  }
  ~PskPrefetchServer() {
    for (auto& t : threads_) t.join();  // their ready() posts to the fixture's server
    fixture_.reset();
  }
  ServerFixture& f() { return *fixture_; }
  std::vector<std::string> asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> keys_;
  std::vector<std::string> asked_;
  std::vector<std::thread> threads_;
  std::unique_ptr<ServerFixture> fixture_;
};

TEST(HttpServer, Tls13PskKeysAreFetchedBeforeTheHandshake) {
  testing_support::TempDir dir;
  auto certs = testing_support::MakeTestCerts(dir.path());
  PskPrefetchServer s(certs);
  const std::string address = "127.0.0.1:" + std::to_string(s.f().port());
  std::string report;
  auto post = [&](const std::string& identity, const std::string& key_hex) {
    return testing_support::SClient(address, {"-psk", key_hex, "-psk_identity", identity}, "POST",
                                    "/echo", "{\"from\":\"" + identity + "\"}", &report);
  };
  const std::string key(32, '1');
  // A key the prefetch found: the handshake waited for it and used it.
  auto r = post("known-1", key);
  EXPECT_EQ(r.status, 200) << report;
  EXPECT_EQ(report.find("Server certificate"), std::string::npos) << "not a PSK handshake";
  EXPECT_EQ(s.asked(), std::vector<std::string>{"known-1"});
  // Another key for it: the binder does not verify and the handshake fails.
  r = post("known-1", std::string(32, '2'));
  EXPECT_EQ(r.status, 0) << report;
  // No key to be had: OpenSSL ignores the PSK and authenticates by certificate, so the client
  // is served without a PSK identity.
  r = post("stranger", key);
  EXPECT_EQ(r.status, 200) << report;
  EXPECT_NE(report.find("Server certificate"), std::string::npos) << report;
  EXPECT_EQ(s.asked(), (std::vector<std::string>{"known-1", "known-1", "stranger"}));
  EXPECT_EQ(s.f().echoed(),
            (std::vector<std::string>{"{\"from\":\"known-1\"}", "{\"from\":\"stranger\"}"}));
  // A certificate client offers no PSK: nothing is asked.
  auto c = Curl({"--http1.1", "--cacert", certs.ca_cert, "-H", "content-type: text/plain", "-d",
                 "hi", s.f().base_url() + "/echo"});
  EXPECT_EQ(c.status, 200) << c.err;
  EXPECT_EQ(s.asked().size(), 3u);
}

TEST(HttpServer, ClientHelloArrivingInPiecesIsPeekedUntilWhole) {
  testing_support::TempDir dir;
  auto certs = testing_support::MakeTestCerts(dir.path());
  PskPrefetchServer s(certs);
  std::string hello = OpenSslClientHello("known-2");
  RawConnection raw(s.f().port());
  raw.Send(hello.substr(0, 40));
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(s.asked().empty());
  raw.Send(hello.substr(40));
  // The whole hello was read by the peek, then by OpenSSL: its answer is a handshake record.
  std::string answer = raw.ReadSome(5000ms);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer[0], '\x16');
  EXPECT_EQ(s.asked(), std::vector<std::string>{"known-2"});
}

// `hello` with an unknown extension of `pad` bytes put first, its three lengths fixed.
std::string PaddedHello(const std::string& hello, std::size_t pad) {
  auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(hello[at])) << 8 |
           static_cast<unsigned char>(hello[at + 1]);
  };
  auto put16 = [](std::string& s, std::size_t at, std::size_t v) {
    s[at] = static_cast<char>(v >> 8);
    s[at + 1] = static_cast<char>(v & 0xff);
  };
  std::size_t at = 5 + 4 + 2 + 32;
  at += 1 + static_cast<unsigned char>(hello[at]);  // session id
  at += 2 + u16(at);                                 // cipher suites
  at += 1 + static_cast<unsigned char>(hello[at]);  // compression
  std::string ext = "\xfa\xfa";
  ext += static_cast<char>(pad >> 8);
  ext += static_cast<char>(pad & 0xff);
  ext += std::string(pad, 'p');
  std::string out = hello.substr(0, at + 2) + ext + hello.substr(at + 2);
  put16(out, at, u16(at) + ext.size());
  put16(out, 3, u16(3) + ext.size());
  std::size_t hs = (static_cast<std::size_t>(static_cast<unsigned char>(hello[6])) << 16 | u16(7)) +
                   ext.size();
  out[6] = static_cast<char>(hs >> 16);
  put16(out, 7, hs & 0xffff);
  return out;
}

TEST(HttpServer, LongClientHelloIsPeekedWhole) {
  testing_support::TempDir dir;
  auto certs = testing_support::MakeTestCerts(dir.path());
  PskPrefetchServer s(certs);
  std::string hello = PaddedHello(OpenSslClientHello("known-3"), 5000);
  std::vector<std::string> ids;
  ASSERT_EQ(api::http::ScanClientHelloPskIdentities(hello, &ids), api::http::ClientHelloScan::kDone);
  ASSERT_EQ(ids, std::vector<std::string>{"known-3"});
  RawConnection raw(s.f().port());
  raw.Send(hello);
  // The padding changed what the PSK binder covers, so the handshake itself fails; what counts
  // is that a hello longer than the first peek was read whole and its identity asked for.
  raw.ReadSome(5000ms);
  EXPECT_EQ(s.asked(), std::vector<std::string>{"known-3"});
}

// A handler's answer may end its connection: HTTP/1.1 says Connection: close and closes, HTTP/2
// sends GOAWAY once the answer is out (the CAPIF 503 for a PSK key that could not be fetched).
TEST(HttpServer, AnswerThatClosesItsConnection) {
  ServerFixture f;
  RawConnection raw(f.port());
  raw.Send("GET /last HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\n"
           "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
  auto [data, closed] = raw.ReadUntilClose();
  EXPECT_TRUE(closed);
  auto answers = SplitResponses(data);
  ASSERT_EQ(answers.size(), 1u) << data;
  EXPECT_EQ(answers[0].status, 200);
  EXPECT_NE(answers[0].headers.find("\r\nconnection: close\r\n"), std::string::npos) << data;
  EXPECT_TRUE(f.echoed().empty()) << "the request after it was not served";

  auto h2 = testing_support::Run({"nghttp", "-v", f.base_url() + "/last"}, "", 20s);
  EXPECT_NE(h2.out.find("last"), std::string::npos) << h2.out;
  EXPECT_NE(h2.out.find("recv GOAWAY frame"), std::string::npos) << h2.out;
  // Without the flag the connection stays (nghttp ends it with its own GOAWAY, which it sends).
  auto plain = testing_support::Run({"nghttp", "-v", f.base_url() + "/slow/0"}, "", 20s);
  EXPECT_EQ(plain.out.find("recv GOAWAY frame"), std::string::npos) << plain.out;
}

TEST(HttpServer, FullStorageQueueAnswers503WithRetryAfterAndStoresNothing) {
  storage::StoreOptions so;
  so.max_pending_ops = 16;
  ServerFixture f({}, so);
  // Hold the storage writer inside one operation so that the queue fills up.
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  f.store().Submit(
      [&](storage::Txn&) {
        entered.set_value();
        released.wait();
        return Status::Ok();
      },
      nullptr);
  entered.get_future().wait();
  std::vector<std::thread> senders;
  std::atomic<int> ok{0}, overloaded{0};
  for (int i = 0; i < 40; ++i) {
    senders.emplace_back([&, i] {
      std::string body = kValidAsMessage;
      body.replace(body.find("m-1"), 3, "q-" + std::to_string(i));
      auto r = f.Call(Post(f.base_url() + "/msgs-msgdelivery/v1/deliver-as-message", body));
      if (!r.ok()) return;
      if (r->status == 200) ++ok;
      if (r->status == 503 && FindHeader(r->headers, "retry-after") == "1" &&
          r->body.find("NF_CONGESTION") != std::string::npos) {
        ++overloaded;
      }
    });
  }
  // The queue holds 16; the other 24 are refused at once, while the writer is still held.
  ASSERT_TRUE(testing_support::WaitFor([&] { return overloaded.load() == 24; }, 10s))
      << overloaded.load();
  release.set_value();
  for (auto& t : senders) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(overloaded.load(), 24);
  std::promise<Result<broker::QueueSummary>> q;
  f.broker().SummarizeQueue({broker::AddressType::kUe, "ue-1"},
                            [&q](Result<broker::QueueSummary> r) { q.set_value(std::move(r)); });
  auto summary = q.get_future().get();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->count, 16u);  // refused requests stored nothing
}

TEST(HttpServer, MetricsCountRequestsByOperationAndCode) {
  ServerFixture f;
  ASSERT_TRUE(f.Call(Post(f.base_url() + "/echo", "{}")).ok());
  ASSERT_TRUE(f.Call(Get(f.base_url() + "/nowhere")).ok());
  std::string text = f.registry().Serialize();
  EXPECT_NE(text.find(R"(msgin5g_api_requests_total{code="200",listener="sbi",operation="echo"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(msgin5g_api_requests_total{code="404",listener="sbi",operation="unknown"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(msgin5g_api_open_connections{listener="sbi",protocol="h2"} 1)"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace msgin5g
