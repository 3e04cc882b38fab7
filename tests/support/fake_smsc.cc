#include "tests/support/fake_smsc.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

extern char** environ;

#ifndef MSGIN5G_FAKE_SMSC_DIR
#error "MSGIN5G_FAKE_SMSC_DIR (the source tree's tests/support/smsc) must be defined"
#endif

namespace msgin5g::testing_support {

namespace {

namespace json = boost::json;

std::optional<std::int64_t> AsInt(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return std::nullopt;
}

std::int64_t Int(const json::object& o, const char* key, std::int64_t fallback = 0) {
  return AsInt(o.if_contains(key)).value_or(fallback);
}

std::string String(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool JsonEqual(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) return a.to_number<double>() == b.to_number<double>();
    return AsInt(&a) == AsInt(&b);
  }
  return a == b;
}

bool IsEvent(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains("event");
  return v != nullptr && v->is_string() && v->as_string() == name;
}

std::optional<int> DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return std::nullopt;
}

std::string DefaultStderrPath() {
  static std::atomic<int> counter{0};
  std::string base = ::testing::TempDir();
  if (base.empty() || base.back() != '/') base += "/";
  return base + "fake_smsc-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".log";
}

std::string Tail(const std::string& s, std::size_t n = 4000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// JsonLinesProcess

JsonLinesProcess::JsonLinesProcess(const std::vector<std::string>& argv,
                                   const std::string& stderr_path)
    : stderr_path_(stderr_path) {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("JsonLinesProcess: ") + std::strerror(errno));
  }
  int err_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[1], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  // The child must not inherit the test's sockets (a listener held by a child keeps its port).
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[1]);
  close(out[1]);
  if (err_fd >= 0) close(err_fd);
  if (rc != 0) {
    close(in[0]);
    close(out[0]);
    pid_ = -1;
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  in_fd_ = in[0];
  out_fd_ = out[0];
  reader_ = std::thread([this] { ReadLoop(); });
}

JsonLinesProcess::~JsonLinesProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    Reap(std::chrono::seconds(10));
  }
  if (in_fd_ >= 0) {
    close(in_fd_);
    in_fd_ = -1;
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
  // The child's stderr is kept only for a failed test to read afterwards: passing runs would
  // otherwise leave one file per process in the temporary directory.
  if (!::testing::Test::HasFailure()) unlink(stderr_path_.c_str());
}

void JsonLinesProcess::ReadLoop() {
  std::string buf;
  char chunk[65536];
  for (;;) {
    ssize_t n = read(out_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    std::vector<SmscEvent> parsed;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = buf.substr(start, nl - start);
      if (line.empty()) continue;
      json::error_code ec;
      json::value v = json::parse(line, ec);
      if (!ec && v.is_object()) {
        parsed.push_back(std::move(v.as_object()));
      } else {
        parsed.push_back(SmscEvent{{"event", "non_json"}, {"line", line}});
      }
      std::lock_guard<std::mutex> lock(mu_);
      transcript_ += line;
      transcript_ += '\n';
    }
    buf.erase(0, start);
    if (!parsed.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& e : parsed) events_.push_back(std::move(e));
      cv_.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

bool JsonLinesProcess::Send(const boost::json::object& cmd) {
  std::string line = json::serialize(cmd) + "\n";
  std::lock_guard<std::mutex> lock(send_mu_);
  if (in_fd_ < 0) return false;
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = send(in_fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

SmscEvent JsonLinesProcess::Command(boost::json::object cmd, std::chrono::milliseconds timeout) {
  std::int64_t id;
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    id = next_id_++;
  }
  cmd["id"] = id;
  std::string name = String(cmd, "cmd");
  std::size_t mark = EventCount();
  if (!Send(cmd)) {
    throw std::runtime_error("command " + name + ": the process is gone\n" + Tail(Transcript()));
  }
  auto answer = WaitForEvent(
      [id](const SmscEvent& e) {
        return (IsEvent(e, "ack") || IsEvent(e, "command_error")) && AsInt(e.if_contains("id")) == id;
      },
      timeout, mark);
  if (!answer) {
    throw std::runtime_error("command " + name + ": no answer in " +
                             std::to_string(timeout.count()) + " ms\n" + Tail(Transcript()));
  }
  if (IsEvent(*answer, "command_error")) {
    throw std::runtime_error("command " + name + " failed: " + String(*answer, "message"));
  }
  return *answer;
}

std::vector<SmscEvent> JsonLinesProcess::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::size_t JsonLinesProcess::EventCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

std::vector<SmscEvent> JsonLinesProcess::Matching(const SmscEventPredicate& pred,
                                                  std::size_t from) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SmscEvent> out;
  for (std::size_t i = from; i < events_.size(); ++i) {
    if (pred(events_[i])) out.push_back(events_[i]);
  }
  return out;
}

std::vector<SmscEvent> JsonLinesProcess::WaitForEvents(const SmscEventPredicate& pred,
                                                       std::size_t count,
                                                       std::chrono::milliseconds timeout,
                                                       std::size_t from) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<SmscEvent> out;
  std::size_t scanned = from;
  for (;;) {
    for (; scanned < events_.size(); ++scanned) {
      if (pred(events_[scanned])) out.push_back(events_[scanned]);
    }
    if (out.size() >= count || eof_) return out;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; scanned < events_.size(); ++scanned) {
        if (pred(events_[scanned])) out.push_back(events_[scanned]);
      }
      return out;
    }
  }
}

