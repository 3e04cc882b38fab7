// The libFuzzer targets of this directory in the GCC test trees, where there is no libFuzzer: the
// target's LLVMFuzzerTestOneInput runs on every file of its seed corpus (the regression inputs:
// every crash a fuzzer found is kept there), then on random mutations of them (ByteMutator, no
// coverage feedback) until the time is up. Under the ASan + UBSan tree of scripts/test.sh that is
// what CI runs; the coverage-guided runs are scripts/fuzz.sh (clang, libFuzzer).
//
// Usage: TARGET_replay [--seconds=N] [--seed=S] [--max-len=N] CORPUS_DIR...
// A crash (a sanitizer report, abort, a fatal signal) leaves the input that caused it in
// TARGET_replay.crash-input beside the binary, and the seed is printed first, so that a run can
// be repeated.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/support/byte_mutator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Present only in sanitizer builds.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
extern "C" void __lsan_do_leak_check() __attribute__((weak));

namespace {

// What the death callback and signal handlers write out: set before each run, so that only
// async-signal-safe calls are needed then.
char g_crash_path[4096];
const std::string* g_current = nullptr;

void SaveCurrentInput() {
  if (g_current == nullptr) return;
  int fd = open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::size_t off = 0;
  while (off < g_current->size()) {
    ssize_t n = write(fd, g_current->data() + off, g_current->size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  close(fd);
  static const char kMsg[] = "replay: the input that crashed is in ";
  (void)!write(2, kMsg, sizeof kMsg - 1);
  (void)!write(2, g_crash_path, std::strlen(g_crash_path));
  (void)!write(2, "\n", 1);
}

// Without sanitizers only: under them, their own handlers report the crash (with its stack)
// and call the death callback.
void OnFatalSignal(int sig) {
  SaveCurrentInput();
  std::raise(sig);  // SA_RESETHAND: the default action now
}

void CatchFatalSignals() {
  struct sigaction sa {};
  sa.sa_handler = &OnFatalSignal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
}

void Run(const std::string& input) {
  g_current = &input;
  // A heap copy of exactly the input's size, as libFuzzer passes it: a read one byte past the
  // end is then an ASan report, not the string's terminating NUL.
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[input.size()]);
  std::memcpy(copy.get(), input.data(), input.size());
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::uint64_t seed = std::random_device{}();
  std::size_t max_len = 65536;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) {
      seconds = std::strtod(a.c_str() + 10, nullptr);
    } else if (a.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    } else if (a.rfind("--max-len=", 0) == 0) {
      max_len = std::strtoull(a.c_str() + 10, nullptr, 10);
    } else {
      dirs.push_back(a);
    }
  }
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s.crash-input", argv[0]);
  if (__sanitizer_set_death_callback != nullptr) {
    __sanitizer_set_death_callback(&SaveCurrentInput);
  } else {
    CatchFatalSignals();
  }

  // In path order: the same seed then makes the same run on any machine.
  std::vector<std::filesystem::path> files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    if (ec) {
      std::fprintf(stderr, "replay: cannot read %s: %s\n", dir.c_str(), ec.message().c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> corpus;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "replay: no seed inputs in the corpus directories given\n");
    return 2;
  }
  std::printf("replay: seed %llu, %zu corpus inputs, mutations for %.0f s\n",
              static_cast<unsigned long long>(seed), corpus.size(), seconds);
  std::fflush(stdout);
  for (const auto& input : corpus) Run(input);

  msgin5g::testing_support::ByteMutator mutate(seed, max_len);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::uint64_t runs = corpus.size();
  while (std::chrono::steady_clock::now() < end) {
    Run(mutate.Next(corpus));
    ++runs;
  }
  std::printf("replay: %llu inputs run, none crashed\n", static_cast<unsigned long long>(runs));
  std::fflush(stdout);
  // Targets may keep threads (the CoAP endpoint's rig): leave without running static
  // destructors under them (quick_exit runs the targets' at_quick_exit cleanups), after the leak
  // check that exit() would have run.
  if (__lsan_do_leak_check != nullptr) __lsan_do_leak_check();
  std::quick_exit(0);
}
