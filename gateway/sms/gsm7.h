// GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and its extension table (§6.2.1.1).
//
// Septets are UNPACKED: one septet per octet, values 0x00..0x7F. That is how SMPP 3.4 carries
// data_coding 0 text in short_message by default; the SMSC packs 7-bit when it goes on air. An
// extension character is the escape septet 0x1B followed by its code, so it costs two septets.
// No national language shift tables: they need a UDH IE and few SMSCs pass them through.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace msgin5g::gateway::sms {

inline constexpr char kGsm7Escape = 0x1B;

// UTF-8 text as unpacked septets; nullopt when any character is outside the default alphabet
// plus the extension table, or when the text is not valid UTF-8. The result's size is the
// septet count.
std::optional<std::string> Utf8ToGsm7(std::string_view utf8);

// How many septets Utf8ToGsm7 would produce (extension characters count 2); nullopt as there.
std::optional<std::size_t> Gsm7SeptetCount(std::string_view utf8);

// Unpacked septets to UTF-8. Never fails, because MO text is whatever the SMSC hands us:
//  - an octet above 0x7F (not a septet) becomes U+FFFD;
//  - ESC followed by a code the extension table does not define shows that code's default
//    character (the fallback TS 23.038 §6.2.1.1 asks of receivers);
//  - ESC ESC, and an ESC at the very end, become a space (same clause: display as space).
std::string Gsm7ToUtf8(std::string_view septets);

}  // namespace msgin5g::gateway::sms
