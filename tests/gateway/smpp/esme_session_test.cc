// The ESME session against the in-test SMSC (fake_smsc.h) on 127.0.0.1. Short intervals keep it
// to seconds; conditions are awaited with deadlines, and the only timing assertions are lower
// bounds that timers guarantee.
#include "gateway/smpp/esme_session.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_smsc.h"

namespace msgin5g::gateway::smpp {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeSmsc;
using Kind = SubmitResult::Kind;

SubmitSm Message(std::string text = "hello") {
  SubmitSm s;
  s.source_addr = "msgin5g";
  s.dest_addr_ton = 1;
  s.dest_addr_npi = 1;
  s.destination_addr = "491701234567";
  s.registered_delivery = 1;
  s.short_message = std::move(text);
  return s;
}

// A port on which nothing listens: bound once, then closed.
Endpoint DeadEndpoint(asio::io_context& io) {
  asio::ip::tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
  const std::uint16_t port = a.local_endpoint().port();
  a.close();
  return {"127.0.0.1", port};
}

class EsmeSessionTest : public ::testing::Test {
 protected:
  EsmeOptions Options(std::vector<Endpoint> smsc) {
    EsmeOptions o;
    o.smsc = std::move(smsc);
    o.system_id = "msgin5g";
    o.password = "secret";
    o.system_type = "L3G";
    o.window = 10;
    o.response_timeout = 3s;
    o.connect_timeout = 2s;
    o.enquire_link_interval = 60s;
    o.reconnect_initial = 50ms;
    o.reconnect_max = 200ms;
    o.throttle_pause = 300ms;
    o.bind_stable_after = 60s;
    o.unbind_timeout = 500ms;
    return o;
  }

  void StartSession(EsmeOptions o) {
    session_ = std::make_unique<EsmeSession>(io_, std::move(o));
    session_->OnState([this](bool bound, std::string smsc) {
      states_.push_back(bound);
      if (bound) bound_to_ = smsc;
    });
    ASSERT_TRUE(session_->Start().ok());
  }

  // Runs the io_context until `done` holds or `limit` passes.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }

  void RunFor(std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    RunUntil([&] { return std::chrono::steady_clock::now() >= deadline; }, d + 1s);
  }

  void Submit(SubmitSm m = Message()) {
    session_->Submit(std::move(m), [this](SubmitResult r) { results_.push_back(std::move(r)); });
  }

  bool WaitBound() {
    return RunUntil([&] { return session_->bound(); });
  }

  asio::io_context io_;
  FakeSmsc smsc_{io_};
  std::unique_ptr<EsmeSession> session_;
  std::vector<bool> states_;
  std::string bound_to_;
  std::vector<SubmitResult> results_;
};

std::string Name(const Endpoint& e) { return e.host + ":" + std::to_string(e.port); }

TEST_F(EsmeSessionTest, BindsAndSubmits) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  ASSERT_TRUE(RunUntil([&] { return states_.size() == 1; }));
  EXPECT_TRUE(states_[0]);
  EXPECT_EQ(bound_to_, Name(smsc_.endpoint()));

  const std::optional<Pdu> bind = smsc_.Last(command::kBindTransceiver);
  ASSERT_TRUE(bind);
  const Bind& b = std::get<Bind>(bind->body);
  EXPECT_EQ(b.system_id, "msgin5g");
  EXPECT_EQ(b.password, "secret");
  EXPECT_EQ(b.system_type, "L3G");
  EXPECT_EQ(b.interface_version, 0x34);

  Submit(Message("hi there"));
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kAccepted);
  const std::optional<Pdu> sm = smsc_.Last(command::kSubmitSm);
  ASSERT_TRUE(sm);
  EXPECT_EQ(results_[0].message_id, "m" + std::to_string(sm->sequence_number));
  EXPECT_EQ(std::get<SubmitSm>(sm->body).short_message, "hi there");
  EXPECT_EQ(std::get<SubmitSm>(sm->body).destination_addr, "491701234567");
  EXPECT_GT(sm->sequence_number, bind->sequence_number);
  EXPECT_EQ(session_->stats().binds_ok.load(), 1u);
  EXPECT_EQ(session_->stats().submits_sent.load(), 1u);
  EXPECT_EQ(session_->stats().submits_accepted.load(), 1u);
  EXPECT_EQ(session_->in_flight(), 0u);
}

