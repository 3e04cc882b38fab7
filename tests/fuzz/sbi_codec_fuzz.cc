// libFuzzer target: the TS 29.538 bodies our APIs decode. The first byte picks the type, the
// rest is the body. Whatever decodes must encode, decode again and encode to the same bytes (the
// codec loses or invents nothing), and message and report bodies must pass through the request
// checks and the broker mapping (which answer a ProblemDetails or a broker request, never crash).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "api/sbi/broker_mapping.h"
#include "api/sbi/codec.h"

namespace {

namespace sbi = msgin5g::api::sbi;

template <class T, class DecodeFn>
const T* RoundTrip(const sbi::Decoded<T>& d, DecodeFn decode) {
  if (!d.value) return nullptr;
  const std::string once = sbi::Encode(*d.value);
  auto again = decode(once);
  if (!again.value) std::abort();  // we wrote something we cannot read
  if (sbi::Encode(*again.value) != once) std::abort();
  return &*d.value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  using msgin5g::broker::Ingress;
  switch (data[0] % 10) {
    case 0:
      RoundTrip(sbi::DecodeASRegistration(body), sbi::DecodeASRegistration);
      break;
    case 1:
      RoundTrip(sbi::DecodeASRegistrationAck(body), sbi::DecodeASRegistrationAck);
      break;
    case 2: {
      auto d = sbi::DecodeASMessageDelivery(body);
      if (RoundTrip(d, sbi::DecodeASMessageDelivery)) {
        (void)msgin5g::api::AsMessageToBroker(*d.value, Ingress::kAs);
      }
      break;
    }
    case 3: {
      auto d = sbi::DecodeUEMessageDelivery(body);
      if (RoundTrip(d, sbi::DecodeUEMessageDelivery)) {
        (void)msgin5g::api::UeMessageToBroker(*d.value, Ingress::kGateway);
      }
      break;
    }
    case 4:
      RoundTrip(sbi::DecodeMessageDeliveryAck(body), sbi::DecodeMessageDeliveryAck);
      break;
    case 5: {
      auto d = sbi::DecodeDeliveryStatusReport(body);
      if (RoundTrip(d, sbi::DecodeDeliveryStatusReport)) {
        (void)msgin5g::api::ReportToBroker(*d.value);
      }
      break;
    }
    case 6:
      RoundTrip(sbi::DecodeL3gMessageDelivery(body), sbi::DecodeL3gMessageDelivery);
      break;
    case 7:
      RoundTrip(sbi::DecodeN3gMessageDelivery(body), sbi::DecodeN3gMessageDelivery);
      break;
    case 8:
      RoundTrip(sbi::DecodeBgMessageDelivery(body), sbi::DecodeBgMessageDelivery);
      break;
    default:
      (void)sbi::DecodeProblemDetails(body);
      (void)sbi::FindDuplicateMember(body);
      (void)sbi::ParseDateTime(body);
      break;
  }
  return 0;
}
