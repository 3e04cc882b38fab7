// ParseConcat, UserDataAfterUdh, ConcatFromSar and DecodeText: what the gateway reads from MO
// parts, including our own output read back.
#include <gtest/gtest.h>

#include <string>

#include "gateway/sms/base64.h"
#include "gateway/sms/concat.h"
#include "gateway/sms/segmenter.h"

namespace msgin5g::gateway::sms {
namespace {

std::string Bytes(std::initializer_list<int> octets) {
  std::string out;
  for (int o : octets) out.push_back(static_cast<char>(o));
  return out;
}

std::string LongText() {
  std::string text;
  for (int i = 0; i < 400; ++i) text.push_back(static_cast<char>('A' + i % 26));
  return text;
}

TEST(SmsParseConcat, ReadsBackOurOwnParts) {
  for (bool sixteen : {false, true}) {
    SegmentOptions options;
    options.reference = 0xBEEF;
    options.use_16bit_ref = sixteen;
    const Result<Encoded> encoded = EncodeForSms(LongText(), false, options);
    ASSERT_TRUE(encoded.ok());
    std::string joined;
    for (std::size_t i = 0; i < encoded->parts.size(); ++i) {
      const Part& part = encoded->parts[i];
      const Result<std::optional<ConcatInfo>> info = ParseConcat(part.esm_class, part.short_message);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      ASSERT_TRUE(info->has_value());
      EXPECT_EQ((*info)->ref, sixteen ? 0xBEEF : 0xEF);
      EXPECT_EQ((*info)->total, encoded->parts.size());
      EXPECT_EQ((*info)->seq, i + 1);
      joined += (*info)->body;
    }
    EXPECT_EQ(joined, LongText());
  }
}

TEST(SmsParseConcat, LoneSmsIsNotConcatenated) {
  const Result<std::optional<ConcatInfo>> plain = ParseConcat(0x00, "hello");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_value());
  // Without UDHI the first octet is text, even when it looks like a UDH.
  const Result<std::optional<ConcatInfo>> looks = ParseConcat(0x00, Bytes({5, 0, 3, 1, 2, 1}));
  ASSERT_TRUE(looks.ok());
  EXPECT_FALSE(looks->has_value());
  EXPECT_EQ(*UserDataAfterUdh(0x00, "hello"), "hello");
}

TEST(SmsParseConcat, FindsConcatenationAmongOtherIes) {
  // Application port addressing (IE 0x05, 4 octets), then IE 0x00.
  const std::string sm = Bytes({0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x7F, 0x02,
                                0x01}) + "body";
  const Result<std::optional<ConcatInfo>> info = ParseConcat(0x40, sm);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ((*info)->ref, 0x7F);
  EXPECT_EQ((*info)->total, 2);
  EXPECT_EQ((*info)->seq, 1);
  EXPECT_EQ((*info)->body, "body");

  // The 16-bit form after a national language single shift IE (0x24, 1 octet); esm_class bits
  // other than UDHI do not matter.
  const std::string sm16 =
      Bytes({0x09, 0x24, 0x01, 0x01, 0x08, 0x04, 0x01, 0x02, 0x05, 0x05}) + "x";
  const Result<std::optional<ConcatInfo>> info16 = ParseConcat(0x43, sm16);
  ASSERT_TRUE(info16.ok()) << info16.status().ToString();
  ASSERT_TRUE(info16->has_value());
  EXPECT_EQ((*info16)->ref, 0x0102);
  EXPECT_EQ((*info16)->total, 5);
  EXPECT_EQ((*info16)->seq, 5);
  EXPECT_EQ((*info16)->body, "x");
}

TEST(SmsParseConcat, LastConcatenationIeWins) {
  const std::string sm = Bytes({0x0A, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x03, 0x09, 0x04,
                                0x03}) + "b";
  const Result<std::optional<ConcatInfo>> info = ParseConcat(0x40, sm);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ((*info)->ref, 9);
  EXPECT_EQ((*info)->total, 4);
  EXPECT_EQ((*info)->seq, 3);
}

TEST(SmsParseConcat, UdhWithoutConcatenationIsNotConcatenated) {
  const std::string sm = Bytes({0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}) + "wap";
  const Result<std::optional<ConcatInfo>> info = ParseConcat(0x40, sm);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
  EXPECT_EQ(*UserDataAfterUdh(0x40, sm), "wap");
  EXPECT_EQ(*UserDataAfterUdh(0x40, Bytes({0x00}) + "empty udh"), "empty udh");
  EXPECT_EQ(*UserDataAfterUdh(0x40, Bytes({0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0})), "");
}

TEST(SmsParseConcat, MalformedUdhIsAnErrorNotALoneSms) {
  const std::string cases[] = {
      "",                                                 // UDHI but no octet at all
      Bytes({0x0A, 0x00, 0x03, 0x01}),                    // UDH length beyond the data
      Bytes({0x01, 0x00}),                                // IE header cut off
      Bytes({0x05, 0x00, 0x09, 0x01, 0x02, 0x01}),        // IE length past the UDH
      Bytes({0x04, 0x00, 0x02, 0x01, 0x02}) + "x",        // IE 0x00 of length 2
      Bytes({0x05, 0x08, 0x03, 0x01, 0x02, 0x01}) + "x",  // IE 0x08 of length 3
      Bytes({0x05, 0x00, 0x03, 0x01, 0x00, 0x00}) + "x",  // total 0
      Bytes({0x05, 0x00, 0x03, 0x01, 0x03, 0x00}) + "x",  // seq 0
      Bytes({0x05, 0x00, 0x03, 0x01, 0x03, 0x04}) + "x",  // seq > total
      Bytes({0x06, 0x08, 0x04, 0x01, 0x02, 0x02, 0x03}),  // 16-bit, seq > total
  };
  for (const std::string& sm : cases) {
    const Result<std::optional<ConcatInfo>> info = ParseConcat(0x40, sm);
    EXPECT_FALSE(info.ok()) << testing::PrintToString(sm);
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(UserDataAfterUdh(0x40, sm).ok());
  }
}

TEST(SmsConcatFromSar, ChecksTheNumbers) {
  const Result<ConcatInfo> ok = ConcatFromSar(0x1234, 3, 2, "middle");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->ref, 0x1234);
  EXPECT_EQ(ok->total, 3);
  EXPECT_EQ(ok->seq, 2);
  EXPECT_EQ(ok->body, "middle");
  EXPECT_FALSE(ConcatFromSar(1, 0, 0, "x").ok());
  EXPECT_FALSE(ConcatFromSar(1, 3, 0, "x").ok());
  EXPECT_FALSE(ConcatFromSar(1, 3, 4, "x").ok());
  EXPECT_TRUE(ConcatFromSar(1, 255, 255, "").ok());
}

