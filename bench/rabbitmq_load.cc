// RabbitMQ end-to-end load: the baseline for msgin5g's "accept -> delivered to a receiver" bench.
// Durable the same way ours is: a quorum queue (Raft log fsync'd before the confirm), persistent
// 1 KB messages, publisher confirms, and a consumer that acknowledges what it receives.
//
// Build: g++ -std=c++20 -O2 -Wall -Wextra -o /tmp/rabbitmq_load bench/rabbitmq_load.cc -lrabbitmq -pthread
// Usage: rabbitmq_load --messages N [--rate R (msgs/s, 0 = as fast as possible)]
//          [--inflight W (unconfirmed publishes, default 256)] [--size BYTES (default 1024)]
//          [--prefetch P (default 256)] [--ack-every K (default 1)] [--queue NAME]
//          [--host 127.0.0.1] [--port 5672]
// Output (one line): rabbitmq messages= seconds= rate= p50_ms= p99_ms= confirm_p50_ms= confirm_p99_ms=
//   rate and p50/p99 are publish -> consumed (the consumer's receive time minus the steady_clock
//   timestamp the publisher wrote into the body just before basic.publish); seconds runs from the
//   first publish to the last message consumed. confirm_* is publish -> publisher confirm, the
//   equivalent of our "accepted" answer.
//
// Consumer acks: by default one basic.ack per message, like a receiver that answers each delivery
// (what our own receivers do). --ack-every K sends one multiple=true ack per K messages, which is
// what fast RabbitMQ consumers do; on a quorum queue every settle is a Raft command, so this is
// cheaper for the server. Pending acks are flushed whenever the consumer goes idle.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>  // rabbitmq-c >= 0.12
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>  // rabbitmq-c 0.11, what Debian 12's librabbitmq-dev ships
#include <amqp_tcp_socket.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t messages = 0;
  double rate = 0;
  std::uint64_t inflight = 256;
  std::size_t size = 1024;
  std::uint16_t prefetch = 256;
  std::uint64_t ack_every = 1;
  std::string queue = "msgin5g-bench";
  std::string host = "127.0.0.1";
  int port = 5672;
};

constexpr amqp_channel_t kChannel = 1;
// How long either side may wait for the broker before the run is declared stuck.
constexpr auto kStallLimit = std::chrono::seconds(30);

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

void CheckReply(amqp_rpc_reply_t r, const char* what) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_NONE:
      Fail(std::string(what) + ": missing RPC reply");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      Fail(std::string(what) + ": " + amqp_error_string2(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }
  // The server closed the channel or the connection: its reply text says why.
  const amqp_bytes_t* text = nullptr;
  if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    text = &static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_text;
  } else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    text = &static_cast<amqp_connection_close_t*>(r.reply.decoded)->reply_text;
  }
  Fail(std::string(what) + ": server error " +
       (text ? std::string(static_cast<const char*>(text->bytes), text->len) : "(unknown)"));
}

void CheckStatus(int status, const char* what) {
  if (status != AMQP_STATUS_OK) Fail(std::string(what) + ": " + amqp_error_string2(status));
}

timeval ToTimeval(std::chrono::microseconds d) {
  d = std::max(d, std::chrono::microseconds(0));
  return timeval{static_cast<time_t>(d.count() / 1000000), static_cast<suseconds_t>(d.count() % 1000000)};
}

