#include "base/log.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <string>

namespace rcw {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"trace", "debug", "info", "warn",
                                                     "error"};

class StderrSink final : public LogSink {
 public:
  void Write(LogLevel level, std::string_view message) override {
    std::string line(LogLevelName(level));
    line += ": ";
    line += message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
};

StderrSink g_stderr_sink;
LogSink* g_sink = &g_stderr_sink;
// Read by every thread that logs (the notifier's too), set on reload.
std::atomic<LogLevel> g_level{LogLevel::kInfo};

}  // namespace

std::string_view LogLevelName(LogLevel level) { return kNames[static_cast<int>(level)]; }

bool ParseLogLevel(std::string_view text, LogLevel& out) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == text) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void SetLogSink(LogSink* sink) { g_sink = sink ? sink : &g_stderr_sink; }
void SetLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel GetLogLevel() { return g_level.load(std::memory_order_relaxed); }

void Log(LogLevel level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  g_sink->Write(level, message);
}

}  // namespace rcw
