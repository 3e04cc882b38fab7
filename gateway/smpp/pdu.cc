#include "gateway/smpp/pdu.h"

#include <type_traits>
#include <utility>

#include "gateway/smpp/wire.h"

namespace msgin5g::gateway::smpp {
namespace {

// Maxima in characters, without the NUL (SMPP 3.4 §4).
constexpr std::size_t kMaxSystemId = 15;
constexpr std::size_t kMaxPassword = 8;
constexpr std::size_t kMaxSystemType = 12;
constexpr std::size_t kMaxAddressRange = 40;
constexpr std::size_t kMaxServiceType = 5;
constexpr std::size_t kMaxAddr = 20;
constexpr std::size_t kMaxTime = 16;
constexpr std::size_t kMaxMessageId = 64;
constexpr std::size_t kMaxTlvValue = 0xFFFF;

// ---------------------------------------------------------------------------------------------
// Decoding. The first refusal wins; it names "<command>.<field>" and sets the nack status.

struct Ctx {
  wire::Reader r;
  std::string_view cmd;
  std::uint32_t* nack;
};

Status Fail(Ctx& c, std::string_view field, std::string_view why, std::uint32_t code) {
  if (c.nack != nullptr) *c.nack = code;
  std::string m(c.cmd);
  m += '.';
  m += field;
  m += ": ";
  m += why;
  return Status::InvalidArgument(std::move(m));
}

Status ReadCOctet(Ctx& c, const char* field, std::size_t max_chars, std::string& out,
                  std::uint32_t code = kEsmeRInvCmdLen) {
  if (c.r.empty()) return Fail(c, field, "missing (body ends early)", code);
  auto v = c.r.COctet(max_chars + 1);
  if (!v) {
    return Fail(c, field,
                "no NUL within " + std::to_string(max_chars + 1) + " octets (its maximum)", code);
  }
  out.assign(*v);
  return Status::Ok();
}

Status ReadU8(Ctx& c, const char* field, std::uint8_t& out) {
  auto v = c.r.U8();
  if (!v) return Fail(c, field, "missing (body ends early)", kEsmeRInvCmdLen);
  out = *v;
  return Status::Ok();
}

Status ReadTlvs(Ctx& c, Tlvs& out) {
  while (!c.r.empty()) {
    if (c.r.remaining() < 4) {
      return Fail(c, "tlv", std::to_string(c.r.remaining()) + " trailing octets, too few for a TLV",
                  kEsmeRInvOptParStream);
    }
    const std::uint16_t tag = *c.r.U16();
    const std::uint16_t len = *c.r.U16();
    auto value = c.r.Bytes(len);
    if (!value) {
      return Fail(c, "tlv",
                  "length " + std::to_string(len) + " of tag " + std::to_string(tag) +
                      " runs past the frame",
                  kEsmeRInvOptParStream);
    }
    Tlv t{tag, std::string(*value)};
    if (Status st = CheckKnownTlv(t); !st.ok()) {
      return Fail(c, "tlv", st.message(), kEsmeRInvParLen);
    }
    out.items().push_back(std::move(t));
  }
  return Status::Ok();
}

Status ExpectEnd(Ctx& c) {
  if (c.r.empty()) return Status::Ok();
  return Fail(c, "body", std::to_string(c.r.remaining()) + " trailing octets", kEsmeRInvCmdLen);
}

Status DecodeBind(Ctx& c, Bind& b) {
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "system_id", kMaxSystemId, b.system_id, kEsmeRInvSysId));
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "password", kMaxPassword, b.password, kEsmeRInvPaswd));
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "system_type", kMaxSystemType, b.system_type));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "interface_version", b.interface_version));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "addr_ton", b.addr_ton));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "addr_npi", b.addr_npi));
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "address_range", kMaxAddressRange, b.address_range));
  return ExpectEnd(c);
}

Status DecodeBindResp(Ctx& c, BindResp& b) {
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "system_id", kMaxSystemId, b.system_id, kEsmeRInvSysId));
  return ReadTlvs(c, b.tlvs);
}

