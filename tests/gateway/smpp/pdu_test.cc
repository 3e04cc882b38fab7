// The SMPP 3.4 codec: byte layouts checked by hand against the spec, round trips of every PDU
// kind, each strict-decode refusal, and a deterministic mutation loop.
#include "gateway/smpp/pdu.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gateway/smpp/command_status.h"
#include "gateway/smpp/framer.h"
#include "gateway/smpp/tlv.h"

namespace msgin5g::gateway::smpp {
namespace {

// "00000010 00000015" -> octets; spaces are ignored.
std::string Unhex(std::string_view hex) {
  std::string out;
  int nibble = -1;
  for (char ch : hex) {
    if (ch == ' ') continue;
    const int v = (ch >= '0' && ch <= '9') ? ch - '0' : (ch | 0x20) - 'a' + 10;
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<char>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

void PutU32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
}

// A frame with a correct command_length around a hand-made body.
std::string Frame(std::uint32_t id, std::uint32_t status, std::uint32_t seq,
                  std::string_view body) {
  std::string f;
  PutU32(f, static_cast<std::uint32_t>(16 + body.size()));
  PutU32(f, id);
  PutU32(f, status);
  PutU32(f, seq);
  f.append(body);
  return f;
}

// The mandatory submit_sm/deliver_sm body up to (not including) sm_length:
// service_type "", src 1/1 "123", dst 1/1 "456", esm 0, pid 0, prio 0, sched "", validity "",
// registered_delivery 1, replace 0, data_coding 0, sm_default_msg_id 0.
const std::string kSmHead = Unhex("00 0101 31323300 0101 34353600 00 00 00 00 00 01 00 00 00");

SubmitSm FullSubmit() {
  SubmitSm s;
  s.service_type = "CMT";
  s.source_addr_ton = 5;
  s.source_addr_npi = 0;
  s.source_addr = "msgin5g";
  s.dest_addr_ton = 1;
  s.dest_addr_npi = 1;
  s.destination_addr = "491701234567";
  s.esm_class = 0x40;
  s.protocol_id = 0x7F;
  s.priority_flag = 1;
  s.schedule_delivery_time = "";
  s.validity_period = "000001000000000R";
  s.registered_delivery = 1;
  s.replace_if_present_flag = 0;
  s.data_coding = 0x04;
  s.sm_default_msg_id = 0;
  s.short_message = std::string("\x05\x00\x03\x2a\x02\x01hello\0world", 17);
  s.tlvs.set_sar_msg_ref_num(0xBEEF);
  s.tlvs.items().push_back(Tlv{0x1401, "vendor"});  // unknown TLVs survive
  return s;
}

DeliverSm Receipt() {
  DeliverSm d;
  d.source_addr = "491701234567";
  d.destination_addr = "msgin5g";
  d.esm_class = 0x04;
  d.short_message =
      "id:abc sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
      "stat:DELIVRD err:000 text:";
  d.tlvs.set_receipted_message_id("abc");
  d.tlvs.set_message_state(message_state::kDelivered);
  d.tlvs.set_network_error_code({3, 0x0101});
  return d;
}

// Every PDU kind the codec knows, valid.
std::vector<Pdu> AllKinds() {
  Bind bind{"msgin5g", "secret", "L3G", kInterfaceVersion34, 1, 1, "^49"};
  BindResp bind_resp{"SMSC", {}};
  bind_resp.tlvs.Set(tlv::kScInterfaceVersion, std::string(1, '\x34'));
  DeliverSm mo;
  mo.source_addr = "491700000001";
  mo.destination_addr = "12345";
  mo.tlvs.set_message_payload(std::string(600, 'x'));
  mo.tlvs.set_sar_total_segments(3);
  mo.tlvs.set_sar_segment_seqnum(2);
  return {
      Pdu{command::kBindTransmitter, 0, 1, bind},
      Pdu{command::kBindReceiver, 0, 2, bind},
      Pdu{command::kBindTransceiver, 0, 3, bind},
      Pdu{command::kBindTransmitterResp, 0, 1, bind_resp},
      Pdu{command::kBindReceiverResp, 0, 2, bind_resp},
      Pdu{command::kBindTransceiverResp, 0, 3, bind_resp},
      Pdu{command::kBindTransceiverResp, kEsmeRBindFail, 4, {}},
      Pdu{command::kUnbind, 0, 5, {}},
      Pdu{command::kUnbindResp, 0, 5, {}},
      Pdu{command::kEnquireLink, 0, 6, {}},
      Pdu{command::kEnquireLinkResp, 0, 6, {}},
      Pdu{command::kGenericNack, kEsmeRInvCmdId, 7, {}},
      Pdu{command::kSubmitSm, 0, 8, FullSubmit()},
      Pdu{command::kSubmitSmResp, 0, 8, SubmitSmResp{std::string(64, 'f')}},
      Pdu{command::kSubmitSmResp, kEsmeRThrottled, 9, {}},
      Pdu{command::kDeliverSm, 0, 10, Receipt()},
      Pdu{command::kDeliverSm, 0, 11, mo},
      Pdu{command::kDeliverSmResp, 0, 10, DeliverSmResp{}},
      Pdu{command::kDeliverSmResp, kEsmeRxTAppn, 11, DeliverSmResp{}},
  };
}

// Decode refusal: the error names `field` and the nack status is `nack`.
void ExpectRefused(const std::string& frame, std::string_view field, std::uint32_t nack) {
  std::uint32_t got = 0xDEAD;
  Result<Pdu> r = Decode(frame, &got);
  ASSERT_FALSE(r.ok()) << Hex(frame);
  EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  EXPECT_EQ(got, nack) << r.status().message();
}

// ---------------------------------------------------------------------------------------------

// Hex of the octets, written with spaces between SMPP fields for the reader.
std::string Spaced(std::string_view hex) { return Hex(Unhex(hex)); }

TEST(SmppPduLayout, EnquireLinkIsHeaderOnly) {
  // command_length 16, command_id enquire_link, command_status 0, sequence_number
  EXPECT_EQ(Hex(Encode(Pdu{command::kEnquireLink, 0, 0x01020304, {}})),
            Spaced("00000010 00000015 00000000 01020304"));
}

TEST(SmppPduLayout, GenericNack) {
  EXPECT_EQ(Hex(Encode(MakeGenericNack(7, kEsmeRInvCmdId))),
            Spaced("00000010 80000000 00000003 00000007"));
}

TEST(SmppPduLayout, BindTransceiver) {
  Pdu p{command::kBindTransceiver, 0, 1, Bind{"ab", "pw", "", kInterfaceVersion34, 1, 1, ""}};
  // system_id "ab\0", password "pw\0", system_type "\0", interface_version 0x34, addr_ton 1,
  // addr_npi 1, address_range "\0": 11 octets of body.
  EXPECT_EQ(Hex(Encode(p)),
            Spaced("0000001b 00000009 00000000 00000001  616200 707700 00 34 01 01 00"));
}

TEST(SmppPduLayout, SubmitSmWithTlv) {
  SubmitSm s;
  s.source_addr_ton = 1;
  s.source_addr_npi = 1;
  s.source_addr = "123";
  s.dest_addr_ton = 1;
  s.dest_addr_npi = 1;
  s.destination_addr = "456";
  s.registered_delivery = 1;
  s.short_message = "hi";
  s.tlvs.set_sar_msg_ref_num(0x1234);
  const std::string wire = Encode(Pdu{command::kSubmitSm, 0, 2, s});
  // 16 header + 25 mandatory body + 6 TLV = 47. Body: service_type "", src ton/npi/addr,
  // dst ton/npi/addr, esm_class, protocol_id, priority_flag, schedule_delivery_time "",
  // validity_period "", registered_delivery 1, replace_if_present 0, data_coding 0,
  // sm_default_msg_id 0, sm_length 2, "hi", TLV sar_msg_ref_num (020c, length 2, 0x1234).
  EXPECT_EQ(Hex(wire), Spaced("0000002f 00000004 00000000 00000002"
                              " 00 0101 31323300 0101 34353600 00 00 00 00 00"
                              " 01 00 00 00 02 6869 020c 0002 1234"));
  EXPECT_EQ(wire, Frame(command::kSubmitSm, 0, 2, kSmHead + Unhex("02 6869 020c00021234")));
}

TEST(SmppPduLayout, Responses) {
  EXPECT_EQ(Hex(Encode(Pdu{command::kSubmitSmResp, 0, 3, SubmitSmResp{"abc"}})),
            Spaced("00000014 80000004 00000000 00000003 61626300"));
  EXPECT_EQ(Hex(Encode(Pdu{command::kDeliverSmResp, 0, 4, DeliverSmResp{}})),
            Spaced("00000011 80000005 00000000 00000004 00"));
  // An error response goes without its body.
  EXPECT_EQ(Hex(Encode(Pdu{command::kSubmitSmResp, kEsmeRThrottled, 5, {}})),
            Spaced("00000010 80000004 00000058 00000005"));
}

TEST(SmppPduLayout, DecodesHandMadeDeliverSm) {
  // A receipt: sm "ok", receipted_message_id "m1", message_state DELIVERED, an unknown TLV.
  const std::string body = kSmHead + Unhex("02 6f6b  001e0003 6d3100  04270001 02  ffff0000");
  Result<Pdu> r = Decode(Frame(command::kDeliverSm, 0, 0x7FFFFFFF, body));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->command_id, command::kDeliverSm);
  EXPECT_EQ(r->sequence_number, 0x7FFFFFFFu);
  const auto& d = std::get<DeliverSm>(r->body);
  EXPECT_EQ(d.source_addr, "123");
  EXPECT_EQ(d.destination_addr, "456");
  EXPECT_EQ(d.source_addr_ton, 1);
  EXPECT_EQ(d.registered_delivery, 1);
  EXPECT_EQ(d.short_message, "ok");
  EXPECT_EQ(d.tlvs.receipted_message_id(), "m1");
  EXPECT_EQ(d.tlvs.message_state(), message_state::kDelivered);
  ASSERT_EQ(d.tlvs.items().size(), 3u);
  EXPECT_EQ(d.tlvs.items()[2], (Tlv{0xFFFF, ""}));
}

TEST(SmppPduRoundTrip, EveryKind) {
  for (const Pdu& p : AllKinds()) {
    SCOPED_TRACE(std::string(CommandName(p.command_id)));
    ASSERT_TRUE(Validate(p).ok()) << Validate(p).message();
    const std::string wire = Encode(p);
    Result<Pdu> r = Decode(wire);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(*r, p);
    EXPECT_EQ(Encode(*r), wire);
    Result<Header> h = DecodeHeader(wire);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->command_length, wire.size());
    EXPECT_EQ(h->sequence_number, p.sequence_number);
  }
}

TEST(SmppPduRoundTrip, MakeResponse) {
  Pdu req{command::kDeliverSm, 0, 42, Receipt()};
  Pdu resp = MakeResponse(req, kEsmeRxPAppn, DeliverSmResp{});
  EXPECT_EQ(resp.command_id, command::kDeliverSmResp);
  EXPECT_EQ(resp.sequence_number, 42u);
  EXPECT_EQ(resp.command_status, kEsmeRxPAppn);
}

// ---------------------------------------------------------------------------------------------
// Strict decode.

TEST(SmppPduDecode, RefusesShortFrame) {
  ExpectRefused(Unhex("00000010 00000015 00000000"), "header", kEsmeRInvCmdLen);
  ExpectRefused("", "header", kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, RefusesCommandLengthOutOfRange) {
  std::string f = Frame(command::kEnquireLink, 0, 1, "");
  f[3] = 15;
  ExpectRefused(f, "command_length", kEsmeRInvCmdLen);
  ExpectRefused(Unhex("00010001 00000015 00000000 00000001"), "command_length", kEsmeRInvCmdLen);
  ExpectRefused(Unhex("ffffffff 00000015 00000000 00000001"), "command_length", kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, RefusesCommandLengthNotFrameSize) {
  std::string f = Frame(command::kEnquireLink, 0, 1, "");
  f[3] = 17;  // says 17, frame has 16
  ExpectRefused(f, "command_length", kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, RefusesUnknownCommand) {
  ExpectRefused(Frame(0x00000099, 0, 1, ""), "command_id", kEsmeRInvCmdId);
  ExpectRefused(Frame(0x80000099, 0, 1, ""), "command_id", kEsmeRInvCmdId);
}

TEST(SmppPduDecode, RefusesTrailingGarbage) {
  ExpectRefused(Frame(command::kEnquireLink, 0, 1, "x"), "enquire_link.body", kEsmeRInvCmdLen);
  ExpectRefused(Frame(command::kGenericNack, 3, 1, "xy"), "generic_nack.body", kEsmeRInvCmdLen);
  ExpectRefused(Frame(command::kSubmitSmResp, 0, 1, Unhex("616200 01")), "submit_sm_resp.body",
                kEsmeRInvCmdLen);
  ExpectRefused(Frame(command::kBindTransceiver, 0, 1, Unhex("616200 707700 00 34 01 01 00 00")),
                "bind_transceiver.body", kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, RefusesCOctetWithoutNulWithinMaximum) {
  // source_addr: 21 characters, its NUL only at octet 22.
  std::string body = Unhex("00 0101") + std::string(21, '1') + std::string(1, '\0');
  body += Unhex("0101 34353600 000000 00 00 01000000 00");
  ExpectRefused(Frame(command::kSubmitSm, 0, 1, body), "submit_sm.source_addr", kEsmeRInvSrcAdr);
  // destination_addr without a NUL before the frame ends.
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, Unhex("00 0101 313200 0101 3435")),
                "deliver_sm.destination_addr", kEsmeRInvDstAdr);
  // system_id of 16 characters.
  ExpectRefused(Frame(command::kBindTransmitter, 0, 1, std::string(16, 'a') + '\0'),
                "bind_transmitter.system_id", kEsmeRInvSysId);
  // password of 9.
  ExpectRefused(Frame(command::kBindTransmitter, 0, 1,
                      Unhex("6100") + std::string(9, 'p') + Unhex("00 00 34 00 00 00")),
                "bind_transmitter.password", kEsmeRInvPaswd);
  // message_id of 65.
  ExpectRefused(Frame(command::kSubmitSmResp, 0, 1, std::string(65, 'm') + '\0'),
                "submit_sm_resp.message_id", kEsmeRInvCmdLen);
  // deliver_sm_resp's message_id is unused: only the NUL.
  ExpectRefused(Frame(command::kDeliverSmResp, 0, 1, Unhex("6100")), "deliver_sm_resp.message_id",
                kEsmeRInvCmdLen);
  // schedule_delivery_time of 17.
  std::string sched = Unhex("00 0101 313200 0101 343500 00 00 00") + std::string(17, '0') + '\0';
  ExpectRefused(Frame(command::kSubmitSm, 0, 1, sched), "submit_sm.schedule_delivery_time",
                kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, RefusesMissingFields) {
  ExpectRefused(Frame(command::kSubmitSmResp, 0, 1, ""), "submit_sm_resp.message_id",
                kEsmeRInvCmdLen);
  ExpectRefused(Frame(command::kBindTransceiverResp, 0, 1, ""), "system_id", kEsmeRInvSysId);
  ExpectRefused(Frame(command::kSubmitSm, 0, 1, kSmHead.substr(0, 13)), "submit_sm.esm_class",
                kEsmeRInvCmdLen);
  ExpectRefused(Frame(command::kSubmitSm, 0, 1, kSmHead), "submit_sm.sm_length", kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, AcceptsErrorResponseWithoutBody) {
  Result<Pdu> r = Decode(Frame(command::kBindTransceiverResp, kEsmeRInvPaswd, 1, ""));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r->body));
  EXPECT_EQ(r->command_status, kEsmeRInvPaswd);
  // ... but a request with a status still needs its body.
  ExpectRefused(Frame(command::kSubmitSm, 1, 1, ""), "submit_sm.service_type", kEsmeRInvCmdLen);
}

TEST(SmppPduDecode, RefusesSmLength) {
  std::string over = kSmHead + std::string(1, '\xff') + std::string(255, 'x');
  ExpectRefused(Frame(command::kSubmitSm, 0, 1, over), "submit_sm.sm_length", kEsmeRInvMsgLen);
  std::string past = kSmHead + Unhex("05 6869");
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, past), "deliver_sm.short_message",
                kEsmeRInvMsgLen);
  std::string max = kSmHead + std::string(1, '\xfe') + std::string(254, 'x');
  EXPECT_TRUE(Decode(Frame(command::kSubmitSm, 0, 1, max)).ok());
}

TEST(SmppPduDecode, RefusesBadTlvs) {
  // Length 5 with 2 octets left.
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, kSmHead + Unhex("00 04240005 6869")),
                "deliver_sm.tlv", kEsmeRInvOptParStream);
  // Three stray octets after a good TLV.
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, kSmHead + Unhex("00 04270001 02 0427 00")),
                "deliver_sm.tlv", kEsmeRInvOptParStream);
  // Known tags with the wrong value shape.
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, kSmHead + Unhex("00 04270002 0202")),
                "message_state", kEsmeRInvParLen);
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, kSmHead + Unhex("00 001e0002 6d31")),
                "receipted_message_id", kEsmeRInvParLen);
  ExpectRefused(Frame(command::kSubmitSm, 0, 1, kSmHead + Unhex("00 020c0001 01")),
                "sar_msg_ref_num", kEsmeRInvParLen);
  ExpectRefused(Frame(command::kBindTransceiverResp, 0, 1, Unhex("5300 02100000")),
                "sc_interface_version", kEsmeRInvParLen);
  ExpectRefused(Frame(command::kDeliverSm, 0, 1, kSmHead + Unhex("00 04230002 0300")),
                "network_error_code", kEsmeRInvParLen);
}

