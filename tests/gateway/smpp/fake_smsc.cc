#include "fake_smsc.h"

#include <boost/asio/write.hpp>
#include <utility>

#include "gateway/smpp/framer.h"

namespace msgin5g::gateway::smpp::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

FakeSmsc::FakeSmsc(asio::io_context& io)
    : io_(io), acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
  Accept();
}

FakeSmsc::~FakeSmsc() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  CloseAll();
}

Endpoint FakeSmsc::endpoint() const { return {"127.0.0.1", acceptor_.local_endpoint().port()}; }

int FakeSmsc::Count(std::uint32_t command_id) const {
  int n = 0;
  for (const Received& r : received) n += r.pdu.command_id == command_id ? 1 : 0;
  return n;
}

std::optional<Pdu> FakeSmsc::Last(std::uint32_t command_id) const {
  for (auto it = received.rbegin(); it != received.rend(); ++it) {
    if (it->pdu.command_id == command_id) return it->pdu;
  }
  return std::nullopt;
}

std::vector<FakeSmsc::Clock::time_point> FakeSmsc::SubmitTimes() const {
  std::vector<Clock::time_point> out;
  for (const Received& r : received) {
    if (r.pdu.command_id == command::kSubmitSm) out.push_back(r.at);
  }
  return out;
}

void FakeSmsc::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) return;
    auto c = std::make_shared<Conn>(io_);
    c->socket = std::move(socket);
    conns_.push_back(c);
    ++connections;
    Read(c);
    Accept();
  });
}

void FakeSmsc::Read(const std::shared_ptr<Conn>& c) {
  c->socket.async_read_some(asio::buffer(c->chunk),
                            [this, c](const boost::system::error_code& ec, std::size_t n) {
                              if (ec || !c->open) {
                                Close(c);
                                return;
                              }
                              c->rbuf.append(c->chunk.data(), n);
                              for (;;) {
                                Result<std::size_t> size = NextFrameSize(c->rbuf);
                                if (!size.ok()) {
                                  Close(c);
                                  return;
                                }
                                if (*size == 0 || c->rbuf.size() < *size) break;
                                Result<Pdu> p = Decode(std::string_view(c->rbuf).substr(0, *size));
                                c->rbuf.erase(0, *size);
                                if (p.ok()) OnPdu(c, std::move(*p));
                                if (!c->open) return;
                              }
                              Read(c);
                            });
}

void FakeSmsc::OnPdu(const std::shared_ptr<Conn>& c, Pdu p) {
  received.push_back({p, Clock::now()});
  switch (p.command_id) {
    case command::kBindTransceiver:
    case command::kBindTransmitter:
    case command::kBindReceiver:
      if (bind_status == kEsmeROk) {
        Write(c, Encode(MakeResponse(p, kEsmeROk, BindResp{"FAKESMSC", {}})));
      } else {
        Write(c, Encode(MakeResponse(p, bind_status)));
      }
      return;
    case command::kSubmitSm:
      if (throttle_next > 0) {
        --throttle_next;
        last_throttle_sent = Clock::now();
        Write(c, Encode(MakeResponse(p, kEsmeRThrottled)));
      } else if (hold_submits) {
        held_.emplace_back(c, p.sequence_number);
        if (held_.size() > max_held) max_held = held_.size();
      } else if (submit_status != kEsmeROk) {
        Write(c, Encode(MakeResponse(p, submit_status)));
      } else {
        Write(c, Encode(MakeResponse(p, kEsmeROk,
                                     SubmitSmResp{"m" + std::to_string(p.sequence_number)})));
      }
      return;
    case command::kEnquireLink:
      if (answer_enquire_link) Write(c, Encode(MakeResponse(p, kEsmeROk)));
      return;
    case command::kUnbind: Write(c, Encode(MakeResponse(p, kEsmeROk))); return;
    default: return;  // responses and nacks are only recorded
  }
}

void FakeSmsc::Send(const Pdu& pdu) { SendRaw(Encode(pdu)); }

void FakeSmsc::SendRaw(std::string bytes) {
  for (auto it = conns_.rbegin(); it != conns_.rend(); ++it) {
    if ((*it)->open) {
      Write(*it, std::move(bytes));
      return;
    }
  }
}

void FakeSmsc::ReleaseHeld() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& [c, seq] : held) {
    Pdu resp{command::kSubmitSmResp, kEsmeROk, seq, SubmitSmResp{"m" + std::to_string(seq)}};
    if (c->open) Write(c, Encode(resp));
  }
}

void FakeSmsc::CloseAll() {
  for (auto& c : conns_) Close(c);
  held_.clear();
}

void FakeSmsc::Write(const std::shared_ptr<Conn>& c, std::string bytes) {
  c->wq.push_back(std::move(bytes));
  if (!c->writing) DoWrite(c);
}

void FakeSmsc::DoWrite(const std::shared_ptr<Conn>& c) {
  c->writing = true;
  asio::async_write(c->socket, asio::buffer(c->wq.front()),
                    [this, c](const boost::system::error_code& ec, std::size_t) {
                      c->writing = false;
                      if (ec) {
                        Close(c);
                        return;
                      }
                      c->wq.pop_front();
                      if (!c->wq.empty()) DoWrite(c);
                    });
}

void FakeSmsc::Close(const std::shared_ptr<Conn>& c) {
  c->open = false;
  boost::system::error_code ignored;
  c->socket.close(ignored);
}

}  // namespace msgin5g::gateway::smpp::testing