Status DecodeSm(Ctx& c, ShortMessageFields& m) {
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "service_type", kMaxServiceType, m.service_type));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "source_addr_ton", m.source_addr_ton));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "source_addr_npi", m.source_addr_npi));
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "source_addr", kMaxAddr, m.source_addr, kEsmeRInvSrcAdr));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "dest_addr_ton", m.dest_addr_ton));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "dest_addr_npi", m.dest_addr_npi));
  MSGIN5G_RETURN_IF_ERROR(
      ReadCOctet(c, "destination_addr", kMaxAddr, m.destination_addr, kEsmeRInvDstAdr));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "esm_class", m.esm_class));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "protocol_id", m.protocol_id));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "priority_flag", m.priority_flag));
  MSGIN5G_RETURN_IF_ERROR(
      ReadCOctet(c, "schedule_delivery_time", kMaxTime, m.schedule_delivery_time));
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "validity_period", kMaxTime, m.validity_period));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "registered_delivery", m.registered_delivery));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "replace_if_present_flag", m.replace_if_present_flag));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "data_coding", m.data_coding));
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "sm_default_msg_id", m.sm_default_msg_id));
  std::uint8_t sm_length = 0;
  MSGIN5G_RETURN_IF_ERROR(ReadU8(c, "sm_length", sm_length));
  if (sm_length > kMaxShortMessage) {
    return Fail(c, "sm_length", std::to_string(sm_length) + " exceeds 254", kEsmeRInvMsgLen);
  }
  auto sm = c.r.Bytes(sm_length);
  if (!sm) {
    return Fail(c, "short_message",
                "sm_length " + std::to_string(sm_length) + " runs past the frame", kEsmeRInvMsgLen);
  }
  m.short_message.assign(*sm);
  return ReadTlvs(c, m.tlvs);
}

template <typename Resp>
Status DecodeMessageIdResp(Ctx& c, Resp& resp, std::size_t max_chars) {
  MSGIN5G_RETURN_IF_ERROR(ReadCOctet(c, "message_id", max_chars, resp.message_id));
  return ExpectEnd(c);
}

// ---------------------------------------------------------------------------------------------
// Validation: the same maxima, checked on a PDU about to be sent.

struct VCtx {
  std::string_view cmd;
  std::uint32_t* code;
};

Status VFail(VCtx& c, std::string_view field, std::string_view why, std::uint32_t code) {
  if (c.code != nullptr) *c.code = code;
  std::string m(c.cmd);
  m += '.';
  m += field;
  m += ": ";
  m += why;
  return Status::InvalidArgument(std::move(m));
}

Status VString(VCtx& c, const char* field, const std::string& s, std::size_t max_chars,
               std::uint32_t code = kEsmeRInvCmdLen) {
  if (s.find('\0') != std::string::npos) return VFail(c, field, "contains a NUL", code);
  if (s.size() > max_chars) {
    return VFail(c, field,
                 std::to_string(s.size()) + " characters, maximum " + std::to_string(max_chars),
                 code);
  }
  return Status::Ok();
}

Status VTlvs(VCtx& c, const Tlvs& tlvs) {
  for (const Tlv& t : tlvs.items()) {
    if (t.value.size() > kMaxTlvValue) {
      return VFail(c, "tlv", "value longer than 65535 octets", kEsmeRInvParLen);
    }
    if (Status st = CheckKnownTlv(t); !st.ok())
      return VFail(c, "tlv", st.message(), kEsmeRInvParLen);
  }
  return Status::Ok();
}

Status VBind(VCtx& c, const Bind& b) {
  MSGIN5G_RETURN_IF_ERROR(VString(c, "system_id", b.system_id, kMaxSystemId, kEsmeRInvSysId));
  MSGIN5G_RETURN_IF_ERROR(VString(c, "password", b.password, kMaxPassword, kEsmeRInvPaswd));
  MSGIN5G_RETURN_IF_ERROR(VString(c, "system_type", b.system_type, kMaxSystemType));
  return VString(c, "address_range", b.address_range, kMaxAddressRange);
}

