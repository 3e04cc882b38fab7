#include "gateway/smpp/esme_session.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <map>
#include <random>
#include <utility>

#include "common/logging.h"
#include "gateway/smpp/backoff.h"
#include "gateway/smpp/framer.h"
#include "gateway/smpp/token_bucket.h"

namespace msgin5g::gateway::smpp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Kind = SubmitResult::Kind;

constexpr const char* kLog = "smpp";
// Frames queued for writing beyond this mean the SMSC stopped reading (while still sending
// deliver_sm, say); holding more would only grow memory.
constexpr std::size_t kMaxWriteQueue = 4096;

std::uint32_t BindCommand(BindMode mode) {
  switch (mode) {
    case BindMode::kTransmitter: return command::kBindTransmitter;
    case BindMode::kReceiver: return command::kBindReceiver;
    case BindMode::kTransceiver: break;
  }
  return command::kBindTransceiver;
}

std::string SubmitFailureReason(std::uint32_t status) {
  switch (status) {
    case kEsmeRThrottled: return "throttled";
    case kEsmeRMsgQFul: return "SMSC queue full";
    default: return CommandStatusName(status);
  }
}

}  // namespace

class EsmeSession::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, EsmeOptions options)
      : io_(io),
        opt_(std::move(options)),
        backoff_(opt_.reconnect_initial, opt_.reconnect_max),
        rng_(std::random_device{}()),
        bucket_(opt_.max_submits_per_second, opt_.submit_burst),
        reconnect_timer_(io),
        enquire_timer_(io),
        pump_timer_(io) {}

  Status Start();
  void Stop();
  void Shutdown() {
    drop_callbacks_ = true;
    Stop();
  }
  void Submit(SubmitSm pdu, SubmitDone done);
  void OnDeliver(DeliverHandler h) { deliver_ = std::move(h); }
  void OnState(StateHandler h) { on_state_ = std::move(h); }
  bool bound() const { return state_ == State::kBound && link_ && !link_->closing; }
  std::size_t in_flight() const { return submits_in_flight_; }
  std::size_t queued() const { return queue_.size(); }
  const EsmeStats& stats() const { return stats_; }
  asio::io_context& io_context() { return io_; }

 private:
  enum class State { kIdle, kConnecting, kBinding, kBound, kWaiting, kStopping, kStopped };
  enum class ReqKind { kBind, kSubmit, kEnquireLink, kUnbind };

  // One TCP connection. Handlers hold it and do nothing once it is no longer link_.
  struct Link {
    explicit Link(asio::io_context& io) : socket(io), resolver(io), connect_timer(io) {}
    tcp::socket socket;
    tcp::resolver resolver;
    asio::steady_timer connect_timer;
    std::string name;  // host:port
    std::string rbuf;  // at most one partial frame (< kMaxPduBytes) plus one read
    std::array<char, 16384> chunk{};
    std::deque<std::string> wq;
    bool writing = false;
    bool closing = false;  // close once wq is flushed (after unbind_resp)
    std::string close_reason;
  };

  struct Outstanding {
    ReqKind kind;
    SubmitDone done;  // kSubmit only
    std::unique_ptr<asio::steady_timer> timer;
  };

  struct Queued {
    SubmitSm pdu;
    SubmitDone done;
  };

  std::uint32_t NextSeq() {
    const std::uint32_t s = next_seq_;
    next_seq_ = next_seq_ >= kMaxSequenceNumber ? 1 : next_seq_ + 1;
    return s;
  }

  void Connect();
  void OnConnected(const std::shared_ptr<Link>& link);
  void StartRead(const std::shared_ptr<Link>& link);
  void OnFrame(const std::shared_ptr<Link>& link, std::string_view frame);
  void OnMalformed(const std::shared_ptr<Link>& link, std::string_view frame, std::uint32_t nack,
                   const Status& why);
  void OnResponse(const std::shared_ptr<Link>& link, std::uint32_t seq, std::uint32_t command_id,
                  std::uint32_t status, const Pdu* pdu);
  void OnBindResult(const std::shared_ptr<Link>& link, std::uint32_t status);
  void OnSubmitAnswer(SubmitDone done, std::uint32_t status, std::string message_id);
  void OnDeliverSm(const std::shared_ptr<Link>& link, Pdu pdu);

  // Drop and Write take the link by value: they may clear link_, which a reference could alias.
  void Write(std::shared_ptr<Link> link, const Pdu& pdu);
  void DoWrite(const std::shared_ptr<Link>& link);
  void SendNack(const std::shared_ptr<Link>& link, std::uint32_t seq, std::uint32_t status);
  void Track(const std::shared_ptr<Link>& link, std::uint32_t seq, ReqKind kind, SubmitDone done,
             std::chrono::milliseconds timeout);
  void OnTimeout(const std::shared_ptr<Link>& link, std::uint32_t seq);

  void Pump();
  void SchedulePump(Clock::time_point at);
  // A cancelled wait's handler does not run its body, so the flag is cleared here.
  void CancelPump() {
    pump_timer_.cancel();
    pump_pending_ = false;
  }
  void ScheduleEnquireLink();

  // The connection ended (or an attempt failed). `failed`: the attempt did not produce a bind
  // worth coming back to, so the next endpoint is tried.
  void Drop(std::shared_ptr<Link> link, std::string reason);
  void FinishStop();
  void CloseLink();
  void FailAll(const std::string& reason);
  void Complete(SubmitDone done, SubmitResult r);
  void NotifyState(bool bound, const std::string& smsc);
  std::string EndpointName(std::size_t i) const {
    return opt_.smsc[i].host + ":" + std::to_string(opt_.smsc[i].port);
  }

  asio::io_context& io_;
  const EsmeOptions opt_;
  EsmeStats stats_;
  State state_ = State::kIdle;
  std::shared_ptr<Link> link_;
  std::size_t endpoint_ = 0;
  std::size_t round_start_ = 0;
  bool first_attempt_ = true;
  Backoff backoff_;
  std::minstd_rand rng_;
  TokenBucket bucket_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer enquire_timer_;
  asio::steady_timer pump_timer_;
  bool pump_pending_ = false;
  Clock::time_point paused_until_{};
  Clock::time_point bound_since_{};
  std::map<std::uint32_t, Outstanding> outstanding_;
  std::size_t submits_in_flight_ = 0;
  std::deque<Queued> queue_;
  std::uint32_t next_seq_ = 1;
  DeliverHandler deliver_;
  StateHandler on_state_;
  bool notified_bound_ = false;
  bool drop_callbacks_ = false;
};

