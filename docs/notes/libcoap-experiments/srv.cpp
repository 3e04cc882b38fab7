// Minimal MSGin5G-like CoAP server on libcoap 4.3.1 (Debian 12).
// UDP :5683, DTLS(PSK+PKI) :5684. POST /msgin5g -> separate (async) response after
// a worker thread "fsyncs"; then server sends CON POST /ue/inbox back to the UE over
// the same (server) session. I/O loop = own epoll on coap fd + eventfd.
#include <coap3/coap.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static coap_context_t *g_ctx;
static int g_efd;  // eventfd: worker -> io thread wakeup

struct Job  { coap_session_t *s; std::vector<uint8_t> tok; std::string body; coap_mid_t mid = 0; coap_pdu_type_t type = COAP_MESSAGE_CON; };
struct Done { coap_session_t *s; std::vector<uint8_t> tok; std::string reply; coap_mid_t mid; coap_pdu_type_t type; };
static std::mutex g_mu; static std::condition_variable g_cv;
static std::deque<Job> g_jobs;   // io -> worker
static std::deque<Done> g_done;  // worker -> io

static coap_session_t *g_held; static coap_tick_t g_held_at; static coap_address_t g_held_addr; static int g_held_if;
static void push_to_ue(coap_session_t *s);
static void check_held() {
  coap_tick_t now; coap_ticks(&now);
  if (!g_held || now < g_held_at + 5 * COAP_TICKS_PER_SECOND) return;
  coap_session_t *byp = coap_session_get_by_peer(g_ctx, &g_held_addr, g_held_if);
  printf("[srv] 5s later: held=%p state=%d get_by_peer=%p\n", (void *)g_held,
         (int)coap_session_get_state(g_held), (void *)byp);
  push_to_ue(g_held);
  coap_session_release(g_held); g_held = nullptr;
}
static void add_json_cf(coap_pdu_t *pdu) {
  uint8_t buf[4];
  coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(buf, sizeof buf, COAP_MEDIATYPE_APPLICATION_JSON), buf);
}

static void release_str(coap_session_t *, void *p) { delete static_cast<std::string *>(p); }

static void hnd_post(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                     const coap_string_t *q, coap_pdu_t *resp) {
  coap_bin_const_t tok = coap_pdu_get_token(req);
  if (coap_async_t *a = coap_find_async(s, tok)) {        // 2nd call: triggered by io thread
    auto *reply = static_cast<std::string *>(coap_async_get_app_data(a));
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
    coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_JSON, -1, 0,
                                 reply->size(), (const uint8_t *)reply->data(), release_str, reply);
    // NOTE 4.3.1: do NOT coap_free_async() here - libcoap frees the async after the triggered call (double free otherwise)
    return;
  }
  size_t len = 0, off = 0, total = 0; const uint8_t *data = nullptr;
  std::string body;
  if (coap_get_data_large(req, &len, &data, &off, &total)) body.assign((const char *)data, len);
  const coap_bin_const_t *id = coap_session_get_psk_identity(s);
  printf("[srv] POST from %s proto=%d psk-id=%.*s len=%zu off=%zu total=%zu type=%d body=%.60s\n",
         coap_session_str(s), (int)coap_session_get_proto(s), id ? (int)id->length : 4,
         id ? (const char *)id->s : "none", len, off, total, (int)coap_pdu_get_type(req), body.c_str());
  if (getenv("MANUAL")) {  // experiment: no async, answer later with ACK+code using the request MID
    std::lock_guard lk(g_mu);
    g_jobs.push_back({coap_session_reference(s), {tok.s, tok.s + tok.length}, std::move(body),
                      coap_pdu_get_mid(req), coap_pdu_get_type(req)});
    g_cv.notify_one();
    return;  // resp code left 0
  }
  if (!coap_register_async(s, req, 0)) {                  // 0 = wait until triggered
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR); return;
  }
  // leave resp code 0 -> libcoap sends empty ACK (CON) now, separate response later
  std::lock_guard lk(g_mu);
  g_jobs.push_back({coap_session_reference(s), {tok.s, tok.s + tok.length}, std::move(body)});
  g_cv.notify_one();
}

