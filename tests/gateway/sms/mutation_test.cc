// A deterministic mutation loop: receipts, UDHs and raw MO data, corrupted many ways, must
// never crash the parsers, and whatever they accept must satisfy their documented invariants.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/sms/base64.h"
#include "gateway/sms/concat.h"
#include "gateway/sms/gsm7.h"
#include "gateway/sms/receipt.h"
#include "gateway/sms/segmenter.h"
#include "gateway/sms/utf16.h"

namespace msgin5g::gateway::sms {
namespace {

// A fixed-seed xorshift generator: the same sequence on every run and every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  std::size_t Below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(Next() % n); }

 private:
  std::uint64_t state_;
};

// Flip a bit, overwrite, insert, delete, truncate or duplicate a slice: one to four times.
std::string Mutate(std::string s, Rng& rng) {
  const std::size_t rounds = 1 + rng.Below(4);
  for (std::size_t r = 0; r < rounds; ++r) {
    const std::size_t at = rng.Below(s.size() + 1);
    switch (rng.Below(6)) {
      case 0:
        if (at < s.size()) s[at] = static_cast<char>(s[at] ^ (1 << rng.Below(8)));
        break;
      case 1:
        if (at < s.size()) s[at] = static_cast<char>(rng.Below(256));
        break;
      case 2:
        s.insert(at, 1, static_cast<char>(rng.Below(256)));
        break;
      case 3:
        if (at < s.size()) s.erase(at, 1 + rng.Below(3));
        break;
      case 4:
        s.resize(at);
        break;
      case 5:
        s.insert(at, s.substr(rng.Below(s.size() + 1), rng.Below(8)));
        break;
    }
  }
  return s;
}

bool IsValidUtf8(const std::string& s) { return Utf8ToUtf16Be(s).ok(); }

TEST(SmsMutation, ReceiptsNeverCrash) {
  const std::vector<std::string> seeds = {
      "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
      "stat:DELIVRD err:000 text:Hello world",
      "ID:1a2b3c4d SUB:001 DLVRD:000 SUBMIT DATE:1609011200 DONE DATE:1609011205 STAT:UNDELIV "
      "ERR:005 TEXT:",
      "id:42 stat:ACCEPTD",
  };
  Rng rng(0x5EED0001);
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string text = Mutate(seeds[rng.Below(seeds.size())], rng);
    ReceiptTlvs tlvs;
    if (rng.Below(4) == 0) tlvs.message_state = static_cast<std::uint8_t>(rng.Below(256));
    if (rng.Below(8) == 0) tlvs.receipted_message_id = Mutate("abc", rng);
    const Result<Receipt> r = ParseReceipt(text, tlvs);
    if (!r.ok()) continue;
    ++accepted;
    ASSERT_FALSE(r->message_id.empty()) << testing::PrintToString(text);
    const std::uint8_t state = static_cast<std::uint8_t>(r->state);
    ASSERT_TRUE(state >= 1 && state <= 8);
    const ReceiptVerdict v = Judge(*r);
    ASSERT_EQ(v.outcome == ReceiptOutcome::kFailed, !v.failure_cause.empty());
  }
  EXPECT_GT(accepted, 1000u);  // the loop exercised the accepting paths too
}

TEST(SmsMutation, UdhsNeverCrash) {
  std::vector<std::string> seeds;
  SegmentOptions options;
  options.reference = 0x0102;
  for (bool sixteen : {false, true}) {
    options.use_16bit_ref = sixteen;
    const Result<Encoded> encoded = EncodeForSms(std::string(300, 'q'), false, options);
    ASSERT_TRUE(encoded.ok());
    for (const Part& part : encoded->parts) seeds.push_back(part.short_message.substr(0, 40));
  }
  seeds.push_back(std::string("\x0B\x05\x04\x0B\x84\x23\xF0\x00\x03\x7F\x02\x01" "body", 16));
  Rng rng(0x5EED0002);
  std::size_t concatenated = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string sm = Mutate(seeds[rng.Below(seeds.size())], rng);
    const std::uint8_t esm_class = rng.Below(8) == 0 ? 0x00 : 0x40;
    const Result<std::optional<ConcatInfo>> info = ParseConcat(esm_class, sm);
    const Result<std::string> body = UserDataAfterUdh(esm_class, sm);
    ASSERT_EQ(info.ok(), body.ok()) << testing::PrintToString(sm);
    if (!info.ok() || !info->has_value()) continue;
    ++concatenated;
    const ConcatInfo& c = **info;
    ASSERT_GE(c.total, 1);
    ASSERT_GE(c.seq, 1);
    ASSERT_LE(c.seq, c.total);
    ASSERT_LT(c.body.size(), sm.size());
    ASSERT_EQ(c.body, *body);
  }
  EXPECT_GT(concatenated, 1000u);
}

TEST(SmsMutation, RawMoDataAlwaysDecodesToValidUtf8) {
  Rng rng(0x5EED0003);
  for (int i = 0; i < 20000; ++i) {
    std::string data(rng.Below(160), '\0');
    for (char& c : data) c = static_cast<char>(rng.Below(256));
    const auto coding = static_cast<std::uint8_t>(rng.Below(256));
    bool binary = false;
    const std::string text = DecodeText(coding, data, &binary);
    ASSERT_TRUE(IsValidUtf8(text)) << int{coding};
    if (binary) {
      const Result<std::string> back = Base64Decode(text);
      ASSERT_TRUE(back.ok());
      ASSERT_EQ(*back, data);
    }
    ASSERT_TRUE(IsValidUtf8(Gsm7ToUtf8(data)));
    ASSERT_TRUE(IsValidUtf8(Utf16BeToUtf8(data)));
  }
}

TEST(SmsMutation, Base64DecodeAcceptsOnlyCanonicalText) {
  Rng rng(0x5EED0004);
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng.Below(20), '\0');
    for (char& c : bytes) c = static_cast<char>(rng.Below(256));
    const std::string text = Mutate(Base64Encode(bytes), rng);
    const Result<std::string> decoded = Base64Decode(text);
    if (!decoded.ok()) continue;
    ++accepted;
    ASSERT_EQ(Base64Encode(*decoded), text);
  }
  EXPECT_GT(accepted, 100u);
}

}  // namespace
}  // namespace msgin5g::gateway::sms
