// GSM 7-bit, UTF-16BE and base64 against the tables and vectors of their specifications.
#include <gtest/gtest.h>

#include <string>

#include "gateway/sms/base64.h"
#include "gateway/sms/gsm7.h"
#include "gateway/sms/utf16.h"

namespace msgin5g::gateway::sms {
namespace {

// TS 23.038 §6.2.1 written out as characters, septets 0x00..0x7F in order, 0x1B (ESC) left out.
const std::string kDefaultTableUtf8 =
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" /* ESC */ "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà";

std::string AllSeptetsButEscape() {
  std::string septets;
  for (int i = 0; i < 128; ++i) {
    if (i != 0x1B) septets.push_back(static_cast<char>(i));
  }
  return septets;
}

TEST(SmsGsm7, EveryDefaultCharacterBothWays) {
  const std::string septets = AllSeptetsButEscape();
  ASSERT_EQ(Utf8ToGsm7(kDefaultTableUtf8), septets);
  EXPECT_EQ(Gsm7ToUtf8(septets), kDefaultTableUtf8);
  EXPECT_EQ(Gsm7SeptetCount(kDefaultTableUtf8), 127u);
}

TEST(SmsGsm7, EveryExtensionCharacterBothWays) {
  const std::string text = "\f^{}\\[~]|€";
  const std::string septets =
      "\x1B\x0A\x1B\x14\x1B\x28\x1B\x29\x1B\x2F\x1B\x3C\x1B\x3D\x1B\x3E\x1B\x40\x1B\x65";
  ASSERT_EQ(Utf8ToGsm7(text), septets);
  EXPECT_EQ(Gsm7ToUtf8(septets), text);
}

TEST(SmsGsm7, ExtensionCharactersCountTwoSeptets) {
  EXPECT_EQ(Gsm7SeptetCount("€"), 2u);
  EXPECT_EQ(Gsm7SeptetCount("{}"), 4u);
  EXPECT_EQ(Gsm7SeptetCount("a€b"), 4u);
  EXPECT_EQ(Gsm7SeptetCount(""), 0u);
}

TEST(SmsGsm7, RefusesWhatTheAlphabetLacks) {
  for (const char* text : {"`", "\t", "ç", "Ж", "😀", "a\u00A0b"}) {
    EXPECT_FALSE(Utf8ToGsm7(text).has_value()) << text;
  }
  EXPECT_FALSE(Utf8ToGsm7(std::string("a\0", 2)).has_value());  // NUL is not '@'
  EXPECT_FALSE(Utf8ToGsm7("\xC3").has_value());                // truncated UTF-8
  EXPECT_FALSE(Gsm7SeptetCount("x`").has_value());
}

TEST(SmsGsm7, DecodingNeverFails) {
  EXPECT_EQ(Gsm7ToUtf8("\x80\xFF"), "\uFFFD\uFFFD");
  EXPECT_EQ(Gsm7ToUtf8("ab\x1B"), "ab ");        // ESC at the end: a space
  EXPECT_EQ(Gsm7ToUtf8("\x1B\x41"), "A");        // undefined extension: the default character
  EXPECT_EQ(Gsm7ToUtf8("\x1B\x1B" "a"), " a");   // ESC ESC: a space
  EXPECT_EQ(Gsm7ToUtf8("\x1B\x90"), "\uFFFD");
  EXPECT_EQ(Gsm7ToUtf8(std::string("\0\x02", 2)), "@$");
}

TEST(SmsUtf16, EncodesBmpAndSurrogatePairs) {
  const Result<std::string> out = Utf8ToUtf16Be("aЖ😀");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, std::string("\x00\x61\x04\x16\xD8\x3D\xDE\x00", 8));
  EXPECT_EQ(Utf16BeToUtf8(*out), "aЖ😀");
  EXPECT_EQ(Utf16BeToUtf8(*Utf8ToUtf16Be("\U0010FFFF€")), "\U0010FFFF€");
}

TEST(SmsUtf16, RefusesInvalidUtf8) {
  for (const std::string bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80",
                                "\xF4\x90\x80\x80", "\xE2\x82", "a\xF8", "\xFF"}) {
    const Result<std::string> out = Utf8ToUtf16Be(bad);
    EXPECT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Utf8ToUtf16Be("ab\xC3").status().message(), "invalid UTF-8 at byte 2");
}

TEST(SmsUtf16, DecodesMalformedInputWithoutFailing) {
  EXPECT_EQ(Utf16BeToUtf8(std::string("\xD8\x3D", 2)), "\uFFFD");             // lone high
  EXPECT_EQ(Utf16BeToUtf8(std::string("\xDE\x00\x00\x61", 4)), "\uFFFDa");    // lone low
  EXPECT_EQ(Utf16BeToUtf8(std::string("\xD8\x3D\x00\x61", 4)), "\uFFFDa");    // high, no low
  EXPECT_EQ(Utf16BeToUtf8(std::string("\x00\x61\x00", 3)), "a\uFFFD");        // odd octet
  EXPECT_EQ(Utf16BeToUtf8(""), "");
}

TEST(SmsBase64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},       {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    const Result<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(SmsBase64, EveryOctetRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len : {all.size(), all.size() - 1, all.size() - 2}) {
    const std::string bytes = all.substr(0, len);
    const Result<std::string> back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
  }
}

TEST(SmsBase64, StrictDecodeRefuses) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "====", "Zm9v\n", "Zm9 ", "Zg==Zg==", "Zh==",
                          "Zm9=", "-_-_", "Zm9v!A==", "Z=g="}) {
    const Result<std::string> out = Base64Decode(bad);
    EXPECT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace msgin5g::gateway::sms
