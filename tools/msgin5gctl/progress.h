// Progress of a long job on stderr: a spinner with the elapsed seconds when stderr is a
// terminal, else one line when it starts and one when it ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace msgin5gctl {

class Progress {
 public:
  explicit Progress(std::string what);  // "backup to /var/backups/m5g"
  ~Progress();                          // ends as Finish(false) if not finished
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Stops the spinner and prints "WHAT done in N.N s" or "WHAT failed after N.N s".
  void Finish(bool ok);

 private:
  void Spin();

  std::string what_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  std::thread spinner_;
};

}  // namespace msgin5gctl
