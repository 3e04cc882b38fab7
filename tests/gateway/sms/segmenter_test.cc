// EncodeForSms: the coding chosen, the part sizes, and the concatenation UDH of every part.
#include <gtest/gtest.h>

#include <string>

#include "gateway/sms/base64.h"
#include "gateway/sms/gsm7.h"
#include "gateway/sms/segmenter.h"
#include "gateway/sms/utf16.h"

namespace msgin5g::gateway::sms {
namespace {

std::string Udh8(unsigned ref, unsigned total, unsigned seq) {
  return {0x05, 0x00, 0x03, static_cast<char>(ref), static_cast<char>(total),
          static_cast<char>(seq)};
}

std::string Udh16(unsigned ref, unsigned total, unsigned seq) {
  return {0x06, 0x08, 0x04, static_cast<char>(ref >> 8), static_cast<char>(ref & 0xFF),
          static_cast<char>(total), static_cast<char>(seq)};
}

std::string Repeat(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out.append(piece);
  return out;
}

// 400 printable ASCII characters, all in the GSM default alphabet, not all alike.
std::string Ascii400() {
  std::string text;
  for (std::size_t i = 0; i < 400; ++i) text.push_back(static_cast<char>('a' + i % 26));
  return text;
}

Encoded MustEncode(std::string_view payload, bool binary, const SegmentOptions& options = {}) {
  Result<Encoded> out = EncodeForSms(payload, binary, options);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : Encoded{};
}

TEST(SmsSegmenter, ShortGsmTextIsOneDefaultCodedPart) {
  const Encoded out = MustEncode("hello", false);
  EXPECT_EQ(out.data_coding, 0x00);
  ASSERT_EQ(out.parts.size(), 1u);
  EXPECT_EQ(out.parts[0].esm_class, 0x00);
  EXPECT_EQ(out.parts[0].short_message, "hello");
}

TEST(SmsSegmenter, GsmTextIsSentAsUnpackedSeptets) {
  const Encoded out = MustEncode("@£€", false);
  ASSERT_EQ(out.parts.size(), 1u);
  EXPECT_EQ(out.parts[0].short_message, std::string("\x00\x01\x1B\x65", 4));
}

TEST(SmsSegmenter, EmptyPayloadIsOneEmptyPart) {
  for (bool binary : {false, true}) {
    const Encoded out = MustEncode("", binary);
    EXPECT_EQ(out.data_coding, binary ? 0x04 : 0x00);
    ASSERT_EQ(out.parts.size(), 1u);
    EXPECT_EQ(out.parts[0].esm_class, 0x00);
    EXPECT_EQ(out.parts[0].short_message, "");
  }
}

TEST(SmsSegmenter, SingleGsmPartHoldsExactly160Septets) {
  EXPECT_EQ(MustEncode(Repeat("x", 160), false).parts.size(), 1u);
  EXPECT_EQ(MustEncode(Repeat("€", 80), false).parts.size(), 1u);  // 160 septets
  const Encoded out = MustEncode(Repeat("x", 161), false);
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].short_message.size(), 6u + 153u);
  EXPECT_EQ(out.parts[1].short_message.size(), 6u + 8u);
}

TEST(SmsSegmenter, FourHundredAsciiCharactersAreThreeParts) {
  const std::string text = Ascii400();
  SegmentOptions options;
  options.reference = 0x1234;  // the 8-bit form sends the low octet
  const Encoded out = MustEncode(text, false, options);
  EXPECT_EQ(out.data_coding, 0x00);
  ASSERT_EQ(out.parts.size(), 3u);
  const std::size_t sizes[] = {153, 153, 94};
  std::string joined;
  for (std::size_t i = 0; i < 3; ++i) {
    const Part& part = out.parts[i];
    EXPECT_EQ(part.esm_class, 0x40);
    EXPECT_EQ(part.short_message.substr(0, 6), Udh8(0x34, 3, i + 1)) << i;
    EXPECT_EQ(part.short_message.size() - 6, sizes[i]) << i;
    joined += part.short_message.substr(6);
  }
  EXPECT_EQ(joined, text);
}

TEST(SmsSegmenter, SixteenBitReferenceCostsOneSeptetPerPart) {
  SegmentOptions options;
  options.reference = 0xABCD;
  options.use_16bit_ref = true;
  const Encoded out = MustEncode(Ascii400(), false, options);
  ASSERT_EQ(out.parts.size(), 3u);
  const std::size_t sizes[] = {152, 152, 96};  // a 7-octet UDH packs into 8 septets
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out.parts[i].short_message.substr(0, 7), Udh16(0xABCD, 3, i + 1)) << i;
    EXPECT_EQ(out.parts[i].short_message.size() - 7, sizes[i]) << i;
  }
}

TEST(SmsSegmenter, EscapePairAtThePartBoundaryMovesToTheNextPart) {
  // Septets 153 and 154 would be ESC and 0x65: the whole pair opens part 2.
  const Encoded out = MustEncode(Repeat("a", 152) + "€" + Repeat("b", 20), false);
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].short_message.substr(6), Repeat("a", 152));
  EXPECT_EQ(out.parts[1].short_message.substr(6), "\x1B\x65" + Repeat("b", 20));

  // A pair that ends exactly on septet 153 stays.
  const Encoded fits = MustEncode(Repeat("a", 151) + "€" + Repeat("b", 20), false);
  ASSERT_EQ(fits.parts.size(), 2u);
  EXPECT_EQ(fits.parts[0].short_message.substr(6), Repeat("a", 151) + "\x1B\x65");
  EXPECT_EQ(fits.parts[1].short_message.substr(6), Repeat("b", 20));
}