// One AMQP connection with channel 1 open; closed (best effort) on destruction.
class Connection {
 public:
  explicit Connection(const Options& o) : conn_(amqp_new_connection()) {
    amqp_socket_t* socket = amqp_tcp_socket_new(conn_);  // owned by conn_
    if (!socket) Fail("amqp_tcp_socket_new failed");
    CheckStatus(amqp_socket_open(socket, o.host.c_str(), o.port), "connect");
    CheckReply(amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(conn_, kChannel);
    CheckReply(amqp_get_rpc_reply(conn_), "channel.open");
  }
  ~Connection() {
    amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  amqp_connection_state_t get() const { return conn_; }

 private:
  amqp_connection_state_t conn_;
};

// Deletes the queue left by an earlier run and declares it fresh as a durable quorum queue.
void DeclareQueue(const Options& o) {
  Connection c(o);
  amqp_bytes_t name = amqp_cstring_bytes(o.queue.c_str());
  amqp_queue_delete(c.get(), kChannel, name, 0, 0);
  CheckReply(amqp_get_rpc_reply(c.get()), "queue.delete");
  amqp_table_entry_t type{};
  type.key = amqp_cstring_bytes("x-queue-type");
  type.value.kind = AMQP_FIELD_KIND_UTF8;
  type.value.value.bytes = amqp_cstring_bytes("quorum");
  amqp_table_t args{1, &type};
  amqp_queue_declare(c.get(), kChannel, name, /*passive=*/0, /*durable=*/1, /*exclusive=*/0,
                     /*auto_delete=*/0, args);
  CheckReply(amqp_get_rpc_reply(c.get()), "queue.declare");
}

std::atomic<bool> g_failed{false};

class Publisher {
 public:
  explicit Publisher(const Options& o) : o_(o), conn_(o), sent_ns_(o.messages + 1), confirmed_(o.messages + 1) {
    amqp_confirm_select(conn_.get(), kChannel);
    CheckReply(amqp_get_rpc_reply(conn_.get()), "confirm.select");
    confirm_latency_ns_.reserve(o.messages);
  }

  void Run() {
    std::string body(o_.size, 'x');
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    const amqp_bytes_t queue = amqp_cstring_bytes(o_.queue.c_str());
    const auto start = Clock::now();
    while (confirmed_count_ < o_.messages) {
      if (g_failed) return;
      // Publish while the confirm window has room and the rate schedule allows; delivery tags are
      // 1, 2, 3, ... on a confirm channel, so the next tag is published_ + 1.
      auto next_due = Clock::time_point::max();
      while (published_ < o_.messages && published_ - confirmed_count_ < o_.inflight) {
        if (o_.rate > 0) {
          next_due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(published_) / o_.rate));
          if (Clock::now() < next_due) break;
        }
        const std::int64_t now = NowNs();
        std::memcpy(body.data(), &now, sizeof now);  // read by the consumer for the latency
        sent_ns_[++published_] = now;
        CheckStatus(amqp_basic_publish(conn_.get(), kChannel, amqp_empty_bytes, queue, 0, 0, &props,
                                       amqp_bytes_t{body.size(), body.data()}),
                    "basic.publish");
      }
      // Block for confirms only when nothing can be published now (window full, all sent, or the
      // next message not yet due); otherwise just take what has already arrived.
      const bool can_publish = published_ < o_.messages && published_ - confirmed_count_ < o_.inflight;
      if (can_publish && next_due == Clock::time_point::max()) {
        ReadConfirms(std::chrono::microseconds(0));
      } else if (can_publish) {
        ReadConfirms(std::chrono::duration_cast<std::chrono::microseconds>(next_due - Clock::now()));
      } else {
        ReadConfirms(std::chrono::duration_cast<std::chrono::microseconds>(kStallLimit), true);
      }
    }
  }

  std::vector<std::int64_t>& confirm_latency_ns() { return confirm_latency_ns_; }
  std::int64_t first_publish_ns() const { return sent_ns_[1]; }