// ---------------------------------------------------------------------------------------------
// Lifecycle.

Status EsmeSession::Impl::Start() {
  if (state_ != State::kIdle) return Status::Conflict("smpp session already started");
  if (opt_.smsc.empty()) return Status::InvalidArgument("smpp: no SMSC endpoint");
  for (const Endpoint& e : opt_.smsc) {
    if (e.host.empty() || e.port == 0) {
      return Status::InvalidArgument("smpp: SMSC endpoint needs host and port");
    }
  }
  if (opt_.window == 0) return Status::InvalidArgument("smpp: window must be at least 1");
  Pdu bind{BindCommand(opt_.bind_mode), 0, 1,
           Bind{opt_.system_id, opt_.password, opt_.system_type, kInterfaceVersion34, opt_.addr_ton,
                opt_.addr_npi, opt_.address_range}};
  if (Status st = Validate(bind); !st.ok()) return Status::InvalidArgument("smpp: " + st.message());
  Connect();
  return Status::Ok();
}

void EsmeSession::Impl::Stop() {
  if (state_ == State::kStopping || state_ == State::kStopped) return;
  if (state_ == State::kIdle) {  // never started: nothing to close, nothing to log
    state_ = State::kStopped;
    return;
  }
  const bool was_bound = state_ == State::kBound && link_ && !link_->closing;
  state_ = State::kStopping;
  reconnect_timer_.cancel();
  enquire_timer_.cancel();
  CancelPump();
  FailAll("stopped");
  if (!was_bound) {
    FinishStop();
    return;
  }
  // Be polite: the SMSC then knows not to queue receipts for a bind that will come back soon.
  const std::shared_ptr<Link> link = link_;
  const std::uint32_t seq = NextSeq();
  Write(link, Pdu{command::kUnbind, 0, seq, {}});
  Track(link, seq, ReqKind::kUnbind, nullptr, opt_.unbind_timeout);
}

void EsmeSession::Impl::FinishStop() {
  CloseLink();
  FailAll("stopped");
  state_ = State::kStopped;
  LOG_INFO(kLog, "session stopped");
}

