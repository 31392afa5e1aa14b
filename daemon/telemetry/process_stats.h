// The standard process metrics (as the Prometheus client libraries export
// them), read from /proc into a plain struct. metrics.cpp turns it into
// prometheus families at scrape time; this file knows nothing of prometheus.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace rcw {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system time, /proc/self/stat utime+stime
  double resident_bytes = 0;      // rss pages * page size
  double virtual_bytes = 0;       // vsize
  double start_time_seconds = 0;  // Unix time: /proc/stat btime + starttime ticks
  double open_fds = 0;            // entries of /proc/self/fd
  double max_fds = 0;             // soft RLIMIT_NOFILE
};

// One sample of ProcessStats under the name and help text that the Prometheus
// client libraries use (process_cpu_seconds_total, ...).
struct ProcessSample {
  const char* name;
  const char* help;
  bool counter;  // else a gauge
  double value;
};
std::vector<ProcessSample> ToSamples(const ProcessStats& stats);

// The fields of /proc/<pid>/stat that ProcessStats needs, in their raw units.
struct ProcStatFields {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t start_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::int64_t rss_pages = 0;
};

// Parses one /proc/<pid>/stat line. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from its last ')'.
// Returns false when the text is not such a line.
bool ParseProcStat(std::string_view text, ProcStatFields& out);

// Finds "btime N" (boot time, Unix seconds) in /proc/stat's text.
bool ParseBootTime(std::string_view proc_stat, std::int64_t& btime);

// Reads this process's stats. kUnavailable when /proc/self/stat or /proc/stat
// cannot be read or parsed (no /proc mounted); the fd counts are then unknown too.
Result<ProcessStats> ReadProcessStats();

}  // namespace rcw
