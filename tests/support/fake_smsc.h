// A real SMPP 3.4 SMSC for the gateway's end-to-end tests: tests/support/smsc/fake_smsc.js (the
// npm package `smpp`, server side) run by Node, driven by JSON lines. FakeSmsc starts it, keeps
// every event it reports and sends it commands. The protocol is in tests/support/smsc/README.md.
// The SMSC is independent of the ESME: it keeps running (and keeps its receipts and MO messages
// due) while the gateway under test is killed and restarted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

namespace msgin5g::testing_support {

using SmscEvent = boost::json::object;
using SmscEventPredicate = std::function<bool(const SmscEvent&)>;

// A child process that reads JSON commands on stdin and writes one JSON event per line on
// stdout (fake_smsc.js, smpp_client.js). A thread keeps every event; access is thread-safe.
// Each command gets an "id" and is answered by {"event":"ack"|"command_error","id":..}.
class JsonLinesProcess {
 public:
  // argv[0] is searched in PATH; the child's stderr goes to `stderr_path`.
  JsonLinesProcess(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~JsonLinesProcess();  // SIGKILL if still running
  JsonLinesProcess(const JsonLinesProcess&) = delete;
  JsonLinesProcess& operator=(const JsonLinesProcess&) = delete;

  // Sends `cmd` with a fresh "id" and waits for its ack, which it returns. Throws
  // std::runtime_error on a command_error, a timeout or a dead child.
  SmscEvent Command(boost::json::object cmd,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends without waiting; false when the child is gone.
  bool Send(const boost::json::object& cmd);

  std::vector<SmscEvent> Events() const;
  std::size_t EventCount() const;  // a mark for the `from` arguments below
  // Events at index >= from that match.
  std::vector<SmscEvent> Matching(const SmscEventPredicate& pred, std::size_t from = 0) const;
  // Waits until `count` events at index >= from match, or `timeout` passes; returns those
  // matching by then (fewer than `count` on a timeout).
  std::vector<SmscEvent> WaitForEvents(const SmscEventPredicate& pred, std::size_t count,
                                       std::chrono::milliseconds timeout,
                                       std::size_t from = 0) const;
  std::optional<SmscEvent> WaitForEvent(const SmscEventPredicate& pred,
                                        std::chrono::milliseconds timeout,
                                        std::size_t from = 0) const;
  // Every line read so far, for failure messages.
  std::string Transcript() const;
  const std::string& stderr_path() const { return stderr_path_; }

  bool running();
  // Sends {"cmd":"quit"}, waits up to `timeout` for the exit, then SIGKILL. Returns the exit code.
  std::optional<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  void ReadLoop();
  std::optional<int> Reap(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  std::optional<int> status_;
  int in_fd_ = -1;   // our end of the child's stdin (a socket: MSG_NOSIGNAL, no SIGPIPE)
  int out_fd_ = -1;  // our end of the child's stdout
  std::string stderr_path_;
  std::thread reader_;
  std::mutex send_mu_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SmscEvent> events_;
  std::string transcript_;
  bool eof_ = false;
  std::int64_t next_id_ = 1;
};

// Predicates over events.
SmscEventPredicate EventIs(std::string name);
// {"event": name, key: value} — value compared as JSON (numbers of any integer type equal).
SmscEventPredicate EventWith(std::string name, std::string key, boost::json::value value);
SmscEventPredicate EventWith(std::string name, std::string key, const std::string& value);
SmscEventPredicate EventWith(std::string name, std::string key, const char* value);
SmscEventPredicate EventWith(std::string name, std::string key, int value);  // (a literal 0 is no
                                                                              // null const char*)

struct FakeSmscOptions {
  std::string system_id = "msgin5g";
  std::string password = "secret";
  int port = 0;  // 0: any free port (see port())
  int receipt_delay_ms = 100;     // after the submit_sm_resp
  int response_timeout_ms = 3000; // a deliver_sm (receipt or MO) unanswered this long is retried
  int retry_interval_ms = 1000;   // wait before the next attempt of a refused/unanswered deliver_sm
  int max_attempts = 5;           // attempts per deliver_sm before the SMSC gives up
  std::string script_dir;         // default: the source tree's tests/support/smsc
  std::string stderr_path;        // default: a file in the test temp dir
  std::chrono::milliseconds start_timeout{10000};
};

struct SmscTlv {
  std::uint16_t tag = 0;
  std::string name;   // the package's name for it, "" when unknown
  std::string value;  // raw octets
};

// A submit_sm as the SMSC received it (every submit, also those it refused).
struct SmscSubmit {
  int session = 0;
  std::uint32_t sequence_number = 0;
  std::uint32_t status = 0;  // the command_status answered (0 = accepted)
  std::string message_id;    // the id answered; "" when refused
  bool malformed = false;    // the body could not be decoded (the fields below are unset)
  std::string service_type;
  std::string source_addr;
  int source_addr_ton = 0, source_addr_npi = 0;
  std::string destination_addr;
  int dest_addr_ton = 0, dest_addr_npi = 0;
  int esm_class = 0, protocol_id = 0, priority_flag = 0;
  std::string schedule_delivery_time, validity_period;
  int registered_delivery = 0, replace_if_present_flag = 0, data_coding = 0, sm_default_msg_id = 0;
  std::string short_message;  // raw octets
  std::vector<SmscTlv> tlvs;

  // The raw value of the TLV `tag`, if present.
  std::optional<std::string> Tlv(std::uint16_t tag) const;
};

// How the ESME answered one deliver_sm attempt (a receipt or an MO message).
struct SmscDeliverAnswer {
  enum class Outcome { kResponse, kTimeout, kSessionClosed };
  std::string kind;  // "receipt" | "mo"
  int delivery_id = 0;
  int attempt = 0;   // 1-based
  int session = 0;
  Outcome outcome = Outcome::kResponse;
  std::uint32_t status = 0;  // command_status of the answer (kResponse)
  std::string resp_command;  // "deliver_sm_resp" or "generic_nack" (kResponse)
  std::string message_id;    // the receipted message id (receipts)
  std::int64_t t_ms = 0;     // ms since the SMSC started
};

// An MO message for SendMo. `text` is encoded per data_coding (0/1/3: Latin-1 octets, 8: UCS-2);
// without it, `short_message` is sent as is.
struct SmscMo {
  std::string source;
  std::string dest;
  int source_ton = 1, source_npi = 1, dest_ton = 0, dest_npi = 1;
  std::optional<std::string> text;
  std::string short_message;  // raw octets, used when text is unset
  int data_coding = 0;
  int esm_class = 0;
  int protocol_id = 0;
  // Optional TLVs: {"source_port": 1234, "message_payload": {"hex": ".."}, "0x1501": {"hex": ".."}}
  boost::json::object tlvs;
  // Per-message overrides of the SMSC's retry policy.
  std::optional<int> retry_interval_ms, max_attempts, response_timeout_ms;
};

class FakeSmsc {
 public:
  explicit FakeSmsc(FakeSmscOptions options = {});  // throws std::runtime_error if it cannot start
  ~FakeSmsc();
  FakeSmsc(const FakeSmsc&) = delete;
  FakeSmsc& operator=(const FakeSmsc&) = delete;

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const FakeSmscOptions& options() const { return options_; }
  JsonLinesProcess& process() { return *proc_; }

  // Events (see README.md), thread-safe; `from` is a mark from EventCount().
  std::vector<SmscEvent> Events() const { return proc_->Events(); }
  std::size_t EventCount() const { return proc_->EventCount(); }
  std::vector<SmscEvent> Matching(const SmscEventPredicate& pred, std::size_t from = 0) const {
    return proc_->Matching(pred, from);
  }
  std::vector<SmscEvent> WaitForEvents(const SmscEventPredicate& pred, std::size_t count,
                                       std::chrono::milliseconds timeout,
                                       std::size_t from = 0) const {
    return proc_->WaitForEvents(pred, count, timeout, from);
  }
  std::optional<SmscEvent> WaitForEvent(const SmscEventPredicate& pred,
                                        std::chrono::milliseconds timeout,
                                        std::size_t from = 0) const {
    return proc_->WaitForEvent(pred, timeout, from);
  }
  std::string Transcript() const { return proc_->Transcript(); }

  // Typed views of the events.
  std::vector<SmscSubmit> submits(std::size_t from = 0) const;
  // Waits until `count` submit_sm (index >= from) arrived; returns those there by then.
  std::vector<SmscSubmit> WaitForSubmits(std::size_t count, std::chrono::milliseconds timeout,
                                         std::size_t from = 0) const;
  std::vector<SmscDeliverAnswer> receipt_answers(std::size_t from = 0) const;
  std::vector<SmscDeliverAnswer> mo_answers(std::size_t from = 0) const;
  // Waits for `count` successful binds (index >= from); e.g. the gateway's reconnect.
  bool WaitForBinds(std::size_t count, std::chrono::milliseconds timeout, std::size_t from = 0) const;
  // Waits until delivery `delivery_id` is done; returns its "delivery_done" event
  // ("result": "delivered" | "gave_up").
  std::optional<SmscEvent> WaitForDeliveryDone(int delivery_id,
                                               std::chrono::milliseconds timeout) const;

  // Commands; each returns once the SMSC acked it (throws std::runtime_error otherwise).
  SmscEvent Command(boost::json::object cmd) { return proc_->Command(std::move(cmd)); }
  // Receipts for `dest` ("*": every destination without a rule of its own) get this stat
  // (DELIVRD, UNDELIV, EXPIRED, DELETED, REJECTD, ACCEPTD, UNKNOWN, ENROUTE; NONE: no receipt).
  void SetReceiptRule(const std::string& dest, const std::string& stat, int err = 0);
  void ClearReceiptRules();
  void SetReceiptDelay(int ms);
  // The retry policy of receipts and MO messages from now on.
  void SetDeliverPolicy(int response_timeout_ms, int retry_interval_ms, int max_attempts);
  // While held, receipts that fall due wait; ReleaseReceipts sends them (and stops holding).
  void HoldReceipts(bool hold = true);
  int ReleaseReceipts();  // returns how many were released
  // The next `n` submit_sm are refused with `status` (default ESME_RTHROTTLED).
  void FailNextSubmits(int n, std::uint32_t status = 0x58);
  void SetSubmitDelay(int ms);
  // While held, submit_sm_resp are not sent; ReleaseSubmits sends them (and stops holding).
  void HoldSubmits(bool hold = true);
  int ReleaseSubmits();
  // Every bind is refused with `status` (default ESME_RBINDFAIL) until RefuseBinds(false...).
  void RefuseBinds(bool refuse = true, std::uint32_t status = 0x0D);
  int SendMo(const SmscMo& mo);  // returns the delivery id
  void Down();  // stops listening and drops every session
  void Up();    // listens again on the same port
  void SendGarbage(const std::string& bytes);   // raw octets to every bound session
  // A canned malformed PDU: huge_length, short_length, unknown_command, truncated_deliver_sm,
  // bad_sm_length.
  void SendMalformed(const std::string& kind);
  void SendEnquireLink();
  void SendUnbind();
  void DropSessions();  // closes every bound session's socket without unbind
  boost::json::object Counters();

  // Quits the SMSC (closing every session); idempotent. The destructor calls it.
  void Stop();

 private:
  FakeSmscOptions options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::unique_ptr<JsonLinesProcess> proc_;
};

// Hex helpers for the protocol's *_hex fields.
std::string ToHex(const std::string& bytes);
std::string FromHex(const std::string& hex);

}  // namespace msgin5g::testing_support
