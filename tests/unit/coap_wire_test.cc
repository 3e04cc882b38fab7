// api/coap/wire: the CoAP message format, checked against bytes written out by hand from RFC 7252
// §3 and against libcoap 4.3.1's own parser (the library msgin5gd's endpoint runs on), which must
// read what we write as we meant it and refuse what we refuse.
#include "api/coap/wire.h"

#include <coap3/coap.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace wire = msgin5g::api::coap::wire;

namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// libcoap's reading of a datagram, or nothing when it refuses it.
struct Libcoap {
  int type, code, mid;
  std::string token;
  std::vector<std::pair<int, std::string>> options;
  std::string payload;
};
std::optional<Libcoap> LibcoapParse(const std::string& d) {
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, 0, d.size() + 16);
  if (pdu == nullptr) return std::nullopt;
  std::optional<Libcoap> out;
  if (coap_pdu_parse(COAP_PROTO_UDP, reinterpret_cast<const uint8_t*>(d.data()), d.size(), pdu) ==
      1) {
    Libcoap l;
    l.type = coap_pdu_get_type(pdu);
    l.code = coap_pdu_get_code(pdu);
    l.mid = coap_pdu_get_mid(pdu);
    coap_bin_const_t t = coap_pdu_get_token(pdu);
    l.token.assign(reinterpret_cast<const char*>(t.s), t.length);
    coap_opt_iterator_t it;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while (coap_opt_t* o = coap_option_next(&it)) {
      l.options.emplace_back(it.number, std::string(reinterpret_cast<const char*>(coap_opt_value(o)),
                                                    coap_opt_length(o)));
    }
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (coap_get_data(pdu, &len, &data) != 0) l.payload.assign(reinterpret_cast<const char*>(data), len);
    out = std::move(l);
  }
  coap_delete_pdu(pdu);
  return out;
}

class CoapWire : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    coap_startup();
    coap_set_log_level(LOG_EMERG);  // its warnings about the malformed datagrams below
  }
};

TEST_F(CoapWire, ConfirmablePostWithOptionsAndPayloadIsLaidOutAsRfc7252Says) {
  wire::Builder b;
  b.type = wire::Type::kCon;
  b.code = wire::kPost;
  b.message_id = 0x1234;
  b.token = "\xAA\xBB";
  // Added out of order: Serialize sorts by number.
  b.AddUint(wire::kContentFormat, wire::kFormatJson).Add(wire::kUriPath, "msgin5g");
  b.payload = "{}";
  EXPECT_EQ(wire::Serialize(b),
            Bytes({0x42, 0x02, 0x12, 0x34, 0xAA, 0xBB,
                   0xB7, 'm', 's', 'g', 'i', 'n', '5', 'g',  // Uri-Path: delta 11, length 7
                   0x11, 50,                                 // Content-Format: delta 1, length 1
                   0xFF, '{', '}'}));
  const std::string d = wire::Serialize(b);  // the views below point into it
  auto m = wire::Parse(d);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->type, wire::Type::kCon);
  EXPECT_EQ(m->code, wire::kPost);
  EXPECT_EQ(m->message_id, 0x1234);
  EXPECT_EQ(m->token, "\xAA\xBB");
  ASSERT_EQ(m->options.size(), 2u);
  EXPECT_EQ(m->Find(wire::kUriPath)->value, "msgin5g");
  EXPECT_EQ(wire::DecodeUint(m->Find(wire::kContentFormat)->value), wire::kFormatJson);
  EXPECT_EQ(m->Find(wire::kBlock1), nullptr);
  EXPECT_EQ(m->payload, "{}");
}

TEST_F(CoapWire, ExtendedDeltasAndLengthsUseOneAndTwoExtraBytes) {
  wire::Builder b;
  b.code = wire::kPost;
  b.Add(13, std::string(13, 'a'));     // delta 13 -> nibble 13 + 0x00; length 13 -> 13 + 0x00
  b.Add(13 + 269, std::string(269, 'b'));  // delta 269 -> nibble 14 + 0x0000; length 269 likewise
  std::string d = wire::Serialize(b);
  EXPECT_EQ(d.substr(4, 3), Bytes({0xDD, 0x00, 0x00}));
  EXPECT_EQ(d.substr(4 + 3 + 13, 5), Bytes({0xEE, 0x00, 0x00, 0x00, 0x00}));
  auto m = wire::Parse(d);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->options.size(), 2u);
  EXPECT_EQ(m->options[1].number, 282);
  EXPECT_EQ(m->options[1].value, std::string(269, 'b'));
}

