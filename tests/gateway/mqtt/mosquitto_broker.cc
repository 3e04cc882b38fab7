#include "tests/gateway/mqtt/mosquitto_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace msgin5g::gateway::mqtt::mqtt_test {
namespace {

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

bool MosquittoBroker::Start() { return Launch(""); }

bool MosquittoBroker::StartTls(const Tls& tls) {
  return Launch("cafile " + tls.ca_file + "\ncertfile " + tls.cert_file + "\nkeyfile " +
                tls.key_file + "\n");
}

bool MosquittoBroker::Launch(const std::string& extra_config) {
  // No persistence: a restarted broker has forgotten every session, so the link must
  // subscribe again by itself.
  const std::string conf = dir_.File("mosquitto.conf");
  testing_support::WriteFile(conf, "listener " + std::to_string(port_) + " 127.0.0.1\n" +
                                       extra_config +
                                       // As root, mosquitto would switch to user "mosquitto",
                                       // which cannot read the test's key files.
                                       (geteuid() == 0 ? "user root\n" : "") +
                                       "allow_anonymous true\npersistence false\n"
                                       "log_type all\n");
  process_ = std::make_unique<testing_support::Process>(
      std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf},
      dir_.File("broker" + std::to_string(++starts_) + ".log"));
  return testing_support::WaitFor([&] { return process_->running() && Accepts(port_); },
                                  std::chrono::seconds(5));
}

void MosquittoBroker::Kill() {
  if (process_) (void)process_->Stop(SIGKILL, std::chrono::seconds(5));
}
void MosquittoBroker::Pause() { kill(process_->pid(), SIGSTOP); }
void MosquittoBroker::Resume() { kill(process_->pid(), SIGCONT); }

std::string MosquittoBroker::Log() const {
  std::string out;
  for (int i = 1; i <= starts_; ++i) {
    out += testing_support::ReadFile(dir_.File("broker" + std::to_string(i) + ".log"));
  }
  return out;
}

}  // namespace msgin5g::gateway::mqtt::mqtt_test
