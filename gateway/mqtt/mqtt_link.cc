#include "gateway/mqtt/mqtt_link.h"

#include <mosquitto.h>
#include <pthread.h>
#include <sys/select.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "gateway/mqtt/mosquitto_lib.h"
#include "gateway/mqtt/pending_publishes.h"
#include "gateway/mqtt/reconnect_backoff.h"
#include "gateway/mqtt/topic_template.h"

namespace msgin5g::gateway::mqtt {
namespace {

constexpr const char* kLog = "mqtt";
constexpr std::size_t kMaxMqttPayload = 268435455;  // MQTT's largest remaining length

// Counters bumped from several threads; read as a snapshot.
struct AtomicStats {
  std::atomic<std::uint64_t> connects{0}, disconnects{0}, connect_failures{0}, published{0},
      puback{0}, publish_timeouts{0}, publish_refused{0}, messages_received{0},
      dropped_oversize{0}, dropped_invalid{0};
};

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

struct MqttLink::Core : std::enable_shared_from_this<Core> {
  using Clock = std::chrono::steady_clock;

  Core(boost::asio::any_io_executor ex, LinkOptions opts)
      : executor(std::move(ex)), options(std::move(opts)) {}

  const boost::asio::any_io_executor executor;
  const LinkOptions options;
  MessageHandler on_message;
  ConnectedHandler on_connected;

  // mu guards the fields below it. Publish holds it across mosquitto_publish and on_publish
  // takes it, so an ack cannot overtake the registration of its mid. No deadlock: libmosquitto
  // calls on_publish holding only its callback and current-packet mutexes, which
  // mosquitto_publish never takes in threaded mode (it queues; the I/O thread writes).
  // Orders Stop()'s mosquitto_disconnect against the I/O thread's mosquitto_connect_async.
  std::mutex session_mu;
  mutable std::mutex mu;
  std::condition_variable cv;  // wakes the I/O thread from a backoff wait
  mosquitto* mosq = nullptr;
  bool started = false;
  bool stopping = false;
  bool connected = false;  // CONNACK accepted and not yet lost
  PendingPublishes pending;

  std::atomic<bool> connected_flag{false};  // for connected() without the mutex
  std::atomic<bool> closed{false};          // the destructor has begun
  AtomicStats stats;
  std::thread io;

  // I/O-thread-only state (libmosquitto's callbacks run inside mosquitto_loop on that thread).
  std::map<int, std::string> suback_wanted;  // subscribe mid -> filter
  bool announced_up = false;
  int failures_in_a_row = 0;  // reconnect backoff exponent
  bool got_connack = false;   // during the current attempt
  std::minstd_rand jitter{std::random_device{}()};

  // --- delivery onto the executor ---
  void PostDone(Done done, Status st) {
    boost::asio::post(executor, [done = std::move(done), st = std::move(st)]() mutable {
      done(std::move(st));
    });
  }
  void PostUp(bool up) {
    if (!on_connected) return;
    boost::asio::post(executor, [self = shared_from_this(), up] {
      if (!self->closed.load()) self->on_connected(up);
    });
  }

  // --- libmosquitto callbacks (I/O thread) ---
  static void HandleConnect(mosquitto* m, void* obj, int rc) {
    static_cast<Core*>(obj)->OnConnect(m, rc);
  }
  static void HandleDisconnect(mosquitto*, void* obj, int rc) {
    static_cast<Core*>(obj)->MarkDown(rc);
  }
  static void HandlePublish(mosquitto*, void* obj, int mid) {
    static_cast<Core*>(obj)->OnPublish(mid);
  }
  static void HandleMessage(mosquitto*, void* obj, const mosquitto_message* msg) {
    static_cast<Core*>(obj)->OnMessage(msg);
  }
  static void HandleSubscribe(mosquitto*, void* obj, int mid, int count, const int* granted) {
    static_cast<Core*>(obj)->OnSubscribe(mid, count, granted);
  }

