// MqttLink against a real mosquitto broker on 127.0.0.1, with mosquitto_pub / mosquitto_sub as
// the devices. Every wait is a condition with a deadline, never a bare sleep that must be long
// enough; the only sleeps check that something does NOT happen.
#include "gateway/mqtt/mqtt_link.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "gateway/mqtt/topic_template.h"
#include "tests/gateway/mqtt/mosquitto_broker.h"
#include "tests/support/test_util.h"

namespace msgin5g::gateway::mqtt {
namespace {

using namespace std::chrono_literals;
using mqtt_test::MosquittoBroker;
using testing_support::TempDir;
using testing_support::WaitFor;

// What the link delivered on the executor, read from the test thread.
struct Seen {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> messages;
  std::vector<bool> ups;
  std::thread::id callback_thread;
  bool hold_acks = false;              // keep the Acks instead of calling them at once
  std::vector<MqttLink::Ack> acks;

  void AckAll() {
    std::vector<MqttLink::Ack> take;
    {
      std::lock_guard lk(mu);
      take.swap(acks);
    }
    for (auto& a : take) a();
  }

  size_t Messages() {
    std::lock_guard lk(mu);
    return messages.size();
  }
  std::optional<bool> LastUp() {
    std::lock_guard lk(mu);
    if (ups.empty()) return std::nullopt;
    return ups.back();
  }
  int UpCount() {
    std::lock_guard lk(mu);
    int n = 0;
    for (bool up : ups) n += up;
    return n;
  }
};

// A publish outcome, set on the executor.
struct Outcome {
  std::mutex mu;
  std::optional<Status> status;
  std::chrono::steady_clock::time_point at;
  MqttLink::Done Done() {
    return [this](Status st) {
      std::lock_guard lk(mu);
      status = std::move(st);
      at = std::chrono::steady_clock::now();
    };
  }
  bool has() {
    std::lock_guard lk(mu);
    return status.has_value();
  }
  StatusCode code() {
    std::lock_guard lk(mu);
    return status ? status->code() : StatusCode::kInternal;
  }
};

class MqttLinkTest : public ::testing::Test {
 protected:
  MqttLinkTest() : broker_(testing_support::FreePort()), work_(io_.get_executor()) {
    io_thread_ = std::thread([this] { io_.run(); });
  }
  ~MqttLinkTest() override {
    links_.clear();  // stops them while the executor still runs
    work_.reset();
    io_.stop();
    io_thread_.join();
  }

  LinkOptions Options(std::string client_id = "gw-test") {
    LinkOptions o;
    o.port = static_cast<std::uint16_t>(broker_.port());
    o.client_id = std::move(client_id);
    o.keepalive = 5s;
    o.reconnect_delay_min = 100ms;
    o.reconnect_delay_max = 400ms;
    o.publish_timeout = 5s;
    return o;
  }

  MqttLink& NewLink(LinkOptions o, Seen* seen) {
    links_.push_back(std::make_unique<MqttLink>(io_.get_executor(), std::move(o)));
    MqttLink& link = *links_.back();
    link.OnMessage([seen](std::string topic, std::string payload, MqttLink::Ack ack) {
      std::lock_guard lk(seen->mu);
      seen->messages.emplace_back(std::move(topic), std::move(payload));
      seen->callback_thread = std::this_thread::get_id();
      if (seen->hold_acks) {
        seen->acks.push_back(std::move(ack));
      } else {
        ack();
      }
    });
    link.OnConnected([seen](bool up) {
      std::lock_guard lk(seen->mu);
      seen->ups.push_back(up);
    });
    return link;
  }

  // A device publishing to the broker, QoS 1.
  void DevicePublish(const std::string& topic, const std::string& payload) {
    auto r = testing_support::Run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_.port()), "-q",
                  "1", "-t", topic, "-m", payload},
                 "", 10s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void DevicePublishFile(const std::string& topic, const std::string& file) {
    auto r = testing_support::Run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_.port()), "-q",
                  "1", "-t", topic, "-f", file},
                 "", 10s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static LinkOptions WithUplink(LinkOptions o) {
    o.subscriptions = {{"msgin5g/+/up", 1}};
    return o;
  }

