// SMPP 3.4 command_status values (§5.1.3), their names, and whether a refused submit_sm is
// worth retrying.
#pragma once

#include <cstdint>
#include <string>

namespace msgin5g::gateway::smpp {

// The constants the gateway itself sends or reacts to; CommandStatusName knows every 3.4 code.
inline constexpr std::uint32_t kEsmeROk = 0x00;
inline constexpr std::uint32_t kEsmeRInvMsgLen = 0x01;
inline constexpr std::uint32_t kEsmeRInvCmdLen = 0x02;
inline constexpr std::uint32_t kEsmeRInvCmdId = 0x03;
inline constexpr std::uint32_t kEsmeRInvBndSts = 0x04;
inline constexpr std::uint32_t kEsmeRAlyBnd = 0x05;
inline constexpr std::uint32_t kEsmeRSysErr = 0x08;
inline constexpr std::uint32_t kEsmeRInvSrcAdr = 0x0A;
inline constexpr std::uint32_t kEsmeRInvDstAdr = 0x0B;
inline constexpr std::uint32_t kEsmeRBindFail = 0x0D;
inline constexpr std::uint32_t kEsmeRInvPaswd = 0x0E;
inline constexpr std::uint32_t kEsmeRInvSysId = 0x0F;
inline constexpr std::uint32_t kEsmeRMsgQFul = 0x14;
inline constexpr std::uint32_t kEsmeRSubmitFail = 0x45;
inline constexpr std::uint32_t kEsmeRThrottled = 0x58;
inline constexpr std::uint32_t kEsmeRxTAppn = 0x64;
inline constexpr std::uint32_t kEsmeRxPAppn = 0x65;
inline constexpr std::uint32_t kEsmeRxRAppn = 0x66;
inline constexpr std::uint32_t kEsmeRInvOptParStream = 0xC0;
inline constexpr std::uint32_t kEsmeRInvParLen = 0xC2;
inline constexpr std::uint32_t kEsmeRUnknownErr = 0xFF;

// The spec name ("ESME_RTHROTTLED"); a vendor-range code (0x400..0x4FF) reads "vendor 0x00000401",
// anything else undefined "0x000000AB".
std::string CommandStatusName(std::uint32_t status);

// Whether a non-zero submit_sm_resp (or generic_nack) status means "try again later" rather than
// "this message will never be accepted". Transient:
//  - ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RSYSERR, ESME_RX_T_APPN: the spec's own temporary errors;
//  - ESME_RINVBNDSTS: the SMSC thinks we are not bound; a rebind fixes it;
//  - ESME_RUNKNOWNERR, vendor codes 0x400..0x4FF and codes 3.4 does not define: we cannot know
//    what they mean, and the caller's retry budget is bounded, so a wrong "transient" costs a few
//    retries while a wrong "permanent" loses a deliverable message.
// Every other code 3.4 defines (bad address, bad length, ESME_RX_P_APPN, ...) is permanent.
// kEsmeROk is neither; it returns false.
bool IsTransientStatus(std::uint32_t status);

}  // namespace msgin5g::gateway::smpp