std::optional<SmscEvent> JsonLinesProcess::WaitForEvent(const SmscEventPredicate& pred,
                                                        std::chrono::milliseconds timeout,
                                                        std::size_t from) const {
  auto found = WaitForEvents(pred, 1, timeout, from);
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::string JsonLinesProcess::Transcript() const {
  std::lock_guard<std::mutex> lock(mu_);
  return transcript_;
}

bool JsonLinesProcess::running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = DecodeWaitStatus(status).value_or(-1);
    return false;
  }
  return r == 0;
}

std::optional<int> JsonLinesProcess::Reap(std::chrono::milliseconds timeout) {
  WaitFor([this] { return !running(); }, timeout);
  return status_;
}

std::optional<int> JsonLinesProcess::Stop(std::chrono::milliseconds timeout) {
  if (running()) {
    Send(json::object{{"cmd", "quit"}});
    if (!Reap(timeout)) {
      kill(pid_, SIGKILL);
      Reap(std::chrono::seconds(10));
    }
  }
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    if (in_fd_ >= 0) {
      close(in_fd_);
      in_fd_ = -1;
    }
  }
  if (reader_.joinable()) reader_.join();
  return status_;
}

SmscEventPredicate EventIs(std::string name) {
  return [name = std::move(name)](const SmscEvent& e) { return IsEvent(e, name); };
}

SmscEventPredicate EventWith(std::string name, std::string key, boost::json::value value) {
  return [name = std::move(name), key = std::move(key), value = std::move(value)](
             const SmscEvent& e) {
    if (!IsEvent(e, name)) return false;
    const auto* v = e.if_contains(key);
    return v != nullptr && JsonEqual(*v, value);
  };
}

SmscEventPredicate EventWith(std::string name, std::string key, const std::string& value) {
  return EventWith(std::move(name), std::move(key), json::value(json::string_view(value)));
}

SmscEventPredicate EventWith(std::string name, std::string key, const char* value) {
  return EventWith(std::move(name), std::move(key), json::value(json::string_view(value)));
}

SmscEventPredicate EventWith(std::string name, std::string key, int value) {
  return EventWith(std::move(name), std::move(key), json::value(value));
}

// ---------------------------------------------------------------------------------------------
// Hex

std::string ToHex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0f];
  }
  return out;
}

std::string FromHex(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) throw std::invalid_argument("not hex: " + hex);
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// FakeSmsc

std::optional<std::string> SmscSubmit::Tlv(std::uint16_t tag) const {
  for (const auto& t : tlvs) {
    if (t.tag == tag) return t.value;
  }
  return std::nullopt;
}

FakeSmsc::FakeSmsc(FakeSmscOptions options) : options_(std::move(options)) {
  std::string dir = options_.script_dir.empty() ? MSGIN5G_FAKE_SMSC_DIR : options_.script_dir;
  if (!std::filesystem::exists(dir + "/node_modules/smpp/package.json")) {
    throw std::runtime_error("FakeSmsc: the npm package smpp is not installed in " + dir +
                             " (run scripts/install-deps.sh)");
  }
  std::string stderr_path =
      options_.stderr_path.empty() ? DefaultStderrPath() : options_.stderr_path;
  std::vector<std::string> argv = {
      "node", dir + "/fake_smsc.js",
      "--port", std::to_string(options_.port),
      "--system_id", options_.system_id,
      "--password", options_.password,
      "--receipt_delay_ms", std::to_string(options_.receipt_delay_ms),
      "--response_timeout_ms", std::to_string(options_.response_timeout_ms),
      "--retry_interval_ms", std::to_string(options_.retry_interval_ms),
      "--max_attempts", std::to_string(options_.max_attempts)};
  proc_ = std::make_unique<JsonLinesProcess>(argv, stderr_path);
  auto listening = proc_->WaitForEvent(EventIs("listening"), options_.start_timeout);
  if (!listening) {
    std::string err = ReadFile(stderr_path);
    proc_->Stop(std::chrono::seconds(1));
    throw std::runtime_error("FakeSmsc: no 'listening' from fake_smsc.js\nstdout:\n" +
                             Tail(proc_->Transcript()) + "\nstderr:\n" + Tail(err));
  }
  port_ = static_cast<int>(Int(*listening, "port"));
  if (auto h = String(*listening, "host"); !h.empty()) host_ = h;
}

