#include "broker/in_memory_broker.h"

#include <random>

namespace msgin5g::broker {

namespace {
// 128-bit random hex id: registration ids are resource names in URIs and must not be guessable
// (one AS must not be able to enumerate and delete another's registration).
std::string RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}
}  // namespace

InMemoryBroker::InMemoryBroker(InMemoryBrokerOptions options) : options_(options) {}

void InMemoryBroker::RegisterAs(AsRegistration registration,
                                std::function<void(Result<AsRegistration>)> done) {
  std::unique_lock<std::mutex> lock(mu_);
  auto old = by_as_svc_id_.find(registration.as_svc_id);
  if (old != by_as_svc_id_.end()) {
    registrations_.erase(old->second);
    by_as_svc_id_.erase(old);
  }
  registration.registration_id = RandomId();
  by_as_svc_id_[registration.as_svc_id] = registration.registration_id;
  registrations_[registration.registration_id] = registration;
  lock.unlock();
  done(std::move(registration));
}

void InMemoryBroker::DeregisterAs(std::string registration_id, std::function<void(Status)> done) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = registrations_.find(registration_id);
  if (it == registrations_.end()) {
    lock.unlock();
    done(Status::NotFound("no AS registration " + registration_id));
    return;
  }
  by_as_svc_id_.erase(it->second.as_svc_id);
  registrations_.erase(it);
  lock.unlock();
  done(Status::Ok());
}

Result<AcceptOutcome> InMemoryBroker::Accept(Message m) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_tuple(m.origin.type, m.origin.id, m.msg_id);
  if (auto it = messages_.find(key); it != messages_.end()) return it->second;  // idempotent

  bool reachable = false;
  if (m.destination.type == AddressType::kAs) {
    reachable = by_as_svc_id_.count(m.destination.id) != 0;
    if (!reachable && !options_.store_for_unknown_recipient) {
      return Status::NotFound("no registered AS " + m.destination.id);
    }
  }
  if (messages_.size() >= options_.max_messages) {
    return Status::ResourceExhausted("message store is full");
  }
  AcceptOutcome outcome;
  if (!reachable) {
    // UEs, groups, topics and broadcast are not known to this stand-in: treat as unreachable.
    if (m.store_and_forward) {
      outcome.kind = AcceptOutcome::Kind::kStored;
    } else {
      outcome.kind = AcceptOutcome::Kind::kFailed;
      outcome.failure_cause = "recipient not reachable and store-and-forward not requested";
    }
  }
  messages_.emplace(std::move(key), outcome);
  return outcome;
}

void InMemoryBroker::SubmitMessage(Message message,
                                   std::function<void(Result<AcceptOutcome>)> done) {
  done(Accept(std::move(message)));
}

void InMemoryBroker::SubmitReport(Report, std::function<void(Result<AcceptOutcome>)> done) {
  done(AcceptOutcome{});
}

std::size_t InMemoryBroker::message_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_.size();
}

std::size_t InMemoryBroker::registration_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return registrations_.size();
}

}  // namespace msgin5g::broker
