#include "api/coap/wire.h"

#include <algorithm>

namespace msgin5g::api::coap::wire {
namespace {

constexpr std::uint8_t kPayloadMarker = 0xFF;

// An option's delta or length nibble with its extension bytes (§3.1). False for nibble 15 or
// extension bytes past the end.
bool ReadExtended(std::uint32_t nibble, std::string_view d, std::size_t* pos, std::uint32_t* out) {
  if (nibble < 13) {
    *out = nibble;
    return true;
  }
  if (nibble == 13) {
    if (*pos + 1 > d.size()) return false;
    *out = 13u + static_cast<std::uint8_t>(d[*pos]);
    *pos += 1;
    return true;
  }
  if (nibble == 14) {
    if (*pos + 2 > d.size()) return false;
    *out = 269u + (static_cast<std::uint32_t>(static_cast<std::uint8_t>(d[*pos])) << 8) +
           static_cast<std::uint8_t>(d[*pos + 1]);
    *pos += 2;
    return true;
  }
  return false;  // 15: reserved (the payload marker is handled before this)
}

// The nibble for `v` and its extension bytes.
std::uint8_t Nibble(std::uint32_t v) {
  return static_cast<std::uint8_t>(v < 13 ? v : v < 269 ? 13u : 14u);
}
void AppendExtension(std::uint32_t v, std::string* out) {
  if (v < 13) return;
  if (v < 269) {
    out->push_back(static_cast<char>(v - 13));
    return;
  }
  std::uint32_t e = v - 269;
  out->push_back(static_cast<char>(e >> 8));
  out->push_back(static_cast<char>(e & 0xFF));
}

}  // namespace

const OptionView* Message::Find(std::uint16_t number) const {
  for (const auto& o : options) {
    if (o.number == number) return &o;
    if (o.number > number) break;
  }
  return nullptr;
}

std::optional<Header> PeekHeader(std::string_view d) {
  if (d.size() < 4) return std::nullopt;
  auto b0 = static_cast<std::uint8_t>(d[0]);
  if ((b0 >> 6) != 1) return std::nullopt;
  return Header{static_cast<Type>((b0 >> 4) & 3), static_cast<std::uint8_t>(d[1]),
                static_cast<std::uint16_t>((static_cast<std::uint8_t>(d[2]) << 8) |
                                           static_cast<std::uint8_t>(d[3]))};
}

Result<Message> Parse(std::string_view d) {
  auto h = PeekHeader(d);
  if (d.size() < 4) return Status::InvalidArgument("shorter than the 4-byte header");
  if (!h) return Status::InvalidArgument("not CoAP version 1");
  Message m;
  m.type = h->type;
  m.code = h->code;
  m.message_id = h->message_id;
  const std::size_t tkl = static_cast<std::uint8_t>(d[0]) & 0x0F;
  if (tkl > kMaxTokenBytes) return Status::InvalidArgument("token length over 8");
  if (m.code == kEmpty) {
    // §4.1: an Empty message is the header alone.
    if (tkl != 0 || d.size() != 4) return Status::InvalidArgument("empty message with more than a header");
    return m;
  }
  if (4 + tkl > d.size()) return Status::InvalidArgument("token past the end");
  m.token = d.substr(4, tkl);
  std::size_t pos = 4 + tkl;
  std::uint32_t number = 0;
  while (pos < d.size()) {
    auto b = static_cast<std::uint8_t>(d[pos]);
    if (b == kPayloadMarker) {
      if (pos + 1 == d.size()) return Status::InvalidArgument("payload marker with no payload");
      m.payload = d.substr(pos + 1);
      return m;
    }
    ++pos;
    std::uint32_t delta = 0, length = 0;
    if (!ReadExtended(b >> 4, d, &pos, &delta)) return Status::InvalidArgument("bad option delta");
    if (!ReadExtended(b & 0x0F, d, &pos, &length)) return Status::InvalidArgument("bad option length");
    number += delta;
    if (number > 0xFFFF) return Status::InvalidArgument("option number over 65535");
    if (length > d.size() - pos) return Status::InvalidArgument("option value past the end");
    m.options.push_back(OptionView{static_cast<std::uint16_t>(number), d.substr(pos, length)});
    pos += length;
  }
  return m;
}

Builder& Builder::Add(std::uint16_t number, std::string value) {
  options.emplace_back(number, std::move(value));
  return *this;
}

Builder& Builder::AddUint(std::uint16_t number, std::uint32_t value) {
  return Add(number, EncodeUint(value));
}

void Serialize(const Builder& b, std::string* out) {
  const std::size_t tkl = std::min(b.token.size(), kMaxTokenBytes);
  out->push_back(static_cast<char>(0x40 | (static_cast<int>(b.type) << 4) | tkl));
  out->push_back(static_cast<char>(b.code));
  out->push_back(static_cast<char>(b.message_id >> 8));
  out->push_back(static_cast<char>(b.message_id & 0xFF));
  out->append(b.token, 0, tkl);
  // Sorted by number without reordering equal ones (repeatable options such as Uri-Path).
  std::vector<const std::pair<std::uint16_t, std::string>*> sorted;
  sorted.reserve(b.options.size());
  for (const auto& o : b.options) sorted.push_back(&o);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* x, const auto* y) { return x->first < y->first; });
  std::uint32_t last = 0;
  for (const auto* o : sorted) {
    const std::uint32_t delta = o->first - last;
    const auto length = static_cast<std::uint32_t>(o->second.size());
    out->push_back(static_cast<char>((Nibble(delta) << 4) | Nibble(length)));
    AppendExtension(delta, out);
    AppendExtension(length, out);
    out->append(o->second);
    last = o->first;
  }
  if (!b.payload.empty()) {
    out->push_back(static_cast<char>(kPayloadMarker));
    out->append(b.payload);
  }
}

std::string Serialize(const Builder& b) {
  std::string out;
  out.reserve(4 + b.token.size() + b.payload.size() + 16);
  Serialize(b, &out);
  return out;
}

std::optional<std::uint32_t> DecodeUint(std::string_view v) {
  if (v.size() > 4) return std::nullopt;
  std::uint32_t n = 0;
  for (char c : v) n = (n << 8) | static_cast<std::uint8_t>(c);
  return n;
}

std::string EncodeUint(std::uint32_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    auto byte = static_cast<char>((v >> shift) & 0xFF);
    if (!out.empty() || byte != 0) out.push_back(byte);
  }
  return out;
}

std::optional<Block> DecodeBlock(std::string_view v) {
  if (v.size() > 3) return std::nullopt;
  std::uint32_t n = *DecodeUint(v);
  const std::uint32_t szx = n & 7;
  if (szx == 7) return std::nullopt;
  return Block{n >> 4, (n & 8) != 0, 1u << (szx + 4)};
}

std::string EncodeBlock(const Block& b) {
  std::uint32_t szx = 0;
  while (szx < 6 && (1u << (szx + 4)) < b.size) ++szx;
  return EncodeUint((b.number << 4) | (b.more ? 8u : 0u) | szx);
}

}  // namespace msgin5g::api::coap::wire
