#include "gateway/sms/receipt.h"

#include <array>

namespace msgin5g::gateway::sms {
namespace {

enum class Field { kId, kSub, kDlvrd, kSubmitDate, kDoneDate, kStat, kErr, kText };

struct Key {
  std::string_view name;
  Field field;
};
// Appendix B names, plus the underscore spellings some SMSCs use for the two-word keys.
constexpr std::array<Key, 10> kKeys = {{
    {"id", Field::kId},
    {"sub", Field::kSub},
    {"dlvrd", Field::kDlvrd},
    {"submit date", Field::kSubmitDate},
    {"submit_date", Field::kSubmitDate},
    {"done date", Field::kDoneDate},
    {"done_date", Field::kDoneDate},
    {"stat", Field::kStat},
    {"err", Field::kErr},
    {"text", Field::kText},
}};

struct StateName {
  std::string_view name;
  ReceiptState state;
};
// The Appendix B spellings first (ReceiptStateName uses them), then the long forms seen in
// the field.
constexpr std::array<StateName, 12> kStates = {{
    {"ENROUTE", ReceiptState::kEnroute},
    {"DELIVRD", ReceiptState::kDelivered},
    {"EXPIRED", ReceiptState::kExpired},
    {"DELETED", ReceiptState::kDeleted},
    {"UNDELIV", ReceiptState::kUndeliverable},
    {"ACCEPTD", ReceiptState::kAccepted},
    {"UNKNOWN", ReceiptState::kUnknown},
    {"REJECTD", ReceiptState::kRejected},
    {"DELIVERED", ReceiptState::kDelivered},
    {"UNDELIVERABLE", ReceiptState::kUndeliverable},
    {"ACCEPTED", ReceiptState::kAccepted},
    {"REJECTED", ReceiptState::kRejected},
}};

// NUL counts as a separator: some SMSCs leave a C string terminator in short_message.
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// The key whose name and a ':' start text[pos..], if any.
const Key* KeyAt(std::string_view text, std::size_t pos) {
  for (const Key& key : kKeys) {
    const std::size_t end = pos + key.name.size();
    if (end < text.size() && text[end] == ':' &&
        EqualsIgnoreCase(text.substr(pos, key.name.size()), key.name)) {
      return &key;
    }
  }
  return nullptr;
}

ReceiptState StateFromStat(std::string_view stat) {
  for (const StateName& s : kStates) {
    if (EqualsIgnoreCase(stat, s.name)) return s.state;
  }
  return ReceiptState::kUnknown;
}

struct TextFields {
  std::optional<std::string_view> id;
  std::optional<std::string_view> stat;
  std::optional<std::string_view> err;
};

// One left-to-right walk over words; the first occurrence of a key wins, and everything after
// "text:" is the message excerpt, so a "stat:" quoted there cannot override the real one.
TextFields Scan(std::string_view text) {
  TextFields fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (IsSpace(text[pos])) {
      ++pos;
      continue;
    }
    const Key* key = KeyAt(text, pos);
    if (key == nullptr) {  // a word we do not know: skip it
      while (pos < text.size() && !IsSpace(text[pos])) ++pos;
      continue;
    }
    if (key->field == Field::kText) break;
    const std::size_t start = pos + key->name.size() + 1;
    std::size_t end = start;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    const std::string_view value = text.substr(start, end - start);
    pos = end;
    std::optional<std::string_view>* slot = nullptr;
    if (key->field == Field::kId) slot = &fields.id;
    if (key->field == Field::kStat) slot = &fields.stat;
    if (key->field == Field::kErr) slot = &fields.err;
    if (slot != nullptr && !*slot && !value.empty()) *slot = value;
  }
  return fields;
}

}  // namespace

std::string_view ReceiptStateName(ReceiptState state) {
  for (const StateName& s : kStates) {
    if (s.state == state) return s.name;
  }
  return "UNKNOWN";
}

Result<Receipt> ParseReceipt(std::string_view text, const ReceiptTlvs& tlvs) {
  const TextFields fields = Scan(text);
  Receipt receipt;
  if (tlvs.receipted_message_id && !tlvs.receipted_message_id->empty()) {
    receipt.message_id = *tlvs.receipted_message_id;
  } else if (fields.id) {
    receipt.message_id = std::string(*fields.id);
  } else {
    return Status::InvalidArgument("delivery receipt without a message id");
  }
  if (tlvs.message_state && *tlvs.message_state >= 1 && *tlvs.message_state <= 8) {
    receipt.state = static_cast<ReceiptState>(*tlvs.message_state);
  } else if (fields.stat) {
    receipt.state = StateFromStat(*fields.stat);
  }
  if (fields.err) receipt.err = std::string(*fields.err);
  return receipt;
}

ReceiptVerdict Judge(const Receipt& receipt) {
  switch (receipt.state) {
    case ReceiptState::kDelivered:
      return {ReceiptOutcome::kSuccess, ""};
    case ReceiptState::kAccepted:
    case ReceiptState::kEnroute:
      return {ReceiptOutcome::kPending, ""};
    case ReceiptState::kExpired:
    case ReceiptState::kDeleted:
    case ReceiptState::kUndeliverable:
    case ReceiptState::kUnknown:
    case ReceiptState::kRejected:
      break;
  }
  std::string cause = "SMS " + std::string(ReceiptStateName(receipt.state));
  if (!receipt.err.empty()) cause += " err:" + receipt.err;
  return {ReceiptOutcome::kFailed, std::move(cause)};
}

}  // namespace msgin5g::gateway::sms
