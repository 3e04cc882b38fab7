// msgin5g-ue: a UE simulator for MSGin5G-1 (CoAP, docs/coap.md), on libcoap.
//
// Usage: kHelp below (msgin5g-ue --help).
#include <arpa/inet.h>
#include <sys/resource.h>

#include <coap3/coap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tools/msgin5g-ue/swarm.h"

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string server = "127.0.0.1:5683";
  std::string ue = "ue-1";
  std::string prefix = "ue-";
  std::string psk_key_hex;
  std::string cert, key, ca;
  int seg_size = 0, skip_seg = 0, lose_seg = 0;
  std::string command;
  std::string to, payload, msg_id, priority, body;
  bool report = false, no_register = false;
  int count = 0, seconds = 10, wakes = 1, sleep_ms = 1000, ues = 1, expect = 0, max_seg = 0;
  int timeout = 30;  // seconds to wait for the answer to one request
  int window = 16;   // load: UEs waking at the same time
  int sockets = 16;  // swarm: UDP sockets the UEs share
};

// Over DTLS the server knows the UE by its identity and follows it to a new address; over plain
// UDP only the address it registered from may act for it.
bool PlainUdp(const Args& a) { return a.psk_key_hex.empty() && a.cert.empty(); }

constexpr const char* kHelp = R"(msgin5g-ue: a UE simulator for MSGin5G-1 (CoAP), on libcoap.

Usage:
   msgin5g-ue [options] register            REG, print the answer, exit
   msgin5g-ue [options] deregister [--no-register]   REG from this socket (plain UDP), then DEREG
   msgin5g-ue [options] send --to TYPE:ID --payload TEXT [--msg-id ID] [--report] [--priority P]
                 [--no-register]   over plain UDP, REG from this socket first (the server takes
                 a UE's MSG only from the address it registered from), then the MSG
                 [--seg-size N [--skip-seg K]]   in segments of N bytes (segId = msgId); with
                 --skip-seg, segment K is held back until the server asks for it (SEGREC), and
                 the command waits for the server's SEGCONFIR
   msgin5g-ue [options] request --body JSON [--no-register]
                 REG (unless told not to), then POST the given body from the same socket; prints
                 the answer (for requests the other commands do not make, e.g. SEGREC by hand)
   msgin5g-ue [options] listen [--count N] [--seconds S] [--no-register]
                 REG, then print every MSG/IMDN the server sends as one JSON line and answer it
                 2.04 MSGRESP; exits after N messages or S seconds of silence. Segments are
                 also reassembled: {"event":"reassembled","segId",...,"payload"} when a set is
                 complete. --lose-seg K drops segment K of each set once (as if the UE lost it)
                 and asks the server for it again with SEGREC, then confirms with SEGCONFIR.
   msgin5g-ue [options] cycle --wakes K --sleep-ms MS [--count N]   K sleep/wake cycles of listen
   msgin5g-ue [options] load --ues N [--expect M] [--seconds S] [--window W]
                 N simulated UEs (ids PREFIX0..PREFIX{N-1}), one socket each, W waking at a time
                 (default 16): each registers once
                 and drains its pending messages; prints delivered msgs/s, the p50/p99 time from
                 its REG to its last expected message, and a summary line as JSON
   msgin5g-ue [options] swarm --ues N [--expect M] [--seconds S] [--window W] [--sockets K]
                 the same as load without libcoap, for many UEs: they share K UDP sockets
                 (default 16), each UE sending from an address of its own in 127.1.0.0/16 and up
                 (loopback servers only, IPv4); a few dozen bytes per UE, so 100,000 UEs fit in
                 one process and the simulator's cost does not grow with their number
 Options: --server HOST:PORT (default 127.0.0.1:5683), --ue ID (default ue-1), --prefix P (load),
          --psk-key HEX (DTLS-PSK with identity = the UE id; then the port is the coaps one),
          --timeout S (wait for one answer, default 30; a wrong PSK key is never answered),
          --max-seg N (maxSegSize declared at REG),
          --cert FILE --key FILE --ca FILE (DTLS with certificates; the port is the coaps one)
 Exit codes: 0 success, 1 a request failed or was refused, 2 usage.
)";

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "msgin5g-ue: %s (msgin5g-ue --help)\n", why);
  std::exit(2);
}

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// One simulated UE: a client session (one socket) that sends to the server and, on the same
// socket, receives the server's POST /msgin5g.
struct Ue {
  std::string id;
  coap_session_t* session = nullptr;
  std::string psk_key;
  int answers = 0;          // responses to our requests
  int failures = 0;         // 4.xx/5.xx or no answer
  int received = 0;         // distinct messages from the server (by msgId)
  int duplicates = 0;       // the same msgId again (a retransmission, or at-least-once redelivery)
  std::set<std::string> seen;
  std::string last_answer;
  Clock::time_point started{}, last_received{};
  std::vector<std::string> lines;  // received bodies, printed in order (single-UE modes)
};

