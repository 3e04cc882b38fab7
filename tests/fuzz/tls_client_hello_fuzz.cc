// libFuzzer target: the ClientHello scan the SBI listener runs on the first bytes of every TLS
// connection when CAPIF serves TLS-PSK keys (api/http/client_hello.h), before any TLS library
// has looked at them. The input is those bytes. Beyond not crashing, the scan's contract is
// checked: identities only from a whole hello, at most the asked-for number, none empty, and a
// prefix of a hello it read whole is never "not a hello".
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/client_hello.h"

namespace http = msgin5g::api::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> ids;
  auto scan = http::ScanClientHelloPskIdentities(bytes, &ids, 3);
  if (ids.size() > 3 || (scan != http::ClientHelloScan::kDone && !ids.empty())) std::abort();
  for (const auto& id : ids) {
    if (id.empty()) std::abort();
  }
  if (scan == http::ClientHelloScan::kDone && size > 0) {
    std::vector<std::string> again;
    if (http::ScanClientHelloPskIdentities(bytes.substr(0, size / 2), &again, 3) ==
        http::ClientHelloScan::kNotAHello) {
      std::abort();
    }
  }
  return 0;
}
