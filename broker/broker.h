// The broker facade used by the API front ends. Every call is asynchronous because its answer
// comes after durable storage (a 2xx is sent only from the completion); `done` may run on any
// thread and must not block. Calls never block the caller.
//
// Errors: InvalidArgument (semantically wrong request), NotFound (unknown registration or
// recipient), ResourceExhausted (overload: answer 503 + Retry-After), Unavailable (storage
// refusing writes).
#pragma once

#include <functional>
#include <string>

#include "broker/types.h"
#include "common/status.h"

namespace msgin5g::broker {

class Broker {
 public:
  virtual ~Broker() = default;

  // MSGS_ASRegistration: registers (or re-registers: same asSvcId replaces the old registration)
  // an AS; the result carries the assigned registration_id.
  virtual void RegisterAs(AsRegistration registration,
                          std::function<void(Result<AsRegistration>)> done) = 0;
  // Removes a registration; NotFound for an unknown id. `requester` is the authenticated client
  // asking (empty: anonymous): a registration with an owner may only be removed by that owner
  // (PermissionDenied otherwise). RegisterAs likewise refuses to replace another owner's asSvcId.
  virtual void DeregisterAs(std::string registration_id, std::string requester,
                            std::function<void(Status)> done) = 0;

  // MSGin5G-1 UE registration (REG): stored durably; the UE becomes reachable at
  // registration.endpoint and its stored messages start flowing. Re-registration replaces.
  virtual void RegisterUe(UeRegistration registration, std::function<void(Status)> done) = 0;
  // DEREG: NotFound for a UE that is not registered.
  // `from_endpoint`: where the request came from when the transport does not authenticate the
  // UE (plain UDP): it must be the registered endpoint, else PermissionDenied. Empty: any.
  virtual void DeregisterUe(std::string ue_id, std::string from_endpoint,
                            std::function<void(Status)> done) = 0;
  // A registered UE was heard from `endpoint` (any request). NotFound if the UE is not registered.
  // With `may_move` (the transport authenticated the UE: DTLS) a new endpoint replaces the stored
  // one (stored); without it (plain UDP, where the source address is all we know) a request from
  // any other endpoint is PermissionDenied and changes nothing: anyone could send it.
  // It is also awake again: its stored messages go out now, highest priority first.
  virtual void UeContact(std::string ue_id, std::string endpoint, bool may_move,
                         std::function<void(Status)> done) = 0;
  // The UE did not answer (CoAP retransmissions exhausted): it sleeps. Its messages stay stored
  // (parked, no attempts spent) until UeContact or RegisterUe. Not stored: after a restart a
  // registered UE is tried once more.
  virtual void UeUnreachable(std::string ue_id) = 0;

  // MSGS_MSGDelivery deliver-as-message / deliver-ue-message. A repeated (origin, msg_id) returns
  // the first outcome and stores nothing new.
  virtual void SubmitMessage(Message message, std::function<void(Result<AcceptOutcome>)> done) = 0;

  // MSGS_MSGDelivery deliver-report: a report travelling back to the original originator.
  virtual void SubmitReport(Report report, std::function<void(Result<AcceptOutcome>)> done) = 0;
};

}  // namespace msgin5g::broker
