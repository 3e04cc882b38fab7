// Exit codes and errors as values: every step returns Result<T>; main() prints the error and
// exits with its code. Boost exceptions are caught where Boost is called and become an Error.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace msgin5gctl {

// The process exit codes (docs/msgin5gctl.md).
enum class Exit : int {
  kOk = 0,
  kRefused = 1,    // the server refused (4xx other than 401/403/404) or failed (5xx)
  kUsage = 2,      // bad command line, unreadable input file
  kConnect = 3,    // cannot connect, timeout, TLS failure, unusable answer
  kAuth = 4,       // 401 or 403
  kNotFound = 5,   // 404
};

struct Error {
  Exit code = Exit::kRefused;
  std::string message;  // one or more lines, without the leading "error: "
};

inline Error UsageError(std::string message) { return {Exit::kUsage, std::move(message)}; }

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace msgin5gctl
