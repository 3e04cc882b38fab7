// base64url without padding (RFC 4648 §5, as JWS and JWK use it: RFC 7515 §2).
#pragma once

#include <string>
#include <string_view>

namespace msgin5g::api::auth {

std::string Base64UrlEncode(std::string_view bytes);
// False on a character outside the alphabet or a length no encoding has.
bool Base64UrlDecode(std::string_view in, std::string* out);

}  // namespace msgin5g::api::auth
