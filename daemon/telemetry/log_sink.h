// The daemon's log sink: one line per message on stderr, as text or JSON,
// with sd-daemon priority prefixes when stderr is the journal. Install it with
// base/log.h SetLogSink(); level filtering stays in base/log.h (SetLogLevel).
// Messages must not hold secrets; this sink only makes each one a single line.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/log.h"

namespace rcw {

// "text" or "json" (config log.format); false on anything else.
bool ParseLogFormat(std::string_view text, LogFormat& out);

// One line, without its '\n':
//   text:             2026-11-29T10:00:00.123Z info message
//   text, journald:   <6>message          (journald adds its own timestamp)
//   json:             {"ts":"2026-11-29T10:00:00.123Z","level":"info","msg":"message"}
//   json, journald:   <6>{"ts":...}       (the prefix sets the priority; journald strips it)
// Priorities: <3> error, <4> warn, <6> info, <7> debug and trace. Newlines and
// other control characters in `message` are escaped (\n, \r, \xNN in text;
// JSON escapes in json), so one message is always one line.
std::string FormatLogLine(LogFormat format, bool journald_prefixes, LogLevel level,
                          std::string_view message, TimePoint now);

// A thread-safe sink writing FormatLogLine(..., now) lines to stderr through
// spdlog, flushed after every line.
std::unique_ptr<LogSink> MakeLogSink(LogFormat format, bool journald_prefixes);

// True when $JOURNAL_STREAM ("DEVICE:INODE", set by systemd) names the file
// that stderr is: logs then reach the journal, which wants priority prefixes.
bool StderrIsJournal();

}  // namespace rcw
