#include "api/http/client_hello.h"

#include <cstdint>

namespace msgin5g::api::http {

namespace {

constexpr std::uint8_t kHandshakeRecord = 22;
constexpr std::uint8_t kClientHello = 1;
constexpr std::uint16_t kPreSharedKey = 41;
constexpr std::size_t kMaxRecord = (1u << 14) + 256;  // RFC 8446 §5.1, with slack for old stacks
constexpr std::size_t kMaxHello = 1u << 16;

// A cursor over untrusted bytes: every read checks what is left and fails for good once short.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  std::size_t left() const { return s_.size(); }
  unsigned Byte() { return static_cast<unsigned>(static_cast<unsigned char>(Take(1)[0])); }
  unsigned U16() {
    auto b = Take(2);
    return (static_cast<unsigned>(static_cast<unsigned char>(b[0])) << 8) |
           static_cast<unsigned char>(b[1]);
  }
  unsigned U24() {
    auto b = Take(3);
    return (static_cast<unsigned>(static_cast<unsigned char>(b[0])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(b[1])) << 8) |
           static_cast<unsigned char>(b[2]);
  }
  std::string_view Take(std::size_t n) {
    static constexpr char kZeros[4] = {};
    if (!ok_ || n > s_.size()) {
      ok_ = false;
      return std::string_view(kZeros, n <= sizeof(kZeros) ? n : 0);
    }
    auto out = s_.substr(0, n);
    s_.remove_prefix(n);
    return out;
  }
  // A vector with a 1- or 2-byte length prefix.
  std::string_view Vec8() { return Take(Byte()); }
  std::string_view Vec16() { return Take(U16()); }

 private:
  std::string_view s_;
  bool ok_ = true;
};

// The identities of a pre_shared_key extension's OfferedPsks.
bool ReadOfferedPsks(std::string_view data, std::vector<std::string>* identities,
                     std::size_t max_identities) {
  Reader r(data);
  Reader ids(r.Vec16());
  if (!r.ok() || ids.left() < 7) return false;
  while (ids.left() > 0) {
    auto identity = ids.Vec16();
    ids.Take(4);  // obfuscated_ticket_age
    if (!ids.ok() || identity.empty()) return false;
    if (identities->size() < max_identities) identities->emplace_back(identity);
  }
  return true;
}

ClientHelloScan ReadHello(std::string_view body, std::vector<std::string>* identities,
                          std::size_t max_identities) {
  Reader r(body);
  r.Take(2 + 32);  // legacy_version, random
  auto session_id = r.Vec8();
  auto suites = r.Vec16();
  auto compression = r.Vec8();
  if (!r.ok() || session_id.size() > 32 || suites.size() < 2 || suites.size() % 2 != 0 ||
      compression.empty()) {
    return ClientHelloScan::kNotAHello;
  }
  if (r.left() == 0) return ClientHelloScan::kDone;  // no extensions (TLS 1.2 and older)
  Reader exts(r.Vec16());
  if (!r.ok() || r.left() != 0) return ClientHelloScan::kNotAHello;
  while (exts.left() > 0) {
    unsigned type = exts.U16();
    auto data = exts.Vec16();
    if (!exts.ok()) return ClientHelloScan::kNotAHello;
    if (type == kPreSharedKey && !ReadOfferedPsks(data, identities, max_identities)) {
      identities->clear();
      return ClientHelloScan::kNotAHello;
    }
  }
  return ClientHelloScan::kDone;
}

}  // namespace

namespace {

ClientHelloScan Scan(std::string_view bytes, std::vector<std::string>* identities,
                     std::size_t max_identities) {
  // The handshake message may span records (RFC 8446 §5.1): join their fragments.
  std::string handshake;
  Reader records(bytes);
  while (true) {
    if (handshake.size() >= 4) {
      Reader h(handshake);
      unsigned type = h.Byte();
      std::size_t length = h.U24();
      if (type != kClientHello || length > kMaxHello) return ClientHelloScan::kNotAHello;
      if (h.left() >= length) return ReadHello(h.Take(length), identities, max_identities);
    }
    if (records.left() < 5) return ClientHelloScan::kNeedMore;
    unsigned type = records.Byte();
    unsigned major = records.Byte();
    records.Byte();  // minor version: any
    std::size_t length = records.U16();
    if (type != kHandshakeRecord || major != 3 || length == 0 || length > kMaxRecord) {
      return ClientHelloScan::kNotAHello;
    }
    if (records.left() < length) {
      // A partial record still tells whether this is a ClientHello at all.
      if (handshake.empty() && records.left() > 0 && records.Byte() != kClientHello) {
        return ClientHelloScan::kNotAHello;
      }
      return ClientHelloScan::kNeedMore;
    }
    handshake.append(records.Take(length));
  }
}

}  // namespace

ClientHelloScan ScanClientHelloPskIdentities(std::string_view bytes,
                                             std::vector<std::string>* identities,
                                             std::size_t max_identities) {
  identities->clear();
  ClientHelloScan scan = Scan(bytes, identities, max_identities);
  if (scan != ClientHelloScan::kDone) identities->clear();  // what a bad hello named is nothing
  return scan;
}

}  // namespace msgin5g::api::http