TEST_F(CoapWire, AnEmptyAcknowledgementIsTheHeaderAlone) {
  wire::Builder b;
  b.type = wire::Type::kAck;
  b.message_id = 7;
  EXPECT_EQ(wire::Serialize(b), Bytes({0x60, 0x00, 0x00, 0x07}));
  const std::string d = wire::Serialize(b);
  auto m = wire::Parse(d);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, wire::Type::kAck);
  EXPECT_EQ(m->code, wire::kEmpty);
}

// Each is a message format error by RFC 7252 §3 and §4.1; libcoap refuses each too, which shows
// the bytes are what the comment says.
TEST_F(CoapWire, MessageFormatErrorsAreRefusedAsLibcoapRefusesThem) {
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"short", Bytes({0x40, 0x02, 0x00})},
      {"version 2", Bytes({0x80, 0x02, 0x00, 0x01})},
      {"token length 9", Bytes({0x49, 0x02, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9})},
      {"token past the end", Bytes({0x44, 0x02, 0x00, 0x01, 1, 2})},
      {"empty with a token", Bytes({0x41, 0x00, 0x00, 0x01, 9})},
      {"empty with a byte after", Bytes({0x40, 0x00, 0x00, 0x01, 0xFF})},
      {"marker with no payload", Bytes({0x40, 0x02, 0x00, 0x01, 0xFF})},
      {"delta nibble 15", Bytes({0x40, 0x02, 0x00, 0x01, 0xF1, 'x'})},
      {"length nibble 15", Bytes({0x40, 0x02, 0x00, 0x01, 0xBF, 'x'})},
      {"extended delta past the end", Bytes({0x40, 0x02, 0x00, 0x01, 0xD0})},
      {"extended length past the end", Bytes({0x40, 0x02, 0x00, 0x01, 0xBE, 0x00})},
      {"value past the end", Bytes({0x40, 0x02, 0x00, 0x01, 0xB5, 'm', 's'})},
  };
  for (const auto& [what, d] : bad) {
    EXPECT_FALSE(wire::Parse(d).ok()) << what;
    EXPECT_FALSE(LibcoapParse(d).has_value()) << what << ": libcoap reads it";
  }
  // The header alone is still readable where it is whole, for the Reset a CON earns.
  auto h = wire::PeekHeader(bad[6].second);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->type, wire::Type::kCon);
  EXPECT_EQ(h->message_id, 1);
  EXPECT_FALSE(wire::PeekHeader(bad[0].second).has_value());
  EXPECT_FALSE(wire::PeekHeader(bad[1].second).has_value());
}

TEST_F(CoapWire, OptionNumbersPast65535AreRefused) {
  // The first option is number 65535 (the highest); one more of delta 1 would be 65536.
  std::string d = Bytes({0x40, 0x02, 0x00, 0x01});
  d += Bytes({0xE0, 0xFE, 0xF2});  // delta 269 + 0xFEF2 = 65535, length 0
  EXPECT_TRUE(wire::Parse(d).ok());
  d += Bytes({0x10});  // delta 1: 65536
  EXPECT_FALSE(wire::Parse(d).ok());
}

