// A tiny scriptable SMSC for the session tests: Asio on 127.0.0.1:0, our own codec, everything on
// the test's io_context (one thread, so no locks and no races with the session).
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/smpp/esme_session.h"
#include "gateway/smpp/pdu.h"

namespace msgin5g::gateway::smpp::testing {

class FakeSmsc {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FakeSmsc(boost::asio::io_context& io);
  ~FakeSmsc();

  Endpoint endpoint() const;

  // Behaviour, changeable at any time.
  std::uint32_t bind_status = kEsmeROk;
  bool answer_enquire_link = true;
  bool hold_submits = false;               // keep submit_sm unanswered until ReleaseHeld
  int throttle_next = 0;                   // answer this many submit_sm with ESME_RTHROTTLED
  std::uint32_t submit_status = kEsmeROk;  // the answer to the others

  // What happened.
  struct Received {
    Pdu pdu;
    Clock::time_point at;
  };
  std::vector<Received> received;  // every decoded PDU, all connections
  int connections = 0;
  std::size_t held() const { return held_.size(); }
  std::size_t max_held = 0;
  Clock::time_point last_throttle_sent{};

  int Count(std::uint32_t command_id) const;
  // A copy of the last PDU received with this command_id (a copy: `received` grows).
  std::optional<Pdu> Last(std::uint32_t command_id) const;
  // Arrival times of the submit_sm received.
  std::vector<Clock::time_point> SubmitTimes() const;

  // To the newest connection.
  void Send(const Pdu& pdu);
  void SendRaw(std::string bytes);
  void ReleaseHeld();
  void CloseAll();

 private:
  struct Conn {
    explicit Conn(boost::asio::io_context& io) : socket(io) {}
    boost::asio::ip::tcp::socket socket;
    std::string rbuf;
    std::array<char, 4096> chunk{};
    std::deque<std::string> wq;
    bool writing = false;
    bool open = true;
  };

  void Accept();
  void Read(const std::shared_ptr<Conn>& c);
  void OnPdu(const std::shared_ptr<Conn>& c, Pdu p);
  void Write(const std::shared_ptr<Conn>& c, std::string bytes);
  void DoWrite(const std::shared_ptr<Conn>& c);
  void Close(const std::shared_ptr<Conn>& c);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::pair<std::shared_ptr<Conn>, std::uint32_t>> held_;
};

}  // namespace msgin5g::gateway::smpp::testing