FakeSmsc::~FakeSmsc() { Stop(); }

void FakeSmsc::Stop() {
  if (proc_) proc_->Stop();
}

std::vector<SmscSubmit> FakeSmsc::submits(std::size_t from) const {
  std::vector<SmscSubmit> out;
  for (const auto& e : Matching(EventIs("submit_sm"), from)) {
    SmscSubmit s;
    s.session = static_cast<int>(Int(e, "session"));
    s.sequence_number = static_cast<std::uint32_t>(Int(e, "sequence_number"));
    s.status = static_cast<std::uint32_t>(Int(e, "status"));
    s.message_id = String(e, "message_id");
    s.malformed = e.contains("malformed");
    s.service_type = String(e, "service_type");
    s.source_addr = String(e, "source_addr");
    s.source_addr_ton = static_cast<int>(Int(e, "source_addr_ton"));
    s.source_addr_npi = static_cast<int>(Int(e, "source_addr_npi"));
    s.destination_addr = String(e, "destination_addr");
    s.dest_addr_ton = static_cast<int>(Int(e, "dest_addr_ton"));
    s.dest_addr_npi = static_cast<int>(Int(e, "dest_addr_npi"));
    s.esm_class = static_cast<int>(Int(e, "esm_class"));
    s.protocol_id = static_cast<int>(Int(e, "protocol_id"));
    s.priority_flag = static_cast<int>(Int(e, "priority_flag"));
    s.schedule_delivery_time = String(e, "schedule_delivery_time");
    s.validity_period = String(e, "validity_period");
    s.registered_delivery = static_cast<int>(Int(e, "registered_delivery"));
    s.replace_if_present_flag = static_cast<int>(Int(e, "replace_if_present_flag"));
    s.data_coding = static_cast<int>(Int(e, "data_coding"));
    s.sm_default_msg_id = static_cast<int>(Int(e, "sm_default_msg_id"));
    s.short_message = FromHex(String(e, "short_message_hex"));
    if (const auto* t = e.if_contains("tlvs"); t != nullptr && t->is_array()) {
      for (const auto& item : t->as_array()) {
        if (!item.is_object()) continue;
        const auto& o = item.as_object();
        s.tlvs.push_back({static_cast<std::uint16_t>(Int(o, "tag")), String(o, "name"),
                          FromHex(String(o, "hex"))});
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<SmscSubmit> FakeSmsc::WaitForSubmits(std::size_t count,
                                                 std::chrono::milliseconds timeout,
                                                 std::size_t from) const {
  WaitForEvents(EventIs("submit_sm"), count, timeout, from);
  return submits(from);
}

namespace {
std::vector<SmscDeliverAnswer> Answers(const FakeSmsc& smsc, const std::string& kind,
                                       std::size_t from) {
  std::vector<SmscDeliverAnswer> out;
  auto pred = [&kind](const SmscEvent& e) {
    return (IsEvent(e, "deliver_sm_resp") || IsEvent(e, "deliver_sm_timeout") ||
            IsEvent(e, "deliver_sm_unanswered")) &&
           String(e, "kind") == kind;
  };
  for (const auto& e : smsc.Matching(pred, from)) {
    SmscDeliverAnswer a;
    a.kind = kind;
    a.delivery_id = static_cast<int>(Int(e, "delivery_id"));
    a.attempt = static_cast<int>(Int(e, "attempt"));
    a.session = static_cast<int>(Int(e, "session"));
    a.outcome = IsEvent(e, "deliver_sm_resp")      ? SmscDeliverAnswer::Outcome::kResponse
                : IsEvent(e, "deliver_sm_timeout") ? SmscDeliverAnswer::Outcome::kTimeout
                                                   : SmscDeliverAnswer::Outcome::kSessionClosed;
    a.status = static_cast<std::uint32_t>(Int(e, "status"));
    a.resp_command = String(e, "resp_command");
    a.message_id = String(e, "message_id");
    a.t_ms = Int(e, "t_ms");
    out.push_back(std::move(a));
  }
  return out;
}
}  // namespace

std::vector<SmscDeliverAnswer> FakeSmsc::receipt_answers(std::size_t from) const {
  return Answers(*this, "receipt", from);
}

std::vector<SmscDeliverAnswer> FakeSmsc::mo_answers(std::size_t from) const {
  return Answers(*this, "mo", from);
}

bool FakeSmsc::WaitForBinds(std::size_t count, std::chrono::milliseconds timeout,
                            std::size_t from) const {
  return WaitForEvents(EventWith("bind", "status", 0), count, timeout, from).size() >= count;
}

std::optional<SmscEvent> FakeSmsc::WaitForDeliveryDone(int delivery_id,
                                                       std::chrono::milliseconds timeout) const {
  return WaitForEvent(EventWith("delivery_done", "delivery_id", delivery_id), timeout);
}

void FakeSmsc::SetReceiptRule(const std::string& dest, const std::string& stat, int err) {
  Command({{"cmd", "receipt_rule"}, {"dest", dest}, {"stat", stat}, {"err", err}});
}

void FakeSmsc::ClearReceiptRules() { Command({{"cmd", "clear_receipt_rules"}}); }

void FakeSmsc::SetReceiptDelay(int ms) { Command({{"cmd", "set"}, {"receipt_delay_ms", ms}}); }

void FakeSmsc::SetDeliverPolicy(int response_timeout_ms, int retry_interval_ms,
                                int max_attempts) {
  Command({{"cmd", "set"},
           {"response_timeout_ms", response_timeout_ms},
           {"retry_interval_ms", retry_interval_ms},
           {"max_attempts", max_attempts}});
}

void FakeSmsc::HoldReceipts(bool hold) { Command({{"cmd", "hold_receipts"}, {"hold", hold}}); }

int FakeSmsc::ReleaseReceipts() {
  return static_cast<int>(Int(Command({{"cmd", "release_receipts"}}), "released"));
}

void FakeSmsc::FailNextSubmits(int n, std::uint32_t status) {
  Command({{"cmd", "fail_submits"}, {"count", n}, {"status", status}});
}

void FakeSmsc::SetSubmitDelay(int ms) { Command({{"cmd", "set"}, {"submit_delay_ms", ms}}); }

void FakeSmsc::HoldSubmits(bool hold) { Command({{"cmd", "hold_submits"}, {"hold", hold}}); }

int FakeSmsc::ReleaseSubmits() {
  return static_cast<int>(Int(Command({{"cmd", "release_submits"}}), "released"));
}

void FakeSmsc::RefuseBinds(bool refuse, std::uint32_t status) {
  Command({{"cmd", "refuse_binds"}, {"refuse", refuse}, {"status", status}});
}

int FakeSmsc::SendMo(const SmscMo& mo) {
  json::object cmd{{"cmd", "mo"},
                   {"source", mo.source},
                   {"dest", mo.dest},
                   {"source_ton", mo.source_ton},
                   {"source_npi", mo.source_npi},
                   {"dest_ton", mo.dest_ton},
                   {"dest_npi", mo.dest_npi},
                   {"data_coding", mo.data_coding},
                   {"esm_class", mo.esm_class},
                   {"protocol_id", mo.protocol_id}};
  if (mo.text) {
    cmd["text"] = *mo.text;
  } else {
    cmd["short_message_hex"] = ToHex(mo.short_message);
  }
  if (!mo.tlvs.empty()) cmd["tlvs"] = mo.tlvs;
  if (mo.retry_interval_ms) cmd["retry_interval_ms"] = *mo.retry_interval_ms;
  if (mo.max_attempts) cmd["max_attempts"] = *mo.max_attempts;
  if (mo.response_timeout_ms) cmd["response_timeout_ms"] = *mo.response_timeout_ms;
  return static_cast<int>(Int(Command(std::move(cmd)), "delivery_id"));
}

void FakeSmsc::Down() { Command({{"cmd", "down"}}); }

void FakeSmsc::Up() { Command({{"cmd", "up"}}); }

void FakeSmsc::SendGarbage(const std::string& bytes) {
  Command({{"cmd", "garbage"}, {"hex", ToHex(bytes)}});
}

void FakeSmsc::SendMalformed(const std::string& kind) {
  Command({{"cmd", "garbage"}, {"kind", kind}});
}

void FakeSmsc::SendEnquireLink() { Command({{"cmd", "enquire_link"}}); }

void FakeSmsc::SendUnbind() { Command({{"cmd", "unbind"}}); }

void FakeSmsc::DropSessions() { Command({{"cmd", "drop"}}); }

boost::json::object FakeSmsc::Counters() {
  auto ack = Command({{"cmd", "counters"}});
  const auto* c = ack.if_contains("counters");
  return c != nullptr && c->is_object() ? c->as_object() : json::object{};
}

}  // namespace msgin5g::testing_support