 private:
  // Reads and handles every frame available within `wait`; with must_progress, running out of time
  // without a single frame means the broker stopped confirming.
  void ReadConfirms(std::chrono::microseconds wait, bool must_progress = false) {
    for (bool first = true;; first = false) {
      timeval tv = ToTimeval(first ? wait : std::chrono::microseconds(0));
      amqp_frame_t frame;
      const int status = amqp_simple_wait_frame_noblock(conn_.get(), &frame, &tv);
      if (status == AMQP_STATUS_TIMEOUT) {
        if (first && must_progress) Fail("publisher: no confirm within 30 s");
        break;
      }
      CheckStatus(status, "publisher: read frame");
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      const amqp_method_t& m = frame.payload.method;
      if (m.id == AMQP_BASIC_ACK_METHOD) {
        const auto* ack = static_cast<amqp_basic_ack_t*>(m.decoded);
        Confirm(ack->delivery_tag, ack->multiple);
      } else if (m.id == AMQP_BASIC_NACK_METHOD) {
        Fail("publisher: broker nacked delivery tag " +
             std::to_string(static_cast<amqp_basic_nack_t*>(m.decoded)->delivery_tag));
      } else if (m.id == AMQP_CHANNEL_CLOSE_METHOD || m.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_rpc_reply_t r{AMQP_RESPONSE_SERVER_EXCEPTION, m, 0};
        CheckReply(r, "publisher");
      }
    }
    amqp_maybe_release_buffers(conn_.get());
  }

  // Confirms may cover many tags at once (multiple=true) and need not arrive in order.
  void Confirm(std::uint64_t tag, bool multiple) {
    if (tag == 0 || tag > published_) Fail("publisher: confirm for unknown tag " + std::to_string(tag));
    const std::int64_t now = NowNs();
    auto mark = [&](std::uint64_t t) {
      if (confirmed_[t]) return;
      confirmed_[t] = true;
      ++confirmed_count_;
      confirm_latency_ns_.push_back(now - sent_ns_[t]);
    };
    if (multiple) {
      for (std::uint64_t t = lowest_unconfirmed_; t <= tag; ++t) mark(t);
    } else {
      mark(tag);
    }
    while (lowest_unconfirmed_ <= published_ && confirmed_[lowest_unconfirmed_]) ++lowest_unconfirmed_;
  }

  const Options& o_;
  Connection conn_;
  std::uint64_t published_ = 0;
  std::uint64_t confirmed_count_ = 0;
  std::uint64_t lowest_unconfirmed_ = 1;
  std::vector<std::int64_t> sent_ns_;  // by delivery tag
  std::vector<bool> confirmed_;        // by delivery tag
  std::vector<std::int64_t> confirm_latency_ns_;
};

class Consumer {
 public:
  explicit Consumer(const Options& o) : o_(o), conn_(o) {
    amqp_basic_qos(conn_.get(), kChannel, 0, o.prefetch, 0);
    CheckReply(amqp_get_rpc_reply(conn_.get()), "basic.qos");
    amqp_basic_consume(conn_.get(), kChannel, amqp_cstring_bytes(o.queue.c_str()), amqp_empty_bytes,
                       /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
    CheckReply(amqp_get_rpc_reply(conn_.get()), "basic.consume");
    latency_ns_.reserve(o.messages);
  }

  void Run() {
    std::uint64_t unacked_tag = 0;  // the newest delivery not yet acked, 0 = none
    std::uint64_t unacked = 0;
    auto last_progress = Clock::now();
    while (latency_ns_.size() < o_.messages) {
      if (g_failed) return;
      timeval tv{0, 200000};
      amqp_envelope_t env;
      amqp_maybe_release_buffers(conn_.get());
      const amqp_rpc_reply_t r = amqp_consume_message(conn_.get(), &env, &tv, 0);
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
        // Idle: flush held-back acks so the broker never waits on us.
        if (unacked) Ack(unacked_tag, unacked);
        if (Clock::now() - last_progress > kStallLimit) Fail("consumer: no message within 30 s");
        continue;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        ReadUnexpectedFrame();  // e.g. the broker closed the channel
        continue;
      }
      CheckReply(r, "consumer: basic.consume");
      const std::int64_t now = NowNs();
      std::int64_t sent = 0;
      if (env.message.body.len < sizeof sent) Fail("consumer: message shorter than its timestamp");
      std::memcpy(&sent, env.message.body.bytes, sizeof sent);
      latency_ns_.push_back(now - sent);
      last_ns_ = now;
      unacked_tag = env.delivery_tag;
      amqp_destroy_envelope(&env);
      if (++unacked >= o_.ack_every || latency_ns_.size() == o_.messages) Ack(unacked_tag, unacked);
      last_progress = Clock::now();
    }
  }