  void OnConnect(mosquitto* m, int rc) {
    if (rc != 0) {  // refused; libmosquitto closes the socket and the I/O loop backs off
      LOG_ERROR_LIMITED(kLog, "broker %s:%u refused the connection: %s", options.host.c_str(),
                        static_cast<unsigned>(options.port), mosquitto_connack_string(rc));
      return;
    }
    {
      std::lock_guard lk(mu);
      connected = true;
      connected_flag = true;
    }
    failures_in_a_row = 0;
    got_connack = true;
    stats.connects++;
    LOG_INFO(kLog, "connected to %s:%u as '%s'", options.host.c_str(),
             static_cast<unsigned>(options.port), options.client_id.c_str());
    // Re-subscribe every time: harmless on a resumed session, needed on a new one (clean
    // session, broker restarted without persistence, session expired).
    suback_wanted.clear();
    for (const auto& s : options.subscriptions) {
      int mid = 0;
      const int src = mosquitto_subscribe(m, &mid, s.filter.c_str(), s.qos);
      if (src != MOSQ_ERR_SUCCESS) {
        LOG_ERROR_LIMITED(kLog, "subscribe '%s' failed: %s", s.filter.c_str(),
                          mosquitto_strerror(src));
        continue;  // the connection is probably going down; the next CONNACK tries again
      }
      suback_wanted[mid] = s.filter;
    }
    if (suback_wanted.empty()) Announce();
  }

  void OnSubscribe(int mid, int count, const int* granted) {
    auto it = suback_wanted.find(mid);
    if (it == suback_wanted.end()) return;
    if (count < 1 || granted[0] == 0x80) {
      LOG_ERROR_LIMITED(kLog, "broker refused subscription '%s'", it->second.c_str());
    }
    suback_wanted.erase(it);
    if (suback_wanted.empty()) Announce();
  }

  void Announce() {
    if (announced_up) return;
    announced_up = true;
    PostUp(true);
  }

  // The connection is gone (on_disconnect), or never came (a failed connect or TLS handshake,
  // which libmosquitto reports only through mosquitto_loop's return code). Idempotent.
  void MarkDown(int rc) {
    bool was_connected = false;
    {
      std::lock_guard lk(mu);
      was_connected = connected;
      connected = false;
      connected_flag = false;
    }
    if (was_connected) {
      stats.disconnects++;
      if (rc != 0) {
        LOG_WARN_LIMITED(kLog, "connection to %s:%u lost: %s", options.host.c_str(),
                         static_cast<unsigned>(options.port), mosquitto_strerror(rc));
      }
    }
    suback_wanted.clear();
    if (announced_up) {
      announced_up = false;
      PostUp(false);
    }
  }

  void OnPublish(int mid) {
    Done done;
    {
      std::lock_guard lk(mu);
      done = pending.Take(mid);
    }
    if (!done) return;  // timed out already; the late ack changes nothing
    stats.puback++;
    PostDone(std::move(done), Status::Ok());
  }

  void OnMessage(const mosquitto_message* msg) {
    if (msg->payloadlen < 0 ||
        static_cast<std::size_t>(msg->payloadlen) > options.max_inbound_payload) {
      stats.dropped_oversize++;
      LOG_WARN_LIMITED(kLog, "dropped inbound message of %d bytes on '%s' (max %zu)",
                       msg->payloadlen, msg->topic ? msg->topic : "", options.max_inbound_payload);
      return;
    }
    if (!msg->topic || !MatchesSubscriptions(msg->topic)) {
      stats.dropped_invalid++;
      LOG_WARN_LIMITED(kLog, "dropped inbound message on '%s': outside our subscriptions",
                       msg->topic ? msg->topic : "");
      return;
    }
    stats.messages_received++;
    if (!on_message) return;
    std::string topic(msg->topic);
    std::string payload(static_cast<const char*>(msg->payload),
                        static_cast<std::size_t>(msg->payloadlen));
    boost::asio::post(executor, [self = shared_from_this(), topic = std::move(topic),
                                 payload = std::move(payload)]() mutable {
      if (!self->closed.load()) self->on_message(std::move(topic), std::move(payload));
    });
  }

