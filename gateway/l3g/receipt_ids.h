// Some SMSCs answer submit_sm with a hex message_id and write it in decimal in the delivery
// receipt (or the other way round; SMPP 3.4 leaves the receipt's "id:" format to the SMSC).
#pragma once

#include <string>
#include <vector>

namespace msgin5g::gateway::l3g {

// The other spellings of `id` to look a receipt up by when it is not found as written: for a
// decimal id its hex forms (lower, upper, 16 digits zero-padded); for a hex id its decimal form.
// Nothing for an id that is neither.
std::vector<std::string> OtherSpellings(const std::string& id);

}  // namespace msgin5g::gateway::l3g
