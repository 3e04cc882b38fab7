// The MQTT 3.1.1 codec: encoders byte for byte against the standard's layouts, the frame
// reader fed whole, byte by byte and with oversize or malformed input, topic filters.
#include "gateway/mqtt/mqtt_packets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace msgin5g::gateway::mqtt::wire {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

// All packets in `stream`, fed `chunk` bytes at a time.
std::vector<Packet> ReadAll(const std::string& stream, std::size_t chunk, std::size_t max_body = 1 << 20) {
  FrameReader r(max_body);
  std::vector<Packet> out;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    r.Feed(stream.data() + at, std::min(chunk, stream.size() - at));
    while (true) {
      auto p = r.Next();
      EXPECT_TRUE(p.ok()) << p.status().message();
      if (!p.ok() || !p->has_value()) break;
      out.push_back(std::move(**p));
    }
  }
  EXPECT_EQ(r.buffered(), 0u);
  return out;
}

TEST(MqttPackets, ConnectLayout) {
  ConnectFields f;
  f.client_id = "gw";
  f.clean_session = false;
  f.keepalive_s = 30;
  f.username = "u";
  f.password = "p";
  // 3.1: protocol name, level 4, flags user|password (no clean session), keepalive, then the
  // client id, user name and password as length-prefixed strings.
  EXPECT_EQ(EncodeConnect(f), Bytes({0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xC0, 0, 30, 0, 2, 'g',
                                     'w', 0, 1, 'u', 0, 1, 'p'}));
  ConnectFields anon;
  anon.client_id = "";
  anon.password = "ignored without a user name";
  EXPECT_EQ(EncodeConnect(anon), Bytes({0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, 0}));
}

TEST(MqttPackets, PublishAndAcksLayout) {
  EXPECT_EQ(EncodePublish("a/b", "hi", 1, false, false, 0x0102),
            Bytes({0x32, 9, 0, 3, 'a', '/', 'b', 1, 2, 'h', 'i'}));
  EXPECT_EQ(EncodePublish("t", "x", 0, true, true, 7), Bytes({0x31, 4, 0, 1, 't', 'x'}));  // no id, no DUP
  EXPECT_EQ(EncodePublish("t", "", 2, false, true, 9), Bytes({0x3C, 5, 0, 1, 't', 0, 9}));
  EXPECT_EQ(EncodeIdOnly(Type::kPubAck, 258), Bytes({0x40, 2, 1, 2}));
  EXPECT_EQ(EncodeIdOnly(Type::kPubRel, 1), Bytes({0x62, 2, 0, 1}));  // PUBREL flags 0b0010
  EXPECT_EQ(EncodeSubscribe(5, {{"x/+", 1}}), Bytes({0x82, 8, 0, 5, 0, 3, 'x', '/', '+', 1}));
  EXPECT_EQ(EncodePingReq(), Bytes({0xC0, 0}));
  EXPECT_EQ(EncodeDisconnect(), Bytes({0xE0, 0}));
}

TEST(MqttPackets, RemainingLengthBoundaries) {
  // 127 fits one length byte, 128 needs two, 16383 two, 16384 three (2.2.3).
  for (std::size_t body : {127u, 128u, 16383u, 16384u, 2097152u}) {
    const std::string payload(body - 2 - 1, 'p');  // topic "t" takes 3 bytes, QoS 0
    const std::string pkt = EncodePublish("t", payload, 0, false, false, 0);
    const std::size_t len_bytes = body < 128 ? 1 : body < 16384 ? 2 : body < 2097152 ? 3 : 4;
    ASSERT_EQ(pkt.size(), 1 + len_bytes + body) << body;
    auto got = ReadAll(pkt, 4096, 4u << 20);
    ASSERT_EQ(got.size(), 1u);
    auto m = ParsePublish(got[0]);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->payload.size(), payload.size());
  }
}

TEST(MqttPackets, ReaderSplitsAStreamFedByteByByte) {
  const std::string stream = Bytes({0x20, 2, 1, 0}) +                      // CONNACK, session present
                             EncodePublish("d/1/up", "hello", 1, false, true, 42) +
                             Bytes({0x90, 3, 0, 5, 0x80}) +                 // SUBACK refused
                             Bytes({0xD0, 0}) +                             // PINGRESP
                             Bytes({0x40, 2, 0, 9});                        // PUBACK 9
  for (std::size_t chunk : {1u, 3u, 1000u}) {
    auto p = ReadAll(stream, chunk);
    ASSERT_EQ(p.size(), 5u) << chunk;
    auto ack = ParseConnAck(p[0]);
    ASSERT_TRUE(ack.ok());
    EXPECT_TRUE(ack->session_present);
    EXPECT_EQ(ack->return_code, 0);
    auto m = ParsePublish(p[1]);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->topic, "d/1/up");
    EXPECT_EQ(m->payload, "hello");
    EXPECT_EQ(m->qos, 1);
    EXPECT_TRUE(m->dup);
    EXPECT_EQ(m->id, 42);
    auto sub = ParseSubAck(p[2]);
    ASSERT_TRUE(sub.ok());
    EXPECT_EQ(sub->id, 5);
    EXPECT_EQ(sub->codes, std::vector<std::uint8_t>{0x80});
    EXPECT_EQ(p[3].type, Type::kPingResp);
    auto id = ParseIdOnly(p[4]);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, 9);
  }
}

