// UE emulator: ONE client session (one UDP socket) that both sends POST /msgin5g
// and receives the server's CON POST /ue/inbox on the same 5-tuple.
// usage: ue [udp|psk] [identity key] [bodybytes]
#include <coap3/coap.h>
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <string>

static int g_got_resp = 0, g_got_req = 0;

static void hnd_inbox(coap_resource_t *, coap_session_t *s, const coap_pdu_t *req,
                      const coap_string_t *, coap_pdu_t *resp) {
  size_t len = 0; const uint8_t *d = nullptr; coap_get_data(req, &len, &d);
  printf("[ue] got %s request on client session %s: %.*s\n",
         coap_pdu_get_type(req) == COAP_MESSAGE_CON ? "CON" : "NON", coap_session_str(s),
         (int)len, (const char *)d);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
  uint8_t buf[4];
  coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(buf, sizeof buf, COAP_MEDIATYPE_APPLICATION_JSON), buf);
  static const char ok[] = "{\"ack\":true}";
  coap_add_data(resp, sizeof ok - 1, (const uint8_t *)ok);
  g_got_req++;
}
static coap_response_t on_resp(coap_session_t *, const coap_pdu_t *, const coap_pdu_t *rcv,
                               const coap_mid_t) {
  size_t len = 0, off = 0, tot = 0; const uint8_t *d = nullptr;
  coap_get_data_large(rcv, &len, &d, &off, &tot);
  int c = coap_pdu_get_code(rcv);
  printf("[ue] response %d.%02d type=%d: %.*s\n", c >> 5, c & 31, (int)coap_pdu_get_type(rcv),
         (int)len, (const char *)d);
  g_got_resp++;
  return COAP_RESPONSE_OK;
}
static void on_nack(coap_session_t *, const coap_pdu_t *, const coap_nack_reason_t r, const coap_mid_t) {
  printf("[ue] nack %d\n", (int)r); g_got_resp++;
}

int main(int argc, char **argv) {
  bool psk = argc > 1 && !strcmp(argv[1], "psk");
  size_t nbytes = argc > 4 ? strtoul(argv[4], nullptr, 10) : 0;
  coap_startup();
  coap_set_log_level(getenv("COAPLOG") ? atoi(getenv("COAPLOG")) : LOG_WARNING);
  coap_context_t *ctx = coap_new_context(nullptr);
  coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_response_handler(ctx, on_resp);
  coap_register_nack_handler(ctx, on_nack);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("ue/inbox"), 0);
  coap_register_request_handler(r, COAP_REQUEST_POST, hnd_inbox);
  coap_add_resource(ctx, r);

  coap_address_t dst; coap_address_init(&dst);
  dst.addr.sin.sin_family = AF_INET; dst.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.addr.sin.sin_port = htons(psk ? 5684 : 5683); dst.size = sizeof(sockaddr_in);
  coap_session_t *s;
  if (psk) {
    coap_dtls_cpsk_t c{}; c.version = COAP_DTLS_CPSK_SETUP_VERSION;
    c.psk_info.identity = {strlen(argv[2]), (const uint8_t *)argv[2]};
    c.psk_info.key = {strlen(argv[3]), (const uint8_t *)argv[3]};
    s = coap_new_client_session_psk2(ctx, nullptr, &dst, COAP_PROTO_DTLS, &c);
  } else {
    s = coap_new_client_session(ctx, nullptr, &dst, COAP_PROTO_UDP);
  }
  if (!s) { fprintf(stderr, "no session\n"); return 1; }

  coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, s);
  uint8_t tok[8]; size_t tl; coap_session_new_token(s, &tl, tok); coap_add_token(pdu, tl, tok);
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 7, (const uint8_t *)"msgin5g");
  uint8_t buf[4];
  coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(buf, sizeof buf, COAP_MEDIATYPE_APPLICATION_JSON), buf);
  static std::string body;
  body = "{\"ueId\":\"ue-001\",\"pad\":\"" + std::string(nbytes, 'x') + "\"}";
  // large body -> Block1 automatically (needs COAP_BLOCK_USE_LIBCOAP); body must outlive transfer
  coap_add_data_large_request(s, pdu, body.size(), (const uint8_t *)body.data(), nullptr, nullptr);
  coap_send(s, pdu);
  int wait = getenv("UE_WAIT") ? atoi(getenv("UE_WAIT")) * 10 : 0;
  for (int i = 0; i < (wait ? wait : 50) && (wait || !(g_got_resp && g_got_req)); i++)
    coap_io_process(ctx, 100);
  printf("[ue] done resp=%d req=%d local=%s\n", g_got_resp, g_got_req, coap_session_str(s));
  coap_session_release(s);
  coap_free_context(ctx);
  coap_cleanup();
}
