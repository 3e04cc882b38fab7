#include "api/coap/coap_server.h"

#include "api/coap/inbound_blocks.h"
#include "api/coap/inbound_segments.h"
#include "api/coap/sent_segments.h"
#include "api/coap/udp_endpoint.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <coap3/coap.h>
// <syslog.h>, through libcoap, defines LOG_DEBUG and LOG_INFO; ours (common/logging.h) are macros
// of the same names. libcoap's level is set below with LOG_WARNING, which we do not redefine.
constexpr int kCoapLogLevel = LOG_WARNING;
#undef LOG_DEBUG
#undef LOG_INFO

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/json.hpp>
#include <prometheus/counter.h>

#include "api/delivery/http_delivery_channel.h"
#include "api/sbi/broker_mapping.h"
#include "api/http/problem.h"
#include "api/http/server.h"
#include "api/sbi/codec.h"
#include "common/clock.h"
#include "common/logging.h"

namespace msgin5g::api::coap {

namespace {

namespace json = boost::json;
using broker::DeliveryResult;
using http::MakeProblem;
using http::Response;
namespace cause = http::cause;

// HTTP status of the SBI answer -> CoAP response code (RFC 7252 §12.1.2, RFC 8516 for 4.29).
coap_pdu_code_t CoapCode(int status) {
  switch (status) {
    case 200:
    case 201: return COAP_RESPONSE_CODE_CREATED;
    case 204: return COAP_RESPONSE_CODE_CHANGED;
    default: break;
  }
  if (status >= 400 && status < 600) return static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(status));
  return static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(500));
}

// What a request is answered with: a code and a JSON body.
struct Answer {
  coap_pdu_code_t code = COAP_RESPONSE_CODE_CREATED;
  std::string body;
};

Answer FromResponse(const Response& r, coap_pdu_code_t ok_code = COAP_RESPONSE_CODE_CREATED) {
  return {r.status < 300 ? ok_code : CoapCode(r.status), r.body};
}

Answer Problem(int status, std::string_view c, std::string detail,
               std::vector<http::InvalidParam> params = {}) {
  return FromResponse(MakeProblem(status, c, std::move(detail), std::move(params)));
}

// Adds "msgType" as the first member of an encoded JSON object.
std::string WithMsgType(std::string_view type, const std::string& object) {
  std::string out = "{\"msgType\":\"" + std::string(type) + "\"";
  if (object.size() > 2) out += ",";
  out.append(object, 1, std::string::npos);
  return out;
}

// Input echoed in a detail, cut to 64 bytes: an answer stays one datagram whatever was sent.
std::string Shortened(std::string_view s) {
  return s.size() <= 64 ? std::string(s) : std::string(s.substr(0, 64)) + "...";
}

bool BadId(std::string_view id) {
  if (id.empty() || id.size() > 1024) return true;
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Result<coap_address_t> ToCoapAddress(const std::string& hostport) {
  auto ep = http::ParseEndpoint(hostport);
  if (!ep.ok()) return ep.status();
  coap_address_t a;
  coap_address_init(&a);
  if (ep->address().is_v4()) {
    a.addr.sin.sin_family = AF_INET;
    a.addr.sin.sin_addr.s_addr = htonl(ep->address().to_v4().to_uint());
    a.addr.sin.sin_port = htons(ep->port());
    a.size = sizeof(sockaddr_in);
  } else {
    a.addr.sin6.sin6_family = AF_INET6;
    auto bytes = ep->address().to_v6().to_bytes();
    std::memcpy(&a.addr.sin6.sin6_addr, bytes.data(), bytes.size());
    a.addr.sin6.sin6_port = htons(ep->port());
    a.size = sizeof(sockaddr_in6);
  }
  return a;
}

// "coap://ip:port" or "coaps://ip:port": the UE's transport address as the broker stores it.
std::string EndpointOf(coap_session_t* s) {
  const coap_address_t* a = coap_session_get_addr_remote(s);
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (a->addr.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &a->addr.sin.sin_addr, host, sizeof(host));
    port = ntohs(a->addr.sin.sin_port);
  } else if (a->addr.sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, host, sizeof(host));
    port = ntohs(a->addr.sin6.sin6_port);
    return std::string(coap_session_get_proto(s) == COAP_PROTO_DTLS ? "coaps" : "coap") + "://[" +
           host + "]:" + std::to_string(port);
  }
  return std::string(coap_session_get_proto(s) == COAP_PROTO_DTLS ? "coaps" : "coap") + "://" +
         host + ":" + std::to_string(port);
}

std::uint16_t PortOf(coap_endpoint_t* ep) {
  if (ep == nullptr) return 0;
  std::string s = coap_endpoint_str(ep);  // "127.0.0.1:5683 UDP" / "[::1]:5683 UDP"
  auto sp = s.find(' ');
  auto colon = s.rfind(':', sp);
  if (colon == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::atoi(s.c_str() + colon + 1));
}

std::string StringMember(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

void FreeString(coap_session_t*, void* p) { delete static_cast<std::string*>(p); }

// libcoap's log lines (DTLS handshake failures, mostly) go to our log, not to stdout.
// Set while the CoAP thread gives libcoap an endpoint event more times than datagrams may be
// waiting (Impl::Drain): a read that finds the socket empty is expected then, not an error.
thread_local bool batched_reads = false;

void CoapLog(coap_log_t level, const char* message) {
  std::string_view m(message);
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.remove_suffix(1);
  // The two lines libcoap 4.3.1 logs for a read of an empty non-blocking socket.
  if (batched_reads && (m.find("Resource temporarily unavailable") != std::string_view::npos ||
                        m.find(": read failed") != std::string_view::npos)) {
    return;
  }
  // Most of libcoap's warnings are about datagrams anyone can send (malformed PDUs): limited.
  if (level <= LOG_ERR) {
    LOG_ERROR_LIMITED("coap", "libcoap: %.*s", static_cast<int>(m.size()), m.data());
  } else if (level <= LOG_WARNING) {
    LOG_WARN_LIMITED("coap", "libcoap: %.*s", static_cast<int>(m.size()), m.data());
  } else {
    LOG_DEBUG("coap", "libcoap: %.*s", static_cast<int>(m.size()), m.data());
  }
}

// The recovery tracker's settings from ours; its bounds keep their defaults.
InboundSegments::Options TrackerOptions(const CoapOptions& o) {
  InboundSegments::Options t;
  t.recovery_after = o.segment_recovery_after;
  t.max_requests = o.segment_recovery_requests;
  t.remember_finished = o.segment_finished_memory;
  return t;
}

}  // namespace

class CoapServer::Impl {
 public:
  Impl(CoapOptions options, broker::Broker& broker, metrics::Registry* metrics)
      : options_(std::move(options)),
        broker_(broker),
        inbound_(TrackerOptions(options_)),
        blocks_(InboundBlocks::Options{options_.max_body_bytes, 4096, std::chrono::seconds(30)}),
        sent_({}) {
    if (metrics != nullptr) {
      auto& fam = prometheus::BuildCounter()
                      .Name("msgin5g_coap_requests_total")
                      .Help("CoAP requests from UEs, by msgType and CoAP response class")
                      .Register(metrics->prom());
      requests_ = &fam;
      aggregated_ = &prometheus::BuildCounter()
                         .Name("msgin5g_coap_aggregated_messages_total")
                         .Help("Messages sent to UEs inside aggregated MSG requests")
                         .Register(metrics->prom())
                         .Add({});
      recovery_ = &prometheus::BuildCounter()
                       .Name("msgin5g_coap_segment_recovery_total")
                       .Help("Segment recovery: SEGRECs sent to UEs (segrec_sent), sets completed "
                             "after one (recovered), sets given up (given_up), segments sent again "
                             "on a UE's SEGREC (resent)")
                       .Register(metrics->prom());
    }
  }

  ~Impl() { Stop(); }

