#include <coap3/coap.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <thread>
int main() {
  coap_startup(); coap_set_log_level(LOG_WARNING);
  coap_context_t *ctx = coap_new_context(nullptr);
  coap_address_t a; coap_address_init(&a); a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_port = htons(5699); a.size = sizeof(sockaddr_in);
  coap_new_endpoint(ctx, &a, COAP_PROTO_UDP);
  int efd = eventfd(0, EFD_NONBLOCK);
  std::thread t([&] { usleep(300000); uint64_t one = 1; (void)!write(efd, &one, 8); });
  auto t0 = std::chrono::steady_clock::now();
  fd_set r; FD_ZERO(&r); FD_SET(efd, &r);
  int ms = coap_io_process_with_fds(ctx, 5000, efd + 1, &r, nullptr, nullptr);
  auto el = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  printf("with_fds returned %d after %lld ms, efd readable=%d\n", ms, (long long)el, FD_ISSET(efd, &r) ? 1 : 0);
  t.join(); coap_free_context(ctx); coap_cleanup();
}
