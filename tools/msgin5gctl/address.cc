#include "tools/msgin5gctl/address.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace msgin5gctl {

namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

constexpr std::array<std::string_view, 5> kTypes = {"UE", "AS", "GROUP", "BC", "TOPIC"};

}  // namespace

Result<Address> ParseTypedAddress(const std::string& type, const std::string& addr) {
  Address a{Upper(type), addr};
  if (std::find(kTypes.begin(), kTypes.end(), a.type) == kTypes.end()) {
    return UsageError("address type \"" + type + "\" is not one of UE, AS, GROUP, BC, TOPIC");
  }
  if (a.addr.empty()) return UsageError("empty address");
  return a;
}

Result<Address> ParseMember(const std::string& word) {
  auto colon = word.find(':');
  if (colon == std::string::npos) {
    return UsageError("member \"" + word + "\" must be written TYPE:ADDR, e.g. UE:ue-1 or AS:as-1");
  }
  Address a{Upper(word.substr(0, colon)), word.substr(colon + 1)};
  if (a.type != "UE" && a.type != "AS") {
    return UsageError("member \"" + word + "\": the type must be UE or AS");
  }
  if (a.addr.empty()) return UsageError("member \"" + word + "\" has an empty address");
  return a;
}

boost::json::object AddressJson(const Address& a) { return {{"addrType", a.type}, {"addr", a.addr}}; }

std::string Segment(std::string_view s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

std::string AddressPath(const Address& a) { return "/" + Segment(a.type) + "/" + Segment(a.addr); }

}  // namespace msgin5gctl
