// RateLimiter: the budget that keeps log lines anyone outside can cause from filling the disk.
#include "common/logging.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace msgin5g::log
