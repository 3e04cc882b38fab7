#include "gateway/smpp/framer.h"

#include <string>

#include "gateway/smpp/pdu.h"
#include "gateway/smpp/wire.h"

namespace msgin5g::gateway::smpp {

Result<std::size_t> NextFrameSize(std::string_view buffered) {
  if (buffered.size() < 4) return std::size_t{0};
  const std::uint32_t length = wire::LoadU32(buffered);
  if (length < kHeaderBytes || length > kMaxPduBytes) {
    return Status::InvalidArgument("command_length " + std::to_string(length) + " outside 16.." +
                                   std::to_string(kMaxPduBytes));
  }
  return std::size_t{length};
}

}  // namespace msgin5g::gateway::smpp
