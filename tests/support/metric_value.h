// The value of one sample in a Prometheus text exposition (header-only: unit tests use it without
// the test support library).
#pragma once

#include <string>

namespace msgin5g::testing_support {

// `series` is the metric name plus labels, exactly as exposed; -1 if absent.
inline double MetricValue(const std::string& text, const std::string& series) {
  std::size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

}  // namespace msgin5g::testing_support
