// The L3G role (TS 23.554 8.7.1.2, 8.7.2.2, 8.7.1.4; TS 29.538 MSGG_L3GDelivery): MSGin5G
// messages to legacy UEs as SMS over SMPP 3.4, and SMS from them back into MSGin5G.
//
// Downlink. deliver-message (to a UE with an MSISDN in the identity map) becomes a job in the
// "sms" Outbox. A job submits its parts in order (text: GSM 7-bit when every character fits,
// else UCS-2; binary for l3g.binary_app_ids; concatenated with a UDH when long). Each accepted
// part is recorded in the job at once, so a retry or a restart resubmits only the parts the SMSC
// has not accepted. When a report was asked for (delivStReqInd) and l3g.request_receipts is on,
// registered_delivery is set and a receipt group is stored with the parts' SMSC message_ids:
// DELIVRD for every part -> REPT_DELY_SUCCESS; UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN for
// any -> REPT_DELY_FAILED with the state and error; none within l3g.receipt_timeout_s ->
// REPT_DELY_FAILED "RECEIPT_TIMEOUT". With receipts off, the report is synthesized from the
// transport outcome (TS 23.554 8.6.1 step 4a): every part accepted by the SMSC -> SUCCESS, a
// permanent SMPP error -> FAILED "SMPP <status>". Each message also opens a messaging transaction
// (tx/<msisdn> -> its originator, for l3g.transaction_ttl_s) so replies find their way back.
//
// Uplink. deliver_sm that is not a receipt is an MO SMS: its MSISDN must be in the identity map
// (else ESME_RINVSRCADR); concatenated parts (UDH IE 0 or 8, or SAR TLVs) are stored as they come
// and put together when the last arrives (dropped after l3g.mo_reassembly_timeout_s). The whole
// message goes to msgin5gd as deliver-ue-message, addressed by: a short-code rule for the
// destination address, else the open transaction of the MSISDN, else l3g.mo_default_destination,
// else it is refused (ESME_RX_P_APPN). deliver_sm_resp ESME_ROK is sent only once the part or
// message is durable in the gateway's store; otherwise a transient error, so the SMSC retries.
//
// Threads: the core io_context only (the ESME session, the Outbox and the Store completions all
// come back there).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "gateway/downlink.h"
#include "gateway/identity_map.h"
#include "gateway/outbox.h"
#include "gateway/smpp/esme_session.h"
#include "gateway/store.h"
#include "gateway/uplink.h"

namespace msgin5g::gateway::l3g {

struct Submission;

struct SmsOptions {
  std::string source_addr = "MSGin5G";
  std::uint8_t source_ton = 5, source_npi = 0, dest_ton = 1, dest_npi = 1;
  std::size_t max_parts = 16;
  std::set<std::string> binary_app_ids;
  bool request_receipts = true;
  std::chrono::seconds receipt_timeout{172800};
  std::chrono::seconds transaction_ttl{86400};
  std::chrono::seconds mo_reassembly_timeout{300};
  std::string mo_default_destination;         // AS Service ID; empty: refuse
  std::map<std::string, std::string> short_codes;  // destination_addr -> AS Service ID
  Outbox::Options outbox;
  // submit_sm -> accepting submit_sm_resp, in seconds (the metrics' histogram); may be empty.
  std::function<void(double)> on_submit_latency;
};

struct SmsStats {
  std::uint64_t parts_submitted = 0, parts_accepted = 0, parts_transient = 0, parts_refused = 0;
  std::uint64_t possible_duplicates = 0;  // parts whose outcome was lost with the connection
  std::uint64_t receipts_matched = 0, receipts_unmatched = 0, receipts_malformed = 0;
  std::uint64_t receipts_by_state[9] = {};  // by sms::ReceiptState
  std::uint64_t reports_success = 0, reports_failed = 0, receipt_timeouts = 0;
  std::uint64_t mo_messages = 0, mo_parts = 0, mo_unknown_msisdn = 0, mo_unroutable = 0,
                mo_malformed = 0, mo_expired_sets = 0, mo_store_errors = 0;
};

class SmsRole final : public Role {
 public:
  SmsRole(boost::asio::io_context& core, Store& store, Uplink& uplink, IdentityMap& ids,
          smpp::EsmeSession& session, SmsOptions options);
  ~SmsRole() override;