TEST_F(EsmeSessionTest, SubmitWhenNotBoundIsTransientAndNeverSynchronous) {
  StartSession(Options({DeadEndpoint(io_)}));
  Submit();
  EXPECT_TRUE(results_.empty());  // posted, not called from inside Submit
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kTransient);
  EXPECT_EQ(results_[0].reason, "not bound");
  EXPECT_FALSE(results_[0].sent);
}

TEST_F(EsmeSessionTest, PostSubmitFromAnotherThread) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      // The callback runs on the io thread (this test's), so results_ needs no lock.
      session_->PostSubmit(Message(), [this](SubmitResult r) { results_.push_back(std::move(r)); });
    }
  });
  producer.join();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 5; }));
  for (const SubmitResult& r : results_) EXPECT_EQ(r.kind, Kind::kAccepted);
  EXPECT_EQ(session_->stats().submits_accepted.load(), 5u);
}

TEST_F(EsmeSessionTest, RefusesBadOptions) {
  EsmeSession none(io_, EsmeOptions{});
  EXPECT_FALSE(none.Start().ok());
  EsmeOptions o = Options({smsc_.endpoint()});
  o.system_id = std::string(16, 'x');
  EsmeSession long_id(io_, o);
  EXPECT_FALSE(long_id.Start().ok());
  o = Options({smsc_.endpoint()});
  o.window = 0;
  EsmeSession no_window(io_, o);
  EXPECT_FALSE(no_window.Start().ok());
}

TEST_F(EsmeSessionTest, FailsOverPastDeadAndRefusingSmsc) {
  FakeSmsc second(io_);
  smsc_.bind_status = kEsmeRBindFail;
  StartSession(Options({DeadEndpoint(io_), smsc_.endpoint(), second.endpoint()}));
  ASSERT_TRUE(WaitBound());
  ASSERT_TRUE(RunUntil([&] { return !bound_to_.empty(); }));
  EXPECT_EQ(bound_to_, Name(second.endpoint()));
  EXPECT_EQ(smsc_.Count(command::kBindTransceiver), 1);
  EXPECT_EQ(second.Count(command::kBindTransceiver), 1);
  EXPECT_GE(session_->stats().connect_failures.load(), 1u);
  EXPECT_EQ(session_->stats().binds_failed.load(), 1u);
  EXPECT_EQ(session_->stats().binds_ok.load(), 1u);
  EXPECT_EQ(session_->stats().reconnects.load(), 2u);
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kAccepted);
  EXPECT_EQ(second.Count(command::kSubmitSm), 1);
  EXPECT_EQ(smsc_.Count(command::kSubmitSm), 0);
}

TEST_F(EsmeSessionTest, BindRefusedEverywhereKeepsRetryingWithBackoff) {
  smsc_.bind_status = kEsmeRInvPaswd;
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(RunUntil([&] { return smsc_.Count(command::kBindTransceiver) >= 3; }));
  EXPECT_FALSE(session_->bound());
  EXPECT_GE(session_->stats().binds_failed.load(), 2u);
  smsc_.bind_status = kEsmeROk;
  ASSERT_TRUE(WaitBound());
}

TEST_F(EsmeSessionTest, AfterAStableBindStaysWithThatSmsc) {
  FakeSmsc second(io_);
  EsmeOptions o = Options({smsc_.endpoint(), second.endpoint()});
  o.bind_stable_after = 100ms;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  RunFor(150ms);  // the bind has held long enough
  smsc_.CloseAll();
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
  EXPECT_EQ(second.connections, 0);
}

