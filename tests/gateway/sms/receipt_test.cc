// ParseReceipt and Judge on receipts as real SMSCs (and simulators) write them.
#include <gtest/gtest.h>

#include <string>

#include "gateway/sms/receipt.h"

namespace msgin5g::gateway::sms {
namespace {

Receipt MustParse(std::string_view text, const ReceiptTlvs& tlvs = {}) {
  Result<Receipt> out = ParseReceipt(text, tlvs);
  EXPECT_TRUE(out.ok()) << out.status().ToString() << " for: " << text;
  return out.ok() ? *out : Receipt{};
}

TEST(SmsReceipt, AppendixBDelivered) {
  const Receipt r = MustParse(
      "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD "
      "err:000 text:Hello world, stat:UNDELIV");
  EXPECT_EQ(r.message_id, "0123456789");
  EXPECT_EQ(r.state, ReceiptState::kDelivered);
  EXPECT_EQ(r.err, "000");
  const ReceiptVerdict v = Judge(r);
  EXPECT_EQ(v.outcome, ReceiptOutcome::kSuccess);
  EXPECT_EQ(v.failure_cause, "");
}

TEST(SmsReceipt, SmppSimStyleUndeliverable) {
  // SMPPSim: hex id, short sub/dlvrd, text of the original.
  const Receipt r = MustParse(
      "id:1a2b3c4d sub:001 dlvrd:000 submit date:1609011200 done date:1609011205 stat:UNDELIV "
      "err:005 text:Meeting at 10");
  EXPECT_EQ(r.message_id, "1a2b3c4d");
  EXPECT_EQ(r.state, ReceiptState::kUndeliverable);
  const ReceiptVerdict v = Judge(r);
  EXPECT_EQ(v.outcome, ReceiptOutcome::kFailed);
  EXPECT_EQ(v.failure_cause, "SMS UNDELIV err:005");
}

TEST(SmsReceipt, KannelStyleWithCapitalisedTextKeyAndOneDigitFields) {
  const Receipt r = MustParse(
      "id:42 sub:1 dlvrd:0 submit date:1609201200 done date:1609201300 stat:EXPIRED err:0 "
      "Text:Your code");
  EXPECT_EQ(r.message_id, "42");
  EXPECT_EQ(r.state, ReceiptState::kExpired);
  EXPECT_EQ(r.err, "0");
  EXPECT_EQ(Judge(r).failure_cause, "SMS EXPIRED err:0");
}

TEST(SmsReceipt, UppercaseKeysAndStates) {
  const Receipt r = MustParse(
      "ID:ABCDEF SUB:001 DLVRD:000 SUBMIT DATE:2401011200 DONE DATE:2401011200 STAT:rejectd "
      "ERR:010 TEXT:");
  EXPECT_EQ(r.message_id, "ABCDEF");
  EXPECT_EQ(r.state, ReceiptState::kRejected);
  EXPECT_EQ(r.err, "010");
  EXPECT_EQ(Judge(r).failure_cause, "SMS REJECTD err:010");
}

TEST(SmsReceipt, MissingFields) {
  const Receipt no_text = MustParse("id:77 sub:001 dlvrd:001 stat:DELETED err:003");
  EXPECT_EQ(no_text.state, ReceiptState::kDeleted);
  EXPECT_EQ(Judge(no_text).failure_cause, "SMS DELETED err:003");

  const Receipt no_err = MustParse("id:77 stat:DELETED");
  EXPECT_EQ(no_err.err, "");
  EXPECT_EQ(Judge(no_err).failure_cause, "SMS DELETED");

  // No state anywhere: the outcome is unknown, which is final and a failure.
  const Receipt no_stat = MustParse("id:77 err:000");
  EXPECT_EQ(no_stat.state, ReceiptState::kUnknown);
  EXPECT_EQ(Judge(no_stat).outcome, ReceiptOutcome::kFailed);
  EXPECT_EQ(Judge(no_stat).failure_cause, "SMS UNKNOWN err:000");

  // Fields in another order, extra words and a C terminator left in.
  const Receipt odd = MustParse(std::string("stat:DELIVRD foo:bar id:9 extra\0", 32));
  EXPECT_EQ(odd.message_id, "9");
  EXPECT_EQ(odd.state, ReceiptState::kDelivered);
}

TEST(SmsReceipt, StatWordsLongAndUnknown) {
  EXPECT_EQ(MustParse("id:1 stat:DELIVERED").state, ReceiptState::kDelivered);
  EXPECT_EQ(MustParse("id:1 stat:UNDELIVERABLE").state, ReceiptState::kUndeliverable);
  EXPECT_EQ(MustParse("id:1 stat:FAILED").state, ReceiptState::kUnknown);
  EXPECT_EQ(MustParse("id:1 stat:unknown").state, ReceiptState::kUnknown);
}

TEST(SmsReceipt, IntermediateStatesAreNotFinal) {
  for (const char* text : {"id:5 stat:ACCEPTD err:000", "id:5 stat:ENROUTE err:000"}) {
    const ReceiptVerdict v = Judge(MustParse(text));
    EXPECT_EQ(v.outcome, ReceiptOutcome::kPending) << text;
    EXPECT_EQ(v.failure_cause, "") << text;
  }
}

TEST(SmsReceipt, EveryStateJudged) {
  const std::pair<ReceiptState, ReceiptOutcome> table[] = {
      {ReceiptState::kEnroute, ReceiptOutcome::kPending},
      {ReceiptState::kDelivered, ReceiptOutcome::kSuccess},
      {ReceiptState::kExpired, ReceiptOutcome::kFailed},
      {ReceiptState::kDeleted, ReceiptOutcome::kFailed},
      {ReceiptState::kUndeliverable, ReceiptOutcome::kFailed},
      {ReceiptState::kAccepted, ReceiptOutcome::kPending},
      {ReceiptState::kUnknown, ReceiptOutcome::kFailed},
      {ReceiptState::kRejected, ReceiptOutcome::kFailed},
  };
  for (const auto& [state, outcome] : table) {
    EXPECT_EQ(Judge(Receipt{"x", state, ""}).outcome, outcome) << ReceiptStateName(state);
  }
}

TEST(SmsReceipt, TlvsTakePrecedence) {
  ReceiptTlvs tlvs;
  tlvs.receipted_message_id = "0A1B";
  tlvs.message_state = 5;  // UNDELIVERABLE
  const Receipt r = MustParse("id:2587 stat:DELIVRD err:000", tlvs);
  EXPECT_EQ(r.message_id, "0A1B");
  EXPECT_EQ(r.state, ReceiptState::kUndeliverable);
  EXPECT_EQ(r.err, "000");  // err still comes from the text

  // Only the TLVs, no text at all.
  const Receipt tlv_only = MustParse("", tlvs);
  EXPECT_EQ(tlv_only.message_id, "0A1B");
  EXPECT_EQ(tlv_only.state, ReceiptState::kUndeliverable);

  // message_state outside 1..8 and an empty receipted_message_id are ignored.
  ReceiptTlvs odd;
  odd.receipted_message_id = "";
  odd.message_state = 9;
  const Receipt fallback = MustParse("id:2587 stat:DELIVRD", odd);
  EXPECT_EQ(fallback.message_id, "2587");
  EXPECT_EQ(fallback.state, ReceiptState::kDelivered);
  odd.message_state = 0;
  EXPECT_EQ(MustParse("id:2587 stat:ENROUTE", odd).state, ReceiptState::kEnroute);
}

TEST(SmsReceipt, NoIdIsRefused) {
  const std::string cases[] = {"",
                               "hello world",
                               "stat:DELIVRD err:000",
                               "xid:12 stat:DELIVRD",  // "id" must start a word
                               "id: stat:DELIVRD",     // empty id
                               "text:id:12 stat:DELIVRD",  // keys inside text do not count
                               std::string("\xFF\x00id", 4),
                               "id",
                               "id:"};
  for (const std::string& text : cases) {
    const Result<Receipt> out = ParseReceipt(text);
    EXPECT_FALSE(out.ok()) << testing::PrintToString(text);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace msgin5g::gateway::sms