// A segment set being received (listen), by segId.
struct Inbound {
  std::map<std::int64_t, std::string> pieces;
  std::int64_t total = 0;
  bool lost_once = false;
  bool asked = false;
  json::object first;  // the first segment seen, for the reassembled line's members
};

struct World {
  coap_context_t* ctx = nullptr;
  int lose_seg = 0;
  std::map<std::string, Inbound> inbound;
  // Segments we sent (send --seg-size), by number, for the server's SEGREC.
  std::map<std::int64_t, std::string> sent_segments;
  std::string sent_seg_id;  // their segId
  std::string confirmed;  // the result of the server's SEGCONFIR ("SUCCESS"/"FAILURE")
  // Requests to send from the main loop (never from inside a libcoap handler).
  std::vector<std::pair<coap_session_t*, std::string>> outbox;
  std::map<coap_session_t*, Ue*> by_session;
  bool print = true;
  Clock::time_point last_activity = Clock::now();
};
World g;

Ue* Find(coap_session_t* s) {
  auto it = g.by_session.find(s);
  return it == g.by_session.end() ? nullptr : it->second;
}

void AddJson(coap_pdu_t* pdu) {
  uint8_t cf[4];
  coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(cf, sizeof(cf), COAP_MEDIATYPE_APPLICATION_JSON), cf);
}

