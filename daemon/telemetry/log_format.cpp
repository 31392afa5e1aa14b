// FormatLogLine: the pure half of the log sink (no spdlog here).
#include <cstdio>

#include "base/json_writer.h"
#include "base/timefmt.h"
#include "telemetry/log_sink.h"

namespace rcw {
namespace {

std::string_view JournalPrefix(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "<3>";
    case LogLevel::kWarn:
      return "<4>";
    case LogLevel::kInfo:
      return "<6>";
    default:
      return "<7>";
  }
}

// Keeps UTF-8 and tabs; escapes what could end or garble a terminal line.
void AppendTextEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
}

}  // namespace

bool ParseLogFormat(std::string_view text, LogFormat& out) {
  if (text == "text") {
    out = LogFormat::kText;
  } else if (text == "json") {
    out = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::string FormatLogLine(LogFormat format, bool journald_prefixes, LogLevel level,
                          std::string_view message, TimePoint now) {
  std::string line;
  if (journald_prefixes) line += JournalPrefix(level);
  if (format == LogFormat::kJson) {
    JsonWriter json;
    json.BeginObject().Key("ts").String(FormatTimestampMs(now));
    json.Key("level").String(LogLevelName(level)).Key("msg").String(message).EndObject();
    return line + json.str();
  }
  if (!journald_prefixes) {
    line += FormatTimestampMs(now);
    line += ' ';
    line += LogLevelName(level);
    line += ' ';
  }
  AppendTextEscaped(line, message);
  return line;
}

}  // namespace rcw