// What we write, libcoap reads as we meant it: random messages of every type, code, token
// length and option layout, with the options libcoap checks the length of kept within bounds.
TEST_F(CoapWire, LibcoapReadsRandomMessagesAsWritten) {
  std::mt19937 rng(20261208);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  // Elective options libcoap does not check, and a few it does, with lengths it accepts.
  const std::vector<std::pair<int, int>> numbers = {{wire::kUriPath, 255}, {wire::kContentFormat, 2},
                                                    {wire::kBlock1, 3},    {wire::kBlock2, 3},
                                                    {wire::kSize1, 4},     {65000, 300},
                                                    {2048, 20},            {1000, 600}};
  for (int round = 0; round < 2000; ++round) {
    wire::Builder b;
    b.type = static_cast<wire::Type>(pick(0, 3));
    b.code = static_cast<std::uint8_t>(pick(1, 255));
    b.message_id = static_cast<std::uint16_t>(pick(0, 65535));
    b.token.resize(static_cast<std::size_t>(pick(0, 8)));
    for (char& c : b.token) c = static_cast<char>(pick(0, 255));
    const int n = pick(0, 6);
    for (int i = 0; i < n; ++i) {
      auto [number, max_len] = numbers[static_cast<std::size_t>(pick(0, 7))];
      std::string v(static_cast<std::size_t>(pick(0, max_len)), static_cast<char>(pick(0, 255)));
      b.Add(static_cast<std::uint16_t>(number), std::move(v));
    }
    if (pick(0, 1) == 1) b.payload.assign(static_cast<std::size_t>(pick(1, 1200)), static_cast<char>(pick(0, 255)));
    const std::string d = wire::Serialize(b);

    auto ours = wire::Parse(d);
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    auto theirs = LibcoapParse(d);
    ASSERT_TRUE(theirs.has_value()) << "round " << round;
    EXPECT_EQ(theirs->type, static_cast<int>(b.type));
    EXPECT_EQ(theirs->code, b.code);
    EXPECT_EQ(theirs->mid, b.message_id);
    EXPECT_EQ(theirs->token, b.token);
    EXPECT_EQ(theirs->payload, b.payload);
    ASSERT_EQ(theirs->options.size(), ours->options.size());
    for (std::size_t i = 0; i < ours->options.size(); ++i) {
      EXPECT_EQ(theirs->options[i].first, ours->options[i].number);
      EXPECT_EQ(theirs->options[i].second, ours->options[i].value);
    }
    // Sorted stably: the values of one number in the order they were added.
    std::vector<std::string> added, read;
    for (const auto& [num, v] : b.options) {
      if (num == wire::kUriPath) added.push_back(v);
    }
    for (const auto& o : ours->options) {
      if (o.number == wire::kUriPath) read.emplace_back(o.value);
    }
    EXPECT_EQ(added, read);
  }
}

TEST_F(CoapWire, UintsDropLeadingZeroBytes) {
  EXPECT_EQ(wire::EncodeUint(0), "");
  EXPECT_EQ(wire::EncodeUint(50), Bytes({50}));
  EXPECT_EQ(wire::EncodeUint(0x0100), Bytes({0x01, 0x00}));
  EXPECT_EQ(wire::EncodeUint(0x01000000), Bytes({0x01, 0x00, 0x00, 0x00}));
  EXPECT_EQ(wire::DecodeUint(""), 0u);
  EXPECT_EQ(wire::DecodeUint(Bytes({0x01, 0x02, 0x03, 0x04})), 0x01020304u);
  EXPECT_FALSE(wire::DecodeUint(Bytes({1, 2, 3, 4, 5})).has_value());
}

TEST_F(CoapWire, BlockOptionsCarryNumberMoreAndSize) {
  // RFC 7959 §2.2: NUM 5, M set, SZX 6 (1024) -> 0x5E.
  EXPECT_EQ(wire::EncodeBlock({5, true, 1024}), Bytes({0x5E}));
  auto b = wire::DecodeBlock(Bytes({0x5E}));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->number, 5u);
  EXPECT_TRUE(b->more);
  EXPECT_EQ(b->size, 1024u);
  EXPECT_EQ(wire::EncodeBlock({0, false, 16}), "");  // all zero: the empty value
  auto big = wire::DecodeBlock(wire::EncodeBlock({70000, false, 64}));
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->number, 70000u);
  EXPECT_EQ(big->size, 64u);
  EXPECT_FALSE(wire::DecodeBlock(Bytes({0x07})).has_value());        // SZX 7 is reserved
  EXPECT_FALSE(wire::DecodeBlock(Bytes({1, 2, 3, 4})).has_value());  // over 3 bytes
}

}  // namespace