  Status Start() {
    static std::once_flag once;
    std::call_once(once, [] {
      coap_startup();
      // MSGIN5G_COAP_LOG=7 shows libcoap's own debug log (syslog levels) on stderr.
      const char* env = std::getenv("MSGIN5G_COAP_LOG");
      int level = env != nullptr ? std::atoi(env) : kCoapLogLevel;
      coap_set_log_level(level);
      coap_dtls_set_log_level(level);
      coap_set_log_handler(&CoapLog);
    });
    ctx_ = NewContext();
    if (ctx_ == nullptr) return Status::Internal("coap: cannot create a context");
    if (!options_.dtls_listen.empty()) {
      if (!coap_dtls_is_supported()) return Status::InvalidArgument("coap: libcoap has no DTLS");
      static const char kHint[] = "msgin5g";
      coap_dtls_spsk_t psk{};
      psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
      psk.validate_id_call_back = &Impl::OnPskIdentity;
      psk.id_call_back_arg = this;
      psk.psk_info.hint = {sizeof(kHint) - 1, reinterpret_cast<const uint8_t*>(kHint)};
      if (coap_context_set_psk2(ctx_, &psk) != 1) {
        return Status::InvalidArgument("coap: cannot set up DTLS-PSK");
      }
    }
    if (!options_.listen.empty() && options_.udp_libcoap) {
      auto a = ToCoapAddress(options_.listen);
      if (!a.ok()) return Status::InvalidArgument("coap.listen: " + a.status().message());
      udp_ = coap_new_endpoint(ctx_, &*a, COAP_PROTO_UDP);
      if (udp_ == nullptr) return Status::Unavailable("coap: cannot listen on udp " + options_.listen);
    } else if (!options_.listen.empty()) {
      // Our own datagram loop (udp_endpoint.h): its cost per message does not grow with the
      // number of UEs, where libcoap's does.
      UdpEndpoint::Options uo;
      uo.ack_timeout = options_.ack_timeout;
      uo.max_retransmit = options_.max_retransmit;
      own_udp_ = std::make_unique<UdpEndpoint>(
          uo, [this](const UdpEndpoint::Request& r, UdpEndpoint::Exchange& ex) { OnUdpRequest(r, ex); });
      if (Status st = own_udp_->Open(options_.listen); !st.ok()) {
        return st.code() == StatusCode::kInvalidArgument
                   ? Status::InvalidArgument("coap.listen: " + st.message())
                   : Status::Unavailable("coap: " + st.message());
      }
    }
    if (!options_.dtls_listen.empty()) {
      auto a = ToCoapAddress(options_.dtls_listen);
      if (!a.ok()) return Status::InvalidArgument("coap.dtls_listen: " + a.status().message());
      dtls_ = coap_new_endpoint(ctx_, &*a, COAP_PROTO_DTLS);
      if (dtls_ == nullptr) {
        return Status::Unavailable("coap: cannot listen on dtls " + options_.dtls_listen);
      }
    }
    if (!options_.dtls_cert_listen.empty()) {
      if (Status st = StartCertEndpoint(); !st.ok()) return st;
    }
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (wake_ < 0 || epoll_ < 0) return Status::Internal("coap: epoll setup failed");
    epoll_event ev{};
    // Edge-triggered: libcoap's expired timer keeps its fd readable until the (deferred, see
    // Drain) prepare step; level-triggered, the loop would spin meanwhile. New datagrams and a
    // new timer expiry are new edges.
    ev.events = EPOLLIN | EPOLLET;
    for (coap_context_t* c : {ctx_, ctx_pki_}) {
      if (c == nullptr) continue;
      int cfd = coap_context_get_coap_fd(c);
      if (cfd < 0) return Status::Internal("coap: epoll setup failed");
      ev.data.fd = cfd;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, cfd, &ev);
    }
    if (own_udp_ != nullptr) {
      ev.data.fd = own_udp_->fd();  // edge-triggered too: Loop reads until the socket is empty
      epoll_ctl(epoll_, EPOLL_CTL_ADD, own_udp_->fd(), &ev);
    }
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    udp_port_ = own_udp_ != nullptr ? own_udp_->port() : PortOf(udp_);
    dtls_port_ = PortOf(dtls_);
    dtls_cert_port_ = PortOf(dtls_cert_);
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "coap-io");
      Loop();
    });
    return Status::Ok();
  }

  void Stop() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_.store(true);
        Wake();
      }
      thread_.join();
    }
    if (ctx_ != nullptr) {
      std::size_t queued = 0;
      for (const auto& [endpoint, items] : queues_) queued += items.size();
      LOG_INFO("coap", "stopping: %zu requests to UEs outstanding, %zu queued, %zu UE sessions",
               pending_.size(), queued, sessions_.size());
      // Work posted before the stop (answers, releases) runs now, on this thread: every session
      // reference must be given back before the context goes (libcoap asserts it).
      std::deque<std::function<void()>> rest;
      {
        std::lock_guard<std::mutex> lock(mu_);
        rest.swap(inbox_);
      }
      for (auto& fn : rest) fn();
      // Moved out first: the callbacks must not find these half-emptied (Pump stays idle now).
      auto pending = std::move(pending_);
      pending_.clear();
      auto queues = std::move(queues_);
      queues_.clear();
      const DeliveryResult stopped{DeliveryResult::Kind::kTransient, {}, "coap endpoint stopped"};
      for (auto& [key, p] : pending) p.done(stopped);
      for (auto& [endpoint, items] : queues) {
        for (auto& o : items) o.done(stopped);
      }
      for (auto* s : later_refs_) coap_session_release(s);
      later_refs_.clear();
      for (auto& [endpoint, peer] : sessions_) Release(peer);
      sessions_.clear();
      // After the posted work above (answers whose fsync completed): they leave before the socket
      // closes.
      if (own_udp_ != nullptr) own_udp_->RunTimers(std::chrono::steady_clock::now());
      own_udp_.reset();
      coap_free_context(ctx_);
      ctx_ = nullptr;
      if (ctx_pki_ != nullptr) coap_free_context(ctx_pki_);
      ctx_pki_ = nullptr;
      cert_identity_.clear();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (wake_ >= 0) close(wake_);
    if (epoll_ >= 0) close(epoll_);
    wake_ = epoll_ = -1;
  }

  // Read once in Start: coap_endpoint_str writes a static buffer of libcoap's, not to be touched
  // from another thread while coap-io runs.
  std::uint16_t udp_port() const { return udp_port_; }
  std::uint16_t dtls_port() const { return dtls_port_; }
  std::uint16_t dtls_cert_port() const { return dtls_cert_port_; }

  // Any thread.
  void Post(std::function<void()> fn) {
    // Under the lock, so that Stop (which sets stopping_ under it) never races a write to a
    // closed eventfd.
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) return;
    inbox_.push_back(std::move(fn));
    Wake();
  }

  void Deliver(const broker::Route& route, const broker::Outbound& out,
               std::function<void(DeliveryResult)> done) {
    const bool report = out.message->kind == storage::MessageKind::kReport;
    Outgoing o;
    o.ue = out.recipient.id;
    o.object = HttpDeliveryChannel::AsBody(out);
    o.type = report ? "IMDN" : "MSG";
    // TS 23.554 8.4.3: small messages that are not HIGH may travel together; segments and
    // reports go alone.
    o.aggregatable = !report && !out.segment && out.message->priority != storage::Priority::kHigh &&
                     o.object.size() <= kMaxAggregatedItemBytes;
    if (out.segment) {
      o.seg_id = out.segment->segment_id;
      o.seg_number = out.segment->number;
    }
    o.done = std::move(done);
    if (stopping_.load()) {
      o.done({DeliveryResult::Kind::kTransient, {}, "coap endpoint stopped"});
      return;
    }
    Post([this, endpoint = route.base, o = std::move(o)]() mutable {
      queues_[endpoint].push_back(std::move(o));
      Pump(endpoint);
    });
  }

 private:
  static constexpr std::size_t kMaxAggregated = 16;            // messages in one aggregated MSG
  // Requests waiting for one UE beyond which its SEGREC is refused (5.03): a resend burst is
  // bounded however it is asked for.
  static constexpr std::size_t kMaxQueuedPerUe = 1024;
  static constexpr std::size_t kMaxAggregatedItemBytes = 512;  // larger ones go alone
  static constexpr std::size_t kMaxAggregatedBytes = 900;  // one datagram (MTU 1152, no Block1)

  struct Outgoing {
    std::string ue;
    std::string object;  // the UEMessageDelivery / DeliveryStatusReport JSON object
    const char* type = "MSG";
    bool aggregatable = false;
    std::string seg_id;           // a segment: kept for the UE's SEGREC (sent_)
    std::uint32_t seg_number = 0;
    std::function<void(DeliveryResult)> done;
  };

  // One request at a time per UE endpoint (its queue, in the engine's priority order): a
  // block-wise transfer of one message is never overtaken by a later small one. Whatever has
  // gathered meanwhile leaves together: a run of aggregatable messages as one
  // {"msgType":"MSG","aggregated":[...]} request whose answer settles all of them (TS 23.554
  // 8.4.3), kept to one datagram; anything else alone.
  void Pump(const std::string& endpoint) {
    if (stopping_.load() || busy_.count(endpoint) != 0) return;
    auto qit = queues_.find(endpoint);
    if (qit == queues_.end()) return;
    auto& q = qit->second;
    if (q.empty()) {
      queues_.erase(qit);
      return;
    }
    std::vector<Outgoing> run;
    std::size_t bytes = 0;
    if (q.front().aggregatable) {
      while (!q.empty() && q.front().aggregatable && run.size() < kMaxAggregated &&
             bytes + q.front().object.size() <= kMaxAggregatedBytes) {
        bytes += q.front().object.size();
        run.push_back(std::move(q.front()));
        q.pop_front();
      }
    }
    if (run.empty()) {
      run.push_back(std::move(q.front()));
      q.pop_front();
    }
    std::string body;
    if (run.size() == 1) {
      if (run[0].seg_number != 0) {
        sent_.Sent(run[0].ue, run[0].seg_id, run[0].seg_number, run[0].object,
                   std::chrono::steady_clock::now());
      }
      body = WithMsgType(run[0].type, run[0].object);
    } else {
      body = "{\"msgType\":\"MSG\",\"aggregated\":[";
      for (std::size_t i = 0; i < run.size(); ++i) {
        if (i > 0) body += ',';
        body += run[i].object;
      }
      body += "]}";
      if (aggregated_ != nullptr) aggregated_->Increment(static_cast<double>(run.size()));
    }
    std::vector<std::function<void(DeliveryResult)>> dones;
    for (auto& o : run) dones.push_back(std::move(o.done));
    busy_.insert(endpoint);
    SendToUe(endpoint, run[0].ue, std::move(body),
             [this, endpoint, dones = std::move(dones)](DeliveryResult r) {
               for (const auto& d : dones) d(r);
               busy_.erase(endpoint);
               Pump(endpoint);
             });
  }

  // Fails (or requeues) everything queued for `endpoint` that has not been sent.
  void DrainQueue(const std::string& endpoint, DeliveryResult r) {
    auto qit = queues_.find(endpoint);
    if (qit == queues_.end()) return;
    auto items = std::move(qit->second);
    queues_.erase(qit);
    for (auto& o : items) o.done(r);
  }

  // How a UE endpoint is reached: a libcoap session (DTLS, or UDP on libcoap), referenced while
  // kept, or an address on our own UDP endpoint.
  struct Peer {
    coap_session_t* session = nullptr;
    UdpPeer udp;
  };
  static bool SamePeer(const Peer& a, const Peer& b) {
    return a.session == b.session && (a.session != nullptr || a.udp.Key() == b.udp.Key());
  }
  static void Release(const Peer& p) {
    if (p.session != nullptr) coap_session_release(p.session);
  }

  // A request whose body is whole, whichever transport it came on, and how to answer it: `now`
  // during the handling call, or the function `later(msgType)` returns, from any thread.
  struct Req {
    Peer peer;
    std::string endpoint;  // "coap://ip:port" / "coaps://ip:port"
    std::string identity;  // the DTLS identity; empty on plain UDP
    bool pki = false;      // came on the certificate endpoint
    std::function<void(std::string_view type, Answer)> now;
    std::function<std::function<void(Answer)>(std::string type)> later;
  };

  struct PendingKey {
    coap_session_t* session;
    std::string token;
    bool operator<(const PendingKey& o) const {
      return std::tie(session, token) < std::tie(o.session, o.token);
    }
  };
  struct Pending {
    std::string ue;
    std::string endpoint;
    std::function<void(DeliveryResult)> done;
    std::chrono::steady_clock::time_point sent_at = std::chrono::steady_clock::now();
  };

  void Wake() {
    std::uint64_t one = 1;
    if (wake_ >= 0) [[maybe_unused]] auto n = write(wake_, &one, sizeof(one));
  }

  void Loop() {
    while (!stopping_.load()) {
      // libcoap arms a timerfd inside its own epoll fd for its deadlines, which wakes ours.
      epoll_event events[4];
      int n = epoll_wait(epoll_, events, 4, SleepMs());
      more_io_ = false;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd != wake_) continue;
        std::uint64_t v;
        [[maybe_unused]] auto r = read(wake_, &v, sizeof(v));
        std::deque<std::function<void()>> work;
        {
          std::lock_guard<std::mutex> lock(mu_);
          work.swap(inbox_);
        }
        for (auto& fn : work) fn();
      }
      if (own_udp_ != nullptr) {
        // A bounded batch per pass, so that posted work (the fsync's answers) is not starved.
        if (own_udp_->ReadSome(1024)) more_io_ = true;
        own_udp_->RunTimers(std::chrono::steady_clock::now());
      }
      Drain(ctx_, timing_[0]);
      if (ctx_pki_ != nullptr) Drain(ctx_pki_, timing_[1]);
      RecoverSegments();
    }
  }

  // libcoap's time-driven step (coap_io_prepare_epoll: retransmissions, separate responses
  // triggered with coap_async_trigger, block-wise and session expiry) walks every session.
  // coap_io_process runs it per datagram, and libcoap's timer (set to "now" by every trigger)
  // asks for it per answer: with 10,000 awake UEs that was a third to a half of all CPU in a wake
  // burst. So it runs at most every kPrepareEvery while its timer asks for it, and every 100 ms
  // regardless; datagrams are read as they come.
  static constexpr std::chrono::milliseconds kPrepareEvery{2};
  struct Timing {
    std::chrono::steady_clock::time_point last_prepare{};
    bool due = true;  // libcoap's timer fired since the last prepare
    std::size_t repeat = 1;  // times each socket event is handed to libcoap (Drain)
  };

  // Reads datagrams from `c`'s sockets (64 rounds at most), then runs libcoap's time-driven step
  // if due.
  //
  // libcoap reads one datagram per socket event it is given, and every coap_io_do_epoll call ends
  // with a walk over all sessions (docs/coap.md, "Cost with many UEs"). So each socket event is
  // handed over t.repeat times in one call: up to that many datagrams per walk. t.repeat adapts:
  // doubled (up to 64) while a socket is still readable after a round, so more were waiting;
  // halved (down to 1) when a round drained it, so few reads find the socket empty.
  void Drain(coap_context_t* c, Timing& t) {
    const int fd = coap_context_get_coap_fd(c);
    epoll_event ev[16];
    std::vector<epoll_event> batch;
    int round = 0;
    bool readable_before = false;
    for (; round < 64; ++round) {
      int k = epoll_wait(fd, ev, 16, 0);
      if (k <= 0) break;
      bool io = false;
      batch.clear();
      for (int i = 0; i < k; ++i) {
        if (ev[i].data.ptr == nullptr) {
          t.due = true;  // libcoap's timerfd: it stays readable until prepare re-arms it
          batch.push_back(ev[i]);
        } else {
          io = true;
          batch.insert(batch.end(), t.repeat, ev[i]);
        }
      }
      if (!io) break;
      if (readable_before) t.repeat = std::min<std::size_t>(t.repeat * 2, 64);
      readable_before = true;
      batched_reads = true;
      coap_io_do_epoll(c, batch.data(), batch.size());
      batched_reads = false;
    }
    // Read until nothing was left: the last round's reads went partly to an empty socket.
    if (readable_before && round < 64) t.repeat = std::max<std::size_t>(t.repeat / 2, 1);
    if (round == 64) more_io_ = true;  // (edge-triggered: nothing would wake us for the rest)
    const auto now = std::chrono::steady_clock::now();
    if (t.due ? now - t.last_prepare < kPrepareEvery
              : now - t.last_prepare < std::chrono::milliseconds(100)) {
      return;
    }
    t.last_prepare = now;
    t.due = false;
    coap_tick_t ticks;
    coap_ticks(&ticks);
    coap_io_prepare_epoll(c, ticks);
  }

  // How long the loop may sleep: until a deferred prepare is allowed, or the fallbacks.
  int SleepMs() const {
    if (more_io_) return 0;
    int ms = inbound_.size() > 0 ? 250 : 100;
    const auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < (ctx_pki_ != nullptr ? 2 : 1); ++i) {
      const Timing& t = timing_[i];
      auto next = t.last_prepare + (t.due ? kPrepareEvery : std::chrono::milliseconds(100));
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
      ms = std::min<int>(ms, static_cast<int>(std::max<std::int64_t>(left, 0)));
    }
    if (own_udp_ != nullptr && own_udp_->NextDeadline() != UdpEndpoint::Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(own_udp_->NextDeadline() - now);
      ms = std::min<int>(ms, static_cast<int>(std::max<std::int64_t>(left.count() + 1, 0)));
    }
    return ms;
  }

  void Count(std::string_view type, coap_pdu_code_t code) {
    if (requests_ == nullptr) return;
    int cls = static_cast<int>(code) >> 5;
    requests_->Add({{"msg_type", std::string(type)}, {"class", std::to_string(cls) + ".xx"}})
        .Increment();
  }

  // Keeps the session the UE was last heard on: deliveries go out over it (its NAT binding).
  void RememberSession(const std::string& endpoint, const Peer& p) {
    auto [it, fresh] = sessions_.try_emplace(endpoint, p);
    if (!fresh) {
      if (SamePeer(it->second, p)) return;
      Release(it->second);
      it->second = p;
    }
    if (p.session == nullptr) return;  // our own UDP endpoint: an address, nothing to hold
    coap_session_t* s = p.session;
    coap_session_reference(s);
    // NSTART stays 1 (RFC 7252 §4.7): one outstanding confirmable message per UE, so a lost and
    // retransmitted one is never overtaken and the UE sees our priority order. (A separate
    // response may therefore wait for the ACK of a message we sent just before.)
    coap_fixed_point_t t{static_cast<uint16_t>(options_.ack_timeout.count() / 1000),
                         static_cast<uint16_t>(options_.ack_timeout.count() % 1000)};
    coap_session_set_ack_timeout(s, t);
    coap_session_set_max_retransmit(s, static_cast<uint16_t>(options_.max_retransmit));
  }

  // `ue` is now reached at `endpoint` (the broker's routes say so already: this runs after its
  // REG or contact was stored): what still waits for an answer at an older endpoint will never get
  // one (that socket is gone), so the engine sends it again at once, to the new one; and the old
  // session is let go.
  void Moved(const std::string& ue, const std::string& endpoint) {
    auto [it_ue, fresh] = ue_endpoint_.try_emplace(ue, endpoint);
    if (!fresh && it_ue->second != endpoint) {
      if (auto old = sessions_.find(it_ue->second); old != sessions_.end()) {
        Release(old->second);
        sessions_.erase(old);
      }
      it_ue->second = endpoint;
    }
    std::vector<std::string> stale;
    for (const auto& [ep, q] : queues_) {
      if (ep != endpoint && !q.empty() && q.front().ue == ue) stale.push_back(ep);
    }
    for (const auto& ep : stale) {
      DrainQueue(ep, {DeliveryResult::Kind::kRequeue, {}, "the UE moved to another endpoint"});
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.ue == ue && it->second.endpoint != endpoint) {
        auto done = std::move(it->second.done);
        it = pending_.erase(it);
        done({DeliveryResult::Kind::kRequeue, {}, "the UE moved to another endpoint"});
      } else {
        ++it;
      }
    }
  }

  void ForgetSession(coap_session_t* s) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.session == s) {
        coap_session_release(s);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // --- contexts ---

  // A libcoap context with our handlers and the /msgin5g resource. Block mode is set before any
  // session exists (libcoap requires it).
  coap_context_t* NewContext() {
    coap_context_t* c = coap_new_context(nullptr);
    if (c == nullptr) return nullptr;
    coap_set_app_data(c, this);
    // Per-block mode, not COAP_BLOCK_SINGLE_BODY: libcoap 4.3.1's single-body reassembly
    // crashes on an empty Block1 transfer (a NULL body, two datagrams suffice). libcoap still
    // answers 2.31 and sends our large requests block-wise; InboundBlocks puts bodies together.
    coap_context_set_block_mode(c, COAP_BLOCK_USE_LIBCOAP);
    coap_context_set_max_idle_sessions(c, 100000);
    coap_context_set_max_handshake_sessions(c, 1000);
    coap_register_response_handler(c, &Impl::OnResponse);
    coap_register_nack_handler(c, &Impl::OnNack);
    coap_register_event_handler(c, &Impl::OnEvent);
    coap_resource_t* r = coap_resource_init(coap_make_str_const("msgin5g"), 0);
    coap_register_request_handler(r, COAP_REQUEST_POST, &Impl::OnPost);
    // Every other method on /msgin5g, and any method on any other path, is answered with a
    // ProblemDetails of ours (libcoap's own 4.05 / 4.04 carry no body a UE could act on).
    for (coap_request_t m : kOtherMethods) coap_register_request_handler(r, m, &Impl::OnOtherMethod);
    coap_add_resource(c, r);
    coap_resource_t* unknown = coap_resource_unknown_init(&Impl::OnUnknownResource);
    for (coap_request_t m : kOtherMethods) {
      coap_register_request_handler(unknown, m, &Impl::OnUnknownResource);
    }
    coap_register_request_handler(unknown, COAP_REQUEST_POST, &Impl::OnUnknownResource);
    coap_add_resource(c, unknown);
    return c;
  }

  // DTLS with certificates: a second context (PSK and PKI cannot share one in libcoap 4.3.1's
  // OpenSSL flavour), driven by the same thread. UEs must present a certificate that chains to
  // dtls_ca_file; its name (OnCertIdentity) is the UE it may act for.
  Status StartCertEndpoint() {
    if (!coap_dtls_is_supported()) return Status::InvalidArgument("coap: libcoap has no DTLS");
    for (const std::string* f :
         {&options_.dtls_cert_file, &options_.dtls_key_file, &options_.dtls_ca_file}) {
      if (f->empty() || access(f->c_str(), R_OK) != 0) {
        return Status::InvalidArgument("coap: cannot read '" + *f +
                                       "' (coap.dtls_cert_file, dtls_key_file, dtls_ca_file)");
      }
    }
    ctx_pki_ = NewContext();
    if (ctx_pki_ == nullptr) return Status::Internal("coap: cannot create a context");
    coap_dtls_pki_t pki{};
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;
    pki.check_common_ca = 1;  // the UE's certificate must chain to dtls_ca_file
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 3;
    pki.validate_cn_call_back = &Impl::OnCertIdentity;
    pki.cn_call_back_arg = this;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.ca_file = options_.dtls_ca_file.c_str();
    pki.pki_key.key.pem.public_cert = options_.dtls_cert_file.c_str();
    pki.pki_key.key.pem.private_key = options_.dtls_key_file.c_str();
    if (coap_context_set_pki(ctx_pki_, &pki) != 1) {
      return Status::InvalidArgument("coap: cannot set up DTLS certificates from " +
                                     options_.dtls_cert_file + " / " + options_.dtls_key_file);
    }
    auto a = ToCoapAddress(options_.dtls_cert_listen);
    if (!a.ok()) return Status::InvalidArgument("coap.dtls_cert_listen: " + a.status().message());
    dtls_cert_ = coap_new_endpoint(ctx_pki_, &*a, COAP_PROTO_DTLS);
    if (dtls_cert_ == nullptr) {
      return Status::Unavailable("coap: cannot listen on dtls " + options_.dtls_cert_listen);
    }
    return Status::Ok();
  }

  // libcoap calls this for each certificate of the chain after its own checks; `cn` is the
  // subjectAltName if the certificate has one, else the CN. The leaf's is the UE's identity.
  // A leaf without a usable name is refused: an authenticated session must name its UE (an
  // empty identity would be taken for plain UDP, which may act for any UE).
  static int OnCertIdentity(const char* cn, const uint8_t*, size_t, coap_session_t* s,
                            unsigned depth, int validated, void* arg) {
    if (!validated) return 0;
    if (depth != 0) return 1;
    if (s == nullptr || cn == nullptr || BadId(cn)) {
      LOG_WARN("coap", "a UE certificate without a usable name (subjectAltName or CN) refused");
      return 0;
    }
    static_cast<Impl*>(arg)->cert_identity_[s] = cn;
    return 1;
  }

  // The authenticated identity of a DTLS peer (PSK identity or certificate name); empty on UDP.
  std::string PeerIdentity(coap_session_t* s) const {
    if (const coap_bin_const_t* id = coap_session_get_psk_identity(s); id != nullptr && id->length) {
      return std::string(reinterpret_cast<const char*>(id->s), id->length);
    }
    auto it = cert_identity_.find(s);
    return it == cert_identity_.end() ? std::string() : it->second;
  }

  // --- segment recovery (docs/coap.md "Segments") ---

  // Sends a control message (SEGREC, SEGCONFIR) to `ue` at its current endpoint, in its queue.
  bool SendControl(const std::string& ue, const char* type, json::object object,
                   std::function<void(DeliveryResult)> done) {
    auto e = ue_endpoint_.find(ue);
    if (e == ue_endpoint_.end()) return false;  // deregistered meanwhile
    Outgoing o;
    o.ue = ue;
    o.object = json::serialize(object);
    o.type = type;
    o.done = std::move(done);
    queues_[e->second].push_back(std::move(o));
    Pump(e->second);
    return true;
  }

  void Act(const InboundSegments::Action& a) {
    using Kind = InboundSegments::Action::Kind;
    json::object o{{"segId", a.seg_id}};
    json::array missing;
    for (auto n : a.missing) missing.push_back(n);
    if (a.kind == Kind::kRequest) {
      o["missingSegs"] = std::move(missing);
      if (SendControl(a.ue, "SEGREC", std::move(o),
                      [this, ue = a.ue, seg_id = a.seg_id](DeliveryResult r) {
                        // A UE that refuses (it no longer has the set) is not asked again.
                        if (r.kind == DeliveryResult::Kind::kPermanent) inbound_.Forget(ue, seg_id);
                      })) {
        CountRecovery("segrec_sent");
      }
      return;
    }
    o["result"] = a.kind == Kind::kConfirmSuccess ? "SUCCESS" : "FAILURE";
    if (a.kind == Kind::kConfirmFailure) o["missingSegs"] = std::move(missing);
    CountRecovery(a.kind == Kind::kConfirmSuccess ? "recovered" : "given_up");
    SendControl(a.ue, "SEGCONFIR", std::move(o), [](DeliveryResult) {});
  }

  // At most every 100 ms (the loop wakes per datagram; Due walks every open set).
  void RecoverSegments() {
    if (inbound_.size() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_recovery_scan_ < std::chrono::milliseconds(100)) return;
    last_recovery_scan_ = now;
    for (const auto& a : inbound_.Due(now)) Act(a);
  }

  void CountRecovery(const char* what) {
    if (recovery_ != nullptr) recovery_->Add({{"event", what}}).Increment();
  }

  // --- requests from UEs ---

  static void OnPost(coap_resource_t* resource, coap_session_t* s, const coap_pdu_t* req,
                     const coap_string_t* query, coap_pdu_t* resp) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
    coap_bin_const_t token = coap_pdu_get_token(req);
    if (coap_async_t* a = coap_find_async(s, token)) {
      // Triggered: the answer is ready. libcoap frees the async itself after this call.
      auto* answer = static_cast<Answer*>(coap_async_get_app_data(a));
      coap_async_set_app_data(a, nullptr);
      if (answer == nullptr) {
        coap_pdu_set_code(resp, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(500)));
        return;
      }
      self->Respond(resource, s, req, query, resp, std::move(*answer));
      delete answer;
      return;
    }
    self->Handle(resource, s, req, query, resp);
  }

  static constexpr coap_request_t kOtherMethods[] = {COAP_REQUEST_GET,   COAP_REQUEST_PUT,
                                                     COAP_REQUEST_DELETE, COAP_REQUEST_FETCH,
                                                     COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH};

  static void OnOtherMethod(coap_resource_t* resource, coap_session_t* s, const coap_pdu_t* req,
                            const coap_string_t* query, coap_pdu_t* resp) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
    Answer a = Problem(405, cause::kMethodNotAllowed, "/msgin5g takes POST only");
    self->Count("unknown", a.code);
    self->Respond(resource, s, req, query, resp, std::move(a));
  }

  static void OnUnknownResource(coap_resource_t* resource, coap_session_t* s, const coap_pdu_t* req,
                                const coap_string_t* query, coap_pdu_t* resp) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
    Answer a = Problem(404, cause::kResourceUriStructureNotFound,
                       "no such resource: MSGin5G-1 requests are POST /msgin5g");
    self->Count("unknown", a.code);
    self->Respond(resource, s, req, query, resp, std::move(a));
  }

  void Respond(coap_resource_t* resource, coap_session_t* s, const coap_pdu_t* req,
               const coap_string_t* query, coap_pdu_t* resp, Answer answer) {
    coap_pdu_set_code(resp, answer.code);
    auto* body = new std::string(std::move(answer.body));
    // Overload (5.03) and rate limits (4.29) say when to come back in Max-Age (RFC 8516), as the
    // SBI does in Retry-After.
    const bool retry_later = answer.code == COAP_RESPONSE_CODE(503) ||
                             answer.code == COAP_RESPONSE_CODE(429);
    const int max_age = retry_later ? http::RetryAfterSeconds() : -1;
    coap_add_data_large_response(resource, s, req, resp, query, COAP_MEDIATYPE_APPLICATION_JSON, max_age,
                                 0, body->size(), reinterpret_cast<const uint8_t*>(body->data()),
                                 FreeString, body);
  }

  // Answers later, from any thread: registers an RFC 7252 separate response and returns the
  // function that completes it.
  std::function<void(Answer)> Later(coap_session_t* s, const coap_pdu_t* req, std::string type) {
    coap_bin_const_t t = coap_pdu_get_token(req);
    std::string token(reinterpret_cast<const char*>(t.s), t.length);
    if (coap_register_async(s, req, 0) == nullptr) return nullptr;
    coap_session_reference(s);
    later_refs_.insert(s);
    return [this, s, token = std::move(token), type = std::move(type)](Answer a) {
      Post([this, s, token, type, a = std::move(a)]() mutable {
        auto ref = later_refs_.find(s);
        if (ref == later_refs_.end()) return;  // released by Stop
        later_refs_.erase(ref);
        coap_bin_const_t tk{token.size(), reinterpret_cast<const uint8_t*>(token.data())};
        Count(type, a.code);
        if (!stopping_.load()) {
          if (coap_async_t* as = coap_find_async(s, tk)) {
            coap_async_set_app_data(as, new Answer(std::move(a)));
            coap_async_trigger(as);
          }
        }
        coap_session_release(s);
      });
    };
  }

  // A MSG or IMDN is also "the UE is awake here": that is recorded first (NotFound: the UE is
  // not registered, so nothing is stored and its session is not kept), then `submit` runs with
  // the function that answers. `s` stays alive until the answer (Later holds a reference).
  void ContactThen(const Peer& s, const std::string& ue, const std::string& endpoint,
                   bool authenticated, std::function<void(Answer)> done,
                   std::function<void(std::function<void(Answer)>)> submit) {
    last_heard_[ue] = std::chrono::steady_clock::now();
    // Over DTLS the peer is authenticated and may move (a new NAT binding); over plain UDP the
    // source address is the only evidence, so it must be the one the UE registered from.
    broker_.UeContact(ue, endpoint, /*may_move=*/authenticated,
                      [this, s, ue, endpoint, done = std::move(done),
                       submit = std::move(submit)](Status st) mutable {
      if (!st.ok()) {
        // if/else rather than one ?: chain of temporaries (g++ 12 -Wmaybe-uninitialized on it).
        if (st.code() == StatusCode::kNotFound) {
          return done(Problem(403, cause::kOriginatorNotAllowed,
                              "UE " + ue + " is not registered (send REG first)",
                              {{"/oriAddr", "not registered"}}));
        }
        if (st.code() == StatusCode::kPermissionDenied) {
          return done(Problem(403, cause::kOriginatorNotAllowed, st.message(),
                              {{"/oriAddr", "registered at another address"}}));
        }
        return done(FromResponse(http::ProblemFromStatus(st)));
      }
      Post([this, ue, endpoint, s] {
        RememberSession(endpoint, s);
        Moved(ue, endpoint);
      });
      submit(std::move(done));
    });
  }

  // The broker's answer to a MSG or IMDN as a CoAP answer: MSGRESP with `ok_code`, or the problem.
  static std::function<void(Result<broker::AcceptOutcome>)> Acked(std::function<void(Answer)> done,
                                                                   sbi::Address ori,
                                                                   std::string msg_id,
                                                                   coap_pdu_code_t ok_code) {
    return [done = std::move(done), ori = std::move(ori), msg_id = std::move(msg_id),
            ok_code](Result<broker::AcceptOutcome> out) {
      if (!out.ok()) return done(FromResponse(MessageError(out.status())));
      done({ok_code, WithMsgType("MSGRESP", MessageAck(ori, msg_id, *out).body)});
    };
  }

  // Wraps the answer to a UE's MSG segment: once the segment is stored (2.xx) the recovery
  // tracker learns of it (on the I/O thread).
  std::function<void(Answer)> TrackSegment(const std::string& ue, const broker::SegmentInfo& seg,
                                           std::function<void(Answer)> done) {
    return [this, ue, seg, done = std::move(done)](Answer a) {
      const bool stored = (static_cast<int>(a.code) >> 5) == 2;
      done(std::move(a));  // first: its separate response leaves before any SEGCONFIR
      if (!stored) return;
      Post([this, ue, seg] {
        const std::uint32_t total = seg.total != 0 ? seg.total : seg.last ? seg.number : 0;
        auto acts = inbound_.Stored(ue, seg.segment_id, total, seg.number,
                                    std::chrono::steady_clock::now());
        if (acts.empty()) return;
        // On the next pass, after coap_io_process has sent the answer triggered in this one
        // (NSTART 1: a SEGCONFIR sent first would hold the 2.01 back behind it).
        Post([this, acts = std::move(acts)] {
          for (const auto& act : acts) Act(act);
        });
      });
    };
  }

  // Why a peer with DTLS `identity` (empty: plain UDP) may not act for `ue`, or "" if it may. A
  // DTLS peer is its identity; a UE that has a DTLS-PSK key configured must use it (otherwise
  // anyone on the UDP port could register or send as it).
  std::string ActAsRefusal(const std::string& identity, const std::string& ue) const {
    if (!identity.empty()) {
      return identity == ue ? std::string() : "DTLS identity " + identity + " may not act for " + ue;
    }
    std::string key;
    if (options_.psk_lookup && options_.psk_lookup(ue, &key)) {
      return "UE " + ue + " has a DTLS key: it must use coaps:// with it";
    }
    return {};
  }

  // A string member that must be there: "" and the problem if it is missing or not an id.
  static std::optional<Answer> BadIdMember(const json::object& o, const char* name,
                                           std::string* out) {
    const auto* v = o.if_contains(name);
    const std::string where = std::string("/") + name;
    if (v == nullptr) {
      return Problem(400, cause::kMandatoryIeMissing, std::string(name) + " is required",
                     {{where, "is required"}});
    }
    if (!v->is_string() || BadId(v->as_string())) {
      return Problem(400, cause::kMandatoryIeIncorrect,
                     std::string(name) + " must be a string of 1..1024 bytes, no control characters",
                     {{where, "must be a string of 1..1024 bytes, no control characters"}});
    }
    *out = std::string(v->as_string());
    return std::nullopt;
  }

  // A UE's SEGREC (send these segments of a set you sent me again) or SEGCONFIR (I have the set,
  // or gave it up). Answered at once; nothing is stored. Only from the UE's current endpoint.
  Answer SegmentControl(const std::string& type, const json::object& o, const std::string& identity,
                        const std::string& endpoint) {
    std::string ue, seg_id;
    if (auto bad = BadIdMember(o, "ueSvcId", &ue)) return *bad;
    if (auto why = ActAsRefusal(identity, ue); !why.empty()) {
      return Problem(403, cause::kOriginatorNotAllowed, why);
    }
    auto at = ue_endpoint_.find(ue);
    if (at == ue_endpoint_.end() || at->second != endpoint) {
      return Problem(403, cause::kOriginatorNotAllowed,
                     "UE " + ue + " is not registered at this address (send REG first)");
    }
    if (auto bad = BadIdMember(o, "segId", &seg_id)) return *bad;
    if (type == "SEGCONFIR") {
      const std::string result = StringMember(o, "result");
      if (result != "SUCCESS" && result != "FAILURE") {
        return Problem(400, cause::kMandatoryIeIncorrect, "result must be SUCCESS or FAILURE",
                       {{"/result", "must be SUCCESS or FAILURE"}});
      }
      sent_.Forget(ue, seg_id);  // the UE needs none of it any more
      return {COAP_RESPONSE_CODE_CHANGED,
              json::serialize(json::object{{"msgType", "SEGCONFIR"}, {"segId", seg_id}})};
    }
    const auto* list = o.if_contains("missingSegs");
    if (list == nullptr || !list->is_array() || list->as_array().empty() ||
        list->as_array().size() > 1024) {
      return Problem(400, cause::kMandatoryIeIncorrect,
                     "missingSegs must be an array of 1 to 1024 segment numbers",
                     {{"/missingSegs", "must be an array of 1 to 1024 segment numbers"}});
    }
    std::set<std::uint32_t> numbers;  // each segment once, in order
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      const auto& n = list->as_array()[i];
      if (!n.is_int64() || n.as_int64() < 1 || n.as_int64() > 65535) {
        const std::string where = "/missingSegs/" + std::to_string(i);
        return Problem(400, cause::kMandatoryIeIncorrect, where + " must be an integer in [1, 65535]",
                       {{where, "must be an integer in [1, 65535]"}});
      }
      numbers.insert(static_cast<std::uint32_t>(n.as_int64()));
    }
    sent_.Trim(std::chrono::steady_clock::now());  // nothing older than the window promises
    json::array resent, unavailable;
    std::vector<std::string> bodies;
    for (auto n : numbers) {
      if (const std::string* body = sent_.Find(ue, seg_id, n)) {
        bodies.push_back(*body);
        resent.push_back(n);
      } else {
        unavailable.push_back(n);
      }
    }
    if (auto q = queues_.find(endpoint);
        !bodies.empty() && q != queues_.end() && q->second.size() + bodies.size() > kMaxQueuedPerUe) {
      return Problem(503, cause::kNfCongestion,
                     std::to_string(q->second.size()) + " requests already wait for " + ue +
                         ": ask again later");
    }
    if (bodies.empty()) {
      return Problem(404, cause::kSegmentsNotHeld,
                     "no segment of set " + seg_id + " sent to " + ue +
                         " is still held: it cannot be recovered",
                     {{"/segId", "unknown, confirmed or expired"}});
    }
    // Sent from the next loop pass (not from inside libcoap's request handler), in the UE's queue.
    Post([this, ue, endpoint, bodies = std::move(bodies)]() mutable {
      for (auto& b : bodies) {
        Outgoing again;
        again.ue = ue;
        again.object = std::move(b);
        again.done = [](DeliveryResult) {};  // its message was finished when it first went out
        queues_[endpoint].push_back(std::move(again));
        CountRecovery("resent");
      }
      Pump(endpoint);
    });
    return {COAP_RESPONSE_CODE_CHANGED,
            json::serialize(json::object{{"msgType", "SEGREC"},
                                         {"segId", seg_id},
                                         {"resent", std::move(resent)},
                                         {"unavailable", std::move(unavailable)}})};
  }

  void Handle(coap_resource_t* resource, coap_session_t* s, const coap_pdu_t* req,
              const coap_string_t* query, coap_pdu_t* resp) {
    auto now_answer = [&](std::string_view type, Answer a) {
      Count(type, a.code);
      Respond(resource, s, req, query, resp, std::move(a));
    };
    std::size_t len = 0, offset = 0, total = 0;
    const uint8_t* data = nullptr;
    if (!coap_get_data_large(req, &len, &data, &offset, &total)) len = 0;
    coap_block_b_t block{};
    const bool blockwise = coap_get_block_b(s, req, COAP_OPTION_BLOCK1, &block) != 0;
    const std::string endpoint = EndpointOf(s);  // who is speaking: blocks, binding, sessions
    auto step = blocks_.Add(endpoint, blockwise ? offset : 0, blockwise && block.m,
                            std::string_view(reinterpret_cast<const char*>(data), len),
                            std::chrono::steady_clock::now());
    if (step.kind == InboundBlocks::Step::Kind::kContinue) {
      // libcoap has put the Block1 option on the answer; the body is not complete yet.
      coap_pdu_set_code(resp, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(231)));
      return;
    }
    if (step.kind == InboundBlocks::Step::Kind::kRefused) {
      const std::string_view c = step.status == 413   ? cause::kPayloadTooLarge
                                 : step.status == 503 ? cause::kNfCongestion
                                                      : cause::kInvalidMsgFormat;
      return now_answer("unknown", Problem(step.status, c, step.detail));
    }
    Req r;
    r.peer.session = s;
    r.endpoint = endpoint;
    // With DTLS (PSK or certificate) the identity is the UE: it may speak only for itself.
    r.identity = PeerIdentity(s);
    r.pki = ctx_pki_ != nullptr && coap_session_get_context(s) == ctx_pki_;
    r.now = now_answer;
    r.later = [&](std::string type) { return Later(s, req, std::move(type)); };
    HandleBody(r, std::move(step.body));
  }

  // A request from our own UDP endpoint: the checks libcoap's resource table and block-wise
  // layer make on the other transports, then the same handling.
  void OnUdpRequest(const UdpEndpoint::Request& in, UdpEndpoint::Exchange& ex) {
    auto answer = [&](std::string_view type, Answer a, std::optional<wire::Block> echo = {}) {
      Count(type, a.code);
      ex.Now(ToUdp(std::move(a), echo));
    };
    if (in.path != "msgin5g") {
      return answer("unknown", Problem(404, cause::kResourceUriStructureNotFound,
                                       "no such resource: MSGin5G-1 requests are POST /msgin5g"));
    }
    if (in.code != wire::kPost) {
      return answer("unknown", Problem(405, cause::kMethodNotAllowed, "/msgin5g takes POST only"));
    }
    if (in.bad_option != 0) {  // RFC 7252 §5.4.1: an unrecognised critical option is 4.02
      return answer("unknown", Problem(402, cause::kInvalidMsgFormat,
                                       "unrecognised critical option " + std::to_string(in.bad_option)));
    }
    if (in.bad_block1) {
      return answer("unknown", Problem(400, cause::kInvalidMsgFormat, "a Block1 option that does not decode"));
    }
    const std::size_t offset =
        in.block1 ? static_cast<std::size_t>(in.block1->number) * in.block1->size : 0;
    const bool more = in.block1 && in.block1->more;
    auto step = blocks_.Add(in.endpoint, offset, more, in.payload, std::chrono::steady_clock::now());
    if (step.kind == InboundBlocks::Step::Kind::kContinue) {
      UdpAnswer cont;
      cont.code = wire::kContinue;
      cont.block1 = in.block1;
      return ex.Now(std::move(cont));
    }
    std::optional<wire::Block> echo;
    if (in.block1) echo = wire::Block{in.block1->number, false, in.block1->size};
    if (step.kind == InboundBlocks::Step::Kind::kRefused) {
      const std::string_view c = step.status == 413   ? cause::kPayloadTooLarge
                                 : step.status == 503 ? cause::kNfCongestion
                                                      : cause::kInvalidMsgFormat;
      return answer("unknown", Problem(step.status, c, step.detail), echo);
    }
    Req r;
    r.peer.udp = in.peer;
    r.endpoint = in.endpoint;
    r.now = [&](std::string_view type, Answer a) { answer(type, std::move(a), echo); };
    r.later = [&](std::string type) -> std::function<void(Answer)> {
      auto fn = ex.Later();
      return [this, fn = std::move(fn), type = std::move(type), echo](Answer a) {
        Post([this, fn, type, echo, a = std::move(a)]() mutable {
          Count(type, a.code);
          fn(ToUdp(std::move(a), echo));
        });
      };
    };
    HandleBody(r, std::move(step.body));
  }

  static UdpAnswer ToUdp(Answer a, std::optional<wire::Block> echo) {
    UdpAnswer u;
    u.code = static_cast<std::uint8_t>(a.code);
    u.body = std::move(a.body);
    // Overload (5.03) and rate limits (4.29) say when to come back in Max-Age (RFC 8516).
    if (a.code == COAP_RESPONSE_CODE(503) || a.code == COAP_RESPONSE_CODE(429)) {
      u.max_age = http::RetryAfterSeconds();
    }
    u.block1 = echo;
    return u;
  }

  // A whole request body (blocks put together) from whichever transport, and how to answer it.
  void HandleBody(const Req& r, std::string body) {
    const auto& now_answer = r.now;
    const std::string& endpoint = r.endpoint;
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
      return now_answer("unknown", Problem(400, cause::kInvalidMsgFormat,
                                           "the body must be a JSON object with a msgType"));
    }
    const json::object& o = v.as_object();
    std::string type = StringMember(o, "msgType");
    const std::string& identity = r.identity;
    if (identity.empty() && r.pki) {
      // Cannot happen (OnCertIdentity refuses a nameless certificate); never taken for UDP.
      return now_answer(type, Problem(403, cause::kOriginatorNotAllowed, "no UE identity"));
    }

    if (type == "REG" || type == "DEREG") {
      std::string ue;
      if (auto bad = BadIdMember(o, "ueSvcId", &ue)) return now_answer(type, *bad);
      if (auto why = ActAsRefusal(identity, ue); !why.empty()) {
        return now_answer(type, Problem(403, cause::kOriginatorNotAllowed, why));
      }
      if (type == "DEREG") {
        auto done = r.later(type);
        if (!done) return now_answer(type, Problem(500, cause::kSystemFailure, "no async slot"));
        // Plain UDP: only from the address the UE registered from (anyone can send a DEREG).
        broker_.DeregisterUe(ue, identity.empty() ? endpoint : std::string(),
                             [this, done, ue](Status st) {
          if (st.ok()) {
            Post([this, ue] {  // a deregistered UE's session is not kept
              if (auto e = ue_endpoint_.find(ue); e != ue_endpoint_.end()) {
                if (auto found = sessions_.find(e->second); found != sessions_.end()) {
                  Release(found->second);
                  sessions_.erase(found);
                }
                blocks_.Forget(e->second);
                ue_endpoint_.erase(e);
              }
              last_heard_.erase(ue);
              inbound_.ForgetUe(ue);
            });
          }
          done(st.ok() ? Answer{COAP_RESPONSE_CODE_DELETED, "{\"msgType\":\"DEREG\",\"result\":\"SUCCESS\"}"}
               : st.code() == StatusCode::kPermissionDenied
                   ? Problem(403, cause::kOriginatorNotAllowed, st.message(),
                             {{"/ueSvcId", "registered at another address"}})
                   : FromResponse(http::ProblemFromStatus(st, st.code() == StatusCode::kNotFound
                                                                  ? cause::kUnknownRecipient
                                                                  : std::string_view())));
        });
        return;
      }
      broker::UeRegistration reg;
      reg.ue_id = ue;
      reg.endpoint = endpoint;
      reg.psk_identity = identity;  // the DTLS identity (PSK or certificate), if any
      reg.registered_ms = UnixMillis();
      reg.comm_availability = StringMember(o, "commAvail");
      if (const auto* m = o.if_contains("maxSegSize")) {
        if (!m->is_int64() || m->as_int64() < 64 || m->as_int64() > 65536) {
          return now_answer(type, Problem(400, cause::kOptionalIeIncorrect,
                                          "maxSegSize must be an integer in [64, 65536]",
                                          {{"/maxSegSize", "must be an integer in [64, 65536]"}}));
        }
        reg.max_segment_bytes = static_cast<std::uint32_t>(m->as_int64());
      }
      // A refused REG (e.g. past broker.max_ue_registrations) keeps nothing it added here.
      const bool new_session = sessions_.count(endpoint) == 0;
      const bool new_ue = last_heard_.count(ue) == 0;
      RememberSession(endpoint, r.peer);
      last_heard_[ue] = std::chrono::steady_clock::now();
      auto done = r.later(type);
      if (!done) return now_answer(type, Problem(500, cause::kSystemFailure, "no async slot"));
      broker_.RegisterUe(std::move(reg), [this, done, ue, endpoint, peer = r.peer, new_session,
                                          new_ue](Status st) {
        if (!st.ok()) {
          Post([this, ue, endpoint, peer, new_session, new_ue] {
            if (new_ue && ue_endpoint_.count(ue) == 0) last_heard_.erase(ue);
            if (auto it = sessions_.find(endpoint);
                new_session && it != sessions_.end() && SamePeer(it->second, peer)) {
              Release(it->second);
              sessions_.erase(it);
            }
          });
          return done(FromResponse(http::ProblemFromStatus(st)));
        }
        Post([this, ue, endpoint] { Moved(ue, endpoint); });
        json::object a;
        a["msgType"] = "REG";
        a["ueSvcId"] = ue;
        a["result"] = json::object{{"status", 201}, {"cause", "SUCCESS"}};
        done({COAP_RESPONSE_CODE_CREATED, json::serialize(a)});
      });
      return;
    }

    if (type == "MSG") {
      auto decoded = sbi::DecodeUEMessageDelivery(body);
      if (!decoded.ok()) {
        const auto& e = decoded.error;
        return now_answer(type, Problem(400, e.cause, e.detail, e.invalid_params));
      }
      auto mapped = UeMessageToBroker(*decoded.value, broker::Ingress::kUe);
      if (auto* bad = std::get_if<Response>(&mapped)) return now_answer(type, FromResponse(*bad));
      broker::Message m = std::move(std::get<broker::Message>(mapped));
      if (auto why = ActAsRefusal(identity, m.origin.id); !why.empty()) {
        return now_answer(type, Problem(403, cause::kOriginatorNotAllowed, why,
                                        {{"/oriAddr", "not this UE"}}));
      }
      auto done = r.later(type);
      if (!done) return now_answer(type, Problem(500, cause::kSystemFailure, "no async slot"));
      const std::string ue = m.origin.id;  // a copy: `m` moves into the lambda below
      if (m.segment && options_.segment_recovery_requests > 0) done = TrackSegment(ue, *m.segment, done);
      ContactThen(r.peer, ue, endpoint, !identity.empty(), std::move(done),
                  [this, m = std::move(m), ori = decoded.value->oriAddr](
                      std::function<void(Answer)> answer) mutable {
                    std::string msg_id = m.msg_id;
                    broker_.SubmitMessage(std::move(m),
                                          Acked(std::move(answer), ori, msg_id,
                                                COAP_RESPONSE_CODE_CREATED));
                  });
      return;
    }

    if (type == "IMDN") {
      auto decoded = sbi::DecodeDeliveryStatusReport(body);
      if (!decoded.ok()) {
        const auto& e = decoded.error;
        return now_answer(type, Problem(400, e.cause, e.detail, e.invalid_params));
      }
      auto mapped = ReportToBroker(*decoded.value);
      if (auto* bad = std::get_if<Response>(&mapped)) return now_answer(type, FromResponse(*bad));
      broker::Report rep = std::move(std::get<broker::Report>(mapped));
      if (rep.origin.type != broker::AddressType::kUe ||
          !ActAsRefusal(identity, rep.origin.id).empty()) {
        return now_answer(type, Problem(403, cause::kOriginatorNotAllowed,
                                        "a UE reports as itself (oriAddr UE)",
                                        {{"/oriAddr", "must be this UE"}}));
      }
      auto done = r.later(type);
      if (!done) return now_answer(type, Problem(500, cause::kSystemFailure, "no async slot"));
      const std::string ue = rep.origin.id;  // a copy: `rep` moves into the lambda below
      ContactThen(r.peer, ue, endpoint, !identity.empty(), std::move(done),
                  [this, rep = std::move(rep), ori = decoded.value->oriAddr](
                      std::function<void(Answer)> answer) mutable {
                    std::string msg_id = rep.msg_id;
                    broker_.SubmitReport(std::move(rep),
                                         Acked(std::move(answer), ori, msg_id,
                                               COAP_RESPONSE_CODE_CHANGED));
                  });
      return;
    }

    if (type == "SEGREC" || type == "SEGCONFIR") {
      return now_answer(type, SegmentControl(type, o, identity, endpoint));
    }
    if (type == "MSGRESP") {
      // A UE answers our MSG in the CoAP response; a MSGRESP sent as a request carries nothing new.
      return now_answer(type, {COAP_RESPONSE_CODE_CHANGED, "{}"});
    }
    now_answer("unknown",
               Problem(400, cause::kMandatoryIeIncorrect,
                       type.empty() ? std::string("msgType is required")
                                    : "unknown msgType '" + Shortened(type) +
                                          "' (REG, DEREG, MSG, IMDN, MSGRESP, SEGREC, SEGCONFIR)",
                       {{"/msgType", "must be REG, DEREG, MSG, IMDN, MSGRESP, SEGREC or SEGCONFIR"}}));
  }

  // --- requests to UEs ---

  void SendToUe(const std::string& endpoint, const std::string& ue, std::string body,
                std::function<void(DeliveryResult)> done) {
    auto it = sessions_.find(endpoint);
    if (it == sessions_.end()) {
      // No session to reach it through (after a restart, or the DTLS session closed): it must
      // contact us first.
      broker_.UeUnreachable(ue);
      done({DeliveryResult::Kind::kTransient, {}, "UE has no CoAP session: waiting for it"});
      return;
    }
    if (it->second.session == nullptr) {
      // Our own UDP endpoint: it retransmits, and goes block-wise past one block.
      PendingKey key{nullptr, std::to_string(++own_sends_)};
      pending_[key] = {ue, endpoint, std::move(done)};
      own_udp_->Send(it->second.udp, std::move(body), [this, key](UdpEndpoint::Outcome o) {
        auto p = pending_.find(key);
        if (p == pending_.end()) return;  // settled meanwhile (the UE moved, or went to sleep)
        if (o.answered || o.acked) {
          // Acknowledged but never answered: the UE is awake (no parking), the message is tried
          // again later.
          auto d = std::move(p->second.done);
          pending_.erase(p);
          return d(o.answered ? ResultOfCode(o.code)
                              : DeliveryResult{DeliveryResult::Kind::kTransient, {},
                                               "UE acknowledged but did not answer"});
        }
        NoAnswer(p, o.reset ? "UE unreachable" : "UE did not answer");
      });
      return;
    }
    coap_session_t* s = it->second.session;
    coap_pdu_t* pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, s);
    if (pdu == nullptr) {
      done({DeliveryResult::Kind::kTransient, {}, "coap: cannot make a PDU"});
      return;
    }
    uint8_t tok[8];
    size_t tl = 0;
    coap_session_new_token(s, &tl, tok);
    coap_add_token(pdu, tl, tok);
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 7, reinterpret_cast<const uint8_t*>("msgin5g"));
    uint8_t cf[4];
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(cf, sizeof(cf), COAP_MEDIATYPE_APPLICATION_JSON), cf);
    auto* data = new std::string(std::move(body));
    coap_add_data_large_request(s, pdu, data->size(), reinterpret_cast<const uint8_t*>(data->data()),
                                FreeString, data);
    PendingKey key{s, std::string(reinterpret_cast<const char*>(tok), tl)};
    pending_[key] = {ue, endpoint, std::move(done)};
    if (coap_send(s, pdu) == COAP_INVALID_MID) {
      auto p = pending_.find(key);
      if (p != pending_.end()) {
        auto d = std::move(p->second.done);
        pending_.erase(p);
        d({DeliveryResult::Kind::kTransient, {}, "coap: send failed"});
      }
    }
  }

  // The request outstanding on `s` with `token`. Block-wise transfers put libcoap's own tokens on
  // the blocks (a NACK reports one of those), so failing an exact match the session's one
  // outstanding request is it (Pump keeps one per UE endpoint, i.e. per session).
  std::map<PendingKey, Pending>::iterator FindPending(coap_session_t* s, coap_bin_const_t t) {
    auto it = pending_.find({s, std::string(reinterpret_cast<const char*>(t.s), t.length)});
    if (it != pending_.end()) return it;
    for (it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first.session == s) return it;
    }
    return pending_.end();
  }

  static coap_response_t OnResponse(coap_session_t* s, const coap_pdu_t*, const coap_pdu_t* received,
                                    const coap_mid_t) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
    auto it = self->FindPending(s, coap_pdu_get_token(received));
    if (it == self->pending_.end()) return COAP_RESPONSE_OK;
    auto done = std::move(it->second.done);
    self->pending_.erase(it);
    done(ResultOfCode(coap_pdu_get_code(received)));
    return COAP_RESPONSE_OK;
  }

  // A UE's answer to our request: 2.xx delivered; 4.xx (but 4.08, 4.29) refused for good.
  static DeliveryResult ResultOfCode(int code) {
    const int cls = code >> 5;
    std::string detail = "CoAP " + std::to_string(cls) + "." + (code % 32 < 10 ? "0" : "") +
                         std::to_string(code % 32);
    if (cls == 2) return {DeliveryResult::Kind::kDelivered, {}, ""};
    if (cls == 4 && code != COAP_RESPONSE_CODE(429) && code != COAP_RESPONSE_CODE(408)) {
      return {DeliveryResult::Kind::kPermanent, {}, detail};
    }
    return {DeliveryResult::Kind::kTransient, {}, detail};
  }

  static void OnNack(coap_session_t* s, const coap_pdu_t* sent, const coap_nack_reason_t reason,
                     const coap_mid_t) {
    if (sent == nullptr) return;
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
    if (coap_pdu_get_code(sent) != COAP_REQUEST_CODE_POST) return;  // our separate responses
    auto it = self->FindPending(s, coap_pdu_get_token(sent));
    if (it == self->pending_.end()) return;
    self->NoAnswer(it, reason == COAP_NACK_TOO_MANY_RETRIES ? "UE did not answer" : "UE unreachable");
  }

  // The request `it` got no answer (every retransmission unanswered, or a Reset).
  void NoAnswer(std::map<PendingKey, Pending>::iterator it, const char* why) {
    auto* self = this;
    auto p = std::move(it->second);
    self->pending_.erase(it);
    if (auto heard = self->last_heard_.find(p.ue);
        heard != self->last_heard_.end() && heard->second > p.sent_at) {
      // The UE spoke to us after this was sent (it woke up, perhaps on a new port): it is not
      // asleep; this one is simply sent again.
      p.done({DeliveryResult::Kind::kRequeue, {}, "no answer on the old session"});
      return;
    }
    // No answer after the retransmissions: the UE sleeps. Its messages wait, parked, until it is
    // heard from again (UeContact / RegisterUe).
    self->broker_.UeUnreachable(p.ue);
    // Whatever else waits for that UE there would time out the same way, one after another: give
    // all of it up now (it is stored; it goes out when the UE is heard from again). The queue
    // first, so that completing the failed request does not send the next one.
    self->DrainQueue(p.endpoint, {DeliveryResult::Kind::kTransient, {}, why});
    for (auto it2 = self->pending_.begin(); it2 != self->pending_.end();) {
      if (it2->second.ue == p.ue && it2->second.endpoint == p.endpoint) {
        auto done = std::move(it2->second.done);
        it2 = self->pending_.erase(it2);
        done({DeliveryResult::Kind::kTransient, {}, why});
      } else {
        ++it2;
      }
    }
    p.done({DeliveryResult::Kind::kTransient, {}, why});
    // libcoap still holds the requests queued behind the one that failed (NSTART 1). Dropped,
    // with the session: a UE that comes back from the same address and port (ports get reused)
    // must not be handed those stale requests ahead of the priority order. Not from inside this
    // callback: on the next pass.
    self->Post([self, endpoint = p.endpoint, ue = p.ue, nack_at = std::chrono::steady_clock::now()] {
      if (auto heard = self->last_heard_.find(ue);
          heard != self->last_heard_.end() && heard->second > nack_at) {
        return;  // heard from meanwhile: that session is alive
      }
      auto found = self->sessions_.find(endpoint);
      if (found == self->sessions_.end()) return;
      coap_session_t* dead = found->second.session;
      self->sessions_.erase(found);
      if (dead == nullptr) return;  // our own UDP endpoint: forgetting the address is all
      coap_session_disconnected(dead, COAP_NACK_NOT_DELIVERABLE);
      coap_session_release(dead);
    });
  }

  static int OnEvent(coap_session_t* s, const coap_event_t event) {
    if (event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_DTLS_ERROR ||
        event == COAP_EVENT_SERVER_SESSION_DEL) {
      auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
      if (self == nullptr) return 0;
      if (event != COAP_EVENT_SERVER_SESSION_DEL) self->ForgetSession(s);
      self->cert_identity_.erase(s);
    }
    return 0;
  }

  static const coap_bin_const_t* OnPskIdentity(coap_bin_const_t* identity, coap_session_t*,
                                               void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (!self->options_.psk_lookup || identity == nullptr) return nullptr;
    std::string id(reinterpret_cast<const char*>(identity->s), identity->length);
    std::string key;
    if (!self->options_.psk_lookup(id, &key) || key.empty()) return nullptr;
    self->psk_scratch_ = std::move(key);  // libcoap copies the key before the next call
    self->psk_bin_ = {self->psk_scratch_.size(),
                      reinterpret_cast<const uint8_t*>(self->psk_scratch_.data())};
    return &self->psk_bin_;
  }

  CoapOptions options_;
  broker::Broker& broker_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Counter* aggregated_ = nullptr;
  prometheus::Family<prometheus::Counter>* recovery_ = nullptr;
  coap_context_t* ctx_ = nullptr;
  coap_endpoint_t* udp_ = nullptr;  // coap.listen on libcoap (coap.udp_engine = "libcoap")
  std::unique_ptr<UdpEndpoint> own_udp_;  // coap.listen on our own datagram loop (the default)
  std::uint64_t own_sends_ = 0;  // pending_ keys of requests sent through own_udp_
  coap_endpoint_t* dtls_ = nullptr;
  coap_context_t* ctx_pki_ = nullptr;  // DTLS with certificates, when configured
  coap_endpoint_t* dtls_cert_ = nullptr;
  std::uint16_t udp_port_ = 0, dtls_port_ = 0, dtls_cert_port_ = 0;
  int wake_ = -1;
  int epoll_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::deque<std::function<void()>> inbox_;
  // coap-io thread only.
  std::unordered_map<std::string, Peer> sessions_;  // endpoint -> how to reach it (sessions referenced)
  std::unordered_map<std::string, std::string> ue_endpoint_;    // UE -> its current endpoint
  std::map<PendingKey, Pending> pending_;
  std::unordered_map<std::string, std::deque<Outgoing>> queues_;  // by endpoint, not yet sent
  std::unordered_set<std::string> busy_;  // endpoints with a request outstanding
  std::unordered_multiset<coap_session_t*> later_refs_;  // references held for separate responses
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> last_heard_;  // by UE
  std::unordered_map<coap_session_t*, std::string> cert_identity_;  // certificate name by session
  InboundSegments inbound_;
  InboundBlocks blocks_;
  std::chrono::steady_clock::time_point last_recovery_scan_{};
  Timing timing_[2];  // ctx_, ctx_pki_
  bool more_io_ = false;  // Drain stopped with datagrams left
  SentSegments sent_;
  std::string psk_scratch_;
  coap_bin_const_t psk_bin_{};
};

CoapServer::CoapServer(CoapOptions options, broker::Broker& broker, metrics::Registry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), broker, metrics)) {}
CoapServer::~CoapServer() = default;
Status CoapServer::Start() { return impl_->Start(); }
void CoapServer::Stop() { impl_->Stop(); }
std::uint16_t CoapServer::udp_port() const { return impl_->udp_port(); }
std::uint16_t CoapServer::dtls_port() const { return impl_->dtls_port(); }
std::uint16_t CoapServer::dtls_cert_port() const { return impl_->dtls_cert_port(); }
void CoapServer::Deliver(const broker::Route& route, const broker::Outbound& out,
                         std::function<void(DeliveryResult)> done) {
  impl_->Deliver(route, out, std::move(done));
}

}  // namespace msgin5g::api::coap
