#include "gateway/smpp/tlv.h"

#include <cstdio>
#include <utility>

namespace msgin5g::gateway::smpp {
namespace {

std::optional<std::uint8_t> AsU8(std::optional<std::string_view> v) {
  if (!v || v->size() != 1) return std::nullopt;
  return static_cast<std::uint8_t>((*v)[0]);
}

std::optional<std::uint16_t> AsU16(std::optional<std::string_view> v) {
  if (!v || v->size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((static_cast<unsigned char>((*v)[0]) << 8) |
                                    static_cast<unsigned char>((*v)[1]));
}

std::string U8Value(std::uint8_t x) { return std::string(1, static_cast<char>(x)); }

std::string U16Value(std::uint16_t x) {
  std::string s;
  s.push_back(static_cast<char>(x >> 8));
  s.push_back(static_cast<char>(x));
  return s;
}

// A C-Octet string value: NUL-terminated, no NUL inside, at most `max_with_nul` octets.
bool IsCOctet(std::string_view v, std::size_t max_with_nul) {
  return !v.empty() && v.size() <= max_with_nul && v.find('\0') == v.size() - 1;
}

Status Refuse(const char* name, std::uint16_t tag, const char* why) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "TLV %s (0x%04X): %s", name, static_cast<unsigned>(tag), why);
  return Status::InvalidArgument(buf);
}

}  // namespace

std::optional<std::string_view> Tlvs::Find(std::uint16_t tag) const {
  for (const Tlv& t : items_) {
    if (t.tag == tag) return std::string_view(t.value);
  }
  return std::nullopt;
}

void Tlvs::Set(std::uint16_t tag, std::string value) {
  bool placed = false;
  for (auto it = items_.begin(); it != items_.end();) {
    if (it->tag != tag) {
      ++it;
    } else if (!placed) {
      it->value = std::move(value);
      placed = true;
      ++it;
    } else {
      it = items_.erase(it);
    }
  }
  if (!placed) items_.push_back(Tlv{tag, std::move(value)});
}

std::optional<std::string> Tlvs::receipted_message_id() const {
  auto v = Find(tlv::kReceiptedMessageId);
  if (!v || !IsCOctet(*v, 65)) return std::nullopt;
  return std::string(v->substr(0, v->size() - 1));
}

void Tlvs::set_receipted_message_id(std::string_view id) {
  std::string v(id);
  v.push_back('\0');
  Set(tlv::kReceiptedMessageId, std::move(v));
}

std::optional<std::uint8_t> Tlvs::message_state() const { return AsU8(Find(tlv::kMessageState)); }
void Tlvs::set_message_state(std::uint8_t state) { Set(tlv::kMessageState, U8Value(state)); }

std::optional<NetworkErrorCode> Tlvs::network_error_code() const {
  auto v = Find(tlv::kNetworkErrorCode);
  if (!v || v->size() != 3) return std::nullopt;
  return NetworkErrorCode{static_cast<std::uint8_t>((*v)[0]), *AsU16(v->substr(1))};
}

void Tlvs::set_network_error_code(NetworkErrorCode code) {
  Set(tlv::kNetworkErrorCode, U8Value(code.network_type) + U16Value(code.error_code));
}

std::optional<std::string_view> Tlvs::message_payload() const { return Find(tlv::kMessagePayload); }
void Tlvs::set_message_payload(std::string payload) {
  Set(tlv::kMessagePayload, std::move(payload));
}

std::optional<std::uint16_t> Tlvs::sar_msg_ref_num() const {
  return AsU16(Find(tlv::kSarMsgRefNum));
}
void Tlvs::set_sar_msg_ref_num(std::uint16_t ref) { Set(tlv::kSarMsgRefNum, U16Value(ref)); }

std::optional<std::uint8_t> Tlvs::sar_total_segments() const {
  return AsU8(Find(tlv::kSarTotalSegments));
}
void Tlvs::set_sar_total_segments(std::uint8_t total) {
  Set(tlv::kSarTotalSegments, U8Value(total));
}

std::optional<std::uint8_t> Tlvs::sar_segment_seqnum() const {
  return AsU8(Find(tlv::kSarSegmentSeqnum));
}
void Tlvs::set_sar_segment_seqnum(std::uint8_t seqnum) {
  Set(tlv::kSarSegmentSeqnum, U8Value(seqnum));
}

Status CheckKnownTlv(const Tlv& t) {
  const std::size_t n = t.value.size();
  switch (t.tag) {
    case tlv::kReceiptedMessageId:
      if (!IsCOctet(t.value, 65)) {
        return Refuse("receipted_message_id", t.tag, "not a C-Octet string of at most 65 octets");
      }
      return Status::Ok();
    case tlv::kMessageState:
      return n == 1 ? Status::Ok() : Refuse("message_state", t.tag, "length is not 1");
    case tlv::kNetworkErrorCode:
      return n == 3 ? Status::Ok() : Refuse("network_error_code", t.tag, "length is not 3");
    case tlv::kSarMsgRefNum:
      return n == 2 ? Status::Ok() : Refuse("sar_msg_ref_num", t.tag, "length is not 2");
    case tlv::kSarTotalSegments:
      return n == 1 ? Status::Ok() : Refuse("sar_total_segments", t.tag, "length is not 1");
    case tlv::kSarSegmentSeqnum:
      return n == 1 ? Status::Ok() : Refuse("sar_segment_seqnum", t.tag, "length is not 1");
    case tlv::kScInterfaceVersion:
      return n == 1 ? Status::Ok() : Refuse("sc_interface_version", t.tag, "length is not 1");
    default: return Status::Ok();
  }
}

}  // namespace msgin5g::gateway::smpp