  MosquittoBroker broker_;
  TempDir tmp_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::vector<std::unique_ptr<MqttLink>> links_;
};

TEST_F(MqttLinkTest, Qos1PublishReachesDeviceAndDoneFollowsPuback) {
  ASSERT_TRUE(broker_.Start());
  auto down = TopicTemplate::Parse("msgin5g/{ueSvcId}/down", "{ueSvcId}");
  ASSERT_TRUE(down.ok());
  const std::string topic = *down->Expand("ue-1");
  const std::string port = std::to_string(broker_.port());
  // The device's persistent session subscribes first (-E: exit once SUBACKed), so the message
  // waits for it at the broker and the test does not race the device's SUBSCRIBE.
  auto sub = testing_support::Run({"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i", "dev-ue-1", "-c", "-q",
                  "1", "-t", topic, "-E"},
                 "", 10s);
  ASSERT_EQ(sub.exit_code, 0) << sub.err;

  Seen seen;
  MqttLink& link = NewLink(Options(), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s)) << broker_.Log();
  EXPECT_TRUE(link.connected());

  // The broker paused: the PUBLISH is sent but no PUBACK comes, so no outcome yet.
  broker_.Pause();
  Outcome out;
  link.Publish(topic, "downlink message 1", 1, false, out.Done());
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(out.has()) << "done before the broker could PUBACK";
  EXPECT_EQ(link.stats().puback, 0u);
  broker_.Resume();
  ASSERT_TRUE(WaitFor([&] { return out.has(); }, 10s));
  EXPECT_EQ(out.code(), StatusCode::kOk);
  EXPECT_EQ(link.stats().published, 1u);
  EXPECT_EQ(link.stats().puback, 1u);

  auto got = testing_support::Run({"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i", "dev-ue-1", "-c", "-q",
                  "1", "-t", topic, "-C", "1", "-W", "10"},
                 "", 15s);
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "downlink message 1\n");
}

TEST_F(MqttLinkTest, Qos0PublishCompletesWhenWritten) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  MqttLink& link = NewLink(WithUplink(Options()), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  Outcome out;
  link.Publish("msgin5g/ue-9/up", "loopback", 0, false, out.Done());  // we subscribe to it
  ASSERT_TRUE(WaitFor([&] { return out.has() && seen.Messages() == 1; }, 10s));
  EXPECT_EQ(out.code(), StatusCode::kOk);
}

TEST_F(MqttLinkTest, DeviceUplinkReachesOnMessageOnTheExecutor) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  MqttLink& link = NewLink(WithUplink(Options()), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));

  DevicePublish("msgin5g/ue-1/up", "hello from ue-1");
  // Binary payloads pass unchanged (NUL, 0xFF).
  const std::string binary("a\0b\xff", 4);
  testing_support::WriteFile(tmp_.File("bin"), binary);
  DevicePublishFile("msgin5g/ue-1/up", tmp_.File("bin"));
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 2; }, 10s));
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.messages[0].first, "msgin5g/ue-1/up");
  EXPECT_EQ(seen.messages[0].second, "hello from ue-1");
  EXPECT_EQ(seen.messages[1].second, binary);
  EXPECT_EQ(seen.callback_thread, io_thread_.get_id());
  auto up = TopicTemplate::Parse("msgin5g/{ueSvcId}/up", "{ueSvcId}");
  EXPECT_EQ(up->Match(seen.messages[0].first), "ue-1");
  EXPECT_EQ(link.stats().messages_received, 2u);
}

