#include "gateway/mqtt/mqtt_link.h"

#include <openssl/ssl.h>
#include <pthread.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "gateway/mqtt/mqtt_packets.h"
#include "gateway/mqtt/pending_publishes.h"
#include "gateway/mqtt/reconnect_backoff.h"
#include "gateway/mqtt/topic_template.h"

namespace msgin5g::gateway::mqtt {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr const char* kLog = "mqtt";
constexpr std::size_t kMaxUnwritten = 64u << 20;

// Counters bumped from several threads; read as a snapshot.
struct AtomicStats {
  std::atomic<std::uint64_t> connects{0}, disconnects{0}, connect_failures{0}, published{0},
      puback{0}, publish_timeouts{0}, publish_refused{0}, messages_received{0},
      dropped_oversize{0}, dropped_invalid{0}, redelivered{0}, protocol_errors{0};
};

// One TCP (or TLS over TCP) connection attempt and, once CONNACKed, the session on it.
struct Conn {
  explicit Conn(asio::io_context& io, ssl::context* tls_ctx, std::size_t max_publish_body)
      : resolver(io), connect_timer(io), reader(max_publish_body) {
    if (tls_ctx) {
      tls = std::make_unique<ssl::stream<tcp::socket>>(io, *tls_ctx);
    } else {
      plain = std::make_unique<tcp::socket>(io);
    }
  }
  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  std::uint64_t gen = 0;
  tcp::resolver resolver;
  asio::steady_timer connect_timer;  // TCP + TLS + CONNACK must finish before it fires
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  std::unique_ptr<tcp::socket> plain;
  wire::FrameReader reader;
  std::array<char, 64 * 1024> rbuf{};
  bool reading = false;
  bool connacked = false;
  // Writes: queued bytes, one async_write at a time; QoS 0 publishes complete when written.
  std::string out;
  std::vector<MqttLink::Done> out_qos0;
  bool writing = false;
  std::string wbuf;
  std::vector<MqttLink::Done> wbuf_qos0;
  std::chrono::steady_clock::time_point last_rx;
  // Inbound messages in arrival order, until their acknowledgement can go out (MQTT 4.6: in
  // the order they came). qos 0 entries hold their place only for the unacked bound.
  struct Inbound {
    std::uint64_t seq = 0;  // what its Ack names (packet ids repeat; this does not)
    std::uint16_t id = 0;
    int qos = 0;
    bool acked = false;
  };
  std::deque<Inbound> inbound;
  std::uint64_t next_seq = 0;
  std::set<std::uint16_t> qos2_open;    // PUBREC sent, PUBREL awaited (or not yet acked)
  std::map<std::uint16_t, std::string> suback_wanted;  // SUBSCRIBE id -> filter
};

}  // namespace

struct MqttLink::Core : std::enable_shared_from_this<Core> {
  using Clock = std::chrono::steady_clock;

  Core(asio::any_io_executor ex, LinkOptions opts)
      : executor(std::move(ex)), options(std::move(opts)) {}

  const asio::any_io_executor executor;
  const LinkOptions options;
  MessageHandler on_message;
  ConnectedHandler on_connected;

  // mu guards started/stopping/io: which I/O context Publish and Ack post to.
  mutable std::mutex mu;
  bool started = false;
  bool stopping = false;
  std::unique_ptr<asio::io_context> io;
  std::thread thread;

  std::atomic<bool> connected_flag{false};  // for connected() without the mutex
  std::atomic<bool> closed{false};          // the destructor has begun
  std::atomic<std::size_t> in_flight{0};    // publishes accepted, outcome not yet posted
  AtomicStats stats;

  // --- I/O-thread-only state, reset by Start ---
  std::unique_ptr<ssl::context> tls_ctx;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<asio::steady_timer> reconnect_timer, keepalive_timer, sweep_timer, stop_timer;
  std::optional<Clock::time_point> sweep_armed_for;
  std::shared_ptr<Conn> conn;  // the current attempt or connection; null while backing off
  std::uint64_t next_gen = 0;
  std::atomic<std::uint64_t> live_gen{0};  // gen of the CONNACKed connection, 0 when none
  PendingPublishes pending;
  std::uint16_t last_id = 0;
  bool connected = false;
  bool announced_up = false;
  bool io_stopping = false;
  int failures_in_a_row = 0;
  std::minstd_rand jitter{std::random_device{}()};

