#include "budget/window.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "base/timefmt.h"
#include "budget_test_util.h"

namespace rcw {
namespace {

using std::chrono::hours;
using std::chrono::nanoseconds;
using test::At;

WindowSpan Window(BudgetWindow kind, const std::string& zone, std::string_view instant) {
  Result<WindowCalculator> calc = WindowCalculator::Create(kind, zone);
  REQUIRE(calc.ok());
  return calc->Containing(At(instant));
}

WindowSpan Daily(const std::string& zone, std::string_view instant) {
  return Window(BudgetWindow::kDaily, zone, instant);
}
WindowSpan Weekly(const std::string& zone, std::string_view instant) {
  return Window(BudgetWindow::kWeekly, zone, instant);
}
WindowSpan Monthly(const std::string& zone, std::string_view instant) {
  return Window(BudgetWindow::kMonthly, zone, instant);
}

void CheckSpan(const WindowSpan& w, std::string_view start, std::string_view end,
               const std::string& label) {
  CHECK(FormatTimestampMs(w.start) == FormatTimestampMs(At(start)));
  CHECK(FormatTimestampMs(w.end) == FormatTimestampMs(At(end)));
  CHECK(w.label == label);
}

TEST_CASE("time zones: known, unknown, UTC without the database", "[budget][window]") {
  CHECK(IsKnownTimeZone("UTC"));
  CHECK(IsKnownTimeZone("Europe/Paris"));
  CHECK(IsKnownTimeZone("America/New_York"));
  CHECK_FALSE(IsKnownTimeZone(""));
  CHECK_FALSE(IsKnownTimeZone("Mars/Olympus_Mons"));
  CHECK_FALSE(IsKnownTimeZone("europe/paris"));
  CHECK_FALSE(IsKnownTimeZone("../../etc/passwd"));
}

TEST_CASE("an unknown zone is an invalid-config error, not an exception", "[budget][window]") {
  Result<WindowCalculator> calc = WindowCalculator::Create(BudgetWindow::kDaily, "Mars/Base");
  REQUIRE_FALSE(calc.ok());
  CHECK(calc.status().code() == StatusCode::kInvalidConfig);
  CHECK(calc.status().message().find("Mars/Base") != std::string::npos);
}

TEST_CASE("calculator keeps its kind and zone", "[budget][window]") {
  Result<WindowCalculator> calc = WindowCalculator::Create(BudgetWindow::kWeekly, "Asia/Tokyo");
  REQUIRE(calc.ok());
  CHECK(calc->window() == BudgetWindow::kWeekly);
  CHECK(calc->time_zone() == "Asia/Tokyo");
}

TEST_CASE("daily window in UTC", "[budget][window]") {
  CheckSpan(Daily("UTC", "2026-11-29T12:34:56Z"), "2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z",
            "2026-11-29");
  CheckSpan(Daily("Etc/UTC", "2026-11-29T23:59:59.999Z"), "2026-11-29T00:00:00Z",
            "2026-11-30T00:00:00Z", "2026-11-29");
}

TEST_CASE("daily window starts at local midnight in Europe/Paris", "[budget][window]") {
  // Winter, UTC+1.
  CheckSpan(Daily("Europe/Paris", "2026-11-29T12:00:00Z"), "2026-11-28T23:00:00Z",
            "2026-11-29T23:00:00Z", "2026-11-29");
  // 23:30 UTC is already 00:30 on the next local day.
  CheckSpan(Daily("Europe/Paris", "2026-11-29T23:30:00Z"), "2026-11-29T23:00:00Z",
            "2026-11-30T23:00:00Z", "2026-11-30");
  // Summer, UTC+2.
  CheckSpan(Daily("Europe/Paris", "2026-07-14T12:00:00Z"), "2026-07-13T22:00:00Z",
            "2026-07-14T22:00:00Z", "2026-07-14");
}

TEST_CASE("daily window starts at local midnight in America/New_York", "[budget][window]") {
  // 03:00 UTC is 22:00 EST the day before.
  CheckSpan(Daily("America/New_York", "2026-11-29T03:00:00Z"), "2026-11-28T05:00:00Z",
            "2026-11-29T05:00:00Z", "2026-11-28");
  CheckSpan(Daily("America/New_York", "2026-07-04T12:00:00Z"), "2026-07-04T04:00:00Z",
            "2026-07-05T04:00:00Z", "2026-07-04");
}

TEST_CASE("DST spring-forward day is 23 hours (Europe/Berlin 2026-03-29)", "[budget][window]") {
  WindowSpan w = Daily("Europe/Berlin", "2026-03-29T12:00:00Z");
  CheckSpan(w, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "2026-03-29");
  CHECK(w.end - w.start == hours(23));
  // Just before and just after the 02:00 -> 03:00 jump: same day.
  CHECK(Daily("Europe/Berlin", "2026-03-29T00:59:59Z").label == "2026-03-29");
  CHECK(Daily("Europe/Berlin", "2026-03-29T01:00:00Z").label == "2026-03-29");
  // The days around it are 24 hours.
  WindowSpan before = Daily("Europe/Berlin", "2026-03-28T12:00:00Z");
  WindowSpan after = Daily("Europe/Berlin", "2026-03-30T12:00:00Z");
  CHECK(before.end == w.start);
  CHECK(after.start == w.end);
  CHECK(before.end - before.start == hours(24));
  CHECK(after.end - after.start == hours(24));
}

TEST_CASE("DST fall-back day is 25 hours (Europe/Berlin 2026-10-25)", "[budget][window]") {
  WindowSpan w = Daily("Europe/Berlin", "2026-10-25T12:00:00Z");
  CheckSpan(w, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", "2026-10-25");
  CHECK(w.end - w.start == hours(25));
  // 02:30 local happens twice (CEST, then CET): both in the same day.
  CHECK(Daily("Europe/Berlin", "2026-10-25T00:30:00Z").label == "2026-10-25");
  CHECK(Daily("Europe/Berlin", "2026-10-25T01:30:00Z").label == "2026-10-25");
}

TEST_CASE("a midnight that does not exist starts the day after the gap", "[budget][window]") {
  // America/Santiago 2026-09-06: 00:00 -04 jumps to 01:00 -03 (at 04:00 UTC).
  WindowSpan w = Daily("America/Santiago", "2026-09-06T12:00:00Z");
  CheckSpan(w, "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", "2026-09-06");
  CheckSpan(Daily("America/Santiago", "2026-09-06T03:59:59Z"), "2026-09-05T04:00:00Z",
            "2026-09-06T04:00:00Z", "2026-09-05");
  // Pacific/Apia skipped 2011-12-30 altogether: the 29th ends where the 31st begins.
  CheckSpan(Daily("Pacific/Apia", "2011-12-30T09:59:59Z"), "2011-12-29T10:00:00Z",
            "2011-12-30T10:00:00Z", "2011-12-29");
  CheckSpan(Daily("Pacific/Apia", "2011-12-30T10:00:00Z"), "2011-12-30T10:00:00Z",
            "2011-12-31T10:00:00Z", "2011-12-31");
}

TEST_CASE("a midnight that happens twice starts the day at its first occurrence",
          "[budget][window]") {
  // America/Havana 2026-11-01: 01:00 CDT falls back to 00:00 CST (at 05:00 UTC),
  // so 00:00-01:00 local happens twice; the day is 25 hours.
  WindowSpan w = Daily("America/Havana", "2026-11-01T12:00:00Z");
  CheckSpan(w, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", "2026-11-01");
  CHECK(Daily("America/Havana", "2026-11-01T03:59:59Z").label == "2026-10-31");
  CHECK(Daily("America/Havana", "2026-11-01T04:30:00Z").label == "2026-11-01");  // 00:30 CDT
  CHECK(Daily("America/Havana", "2026-11-01T05:30:00Z").label == "2026-11-01");  // 00:30 CST
  // America/Santiago 2026-04-04: 24:00 -03 falls back to 23:00 -04: a 25-hour Saturday.
  CheckSpan(Daily("America/Santiago", "2026-04-04T12:00:00Z"), "2026-04-04T03:00:00Z",
            "2026-04-05T04:00:00Z", "2026-04-04");
}

TEST_CASE("an instant exactly on a boundary is in the new window", "[budget][window]") {
  for (BudgetWindow kind : {BudgetWindow::kDaily, BudgetWindow::kWeekly, BudgetWindow::kMonthly}) {
    Result<WindowCalculator> calc = WindowCalculator::Create(kind, "Europe/Paris");
    REQUIRE(calc.ok());
    WindowSpan w = calc->Containing(At("2026-11-29T12:00:00Z"));
    WindowSpan next = calc->Containing(w.end);
    CHECK(next.start == w.end);
    CHECK(next.label != w.label);
    CHECK(calc->Containing(w.start).label == w.label);
    CHECK(calc->Containing(w.start - nanoseconds(1)).end == w.start);
    CHECK(calc->Containing(w.end - nanoseconds(1)).label == w.label);
  }
}

TEST_CASE("weekly window starts Monday 00:00 local", "[budget][window]") {
  // Sunday 2026-11-29 belongs to the week of Monday 2026-11-23.
  CheckSpan(Weekly("Europe/Paris", "2026-11-29T12:00:00Z"), "2026-11-22T23:00:00Z",
            "2026-11-29T23:00:00Z", "2026-W48");
  // Sunday 23:59:59 local in New York is still week 48; Monday 00:00 starts week 49.
  CHECK(Weekly("America/New_York", "2026-11-30T04:59:59Z").label == "2026-W48");
  CheckSpan(Weekly("America/New_York", "2026-11-30T05:00:00Z"), "2026-11-30T05:00:00Z",
            "2026-12-07T05:00:00Z", "2026-W49");
}

TEST_CASE("weekly window crossing a month end", "[budget][window]") {
  // Monday 2026-11-30 to Sunday 2026-12-06.
  WindowSpan w = Weekly("Europe/Paris", "2026-12-01T12:00:00Z");
  CheckSpan(w, "2026-11-29T23:00:00Z", "2026-12-06T23:00:00Z", "2026-W49");
  CHECK(Weekly("Europe/Paris", "2026-11-30T08:00:00Z").label == "2026-W49");
}

TEST_CASE("weekly windows across the year end use ISO week years", "[budget][window]") {
  // 2026 starts on a Thursday, so it has 53 ISO weeks; W53 runs Mon 2026-12-28
  // to Sun 2027-01-03 and 2027-W01 starts Mon 2027-01-04.
  CheckSpan(Weekly("UTC", "2026-12-31T12:00:00Z"), "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z",
            "2026-W53");
  CHECK(Weekly("UTC", "2027-01-03T23:59:59.999Z").label == "2026-W53");
  CheckSpan(Weekly("UTC", "2027-01-04T00:00:00Z"), "2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z",
            "2027-W01");
  // Monday 2025-12-29 already starts 2026-W01.
  CheckSpan(Weekly("UTC", "2025-12-31T12:00:00Z"), "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z",
            "2026-W01");
  CHECK(Weekly("UTC", "2025-12-28T23:59:59Z").label == "2025-W52");
  CHECK(Weekly("UTC", "2021-01-03T12:00:00Z").label == "2020-W53");
  CHECK(Weekly("UTC", "2026-03-04T12:00:00Z").label == "2026-W10");
}

TEST_CASE("weekly window across a DST change is 7 days minus or plus an hour", "[budget][window]") {
  WindowSpan spring = Weekly("Europe/Berlin", "2026-03-26T12:00:00Z");
  CheckSpan(spring, "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", "2026-W13");
  CHECK(spring.end - spring.start == hours(7 * 24 - 1));
  WindowSpan autumn = Weekly("Europe/Berlin", "2026-10-22T12:00:00Z");
  CheckSpan(autumn, "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z", "2026-W43");
  CHECK(autumn.end - autumn.start == hours(7 * 24 + 1));
}

TEST_CASE("monthly windows: 31, 28 and 29 days", "[budget][window]") {
  CheckSpan(Monthly("UTC", "2026-01-31T12:00:00Z"), "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z",
            "2026-01");
  WindowSpan feb26 = Monthly("UTC", "2026-02-01T00:00:00Z");
  CheckSpan(feb26, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-02");
  CHECK(feb26.end - feb26.start == hours(28 * 24));
  WindowSpan feb28 = Monthly("UTC", "2028-02-29T12:00:00Z");
  CheckSpan(feb28, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", "2028-02");
  CHECK(feb28.end - feb28.start == hours(29 * 24));
  CheckSpan(Monthly("UTC", "2026-04-30T23:59:59Z"), "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z",
            "2026-04");
  CheckSpan(Monthly("UTC", "2026-12-31T23:59:59Z"), "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z",
            "2026-12");
}

TEST_CASE("month end at 23:59:59.999 local vs 00:00 next month", "[budget][window]") {
  // Europe/Paris, November 2026 (UTC+1): the month ends at 2026-11-30T23:00:00Z.
  CheckSpan(Monthly("Europe/Paris", "2026-11-30T22:59:59.999Z"), "2026-10-31T23:00:00Z",
            "2026-11-30T23:00:00Z", "2026-11");
  CheckSpan(Monthly("Europe/Paris", "2026-11-30T23:00:00Z"), "2026-11-30T23:00:00Z",
            "2026-12-31T23:00:00Z", "2026-12");
  // October 2026 starts in CEST (UTC+2) and ends in CET (UTC+1).
  CheckSpan(Monthly("Europe/Paris", "2026-10-15T12:00:00Z"), "2026-09-30T22:00:00Z",
            "2026-10-31T23:00:00Z", "2026-10");
}

// Windows must tile the time line in any zone, including ones with odd
// transitions (midnight gaps and repeats, skipped days, 30-minute and 2-hour
// DST, negative DST).
TEST_CASE("windows tile the time line in zones with odd transitions", "[budget][window]") {
  const std::vector<std::string> zones = {
      "Europe/Berlin",     "America/Santiago",  "America/Havana",      "Pacific/Apia",
      "America/Sao_Paulo", "Asia/Beirut",       "Australia/Lord_Howe", "Antarctica/Troll",
      "Europe/Dublin",     "Africa/Casablanca", "Pacific/Kiritimati",  "Asia/Kathmandu"};
  const TimePoint from = At("2008-01-01T00:00:00Z");
  const TimePoint to = At("2030-01-01T00:00:00Z");
  for (const std::string& zone : zones) {
    for (BudgetWindow kind : {BudgetWindow::kDaily, BudgetWindow::kWeekly}) {
      INFO(zone << " kind " << static_cast<int>(kind));
      Result<WindowCalculator> calc = WindowCalculator::Create(kind, zone);
      REQUIRE(calc.ok());
      WindowSpan w = calc->Containing(from);
      int bad = 0;
      while (w.start < to) {
        WindowSpan next = calc->Containing(w.end);
        if (!(w.start < w.end && next.start == w.end && next.label > w.label)) ++bad;
        w = std::move(next);
      }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("every instant lies in the window computed for it", "[budget][window]") {
  for (const char* zone : {"America/Havana", "America/Santiago", "Pacific/Apia", "Europe/Berlin"}) {
    Result<WindowCalculator> calc = WindowCalculator::Create(BudgetWindow::kDaily, zone);
    REQUIRE(calc.ok());
    int bad = 0;
    // Every 7 minutes over the years of the transitions used above.
    for (TimePoint t = At("2011-12-25T00:00:00Z"); t < At("2012-01-05T00:00:00Z");
         t += std::chrono::minutes(7)) {
      if (!calc->Containing(t).Contains(t)) ++bad;
    }
    for (TimePoint t = At("2026-03-01T00:00:00Z"); t < At("2026-11-10T00:00:00Z");
         t += std::chrono::minutes(7)) {
      if (!calc->Containing(t).Contains(t)) ++bad;
    }
    INFO(zone);
    CHECK(bad == 0);
  }
}

}  // namespace
}  // namespace rcw