TEST_F(MqttLinkTest, BrokerKilledFailsFastThenReconnectsAndResubscribes) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  MqttLink& link = NewLink(WithUplink(Options()), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));

  broker_.Kill();
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == false; }, 10s));
  EXPECT_FALSE(link.connected());
  Outcome out;
  const auto asked = std::chrono::steady_clock::now();
  link.Publish("msgin5g/ue-1/down", "while down", 1, false, out.Done());
  ASSERT_TRUE(WaitFor([&] { return out.has(); }, 5s));
  EXPECT_EQ(out.code(), StatusCode::kUnavailable);
  EXPECT_LT(out.at - asked, 1s) << "not refused at once";
  EXPECT_EQ(link.stats().publish_refused, 1u);
  EXPECT_EQ(link.stats().disconnects, 1u);

  // Same port, no persistence: the broker knows nothing of us; the link must subscribe again.
  ASSERT_TRUE(broker_.Start());
  ASSERT_TRUE(WaitFor([&] { return seen.UpCount() == 2 && seen.LastUp() == true; }, 10s))
      << broker_.Log();
  EXPECT_GE(link.stats().connects, 2u);
  DevicePublish("msgin5g/ue-2/up", "after restart");
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 1; }, 10s));
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.messages[0].first, "msgin5g/ue-2/up");
  EXPECT_EQ(seen.messages[0].second, "after restart");
}

// A publish in flight when the connection drops stays pending: libmosquitto resends it after
// the reconnect, and its PUBACK within publish_timeout completes it Ok (no caller retry needed).
TEST_F(MqttLinkTest, InFlightPublishCompletesAfterQuickReconnect) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  MqttLink& link = NewLink(WithUplink(Options()), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  broker_.Pause();
  Outcome out;
  link.Publish("msgin5g/ue-7/up", "in flight", 1, false, out.Done());  // loops back to us
  std::this_thread::sleep_for(100ms);
  broker_.Kill();
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == false; }, 10s));
  EXPECT_FALSE(out.has());
  ASSERT_TRUE(broker_.Start());
  ASSERT_TRUE(WaitFor([&] { return out.has(); }, 10s));
  EXPECT_EQ(out.code(), StatusCode::kOk);
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 1; }, 10s));
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.messages[0].second, "in flight");
}

TEST_F(MqttLinkTest, StartWhileBrokerDownConnectsWhenItComesUp) {
  Seen seen;
  MqttLink& link = NewLink(WithUplink(Options()), &seen);
  ASSERT_TRUE(link.Start().ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(link.connected());
  EXPECT_GE(link.stats().connect_failures, 1u);
  ASSERT_TRUE(broker_.Start());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
}

TEST_F(MqttLinkTest, PersistentSessionDeliversWhatCameWhileStopped) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  MqttLink& link = NewLink(WithUplink(Options("gw-persistent")), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  link.Stop();
  EXPECT_FALSE(link.connected());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == false; }, 5s));

  DevicePublish("msgin5g/ue-3/up", "sent while the gateway was away");
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 1; }, 10s)) << broker_.Log();
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.messages[0].first, "msgin5g/ue-3/up");
  EXPECT_EQ(seen.messages[0].second, "sent while the gateway was away");
}

