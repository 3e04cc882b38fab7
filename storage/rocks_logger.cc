#include "storage/rocks_logger.h"

#include <cstdio>

#include "common/logging.h"

namespace msgin5g::storage {

void RocksLogger::Logv(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
}

void RocksLogger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  log::Level ours = log::Level::kDebug;
  if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
    ours = log::Level::kError;
  } else if (level == rocksdb::InfoLogLevel::WARN_LEVEL) {
    ours = log::Level::kWarn;
  }
  if (static_cast<int>(ours) < static_cast<int>(log::GetLevel())) return;
  char line[1024];
  std::vsnprintf(line, sizeof(line), format, ap);
  log::Write(ours, "rocksdb", "%s", line);
}

}  // namespace msgin5g::storage
