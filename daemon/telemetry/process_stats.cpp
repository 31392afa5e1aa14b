#include "telemetry/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace rcw {
namespace {

// Splits off the next space-separated token of `s`.
std::string_view NextToken(std::string_view& s) {
  size_t begin = s.find_first_not_of(' ');
  if (begin == std::string_view::npos) begin = s.size();
  s.remove_prefix(begin);
  size_t end = std::min(s.find(' '), s.size());
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end);
  return token;
}

template <class T>
bool ParseNumber(std::string_view token, T& out) {
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  return ec == std::errc() && ptr == token.data() + token.size() && !token.empty();
}

bool ReadFile(const char* path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

double CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double n = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;  // skip "." and ".."; fd names are digits
  }
  closedir(dir);
  return n;  // includes the directory's own fd, as client_golang's count does
}

double MaxFds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

bool ParseProcStat(std::string_view text, ProcStatFields& out) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return false;
  std::string_view rest = text.substr(paren + 1);
  // Field 3 (state) comes first after ')'; field n is token n - 3.
  std::string_view fields[22];
  for (auto& f : fields) {
    f = NextToken(rest);
    if (f.empty()) return false;
  }
  return ParseNumber(fields[14 - 3], out.utime_ticks) &&
         ParseNumber(fields[15 - 3], out.stime_ticks) &&
         ParseNumber(fields[22 - 3], out.start_ticks) &&
         ParseNumber(fields[23 - 3], out.vsize_bytes) && ParseNumber(fields[24 - 3], out.rss_pages);
}

bool ParseBootTime(std::string_view proc_stat, std::int64_t& btime) {
  while (!proc_stat.empty()) {
    size_t eol = std::min(proc_stat.find('\n'), proc_stat.size());
    std::string_view line = proc_stat.substr(0, eol);
    proc_stat.remove_prefix(std::min(eol + 1, proc_stat.size()));
    if (line.starts_with("btime ")) return ParseNumber(line.substr(6), btime);
  }
  return false;
}

Result<ProcessStats> ReadProcessStats() {
  std::string stat_text, boot_text;
  ProcStatFields fields;
  std::int64_t btime = 0;
  if (!ReadFile("/proc/self/stat", stat_text) || !ParseProcStat(stat_text, fields) ||
      !ReadFile("/proc/stat", boot_text) || !ParseBootTime(boot_text, btime)) {
    return Status(StatusCode::kUnavailable, "cannot read /proc/self/stat or /proc/stat");
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats stats;
  stats.cpu_seconds = static_cast<double>(fields.utime_ticks + fields.stime_ticks) / ticks;
  stats.resident_bytes = static_cast<double>(fields.rss_pages) * page;
  stats.virtual_bytes = static_cast<double>(fields.vsize_bytes);
  stats.start_time_seconds =
      static_cast<double>(btime) + static_cast<double>(fields.start_ticks) / ticks;
  stats.open_fds = CountOpenFds();
  stats.max_fds = MaxFds();
  return stats;
}

std::vector<ProcessSample> ToSamples(const ProcessStats& s) {
  return {
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", true,
       s.cpu_seconds},
      {"process_resident_memory_bytes", "Resident memory size in bytes.", false, s.resident_bytes},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", false, s.virtual_bytes},
      {"process_open_fds", "Number of open file descriptors.", false, s.open_fds},
      {"process_max_fds", "Maximum number of open file descriptors.", false, s.max_fds},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
       false, s.start_time_seconds},
  };
}

}  // namespace rcw