  // A persistent session may still hold subscriptions of an earlier configuration; what they
  // bring in has no handler here.
  bool MatchesSubscriptions(const char* topic) const {
    for (const auto& s : options.subscriptions) {
      bool match = false;
      if (mosquitto_topic_matches_sub(s.filter.c_str(), topic, &match) == MOSQ_ERR_SUCCESS &&
          match) {
        return true;
      }
    }
    return false;
  }

  // --- the I/O thread ---
  // Times out expired publishes; returns the time of the next deadline (or `cap`).
  Clock::time_point SweepLocked(Clock::time_point now, Clock::time_point cap) {
    for (auto& done : pending.TakeExpired(now)) {
      stats.publish_timeouts++;
      PostDone(std::move(done), Status::Unavailable("mqtt: no PUBACK within publish_timeout"));
    }
    auto next = pending.NextDeadline();
    return next ? std::min(*next, cap) : cap;
  }

  bool StopRequested() {
    std::lock_guard lk(mu);
    return stopping;
  }

  // Waits until `until` or Stop(), timing out publishes meanwhile. False when stopping.
  bool WaitUntil(Clock::time_point until) {
    std::unique_lock lk(mu);
    while (!stopping) {
      const auto now = Clock::now();
      const auto wake = SweepLocked(now, until);
      if (now >= until) return true;
      cv.wait_until(lk, wake);
    }
    return false;
  }

  void IoMain() {
    pthread_setname_np(pthread_self(), "mqtt-io");
    bool need_connect = true;
    std::optional<Clock::time_point> stop_deadline;
    while (true) {
      {
        std::lock_guard lk(mu);
        if (stopping && !stop_deadline) stop_deadline = Clock::now() + std::chrono::seconds(1);
      }
      // Stopping: run the loop until the DISCONNECT queued by Stop() is out (libmosquitto then
      // closes the socket), for at most a second.
      if (stop_deadline && (mosquitto_socket(mosq) < 0 || Clock::now() >= *stop_deadline)) break;
      if (need_connect && !stop_deadline) {
        need_connect = false;
        got_connack = false;
        int rc = MOSQ_ERR_SUCCESS;
        {
          // Not while Stop() calls mosquitto_disconnect: both replace libmosquitto's socket
          // state, which it does not lock.
          std::lock_guard slk(session_mu);
          if (StopRequested()) break;
          // Non-blocking (but for name resolution); the TCP and TLS handshakes finish inside
          // mosquitto_loop. Called again on every attempt: it also closes a stale socket.
          rc = mosquitto_connect_async(mosq, options.host.c_str(), options.port,
                                       static_cast<int>(options.keepalive.count()));
        }
        if (rc != MOSQ_ERR_SUCCESS) {
          if (!BackOff(rc)) break;
          need_connect = true;
          continue;
        }
      }
      auto wake = Clock::now() + std::chrono::milliseconds(500);
      {
        std::lock_guard lk(mu);
        wake = SweepLocked(Clock::now(), wake);
      }
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now());
      int rc = mosquitto_loop(mosq, static_cast<int>(std::max<long long>(ms.count(), 0)), 1);
      if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(mosq) < 0) rc = MOSQ_ERR_NO_CONN;
      if (rc != MOSQ_ERR_SUCCESS) {
        if (stop_deadline) break;
        if (!BackOff(rc)) break;
        need_connect = true;
      }
    }
    MarkDown(0);
  }

  // After a failed attempt or a lost connection. False when Stop() came meanwhile.
  bool BackOff(int rc) {
    if (!got_connack) stats.connect_failures++;
    MarkDown(rc);
    const auto delay = ReconnectDelay(failures_in_a_row++, options.reconnect_delay_min,
                                      options.reconnect_delay_max,
                                      std::uniform_real_distribution<double>(0, 1)(jitter));
    if (rc == MOSQ_ERR_INVAL && mosquitto_socket(mosq) >= FD_SETSIZE) {
      LOG_ERROR_LIMITED(kLog, "socket descriptor %d is beyond select()'s FD_SETSIZE; libmosquitto "
                        "cannot use it", mosquitto_socket(mosq));
    }
    LOG_WARN_LIMITED(kLog, "broker %s:%u: %s; next attempt in %lld ms", options.host.c_str(),
                     static_cast<unsigned>(options.port), mosquitto_strerror(rc),
                     static_cast<long long>(delay.count()));
    return WaitUntil(Clock::now() + delay);
  }