void EsmeSession::Impl::CloseLink() {
  if (!link_) return;
  std::shared_ptr<Link> link = std::move(link_);
  boost::system::error_code ignored;
  link->socket.close(ignored);
  link->resolver.cancel();
  link->connect_timer.cancel();
  if (notified_bound_) NotifyState(false, link->name);
}

void EsmeSession::Impl::Connect() {
  auto link = std::make_shared<Link>(io_);
  link->name = EndpointName(endpoint_);
  link_ = link;
  state_ = State::kConnecting;
  if (!first_attempt_) ++stats_.reconnects;
  first_attempt_ = false;
  LOG_DEBUG(kLog, "connecting to %s", link->name.c_str());

  auto self = shared_from_this();
  link->connect_timer.expires_after(opt_.connect_timeout);
  link->connect_timer.async_wait([self, link](const boost::system::error_code& ec) {
    if (ec || link != self->link_ || self->state_ != State::kConnecting) return;
    ++self->stats_.connect_failures;
    self->Drop(link, "connect timed out");
  });
  const Endpoint& e = opt_.smsc[endpoint_];
  link->resolver.async_resolve(
      e.host, std::to_string(e.port),
      [self, link](const boost::system::error_code& ec, tcp::resolver::results_type results) {
        if (link != self->link_) return;
        if (ec) {
          ++self->stats_.connect_failures;
          self->Drop(link, "resolve: " + ec.message());
          return;
        }
        asio::async_connect(
            link->socket, results,
            [self, link](const boost::system::error_code& cec, const tcp::endpoint&) {
              if (link != self->link_) return;
              if (cec) {
                ++self->stats_.connect_failures;
                self->Drop(link, "connect: " + cec.message());
                return;
              }
              self->OnConnected(link);
            });
      });
}

void EsmeSession::Impl::OnConnected(const std::shared_ptr<Link>& link) {
  link->connect_timer.cancel();
  boost::system::error_code ignored;
  link->socket.set_option(tcp::no_delay(true), ignored);
  state_ = State::kBinding;
  StartRead(link);
  const std::uint32_t seq = NextSeq();
  Write(link, Pdu{BindCommand(opt_.bind_mode), 0, seq,
                  Bind{opt_.system_id, opt_.password, opt_.system_type, kInterfaceVersion34,
                       opt_.addr_ton, opt_.addr_npi, opt_.address_range}});
  Track(link, seq, ReqKind::kBind, nullptr, opt_.response_timeout);
}

void EsmeSession::Impl::Drop(std::shared_ptr<Link> link, std::string reason) {
  if (link != link_) return;
  const bool was_bound = state_ == State::kBound;
  if (state_ == State::kStopping) {
    FinishStop();
    return;
  }
  enquire_timer_.cancel();
  CancelPump();
  CloseLink();
  FailAll("connection lost");

  std::chrono::milliseconds delay{0};
  const bool stable = was_bound && Clock::now() - bound_since_ >= opt_.bind_stable_after;
  if (stable) {
    // That SMSC worked for a while: come back to it first, with a fresh backoff.
    backoff_.Reset();
    round_start_ = endpoint_;
    delay = backoff_.Next(rng_);
  } else {
    endpoint_ = (endpoint_ + 1) % opt_.smsc.size();
    if (endpoint_ == round_start_) delay = backoff_.Next(rng_);
  }
  if (was_bound) {
    LOG_INFO(kLog, "unbound from %s: %s; reconnecting to %s in %lld ms", link->name.c_str(),
             reason.c_str(), EndpointName(endpoint_).c_str(),
             static_cast<long long>(delay.count()));
  } else {
    LOG_WARN_LIMITED(kLog, "no bind with %s: %s; next %s in %lld ms", link->name.c_str(),
                     reason.c_str(), EndpointName(endpoint_).c_str(),
                     static_cast<long long>(delay.count()));
  }
  state_ = State::kWaiting;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->state_ != State::kWaiting) return;
    self->Connect();
  });
}

void EsmeSession::Impl::FailAll(const std::string& reason) {
  // Moved out first: the completions are posted, but Track's timers die with the map entries.
  std::map<std::uint32_t, Outstanding> outstanding = std::move(outstanding_);
  outstanding_.clear();
  std::deque<Queued> queue = std::move(queue_);
  queue_.clear();
  submits_in_flight_ = 0;
  for (auto& [seq, o] : outstanding) {
    if (o.kind != ReqKind::kSubmit) continue;
    SubmitResult r;
    r.reason = reason;
    r.sent = true;
    Complete(std::move(o.done), std::move(r));
  }
  for (Queued& q : queue) {
    SubmitResult r;
    r.reason = reason;
    Complete(std::move(q.done), std::move(r));
  }
}

