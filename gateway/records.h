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
//   rd/<deadline>\n<rg key>  index of receipt groups by deadline        ""
//   ob/mqtt/<seq>    Outbox: an MQTT publish to a device (N3G)          {topic, body, ...}
//   ob/bc/<seq>      Outbox: a broadcast publish (BG)                    {topic, body}
//   dr/<ue>\n<msgId> a device report awaited (N3G, device_reports)      {ori, dl}
//   dd/<deadline>\n<dr key>  index of dr/ by deadline                   ""
//   nt/<ue>          N3G messaging transaction: who last messaged the UE {ori, exp}
// Records are JSON: small, few, and readable in an admin's dump.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

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
inline constexpr std::string_view kReceiptDeadline = "rd/";
inline constexpr std::string_view kMqttOutbox = "ob/mqtt/";
inline constexpr std::string_view kBroadcastOutbox = "ob/bc/";
inline constexpr std::string_view kDeviceReport = "dr/";
inline constexpr std::string_view kDeviceReportDeadline = "dd/";
inline constexpr std::string_view kN3gTransaction = "nt/";

// "UE:ue-1": an address as one key component (addrType has no ':').
inline std::string Addr(const api::sbi::Address& a) { return a.addrType + ":" + a.addr; }
// A fixed-width decimal so that keys sort numerically.
std::string Fixed(std::uint64_t v, int width);

}  // namespace msgin5g::gateway::keys

// Reading and writing the records' members (a member of the wrong type reads as absent: a record
// from another version must not throw).
namespace msgin5g::gateway::rec {

std::int64_t NowMs();  // wall clock, for stored deadlines
boost::json::object ToJson(const api::sbi::Address& a);             // {"t": type, "a": addr}
api::sbi::Address AddrOf(const boost::json::object& o, const char* key);
std::string Str(const boost::json::object& o, const char* key);
std::int64_t Num(const boost::json::object& o, const char* key, std::int64_t otherwise = 0);
bool Flag(const boost::json::object& o, const char* key);
// The object stored under a key, if it parses as one.
std::optional<boost::json::object> Parse(const std::optional<std::string>& text);

}  // namespace msgin5g::gateway::rec