TEST_F(EsmeSessionTest, AnUnstableBindFailsOverToTheNextSmsc) {
  FakeSmsc second(io_);
  StartSession(Options({smsc_.endpoint(), second.endpoint()}));  // stable only after 60 s
  ASSERT_TRUE(WaitBound());
  smsc_.CloseAll();
  ASSERT_TRUE(RunUntil([&] { return second.connections == 1 && session_->bound(); }));
  EXPECT_EQ(smsc_.connections, 1);
  ASSERT_TRUE(RunUntil([&] { return bound_to_ == Name(second.endpoint()); }));
}

TEST_F(EsmeSessionTest, WindowIsRespected) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.window = 3;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  smsc_.hold_submits = true;
  for (int i = 0; i < 10; ++i) Submit(Message("m" + std::to_string(i)));

  ASSERT_TRUE(RunUntil([&] { return smsc_.held() == 3; }));
  RunFor(200ms);  // nothing more may arrive while the window is full
  EXPECT_EQ(smsc_.held(), 3u);
  EXPECT_EQ(session_->in_flight(), 3u);
  EXPECT_EQ(session_->queued(), 7u);

  std::size_t answered = 0;
  while (answered < 10) {
    const std::size_t expect = std::min<std::size_t>(3, 10 - answered);
    ASSERT_TRUE(RunUntil([&] { return smsc_.held() == expect; })) << answered;
    RunFor(20ms);
    ASSERT_EQ(smsc_.held(), expect);
    answered += expect;
    smsc_.ReleaseHeld();
  }
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 10; }));
  for (const SubmitResult& r : results_) EXPECT_EQ(r.kind, Kind::kAccepted);
  EXPECT_EQ(smsc_.max_held, 3u);
  // In order: the FIFO and the window keep submission order.
  std::vector<std::string> texts;
  for (const auto& rec : smsc_.received) {
    if (rec.pdu.command_id == command::kSubmitSm) {
      texts.push_back(std::get<SubmitSm>(rec.pdu.body).short_message);
    }
  }
  ASSERT_EQ(texts.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(texts[i], "m" + std::to_string(i));
}

TEST_F(EsmeSessionTest, QueueBeyondMaxQueuedIsRefused) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.window = 1;
  o.max_queued = 2;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  smsc_.hold_submits = true;
  for (int i = 0; i < 4; ++i) Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kTransient);
  EXPECT_EQ(results_[0].reason, "queue full");
  EXPECT_EQ(session_->queued(), 2u);
  EXPECT_EQ(session_->in_flight(), 1u);
}

TEST_F(EsmeSessionTest, ThrottledPausesThenResumes) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  smsc_.throttle_next = 1;
  Submit(Message("first"));
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kTransient);
  EXPECT_EQ(results_[0].reason, "throttled");
  EXPECT_EQ(results_[0].command_status, kEsmeRThrottled);
  EXPECT_TRUE(results_[0].sent);

  Submit(Message("second"));
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 2; }));
  EXPECT_EQ(results_[1].kind, Kind::kAccepted);
  const auto times = smsc_.SubmitTimes();
  ASSERT_EQ(times.size(), 2u);
  // The pause starts when the session reads the resp, which is after the SMSC sent it.
  EXPECT_GE(times[1] - smsc_.last_throttle_sent, 300ms);
  EXPECT_EQ(session_->stats().throttled.load(), 1u);
  EXPECT_EQ(session_->stats().submits_transient.load(), 1u);
}

TEST_F(EsmeSessionTest, RateLimitSpacesSubmits) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.max_submits_per_second = 20;  // one per 50 ms
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  for (int i = 0; i < 5; ++i) Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 5; }));
  const auto times = smsc_.SubmitTimes();
  ASSERT_EQ(times.size(), 5u);
  // Sends are >= 200 ms apart first to last; arrival jitter on loopback is far below 50 ms.
  EXPECT_GE(times[4] - times[0], 150ms);
}