// ---------------------------------------------------------------------------------------------
// Validate and the encoder's clamps.

TEST(SmppPduValidate, RefusesWhatTheFarSideWould) {
  std::uint32_t code = 0;
  SubmitSm s = FullSubmit();
  s.source_addr = std::string(21, '1');
  Status st = Validate(Pdu{command::kSubmitSm, 0, 1, s}, &code);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(code, kEsmeRInvSrcAdr);
  EXPECT_NE(st.message().find("source_addr"), std::string::npos);

  s = FullSubmit();
  s.destination_addr = std::string(21, '1');
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}, &code).ok());
  EXPECT_EQ(code, kEsmeRInvDstAdr);

  s = FullSubmit();
  s.short_message = std::string(255, 'x');
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}, &code).ok());
  EXPECT_EQ(code, kEsmeRInvMsgLen);

  s = FullSubmit();
  s.tlvs.set_message_payload("both");
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}, &code).ok());
  EXPECT_EQ(code, kEsmeRInvMsgLen);

  s = FullSubmit();
  s.short_message.clear();
  s.tlvs.set_message_payload(std::string(65530, 'x'));  // frame over kMaxPduBytes
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}, &code).ok());
  s.tlvs.set_message_payload(std::string(70000, 'x'));  // TLV value over 65535
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}, &code).ok());
  EXPECT_EQ(code, kEsmeRInvParLen);

  s = FullSubmit();
  s.destination_addr = std::string(
      "12\0"
      "3",
      4);
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}).ok());

  s = FullSubmit();
  s.tlvs.Set(tlv::kMessageState, "xx");
  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, s}).ok());

  EXPECT_FALSE(Validate(Pdu{command::kSubmitSm, 0, 1, SubmitSmResp{}}).ok());
  EXPECT_FALSE(Validate(Pdu{command::kEnquireLink, 0, 1, SubmitSmResp{}}).ok());
  EXPECT_FALSE(Validate(Pdu{0x1234, 0, 1, {}}, &code).ok());
  EXPECT_EQ(code, kEsmeRInvCmdId);
  EXPECT_FALSE(Validate(Pdu{command::kBindTransceiver, 0, 1,
                            Bind{"sixteen-chars-id", "", "", 0x34, 0, 0, ""}},
                        &code)
                   .ok());
  EXPECT_EQ(code, kEsmeRInvSysId);
}