static void worker() {
  for (;;) {
    std::unique_lock lk(g_mu);
    g_cv.wait(lk, [] { return !g_jobs.empty(); });
    Job j = std::move(g_jobs.front()); g_jobs.pop_front(); lk.unlock();
    usleep(3000);  // pretend fsync
    std::string reply = "{\"status\":\"stored\",\"bytes\":" + std::to_string(j.body.size()) + "}";
    lk.lock(); g_done.push_back({j.s, std::move(j.tok), std::move(reply), j.mid, j.type}); lk.unlock();
    uint64_t one = 1; (void)!write(g_efd, &one, sizeof one);  // wake io thread
  }
}

// ---- server acting as client towards the UE (same session => same 5-tuple/NAT binding)
static void push_to_ue(coap_session_t *s) {
  if (getenv("PUSH_RETX")) {  // RFC 7252 params are per session (defaults 2s, 1.5, 4)
    coap_session_set_ack_timeout(s, coap_fixed_point_t{1, 0});
    coap_session_set_max_retransmit(s, (unsigned)atoi(getenv("PUSH_RETX")));
  }
  if (getenv("NSTART")) coap_session_set_nstart(s, (unsigned)atoi(getenv("NSTART")));
  coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, s);
  uint8_t tok[8]; size_t tl; coap_session_new_token(s, &tl, tok);
  coap_add_token(pdu, tl, tok);
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"ue");
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"inbox");
  add_json_cf(pdu);
  static const char msg[] = "{\"from\":\"server\",\"text\":\"hello UE\"}";
  coap_add_data(pdu, sizeof msg - 1, (const uint8_t *)msg);
  coap_mid_t mid = coap_send(s, pdu);  // pdu is consumed by coap_send
  printf("[srv] push CON POST /ue/inbox to %s mid=%d\n", coap_session_str(s), mid);
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *rcv, const coap_mid_t mid) {
  size_t len = 0; const uint8_t *d = nullptr; coap_get_data(rcv, &len, &d);
  int code = coap_pdu_get_code(rcv);
  printf("[srv] response from UE %s code=%d.%02d mid=%d sent=%p body=%.*s\n", coap_session_str(s),
         code >> 5, code & 31, mid, (const void *)sent, (int)len, (const char *)d);
  return COAP_RESPONSE_OK;
}
static void on_nack(coap_session_t *s, const coap_pdu_t *sent, const coap_nack_reason_t why,
                    const coap_mid_t mid) {
  int c = sent ? coap_pdu_get_code(sent) : -1;
  printf("[srv] NACK %s sent-code=%d.%02d reason=%d (%s) mid=%d\n", coap_session_str(s), c >> 5, c & 31, (int)why,
         why == COAP_NACK_TOO_MANY_RETRIES ? "TOO_MANY_RETRIES" :
         why == COAP_NACK_ICMP_ISSUE ? "ICMP_ISSUE" : why == COAP_NACK_RST ? "RST" : "other", mid);
}
static int on_event(coap_session_t *s, const coap_event_t ev) {
  printf("[srv] event 0x%04x %s\n", (unsigned)ev, coap_session_str(s));
  return 0;
}

// ---- DTLS PSK: per-identity key lookup
static std::map<std::string, std::string> g_keys = {{"ue-001", "secretkey1"}, {"ue-002", "k2"}};
static const coap_bin_const_t *psk_id_cb(coap_bin_const_t *identity, coap_session_t *s, void *) {
  static thread_local coap_bin_const_t key;  // libcoap copies it
  std::string id((const char *)identity->s, identity->length);
  auto it = g_keys.find(id);
  printf("[srv] PSK identity '%s' from %s -> %s\n", id.c_str(), coap_session_str(s),
         it == g_keys.end() ? "REJECT" : "ok");
  if (it == g_keys.end()) return nullptr;
  key = {it->second.size(), (const uint8_t *)it->second.data()};
  return &key;
}
static int cn_cb(const char *cn, const uint8_t *, size_t, coap_session_t *s, unsigned depth,
                 int validated, void *) {
  printf("[srv] cert CN='%s' depth=%u validated=%d %s\n", cn, depth, validated, coap_session_str(s));
  return 1;
}