TEST_F(EsmeSessionTest, RateLimitWaitSurvivesAReconnect) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.max_submits_per_second = 2;  // the second submit waits ~500 ms for its token
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  Submit();
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(session_->queued(), 1u);
  smsc_.CloseAll();  // cancels the wait for the token
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 2; }));
  EXPECT_EQ(results_[1].reason, "connection lost");
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
  Submit();  // must wait for the token again, not forever
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 3; }));
  EXPECT_EQ(results_[2].kind, Kind::kAccepted);
}

TEST_F(EsmeSessionTest, PermanentAndLocallyRefused) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  smsc_.submit_status = kEsmeRInvDstAdr;
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kPermanent);
  EXPECT_EQ(results_[0].command_status, kEsmeRInvDstAdr);
  EXPECT_EQ(results_[0].reason, "ESME_RINVDSTADR");

  smsc_.submit_status = kEsmeRMsgQFul;
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 2; }));
  EXPECT_EQ(results_[1].kind, Kind::kTransient);
  EXPECT_EQ(results_[1].reason, "SMSC queue full");

  SubmitSm bad = Message();
  bad.destination_addr = std::string(21, '4');
  Submit(bad);
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 3; }));
  EXPECT_EQ(results_[2].kind, Kind::kPermanent);
  EXPECT_EQ(results_[2].command_status, kEsmeRInvDstAdr);
  EXPECT_FALSE(results_[2].sent);
  EXPECT_EQ(smsc_.Count(command::kSubmitSm), 2);
}

TEST_F(EsmeSessionTest, SubmitTimeoutAndLateRespIgnored) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.response_timeout = 200ms;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  smsc_.hold_submits = true;
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kTransient);
  EXPECT_EQ(results_[0].reason, "timeout");
  EXPECT_TRUE(results_[0].sent);
  EXPECT_EQ(session_->in_flight(), 0u);
  smsc_.ReleaseHeld();  // the late resp
  RunFor(100ms);
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_EQ(session_->stats().submit_timeouts.load(), 1u);
  EXPECT_TRUE(session_->bound());
}

TEST_F(EsmeSessionTest, EnquireLinkSentAndMissingRespReconnects) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.enquire_link_interval = 100ms;
  o.response_timeout = 300ms;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  ASSERT_TRUE(RunUntil([&] { return smsc_.Count(command::kEnquireLink) >= 3; }));
  EXPECT_EQ(smsc_.connections, 1);
  EXPECT_TRUE(session_->bound());
  EXPECT_EQ(session_->stats().enquire_link_timeouts.load(), 0u);

  smsc_.answer_enquire_link = false;
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
  EXPECT_GE(session_->stats().enquire_link_timeouts.load(), 1u);
  EXPECT_GE(session_->stats().enquire_links_sent.load(), 4u);
  ASSERT_TRUE(RunUntil([&] { return states_.size() >= 3; }));
  EXPECT_EQ(states_[0], true);
  EXPECT_EQ(states_[1], false);
  EXPECT_EQ(states_[2], true);
}

TEST_F(EsmeSessionTest, SmscClosesThenReconnectAndPendingCompleteTransient) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.window = 1;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  smsc_.hold_submits = true;
  for (int i = 0; i < 3; ++i) Submit();
  ASSERT_TRUE(RunUntil([&] { return smsc_.held() == 1; }));
  smsc_.CloseAll();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 3; }));
  int sent = 0;
  for (const SubmitResult& r : results_) {
    EXPECT_EQ(r.kind, Kind::kTransient);
    EXPECT_EQ(r.reason, "connection lost");
    sent += r.sent ? 1 : 0;
  }
  EXPECT_EQ(sent, 1);  // the outstanding one may have been accepted; the queued ones were not sent
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
  EXPECT_EQ(session_->stats().reconnects.load(), 1u);
  smsc_.hold_submits = false;
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 4; }));
  EXPECT_EQ(results_[3].kind, Kind::kAccepted);
}