// The broker's copy of an inbound message is released only by its Ack: a message the receiver
// has not acknowledged when the connection goes comes again on the next one (DUP), one it has
// acknowledged does not; an Ack from the old connection does nothing on the new one.
TEST_F(MqttLinkTest, UnackedInboundComesAgainAfterReconnectAckedDoesNot) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  seen.hold_acks = true;
  MqttLink& link = NewLink(WithUplink(Options("gw-acks")), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  for (int i = 1; i <= 3; ++i) DevicePublish("msgin5g/ue-1/up", "m" + std::to_string(i));
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 3; }, 10s));
  std::vector<MqttLink::Ack> old;
  {
    std::lock_guard lk(seen.mu);
    old.swap(seen.acks);
  }
  old[0]();  // only m1 is "stored"
  // The PUBACK of m1 must be out before the connection goes: wait until the broker forgot it,
  // seen by a ping-pong through the broker (our own loopback publish comes back after it).
  Outcome marker;
  link.Publish("msgin5g/marker/up", "marker", 1, false, marker.Done());
  ASSERT_TRUE(WaitFor([&] { return marker.has() && seen.Messages() == 4; }, 10s));
  link.Stop();
  ASSERT_TRUE(link.Start().ok());
  // m2, m3 and the marker (never acked) again; m1 not.
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 7; }, 10s)) << broker_.Log();
  std::this_thread::sleep_for(300ms);  // nothing more comes
  {
    std::lock_guard lk(seen.mu);
    ASSERT_EQ(seen.messages.size(), 7u);
    std::multiset<std::string> again;
    for (std::size_t i = 4; i < 7; ++i) again.insert(seen.messages[i].second);
    EXPECT_EQ(again, (std::multiset<std::string>{"m2", "m3", "marker"}));
  }
  EXPECT_GE(link.stats().redelivered, 3u);
  for (auto& a : old) a();  // acks of the old connection: ignored, no crash
  seen.AckAll();
  link.Stop();
  ASSERT_TRUE(link.Start().ok());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(seen.Messages(), 7u) << "acked on the second connection: not sent a third time";
}

// ack.Fail (the receiver could not store it): the link drops the connection, and after the
// backoff the broker sends that message and the unacknowledged one behind it again.
TEST_F(MqttLinkTest, FailedAckReconnectsAndTheBrokerSendsItAgain) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  seen.hold_acks = true;
  MqttLink& link = NewLink(WithUplink(Options("gw-fail")), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  DevicePublish("msgin5g/ue-4/up", "f1");
  DevicePublish("msgin5g/ue-4/up", "f2");
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 2; }, 10s));
  MqttLink::Ack first;
  {
    std::lock_guard lk(seen.mu);
    first = seen.acks[0];
    seen.acks.clear();
  }
  first.Fail("disk full");
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 4; }, 10s)) << broker_.Log();
  EXPECT_EQ(link.stats().connects, 2u);
  EXPECT_GE(link.stats().redelivered, 2u);
  {
    std::lock_guard lk(seen.mu);
    EXPECT_EQ(seen.messages[2].second, "f1");
    EXPECT_EQ(seen.messages[3].second, "f2");
  }
  seen.AckAll();
  link.Stop();
  ASSERT_TRUE(link.Start().ok());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(seen.Messages(), 4u) << "stored on the second connection: not sent again";
}

// At max_inbound_unacked messages waiting for their Ack the link stops taking more from the
// broker; Acks let the rest in, in order.
TEST_F(MqttLinkTest, InboundPausesAtMaxUnackedAndResumesOnAcks) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  seen.hold_acks = true;
  LinkOptions o = WithUplink(Options("gw-pause"));
  o.max_inbound_unacked = 2;
  MqttLink& link = NewLink(std::move(o), &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  for (int i = 1; i <= 5; ++i) DevicePublish("msgin5g/ue-2/up", "p" + std::to_string(i));
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 2; }, 10s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(seen.Messages(), 2u) << "read past the bound";
  while (seen.Messages() < 5) {
    const std::size_t before = seen.Messages();
    seen.AckAll();
    ASSERT_TRUE(WaitFor([&] { return seen.Messages() > before; }, 10s));
  }
  std::lock_guard lk(seen.mu);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seen.messages[i].second, "p" + std::to_string(i + 1));
}

TEST_F(MqttLinkTest, CleanSessionLosesWhatCameWhileStopped) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  LinkOptions o = WithUplink(Options("gw-clean"));
  o.clean_session = true;
  MqttLink& link = NewLink(o, &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.UpCount() == 1; }, 10s));
  link.Stop();
  DevicePublish("msgin5g/ue-3/up", "lost");
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.UpCount() == 2; }, 10s));
  DevicePublish("msgin5g/ue-3/up", "marker");
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() >= 1; }, 10s));
  std::this_thread::sleep_for(100ms);
  std::lock_guard lk(seen.mu);
  ASSERT_EQ(seen.messages.size(), 1u);
  EXPECT_EQ(seen.messages[0].second, "marker");
}