std::string Str(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t Int(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

void Answer(coap_pdu_t* resp, coap_pdu_code_t code, const std::string& body) {
  coap_pdu_set_code(resp, code);
  AddJson(resp);
  static thread_local std::string keep;  // coap_add_data copies; kept for clarity of lifetime
  keep = body;
  coap_add_data(resp, keep.size(), reinterpret_cast<const uint8_t*>(keep.data()));
}

// The server's SEGREC (send these segments of yours again) or SEGCONFIR (your set is complete,
// or given up). Printed as lines; a SEGREC for a set we do not have is refused 4.04.
void OnSegmentControl(coap_session_t* s, Ue* ue, const json::object& o, const std::string& body,
                      coap_pdu_t* resp) {
  const std::string type = Str(o, "msgType");
  if (ue != nullptr && g.print) ue->lines.push_back(body);
  g.last_activity = Clock::now();
  if (type == "SEGCONFIR") {
    g.confirmed = Str(o, "result");
    return Answer(resp, COAP_RESPONSE_CODE_CHANGED, "{\"msgType\":\"SEGCONFIR\"}");
  }
  int resent = 0;
  const auto* list = o.if_contains("missingSegs");
  if (Str(o, "segId") == g.sent_seg_id && list != nullptr && list->is_array()) {
    for (const auto& n : list->as_array()) {
      auto it = n.is_int64() ? g.sent_segments.find(n.as_int64()) : g.sent_segments.end();
      if (it == g.sent_segments.end()) continue;
      g.outbox.emplace_back(s, it->second);
      ++resent;
    }
  }
  if (resent == 0) return Answer(resp, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(404)), "{\"detail\":\"no such segments\"}");
  Answer(resp, COAP_RESPONSE_CODE_CHANGED, "{\"msgType\":\"SEGREC\",\"resent\":" + std::to_string(resent) + "}");
}

// A segment the server sent (listen): kept by segId until the set is complete, then printed as
// one {"event":"reassembled",...} line. When the last segment is in and some are missing, asks
// for them (SEGREC); a set completed after asking is confirmed (SEGCONFIR SUCCESS).
void Reassemble(coap_session_t* s, Ue* ue, const json::object& m) {
  const auto& p = m.at("segParams").as_object();
  const std::string seg_id = Str(p, "segId");
  Inbound& in = g.inbound[seg_id];
  if (in.pieces.empty()) in.first = m;
  in.total = Int(p, "totalSegCount");
  in.pieces[Int(p, "segNumb")] = Str(m, "payload");
  auto control = [&](json::object o) {
    o["ueSvcId"] = ue->id;
    o["segId"] = seg_id;
    g.outbox.emplace_back(s, json::serialize(o));
  };
  if (in.total > 0 && static_cast<std::int64_t>(in.pieces.size()) == in.total) {
    std::string whole;
    for (const auto& [n, piece] : in.pieces) whole += piece;
    json::object line{{"event", "reassembled"}, {"segId", seg_id}, {"segments", in.total},
                      {"oriAddr", in.first["oriAddr"]}, {"payload", whole}};
    if (g.print) ue->lines.push_back(json::serialize(line));
    if (in.asked) control({{"msgType", "SEGCONFIR"}, {"result", "SUCCESS"}});
    g.inbound.erase(seg_id);
    return;
  }
  if (!in.asked && in.pieces.count(in.total) != 0) {
    json::array missing;
    for (std::int64_t n = 1; n <= in.total; ++n) {
      if (in.pieces.count(n) == 0) missing.push_back(n);
    }
    in.asked = true;
    control({{"msgType", "SEGREC"}, {"missingSegs", std::move(missing)}});
  }
}

void OnMessage(coap_resource_t*, coap_session_t* s, const coap_pdu_t* req, const coap_string_t*,
               coap_pdu_t* resp) {
  std::size_t len = 0, off = 0, total = 0;
  const uint8_t* data = nullptr;
  std::string body;
  if (coap_get_data_large(req, &len, &data, &off, &total)) body.assign(reinterpret_cast<const char*>(data), len);
  Ue* ue = Find(s);
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    const std::string type = Str(o, "msgType");
    if (type == "SEGREC" || type == "SEGCONFIR") return OnSegmentControl(s, ue, o, body, resp);
    const auto* sp = o.if_contains("segParams");
    if (sp != nullptr && sp->is_object() && g.lose_seg > 0 &&
        Int(sp->as_object(), "segNumb") == g.lose_seg) {
      const std::string seg_id = Str(sp->as_object(), "segId");
      Inbound& in = g.inbound[seg_id];
      if (!in.lost_once) {
        // Answered as delivered, then forgotten: the server only hears of it through SEGREC,
        // sent when the last segment is in (at once if the lost one is the last).
        in.lost_once = true;
        const std::int64_t seg_total = Int(sp->as_object(), "totalSegCount");
        if (g.lose_seg == seg_total && ue != nullptr) {
          in.asked = true;
          in.total = seg_total;
          g.outbox.emplace_back(
              s, json::serialize(json::object{{"msgType", "SEGREC"}, {"ueSvcId", ue->id},
                                              {"segId", seg_id}, {"missingSegs", {seg_total}}}));
        }
        return Answer(resp, COAP_RESPONSE_CODE_CHANGED, "{\"msgType\":\"MSGRESP\"}");
      }
    }
  }
  // One message, or an aggregated MSG ({"msgType":"MSG","aggregated":[...]}): each inner message
  // is counted and printed as a line of its own, marked "inAggregate":N.
  std::vector<std::pair<std::string, std::string>> messages;  // (msgId, line)
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    auto id_of = [](const json::object& m) {
      const auto* id = m.if_contains("msgId");
      return id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
    };
    if (const auto* agg = o.if_contains("aggregated"); agg != nullptr && agg->is_array()) {
      for (const auto& item : agg->as_array()) {
        if (!item.is_object()) continue;
        json::object line{{"msgType", "MSG"}, {"inAggregate", agg->as_array().size()}};
        for (const auto& kv : item.as_object()) line[kv.key()] = kv.value();
        messages.emplace_back(id_of(item.as_object()), json::serialize(line));
      }
    } else {
      messages.emplace_back(id_of(o), body);
    }
  }
  std::string ids;
  for (const auto& [msg_id, line] : messages) {
    if (!ids.empty()) ids += ',';
    ids += json::serialize(json::value(msg_id));
    if (ue == nullptr) continue;
    if (!ue->seen.insert(msg_id).second) {
      ue->duplicates++;
    } else {
      ue->received++;
      ue->last_received = Clock::now();
      if (g.print) ue->lines.push_back(line);
      if (messages.size() == 1 && v.as_object().contains("segParams") &&
          v.as_object().at("segParams").is_object()) {
        Reassemble(s, ue, v.as_object());
      }
    }
  }
  g.last_activity = Clock::now();
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
  AddJson(resp);
  static thread_local std::string answer;
  answer = messages.size() == 1 ? "{\"msgType\":\"MSGRESP\",\"msgId\":" + ids + "}"
                                : "{\"msgType\":\"MSGRESP\",\"msgIds\":[" + ids + "]}";
  coap_add_data(resp, answer.size(), reinterpret_cast<const uint8_t*>(answer.data()));
}