TEST_F(EsmeSessionTest, DeliverSmGoesToHandlerAndRespondSendsStatus) {
  StartSession(Options({smsc_.endpoint()}));
  std::vector<DeliverSm> got;
  std::vector<EsmeSession::Respond> responds;
  session_->OnDeliver([&](DeliverSm d, EsmeSession::Respond respond) {
    got.push_back(std::move(d));
    responds.push_back(std::move(respond));
  });
  ASSERT_TRUE(WaitBound());

  DeliverSm d;
  d.source_addr = "491701234567";
  d.destination_addr = "msgin5g";
  d.esm_class = 0x04;
  d.short_message = "id:x1 stat:DELIVRD";
  d.tlvs.set_receipted_message_id("x1");
  d.tlvs.set_message_state(message_state::kDelivered);
  // Written in two pieces: the session must reassemble the frame across reads.
  const std::string wire = Encode(Pdu{command::kDeliverSm, 0, 77, d});
  smsc_.SendRaw(wire.substr(0, 10));
  RunFor(30ms);
  smsc_.SendRaw(wire.substr(10));
  ASSERT_TRUE(RunUntil([&] { return got.size() == 1; }));
  EXPECT_EQ(got[0], d);
  EXPECT_EQ(got[0].tlvs.receipted_message_id(), "x1");

  RunFor(100ms);  // the handler has not answered yet: nor has the session
  EXPECT_EQ(smsc_.Count(command::kDeliverSmResp), 0);
  responds[0](kEsmeRxPAppn);
  ASSERT_TRUE(RunUntil([&] { return smsc_.Count(command::kDeliverSmResp) == 1; }));
  const std::optional<Pdu> resp = smsc_.Last(command::kDeliverSmResp);
  EXPECT_EQ(resp->sequence_number, 77u);
  EXPECT_EQ(resp->command_status, kEsmeRxPAppn);
  responds[0](kEsmeROk);  // a second call does nothing
  RunFor(50ms);
  EXPECT_EQ(smsc_.Count(command::kDeliverSmResp), 1);

  // A respond that outlives its connection does nothing either.
  smsc_.Send(Pdu{command::kDeliverSm, 0, 78, d});
  ASSERT_TRUE(RunUntil([&] { return got.size() == 2; }));
  smsc_.CloseAll();
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
  responds[1](kEsmeROk);
  RunFor(50ms);
  EXPECT_EQ(smsc_.Count(command::kDeliverSmResp), 1);
  EXPECT_EQ(session_->stats().deliver_sm_received.load(), 2u);
}

TEST_F(EsmeSessionTest, DeliverSmWithoutHandlerIsAnsweredTryLater) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  DeliverSm d;
  d.source_addr = "1";
  d.destination_addr = "2";
  smsc_.Send(Pdu{command::kDeliverSm, 0, 5, d});
  ASSERT_TRUE(RunUntil([&] { return smsc_.Count(command::kDeliverSmResp) == 1; }));
  EXPECT_EQ(smsc_.Last(command::kDeliverSmResp)->command_status, kEsmeRxTAppn);
  EXPECT_EQ(smsc_.Last(command::kDeliverSmResp)->sequence_number, 5u);
}

