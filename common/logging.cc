#include "common/logging.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace msgin5g::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{DefaultFormat()};
std::mutex g_mu;

// sd-daemon(3) prefixes: err, warning, info, debug.
const char* JournalPrefix(Level l) {
  switch (l) {
    case Level::kDebug: return "<7>";
    case Level::kInfo: return "<6>";
    case Level::kWarn: return "<4>";
    case Level::kError: return "<3>";
  }
  return "<6>";
}

const char* JsonLevel(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof(esc), "\\u%04x", c);
          out += esc;
        } else {
          out.push_back(static_cast<char>(c));  // UTF-8 passes through
        }
    }
  }
  out.push_back('"');
}

std::string Timestamp(std::chrono::system_clock::time_point when) {
  const auto since = when.time_since_epoch();
  const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  const long ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ms);
  return buf;
}
const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level GetLevel() { return g_level.load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::kDebug;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "warn") *out = Level::kWarn;
  else if (text == "error") *out = Level::kError;
  else return false;
  return true;
}

void SetFormat(Format format) { g_format.store(format, std::memory_order_relaxed); }
Format GetFormat() { return g_format.load(std::memory_order_relaxed); }

Format DefaultFormat() {
  // systemd sets JOURNAL_STREAM=device:inode of the stream it connected; only when stderr is
  // still that stream (not redirected by a wrapper) are its lines the journal's.
  const char* js = std::getenv("JOURNAL_STREAM");
  if (js == nullptr) return Format::kText;
  struct stat st {};
  if (fstat(2, &st) != 0) return Format::kText;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return Format::kText;
  return (dev == static_cast<unsigned long long>(st.st_dev) &&
          ino == static_cast<unsigned long long>(st.st_ino))
             ? Format::kJournal
             : Format::kText;
}

bool ParseFormat(std::string_view text, Format* out) {
  if (text == "auto") *out = DefaultFormat();
  else if (text == "text") *out = Format::kText;
  else if (text == "json") *out = Format::kJson;
  else return false;
  return true;
}

std::string FormatLine(Format format, Level level, std::string_view module, std::string_view msg,
                       std::chrono::system_clock::time_point when) {
  std::string line;
  line.reserve(msg.size() + module.size() + 48);
  if (format == Format::kJson) {
    line += "{\"ts\":\"" + Timestamp(when) + "\",\"level\":\"" + JsonLevel(level) + "\",\"module\":";
    AppendJsonString(line, module);
    line += ",\"msg\":";
    AppendJsonString(line, msg);
    line += '}';
    return line;
  }
  // text: "TIMESTAMP LEVEL module: msg"; journal: "<P>LEVEL module: msg" (journald stamps it).
  line += format == Format::kJournal ? std::string(JournalPrefix(level)) : Timestamp(when) + ' ';
  line += LevelName(level);
  line += ' ';
  line += module;
  line += ": ";
  line += msg;
  return line;
}

void Write(Level level, std::string_view module, const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const std::string line =
      FormatLine(GetFormat(), level, module, msg, std::chrono::system_clock::now());
  std::lock_guard<std::mutex> lock(g_mu);
  std::fprintf(stderr, "%s\n", line.c_str());
}

bool RateLimiter::Allow(std::uint64_t* suppressed, std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now - window_start_ >= window_) {
    window_start_ = now;
    used_ = 0;
  }
  if (used_ >= burst_) {
    ++dropped_;
    return false;
  }
  ++used_;
  *suppressed = dropped_;
  dropped_ = 0;
  return true;
}

}  // namespace msgin5g::log
