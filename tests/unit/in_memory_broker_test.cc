// Unit tests for broker/in_memory_broker.h: registrations, acceptance rules, idempotency, bounds.

#include "broker/in_memory_broker.h"

#include <optional>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msgin5g::broker {
namespace {

using Kind = AcceptOutcome::Kind;

// The in-memory broker answers synchronously, but the interface allows any thread: each helper
// checks that the callback ran exactly once before returning its argument.
Result<AsRegistration> Register(InMemoryBroker& b, const std::string& as_svc_id,
                                const std::string& target_uri = "http://as.example/cb") {
  AsRegistration r;
  r.as_svc_id = as_svc_id;
  r.app_id = "app-" + as_svc_id;
  r.target_uri = target_uri;
  std::optional<Result<AsRegistration>> out;
  int calls = 0;
  b.RegisterAs(r, [&](Result<AsRegistration> res) {
    ++calls;
    out.emplace(std::move(res));
  });
  EXPECT_EQ(calls, 1);
  if (!out) return Status::Internal("RegisterAs did not answer");
  return std::move(*out);
}

Status Deregister(InMemoryBroker& b, const std::string& id) {
  std::optional<Status> out;
  int calls = 0;
  b.DeregisterAs(id, [&](Status s) {
    ++calls;
    out = std::move(s);
  });
  EXPECT_EQ(calls, 1);
  return out.value_or(Status::Internal("DeregisterAs did not answer"));
}

Result<AcceptOutcome> Submit(InMemoryBroker& b, const Message& m) {
  std::optional<Result<AcceptOutcome>> out;
  int calls = 0;
  b.SubmitMessage(m, [&](Result<AcceptOutcome> res) {
    ++calls;
    out.emplace(std::move(res));
  });
  EXPECT_EQ(calls, 1);
  if (!out) return Status::Internal("SubmitMessage did not answer");
  return std::move(*out);
}

Message ToAs(const std::string& as_svc_id, const std::string& msg_id) {
  Message m;
  m.ingress = Ingress::kGateway;
  m.origin = {AddressType::kUe, "ue-1"};
  m.destination = {AddressType::kAs, as_svc_id};
  m.msg_id = msg_id;
  m.payload = "hello";
  return m;
}

Message ToUe(const std::string& msg_id, bool store_and_forward) {
  Message m;
  m.ingress = Ingress::kAs;
  m.origin = {AddressType::kAs, "as-1"};
  m.destination = {AddressType::kUe, "ue-1"};
  m.msg_id = msg_id;
  m.store_and_forward = store_and_forward;
  return m;
}

TEST(InMemoryBroker, StartsEmpty) {
  InMemoryBroker b;
  EXPECT_EQ(b.message_count(), 0u);
  EXPECT_EQ(b.registration_count(), 0u);
}

TEST(InMemoryBroker, RegisterAssignsARandomHexRegistrationId) {
  InMemoryBroker b;
  auto r = Register(b, "as-1", "https://as1.example/cb");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->registration_id, testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(r->as_svc_id, "as-1");
  EXPECT_EQ(r->app_id, "app-as-1");
  EXPECT_EQ(r->target_uri, "https://as1.example/cb");
  EXPECT_EQ(b.registration_count(), 1u);
}

TEST(InMemoryBroker, DifferentAsesGetDistinctRegistrationIds) {
  InMemoryBroker b;
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto r = Register(b, "as-" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    ids.insert(r->registration_id);
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(b.registration_count(), 20u);
}

TEST(InMemoryBroker, ReRegisteringSameAsSvcIdReplacesTheOldRegistration) {
  InMemoryBroker b;
  auto first = Register(b, "as-1", "http://old/cb");
  auto second = Register(b, "as-1", "http://new/cb");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->registration_id, second->registration_id);
  EXPECT_EQ(b.registration_count(), 1u);
  EXPECT_EQ(Deregister(b, first->registration_id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Deregister(b, second->registration_id).ok());
  EXPECT_EQ(b.registration_count(), 0u);
}

TEST(InMemoryBroker, ReRegisteredAsStaysRoutable) {
  InMemoryBroker b;
  ASSERT_TRUE(Register(b, "as-1").ok());
  ASSERT_TRUE(Register(b, "as-1").ok());
  auto r = Submit(b, ToAs("as-1", "m1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kAccepted);
}

TEST(InMemoryBroker, DeregisterUnknownIdIsNotFound) {
  InMemoryBroker b;
  Status s = Deregister(b, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_FALSE(s.message().empty());
}

TEST(InMemoryBroker, DeregisterTwiceIsNotFoundTheSecondTime) {
  InMemoryBroker b;
  auto r = Register(b, "as-1");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Deregister(b, r->registration_id).ok());
  EXPECT_EQ(Deregister(b, r->registration_id).code(), StatusCode::kNotFound);
}

TEST(InMemoryBroker, DeregisterByAsSvcIdInsteadOfRegistrationIdIsNotFound) {
  InMemoryBroker b;
  ASSERT_TRUE(Register(b, "as-1").ok());
  EXPECT_EQ(Deregister(b, "as-1").code(), StatusCode::kNotFound);
  EXPECT_EQ(b.registration_count(), 1u);
}

TEST(InMemoryBroker, MessageToRegisteredAsIsAccepted) {
  InMemoryBroker b;
  ASSERT_TRUE(Register(b, "as-1").ok());
  auto r = Submit(b, ToAs("as-1", "m1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kAccepted);
  EXPECT_TRUE(r->failure_cause.empty());
  EXPECT_EQ(b.message_count(), 1u);
}

TEST(InMemoryBroker, MessageToUnregisteredAsIsNotFound) {
  InMemoryBroker b;
  ASSERT_TRUE(Register(b, "as-1").ok());
  auto r = Submit(b, ToAs("as-2", "m1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b.message_count(), 0u);
}

TEST(InMemoryBroker, MessageToDeregisteredAsIsNotFound) {
  InMemoryBroker b;
  auto reg = Register(b, "as-1");
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE(Deregister(b, reg->registration_id).ok());
  auto r = Submit(b, ToAs("as-1", "m1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(InMemoryBroker, RejectedUnknownRecipientCanBeRetriedAfterRegistration) {
  // A NotFound is not remembered as the message's outcome.
  InMemoryBroker b;
  ASSERT_FALSE(Submit(b, ToAs("as-1", "m1")).ok());
  ASSERT_TRUE(Register(b, "as-1").ok());
  auto r = Submit(b, ToAs("as-1", "m1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kAccepted);
}

TEST(InMemoryBroker, UnregisteredAsWithStoreForUnknownRecipientIsStored) {
  InMemoryBroker b(InMemoryBrokerOptions{.store_for_unknown_recipient = true});
  Message m = ToAs("as-9", "m1");
  m.store_and_forward = true;
  auto r = Submit(b, m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kStored);
  EXPECT_EQ(b.message_count(), 1u);
}

TEST(InMemoryBroker, UnregisteredAsWithStoreForUnknownRecipientButNoStoreAndForwardFails) {
  InMemoryBroker b(InMemoryBrokerOptions{.store_for_unknown_recipient = true});
  auto r = Submit(b, ToAs("as-9", "m1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kFailed);
  EXPECT_FALSE(r->failure_cause.empty());
}

TEST(InMemoryBroker, UeDestinationWithStoreAndForwardIsStored) {
  InMemoryBroker b;
  auto r = Submit(b, ToUe("m1", true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kStored);
  EXPECT_TRUE(r->failure_cause.empty());
  EXPECT_EQ(b.message_count(), 1u);
}

TEST(InMemoryBroker, UeDestinationWithoutStoreAndForwardFailsWithACause) {
  InMemoryBroker b;
  auto r = Submit(b, ToUe("m1", false));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kFailed);
  EXPECT_FALSE(r->failure_cause.empty());
  EXPECT_EQ(b.message_count(), 1u);
}

TEST(InMemoryBroker, GroupTopicAndBroadcastDestinationsFollowStoreAndForward) {
  InMemoryBroker b;
  int n = 0;
  for (AddressType t : {AddressType::kGroup, AddressType::kTopic, AddressType::kBroadcast}) {
    Message stored = ToUe("s" + std::to_string(n), true);
    stored.destination.type = t;
    Message failed = ToUe("f" + std::to_string(n), false);
    failed.destination.type = t;
    ++n;
    auto rs = Submit(b, stored);
    auto rf = Submit(b, failed);
    ASSERT_TRUE(rs.ok());
    ASSERT_TRUE(rf.ok());
    EXPECT_EQ(rs->kind, Kind::kStored) << static_cast<int>(t);
    EXPECT_EQ(rf->kind, Kind::kFailed) << static_cast<int>(t);
  }
}

TEST(InMemoryBroker, IdempotentRepeatReturnsTheFirstOutcomeWithoutGrowing) {
  InMemoryBroker b;
  auto first = Submit(b, ToUe("m1", false));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->kind, Kind::kFailed);
  // The repeat asks for store-and-forward, but the first outcome stands.
  auto repeat = Submit(b, ToUe("m1", true));
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(*repeat, *first);
  EXPECT_EQ(b.message_count(), 1u);
}

TEST(InMemoryBroker, IdempotentRepeatToAsReturnsAcceptedEvenAfterDeregistration) {
  InMemoryBroker b;
  auto reg = Register(b, "as-1");
  ASSERT_TRUE(reg.ok());
  auto first = Submit(b, ToAs("as-1", "m1"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Deregister(b, reg->registration_id).ok());
  auto repeat = Submit(b, ToAs("as-1", "m1"));
  ASSERT_TRUE(repeat.ok()) << repeat.status().ToString();
  EXPECT_EQ(repeat->kind, Kind::kAccepted);
  EXPECT_EQ(b.message_count(), 1u);
}

TEST(InMemoryBroker, SameMsgIdFromAnotherOriginIsANewMessage) {
  InMemoryBroker b;
  Message a = ToUe("m1", true);
  Message other = ToUe("m1", false);
  other.origin.id = "as-2";
  ASSERT_TRUE(Submit(b, a).ok());
  auto r = Submit(b, other);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, Kind::kFailed);
  EXPECT_EQ(b.message_count(), 2u);
}

TEST(InMemoryBroker, SameOriginIdWithAnotherAddressTypeIsANewMessage) {
  InMemoryBroker b;
  Message a = ToUe("m1", true);
  Message other = ToUe("m1", true);
  other.origin.type = AddressType::kUe;  // same id "as-1", different type
  ASSERT_TRUE(Submit(b, a).ok());
  ASSERT_TRUE(Submit(b, other).ok());
  EXPECT_EQ(b.message_count(), 2u);
}

TEST(InMemoryBroker, MaxMessagesReachedIsResourceExhausted) {
  InMemoryBroker b(InMemoryBrokerOptions{.max_messages = 2});
  ASSERT_TRUE(Submit(b, ToUe("m1", true)).ok());
  ASSERT_TRUE(Submit(b, ToUe("m2", true)).ok());
  auto r = Submit(b, ToUe("m3", true));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.message_count(), 2u);
}

TEST(InMemoryBroker, IdempotentRepeatIsAnsweredEvenWhenFull) {
  InMemoryBroker b(InMemoryBrokerOptions{.max_messages = 1});
  auto first = Submit(b, ToUe("m1", true));
  ASSERT_TRUE(first.ok());
  auto repeat = Submit(b, ToUe("m1", true));
  ASSERT_TRUE(repeat.ok()) << repeat.status().ToString();
  EXPECT_EQ(*repeat, *first);
}

TEST(InMemoryBroker, UnknownAsIsNotFoundRatherThanResourceExhaustedWhenFull) {
  InMemoryBroker b(InMemoryBrokerOptions{.max_messages = 1});
  ASSERT_TRUE(Submit(b, ToUe("m1", true)).ok());
  auto r = Submit(b, ToAs("as-x", "m2"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(InMemoryBroker, SubmitReportIsAccepted) {
  InMemoryBroker b;
  Report report;
  report.origin = {AddressType::kUe, "ue-1"};
  report.destination = {AddressType::kAs, "as-1"};
  report.msg_id = "m1";
  std::optional<Result<AcceptOutcome>> out;
  b.SubmitReport(report, [&](Result<AcceptOutcome> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok());
  EXPECT_EQ(out->value().kind, Kind::kAccepted);
  EXPECT_EQ(b.message_count(), 0u);
}

}  // namespace
}  // namespace msgin5g::broker
