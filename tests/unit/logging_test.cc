// RateLimiter: the budget that keeps log lines anyone outside can cause from filling the disk.
#include "common/logging.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

namespace msgin5g::log {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, BurstThenSuppressedThenCountedInTheNextWindow) {
  RateLimiter limiter(3, 10s);
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t dropped = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Allow(&dropped, t0 + std::chrono::milliseconds(i)));
    EXPECT_EQ(dropped, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Allow(&dropped, t0 + 1s));
  EXPECT_FALSE(limiter.Allow(&dropped, t0 + 9s)) << "still the same window";
  // The next window: the first line carries the count of the six left out, the next none.
  EXPECT_TRUE(limiter.Allow(&dropped, t0 + 10s));
  EXPECT_EQ(dropped, 6u);
  EXPECT_TRUE(limiter.Allow(&dropped, t0 + 10s));
  EXPECT_EQ(dropped, 0u);
}

TEST(RateLimiterTest, MacroWritesAtMostTheBurstPerWindow) {
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 50; ++i) LOG_WARN_LIMITED("test", "line %d", i);
  const std::string out = ::testing::internal::GetCapturedStderr();
  std::size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, 10u) << out;
  EXPECT_NE(out.find("WARN test: line 9\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("line 10"), std::string::npos) << out;
}

// The three formats for one event at 2026-12-03T06:15:00.123Z.
TEST(LogFormatTest, TextJournalAndJsonLines) {
  const auto when = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796278500123LL));
  EXPECT_EQ(FormatLine(Format::kText, Level::kWarn, "mqtt", "lost", when),
            "2026-12-03T06:15:00.123Z WARN mqtt: lost");
  // journald stamps lines itself; the prefix carries the syslog priority.
  EXPECT_EQ(FormatLine(Format::kJournal, Level::kError, "main", "x", when), "<3>ERROR main: x");
  EXPECT_EQ(FormatLine(Format::kJournal, Level::kWarn, "m", "x", when), "<4>WARN m: x");
  EXPECT_EQ(FormatLine(Format::kJournal, Level::kInfo, "m", "x", when), "<6>INFO m: x");
  EXPECT_EQ(FormatLine(Format::kJournal, Level::kDebug, "m", "x", when), "<7>DEBUG m: x");
  // JSON: one object per line, control characters and quotes escaped, UTF-8 kept.
  EXPECT_EQ(FormatLine(Format::kJson, Level::kInfo, "l3g", "say \"hi\"\n\tto \x01 caf\xc3\xa9", when),
            R"({"ts":"2026-12-03T06:15:00.123Z","level":"info","module":"l3g",)"
            R"("msg":"say \"hi\"\n\tto \u0001 caf)" "\xc3\xa9" R"("})");
}

TEST(LogFormatTest, ParseAndJournalDetection) {
  Format f = Format::kJson;
  EXPECT_TRUE(ParseFormat("text", &f));
  EXPECT_EQ(f, Format::kText);
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));
  // JOURNAL_STREAM naming another stream than stderr (a wrapper redirected it): text.
  setenv("JOURNAL_STREAM", "1:1", 1);
  EXPECT_EQ(DefaultFormat(), Format::kText);
  struct stat st {};
  ASSERT_EQ(fstat(2, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_EQ(DefaultFormat(), Format::kJournal);
  EXPECT_TRUE(ParseFormat("auto", &f));
  EXPECT_EQ(f, Format::kJournal);
  unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(DefaultFormat(), Format::kText);
}

}  // namespace
}  // namespace msgin5g::log