TEST(SmppPduValidate, EncoderKeepsLengthsConsistentForInvalidInput) {
  SubmitSm s;
  s.short_message = std::string(300, 'x');
  const std::string wire = Encode(Pdu{command::kSubmitSm, 0, 1, s});
  Result<Pdu> r = Decode(wire);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(std::get<SubmitSm>(r->body).short_message, std::string(254, 'x'));
}

// ---------------------------------------------------------------------------------------------
// TLV accessors.

TEST(SmppTlv, TypedAccessors) {
  Tlvs t;
  EXPECT_FALSE(t.receipted_message_id());
  EXPECT_FALSE(t.message_state());
  t.set_receipted_message_id("0123abcd");
  t.set_message_state(message_state::kUndeliverable);
  t.set_network_error_code({3, 0x0022});
  t.set_message_payload(std::string("\0\1\2", 3));
  t.set_sar_msg_ref_num(0x0102);
  t.set_sar_total_segments(4);
  t.set_sar_segment_seqnum(3);
  EXPECT_EQ(t.receipted_message_id(), "0123abcd");
  EXPECT_EQ(t.Find(tlv::kReceiptedMessageId), std::string_view("0123abcd\0", 9));
  EXPECT_EQ(t.message_state(), message_state::kUndeliverable);
  EXPECT_EQ(t.network_error_code(), (NetworkErrorCode{3, 0x0022}));
  EXPECT_EQ(t.Find(tlv::kNetworkErrorCode), std::string_view("\x03\x00\x22", 3));
  EXPECT_EQ(t.message_payload(), std::string_view("\0\1\2", 3));
  EXPECT_EQ(t.sar_msg_ref_num(), 0x0102);
  EXPECT_EQ(t.Find(tlv::kSarMsgRefNum), std::string_view("\x01\x02", 2));
  EXPECT_EQ(t.sar_total_segments(), 4);
  EXPECT_EQ(t.sar_segment_seqnum(), 3);
  EXPECT_EQ(t.items().size(), 7u);
}