TEST_F(MqttLinkTest, OversizeInboundIsDroppedAndCounted) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  LinkOptions o = WithUplink(Options());
  o.max_inbound_payload = 1024;
  MqttLink& link = NewLink(o, &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));

  testing_support::WriteFile(tmp_.File("big"), std::string(1025, 'x'));
  testing_support::WriteFile(tmp_.File("edge"), std::string(1024, 'y'));
  DevicePublishFile("msgin5g/ue-1/up", tmp_.File("big"));
  DevicePublishFile("msgin5g/ue-1/up", tmp_.File("edge"));
  ASSERT_TRUE(WaitFor([&] { return seen.Messages() == 1; }, 10s));
  EXPECT_EQ(link.stats().dropped_oversize, 1u);
  EXPECT_EQ(link.stats().messages_received, 1u);
  EXPECT_TRUE(link.connected());
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.messages[0].second.size(), 1024u);
}

TEST_F(MqttLinkTest, MessagesOutsideCurrentSubscriptionsAreDropped) {
  // A persistent session remembers an earlier configuration's subscriptions.
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  LinkOptions old_config = Options("gw-reconfigured");
  old_config.subscriptions = {{"msgin5g/+/up", 1}, {"msgin5g/+/report", 1}};
  MqttLink& old_link = NewLink(old_config, &seen);
  ASSERT_TRUE(old_link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  old_link.Stop();

  Seen seen2;
  MqttLink& link = NewLink(WithUplink(Options("gw-reconfigured")), &seen2);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen2.LastUp() == true; }, 10s));
  DevicePublish("msgin5g/ue-1/report", "stale subscription");
  DevicePublish("msgin5g/ue-1/up", "current");
  ASSERT_TRUE(WaitFor([&] { return seen2.Messages() == 1; }, 10s));
  EXPECT_EQ(link.stats().dropped_invalid, 1u);
  std::lock_guard lk(seen2.mu);
  EXPECT_EQ(seen2.messages[0].second, "current");
}

TEST_F(MqttLinkTest, NoPubackTimesOut) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  LinkOptions o = Options();
  o.publish_timeout = 500ms;
  MqttLink& link = NewLink(o, &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  broker_.Pause();
  Outcome out;
  link.Publish("msgin5g/ue-1/down", "unanswered", 1, false, out.Done());
  ASSERT_TRUE(WaitFor([&] { return out.has(); }, 5s));
  EXPECT_EQ(out.code(), StatusCode::kUnavailable);
  EXPECT_EQ(link.stats().publish_timeouts, 1u);
  broker_.Resume();
}

