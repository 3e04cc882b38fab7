// msgin5gctl's progress display: the bar, the elapsed time, and the two output modes (a terminal
// line redrawn in place; plain lines at most about one a second).
#include "tools/msgin5gctl/progress.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace msgin5gctl {
namespace {

using namespace std::chrono_literals;

// What a Progress wrote, through a real FILE*.
class Captured {
 public:
  Captured() : f_(open_memstream(&buf_, &size_)) {}
  ~Captured() {
    if (f_ != nullptr) std::fclose(f_);
    std::free(buf_);
  }
  std::FILE* file() { return f_; }
  std::string text() {
    std::fflush(f_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* f_;
};

TEST(CtlProgress, BarIsProportionalAndClamped) {
  EXPECT_EQ(RenderBar(0, 10, 10), "[----------]   0%");
  EXPECT_EQ(RenderBar(5, 10, 10), "[#####-----]  50%");
  EXPECT_EQ(RenderBar(10, 10, 10), "[##########] 100%");
  EXPECT_EQ(RenderBar(12, 10, 10), "[##########] 100%");  // more done than planned: full, not past
  EXPECT_EQ(RenderBar(0, 0, 4), "[----]   0%");
  // Byte counts near 2^64 do not overflow.
  EXPECT_EQ(RenderBar(1ull << 63, ~0ull, 10), "[#####-----]  50%");
}

TEST(CtlProgress, ElapsedTime) {
  EXPECT_EQ(RenderElapsed(7s), "7 s");
  EXPECT_EQ(RenderElapsed(125s), "2 min 05 s");
  EXPECT_EQ(RenderElapsed(1500ms), "1 s");
}

TEST(CtlProgress, TerminalRedrawsOneLineAndEndsIt) {
  Captured out;
  {
    Progress p("restore", out.file(), /*tty=*/true);
    p.Update(1, 4, "1 of 4 files");
    p.Update(4, 4, "4 of 4 files");
    p.Done();
    p.Done();  // idempotent: one newline
  }
  EXPECT_EQ(out.text(),
            "\rrestore [#######-----------------------]  25% 1 of 4 files\x1b[K"
            "\rrestore [##############################] 100% 4 of 4 files\x1b[K\n");
}

TEST(CtlProgress, TerminalWithoutATotalShowsTheElapsedTime) {
  Captured out;
  Progress p("backup", out.file(), true);
  p.Update(0, 0, "waiting for msgin5gd");
  EXPECT_EQ(out.text(), "\rbackup (0 s) waiting for msgin5gd\x1b[K");
}

TEST(CtlProgress, PlainLinesAreRateLimited) {
  Captured out;
  Progress p("draining", out.file(), /*tty=*/false);
  p.Update(0, 3, "3 deliverable");
  p.Update(1, 3, "2 deliverable");  // at once: dropped
  std::this_thread::sleep_for(950ms);
  p.Update(2, 3, "1 deliverable");
  p.Done();  // nothing to end
  EXPECT_EQ(out.text(), "draining: 3 deliverable\ndraining: 1 deliverable\n");
  Captured unknown;
  Progress q("backup", unknown.file(), false);
  q.Update(0, 0, "waiting for msgin5gd");
  EXPECT_EQ(unknown.text(), "backup: waiting for msgin5gd (0 s)\n");
}

TEST(CtlProgress, WaitShowingElapsedReturnsTheCallsResult) {
  EXPECT_EQ(WaitShowingElapsed("quick", [] { return 42; }), 42);
}

}  // namespace
}  // namespace msgin5gctl