int main(int argc, char **argv) {
  bool push = argc > 1 && !strcmp(argv[1], "push");
  coap_startup();
  coap_set_log_level(getenv("COAPLOG") ? atoi(getenv("COAPLOG")) : LOG_WARNING);
  g_ctx = coap_new_context(nullptr);
  coap_context_set_block_mode(g_ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_context_set_max_idle_sessions(g_ctx, 10000);
  coap_context_set_max_handshake_sessions(g_ctx, 100);
  coap_context_set_session_timeout(g_ctx, getenv("SESS_TMO") ? atoi(getenv("SESS_TMO")) : 300);
  coap_register_response_handler(g_ctx, on_response);
  coap_register_nack_handler(g_ctx, on_nack);
  coap_register_event_handler(g_ctx, on_event);

  coap_dtls_pki_t pki{};
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  pki.verify_peer_cert = 1; pki.check_common_ca = 1;
  pki.validate_cn_call_back = cn_cb;
  pki.pki_key.key_type = COAP_PKI_KEY_PEM;
  pki.pki_key.key.pem.ca_file = "ca.pem";
  pki.pki_key.key.pem.public_cert = "server.pem";
  pki.pki_key.key.pem.private_key = "server.key";
  if (getenv("PKI_FIRST") && access("server.pem", R_OK) == 0 && !coap_context_set_pki(g_ctx, &pki))
    fprintf(stderr, "set_pki failed\n");

  static const char hint[] = "msgin5g";
  coap_dtls_spsk_t psk{};  // reserved[] must be 0
  psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
  psk.validate_id_call_back = psk_id_cb;
  psk.psk_info.hint = {sizeof hint - 1, (const uint8_t *)hint};
  if (!coap_context_set_psk2(g_ctx, &psk)) fprintf(stderr, "set_psk2 failed\n");

  coap_dtls_pki_t pki2{};
  pki2.version = COAP_DTLS_PKI_SETUP_VERSION;
  pki2.verify_peer_cert = 1; pki2.check_common_ca = 1;
  pki2.validate_cn_call_back = cn_cb;
  pki2.pki_key.key_type = COAP_PKI_KEY_PEM;
  pki2.pki_key.key.pem.ca_file = "ca.pem";
  pki2.pki_key.key.pem.public_cert = "server.pem";
  pki2.pki_key.key.pem.private_key = "server.key";
  if (!getenv("PKI_FIRST") && !getenv("TWOCTX") && access("server.pem", R_OK) == 0 && !coap_context_set_pki(g_ctx, &pki2))
    fprintf(stderr, "set_pki failed\n");

  coap_address_t a; coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET; a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(struct sockaddr_in);
  a.addr.sin.sin_port = htons(5683);
  if (!coap_new_endpoint(g_ctx, &a, COAP_PROTO_UDP)) return 1;
  a.addr.sin.sin_port = htons(5684);
  if (!coap_new_endpoint(g_ctx, &a, COAP_PROTO_DTLS)) return 1;

  coap_context_t *ctx2 = nullptr;  // OpenSSL flavour: PKI on its own context/port
  if (getenv("TWOCTX")) {
    ctx2 = coap_new_context(nullptr);
    coap_context_set_block_mode(ctx2, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(ctx2, on_response);
    coap_register_nack_handler(ctx2, on_nack);
    coap_dtls_pki_t p3{}; p3.version = COAP_DTLS_PKI_SETUP_VERSION; p3.verify_peer_cert = 1;
    p3.check_common_ca = 1; p3.validate_cn_call_back = cn_cb; p3.pki_key.key_type = COAP_PKI_KEY_PEM;
    p3.pki_key.key.pem.ca_file = "ca.pem"; p3.pki_key.key.pem.public_cert = "server.pem";
    p3.pki_key.key.pem.private_key = "server.key";
    if (!coap_context_set_pki(ctx2, &p3)) fprintf(stderr, "pki2 failed\n");
    a.addr.sin.sin_port = htons(5685);
    if (!coap_new_endpoint(ctx2, &a, COAP_PROTO_DTLS)) return 1;
    coap_resource_t *r2 = coap_resource_init(coap_make_str_const("msgin5g"), 0);
    coap_register_request_handler(r2, COAP_REQUEST_POST, hnd_post);
    coap_add_resource(ctx2, r2);
  }
  coap_resource_t *r = coap_resource_init(coap_make_str_const("msgin5g"), 0);
  coap_register_request_handler(r, COAP_REQUEST_POST, hnd_post);
  coap_add_resource(g_ctx, r);

  std::thread(worker).detach();
  g_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int coap_fd = coap_context_get_coap_fd(g_ctx);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{}; ev.events = EPOLLIN;
  ev.data.fd = coap_fd; epoll_ctl(ep, EPOLL_CTL_ADD, coap_fd, &ev);
  ev.data.fd = g_efd;   epoll_ctl(ep, EPOLL_CTL_ADD, g_efd, &ev);
  int coap_fd2 = ctx2 ? coap_context_get_coap_fd(ctx2) : -1;
  if (ctx2) { ev.data.fd = coap_fd2; epoll_ctl(ep, EPOLL_CTL_ADD, coap_fd2, &ev); }
  printf("[srv] up, coap_fd=%d async=%d dtls=%d\n", coap_fd, coap_async_is_supported(),
         coap_dtls_is_supported());
  fflush(stdout);
  for (;;) {
    coap_tick_t now; coap_ticks(&now);
    unsigned int tmo = coap_io_prepare_epoll(g_ctx, now);  // ms until next retransmit etc, 0=none
    if (ctx2) { unsigned t2 = coap_io_prepare_epoll(ctx2, now); if (t2 && (!tmo || t2 < tmo)) tmo = t2; }
    epoll_event evs[8];
    if (getenv("HOLD") && (!tmo || tmo > 200)) tmo = 200;
    int n = epoll_wait(ep, evs, 8, tmo ? (int)tmo : -1);
    for (int i = 0; i < n; i++)
      if (evs[i].data.fd == g_efd) {
        uint64_t v; (void)!read(g_efd, &v, sizeof v);
        std::deque<Done> d; { std::lock_guard lk(g_mu); d.swap(g_done); }
        for (auto &x : d) {
          coap_bin_const_t t{x.tok.size(), x.tok.data()};
          if (getenv("MANUAL")) {
            bool con = x.type == COAP_MESSAGE_CON;
            coap_pdu_t *p = coap_pdu_init(con ? COAP_MESSAGE_ACK : COAP_MESSAGE_NON,
                                          COAP_RESPONSE_CODE_CREATED,
                                          con ? x.mid : coap_new_message_id(x.s),
                                          coap_session_max_pdu_size(x.s));
            coap_add_token(p, t.length, t.s);
            add_json_cf(p);
            coap_add_data(p, x.reply.size(), (const uint8_t *)x.reply.data());
            printf("[srv] manual late piggyback ACK mid=%d -> %d\n", x.mid, coap_send(x.s, p));
          } else if (coap_async_t *as = coap_find_async(x.s, t)) {
            coap_async_set_app_data(as, new std::string(std::move(x.reply)));
            coap_async_trigger(as);  // re-invokes hnd_post (in this thread)
          }
          if (push) push_to_ue(x.s);
          if (getenv("HOLD") && !g_held) {  // keep session for a later push (NAT binding reuse)
            g_held = coap_session_reference(x.s); coap_ticks(&g_held_at);
            coap_address_copy(&g_held_addr, coap_session_get_addr_remote(x.s));
            g_held_if = coap_session_get_ifindex(x.s);
          }
          coap_session_release(x.s);
        }
      }
    if (getenv("HOLD")) { check_held(); if (g_held && (!tmo || tmo > 500)) {} }
    if (ctx2) coap_io_process(ctx2, COAP_IO_NO_WAIT);
    coap_io_process(g_ctx, COAP_IO_NO_WAIT);  // reads coap fd + timers + fires triggered asyncs
    fflush(stdout);
  }
}
