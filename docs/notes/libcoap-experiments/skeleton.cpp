// MSGin5G CoAP skeleton for libcoap 4.3.1 (Debian 12). g++ -std=c++20 skeleton.cpp -lcoap-3-openssl -pthread
#include <coap3/coap.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// ---------- cross-thread mailbox: any thread -> coap I/O thread ----------
static std::mutex g_mu;
static std::deque<std::function<void()>> g_inbox;
static int g_wake = -1;  // eventfd
static void post_to_io(std::function<void()> f) {  // callable from ANY thread
  { std::lock_guard lk(g_mu); g_inbox.push_back(std::move(f)); }
  uint64_t one = 1; (void)!write(g_wake, &one, sizeof one);
}

static void add_cf_json(coap_pdu_t *p) {
  uint8_t b[4];
  coap_add_option(p, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(b, sizeof b, COAP_MEDIATYPE_APPLICATION_JSON), b);
}
static void free_string(coap_session_t *, void *p) { delete static_cast<std::string *>(p); }

static void send_to_ue(coap_session_t *s, const std::string &json);

// ---------- server side: POST /msgin5g -> separate response after "fsync" ----------
static void hnd_post(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                     const coap_string_t *q, coap_pdu_t *resp) {
  coap_bin_const_t tok = coap_pdu_get_token(req);
  if (coap_async_t *a = coap_find_async(s, tok)) {  // re-invoked by coap_async_trigger()
    auto *reply = static_cast<std::string *>(coap_async_get_app_data(a));
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
    coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_JSON, -1, 0,
                                 reply->size(), (const uint8_t *)reply->data(), free_string, reply);
    return;  // 4.3.1: libcoap frees the async itself after this call - no coap_free_async()!
  }
  size_t len = 0, off = 0, total = 0; const uint8_t *d = nullptr;
  std::string body;
  if (coap_get_data_large(req, &len, &d, &off, &total)) body.assign((const char *)d, len);  // whole body (SINGLE_BODY)
  const coap_bin_const_t *id = coap_session_get_psk_identity(s);
  std::string ue = (id && id->length) ? std::string((const char *)id->s, id->length) : "anon";
  if (!coap_register_async(s, req, 0)) { coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR); return; }
  // resp code stays 0 -> libcoap sends the empty ACK now
  coap_session_reference(s);  // keep alive while the worker runs
  std::vector<uint8_t> t(tok.s, tok.s + tok.length);
  std::thread([s, t, body, ue] {  // stand-in for the storage thread (append + fsync)
    usleep(3000);
    std::string reply = "{\"status\":\"stored\",\"ue\":\"" + ue + "\",\"bytes\":" + std::to_string(body.size()) + "}";
    post_to_io([s, t, reply] {  // runs on the I/O thread
      coap_bin_const_t tk{t.size(), t.data()};
      if (coap_async_t *a = coap_find_async(s, tk)) {
        coap_async_set_app_data(a, new std::string(reply));
        coap_async_trigger(a);
      }
      send_to_ue(s, "{\"from\":\"server\",\"text\":\"stored-and-forwarded\"}");  // demo push on same session
      coap_session_release(s);
    });
  }).detach();
}

// ---------- client side: server -> UE CON request on the UE's own session ----------
static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent, const coap_pdu_t *rcv, const coap_mid_t mid) {
  int c = coap_pdu_get_code(rcv);
  coap_bin_const_t tk = coap_pdu_get_token(rcv);  // match against the token you sent
  printf("delivered to %s: %d.%02d (mid %d, toklen %zu, sent %p)\n", coap_session_str(s), c >> 5, c & 31, mid, tk.length, (const void *)sent);
  return COAP_RESPONSE_OK;
}
static void on_nack(coap_session_t *s, const coap_pdu_t *sent, const coap_nack_reason_t why, const coap_mid_t mid) {
  // also fires for our own unacknowledged CON separate responses (check coap_pdu_get_code(sent))
  printf("NOT delivered to %s reason %d (0=TOO_MANY_RETRIES) mid %d code %d\n", coap_session_str(s), (int)why, mid,
         sent ? (int)coap_pdu_get_code(sent) : -1);
}
static void send_to_ue(coap_session_t *s, const std::string &json) {  // I/O thread only
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, s);
  uint8_t tok[8]; size_t tl; coap_session_new_token(s, &tl, tok); coap_add_token(p, tl, tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"ue");
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"inbox");
  add_cf_json(p);
  auto *body = new std::string(json);
  coap_add_data_large_request(s, p, body->size(), (const uint8_t *)body->data(), free_string, body);
  coap_send(s, p);  // takes ownership of p; COAP_INVALID_MID on failure
}

// ---------- DTLS PSK ----------
static std::map<std::string, std::string> g_psk = {{"ue-001", "secretkey1"}};
static const coap_bin_const_t *psk_lookup(coap_bin_const_t *id, coap_session_t *, void *) {
  static coap_bin_const_t key;  // libcoap copies the returned key
  auto it = g_psk.find(std::string((const char *)id->s, id->length));
  if (it == g_psk.end()) return nullptr;  // -> handshake fails (unknown_psk_identity)
  key = {it->second.size(), (const uint8_t *)it->second.data()};
  return &key;
}

int main() {
  coap_startup();
  coap_set_log_level(LOG_WARNING);  // 4.3.1: syslog LOG_* ints, not COAP_LOG_WARN
  coap_context_t *ctx = coap_new_context(nullptr);
  coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_context_set_max_idle_sessions(ctx, 20000);
  coap_context_set_max_handshake_sessions(ctx, 200);
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);

  static const char hint[] = "msgin5g";
  coap_dtls_spsk_t psk{};
  psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
  psk.validate_id_call_back = psk_lookup;
  psk.psk_info.hint = {sizeof hint - 1, (const uint8_t *)hint};
  coap_context_set_psk2(ctx, &psk);  // before coap_new_endpoint(DTLS)

  coap_address_t a; coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET; a.addr.sin.sin_addr.s_addr = htonl(INADDR_ANY);
  a.size = sizeof(sockaddr_in);
  coap_address_set_port(&a, 5683); coap_new_endpoint(ctx, &a, COAP_PROTO_UDP);
  coap_address_set_port(&a, 5684); coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS);

  coap_resource_t *r = coap_resource_init(coap_make_str_const("msgin5g"), 0);
  coap_register_request_handler(r, COAP_REQUEST_POST, hnd_post);
  coap_add_resource(ctx, r);

  // I/O loop: own epoll = libcoap's epoll fd + eventfd mailbox
  g_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int cfd = coap_context_get_coap_fd(ctx), ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{}; ev.events = EPOLLIN;
  ev.data.fd = cfd; epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
  ev.data.fd = g_wake; epoll_ctl(ep, EPOLL_CTL_ADD, g_wake, &ev);
  for (;;) {
    coap_tick_t now; coap_ticks(&now);
    unsigned tmo = coap_io_prepare_epoll(ctx, now);  // ms to next libcoap timer, 0 = none
    epoll_event evs[4];
    int n = epoll_wait(ep, evs, 4, tmo ? (int)tmo : -1);
    for (int i = 0; i < n; i++)
      if (evs[i].data.fd == g_wake) {
        uint64_t v; (void)!read(g_wake, &v, sizeof v);
        std::deque<std::function<void()>> work;
        { std::lock_guard lk(g_mu); work.swap(g_inbox); }
        for (auto &f : work) f();
      }
    coap_io_process(ctx, COAP_IO_NO_WAIT);  // socket I/O, retransmits, triggered asyncs
    fflush(stdout);
  }
}