coap_response_t OnResponse(coap_session_t* s, const coap_pdu_t*, const coap_pdu_t* received,
                           const coap_mid_t) {
  Ue* ue = Find(s);
  if (ue == nullptr) return COAP_RESPONSE_OK;
  std::size_t len = 0, off = 0, total = 0;
  const uint8_t* data = nullptr;
  std::string body;
  if (coap_get_data_large(received, &len, &data, &off, &total)) body.assign(reinterpret_cast<const char*>(data), len);
  int code = coap_pdu_get_code(received);
  if (code == 0) return COAP_RESPONSE_OK;  // an empty ACK: the separate response follows
  char c[24];
  std::snprintf(c, sizeof(c), "%d.%02d", code >> 5, code & 31);
  ue->last_answer = std::string(c) + " " + body;
  ue->answers++;
  if ((code >> 5) != 2) ue->failures++;
  g.last_activity = Clock::now();
  return COAP_RESPONSE_OK;
}

void OnNack(coap_session_t* s, const coap_pdu_t*, const coap_nack_reason_t, const coap_mid_t) {
  if (Ue* ue = Find(s)) {
    ue->answers++;
    ue->failures++;
    ue->last_answer = "no answer from the server";
  }
}

Ue* Open(const Args& a, const std::string& id) {
  auto colon = a.server.rfind(':');
  if (colon == std::string::npos) Usage("--server must be HOST:PORT");
  coap_address_t dst;
  coap_address_init(&dst);
  dst.addr.sin.sin_family = AF_INET;
  if (inet_pton(AF_INET, a.server.substr(0, colon).c_str(), &dst.addr.sin.sin_addr) != 1) {
    Usage("--server needs an IPv4 literal");
  }
  dst.addr.sin.sin_port = htons(static_cast<uint16_t>(std::atoi(a.server.c_str() + colon + 1)));
  dst.size = sizeof(sockaddr_in);
  auto* ue = new Ue;
  ue->id = id;
  if (!a.psk_key_hex.empty()) {
    ue->psk_key = HexToBytes(a.psk_key_hex);
    coap_dtls_cpsk_t c{};
    c.version = COAP_DTLS_CPSK_SETUP_VERSION;
    c.psk_info.identity = {ue->id.size(), reinterpret_cast<const uint8_t*>(ue->id.data())};
    c.psk_info.key = {ue->psk_key.size(), reinterpret_cast<const uint8_t*>(ue->psk_key.data())};
    ue->session = coap_new_client_session_psk2(g.ctx, nullptr, &dst, COAP_PROTO_DTLS, &c);
  } else if (!a.cert.empty()) {
    // The server's certificate must chain to --ca; ours (--cert) names this UE.
    coap_dtls_pki_t pki{};
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;
    pki.check_common_ca = 1;
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 3;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.ca_file = a.ca.c_str();
    pki.pki_key.key.pem.public_cert = a.cert.c_str();
    pki.pki_key.key.pem.private_key = a.key.c_str();
    ue->session = coap_new_client_session_pki(g.ctx, nullptr, &dst, COAP_PROTO_DTLS, &pki);
  } else {
    ue->session = coap_new_client_session(g.ctx, nullptr, &dst, COAP_PROTO_UDP);
  }
  if (ue->session == nullptr) {
    std::fprintf(stderr, "msgin5g-ue: cannot open a session to %s\n", a.server.c_str());
    std::exit(1);
  }
  g.by_session[ue->session] = ue;
  return ue;
}