Status VSm(VCtx& c, const ShortMessageFields& m) {
  MSGIN5G_RETURN_IF_ERROR(VString(c, "service_type", m.service_type, kMaxServiceType));
  MSGIN5G_RETURN_IF_ERROR(VString(c, "source_addr", m.source_addr, kMaxAddr, kEsmeRInvSrcAdr));
  MSGIN5G_RETURN_IF_ERROR(
      VString(c, "destination_addr", m.destination_addr, kMaxAddr, kEsmeRInvDstAdr));
  MSGIN5G_RETURN_IF_ERROR(VString(c, "schedule_delivery_time", m.schedule_delivery_time, kMaxTime));
  MSGIN5G_RETURN_IF_ERROR(VString(c, "validity_period", m.validity_period, kMaxTime));
  if (m.short_message.size() > kMaxShortMessage) {
    return VFail(
        c, "short_message",
        std::to_string(m.short_message.size()) + " octets, maximum 254 (use message_payload)",
        kEsmeRInvMsgLen);
  }
  if (!m.short_message.empty() && m.tlvs.Find(tlv::kMessagePayload)) {
    return VFail(c, "short_message", "must be empty when message_payload is used", kEsmeRInvMsgLen);
  }
  return VTlvs(c, m.tlvs);
}

// The body alternative each command carries.
template <typename T>
bool BodyIs(const Body& b) {
  return std::holds_alternative<T>(b);
}

// ---------------------------------------------------------------------------------------------
// Encoding.

void PutCOctet(std::string& out, const std::string& s) {
  out.append(s);
  out.push_back('\0');
}

void PutTlvs(std::string& out, const Tlvs& tlvs) {
  for (const Tlv& t : tlvs.items()) {
    const std::size_t n = t.value.size() < kMaxTlvValue ? t.value.size() : kMaxTlvValue;
    wire::PutU16(out, t.tag);
    wire::PutU16(out, static_cast<std::uint16_t>(n));
    out.append(t.value, 0, n);
  }
}

void PutBody(std::string&, const std::monostate&) {}

void PutBody(std::string& out, const Bind& b) {
  PutCOctet(out, b.system_id);
  PutCOctet(out, b.password);
  PutCOctet(out, b.system_type);
  wire::PutU8(out, b.interface_version);
  wire::PutU8(out, b.addr_ton);
  wire::PutU8(out, b.addr_npi);
  PutCOctet(out, b.address_range);
}

void PutBody(std::string& out, const BindResp& b) {
  PutCOctet(out, b.system_id);
  PutTlvs(out, b.tlvs);
}

void PutBody(std::string& out, const ShortMessageFields& m) {
  PutCOctet(out, m.service_type);
  wire::PutU8(out, m.source_addr_ton);
  wire::PutU8(out, m.source_addr_npi);
  PutCOctet(out, m.source_addr);
  wire::PutU8(out, m.dest_addr_ton);
  wire::PutU8(out, m.dest_addr_npi);
  PutCOctet(out, m.destination_addr);
  wire::PutU8(out, m.esm_class);
  wire::PutU8(out, m.protocol_id);
  wire::PutU8(out, m.priority_flag);
  PutCOctet(out, m.schedule_delivery_time);
  PutCOctet(out, m.validity_period);
  wire::PutU8(out, m.registered_delivery);
  wire::PutU8(out, m.replace_if_present_flag);
  wire::PutU8(out, m.data_coding);
  wire::PutU8(out, m.sm_default_msg_id);
  const std::size_t n =
      m.short_message.size() < kMaxShortMessage ? m.short_message.size() : kMaxShortMessage;
  wire::PutU8(out, static_cast<std::uint8_t>(n));
  out.append(m.short_message, 0, n);
  PutTlvs(out, m.tlvs);
}

