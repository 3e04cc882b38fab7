#include "storage/format_version.h"

#include <charconv>
#include <string>

namespace msgin5g::storage {

Status CheckFormatVersion(std::string_view stored, std::string_view where) {
  int version = 0;
  auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), version);
  const bool number = ec == std::errc() && end == stored.data() + stored.size() && !stored.empty();
  const std::string current = std::to_string(kCurrentFormatVersion);
  if (number && version == kCurrentFormatVersion) return Status::Ok();
  if (number && version > kCurrentFormatVersion) {
    return Status(StatusCode::kCorruption,
                  std::string(where) + " was written by a newer msgin5g: data format version " +
                      std::to_string(version) + ", this build reads version " + current +
                      ". Run the release that wrote it, or restore a backup taken with this one");
  }
  return Status(StatusCode::kCorruption,
                std::string(where) + " holds data format version '" + std::string(stored) +
                    "', which no msgin5g release wrote (this build reads version " + current +
                    "): the store is damaged or not an msgin5g store");
}

}  // namespace msgin5g::storage