TEST_F(MqttLinkTest, MaxInFlightRefusesAtOnceAndStopFailsPending) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  LinkOptions o = Options();
  o.max_in_flight = 2;
  MqttLink& link = NewLink(o, &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  broker_.Pause();
  Outcome a, b, c;
  link.Publish("msgin5g/ue-1/down", "1", 1, false, a.Done());
  link.Publish("msgin5g/ue-1/down", "2", 1, false, b.Done());
  link.Publish("msgin5g/ue-1/down", "3", 1, false, c.Done());
  ASSERT_TRUE(WaitFor([&] { return c.has(); }, 5s));
  EXPECT_EQ(c.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(a.has());
  EXPECT_FALSE(b.has());

  link.Stop();  // the paused broker never acks: both complete Unavailable
  ASSERT_TRUE(WaitFor([&] { return a.has() && b.has(); }, 5s));
  EXPECT_EQ(a.code(), StatusCode::kUnavailable);
  EXPECT_EQ(b.code(), StatusCode::kUnavailable);
  Outcome d;
  link.Publish("msgin5g/ue-1/down", "after stop", 1, false, d.Done());
  ASSERT_TRUE(WaitFor([&] { return d.has(); }, 5s));
  EXPECT_EQ(d.code(), StatusCode::kUnavailable);
  broker_.Resume();
}

TEST_F(MqttLinkTest, RefusesBadArgumentsAndOptions) {
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  MqttLink& link = NewLink(Options(), &seen);
  ASSERT_TRUE(link.Start().ok());
  EXPECT_EQ(link.Start().code(), StatusCode::kConflict);
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s));
  for (const std::string& topic : {std::string("msgin5g/+/down"), std::string("msgin5g/#"),
                                  std::string(""), std::string("msgin5g/a\0b", 11),
                                  std::string("msgin5g/\xC3(")}) {
    Outcome out;
    link.Publish(topic, "x", 1, false, out.Done());
    ASSERT_TRUE(WaitFor([&] { return out.has(); }, 5s));
    EXPECT_EQ(out.code(), StatusCode::kInvalidArgument) << topic;
  }
  Outcome bad_qos;
  link.Publish("msgin5g/ue-1/down", "x", 3, false, bad_qos.Done());
  ASSERT_TRUE(WaitFor([&] { return bad_qos.has(); }, 5s));
  EXPECT_EQ(bad_qos.code(), StatusCode::kInvalidArgument);

  auto refused = [&](LinkOptions o) {
    MqttLink l(io_.get_executor(), std::move(o));
    return l.Start().code();
  };
  LinkOptions no_id = Options("");
  EXPECT_EQ(refused(no_id), StatusCode::kInvalidArgument);  // persistent session needs an id
  LinkOptions bad_filter = Options("x");
  bad_filter.subscriptions = {{"msgin5g/#/up", 1}};
  EXPECT_EQ(refused(bad_filter), StatusCode::kInvalidArgument);
  LinkOptions keepalive = Options("x");
  keepalive.keepalive = 3s;
  EXPECT_EQ(refused(keepalive), StatusCode::kInvalidArgument);
  LinkOptions in_flight = Options("x");
  in_flight.max_in_flight = 0;
  EXPECT_EQ(refused(in_flight), StatusCode::kInvalidArgument);
  LinkOptions tls = Options("x");
  tls.tls.enabled = true;
  tls.tls.ca_file = tmp_.File("missing-ca.pem");
  EXPECT_NE(refused(tls), StatusCode::kOk);
}

// The reason this link runs libmosquitto's loop itself: a failed first TLS handshake makes
// mosquitto_loop_forever (mosquitto_loop_start) give up for good. Here the first attempts meet
// a plain-TCP broker; once a TLS broker listens on that port the link must get in.
TEST_F(MqttLinkTest, TlsRecoversFromFailedHandshakes) {
  TempDir certs_dir;
  const auto certs = testing_support::MakeTestCerts(certs_dir.path());
  ASSERT_TRUE(broker_.Start());
  Seen seen;
  LinkOptions o = WithUplink(Options());
  o.tls.enabled = true;
  o.tls.ca_file = certs.ca_cert;
  MqttLink& link = NewLink(o, &seen);
  ASSERT_TRUE(link.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return link.stats().connect_failures >= 2; }, 10s));
  EXPECT_FALSE(link.connected());

  broker_.Kill();
  ASSERT_TRUE(broker_.StartTls({certs.ca_cert, certs.server_cert, certs.server_key}))
      << broker_.Log();
  ASSERT_TRUE(WaitFor([&] { return seen.LastUp() == true; }, 10s)) << broker_.Log();
  Outcome out;
  link.Publish("msgin5g/ue-5/up", "over tls", 1, false, out.Done());  // loops back to us
  ASSERT_TRUE(WaitFor([&] { return out.has() && seen.Messages() == 1; }, 10s));
  EXPECT_EQ(out.code(), StatusCode::kOk);
}

}  // namespace
}  // namespace msgin5g::gateway::mqtt
