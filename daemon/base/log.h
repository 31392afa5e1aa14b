// Logging facade. Modules log through these functions; the service installs a
// sink (spdlog, journald prefixes or JSON) at start-up. The default sink writes
// plain lines to stderr. Messages must never contain secrets or bearer tokens.
#pragma once

#include <string_view>

namespace rcw {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
// log.format: one plain line per message, or one JSON object per line.
enum class LogFormat { kText, kJson };

// "trace".."error"; ParseLogLevel returns false on unknown text.
std::string_view LogLevelName(LogLevel level);
bool ParseLogLevel(std::string_view text, LogLevel& out);

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogLevel level, std::string_view message) = 0;
};

// Not owned; must outlive all logging. nullptr restores the stderr sink.
void SetLogSink(LogSink* sink);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

void Log(LogLevel level, std::string_view message);
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace rcw
