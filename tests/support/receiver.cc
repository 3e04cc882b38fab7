#include "tests/support/receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "api/http/http_metrics.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "common/io_pool.h"
#include "metrics/registry.h"

namespace msgin5g::testing_support {

using namespace api::http;

struct Receiver::Impl {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Received> received;
  int status = 204;
  std::string retry_after;
  std::vector<Responder> parked;  // hung requests

  int port = 0;
  int placeholder = -1;  // keeps the port while stopped
  Router router;
  metrics::Registry registry;
  std::unique_ptr<HttpMetrics> metrics;
  std::unique_ptr<IoPool> pool;
  std::unique_ptr<Server> server;
  std::shared_ptr<boost::asio::ssl::context> tls;

  explicit Impl(std::shared_ptr<boost::asio::ssl::context> t) : tls(std::move(t)) {
    auto record = [this](Request& req, Responder r) {
      std::unique_lock<std::mutex> lock(mu);
      received.push_back({req.path, req.body, std::chrono::steady_clock::now(),
                          std::string(req.header("authorization")), req.peer_identity});
      cv.notify_all();
      if (status == 0) {
        parked.push_back(std::move(r));
        return;
      }
      Response resp = Response::Empty(status);
      if (!retry_after.empty()) resp.headers.push_back({"retry-after", retry_after});
      lock.unlock();
      r.Send(std::move(resp));
    };
    router.Add("POST", "/as/{name}/deliver-message", "as-message", record);
    router.Add("POST", "/as/{name}/deliver-report", "as-report", record);
    for (const char* g : {"l3g", "n3g", "bg"}) {
      std::string base = std::string("/msgg-") + g + "delivery/v1";
      router.Add("POST", base + "/deliver-message", std::string(g) + "-message", record);
      router.Add("POST", base + "/deliver-report", std::string(g) + "-report", record);
    }
    metrics = std::make_unique<HttpMetrics>(registry, "receiver", router.Operations());
  }

  void Listen() {
    ServerOptions o;
    o.name = "receiver";
    o.listen = "127.0.0.1:" + std::to_string(port);
    o.tls = tls;
    pool = std::make_unique<IoPool>(1);
    server = std::make_unique<Server>(*pool, o, router, metrics.get());
    Status st = server->Listen();
    // Coming back on the same port: a connection of the old listener may hold it for a moment.
    for (int i = 0; i < 50 && !st.ok() && port != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server = std::make_unique<Server>(*pool, o, router, metrics.get());
      st = server->Listen();
    }
    ASSERT_TRUE(st.ok()) << st.ToString();
    port = server->local_endpoint().port();
    server->Start();
    pool->Start();
  }

  void Close() {
    if (!server) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      parked.clear();  // dropped Responders answer 500 (if the connection still lives)
    }
    server->Shutdown(std::chrono::milliseconds(200));
    pool->Abort();
    server.reset();
    pool.reset();
  }
};

Receiver::Receiver() : Receiver(nullptr) {}

Receiver::Receiver(std::shared_ptr<boost::asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>(std::move(tls))) {
  impl_->Listen();
}

Receiver::~Receiver() {
  impl_->Close();
  if (impl_->placeholder >= 0) ::close(impl_->placeholder);
}

std::string Receiver::url() const {
  return (impl_->tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(impl_->port);
}

void Receiver::set_status(int status, std::string retry_after) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->status = status;
  impl_->retry_after = std::move(retry_after);
}

void Receiver::Stop() {
  impl_->Close();
  // While stopped the port stays ours: bound but not listening, so connects are refused (as with
  // a dead AS) and no other test's listener can take the port and get our traffic.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(impl_->port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    impl_->placeholder = fd;
  } else if (fd >= 0) {
    ::close(fd);
  }
}

void Receiver::Start() {
  if (impl_->placeholder >= 0) ::close(impl_->placeholder);
  impl_->placeholder = -1;
  impl_->Listen();
}

std::vector<Received> Receiver::received() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->received;
}

std::vector<Received> Receiver::received(const std::string& suffix) {
  std::vector<Received> out;
  for (auto& r : received()) {
    if (r.path.size() >= suffix.size() &&
        r.path.compare(r.path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

bool Receiver::WaitFor(const std::string& suffix, std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received(suffix).size() < n) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace msgin5g::testing_support