TEST(MqttPackets, OversizePublishIsTruncatedAndTheStreamGoesOn) {
  const std::string big = EncodePublish("d/1/up", std::string(5000, 'x'), 1, false, false, 77);
  const std::string stream = big + EncodeIdOnly(Type::kPubAck, 3);
  for (std::size_t chunk : {1u, 700u, 100000u}) {
    auto p = ReadAll(stream, chunk, /*max_body=*/100);
    ASSERT_EQ(p.size(), 2u) << chunk;
    EXPECT_TRUE(p[0].truncated);
    EXPECT_EQ(p[0].full_size, big.size() - 3);  // fixed header: type byte + 2 length bytes
    EXPECT_EQ(p[0].body.size(), 2u + 6 + 2);  // only the topic and the packet id are kept
    auto m = ParsePublish(p[0]);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->topic, "d/1/up");  // enough to acknowledge it and say where it came from
    EXPECT_EQ(m->id, 77);
    EXPECT_TRUE(m->payload.empty());
    EXPECT_EQ(p[1].type, Type::kPubAck);
  }
}

TEST(MqttPackets, MalformedInputIsAnError) {
  auto first_error = [](const std::string& bytes) {
    FrameReader r(1 << 20);
    r.Feed(bytes.data(), bytes.size());
    auto p = r.Next();
    return !p.ok();
  };
  EXPECT_TRUE(first_error(Bytes({0x00, 0})));                    // reserved type 0
  EXPECT_TRUE(first_error(Bytes({0xF0, 0})));                    // reserved type 15
  EXPECT_TRUE(first_error(Bytes({0x41, 2, 0, 1})));              // PUBACK with flags
  EXPECT_TRUE(first_error(Bytes({0x36, 3, 0, 1, 't'})));         // PUBLISH QoS 3
  EXPECT_TRUE(first_error(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})));  // 5 length bytes
  EXPECT_TRUE(first_error(Bytes({0x90, 0xFF, 0xFF, 0x01})));     // a 32 KiB SUBACK
  // Incomplete is not an error: more bytes may come.
  EXPECT_FALSE(first_error(Bytes({0x30, 0xFF})));

  auto parse = [](std::string bytes) {
    FrameReader r(1 << 20);
    r.Feed(bytes.data(), bytes.size());
    auto p = r.Next();
    EXPECT_TRUE(p.ok() && p->has_value());
    return std::move(**p);
  };
  Packet p = parse(Bytes({0x32, 5, 0, 1, 't', 0, 0}));  // QoS 1 with packet id 0
  EXPECT_FALSE(ParsePublish(p).ok());
  p = parse(Bytes({0x30, 3, 0, 5, 't'}));  // topic longer than the packet
  EXPECT_FALSE(ParsePublish(p).ok());
  // A bad topic name is well framed: parsed, and refused by IsValidTopicName.
  p = parse(Bytes({0x30, 4, 0, 2, 'a', '#'}));  // wildcard in a topic name
  auto wild = ParsePublish(p);
  ASSERT_TRUE(wild.ok());
  EXPECT_FALSE(IsValidTopicName(wild->topic));
  p = parse(Bytes({0x30, 4, 0, 2, 0xC0, 0x80}));  // overlong UTF-8 (a hidden NUL)
  auto overlong = ParsePublish(p);
  ASSERT_TRUE(overlong.ok());
  EXPECT_FALSE(IsValidTopicName(overlong->topic));
  EXPECT_FALSE(IsValidTopicName(""));
  EXPECT_FALSE(IsValidTopicName("a/\x01"));
  EXPECT_TRUE(IsValidTopicName("msgin5g/ue-1/up"));
  p = parse(Bytes({0x20, 2, 2, 0}));  // CONNACK reserved flag bits
  EXPECT_FALSE(ParseConnAck(p).ok());
  p = parse(Bytes({0x90, 3, 0, 1, 3}));  // SUBACK code 3
  EXPECT_FALSE(ParseSubAck(p).ok());
  p = parse(Bytes({0x40, 3, 0, 1, 0}));  // PUBACK of 3 bytes
  EXPECT_FALSE(ParseIdOnly(p).ok());
}

TEST(MqttPackets, FilterValidation) {
  for (const char* ok : {"a", "a/b", "+", "#", "a/+/c", "a/#", "+/+/#", "/", "$SYS/#"}) {
    EXPECT_TRUE(IsValidFilter(ok)) << ok;
  }
  for (const char* bad : {"", "a+", "a/#/b", "a/b#", "#/a", "++", "a/+b"}) {
    EXPECT_FALSE(IsValidFilter(bad)) << bad;
  }
  EXPECT_FALSE(IsValidFilter(std::string("a\0b", 3)));
}

TEST(MqttPackets, TopicMatching) {
  struct Case {
    const char* filter;
    const char* topic;
    bool match;
  };
  const Case cases[] = {
      {"msgin5g/+/up", "msgin5g/ue-1/up", true},
      {"msgin5g/+/up", "msgin5g/ue-1/down", false},
      {"msgin5g/+/up", "msgin5g/a/b/up", false},
      {"msgin5g/+/up", "msgin5g//up", true},  // an empty level is a level
      {"a/#", "a", true},
      {"a/#", "a/b/c", true},
      {"a/#", "ab", false},
      {"#", "x/y", true},
      {"#", "$SYS/x", false},  // 4.7.2: wildcards at the start never match '$' topics
      {"+/x", "$SYS/x", false},
      {"$SYS/#", "$SYS/x", true},
      {"a/+", "a", false},
      {"a/b", "a/b/", false},
      {"a/+/", "a/b/", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TopicMatches(c.filter, c.topic), c.match) << c.filter << " vs " << c.topic;
  }
}

}  // namespace
}  // namespace msgin5g::gateway::mqtt::wire