  // Loads stored receipt groups' deadlines and MO parts, starts the Outbox and the sweeps, and
  // takes the session's deliver_sm. On the core io_context, before the session starts.
  void Start();
  void Stop();

  const char* name() const override { return "l3g"; }
  std::optional<api::http::Response> Admit(const Downlink& d) override;
  std::function<void()> Prepare(Batch& batch, const Downlink& d) override;

  // Runs every waiting SMS job now (the SMSC bind came up).
  void KickOutbox() { outbox_.Kick(); }

  const SmsStats& stats() const { return stats_; }
  std::size_t mo_sets_open() const { return mo_sets_.size(); }
  const Outbox& outbox() const { return outbox_; }
  // Messages whose receipts are awaited, stored ones included (counted from the store at
  // Start, not only the groups loaded in memory).
  std::size_t receipt_groups_open() const { return receipt_groups_; }

 private:
  struct Group;  // a message awaiting receipts (rg/)
  struct MoSet;  // a concatenated MO SMS being put together (mo/)

  void Run(Outbox::Job& job, Outbox::Finish finish);
  void SubmitPart(std::shared_ptr<Submission> sub);
  void OnDeliver(smpp::DeliverSm pdu, std::function<void(std::uint32_t)> respond);
  void OnReceipt(const smpp::DeliverSm& pdu, std::function<void(std::uint32_t)> respond);
  void OnMo(const smpp::DeliverSm& pdu, std::function<void(std::uint32_t)> respond);
  void ForwardMo(const std::string& msisdn, const std::string& dest_addr, std::string text,
                 bool binary, Batch batch, std::function<void(std::uint32_t)> respond);
  std::optional<api::sbi::Address> MoDestination(const std::string& msisdn,
                                                 const std::string& dest_addr);
  // The group waiting for the receipt of SMSC id `message_id` (also when the receipt spells it in
  // decimal and submit_sm_resp did in hex, or the other way round); `matched`: the id as stored.
  Group* FindGroup(const std::string& message_id, std::string* matched);
  // The group stored under rg/ key `gkey`, read into memory (and its ids indexed) if it is not.
  Group* LoadGroup(const std::string& gkey);
  // Adds the group's report (SUCCESS, or FAILED with its first failure / RECEIPT_TIMEOUT) and its
  // removal to `batch`; the report is to be adopted once the batch is durable.
  Uplink::Prepared FinishGroup(const std::string& key, Group& g, bool timed_out, Batch& batch);
  void Sweep();
  // Writes `batch`; once durable, adopts `items` into the uplink, then `then` (on the core).
  void WriteThen(Batch batch, std::vector<Uplink::Prepared> items,
                 std::function<void(Status)> then);

  boost::asio::io_context& core_;
  Store& store_;
  Uplink& uplink_;
  IdentityMap& ids_;
  smpp::EsmeSession& session_;
  SmsOptions options_;
  Outbox outbox_;
  std::map<std::string, std::unique_ptr<Group>> groups_;  // by rg/ key, loaded lazily
  std::size_t receipt_groups_ = 0;  // rg/ deadline entries in the store
  std::map<std::string, std::string> receipt_index_;      // SMSC message_id -> rg/ key (hot)
  std::map<std::string, std::unique_ptr<MoSet>> mo_sets_;
  std::uint16_t next_ref_ = 0;
  boost::asio::steady_timer sweep_timer_;
  SmsStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msgin5g::gateway::l3g
