// RocksDB's info log, sent to our log (stderr / journald) instead of a LOG file in the data
// directory. Two reasons: operators find storage events where every other event is, and no file
// is written beside the data: on a full disk, RocksDB 7.8 (built with assertions, as Debian ships
// it) aborts the process on the next line to a LOG file whose earlier append failed.
// RocksDB's INFO lines are chatty (every flush and compaction): they go out at our debug level.
#pragma once

#include <cstdarg>

#include <rocksdb/env.h>

namespace msgin5g::storage {

class RocksLogger final : public rocksdb::Logger {
 public:
  RocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;
};

}  // namespace msgin5g::storage
