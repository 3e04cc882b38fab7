// msgin5g-ue swarm: many simulated UEs over a few UDP sockets, on our own CoAP codec
// (api/coap/wire.h) instead of libcoap.
//
// Why: the `load` mode gives every UE a libcoap session and a socket of its own, so it cannot
// simulate more UEs than the file limit allows (20,000 on the reference machine), and libcoap's
// per-session walks (docs/coap.md) make the simulator's own cost grow with the number of UEs,
// which then shows up in what it measures. Here a UE is a source address: UE i sends from
// socket i % S with the IPv4 source 127.1.x.y chosen per datagram (IP_PKTINFO), so the server
// sees one distinct address per UE while the simulator holds S sockets and a few dozen bytes per
// UE. Loopback only (the whole 127/8 is local). The UE behaviour is `load`'s: REG (confirmable,
// retransmitted per RFC 7252), answer every MSG/IMDN 2.04 MSGRESP (aggregated ones with msgIds;
// Block1 transfers put together), count distinct msgIds.
#pragma once

#include <string>

namespace msgin5g::ue {

struct SwarmOptions {
  std::string server = "127.0.0.1:5683";  // IPv4 HOST:PORT
  std::string prefix = "ue-";
  int ues = 1;
  int expect = 0;    // messages each UE waits for (0: none)
  int seconds = 30;  // end after this long without a datagram
  int window = 16;   // REGs in flight at once
  int sockets = 16;
  int max_seg = 0;   // maxSegSize declared at REG (0: none)
};

// Prints the summary line (the `load` mode's JSON, plus "sockets"); 0 when every UE registered
// and got `expect` messages, 1 otherwise, 2 on a setup error.
int RunSwarm(const SwarmOptions& options);

}  // namespace msgin5g::ue