void Close(Ue* ue) {
  g.by_session.erase(ue->session);
  coap_session_release(ue->session);
  delete ue;
}

void Post(Ue* ue, const std::string& body) {
  coap_pdu_t* pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, ue->session);
  uint8_t tok[8];
  size_t tl = 0;
  coap_session_new_token(ue->session, &tl, tok);
  coap_add_token(pdu, tl, tok);
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 7, reinterpret_cast<const uint8_t*>("msgin5g"));
  AddJson(pdu);
  auto* copy = new std::string(body);
  coap_add_data_large_request(ue->session, pdu, copy->size(), reinterpret_cast<const uint8_t*>(copy->data()),
                              [](coap_session_t*, void* p) { delete static_cast<std::string*>(p); },
                              copy);
  coap_send(ue->session, pdu);
}

// Sends what the handlers queued (SEGREC, SEGCONFIR, segments asked for again).
void FlushOutbox() {
  auto out = std::move(g.outbox);
  g.outbox.clear();
  for (auto& [session, body] : out) {
    if (Ue* ue = Find(session)) Post(ue, body);
  }
}

void IoOnce(int ms) {
  coap_io_process(g.ctx, ms);
  FlushOutbox();
}

// Runs the loop until `done()` or `timeout` passes.
template <class Pred>
bool RunUntil(Pred done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    IoOnce(20);
  }
  return true;
}

std::string RegBody(const Args& a, const std::string& id) {
  json::object o{{"msgType", "REG"}, {"ueSvcId", id}};
  if (a.max_seg > 0) o["maxSegSize"] = a.max_seg;
  return json::serialize(o);
}

// One request, waiting up to `timeout_s` for its final answer; prints it; true on 2.xx.
bool Request(Ue* ue, const std::string& body, int timeout_s) {
  int before = ue->answers;
  Post(ue, body);
  if (!RunUntil([&] { return ue->answers > before; }, std::chrono::seconds(timeout_s))) {
    std::fprintf(stderr, "msgin5g-ue: no answer within %d s\n", timeout_s);
    return false;
  }
  std::printf("%s\n", ue->last_answer.c_str());
  return ue->last_answer.rfind("2.", 0) == 0;
}

void FlushLines(Ue* ue) {
  for (const auto& l : ue->lines) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
  ue->lines.clear();
}

