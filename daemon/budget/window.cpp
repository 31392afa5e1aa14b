// The one translation unit that includes howardhinnant-date (style.md rule 5).
// Calendar arithmetic is done on local days; only the two window boundaries
// are converted to UTC, with choose::earliest so that a missing or repeated
// local midnight never throws.
#include "budget/window.h"

#include <date/tz.h>

#include <cstdio>

namespace rcw {
namespace {

using date::days;
using date::local_days;

const date::time_zone* AsZone(const void* zone) {
  return static_cast<const date::time_zone*>(zone);
}

// Looks a zone up and loads its data now, so that later conversions cannot
// fail. Null when the name is unknown or the data unreadable.
const date::time_zone* LoadZone(const std::string& name) noexcept {
  try {
    const date::time_zone* zone = date::locate_zone(name);
    (void)zone->get_info(date::sys_seconds{});  // the OS tzdb loads a zone lazily
    return zone;
  } catch (...) {  // date throws std::runtime_error; keep every exception here
    return nullptr;
  }
}

// The local calendar day of `t`; UTC when `zone` is null.
local_days LocalDay(const date::time_zone* zone, TimePoint t) {
  if (zone == nullptr) return local_days{date::floor<days>(t).time_since_epoch()};
  return date::floor<days>(zone->to_local(t));
}

// The instant of local midnight starting `day`: the first one when midnight
// repeats, the end of the gap when it does not exist.
TimePoint MidnightOf(const date::time_zone* zone, local_days day) {
  if (zone == nullptr) return TimePoint{date::sys_days{day.time_since_epoch()}};
  return TimePoint{zone->to_sys(day, date::choose::earliest)};
}

// The first day of the window containing `day`.
local_days FirstDay(BudgetWindow window, local_days day) {
  switch (window) {
    case BudgetWindow::kWeekly:
      return day - (date::weekday{day} - date::Monday);
    case BudgetWindow::kMonthly: {
      date::year_month_day ymd{day};
      return local_days{ymd.year() / ymd.month() / 1};
    }
    case BudgetWindow::kDaily:
      break;
  }
  return day;
}

// The first day of the window after the one starting on `first`.
local_days NextFirstDay(BudgetWindow window, local_days first) {
  switch (window) {
    case BudgetWindow::kWeekly:
      return first + days{7};
    case BudgetWindow::kMonthly: {
      date::year_month_day ymd{first};
      return local_days{(ymd.year() / ymd.month() + date::months{1}) / 1};
    }
    case BudgetWindow::kDaily:
      break;
  }
  return first + days{1};
}

std::string Label(BudgetWindow window, local_days first) {
  char buf[32];
  date::year_month_day ymd{first};
  int year = static_cast<int>(ymd.year());
  unsigned month = static_cast<unsigned>(ymd.month());
  switch (window) {
    case BudgetWindow::kWeekly: {
      // ISO 8601: a week belongs to the year of its Thursday; week 1 holds
      // that year's first Thursday.
      local_days thursday = first + days{3};
      date::year iso_year = date::year_month_day{thursday}.year();
      auto week = (thursday - local_days{iso_year / date::January / 1}).count() / 7 + 1;
      std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(iso_year),
                    static_cast<int>(week));
      break;
    }
    case BudgetWindow::kMonthly:
      std::snprintf(buf, sizeof buf, "%04d-%02u", year, month);
      break;
    case BudgetWindow::kDaily:
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month,
                    static_cast<unsigned>(ymd.day()));
      break;
  }
  return buf;
}

WindowSpan SpanFrom(BudgetWindow window, const date::time_zone* zone, local_days first) {
  return WindowSpan{MidnightOf(zone, first), MidnightOf(zone, NextFirstDay(window, first)),
                    Label(window, first)};
}

WindowSpan ContainingIn(BudgetWindow window, const date::time_zone* zone, TimePoint t) {
  local_days first = FirstDay(window, LocalDay(zone, t));
  WindowSpan span = SpanFrom(window, zone, first);
  // A fall-back transition across midnight (say 00:30 -> 23:30) repeats the
  // late evening after the next window has started: those instants belong to
  // the next window, so that windows tile the time line.
  if (t >= span.end) span = SpanFrom(window, zone, NextFirstDay(window, first));
  return span;
}

}  // namespace

bool IsKnownTimeZone(const std::string& name) { return name == "UTC" || LoadZone(name) != nullptr; }

Result<WindowCalculator> WindowCalculator::Create(BudgetWindow window,
                                                  const std::string& time_zone) {
  // "UTC" (the default) needs no tz database at all.
  if (time_zone == "UTC") return WindowCalculator(window, time_zone, nullptr);
  const date::time_zone* zone = LoadZone(time_zone);
  if (zone == nullptr) {
    return Status(StatusCode::kInvalidConfig, "\"" + time_zone + "\" is not a known time zone");
  }
  return WindowCalculator(window, time_zone, zone);
}

WindowSpan WindowCalculator::Containing(TimePoint t) const {
  try {
    return ContainingIn(window_, AsZone(zone_), t);
  } catch (...) {  // the zone's data was loaded in Create(); defensive only
    return ContainingIn(window_, nullptr, t);
  }
}

}  // namespace rcw
