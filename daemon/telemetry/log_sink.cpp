// The one translation unit that includes spdlog.
#include "telemetry/log_sink.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace rcw {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// We format the line ourselves (JSON escaping, journald prefixes); spdlog
// serialises writers across threads and flushes each line.
class SpdlogSink final : public LogSink {
 public:
  SpdlogSink(LogFormat format, bool journald_prefixes)
      : format_(format),
        journald_(journald_prefixes),
        logger_("rc-watchdog", std::make_shared<spdlog::sinks::stderr_sink_mt>()) {
    logger_.set_pattern("%v");
    logger_.set_level(spdlog::level::trace);  // base/log.h filters
    logger_.flush_on(spdlog::level::trace);
  }

  void Write(LogLevel level, std::string_view message) override {
    std::string line =
        FormatLogLine(format_, journald_, level, message, std::chrono::system_clock::now());
    logger_.log(ToSpdlog(level), spdlog::string_view_t(line.data(), line.size()));
  }

 private:
  LogFormat format_;
  bool journald_;
  spdlog::logger logger_;  // not registered: no global state
};

}  // namespace

std::unique_ptr<LogSink> MakeLogSink(LogFormat format, bool journald_prefixes) {
  return std::make_unique<SpdlogSink>(format, journald_prefixes);
}

bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  uintmax_t device = 0, inode = 0;
  char extra = 0;
  if (std::sscanf(env, "%" SCNuMAX ":%" SCNuMAX "%c", &device, &inode, &extra) != 2) {
    return false;
  }
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<uintmax_t>(st.st_dev) == device && static_cast<uintmax_t>(st.st_ino) == inode;
}

}  // namespace rcw