TEST(SmsDecodeText, EachDataCoding) {
  bool binary = true;
  EXPECT_EQ(DecodeText(0x00, Bytes({0x00, 0x1B, 0x65, 0x41}), &binary), "@€A");
  EXPECT_FALSE(binary);
  EXPECT_EQ(DecodeText(0xF0, "Flash", &binary), "Flash");  // GSM 7-bit, class 0
  EXPECT_FALSE(binary);
  EXPECT_EQ(DecodeText(0x01, "abc\x80", &binary), "abc\uFFFD");
  EXPECT_FALSE(binary);
  EXPECT_EQ(DecodeText(0x03, "caf\xE9", &binary), "café");
  EXPECT_FALSE(binary);
  EXPECT_EQ(DecodeText(0x08, Bytes({0x04, 0x1F, 0xD8, 0x3D, 0xDE, 0x00}), &binary), "П😀");
  EXPECT_FALSE(binary);

  const std::string octets = Bytes({0x00, 0xFF, 0x10});
  for (int coding : {0x04, 0x02, 0x07, 0x09, 0xF4, 0x18}) {
    binary = false;
    EXPECT_EQ(DecodeText(static_cast<std::uint8_t>(coding), octets, &binary), "AP8Q") << coding;
    EXPECT_TRUE(binary) << coding;
  }
  EXPECT_EQ(DecodeText(0x04, "hi", nullptr), Base64Encode("hi"));  // null flag is allowed
}

}  // namespace
}  // namespace msgin5g::gateway::sms
