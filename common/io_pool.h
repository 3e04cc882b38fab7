// A pool of io_contexts, one thread each. Connections are handed out round robin and stay on the
// io_context they were given for their whole life (nghttp2-asio's io_service_pool).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace msgin5g {

class IoPool {
 public:
  explicit IoPool(std::size_t threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Starts one thread per io_context. Call once.
  void Start();
  // Lets the io_contexts run out of work and joins the threads. Idempotent.
  void Stop();
  // Stops the io_contexts at once (pending handlers are dropped) and joins.
  void Abort();

  boost::asio::io_context& Next();
  boost::asio::io_context& At(std::size_t i) { return *contexts_[i]; }
  std::size_t size() const { return contexts_.size(); }

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace msgin5g
