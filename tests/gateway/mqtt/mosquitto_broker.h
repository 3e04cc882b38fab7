// A real mosquitto broker for the tests: its own config in a temp dir, 127.0.0.1 on a fixed
// port (so a restart comes back where the link expects it), killable and restartable.
#pragma once

#include <memory>
#include <string>

#include "tests/support/test_util.h"

namespace msgin5g::gateway::mqtt::mqtt_test {

class MosquittoBroker {
 public:
  struct Tls {
    std::string ca_file, cert_file, key_file;
  };

  explicit MosquittoBroker(int port) : port_(port) {}
  // Starts the broker and waits until it accepts connections; false when it did not.
  bool Start();
  bool StartTls(const Tls& tls);
  void Kill();      // SIGKILL: the connections drop without DISCONNECT
  void Pause();     // SIGSTOP: connections stay up but nothing is answered
  void Resume();    // SIGCONT
  int port() const { return port_; }
  std::string Log() const;

 private:
  bool Launch(const std::string& extra_config);

  int port_;
  testing_support::TempDir dir_;
  std::unique_ptr<testing_support::Process> process_;
  int starts_ = 0;
};

}  // namespace msgin5g::gateway::mqtt::mqtt_test