  // --- delivery onto the executor ---
  void PostDone(Done done, Status st) {
    asio::post(executor, [done = std::move(done), st = std::move(st)]() mutable {
      done(std::move(st));
    });
  }
  // The outcome of a publish Publish() accepted.
  void Finish(Done done, Status st) {
    in_flight.fetch_sub(1);
    PostDone(std::move(done), std::move(st));
  }
  void PostUp(bool up) {
    if (!on_connected) return;
    asio::post(executor, [self = shared_from_this(), up] {
      if (!self->closed.load()) self->on_connected(up);
    });
  }

  // --- Start / Stop (caller's thread) ---
  Status Start() {
    {
      std::lock_guard lk(mu);
      if (started) return Status::Conflict("mqtt: link already started");
    }
    MSGIN5G_RETURN_IF_ERROR(ValidateLinkOptions(options));
    std::unique_ptr<ssl::context> ctx;
    if (options.tls.enabled) {
      auto made = MakeTlsContext();
      if (!made.ok()) return made.status();
      ctx = std::move(*made);
    }
    std::lock_guard lk(mu);
    if (started) return Status::Conflict("mqtt: link already started");
    io = std::make_unique<asio::io_context>(1);
    tls_ctx = std::move(ctx);
    work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        io->get_executor());
    reconnect_timer = std::make_unique<asio::steady_timer>(*io);
    keepalive_timer = std::make_unique<asio::steady_timer>(*io);
    sweep_timer = std::make_unique<asio::steady_timer>(*io);
    stop_timer = std::make_unique<asio::steady_timer>(*io);
    sweep_armed_for.reset();
    failures_in_a_row = 0;
    io_stopping = false;
    started = true;
    stopping = false;
    asio::post(*io, [this] { Connect(); });
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "mqtt-io");
      io->run();
    });
    return Status::Ok();
  }

  Result<std::unique_ptr<ssl::context>> MakeTlsContext() const {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options.tls.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(options.tls.ca_file, ec);
    }
    if (ec) return Status::InvalidArgument("mqtt: tls ca_file " + options.tls.ca_file + ": " + ec.message());
    if (!options.tls.cert_file.empty()) {
      ctx->use_certificate_chain_file(options.tls.cert_file, ec);
      if (ec) return Status::InvalidArgument("mqtt: tls cert_file " + options.tls.cert_file + ": " + ec.message());
      ctx->use_private_key_file(options.tls.key_file, ssl::context::pem, ec);
      if (ec) return Status::InvalidArgument("mqtt: tls key_file " + options.tls.key_file + ": " + ec.message());
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
  }

  void Stop() {
    {
      std::lock_guard lk(mu);
      if (!started) return;
      stopping = true;
      asio::post(*io, [this] { BeginStop(); });
    }
    thread.join();
    std::vector<Done> dones;
    {
      std::lock_guard lk(mu);
      // Publishes and Acks posted before `stopping` was set and not yet run: they see
      // io_stopping and refuse.
      io->restart();
      io->poll();
      dones = pending.TakeAll();
      conn.reset();
      reconnect_timer.reset();
      keepalive_timer.reset();
      sweep_timer.reset();
      stop_timer.reset();
      work.reset();
      io.reset();
      tls_ctx.reset();
      started = false;
    }
    for (auto& done : dones) Finish(std::move(done), Status::Unavailable("mqtt: link stopped"));
  }

  // --- the I/O thread ---
  void BeginStop() {
    io_stopping = true;
    reconnect_timer->cancel();
    if (conn && connected) {
      Send(wire::EncodeDisconnect());
      // Closed once the DISCONNECT is out (Written), or after a second at most.
      stop_timer->expires_after(std::chrono::seconds(1));
      stop_timer->async_wait([this](const error_code& ec) {
        if (!ec) FinishStop();
      });
      return;
    }
    FinishStop();
  }

  void FinishStop() {
    stop_timer->cancel();
    CloseConn("stopped");
    keepalive_timer->cancel();
    sweep_timer->cancel();
    reconnect_timer->cancel();
    work.reset();  // run() returns once the cancelled handlers have run
  }

  void Connect() {
    if (io_stopping) return;
    auto c = std::make_shared<Conn>(*io, tls_ctx.get(),
                                    options.max_inbound_payload + wire::FrameReader::kTruncatedHead);
    c->gen = ++next_gen;
    conn = c;
    const auto bound = options.keepalive.count() > 0 ? options.keepalive : std::chrono::seconds(30);
    c->connect_timer.expires_after(bound);
    c->connect_timer.async_wait([this, c, bound](const error_code& ec) {
      if (!ec && conn == c && !c->connacked) Fail(c, "no CONNACK within " + std::to_string(bound.count()) + " s");
    });
    c->resolver.async_resolve(
        options.host, std::to_string(options.port),
        [this, c](const error_code& ec, const tcp::resolver::results_type& results) {
          if (conn != c) return;
          if (ec) return Fail(c, "resolve " + options.host + ": " + ec.message());
          asio::async_connect(c->socket(), results, [this, c](const error_code& ec2, const tcp::endpoint&) {
            if (conn != c) return;
            if (ec2) return Fail(c, ec2.message());
            error_code ignored;
            c->socket().set_option(tcp::no_delay(true), ignored);
            if (!c->tls) return SendConnect(c);
            // SNI and the host name check (unless insecure: test brokers only).
            error_code not_ip;
            asio::ip::make_address(options.host, not_ip);
            if (not_ip) SSL_set_tlsext_host_name(c->tls->native_handle(), options.host.c_str());  // RFC 6066: names only
            if (!options.tls.insecure) c->tls->set_verify_callback(ssl::host_name_verification(options.host));
            c->tls->async_handshake(ssl::stream_base::client, [this, c](const error_code& ec3) {
              if (conn != c) return;
              if (ec3) return Fail(c, "TLS handshake: " + ec3.message());
              SendConnect(c);
            });
          });
        });
  }

  void SendConnect(const std::shared_ptr<Conn>& c) {
    wire::ConnectFields f;
    f.client_id = options.client_id;
    f.clean_session = options.clean_session;
    f.keepalive_s = static_cast<std::uint16_t>(options.keepalive.count());
    if (!options.username.empty()) {
      f.username = options.username;
      if (!options.password.empty()) f.password = options.password;
    }
    c->last_rx = Clock::now();
    Send(wire::EncodeConnect(f));
    Read(c);
  }

  void Read(const std::shared_ptr<Conn>& c) {
    if (c->reading) return;
    c->reading = true;
    auto handler = [this, c](const error_code& ec, std::size_t n) {
      c->reading = false;
      if (conn != c) return;
      if (ec) return Fail(c, ec == asio::error::eof ? "closed by the broker" : ec.message());
      c->last_rx = Clock::now();
      c->reader.Feed(c->rbuf.data(), n);
      if (!Drain(c)) return;
      if (c->inbound.size() < options.max_inbound_unacked) Read(c);
      // else: paused until Acks come (AckInbound resumes).
    };
    if (c->tls) {
      c->tls->async_read_some(asio::buffer(c->rbuf), handler);
    } else {
      c->plain->async_read_some(asio::buffer(c->rbuf), handler);
    }
  }

  // Handles every whole packet read so far, or up to the unacked bound (the rest waits in the
  // reader for Acks). False when the connection failed.
  bool Drain(const std::shared_ptr<Conn>& c) {
    while (conn == c) {
      if (c->inbound.size() >= options.max_inbound_unacked) return true;
      auto next = c->reader.Next();
      if (!next.ok()) {
        stats.protocol_errors++;
        Fail(c, next.status().message());
        return false;
      }
      if (!next->has_value()) return true;
      Status st = Handle(c, **next);
      if (!st.ok()) {
        stats.protocol_errors++;
        Fail(c, st.message());
        return false;
      }
    }
    return false;
  }

  Status Handle(const std::shared_ptr<Conn>& c, wire::Packet& p) {
    if (!c->connacked && p.type != wire::Type::kConnAck) {
      return Status::InvalidArgument("mqtt: a packet before CONNACK");
    }
    switch (p.type) {
      case wire::Type::kConnAck: return OnConnAck(c, p);
      case wire::Type::kPublish: return OnPublish(c, p);
      case wire::Type::kPubAck:
      case wire::Type::kPubComp: {
        auto id = wire::ParseIdOnly(p);
        if (!id.ok()) return id.status();
        if (Done done = pending.Take(*id)) {
          stats.puback++;
          Finish(std::move(done), Status::Ok());
        }  // else: timed out already; the late ack changes nothing
        return Status::Ok();
      }
      case wire::Type::kPubRec: {
        auto id = wire::ParseIdOnly(p);
        if (!id.ok()) return id.status();
        if (auto* r = pending.Find(*id)) r->released = true;
        Send(wire::EncodeIdOnly(wire::Type::kPubRel, *id));  // also for one we forgot (4.3.3)
        return Status::Ok();
      }
      case wire::Type::kPubRel: {
        auto id = wire::ParseIdOnly(p);
        if (!id.ok()) return id.status();
        c->qos2_open.erase(*id);
        Send(wire::EncodeIdOnly(wire::Type::kPubComp, *id));
        return Status::Ok();
      }
      case wire::Type::kSubAck: return OnSubAck(c, p);
      case wire::Type::kPingResp: return Status::Ok();
      default:
        return Status::InvalidArgument("mqtt: unexpected packet type " +
                                       std::to_string(static_cast<int>(p.type)) + " from the broker");
    }
  }

  Status OnConnAck(const std::shared_ptr<Conn>& c, const wire::Packet& p) {
    if (c->connacked) return Status::InvalidArgument("mqtt: a second CONNACK");
    auto ack = wire::ParseConnAck(p);
    if (!ack.ok()) return ack.status();
    if (ack->return_code != 0) {
      LOG_ERROR_LIMITED(kLog, "broker %s:%u refused the connection: %s", options.host.c_str(),
                        static_cast<unsigned>(options.port), wire::ConnAckReason(ack->return_code));
      Fail(c, std::string("refused: ") + wire::ConnAckReason(ack->return_code));
      return Status::Ok();
    }
    c->connacked = true;
    c->connect_timer.cancel();
    connected = true;
    connected_flag = true;
    live_gen = c->gen;
    stats.connects++;
    LOG_INFO(kLog, "connected to %s:%u as '%s'%s", options.host.c_str(),
             static_cast<unsigned>(options.port), options.client_id.c_str(),
             ack->session_present ? " (session resumed)" : "");
    // Re-subscribe every time: harmless on a resumed session, needed on a new one (clean
    // session, broker restarted without persistence, session expired).
    for (const auto& s : options.subscriptions) {
      const std::uint16_t id = NextId(c);
      c->suback_wanted[id] = s.filter;
      Send(wire::EncodeSubscribe(id, {{s.filter, s.qos}}));
    }
    // What was in flight when the last connection went, and what came meanwhile, in order.
    const bool resumed = ack->session_present;
    pending.ForEachInOrder([this, resumed](int mid, PendingPublishes::Resend& r) {
      if (r.released && resumed) {
        Send(wire::EncodeIdOnly(wire::Type::kPubRel, static_cast<std::uint16_t>(mid)));
        return;
      }
      // A new session knows nothing of a PUBREC it sent: the whole message goes again.
      r.released = false;
      if (r.sent) r.packet[0] = static_cast<char>(r.packet[0] | 0x08);  // DUP
      r.sent = true;
      Send(r.packet);
    });
    ArmKeepalive(c);
    if (c->suback_wanted.empty()) Announce();
    return Status::Ok();
  }

  Status OnSubAck(const std::shared_ptr<Conn>& c, const wire::Packet& p) {
    auto ack = wire::ParseSubAck(p);
    if (!ack.ok()) return ack.status();
    auto it = c->suback_wanted.find(ack->id);
    if (it == c->suback_wanted.end()) return Status::Ok();
    if (ack->codes.empty() || ack->codes[0] == 0x80) {
      // Up without it would be a gateway that looks ready and never hears its devices.
      LOG_ERROR_LIMITED(kLog, "broker refused subscription '%s' (its ACL?)", it->second.c_str());
      Fail(c, "subscription '" + it->second + "' refused");
      return Status::Ok();
    }
    const int wanted = QosOf(it->second);
    if (ack->codes[0] < wanted) {
      LOG_WARN_LIMITED(kLog, "broker granted QoS %d for '%s' (asked %d): messages may be lost in "
                       "the broker", ack->codes[0], it->second.c_str(), wanted);
    }
    c->suback_wanted.erase(it);
    if (c->suback_wanted.empty()) Announce();
    return Status::Ok();
  }

  Status OnPublish(const std::shared_ptr<Conn>& c, wire::Packet& p) {
    const bool truncated = p.truncated;
    const std::size_t body_size = p.full_size;
    auto m = wire::ParsePublish(p);
    if (!m.ok()) return m.status();
    if (m->qos > 0 && InboundWaiting(c, m->id)) {
      // A resend on this connection of one we hold (a broker may resend before our PUBACK):
      // its acknowledgement is the first copy's; handing it on again could ack a later message
      // that reuses the id.
      stats.redelivered++;
      return Status::Ok();
    }
    if (m->qos == 2 && c->qos2_open.contains(m->id)) {
      // PUBREC sent, PUBREL not yet come: exactly once means not again.
      stats.redelivered++;
      Send(wire::EncodeIdOnly(wire::Type::kPubRec, m->id));
      return Status::Ok();
    }
    if (m->dup) stats.redelivered++;
    Conn::Inbound in{++c->next_seq, m->id, m->qos, false};
    if (truncated || m->payload.size() > options.max_inbound_payload) {
      stats.dropped_oversize++;
      LOG_WARN_LIMITED(kLog, "dropped inbound message of %zu bytes (max %zu)", body_size,
                       options.max_inbound_payload);
      in.acked = true;
    } else if (!wire::IsValidTopicName(m->topic)) {
      // Framing is fine, the name is not (control characters, bad UTF-8, wildcards): dropping
      // the connection would only bring it back first after every reconnect.
      stats.dropped_invalid++;
      LOG_WARN_LIMITED(kLog, "dropped inbound message with an invalid topic name (%zu bytes)",
                       m->topic.size());
      in.acked = true;
    } else if (!MatchesSubscriptions(m->topic)) {
      stats.dropped_invalid++;
      LOG_WARN_LIMITED(kLog, "dropped inbound message on '%s': outside our subscriptions",
                       m->topic.c_str());
      in.acked = true;
    } else if (!on_message) {
      in.acked = true;
    }
    c->inbound.push_back(in);
    if (in.acked) {
      FlushAcks(c);
      return Status::Ok();
    }
    stats.messages_received++;
    Ack ack([self = shared_from_this(), gen = c->gen, seq = in.seq](bool stored, std::string_view why) {
      self->AckFromAnyThread(gen, seq, stored, why);
    });
    asio::post(executor, [self = shared_from_this(), topic = std::move(m->topic),
                          payload = std::move(m->payload), ack = std::move(ack)]() mutable {
      if (!self->closed.load()) self->on_message(std::move(topic), std::move(payload), std::move(ack));
    });
    return Status::Ok();
  }

  int QosOf(const std::string& filter) const {
    for (const auto& sub : options.subscriptions) {
      if (sub.filter == filter) return sub.qos;
    }
    return 0;
  }

  bool InboundWaiting(const std::shared_ptr<Conn>& c, std::uint16_t id) const {
    return std::any_of(c->inbound.begin(), c->inbound.end(),
                       [id](const Conn::Inbound& in) { return in.id == id && in.qos > 0; });
  }

  bool MatchesSubscriptions(const std::string& topic) const {
    return std::any_of(options.subscriptions.begin(), options.subscriptions.end(),
                       [&](const Subscription& s) { return wire::TopicMatches(s.filter, topic); });
  }

  void AckFromAnyThread(std::uint64_t gen, std::uint64_t seq, bool stored, std::string_view why) {
    std::lock_guard lk(mu);
    if (!started || stopping || live_gen.load() != gen) return;  // the broker resends it
    asio::post(*io, [self = shared_from_this(), gen, seq, stored, why = std::string(why)] {
      self->AckInbound(gen, seq, stored, why);
    });
  }

  void AckInbound(std::uint64_t gen, std::uint64_t seq, bool stored, const std::string& why) {
    if (io_stopping || !conn || conn->gen != gen || !conn->connacked) return;
    auto c = conn;
    if (!stored) {
      // Neither this one nor those behind it may be acknowledged; a new connection makes the
      // broker send them all again.
      return Fail(c, "an inbound message could not be stored (" + why + ")");
    }
    for (auto& in : c->inbound) {
      if (in.seq == seq) {
        in.acked = true;
        break;
      }
    }
    FlushAcks(c);
    if (c->reading || c->inbound.size() >= options.max_inbound_unacked) return;
    // Paused: what is buffered first, then the socket again.
    c->last_rx = Clock::now();  // the pause was ours, not the broker's silence
    if (Drain(c) && c->inbound.size() < options.max_inbound_unacked) Read(c);
  }

  // Sends the acknowledgements of the acked messages at the front, in arrival order.
  void FlushAcks(const std::shared_ptr<Conn>& c) {
    while (!c->inbound.empty() && c->inbound.front().acked) {
      const Conn::Inbound in = c->inbound.front();
      c->inbound.pop_front();
      if (in.qos == 1) Send(wire::EncodeIdOnly(wire::Type::kPubAck, in.id));
      if (in.qos == 2) Send(wire::EncodeIdOnly(wire::Type::kPubRec, in.id));
    }
  }

  void Announce() {
    if (announced_up) return;
    announced_up = true;
    // Only a connection with every subscription in place ends the backoff: one refused at
    // SUBACK keeps doubling it.
    failures_in_a_row = 0;
    PostUp(true);
  }

  // Ends the current attempt or connection `c` and schedules the next attempt.
  void Fail(const std::shared_ptr<Conn>& c, const std::string& why) {
    if (conn != c) return;
    const bool was_up = c->connacked;
    if (!was_up) stats.connect_failures++;
    if (was_up && !io_stopping) {
      LOG_WARN_LIMITED(kLog, "connection to %s:%u lost: %s", options.host.c_str(),
                       static_cast<unsigned>(options.port), why.c_str());
    }
    CloseConn(why);
    if (io_stopping) return;
    const auto delay = ReconnectDelay(failures_in_a_row++, options.reconnect_delay_min,
                                      options.reconnect_delay_max,
                                      std::uniform_real_distribution<double>(0, 1)(jitter));
    if (!was_up) {
      LOG_WARN_LIMITED(kLog, "broker %s:%u: %s; next attempt in %lld ms", options.host.c_str(),
                       static_cast<unsigned>(options.port), why.c_str(),
                       static_cast<long long>(delay.count()));
    }
    reconnect_timer->expires_after(delay);
    reconnect_timer->async_wait([this](const error_code& ec) {
      if (!ec) Connect();
    });
  }

  // Closes `conn` (if any); QoS 0 publishes not yet written fail, QoS 1/2 stay pending for
  // the next connection.
  void CloseConn(const std::string& why) {
    if (!conn) return;
    auto c = std::exchange(conn, nullptr);
    error_code ignored;
    c->resolver.cancel();
    c->connect_timer.cancel();
    c->socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->socket().close(ignored);
    for (auto* list : {&c->wbuf_qos0, &c->out_qos0}) {
      for (auto& done : *list) {
        Finish(std::move(done),
               Status::Unavailable("mqtt: connection closed (" + why + ") before the message was written"));
      }
      list->clear();
    }
    keepalive_timer->cancel();
    const bool was_up = c->connacked;
    connected = false;
    connected_flag = false;
    live_gen = 0;
    if (was_up) stats.disconnects++;
    if (announced_up) {
      announced_up = false;
      PostUp(false);
    }
    (void)why;
  }

  void ArmKeepalive(const std::shared_ptr<Conn>& c) {
    if (options.keepalive.count() == 0) return;
    keepalive_timer->expires_after(options.keepalive);
    keepalive_timer->async_wait([this, c](const error_code& ec) {
      if (ec || conn != c) return;
      // Not while reads are paused for Acks: then nothing is read, whatever the broker sent.
      if (c->reading && Clock::now() - c->last_rx > options.keepalive * 3 / 2) {
        return Fail(c, "nothing from the broker for 1.5 keepalive periods");
      }
      Send(wire::EncodePingReq());
      ArmKeepalive(c);
    });
  }

  void Send(std::string bytes, Done qos0_done = nullptr) {
    if (!conn) {
      if (qos0_done) Finish(std::move(qos0_done), Status::Unavailable("mqtt: not connected to the broker"));
      return;
    }
    conn->out += bytes;
    if (qos0_done) conn->out_qos0.push_back(std::move(qos0_done));
    if (conn->out.size() > kMaxUnwritten) {
      // A broker that sends but does not read would grow this without end.
      auto c = conn;
      return Fail(c, "more than 64 MiB unwritten: the broker is not reading");
    }
    Write(conn);
  }

  void Write(const std::shared_ptr<Conn>& c) {
    if (c->writing || c->out.empty()) return;
    c->writing = true;
    c->wbuf.swap(c->out);
    c->out.clear();
    c->wbuf_qos0.swap(c->out_qos0);
    auto handler = [this, c](const error_code& ec, std::size_t) {
      c->writing = false;
      if (conn != c) return;
      if (ec) return Fail(c, "write: " + ec.message());
      c->wbuf.clear();
      for (auto& done : c->wbuf_qos0) {
        stats.puback++;
        Finish(std::move(done), Status::Ok());
      }
      c->wbuf_qos0.clear();
      if (io_stopping && c->out.empty()) return FinishStop();  // the DISCONNECT is out
      Write(c);
    };
    if (c->tls) {
      asio::async_write(*c->tls, asio::buffer(c->wbuf), handler);
    } else {
      asio::async_write(*c->plain, asio::buffer(c->wbuf), handler);
    }
  }

  // A packet id that no pending publish (or SUBSCRIBE on `c`) holds.
  std::uint16_t NextId(const std::shared_ptr<Conn>& c) {
    for (;;) {
      last_id = static_cast<std::uint16_t>(last_id == 65535 ? 1 : last_id + 1);
      if (!pending.Contains(last_id) && !(c && c->suback_wanted.contains(last_id))) return last_id;
    }
  }

  void ArmSweep() {
    auto next = pending.NextDeadline();
    if (!next || (sweep_armed_for && *sweep_armed_for <= *next)) return;
    sweep_armed_for = *next;
    sweep_timer->expires_at(*next);
    sweep_timer->async_wait([this](const error_code& ec) {
      if (ec || io_stopping) return;
      sweep_armed_for.reset();
      for (auto& done : pending.TakeExpired(Clock::now())) {
        stats.publish_timeouts++;
        Finish(std::move(done), Status::Unavailable("mqtt: no PUBACK within publish_timeout"));
      }
      ArmSweep();
    });
  }

  void AddPublish(std::string topic, std::string payload, int qos, bool retain, Done done) {
    if (io_stopping) return Finish(std::move(done), Status::Unavailable("mqtt: link stopped"));
    stats.published++;
    if (qos == 0) {
      if (!connected) return Finish(std::move(done), Status::Unavailable("mqtt: not connected to the broker"));
      return Send(wire::EncodePublish(topic, payload, 0, retain, false, 0), std::move(done));
    }
    // Kept until its outcome or the timeout, also across a reconnect.
    const std::uint16_t id = NextId(conn);
    std::string packet = wire::EncodePublish(topic, payload, qos, retain, false, id);
    pending.Add(id, Clock::now() + options.publish_timeout, done, packet);
    ArmSweep();
    if (connected) {
      pending.Find(id)->sent = true;
      Send(std::move(packet));
    }
  }

  // --- Publish (any thread) ---
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
    if (payload.size() + topic.size() + 4 > wire::kMaxRemainingLength) {
      return refuse(Status(StatusCode::kPayloadTooLarge, "mqtt: payload above 256 MiB"));
    }
    std::lock_guard lk(mu);
    if (!started || stopping) return refuse(Status::Unavailable("mqtt: link stopped"));
    // Fail fast: the caller's durable outbox is the better place to wait out an outage.
    if (!connected_flag) return refuse(Status::Unavailable("mqtt: not connected to the broker"));
    if (in_flight.fetch_add(1) >= options.max_in_flight) {
      in_flight.fetch_sub(1);
      return refuse(Status::ResourceExhausted("mqtt: max_in_flight publishes pending"));
    }
    asio::post(*io, [self = shared_from_this(), topic = std::move(topic),
                     payload = std::move(payload), qos, retain, done = std::move(done)]() mutable {
      self->AddPublish(std::move(topic), std::move(payload), qos, retain, std::move(done));
    });
  }
};

MqttLink::MqttLink(asio::any_io_executor executor, LinkOptions options)
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
  out.redelivered = s.redelivered;
  out.protocol_errors = s.protocol_errors;
  return out;
}

}  // namespace msgin5g::gateway::mqtt
