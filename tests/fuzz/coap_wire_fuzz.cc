// libFuzzer target: the CoAP message parser (api/coap/wire.h). The input is one datagram.
// Beyond not crashing, the format's one property is checked: every encoding it accepts is the
// only encoding of its message (deltas and lengths have one form each, options come in order),
// so writing the parsed message out again must give back the very same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/coap/wire.h"

namespace wire = msgin5g::api::coap::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view d(reinterpret_cast<const char*>(data), size);
  auto m = wire::Parse(d);
  if (!m.ok()) {
    // A refused datagram of 4 bytes or more with version 1 still shows its header.
    if (size >= 4 && (data[0] >> 6) == 1 && !wire::PeekHeader(d).has_value()) std::abort();
    return 0;
  }
  wire::Builder b;
  b.type = m->type;
  b.code = m->code;
  b.message_id = m->message_id;
  b.token = std::string(m->token);
  for (const auto& o : m->options) b.Add(o.number, std::string(o.value));
  b.payload = std::string(m->payload);
  if (wire::Serialize(b) != d) std::abort();
  if (const auto* o = m->Find(wire::kBlock1)) {
    if (auto blk = wire::DecodeBlock(o->value); blk && (blk->size < 16 || blk->size > 1024)) std::abort();
  }
  return 0;
}
