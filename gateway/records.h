// The gateway's key spaces in its Store (one prefix each) and the stored records' JSON shapes.
//
//   ob/sms/<seq>     Outbox: an SMS (message or report) to submit      {see l3g/sms_role.cc}
//   ob/up/<seq>      Outbox: an item for msgin5gd                       {path, body}
//   id/<ori>\n<msgId>  a message accepted from msgin5gd (idempotency)    expiry ms
//   ie/<exp>\n<id key> index of id/ by expiry, for the sweep             ""
//   im/<ue>          identity map UE Service ID -> MSISDN (admin API)   msisdn
//   sg/<ori>\n<segId>\n<n>  an MSGin5G segment awaiting its set          the message JSON
//   rg/<group>       an SMS awaiting delivery receipts                  {ori, dest, msgId, ...}
//   rc/<smsc id>     receipt index: SMSC message_id -> rg/ group        group key
//   tx/<msisdn>      messaging transaction: who last messaged MSISDN    {ori, exp}
//   mo/<msisdn>\n<ref>\n<total>\n<seq>  a part of a concatenated MO SMS  {text, bin, at}
// Records are JSON: small, few, and readable in an admin's dump.
#pragma once

#include <string>
#include <string_view>

#include "api/sbi/models.h"

namespace msgin5g::gateway::keys {

inline constexpr std::string_view kSmsOutbox = "ob/sms/";
inline constexpr std::string_view kUplinkOutbox = "ob/up/";
inline constexpr std::string_view kIdempotency = "id/";
inline constexpr std::string_view kIdempotencyIndex = "ie/";
inline constexpr std::string_view kIdentity = "im/";
inline constexpr std::string_view kSegment = "sg/";
inline constexpr std::string_view kReceiptGroup = "rg/";
inline constexpr std::string_view kReceipt = "rc/";
inline constexpr std::string_view kTransaction = "tx/";
inline constexpr std::string_view kMoPart = "mo/";

// "UE:ue-1": an address as one key component (addrType has no ':').
inline std::string Addr(const api::sbi::Address& a) { return a.addrType + ":" + a.addr; }
// A fixed-width decimal so that keys sort numerically.
std::string Fixed(std::uint64_t v, int width);

}  // namespace msgin5g::gateway::keys
