// Small helpers shared by the unit tests of asynchronous modules (storage, broker).
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>

#include <gtest/gtest.h>

namespace msgin5g::testing_support {

// A fresh, unique directory path under testing::TempDir() (not created), named after the test.
inline std::string FreshDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = ::testing::TempDir();
  if (!path.empty() && path.back() != '/') path.push_back('/');
  path += "msgin5g_" + tag + "_" + info->test_suite_name() + "_" + info->name() + "_" +
          std::to_string(::getpid()) + "_" + std::to_string(counter++);
  std::filesystem::remove_all(path);
  return path;
}

// Waits for an asynchronous answer; a hang is a test failure, not a stuck test binary.
template <class Future>
auto Await(Future&& f) {
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: asynchronous call did not complete within 30 s\n");
    std::abort();
  }
  return f.get();
}

}  // namespace msgin5g::testing_support
