// Finding PDU boundaries in a TCP byte stream: SMPP frames are self-delimited by their first
// four octets (command_length), so the session buffers bytes and asks this how far to read.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::smpp {

// Given the bytes buffered so far (starting at a frame boundary):
//  - 0 when fewer than 4 octets are buffered (the length is not known yet);
//  - the whole next frame's size (command_length) when it is within 16..kMaxPduBytes; the frame
//    is complete once that many octets are buffered;
//  - an error when command_length is outside that range: framing is lost, and the only safe
//    thing left is to close the connection. The check comes before any body is buffered, so a
//    peer cannot make us hold more than kMaxPduBytes per connection.
Result<std::size_t> NextFrameSize(std::string_view buffered);

}  // namespace msgin5g::gateway::smpp
