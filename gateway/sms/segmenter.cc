#include "gateway/sms/segmenter.h"

#include <algorithm>
#include <optional>

#include "gateway/sms/base64.h"
#include "gateway/sms/gsm7.h"
#include "gateway/sms/utf16.h"

namespace msgin5g::gateway::sms {
namespace {

constexpr std::size_t kUserDataOctets = 140;
constexpr std::size_t kMaxTotalField = 255;

enum class Unit { kOctet, kSeptet, kUtf16 };

// Octets of the indivisible unit starting at data[i]: an ESC pair, a surrogate pair, or one
// septet / octet / code unit. A malformed tail (ESC last, high surrogate last) is one unit;
// our own encoders never produce it.
std::size_t UnitSize(Unit unit, std::string_view data, std::size_t i) {
  switch (unit) {
    case Unit::kOctet:
      return 1;
    case Unit::kSeptet:
      return data[i] == kGsm7Escape && i + 2 <= data.size() ? 2 : 1;
    case Unit::kUtf16: {
      const auto hi = static_cast<unsigned char>(data[i]);
      return hi >= 0xD8 && hi <= 0xDB && i + 4 <= data.size() ? 4 : 2;
    }
  }
  return 1;
}

// Octets of short_message one part can hold after a `udh_octets` UDH (0: a lone SMS).
std::size_t Capacity(Unit unit, std::size_t udh_octets) {
  switch (unit) {
    case Unit::kOctet:
      return kUserDataOctets - udh_octets;
    case Unit::kSeptet:
      // 160 septets in 140 octets; the UDH rounds up to whole septets after packing.
      return kUserDataOctets * 8 / 7 - (udh_octets * 8 + 6) / 7;
    case Unit::kUtf16:
      return (kUserDataOctets - udh_octets) / 2 * 2;
  }
  return 0;
}

// Greedy cut into chunks of at most `capacity` octets, never inside a unit.
std::vector<std::string_view> Split(Unit unit, std::string_view data, std::size_t capacity) {
  std::vector<std::string_view> chunks;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t end = start;
    while (end < data.size()) {
      const std::size_t size = UnitSize(unit, data, end);
      if (end + size - start > capacity) break;
      end += size;
    }
    chunks.push_back(data.substr(start, end - start));
    start = end;
  }
  return chunks;
}

std::string ConcatUdh(const SegmentOptions& options, std::size_t total, std::size_t seq) {
  std::string udh;
  if (options.use_16bit_ref) {
    udh = {0x06, 0x08, 0x04, static_cast<char>(options.reference >> 8),
           static_cast<char>(options.reference & 0xFF)};
  } else {
    udh = {0x05, 0x00, 0x03, static_cast<char>(options.reference & 0xFF)};
  }
  udh.push_back(static_cast<char>(total));
  udh.push_back(static_cast<char>(seq));
  return udh;
}

Result<Encoded> Segment(std::uint8_t data_coding, Unit unit, std::string_view data,
                        const SegmentOptions& options) {
  Encoded encoded;
  encoded.data_coding = data_coding;
  if (data.size() <= Capacity(unit, 0)) {
    encoded.parts.push_back(Part{0, std::string(data)});
    return encoded;
  }
  const std::size_t udh_octets = options.use_16bit_ref ? 7 : 6;
  const std::vector<std::string_view> chunks = Split(unit, data, Capacity(unit, udh_octets));
  const std::size_t limit = std::min(options.max_parts, kMaxTotalField);
  if (chunks.size() > limit) {
    return Status::InvalidArgument("payload needs " + std::to_string(chunks.size()) +
                                   " parts, more than sms.max_parts");
  }
  encoded.parts.reserve(chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    Part part{kEsmClassUdhi, ConcatUdh(options, chunks.size(), i + 1)};
    part.short_message.append(chunks[i]);
    encoded.parts.push_back(std::move(part));
  }
  return encoded;
}

}  // namespace

Result<Encoded> EncodeForSms(std::string_view payload, bool binary, const SegmentOptions& options) {
  if (binary) {
    Result<std::string> bytes = Base64Decode(payload);
    if (!bytes.ok()) {
      return Status::InvalidArgument("binary payload: " + bytes.status().message());
    }
    return Segment(kDataCodingBinary, Unit::kOctet, *bytes, options);
  }
  if (std::optional<std::string> septets = Utf8ToGsm7(payload)) {
    return Segment(kDataCodingDefault, Unit::kSeptet, *septets, options);
  }
  Result<std::string> utf16 = Utf8ToUtf16Be(payload);
  if (!utf16.ok()) return Status::InvalidArgument("text payload: " + utf16.status().message());
  return Segment(kDataCodingUcs2, Unit::kUtf16, *utf16, options);
}

}  // namespace msgin5g::gateway::sms
