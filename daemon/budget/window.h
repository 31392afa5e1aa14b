// Calendar windows of processing-unit budgets (docs/configuration.md `budgets`):
// days, ISO weeks and months that begin at local midnight in an IANA time
// zone. The tz database enters rc-watchdog here and only here (window.cpp);
// this header shows none of its types, and nothing here throws.
#pragma once

#include <string>
#include <utility>

#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"

namespace rcw {

// True when `name` is a zone of the tz database (e.g. "Europe/Paris") whose
// data loads. "UTC" is always known, even without a tz database.
bool IsKnownTimeZone(const std::string& name);

// One budget window: the half-open interval [start, end) of UTC instants
// between two consecutive local midnights that start a window.
struct WindowSpan {
  TimePoint start{};
  TimePoint end{};
  // The window's local calendar name: "2026-11-29" (daily), "2026-W48"
  // (weekly, ISO 8601 week-numbering year and week), "2026-11" (monthly).
  std::string label;

  bool Contains(TimePoint t) const { return start <= t && t < end; }
};

// Computes the window of a given kind containing an instant. Windows start at
// local midnight (00:00 wall-clock time) in the zone: daily every day, weekly
// on Mondays, monthly on the 1st. A day is 23 or 25 hours long across a DST
// change; when local midnight does not exist (a DST gap at 00:00) the window
// starts at the first instant after the gap, and when it occurs twice, at the
// first occurrence. Windows tile the time line: the end of one is the start
// of the next, so an instant exactly on a boundary is in the new window.
// Cheap to copy; immutable; safe to share between threads.
class WindowCalculator {
 public:
  // kInvalidConfig naming the zone when it is not in the tz database.
  static Result<WindowCalculator> Create(BudgetWindow window, const std::string& time_zone);

  // The window containing `t` (always start <= t < end). Never fails: if the
  // zone's data cannot be read at this point it computes in UTC instead.
  WindowSpan Containing(TimePoint t) const;

  BudgetWindow window() const { return window_; }
  const std::string& time_zone() const { return time_zone_; }

 private:
  WindowCalculator(BudgetWindow window, std::string time_zone, const void* zone)
      : window_(window), time_zone_(std::move(time_zone)), zone_(zone) {}

  BudgetWindow window_;
  std::string time_zone_;
  // The zone (a `const date::time_zone*`, owned by the process-wide tz
  // database, which lives until exit); null for "UTC": plain UTC arithmetic.
  const void* zone_;
};

}  // namespace rcw
