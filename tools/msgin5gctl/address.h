// Addresses as written on the command line (TYPE:ADDR, or TYPE and ADDR as two words) and as
// admin API path segments.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "tools/msgin5gctl/result.h"

namespace msgin5gctl {

struct Address {
  std::string type;  // UE, AS, GROUP, BC, TOPIC (upper case)
  std::string addr;
};

// "UE:ue-1" / "as:as-1": a group member or topic subscriber (UE or AS only).
Result<Address> ParseMember(const std::string& word);
// TYPE and ADDR as two words: any address type the admin API knows.
Result<Address> ParseTypedAddress(const std::string& type, const std::string& addr);

boost::json::object AddressJson(const Address& a);  // {"addrType","addr"}

// One path segment, percent-encoded (everything but RFC 3986 unreserved characters).
std::string Segment(std::string_view s);
// "/TYPE/ADDR" with ADDR encoded.
std::string AddressPath(const Address& a);

}  // namespace msgin5gctl