TEST(SmsSegmenter, NonGsmTextIsUcs2) {
  const Encoded cyrillic = MustEncode("Привет", false);
  EXPECT_EQ(cyrillic.data_coding, 0x08);
  ASSERT_EQ(cyrillic.parts.size(), 1u);
  EXPECT_EQ(cyrillic.parts[0].short_message, *Utf8ToUtf16Be("Привет"));

  // One character outside GSM turns the whole text into UCS-2.
  EXPECT_EQ(MustEncode("hello 😀", false).data_coding, 0x08);
  EXPECT_EQ(MustEncode("tab\there", false).data_coding, 0x08);

  EXPECT_EQ(MustEncode(Repeat("Ж", 70), false).parts.size(), 1u);
  const Encoded two = MustEncode(Repeat("Ж", 71), false);
  ASSERT_EQ(two.parts.size(), 2u);
  EXPECT_EQ(two.parts[0].short_message.size(), 6u + 134u);  // 67 units
  EXPECT_EQ(two.parts[1].short_message.size(), 6u + 8u);
}

TEST(SmsSegmenter, SurrogatePairIsNeverSplit) {
  // Units 67 and 68 would be the two halves of the emoji: it opens part 2 instead.
  const std::string text = Repeat("Ж", 66) + "😀" + Repeat("Ж", 10);
  const Encoded out = MustEncode(text, false);
  EXPECT_EQ(out.data_coding, 0x08);
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].short_message.size(), 6u + 132u);
  EXPECT_EQ(out.parts[1].short_message.substr(6, 4), std::string("\xD8\x3D\xDE\x00", 4));
  std::string joined;
  for (const Part& part : out.parts) joined += part.short_message.substr(6);
  EXPECT_EQ(Utf16BeToUtf8(joined), text);

  // Emoji only: two units each, so 33 per part (66 units), never 33.5.
  const Encoded emoji = MustEncode(Repeat("😀", 40), false);
  ASSERT_EQ(emoji.parts.size(), 2u);
  EXPECT_EQ(emoji.parts[0].short_message.size(), 6u + 132u);
  EXPECT_EQ(emoji.parts[1].short_message.size(), 6u + 28u);
}

TEST(SmsSegmenter, Ucs2WithSixteenBitReferenceHolds66Units) {
  SegmentOptions options;
  options.use_16bit_ref = true;
  const Encoded out = MustEncode(Repeat("Ж", 100), false, options);
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].short_message.size(), 7u + 132u);
  EXPECT_EQ(out.parts[1].short_message.size(), 7u + 68u);
}

TEST(SmsSegmenter, BinaryPayloadIsBase64OfEightBitData) {
  const std::string bytes("\x00\x01\xFF\x80 binary", 11);
  const Encoded out = MustEncode(Base64Encode(bytes), true);
  EXPECT_EQ(out.data_coding, 0x04);
  ASSERT_EQ(out.parts.size(), 1u);
  EXPECT_EQ(out.parts[0].esm_class, 0x00);
  EXPECT_EQ(out.parts[0].short_message, bytes);

  EXPECT_EQ(MustEncode(Base64Encode(std::string(140, 'x')), true).parts.size(), 1u);

  std::string big;
  for (int i = 0; i < 300; ++i) big.push_back(static_cast<char>(i));
  SegmentOptions options;
  options.reference = 7;
  const Encoded parts = MustEncode(Base64Encode(big), true, options);
  ASSERT_EQ(parts.parts.size(), 3u);
  const std::size_t sizes[] = {134, 134, 32};
  std::string joined;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parts.parts[i].esm_class, 0x40);
    EXPECT_EQ(parts.parts[i].short_message.substr(0, 6), Udh8(7, 3, i + 1));
    EXPECT_EQ(parts.parts[i].short_message.size() - 6, sizes[i]);
    joined += parts.parts[i].short_message.substr(6);
  }
  EXPECT_EQ(joined, big);

  const Encoded two = MustEncode(Base64Encode(std::string(141, 'x')), true);
  ASSERT_EQ(two.parts.size(), 2u);
  EXPECT_EQ(two.parts[1].short_message.size(), 6u + 7u);
}

TEST(SmsSegmenter, InvalidInputIsRefused) {
  for (const char* bad : {"not base64!", "Zg=", "Zh=="}) {
    const Result<Encoded> out = EncodeForSms(bad, true, {});
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  }
  const Result<Encoded> text = EncodeForSms("ab\xC3(", false, {});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
}

TEST(SmsSegmenter, MaxPartsIsEnforced) {
  EXPECT_EQ(MustEncode(Repeat("x", 16 * 153), false).parts.size(), 16u);
  const Result<Encoded> over = EncodeForSms(Repeat("x", 16 * 153 + 1), false, {});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(over.status().message(), "payload needs 17 parts, more than sms.max_parts");

  SegmentOptions two;
  two.max_parts = 2;
  const Result<Encoded> three = EncodeForSms(Ascii400(), false, two);
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.status().message(), "payload needs 3 parts, more than sms.max_parts");
  // A lone SMS is within any limit of at least one part.
  SegmentOptions one;
  one.max_parts = 1;
  EXPECT_TRUE(EncodeForSms("hello", false, one).ok());

  // The one-octet total field caps a message at 255 parts whatever the option says.
  SegmentOptions huge;
  huge.max_parts = 1000;
  EXPECT_EQ(MustEncode(Base64Encode(std::string(255 * 134, 'x')), true, huge).parts.size(), 255u);
  EXPECT_FALSE(EncodeForSms(Base64Encode(std::string(255 * 134 + 1, 'x')), true, huge).ok());
}

}  // namespace
}  // namespace msgin5g::gateway::sms
