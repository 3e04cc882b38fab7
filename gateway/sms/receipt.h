// SMSC delivery receipts (SMPP 3.4 Appendix B text, with the receipt TLVs) and what they mean
// for the MSGin5G message they report on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace msgin5g::gateway::sms {

// Numbered as the message_state TLV (SMPP 3.4 §5.2.28) so the TLV value maps one to one.
enum class ReceiptState : std::uint8_t {
  kEnroute = 1,        // ENROUTE
  kDelivered = 2,      // DELIVRD
  kExpired = 3,        // EXPIRED
  kDeleted = 4,        // DELETED
  kUndeliverable = 5,  // UNDELIV
  kAccepted = 6,       // ACCEPTD
  kUnknown = 7,        // UNKNOWN
  kRejected = 8,       // REJECTD
};

// The 7-letter Appendix B spelling ("DELIVRD", "UNDELIV", ...).
std::string_view ReceiptStateName(ReceiptState state);

struct Receipt {
  std::string message_id;  // as the SMSC wrote it, hex or decimal, not normalised
  ReceiptState state = ReceiptState::kUnknown;
  std::string err;  // the "err:" value, e.g. "005"; empty when absent
};

// TLVs of the deliver_sm that carried the receipt; absent ones stay nullopt.
struct ReceiptTlvs {
  std::optional<std::string> receipted_message_id;
  std::optional<std::uint8_t> message_state;
};

// Reads "id:... sub:... dlvrd:... submit date:... done date:... stat:... err:... text:...".
// Keys are case-insensitive and must start a word; fields may be missing, reordered or of any
// width; unknown "key:value" words are skipped; "text:" runs to the end and is not searched for
// keys. The TLVs win over the text: a non-empty receipted_message_id over "id:", a
// message_state of 1..8 over "stat:" (other values are ignored). A stat word we do not know, or
// no state at all, gives kUnknown. InvalidArgument when neither TLV nor text yields an id.
Result<Receipt> ParseReceipt(std::string_view text, const ReceiptTlvs& tlvs = {});

// What a receipt means for the MSGin5G message:
//   kSuccess  DELIVRD;
//   kFailed   UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN (failure_cause "SMS UNDELIV err:005",
//             or "SMS UNDELIV" without err);
//   kPending  ACCEPTD, ENROUTE: intermediate receipts, the message is still waiting for a
//             final one, so the caller keeps waiting (its own timeout decides otherwise).
enum class ReceiptOutcome { kSuccess, kFailed, kPending };
struct ReceiptVerdict {
  ReceiptOutcome outcome = ReceiptOutcome::kPending;
  std::string failure_cause;  // only for kFailed
};
ReceiptVerdict Judge(const Receipt& receipt);

}  // namespace msgin5g::gateway::sms
