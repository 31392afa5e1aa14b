#include "telemetry/process_stats.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "telemetry/exposition.h"
#include "telemetry/metrics.h"

namespace rcw {
namespace {

TEST_CASE("ParseProcStat counts fields after the last parenthesis") {
  // A command name with spaces and parentheses, as a hostile process may pick.
  const char* line =
      "4242 (rc wd) (x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 3 0 "
      "987654 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcStatFields f;
  REQUIRE(ParseProcStat(line, f));
  CHECK(f.utime_ticks == 250);
  CHECK(f.stime_ticks == 75);
  CHECK(f.start_ticks == 987654);
  CHECK(f.vsize_bytes == 123456789);
  CHECK(f.rss_pages == 2048);
}

TEST_CASE("ParseProcStat rejects truncated or garbled lines") {
  ProcStatFields f;
  CHECK_FALSE(ParseProcStat("", f));
  CHECK_FALSE(ParseProcStat("12 no parenthesis S 1 2 3", f));
  CHECK_FALSE(ParseProcStat("12 (x) S 1 2 3", f));
  CHECK_FALSE(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 75 0 0 20 0 3 0 9 1 2 3 4 5 6", f));
}

TEST_CASE("ParseBootTime finds btime in /proc/stat") {
  std::int64_t btime = 0;
  CHECK(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1764400000\nprocesses 9\n", btime));
  CHECK(btime == 1764400000);
  CHECK(ParseBootTime("btime 7", btime));
  CHECK(btime == 7);
  CHECK_FALSE(ParseBootTime("cpu 1\nxbtime 5\n", btime));
  CHECK_FALSE(ParseBootTime("btime abc\n", btime));
}

TEST_CASE("this process's stats are plausible") {
  Result<ProcessStats> s = ReadProcessStats();
  REQUIRE(s.ok());
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(s->cpu_seconds >= 0);
  CHECK(s->resident_bytes > 0);
  CHECK(s->virtual_bytes >= s->resident_bytes);
  CHECK(s->open_fds >= 3);
  CHECK(s->max_fds >= s->open_fds);
  CHECK(s->start_time_seconds <= now + 2);  // btime is whole seconds
  CHECK(s->start_time_seconds > now - 3600);
}

TEST_CASE("process metrics appear in the exposition") {
  auto m = Metrics::Create("");
  REQUIRE(m.ok());
  std::string t = (*m)->Render();
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(testing::Sample(t, "process_cpu_seconds_total") >= 0.0);
  CHECK(testing::Sample(t, "process_resident_memory_bytes") > 0.0);
  CHECK(testing::Sample(t, "process_virtual_memory_bytes") > 0.0);
  CHECK(testing::Sample(t, "process_open_fds") > 0.0);
  CHECK(testing::Sample(t, "process_max_fds") > 0.0);
  auto start = testing::Sample(t, "process_start_time_seconds");
  REQUIRE(start);
  CHECK(*start > now - 3600);
  CHECK(*start <= now + 2);
}

}  // namespace
}  // namespace rcw