// A MSG in segments of --seg-size bytes (segId = its msgId), each answered before the next; with
// --skip-seg K, segment K is left out and sent only when the server asks (SEGREC); then waits up
// to --seconds for the server's SEGCONFIR. Prints every answer and what the server sent.
bool SendSegments(const Args& a, Ue* ue, const json::object& base) {
  const std::string seg_id = Str(base, "msgId");
  const std::size_t size = static_cast<std::size_t>(a.seg_size);
  const std::size_t n = std::max<std::size_t>(1, (a.payload.size() + size - 1) / size);
  if (static_cast<std::size_t>(a.skip_seg) > n) Usage("--skip-seg is beyond the last segment");
  g.sent_seg_id = seg_id;
  for (std::size_t i = 1; i <= n; ++i) {
    json::object m = base;
    m["msgId"] = seg_id + "#" + std::to_string(i);
    m["payload"] = a.payload.substr((i - 1) * size, size);
    m["segInd"] = true;
    m["segParams"] = {{"segId", seg_id},
                      {"totalSegCount", n},
                      {"segNumb", i},
                      {"lastSegFlag", i == n}};
    std::string body = json::serialize(m);
    g.sent_segments[static_cast<std::int64_t>(i)] = body;
    if (static_cast<int>(i) == a.skip_seg) continue;
    if (!Request(ue, body, a.timeout)) return false;
  }
  if (a.skip_seg == 0) return true;
  g.last_activity = Clock::now();
  bool confirmed = RunUntil([] { return !g.confirmed.empty(); }, std::chrono::seconds(a.seconds));
  FlushLines(ue);
  if (!confirmed) std::fprintf(stderr, "msgin5g-ue: no SEGCONFIR within %d s\n", a.seconds);
  return g.confirmed == "SUCCESS";
}

// Registers (unless told not to) and prints what arrives until `count` messages or `seconds`
// without any.
bool Listen(const Args& a, Ue* ue) {
  // Counted from before the REG: waiting messages often arrive before the REG's own answer.
  int target = ue->received + a.count;
  if (!a.no_register && !Request(ue, RegBody(a, ue->id), a.timeout)) return false;
  std::fflush(stdout);
  g.last_activity = Clock::now();
  while (a.count == 0 || ue->received < target) {
    IoOnce(20);
    FlushLines(ue);
    if (Clock::now() - g.last_activity > std::chrono::seconds(a.seconds)) break;
  }
  FlushLines(ue);
  // What the handlers queued last (a SEGCONFIR) leaves before the socket closes.
  RunUntil([] { return g.outbox.empty() && coap_can_exit(g.ctx); }, std::chrono::seconds(2));
  return a.count == 0 || ue->received >= target;
}