void PutBody(std::string& out, const SubmitSmResp& r) { PutCOctet(out, r.message_id); }
void PutBody(std::string& out, const DeliverSmResp& r) { PutCOctet(out, r.message_id); }

}  // namespace

std::string_view CommandName(std::uint32_t command_id) {
  switch (command_id) {
    case command::kGenericNack: return "generic_nack";
    case command::kBindReceiver: return "bind_receiver";
    case command::kBindReceiverResp: return "bind_receiver_resp";
    case command::kBindTransmitter: return "bind_transmitter";
    case command::kBindTransmitterResp: return "bind_transmitter_resp";
    case command::kSubmitSm: return "submit_sm";
    case command::kSubmitSmResp: return "submit_sm_resp";
    case command::kDeliverSm: return "deliver_sm";
    case command::kDeliverSmResp: return "deliver_sm_resp";
    case command::kUnbind: return "unbind";
    case command::kUnbindResp: return "unbind_resp";
    case command::kBindTransceiver: return "bind_transceiver";
    case command::kBindTransceiverResp: return "bind_transceiver_resp";
    case command::kEnquireLink: return "enquire_link";
    case command::kEnquireLinkResp: return "enquire_link_resp";
    default: return "unknown";
  }
}

bool IsKnownCommand(std::uint32_t command_id) { return CommandName(command_id) != "unknown"; }

Pdu MakeResponse(const Pdu& request, std::uint32_t command_status, Body body) {
  return Pdu{request.command_id | command::kResponseBit, command_status, request.sequence_number,
             std::move(body)};
}

Pdu MakeGenericNack(std::uint32_t sequence_number, std::uint32_t command_status) {
  return Pdu{command::kGenericNack, command_status, sequence_number, {}};
}

Result<Header> DecodeHeader(std::string_view frame) {
  wire::Reader r(frame);
  if (frame.size() < kHeaderBytes) {
    return Status::InvalidArgument("header: " + std::to_string(frame.size()) +
                                   " octets, fewer than 16");
  }
  Header h;
  h.command_length = *r.U32();
  h.command_id = *r.U32();
  h.command_status = *r.U32();
  h.sequence_number = *r.U32();
  return h;
}

Result<Pdu> Decode(std::string_view frame, std::uint32_t* nack_status) {
  auto fail = [&](std::uint32_t code, std::string m) -> Status {
    if (nack_status != nullptr) *nack_status = code;
    return Status::InvalidArgument(std::move(m));
  };
  Result<Header> hr = DecodeHeader(frame);
  if (!hr.ok()) return fail(kEsmeRInvCmdLen, hr.status().message());
  const Header& h = *hr;
  if (h.command_length < kHeaderBytes || h.command_length > kMaxPduBytes) {
    return fail(kEsmeRInvCmdLen, "header.command_length: " + std::to_string(h.command_length) +
                                     " outside 16.." + std::to_string(kMaxPduBytes));
  }
  if (h.command_length != frame.size()) {
    return fail(kEsmeRInvCmdLen, "header.command_length: " + std::to_string(h.command_length) +
                                     " but the frame has " + std::to_string(frame.size()) +
                                     " octets");
  }
  if (!IsKnownCommand(h.command_id)) {
    return fail(kEsmeRInvCmdId, "header.command_id: unknown " + std::to_string(h.command_id));
  }

  Pdu pdu{h.command_id, h.command_status, h.sequence_number, {}};
  Ctx c{wire::Reader(frame.substr(kHeaderBytes)), CommandName(h.command_id), nack_status};
  // SMPP 3.4 lets a response with a non-zero status come without its body.
  if (IsResponse(h.command_id) && h.command_status != kEsmeROk && c.r.empty()) return pdu;

  Status st;
  switch (h.command_id) {
    case command::kBindReceiver:
    case command::kBindTransmitter:
    case command::kBindTransceiver: st = DecodeBind(c, pdu.body.emplace<Bind>()); break;
    case command::kBindReceiverResp:
    case command::kBindTransmitterResp:
    case command::kBindTransceiverResp: st = DecodeBindResp(c, pdu.body.emplace<BindResp>()); break;
    case command::kSubmitSm: st = DecodeSm(c, pdu.body.emplace<SubmitSm>()); break;
    case command::kDeliverSm: st = DecodeSm(c, pdu.body.emplace<DeliverSm>()); break;
    case command::kSubmitSmResp:
      st = DecodeMessageIdResp(c, pdu.body.emplace<SubmitSmResp>(), kMaxMessageId);
      break;
    case command::kDeliverSmResp:
      st = DecodeMessageIdResp(c, pdu.body.emplace<DeliverSmResp>(), 0);
      break;
    default:  // unbind(_resp), enquire_link(_resp), generic_nack: header only
      st = ExpectEnd(c);
      break;
  }
  if (!st.ok()) return st;
  return pdu;
}