TEST(SmppTlv, SetReplacesDuplicatesAndGettersRefuseWrongShapes) {
  Tlvs t;
  t.items().push_back(Tlv{tlv::kMessageState, "\x01\x02"});
  t.items().push_back(Tlv{0x1400, "v"});
  t.items().push_back(Tlv{tlv::kMessageState, "\x03"});
  EXPECT_FALSE(t.message_state());  // first one has length 2
  t.set_message_state(5);
  ASSERT_EQ(t.items().size(), 2u);
  EXPECT_EQ(t.items()[0], (Tlv{tlv::kMessageState, "\x05"}));
  EXPECT_EQ(t.items()[1].tag, 0x1400);
  t.Set(tlv::kReceiptedMessageId, "no-nul");
  EXPECT_FALSE(t.receipted_message_id());
}

// ---------------------------------------------------------------------------------------------
// Framer.

TEST(SmppFramer, NextFrameSize) {
  EXPECT_EQ(*NextFrameSize(""), 0u);
  EXPECT_EQ(*NextFrameSize(Unhex("000000")), 0u);
  EXPECT_EQ(*NextFrameSize(Unhex("00000010")), 16u);
  EXPECT_EQ(*NextFrameSize(Unhex("00000011 80000005")), 17u);
  EXPECT_EQ(*NextFrameSize(Unhex("00010000")), kMaxPduBytes);
  EXPECT_FALSE(NextFrameSize(Unhex("0000000f")).ok());
  EXPECT_FALSE(NextFrameSize(Unhex("00000000")).ok());
  EXPECT_FALSE(NextFrameSize(Unhex("00010001")).ok());
  Result<std::size_t> huge = NextFrameSize(Unhex("ffffffff"));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("command_length"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Command status.

TEST(SmppCommandStatus, Names) {
  EXPECT_EQ(CommandStatusName(kEsmeROk), "ESME_ROK");
  EXPECT_EQ(CommandStatusName(kEsmeRThrottled), "ESME_RTHROTTLED");
  EXPECT_EQ(CommandStatusName(kEsmeRxTAppn), "ESME_RX_T_APPN");
  EXPECT_EQ(CommandStatusName(kEsmeRUnknownErr), "ESME_RUNKNOWNERR");
  EXPECT_EQ(CommandStatusName(0x401), "vendor 0x00000401");
  EXPECT_EQ(CommandStatusName(0x09), "0x00000009");
}

TEST(SmppCommandStatus, TransientOrPermanent) {
  for (std::uint32_t s : {kEsmeRThrottled, kEsmeRMsgQFul, kEsmeRSysErr, kEsmeRxTAppn,
                          kEsmeRInvBndSts, kEsmeRUnknownErr, 0x400u, 0x4FFu, 0x09u, 0x1234u}) {
    EXPECT_TRUE(IsTransientStatus(s)) << CommandStatusName(s);
  }
  for (std::uint32_t s : {kEsmeROk, kEsmeRInvMsgLen, kEsmeRInvDstAdr, kEsmeRInvSrcAdr, kEsmeRxPAppn,
                          kEsmeRxRAppn, kEsmeRSubmitFail, kEsmeRInvCmdId, kEsmeRInvParLen}) {
    EXPECT_FALSE(IsTransientStatus(s)) << CommandStatusName(s);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations of valid frames: Decode never crashes, and whatever it accepts re-encodes to the
// very same octets (the codec keeps every octet it was given).

void CheckMutant(const std::string& m) {
  (void)NextFrameSize(m);
  Result<Pdu> r = Decode(m);
  if (r.ok()) {
    EXPECT_EQ(Hex(Encode(*r)), Hex(m));
  }
}

TEST(SmppPduMutation, TruncationsBitFlipsAndRandomBytes) {
  std::mt19937 rng(20240601);  // fixed: the loop is the same every run
  int accepted = 0;
  int refused = 0;
  for (const Pdu& p : AllKinds()) {
    const std::string wire = Encode(p);
    SCOPED_TRACE(std::string(CommandName(p.command_id)));
    // Truncated frames: the stale command_length refuses them...
    for (std::size_t n = 0; n < wire.size(); ++n) EXPECT_FALSE(Decode(wire.substr(0, n)).ok());
    // ... and with command_length patched, the body parser meets every cut.
    for (std::size_t n = kHeaderBytes; n < wire.size(); ++n) {
      std::string m = wire.substr(0, n);
      m[0] = 0;
      m[1] = 0;
      m[2] = static_cast<char>(n >> 8);
      m[3] = static_cast<char>(n);
      CheckMutant(m);
      Decode(m).ok() ? ++accepted : ++refused;
    }
    // Every single-bit flip (long frames: the first 128 octets).
    const std::size_t flip_span = wire.size() < 128 ? wire.size() : 128;
    for (std::size_t i = 0; i < flip_span; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string m = wire;
        m[i] = static_cast<char>(m[i] ^ (1 << bit));
        CheckMutant(m);
        Decode(m).ok() ? ++accepted : ++refused;
      }
    }
    // Random octets overwritten in the body, length kept right.
    for (int round = 0; round < 200 && wire.size() > kHeaderBytes; ++round) {
      std::string m = wire;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = kHeaderBytes + rng() % (wire.size() - kHeaderBytes);
        m[at] = static_cast<char>(rng() % 3 == 0 ? 0 : rng());
      }
      CheckMutant(m);
    }
  }
  // The loop really exercised both outcomes.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace msgin5g::gateway::smpp