int Load(const Args& a) {
  g.print = false;
  std::vector<Ue*> ues;
  ues.reserve(static_cast<std::size_t>(a.ues));
  for (int i = 0; i < a.ues; ++i) ues.push_back(Open(a, a.prefix + std::to_string(i)));
  auto t0 = Clock::now();
  // Wake every UE: REG from its own socket, --window at a time (default 16). More at once floods
  // the loopback UDP buffers: at 256, 1-3% of the UEs lost datagrams and then waited out CoAP
  // retransmission timeouts (bench/RESULTS.md).
  std::size_t next = 0, window = static_cast<std::size_t>(std::max(1, a.window));
  auto registered = [&] {
    int n = 0;
    for (auto* u : ues) n += u->answers > 0;
    return n;
  };
  while (next < ues.size() || registered() < static_cast<int>(ues.size())) {
    while (next < ues.size() && next - static_cast<std::size_t>(registered()) < window) {
      ues[next]->started = Clock::now();
      Post(ues[next], RegBody(a, ues[next]->id));
      ++next;
    }
    coap_io_process(g.ctx, 5);
    if (Clock::now() - t0 > std::chrono::seconds(a.seconds + 60)) break;
  }
  auto all_drained = [&] {
    if (a.expect == 0) return false;
    for (auto* u : ues) {
      if (u->received < a.expect) return false;
    }
    return true;
  };
  g.last_activity = Clock::now();
  while (!all_drained() && Clock::now() - g.last_activity < std::chrono::seconds(a.seconds)) {
    coap_io_process(g.ctx, 5);
  }
  auto t1 = Clock::now();
  std::vector<double> lat;
  long total = 0, dups = 0;
  int refused = 0;
  for (auto* u : ues) {
    total += u->received;
    dups += u->duplicates;
    refused += u->failures;
    if (u->received > 0) {
      lat.push_back(std::chrono::duration<double, std::milli>(u->last_received - u->started).count());
    }
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))];
  };
  double secs = std::chrono::duration<double>(t1 - t0).count();
  std::printf("{\"ues\":%d,\"delivered\":%ld,\"seconds\":%.3f,\"msgs_per_s\":%.0f,"
              "\"wake_to_last_ms_p50\":%.1f,\"wake_to_last_ms_p99\":%.1f,\"ues_drained\":%zu,"
              "\"refused\":%d,\"duplicates\":%ld}\n",
              a.ues, total, secs, secs > 0 ? total / secs : 0.0, pct(0.50), pct(0.99), lat.size(),
              refused, dups);
  bool ok = a.expect == 0 || all_drained();
  for (auto* u : ues) Close(u);
  return ok && refused == 0 ? 0 : 1;
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + s).c_str());
      return argv[++i];
    };
    if (s == "--help" || s == "-h") {
      std::fputs(kHelp, stdout);
      std::exit(0);
    }
    if (s == "--version") {
      std::printf("msgin5g-ue %s\n", MSGIN5G_VERSION);
      std::exit(0);
    }
    if (s == "--server") a.server = need();
    else if (s == "--ue") a.ue = need();
    else if (s == "--prefix") a.prefix = need();
    else if (s == "--psk-key") a.psk_key_hex = need();
    else if (s == "--to") a.to = need();
    else if (s == "--payload") a.payload = need();
    else if (s == "--body") a.body = need();
    else if (s == "--msg-id") a.msg_id = need();
    else if (s == "--priority") a.priority = need();
    else if (s == "--report") a.report = true;
    else if (s == "--no-register") a.no_register = true;
    else if (s == "--count") a.count = std::atoi(need().c_str());
    else if (s == "--seconds") a.seconds = std::atoi(need().c_str());
    else if (s == "--wakes") a.wakes = std::atoi(need().c_str());
    else if (s == "--sleep-ms") a.sleep_ms = std::atoi(need().c_str());
    else if (s == "--ues") a.ues = std::atoi(need().c_str());
    else if (s == "--expect") a.expect = std::atoi(need().c_str());
    else if (s == "--max-seg") a.max_seg = std::atoi(need().c_str());
    else if (s == "--timeout") a.timeout = std::atoi(need().c_str());
    else if (s == "--window") a.window = std::atoi(need().c_str());
    else if (s == "--sockets") a.sockets = std::atoi(need().c_str());
    else if (s == "--seg-size") a.seg_size = std::atoi(need().c_str());
    else if (s == "--skip-seg") a.skip_seg = std::atoi(need().c_str());
    else if (s == "--lose-seg") a.lose_seg = std::atoi(need().c_str());
    else if (s == "--cert") a.cert = need();
    else if (s == "--key") a.key = need();
    else if (s == "--ca") a.ca = need();
    else if (!s.empty() && s[0] != '-' && a.command.empty()) a.command = s;
    else Usage(("unknown argument " + s).c_str());
  }
  if (a.command.empty()) Usage("a command is required");
  if (a.seg_size < 0 || a.skip_seg < 0 || a.lose_seg < 0) Usage("segment options must be positive");
  if (a.skip_seg > 0 && a.seg_size == 0) Usage("--skip-seg needs --seg-size");
  if (!a.cert.empty() && (a.key.empty() || a.ca.empty())) Usage("--cert needs --key and --ca");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  if (a.command == "swarm") {
    msgin5g::ue::SwarmOptions o;
    o.server = a.server;
    o.prefix = a.prefix;
    o.ues = a.ues;
    o.expect = a.expect;
    o.seconds = a.seconds;
    o.window = a.window;
    o.sockets = a.sockets;
    o.max_seg = a.max_seg;
    return msgin5g::ue::RunSwarm(o);
  }
  // load: one socket per simulated UE.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  g.lose_seg = a.lose_seg;
  coap_startup();
  coap_set_log_level(LOG_ERR);
  g.ctx = coap_new_context(nullptr);
  coap_context_set_block_mode(g.ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_response_handler(g.ctx, OnResponse);
  coap_register_nack_handler(g.ctx, OnNack);
  coap_resource_t* r = coap_resource_init(coap_make_str_const("msgin5g"), 0);
  coap_register_request_handler(r, COAP_REQUEST_POST, OnMessage);
  coap_add_resource(g.ctx, r);

  int rc = 0;
  if (a.command == "load") {
    rc = Load(a);
  } else {
    Ue* ue = Open(a, a.ue);
    if (a.command == "register") {
      rc = Request(ue, RegBody(a, a.ue), a.timeout) ? 0 : 1;
    } else if (a.command == "deregister") {
      // Over plain UDP the server takes a DEREG only from the address the UE registered from,
      // and this process's socket is new: it registers first (unless --no-register).
      rc = (!PlainUdp(a) || a.no_register || Request(ue, RegBody(a, a.ue), a.timeout)) &&
                   Request(ue, json::serialize(json::object{{"msgType", "DEREG"}, {"ueSvcId", a.ue}}),
                           a.timeout)
               ? 0
               : 1;
    } else if (a.command == "send") {
      auto colon = a.to.find(':');
      if (colon == std::string::npos) Usage("--to TYPE:ID is required");
      json::object o{{"msgType", "MSG"},
                     {"oriAddr", {{"addrType", "UE"}, {"addr", a.ue}}},
                     {"destAddr", {{"addrType", a.to.substr(0, colon)}, {"addr", a.to.substr(colon + 1)}}},
                     {"msgId", a.msg_id.empty() ? "ue-msg-" + std::to_string(std::time(nullptr)) : a.msg_id},
                     {"payload", a.payload},
                     {"stoAndFwInd", true}};
      if (a.report) o["delivStReqInd"] = true;
      if (!a.priority.empty()) o["priority"] = a.priority;
      // As for deregister: MSG over plain UDP only from the registered address.
      if (PlainUdp(a) && !a.no_register && !Request(ue, RegBody(a, a.ue), a.timeout)) {
        rc = 1;
      } else if (a.seg_size > 0) {
        rc = SendSegments(a, ue, o) ? 0 : 1;
      } else {
        rc = Request(ue, json::serialize(o), a.timeout) ? 0 : 1;
      }
    } else if (a.command == "request") {
      if (a.body.empty()) Usage("request needs --body");
      rc = (a.no_register || Request(ue, RegBody(a, a.ue), a.timeout)) &&
                   Request(ue, a.body, a.timeout)
               ? 0
               : 1;
    } else if (a.command == "listen") {
      rc = Listen(a, ue) ? 0 : 1;
    } else if (a.command == "cycle") {
      for (int k = 0; k < a.wakes && rc == 0; ++k) {
        rc = Listen(a, ue) ? 0 : 1;
        Close(ue);  // asleep: the socket is gone, the next wake comes from a new port
        coap_io_process(g.ctx, a.sleep_ms);
        ue = Open(a, a.ue);
      }
    } else {
      Usage("unknown command");
    }
    Close(ue);
  }
  coap_free_context(g.ctx);
  coap_cleanup();
  return rc;
}
