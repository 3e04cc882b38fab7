#include "storage/codec.h"

#include "storage/proto/records.pb.h"

namespace msgin5g::storage::codec {

namespace {

void ToPb(const Address& a, pb::Address* p) {
  p->set_type(static_cast<std::uint32_t>(a.type));
  p->set_id(a.id);
}
Address FromPb(const pb::Address& p) {
  return Address{static_cast<AddressType>(p.type()), p.id()};
}

void ToPb(const MessageRecord& r, pb::Message* p) {
  p->set_seq(r.seq);
  p->set_kind(static_cast<std::uint32_t>(r.kind));
  p->set_ingress(static_cast<std::uint32_t>(r.ingress));
  ToPb(r.origin, p->mutable_origin());
  ToPb(r.destination, p->mutable_destination());
  p->set_app_id(r.app_id);
  p->set_msg_id(r.msg_id);
  p->set_payload(r.payload);
  p->set_priority(static_cast<std::uint32_t>(r.priority));
  p->set_report_requested(r.report_requested);
  p->set_store_and_forward(r.store_and_forward);
  p->set_expiry_ms(r.expiry_ms);
  p->set_accepted_ms(r.accepted_ms);
  p->set_has_latency(r.latency.has_value());
  p->set_latency(r.latency.value_or(0));
  p->set_report_status(static_cast<std::uint32_t>(r.report_status));
  p->set_failure_cause(r.failure_cause);
  p->set_recipient_count(r.recipient_count);
}

void FromPb(const pb::Message& p, MessageRecord* r) {
  r->seq = p.seq();
  r->kind = static_cast<MessageKind>(p.kind());
  r->ingress = static_cast<Ingress>(p.ingress());
  r->origin = FromPb(p.origin());
  r->destination = FromPb(p.destination());
  r->app_id = p.app_id();
  r->msg_id = p.msg_id();
  r->payload = p.payload();
  r->priority = static_cast<Priority>(p.priority());
  r->report_requested = p.report_requested();
  r->store_and_forward = p.store_and_forward();
  r->expiry_ms = p.expiry_ms();
  r->accepted_ms = p.accepted_ms();
  if (p.has_latency()) r->latency = p.latency();
  r->report_status = static_cast<ReportStatus>(p.report_status());
  r->failure_cause = p.failure_cause();
  r->recipient_count = p.recipient_count();
}

template <class P>
bool Parse(std::string_view s, P* p) {
  return p->ParseFromArray(s.data(), static_cast<int>(s.size()));
}

}  // namespace

std::string Encode(const MessageRecord& r) {
  pb::Message p;
  ToPb(r, &p);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, MessageRecord* r) {
  pb::Message p;
  if (!Parse(s, &p)) return false;
  FromPb(p, r);
  return true;
}

std::string Encode(const IdempotencyRecord& r) {
  pb::Idempotency p;
  p.set_seq(r.seq);
  p.set_outcome(static_cast<std::uint32_t>(r.outcome));
  p.set_failure_cause(r.failure_cause);
  p.set_expiry_ms(r.expiry_ms);
  for (const auto& u : r.undelivered) {
    auto* x = p.add_undelivered();
    ToPb(u.recipient, x->mutable_recipient());
    x->set_state(static_cast<std::uint32_t>(u.state));
    x->set_cause(u.cause);
    x->set_finished_ms(u.finished_ms);
  }
  p.set_undelivered_more(r.undelivered_more);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, IdempotencyRecord* r) {
  pb::Idempotency p;
  if (!Parse(s, &p)) return false;
  r->seq = p.seq();
  r->outcome = static_cast<OutcomeKind>(p.outcome());
  r->failure_cause = p.failure_cause();
  r->expiry_ms = p.expiry_ms();
  r->undelivered.clear();
  for (const auto& x : p.undelivered()) {
    r->undelivered.push_back({FromPb(x.recipient()), static_cast<RecipientState>(x.state()),
                              x.cause(), x.finished_ms()});
  }
  r->undelivered_more = p.undelivered_more();
  return true;
}

std::string Encode(const RecipientRecord& r) {
  pb::Recipient p;
  ToPb(r.recipient, p.mutable_recipient());
  p.set_state(static_cast<std::uint32_t>(r.state));
  p.set_due_ms(r.due_ms);
  p.set_priority(static_cast<std::uint32_t>(r.priority));
  return p.SerializeAsString();
}

bool Decode(std::string_view s, RecipientRecord* r) {
  pb::Recipient p;
  if (!Parse(s, &p)) return false;
  r->recipient = FromPb(p.recipient());
  r->state = static_cast<RecipientState>(p.state());
  r->due_ms = p.due_ms();
  r->priority = static_cast<Priority>(p.priority());
  return true;
}

std::string Encode(const QueueEntryRecord& r) {
  pb::QueueEntry p;
  p.set_seq(r.seq);
  p.set_attempts(r.attempts);
  p.set_payload_bytes(r.payload_bytes);
  p.set_expiry_ms(r.expiry_ms);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, QueueEntryRecord* r) {
  pb::QueueEntry p;
  if (!Parse(s, &p)) return false;
  r->seq = p.seq();
  r->attempts = p.attempts();
  r->payload_bytes = p.payload_bytes();
  r->expiry_ms = p.expiry_ms();
  return true;
}

std::string Encode(const AsRegistrationRecord& r) {
  pb::AsRegistration p;
  p.set_registration_id(r.registration_id);
  p.set_as_svc_id(r.as_svc_id);
  p.set_app_id(r.app_id);
  p.set_target_uri(r.target_uri);
  p.set_owner(r.owner);
  p.set_has_profile(r.profile.has_value());
  if (r.profile) {
    p.set_app_name(r.profile->app_name);
    for (const auto& x : r.profile->app_providers) p.add_app_providers(x);
    for (const auto& x : r.profile->app_scenarios) p.add_app_scenarios(x);
    p.set_app_category(r.profile->app_category);
    p.set_as_status(r.profile->as_status);
  }
  return p.SerializeAsString();
}

std::string Encode(const UeRegistrationRecord& r) {
  pb::UeRegistration p;
  p.set_ue_id(r.ue_id);
  p.set_max_segment_bytes(r.max_segment_bytes);
  p.set_comm_availability(r.comm_availability);
  p.set_endpoint(r.endpoint);
  p.set_registered_ms(r.registered_ms);
  p.set_psk_identity(r.psk_identity);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, UeRegistrationRecord* r) {
  pb::UeRegistration p;
  if (!Parse(s, &p)) return false;
  r->ue_id = p.ue_id();
  r->max_segment_bytes = p.max_segment_bytes();
  r->comm_availability = p.comm_availability();
  r->endpoint = p.endpoint();
  r->registered_ms = p.registered_ms();
  r->psk_identity = p.psk_identity();
  return true;
}

bool Decode(std::string_view s, AsRegistrationRecord* r) {
  pb::AsRegistration p;
  if (!Parse(s, &p)) return false;
  r->registration_id = p.registration_id();
  r->as_svc_id = p.as_svc_id();
  r->app_id = p.app_id();
  r->target_uri = p.target_uri();
  r->owner = p.owner();
  if (p.has_profile()) {
    AsProfileRecord prof;
    prof.app_name = p.app_name();
    prof.app_providers.assign(p.app_providers().begin(), p.app_providers().end());
    prof.app_scenarios.assign(p.app_scenarios().begin(), p.app_scenarios().end());
    prof.app_category = p.app_category();
    prof.as_status = p.as_status();
    r->profile = std::move(prof);
  }
  return true;
}

std::string Encode(const GroupRecord& r) {
  pb::Group p;
  p.set_group_id(r.group_id);
  for (const auto& m : r.members) ToPb(m, p.add_members());
  return p.SerializeAsString();
}

bool Decode(std::string_view s, GroupRecord* r) {
  pb::Group p;
  if (!Parse(s, &p)) return false;
  r->group_id = p.group_id();
  r->members.clear();
  for (const auto& m : p.members()) r->members.push_back(FromPb(m));
  return true;
}

std::string Encode(const TopicSubscriptionRecord& r) {
  pb::TopicSubscription p;
  p.set_topic(r.topic);
  ToPb(r.subscriber, p.mutable_subscriber());
  p.set_expiry_ms(r.expiry_ms);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, TopicSubscriptionRecord* r) {
  pb::TopicSubscription p;
  if (!Parse(s, &p)) return false;
  r->topic = p.topic();
  r->subscriber = FromPb(p.subscriber());
  r->expiry_ms = p.expiry_ms();
  return true;
}

std::string Encode(const RoutingRuleRecord& r) {
  pb::RoutingRule p;
  p.set_name(r.name);
  p.set_pattern(r.pattern);
  p.set_gateway(r.gateway);
  p.set_order(r.order);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, RoutingRuleRecord* r) {
  pb::RoutingRule p;
  if (!Parse(s, &p)) return false;
  r->name = p.name();
  r->pattern = p.pattern();
  r->gateway = p.gateway();
  r->order = p.order();
  return true;
}

std::string Encode(const SegmentRecord& r) {
  pb::Segment p;
  ToPb(r.header, p.mutable_header());
  p.set_number(r.number);
  p.set_total(r.total);
  p.set_last(r.last);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, SegmentRecord* r) {
  pb::Segment p;
  if (!Parse(s, &p)) return false;
  FromPb(p.header(), &r->header);
  r->number = p.number();
  r->total = p.total();
  r->last = p.last();
  return true;
}

std::string Encode(const SegmentSetRecord& r) {
  pb::SegmentSet p;
  p.set_first_seen_ms(r.first_seen_ms);
  p.set_total(r.total);
  p.set_received(r.received);
  p.set_report_requested(r.report_requested);
  ToPb(r.origin, p.mutable_origin());
  p.set_seg_id(r.seg_id);
  ToPb(r.destination, p.mutable_destination());
  p.set_msg_id(r.msg_id);
  p.set_bytes(r.bytes);
  p.set_max_number(r.max_number);
  return p.SerializeAsString();
}

bool Decode(std::string_view s, SegmentSetRecord* r) {
  pb::SegmentSet p;
  if (!Parse(s, &p)) return false;
  r->first_seen_ms = p.first_seen_ms();
  r->total = p.total();
  r->received = p.received();
  r->report_requested = p.report_requested();
  r->origin = FromPb(p.origin());
  r->seg_id = p.seg_id();
  r->destination = FromPb(p.destination());
  r->msg_id = p.msg_id();
  r->bytes = p.bytes();
  r->max_number = p.max_number();
  return true;
}

}  // namespace msgin5g::storage::codec