  std::vector<std::int64_t>& latency_ns() { return latency_ns_; }
  std::int64_t last_ns() const { return last_ns_; }

 private:
  void Ack(std::uint64_t tag, std::uint64_t& unacked) {
    // multiple=true when the ack covers more than this one delivery.
    CheckStatus(amqp_basic_ack(conn_.get(), kChannel, tag, unacked > 1), "consumer: basic.ack");
    unacked = 0;
  }

  void ReadUnexpectedFrame() {
    amqp_frame_t frame;
    CheckStatus(amqp_simple_wait_frame(conn_.get(), &frame), "consumer: read frame");
    if (frame.frame_type == AMQP_FRAME_METHOD &&
        (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
         frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)) {
      CheckReply(amqp_rpc_reply_t{AMQP_RESPONSE_SERVER_EXCEPTION, frame.payload.method, 0}, "consumer");
    }
  }

  const Options& o_;
  Connection conn_;
  std::vector<std::int64_t> latency_ns_;
  std::int64_t last_ns_ = 0;
};

double PercentileMs(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return static_cast<double>(v[i]) / 1e6;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) Fail("missing value for " + std::string(arg));
    const char* v = argv[++i];
    if (arg == "--messages") o.messages = std::strtoull(v, nullptr, 10);
    else if (arg == "--rate") o.rate = std::strtod(v, nullptr);
    else if (arg == "--inflight") o.inflight = std::strtoull(v, nullptr, 10);
    else if (arg == "--size") o.size = std::strtoull(v, nullptr, 10);
    else if (arg == "--prefetch") o.prefetch = static_cast<std::uint16_t>(std::strtoul(v, nullptr, 10));
    else if (arg == "--ack-every") o.ack_every = std::strtoull(v, nullptr, 10);
    else if (arg == "--queue") o.queue = v;
    else if (arg == "--host") o.host = v;
    else if (arg == "--port") o.port = std::atoi(v);
    else Fail("unknown option " + std::string(arg));
  }
  if (o.messages == 0 || o.inflight == 0 || o.prefetch == 0 || o.ack_every == 0 || o.rate < 0 ||
      o.size < sizeof(std::int64_t)) {
    Fail("usage: rabbitmq_load --messages N [--rate R] [--inflight W] [--size BYTES>=8] [--prefetch P] "
         "[--ack-every K] [--queue NAME] [--host H] [--port P]");
  }
  return o;
}

// Runs fn on a thread; the first failure is kept and tells the other thread to stop.
std::thread Spawn(auto fn, std::exception_ptr& error, std::mutex& mu) {
  return std::thread([fn, &error, &mu] {
    try {
      fn();
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      g_failed = true;
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = ParseArgs(argc, argv);
    DeclareQueue(o);
    // The consumer is subscribed before the first publish so that every message is delivered live.
    Consumer consumer(o);
    Publisher publisher(o);
    std::exception_ptr error;
    std::mutex mu;
    std::thread c = Spawn([&] { consumer.Run(); }, error, mu);
    std::thread p = Spawn([&] { publisher.Run(); }, error, mu);
    p.join();
    c.join();
    if (error) std::rethrow_exception(error);
    const double seconds = static_cast<double>(consumer.last_ns() - publisher.first_publish_ns()) / 1e9;
    std::printf("rabbitmq messages=%llu seconds=%.3f rate=%.0f p50_ms=%.2f p99_ms=%.2f "
                "confirm_p50_ms=%.2f confirm_p99_ms=%.2f\n",
                static_cast<unsigned long long>(o.messages), seconds,
                static_cast<double>(o.messages) / seconds, PercentileMs(consumer.latency_ns(), 0.50),
                PercentileMs(consumer.latency_ns(), 0.99), PercentileMs(publisher.confirm_latency_ns(), 0.50),
                PercentileMs(publisher.confirm_latency_ns(), 0.99));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rabbitmq_load: %s\n", e.what());
    return 1;
  }
}