  Status Start() {
    {
      std::lock_guard lk(mu);
      if (started) return Status(StatusCode::kConflict, "mqtt: link already started");
    }
    MSGIN5G_RETURN_IF_ERROR(ValidateLinkOptions(options));
    EnsureMosquittoLibInit();
    // Made and configured without holding `mu`: libmosquitto's setters take its callback mutex,
    // which its loop holds while our callbacks take `mu` (one lock order only).
    mosquitto* m = mosquitto_new(OrNull(options.client_id), options.clean_session, this);
    if (!m) return Status::Internal("mqtt: mosquitto_new failed");
    Status st = Configure(m);
    if (!st.ok()) {
      mosquitto_destroy(m);
      return st;
    }
    std::lock_guard lk(mu);
    if (started) {  // Start/Stop must not run concurrently (header); a second Start loses
      mosquitto_destroy(m);
      return Status(StatusCode::kConflict, "mqtt: link already started");
    }
    mosq = m;
    started = true;
    stopping = false;
    failures_in_a_row = 0;
    io = std::thread([this] { IoMain(); });
    return Status::Ok();
  }

  Status Configure(mosquitto* m) {
    // We run the loop on our own thread: packets are queued by the callers and written there.
    MSGIN5G_RETURN_IF_ERROR(StatusFromMosquitto(mosquitto_threaded_set(m, true), "mqtt: threaded"));
    MSGIN5G_RETURN_IF_ERROR(StatusFromMosquitto(
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311),
        "mqtt: protocol version"));
    mosquitto_connect_callback_set(m, &Core::HandleConnect);
    mosquitto_disconnect_callback_set(m, &Core::HandleDisconnect);
    mosquitto_publish_callback_set(m, &Core::HandlePublish);
    mosquitto_message_callback_set(m, &Core::HandleMessage);
    mosquitto_subscribe_callback_set(m, &Core::HandleSubscribe);
    if (!options.username.empty()) {
      MSGIN5G_RETURN_IF_ERROR(StatusFromMosquitto(
          mosquitto_username_pw_set(m, options.username.c_str(), OrNull(options.password)),
          "mqtt: username/password"));
    }
    if (options.tls.enabled) {
      // libmosquitto wants a CA file or path; without one, use OpenSSL's default trust store.
      if (options.tls.ca_file.empty()) {
        MSGIN5G_RETURN_IF_ERROR(StatusFromMosquitto(
            mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "mqtt: tls os certs"));
      }
      MSGIN5G_RETURN_IF_ERROR(StatusFromMosquitto(
          mosquitto_tls_set(m, OrNull(options.tls.ca_file), nullptr,
                            OrNull(options.tls.cert_file), OrNull(options.tls.key_file), nullptr),
          "mqtt: tls files (" + options.tls.ca_file + ", " + options.tls.cert_file + ")"));
      MSGIN5G_RETURN_IF_ERROR(StatusFromMosquitto(
          mosquitto_tls_insecure_set(m, options.tls.insecure), "mqtt: tls insecure"));
    }
    // libmosquitto's own window equals ours, so it never holds publishes back in memory.
    return StatusFromMosquitto(
        mosquitto_max_inflight_messages_set(m, static_cast<unsigned>(options.max_in_flight)),
        "mqtt: max in flight");
  }

  void Stop() {
    {
      std::lock_guard lk(mu);
      if (!started) return;
      stopping = true;
      cv.notify_all();
    }
    {
      // Queues DISCONNECT when connected (waking the I/O thread's select); marks the session
      // as ending either way.
      std::lock_guard slk(session_mu);
      mosquitto_disconnect(mosq);
    }
    io.join();
    mosquitto* m = nullptr;
    std::vector<Done> dones;
    {
      std::lock_guard lk(mu);
      m = std::exchange(mosq, nullptr);
      started = false;
      dones = pending.TakeAll();
    }
    for (auto& done : dones) PostDone(std::move(done), Status::Unavailable("mqtt: link stopped"));
    mosquitto_destroy(m);  // drops libmosquitto's unacknowledged copies; the caller retries
  }

  void Publish(std::string topic, std::string payload, int qos, bool retain, Done done) {
    if (!done) done = [](Status) {};
    auto refuse = [&](Status st) {
      stats.publish_refused++;
      PostDone(std::move(done), std::move(st));
    };
    if (qos < 0 || qos > 2) return refuse(Status::InvalidArgument("mqtt: qos must be 0..2"));
    if (topic.empty() || topic.size() > 65535 || topic.find_first_of("+#") != std::string::npos ||
        !IsValidMqttUtf8(topic)) {  // IsValidMqttUtf8 also refuses NUL
      return refuse(Status::InvalidArgument("mqtt: bad publish topic"));
    }
    if (payload.size() > kMaxMqttPayload) {
      return refuse(Status(StatusCode::kPayloadTooLarge, "mqtt: payload above 256 MiB"));
    }
    std::unique_lock lk(mu);
    if (!started || stopping) return refuse(Status::Unavailable("mqtt: link stopped"));
    // Fail fast: libmosquitto would keep the message in memory until a reconnect; the caller's
    // durable outbox is the better place to wait.
    if (!connected) return refuse(Status::Unavailable("mqtt: not connected to the broker"));
    if (pending.size() >= options.max_in_flight) {
      return refuse(Status::ResourceExhausted("mqtt: max_in_flight publishes pending"));
    }
    int mid = 0;
    const int rc = mosquitto_publish(mosq, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), qos, retain);
    // NO_CONN with QoS > 0: the connection dropped just now but libmosquitto has queued the
    // message and resends it after the reconnect, so its outcome is still to come.
    if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && qos > 0)) {
      if (!pending.Add(mid, Clock::now() + options.publish_timeout, done)) {
        lk.unlock();
        return refuse(Status::Internal("mqtt: message id reused while still pending"));
      }
      stats.published++;
      cv.notify_all();  // a backoff wait must wake for this deadline
      return;
    }
    lk.unlock();
    refuse(StatusFromMosquitto(rc, "mqtt: publish"));
  }
};