Status Validate(const Pdu& pdu, std::uint32_t* command_status) {
  VCtx c{CommandName(pdu.command_id), command_status};
  if (!IsKnownCommand(pdu.command_id)) {
    return VFail(c, "command_id", "unknown " + std::to_string(pdu.command_id), kEsmeRInvCmdId);
  }
  const Body& b = pdu.body;
  const bool bodyless_error =
      IsResponse(pdu.command_id) && pdu.command_status != kEsmeROk && BodyIs<std::monostate>(b);
  bool matches = bodyless_error;
  Status st;
  switch (pdu.command_id) {
    case command::kBindReceiver:
    case command::kBindTransmitter:
    case command::kBindTransceiver:
      if (BodyIs<Bind>(b)) {
        matches = true;
        st = VBind(c, std::get<Bind>(b));
      }
      break;
    case command::kBindReceiverResp:
    case command::kBindTransmitterResp:
    case command::kBindTransceiverResp:
      if (BodyIs<BindResp>(b)) {
        matches = true;
        st = VString(c, "system_id", std::get<BindResp>(b).system_id, kMaxSystemId, kEsmeRInvSysId);
        if (st.ok()) st = VTlvs(c, std::get<BindResp>(b).tlvs);
      }
      break;
    case command::kSubmitSm:
      if (BodyIs<SubmitSm>(b)) {
        matches = true;
        st = VSm(c, std::get<SubmitSm>(b));
      }
      break;
    case command::kDeliverSm:
      if (BodyIs<DeliverSm>(b)) {
        matches = true;
        st = VSm(c, std::get<DeliverSm>(b));
      }
      break;
    case command::kSubmitSmResp:
      if (BodyIs<SubmitSmResp>(b)) {
        matches = true;
        st = VString(c, "message_id", std::get<SubmitSmResp>(b).message_id, kMaxMessageId);
      }
      break;
    case command::kDeliverSmResp:
      if (BodyIs<DeliverSmResp>(b)) {
        matches = true;
        st = VString(c, "message_id", std::get<DeliverSmResp>(b).message_id, 0);
      }
      break;
    default: matches = BodyIs<std::monostate>(b); break;
  }
  if (!matches) return VFail(c, "body", "does not belong to this command", kEsmeRInvCmdLen);
  MSGIN5G_RETURN_IF_ERROR(st);
  if (Encode(pdu).size() > kMaxPduBytes) {
    return VFail(c, "body", "frame longer than " + std::to_string(kMaxPduBytes) + " octets",
                 kEsmeRInvCmdLen);
  }
  return Status::Ok();
}

std::string Encode(const Pdu& pdu) {
  std::string out;
  out.reserve(64);
  wire::PutU32(out, 0);  // command_length, patched below
  wire::PutU32(out, pdu.command_id);
  wire::PutU32(out, pdu.command_status);
  wire::PutU32(out, pdu.sequence_number);
  std::visit([&out](const auto& body) { PutBody(out, body); }, pdu.body);
  wire::SetU32(out, 0, static_cast<std::uint32_t>(out.size()));
  return out;
}

}  // namespace msgin5g::gateway::smpp