void EsmeSession::Impl::Complete(SubmitDone done, SubmitResult r) {
  switch (r.kind) {
    case Kind::kAccepted: ++stats_.submits_accepted; break;
    case Kind::kTransient: ++stats_.submits_transient; break;
    case Kind::kPermanent: ++stats_.submits_permanent; break;
  }
  if (drop_callbacks_ || !done) return;
  asio::post(io_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

void EsmeSession::Impl::NotifyState(bool bound, const std::string& smsc) {
  notified_bound_ = bound;
  if (drop_callbacks_ || !on_state_) return;
  asio::post(io_, [h = on_state_, bound, smsc] { h(bound, smsc); });
}

// ---------------------------------------------------------------------------------------------
// Reading and dispatch.

void EsmeSession::Impl::StartRead(const std::shared_ptr<Link>& link) {
  link->socket.async_read_some(
      asio::buffer(link->chunk),
      [self = shared_from_this(), link](const boost::system::error_code& ec, std::size_t n) {
        if (link != self->link_) return;
        if (ec) {
          self->Drop(link, ec == asio::error::eof ? "closed by the SMSC" : "read: " + ec.message());
          return;
        }
        link->rbuf.append(link->chunk.data(), n);
        std::size_t used = 0;
        for (;;) {
          const std::string_view rest = std::string_view(link->rbuf).substr(used);
          Result<std::size_t> size = NextFrameSize(rest);
          if (!size.ok()) {
            // The length is all SMPP framing has: past a bad one nothing can be trusted.
            ++self->stats_.malformed_pdus_received;
            LOG_WARN_LIMITED(kLog, "framing lost with %s: %s", link->name.c_str(),
                             size.status().message().c_str());
            self->Drop(link, "framing lost");
            return;
          }
          if (*size == 0 || rest.size() < *size) break;
          const std::string frame(rest.substr(0, *size));
          used += *size;
          self->OnFrame(link, frame);
          if (link != self->link_) return;
        }
        link->rbuf.erase(0, used);
        self->StartRead(link);
      });
}

void EsmeSession::Impl::OnFrame(const std::shared_ptr<Link>& link, std::string_view frame) {
  std::uint32_t nack = kEsmeRInvCmdLen;
  Result<Pdu> decoded = Decode(frame, &nack);
  if (!decoded.ok()) {
    OnMalformed(link, frame, nack, decoded.status());
    return;
  }
  Pdu& p = *decoded;
  switch (p.command_id) {
    case command::kEnquireLink: Write(link, MakeResponse(p, kEsmeROk)); return;
    case command::kUnbind:
      // The SMSC is going away (maintenance, overload): answer, close once that is written,
      // and reconnect as after any loss.
      LOG_INFO(kLog, "unbind from %s", link->name.c_str());
      Write(link, MakeResponse(p, kEsmeROk));
      link->closing = true;
      link->close_reason = "unbind from the SMSC";
      if (!link->writing) Drop(link, link->close_reason);
      return;
    case command::kDeliverSm: OnDeliverSm(link, std::move(p)); return;
    case command::kGenericNack:
      ++stats_.generic_nacks_received;
      LOG_WARN_LIMITED(kLog, "generic_nack from %s: seq %u %s", link->name.c_str(),
                       p.sequence_number, CommandStatusName(p.command_status).c_str());
      OnResponse(link, p.sequence_number, p.command_id, p.command_status, &p);
      return;
    case command::kBindReceiverResp:
    case command::kBindTransmitterResp:
    case command::kBindTransceiverResp:
    case command::kSubmitSmResp:
    case command::kEnquireLinkResp:
    case command::kUnbindResp:
    case command::kDeliverSmResp:
      OnResponse(link, p.sequence_number, p.command_id, p.command_status, &p);
      return;
    default:
      // submit_sm or bind_* sent to an ESME: valid PDUs, but not ones an SMSC may send.
      ++stats_.unknown_commands_received;
      SendNack(link, p.sequence_number, kEsmeRInvCmdId);
      return;
  }
}

void EsmeSession::Impl::OnMalformed(const std::shared_ptr<Link>& link, std::string_view frame,
                                    std::uint32_t nack, const Status& why) {
  Result<Header> h = DecodeHeader(frame);  // the framer guarantees >= 16 octets
  if (!h.ok()) return;
  if (nack == kEsmeRInvCmdId) {
    ++stats_.unknown_commands_received;
    LOG_WARN_LIMITED(kLog, "unknown command 0x%08X from %s", h->command_id, link->name.c_str());
  } else {
    ++stats_.malformed_pdus_received;
    LOG_WARN_LIMITED(kLog, "malformed PDU from %s: %s", link->name.c_str(), why.message().c_str());
  }
  // Never nack a nack: two peers disagreeing about a generic_nack would loop.
  if (h->command_id != command::kGenericNack) SendNack(link, h->sequence_number, nack);
  // A response we cannot read still ends the request it answers; no body means no message_id.
  if (IsResponse(h->command_id) && IsKnownCommand(h->command_id)) {
    OnResponse(link, h->sequence_number, h->command_id,
               h->command_status != kEsmeROk ? h->command_status : kEsmeRSysErr, nullptr);
  }
}

void EsmeSession::Impl::OnResponse(const std::shared_ptr<Link>& link, std::uint32_t seq,
                                   std::uint32_t command_id, std::uint32_t status, const Pdu* pdu) {
  auto it = outstanding_.find(seq);
  if (it == outstanding_.end()) {
    // A resp after its request timed out, or nonsense: the request was completed already.
    LOG_DEBUG(kLog, "%s seq %u from %s matches no request",
              std::string(CommandName(command_id)).c_str(), seq, link->name.c_str());
    return;
  }
  const bool nack = command_id == command::kGenericNack;
  Outstanding o = std::move(it->second);
  outstanding_.erase(it);
  switch (o.kind) {
    case ReqKind::kBind:
      OnBindResult(link, nack && status == kEsmeROk ? kEsmeRBindFail : status);
      return;
    case ReqKind::kEnquireLink: return;  // any answer proves the link alive
    case ReqKind::kUnbind: FinishStop(); return;
    case ReqKind::kSubmit: {
      --submits_in_flight_;
      if (pdu == nullptr) {
        // The SMSC may well have accepted it; without a readable message_id it is a retry.
        SubmitResult r;
        r.reason = "malformed " + std::string(CommandName(command_id));
        r.command_status = status;
        r.sent = true;
        Complete(std::move(o.done), std::move(r));
      } else {
        std::string message_id;
        if (const auto* resp = std::get_if<SubmitSmResp>(&pdu->body)) message_id = resp->message_id;
        if (status == kEsmeROk && nack) status = kEsmeRSysErr;
        OnSubmitAnswer(std::move(o.done), status, std::move(message_id));
      }
      Pump();
      return;
    }
  }
}

void EsmeSession::Impl::OnBindResult(const std::shared_ptr<Link>& link, std::uint32_t status) {
  if (state_ != State::kBinding) return;
  if (status != kEsmeROk) {
    ++stats_.binds_failed;
    LOG_WARN_LIMITED(kLog, "bind refused by %s: %s", link->name.c_str(),
                     CommandStatusName(status).c_str());
    Drop(link, "bind refused: " + CommandStatusName(status));
    return;
  }
  ++stats_.binds_ok;
  state_ = State::kBound;
  bound_since_ = Clock::now();
  paused_until_ = {};
  LOG_INFO(kLog, "bound to %s as %s", link->name.c_str(), opt_.system_id.c_str());
  NotifyState(true, link->name);
  ScheduleEnquireLink();
  Pump();
}

void EsmeSession::Impl::OnSubmitAnswer(SubmitDone done, std::uint32_t status,
                                       std::string message_id) {
  SubmitResult r;
  r.sent = true;
  r.command_status = status;
  if (status == kEsmeROk) {
    r.kind = Kind::kAccepted;
    r.message_id = std::move(message_id);
  } else {
    if (status == kEsmeRThrottled) {
      ++stats_.throttled;
      paused_until_ = Clock::now() + opt_.throttle_pause;
      LOG_WARN_LIMITED(kLog, "throttled by the SMSC: pausing submits for %lld ms",
                       static_cast<long long>(opt_.throttle_pause.count()));
    }
    r.kind = IsTransientStatus(status) ? Kind::kTransient : Kind::kPermanent;
    r.reason = SubmitFailureReason(status);
  }
  Complete(std::move(done), std::move(r));
}

void EsmeSession::Impl::OnDeliverSm(const std::shared_ptr<Link>& link, Pdu pdu) {
  ++stats_.deliver_sm_received;
  if (state_ != State::kBound || link->closing) {
    Write(link, MakeResponse(pdu, kEsmeRInvBndSts, DeliverSmResp{}));
    return;
  }
  if (!deliver_ || drop_callbacks_) {
    Write(link, MakeResponse(pdu, kEsmeRxTAppn, DeliverSmResp{}));
    return;
  }
  std::weak_ptr<Impl> weak_self = weak_from_this();
  std::weak_ptr<Link> weak_link = link;
  auto answered = std::make_shared<bool>(false);
  Respond respond = [weak_self, weak_link, answered,
                     seq = pdu.sequence_number](std::uint32_t status) {
    if (*answered) return;
    *answered = true;
    auto self = weak_self.lock();
    auto l = weak_link.lock();
    // Lost connection: the SMSC did not get a resp and will deliver the message again.
    if (!self || !l || l != self->link_) return;
    self->Write(l, Pdu{command::kDeliverSmResp, status, seq, DeliverSmResp{}});
  };
  asio::post(io_,
             [h = deliver_, d = std::get<DeliverSm>(std::move(pdu.body)),
              respond = std::move(respond)]() mutable { h(std::move(d), std::move(respond)); });
}

// ---------------------------------------------------------------------------------------------
// Writing and requests.

void EsmeSession::Impl::Write(std::shared_ptr<Link> link, const Pdu& pdu) {
  if (link != link_) return;
  if (link->wq.size() >= kMaxWriteQueue) {
    LOG_WARN_LIMITED(kLog, "%s is not reading; dropping the connection", link->name.c_str());
    Drop(link, "write queue full");
    return;
  }
  link->wq.push_back(Encode(pdu));
  if (!link->writing) DoWrite(link);
}

void EsmeSession::Impl::DoWrite(const std::shared_ptr<Link>& link) {
  link->writing = true;
  asio::async_write(
      link->socket, asio::buffer(link->wq.front()),
      [self = shared_from_this(), link](const boost::system::error_code& ec, std::size_t) {
        if (link != self->link_) return;
        if (ec) {
          self->Drop(link, "write: " + ec.message());
          return;
        }
        link->wq.pop_front();
        if (!link->wq.empty()) {
          self->DoWrite(link);
          return;
        }
        link->writing = false;
        if (link->closing) self->Drop(link, link->close_reason);
      });
}

void EsmeSession::Impl::SendNack(const std::shared_ptr<Link>& link, std::uint32_t seq,
                                 std::uint32_t status) {
  ++stats_.generic_nacks_sent;
  Write(link, MakeGenericNack(seq, status));
}

void EsmeSession::Impl::Track(const std::shared_ptr<Link>& link, std::uint32_t seq, ReqKind kind,
                              SubmitDone done, std::chrono::milliseconds timeout) {
  if (link != link_) return;
  auto timer = std::make_unique<asio::steady_timer>(io_, timeout);
  timer->async_wait([self = shared_from_this(), link, seq](const boost::system::error_code& ec) {
    if (!ec) self->OnTimeout(link, seq);
  });
  outstanding_[seq] = Outstanding{kind, std::move(done), std::move(timer)};
}

void EsmeSession::Impl::OnTimeout(const std::shared_ptr<Link>& link, std::uint32_t seq) {
  if (link != link_) return;
  auto it = outstanding_.find(seq);
  if (it == outstanding_.end()) return;
  Outstanding o = std::move(it->second);
  outstanding_.erase(it);
  switch (o.kind) {
    case ReqKind::kBind:
      ++stats_.binds_failed;
      Drop(link, "no bind_resp");
      return;
    case ReqKind::kEnquireLink:
      ++stats_.enquire_link_timeouts;
      LOG_WARN_LIMITED(kLog, "no enquire_link_resp from %s", link->name.c_str());
      Drop(link, "no enquire_link_resp");
      return;
    case ReqKind::kUnbind: FinishStop(); return;
    case ReqKind::kSubmit: {
      --submits_in_flight_;
      ++stats_.submit_timeouts;
      SubmitResult r;
      r.reason = "timeout";
      r.sent = true;
      Complete(std::move(o.done), std::move(r));
      Pump();
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Submitting.

void EsmeSession::Impl::Submit(SubmitSm pdu, SubmitDone done) {
  SubmitResult r;
  if (!bound()) {
    r.reason = state_ == State::kStopping || state_ == State::kStopped ? "stopped" : "not bound";
    Complete(std::move(done), std::move(r));
    return;
  }
  if (opt_.bind_mode == BindMode::kReceiver) {
    r.reason = "not bound as transmitter";
    Complete(std::move(done), std::move(r));
    return;
  }
  std::uint32_t code = kEsmeRSysErr;
  if (Status st = Validate(Pdu{command::kSubmitSm, 0, 1, pdu}, &code); !st.ok()) {
    r.kind = Kind::kPermanent;
    r.command_status = code;
    r.reason = "refused locally: " + st.message();
    Complete(std::move(done), std::move(r));
    return;
  }
  if (queue_.size() >= opt_.max_queued) {
    r.reason = "queue full";
    Complete(std::move(done), std::move(r));
    return;
  }
  queue_.push_back(Queued{std::move(pdu), std::move(done)});
  Pump();
}

void EsmeSession::Impl::Pump() {
  while (bound() && !queue_.empty() && submits_in_flight_ < opt_.window) {
    const Clock::time_point now = Clock::now();
    if (now < paused_until_) {
      SchedulePump(paused_until_);
      return;
    }
    if (const Clock::duration wait = bucket_.TryTake(now); wait > Clock::duration::zero()) {
      SchedulePump(now + wait);
      return;
    }
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    const std::uint32_t seq = NextSeq();
    std::shared_ptr<Link> link = link_;
    Write(link, Pdu{command::kSubmitSm, 0, seq, std::move(q.pdu)});
    if (link != link_) {  // the write dropped the connection; q.done was not yet owned by it
      SubmitResult r;
      r.reason = "connection lost";
      Complete(std::move(q.done), std::move(r));
      return;
    }
    ++stats_.submits_sent;
    ++submits_in_flight_;
    Track(link, seq, ReqKind::kSubmit, std::move(q.done), opt_.response_timeout);
  }
}

void EsmeSession::Impl::SchedulePump(Clock::time_point at) {
  if (pump_pending_ && pump_timer_.expiry() <= at) return;
  pump_pending_ = true;
  pump_timer_.expires_at(at);
  pump_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    self->pump_pending_ = false;
    self->Pump();
  });
}

void EsmeSession::Impl::ScheduleEnquireLink() {
  enquire_timer_.expires_after(opt_.enquire_link_interval);
  enquire_timer_.async_wait(
      [self = shared_from_this(), link = link_](const boost::system::error_code& ec) {
        if (ec || link != self->link_ || self->state_ != State::kBound || link->closing) return;
        const std::uint32_t seq = self->NextSeq();
        ++self->stats_.enquire_links_sent;
        self->Write(link, Pdu{command::kEnquireLink, 0, seq, {}});
        self->Track(link, seq, ReqKind::kEnquireLink, nullptr, self->opt_.response_timeout);
        if (link == self->link_) self->ScheduleEnquireLink();
      });
}

// ---------------------------------------------------------------------------------------------
// The public face.

EsmeSession::EsmeSession(asio::io_context& io, EsmeOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

EsmeSession::~EsmeSession() { impl_->Shutdown(); }

Status EsmeSession::Start() { return impl_->Start(); }
void EsmeSession::Stop() { impl_->Stop(); }
void EsmeSession::Submit(SubmitSm pdu, SubmitDone done) {
  impl_->Submit(std::move(pdu), std::move(done));
}

void EsmeSession::PostSubmit(SubmitSm pdu, SubmitDone done) {
  // The impl is reached through the captured pointer, not `this`: the session may be gone.
  std::shared_ptr<Impl> impl = impl_;
  asio::post(impl->io_context(), [impl, pdu = std::move(pdu), done = std::move(done)]() mutable {
    impl->Submit(std::move(pdu), std::move(done));
  });
}

void EsmeSession::OnDeliver(DeliverHandler handler) { impl_->OnDeliver(std::move(handler)); }
void EsmeSession::OnState(StateHandler handler) { impl_->OnState(std::move(handler)); }
bool EsmeSession::bound() const { return impl_->bound(); }
std::size_t EsmeSession::in_flight() const { return impl_->in_flight(); }
std::size_t EsmeSession::queued() const { return impl_->queued(); }
const EsmeStats& EsmeSession::stats() const { return impl_->stats(); }

}  // namespace msgin5g::gateway::smpp
