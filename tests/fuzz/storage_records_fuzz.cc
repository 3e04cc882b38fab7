// libFuzzer target: stored records as read back from RocksDB (a corrupt or foreign value must be
// refused, never crash the recovery). The first byte picks the record type, the rest is the
// value. One that decodes must encode, decode again and encode to the same bytes. Key parsing
// (addresses inside keys) gets the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/codec.h"
#include "storage/keys.h"

namespace {

namespace codec = msgin5g::storage::codec;

template <class R>
void RoundTrip(std::string_view value) {
  R r;
  if (!codec::Decode(value, &r)) return;
  const std::string once = codec::Encode(r);
  R again;
  if (!codec::Decode(once, &again)) std::abort();
  if (codec::Encode(again) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace msgin5g::storage;
  switch (data[0] % 12) {
    case 0: RoundTrip<MessageRecord>(value); break;
    case 1: RoundTrip<IdempotencyRecord>(value); break;
    case 2: RoundTrip<RecipientRecord>(value); break;
    case 3: RoundTrip<QueueEntryRecord>(value); break;
    case 4: RoundTrip<AsRegistrationRecord>(value); break;
    case 5: RoundTrip<UeRegistrationRecord>(value); break;
    case 6: RoundTrip<GroupRecord>(value); break;
    case 7: RoundTrip<TopicSubscriptionRecord>(value); break;
    case 8: RoundTrip<RoutingRuleRecord>(value); break;
    case 9: RoundTrip<SegmentRecord>(value); break;
    case 10: RoundTrip<SegmentSetRecord>(value); break;
    default: {
      std::size_t at = 0;
      Address a;
      while (at < value.size() && keys::ReadAddress(value, &at, &a)) {
      }
      break;
    }
  }
  return 0;
}
