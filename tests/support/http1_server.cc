#include "tests/support/http1_server.h"

#include <sstream>

#include <boost/json.hpp>

namespace msgin5g::testing_support {

using namespace std::chrono_literals;

Http1Server::Http1Server(Options options) : tls_(options.tls != nullptr) {
  std::vector<std::string> argv = {"python3",
                                   std::string(MSGIN5G_SOURCE_DIR "/tests/support/") + options.script,
                                   dir_.File("port"), dir_.File("requests.jsonl")};
  if (options.port != 0) argv.insert(argv.end(), {"--port", std::to_string(options.port)});
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  if (options.tls != nullptr) {
    argv.insert(argv.end(), {"--tls", options.tls->server_cert, options.tls->server_key});
  }
  if (options.idle_timeout_s > 0) {
    argv.insert(argv.end(), {"--idle-timeout", std::to_string(options.idle_timeout_s)});
  }
  WriteFile(dir_.File("requests.jsonl"), "");
  proc_ = std::make_unique<Process>(argv, dir_.File("server.log"));
  testing_support::WaitFor([&] { return !ReadFile(dir_.File("port")).empty() || !proc_->running(); }, 10s);
  std::string port = ReadFile(dir_.File("port"));
  if (!port.empty()) port_ = std::stoi(port);
}

Http1Server::~Http1Server() = default;  // Process kills the server

std::string Http1Server::url() const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
}

std::vector<Http1Request> Http1Server::received() const {
  std::vector<Http1Request> out;
  std::istringstream lines(ReadFile(dir_.File("requests.jsonl")));
  std::string line;
  while (std::getline(lines, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) continue;  // a line still being written
    const auto& o = v.as_object();
    Http1Request r;
    auto str = [&](const char* name) {
      const auto* v = o.if_contains(name);
      return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    r.method = str("method");
    r.path = str("path");
    r.version = str("version");
    r.body = str("body");
    if (const auto* h = o.if_contains("headers"); h != nullptr && h->is_object()) {
      for (const auto& [k, val] : h->as_object()) {
        if (val.is_string()) r.headers[std::string(k)] = std::string(val.as_string());
      }
    }
    if (const auto* st = o.if_contains("status"); st != nullptr && st->is_int64()) {
      r.status = static_cast<int>(st->as_int64());
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool Http1Server::WaitFor(const std::string& prefix, std::size_t n,
                          std::chrono::milliseconds timeout) const {
  return testing_support::WaitFor(
      [&] {
        std::size_t count = 0;
        for (const auto& r : received()) count += r.path.rfind(prefix, 0) == 0 ? 1 : 0;
        return count >= n;
      },
      timeout);
}

}  // namespace msgin5g::testing_support
