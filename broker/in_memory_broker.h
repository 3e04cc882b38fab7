// InMemoryBroker: a NON-DURABLE stand-in for the broker, used until the RocksDB-backed broker
// (issue "Durable broker core") lands. It implements the acceptance rules of DESIGN.md §3 —
// idempotency on (origin, msgId), AS routability from registrations, DELY_STORED / DELY_FAILED by
// stoAndFwInd — but keeps everything in memory, so a restart loses it all, and it delivers nothing.
// It is bounded: past `max_messages` it answers ResourceExhausted (503), never grows without limit.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include "broker/broker.h"

namespace msgin5g::broker {

struct InMemoryBrokerOptions {
  // Messages kept (for idempotency answers). Default: 100000.
  std::size_t max_messages = 100000;
  // Unknown AS recipient: false -> NotFound (404 UNKNOWN_RECIPIENT); true -> treated as
  // unreachable (DELY_STORED / DELY_FAILED). Default: false.
  bool store_for_unknown_recipient = false;
};

class InMemoryBroker final : public Broker {
 public:
  explicit InMemoryBroker(InMemoryBrokerOptions options = {});

  void RegisterAs(AsRegistration registration,
                  std::function<void(Result<AsRegistration>)> done) override;
  void DeregisterAs(std::string registration_id, std::function<void(Status)> done) override;
  void SubmitMessage(Message message, std::function<void(Result<AcceptOutcome>)> done) override;
  void SubmitReport(Report report, std::function<void(Result<AcceptOutcome>)> done) override;

  std::size_t message_count() const;
  std::size_t registration_count() const;

 private:
  Result<AcceptOutcome> Accept(Message message);

  InMemoryBrokerOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, AsRegistration> registrations_;  // by registration_id
  std::unordered_map<std::string, std::string> by_as_svc_id_;      // asSvcId -> registration_id
  std::map<std::tuple<AddressType, std::string, std::string>, AcceptOutcome> messages_;
};

}  // namespace msgin5g::broker