TEST_F(EsmeSessionTest, FarSideRequestsUnknownAndMalformedPdus) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  auto frame = [](std::uint32_t id, std::uint32_t seq, std::string body) {
    std::string f = Encode(Pdu{id, 0, seq, {}});
    f += body;
    f[3] = static_cast<char>(f.size());
    return f;
  };
  smsc_.SendRaw(frame(0x00000099, 55, ""));              // unknown command
  smsc_.SendRaw(frame(command::kDeliverSm, 56, "xyz"));  // body without its NULs
  smsc_.Send(Pdu{command::kEnquireLink, 0, 57, {}});     // SMSC-initiated keep-alive
  smsc_.SendRaw(frame(command::kSubmitSm, 58, ""));      // decodes? no: empty submit_sm body
  ASSERT_TRUE(RunUntil([&] {
    return smsc_.Count(command::kGenericNack) == 3 && smsc_.Count(command::kEnquireLinkResp) == 1;
  }));
  std::vector<std::pair<std::uint32_t, std::uint32_t>> nacks;
  for (const auto& r : smsc_.received) {
    if (r.pdu.command_id == command::kGenericNack) {
      nacks.emplace_back(r.pdu.sequence_number, r.pdu.command_status);
    }
  }
  ASSERT_EQ(nacks.size(), 3u);
  EXPECT_EQ(nacks[0], std::make_pair(55u, kEsmeRInvCmdId));
  EXPECT_EQ(nacks[1], std::make_pair(56u, kEsmeRInvCmdLen));
  EXPECT_EQ(nacks[2], std::make_pair(58u, kEsmeRInvCmdLen));
  EXPECT_EQ(smsc_.Last(command::kEnquireLinkResp)->sequence_number, 57u);
  EXPECT_EQ(session_->stats().malformed_pdus_received.load(), 2u);
  EXPECT_EQ(session_->stats().unknown_commands_received.load(), 1u);
  EXPECT_EQ(session_->stats().generic_nacks_sent.load(), 3u);
  // None of it cost the bind.
  EXPECT_EQ(smsc_.connections, 1);
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kAccepted);
}

TEST_F(EsmeSessionTest, GarbageLengthDropsConnectionAndSessionRecovers) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  smsc_.SendRaw(
      std::string("\xff\xff\xff\xff\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01", 16));
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
  EXPECT_EQ(session_->stats().malformed_pdus_received.load(), 1u);
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kAccepted);
}

TEST_F(EsmeSessionTest, GenericNackFromSmscCompletesTheSubmit) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  smsc_.hold_submits = true;
  Submit();
  ASSERT_TRUE(RunUntil([&] { return smsc_.held() == 1; }));
  smsc_.Send(MakeGenericNack(smsc_.Last(command::kSubmitSm)->sequence_number, kEsmeRInvCmdLen));
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 1; }));
  EXPECT_EQ(results_[0].kind, Kind::kPermanent);
  EXPECT_EQ(results_[0].command_status, kEsmeRInvCmdLen);
  EXPECT_EQ(session_->stats().generic_nacks_received.load(), 1u);
  EXPECT_EQ(session_->in_flight(), 0u);
}

TEST_F(EsmeSessionTest, UnbindFromSmscIsAnsweredThenReconnects) {
  StartSession(Options({smsc_.endpoint()}));
  ASSERT_TRUE(WaitBound());
  smsc_.Send(Pdu{command::kUnbind, 0, 9, {}});
  ASSERT_TRUE(RunUntil([&] { return smsc_.Count(command::kUnbindResp) == 1; }));
  EXPECT_EQ(smsc_.Last(command::kUnbindResp)->sequence_number, 9u);
  ASSERT_TRUE(RunUntil([&] { return smsc_.connections == 2 && session_->bound(); }));
}

TEST_F(EsmeSessionTest, StopUnbindsAndCompletesEverything) {
  EsmeOptions o = Options({smsc_.endpoint()});
  o.window = 1;
  StartSession(o);
  ASSERT_TRUE(WaitBound());
  smsc_.hold_submits = true;
  Submit();
  Submit();
  ASSERT_TRUE(RunUntil([&] { return smsc_.held() == 1; }));
  session_->Stop();
  EXPECT_FALSE(session_->bound());
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 2 && smsc_.Count(command::kUnbind) == 1; }));
  for (const SubmitResult& r : results_) {
    EXPECT_EQ(r.kind, Kind::kTransient);
    EXPECT_EQ(r.reason, "stopped");
  }
  ASSERT_TRUE(RunUntil([&] { return states_.size() == 2; }));
  EXPECT_FALSE(states_[1]);
  Submit();
  ASSERT_TRUE(RunUntil([&] { return results_.size() == 3; }));
  EXPECT_EQ(results_[2].reason, "stopped");
  RunFor(200ms);
  EXPECT_EQ(smsc_.connections, 1);  // no reconnect after Stop
}

}  // namespace
}  // namespace msgin5g::gateway::smpp