MqttLink::MqttLink(boost::asio::any_io_executor executor, LinkOptions options)
    : core_(std::make_shared<Core>(std::move(executor), std::move(options))) {}

MqttLink::~MqttLink() {
  core_->closed = true;
  core_->Stop();
}

void MqttLink::OnMessage(MessageHandler handler) { core_->on_message = std::move(handler); }
void MqttLink::OnConnected(ConnectedHandler handler) { core_->on_connected = std::move(handler); }
Status MqttLink::Start() { return core_->Start(); }
void MqttLink::Stop() { core_->Stop(); }

void MqttLink::Publish(std::string topic, std::string payload, int qos, bool retain, Done done) {
  core_->Publish(std::move(topic), std::move(payload), qos, retain, std::move(done));
}

bool MqttLink::connected() const { return core_->connected_flag.load(); }

LinkStats MqttLink::stats() const {
  const AtomicStats& s = core_->stats;
  LinkStats out;
  out.connects = s.connects;
  out.disconnects = s.disconnects;
  out.connect_failures = s.connect_failures;
  out.published = s.published;
  out.puback = s.puback;
  out.publish_timeouts = s.publish_timeouts;
  out.publish_refused = s.publish_refused;
  out.messages_received = s.messages_received;
  out.dropped_oversize = s.dropped_oversize;
  out.dropped_invalid = s.dropped_invalid;
  return out;
}

}  // namespace msgin5g::gateway::mqtt
