// Big-endian octet reader and writer for the PDU codec. Internal to gateway/smpp.
//
// The reader never reads past its view: every Get* checks the remaining length first and
// reports failure through its return value, so a hostile frame can only produce an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace msgin5g::gateway::smpp::wire {

inline void PutU8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

inline void PutU16(std::string& out, std::uint16_t v) {
  PutU8(out, static_cast<std::uint8_t>(v >> 8));
  PutU8(out, static_cast<std::uint8_t>(v));
}

inline void PutU32(std::string& out, std::uint32_t v) {
  PutU16(out, static_cast<std::uint16_t>(v >> 16));
  PutU16(out, static_cast<std::uint16_t>(v));
}

// Overwrites four octets at `at` (used to patch command_length once the body is known).
inline void SetU32(std::string& out, std::size_t at, std::uint32_t v) {
  out[at] = static_cast<char>(v >> 24);
  out[at + 1] = static_cast<char>(v >> 16);
  out[at + 2] = static_cast<char>(v >> 8);
  out[at + 3] = static_cast<char>(v);
}

inline std::uint32_t LoadU32(std::string_view in) {
  const auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  std::size_t remaining() const { return in_.size() - pos_; }
  bool empty() const { return remaining() == 0; }

  std::optional<std::uint8_t> U8() {
    if (remaining() < 1) return std::nullopt;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }

  std::optional<std::uint16_t> U16() {
    if (remaining() < 2) return std::nullopt;
    const auto hi = static_cast<std::uint16_t>(static_cast<unsigned char>(in_[pos_]));
    const auto lo = static_cast<std::uint16_t>(static_cast<unsigned char>(in_[pos_ + 1]));
    pos_ += 2;
    return static_cast<std::uint16_t>((hi << 8) | lo);
  }

  std::optional<std::uint32_t> U32() {
    if (remaining() < 4) return std::nullopt;
    const std::uint32_t v = LoadU32(in_.substr(pos_, 4));
    pos_ += 4;
    return v;
  }

  std::optional<std::string_view> Bytes(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }

  // A C-Octet string: the characters up to a NUL that lies within `max_with_nul` octets
  // (the spec's maximum counts the NUL). Returns the characters without the NUL.
  std::optional<std::string_view> COctet(std::size_t max_with_nul) {
    const std::size_t window = remaining() < max_with_nul ? remaining() : max_with_nul;
    const std::size_t nul = in_.substr(pos_, window).find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    std::string_view v = in_.substr(pos_, nul);
    pos_ += nul + 1;
    return v;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace msgin5g::gateway::smpp::wire
