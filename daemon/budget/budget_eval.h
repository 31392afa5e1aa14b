// Budget evaluation: how many processing units each group of each budget has
// spent in its current window (docs/configuration.md `budgets`).
//
// Counting rules:
//  - spent = PUs of the matching jobs that ended in the window (the ledger)
//    + when `count_running`, the estimated PUs of the matching Queued and
//    Active jobs of the current listing (RateEstimator: Queued ones count 0,
//    Active ones rate x hours since startedDateTime).
//  - An ended job is counted once, in the window of its endedDateTime in the
//    budget's time zone: a job that ended before the window started counts
//    nothing in it, whatever it ran inside the window; a job ended exactly at
//    the window's start counts in it. Ended jobs of the listing are ignored
//    here: the daemon records them in the ledger first.
//  - A running job whose type has no rate contributes 0 and is counted in
//    `unestimated_jobs`, so the daemon can say the figure is a lower bound.
//  - warn: warn_at is set and spent >= warn_at x limit; exceeded: spent >=
//    limit (spending exactly the limit exhausts the budget).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "budget/estimates.h"
#include "budget/group.h"
#include "budget/ledger.h"
#include "budget/window.h"
#include "config/config.h"

namespace rcw {

// One group of one budget in its current window.
struct BudgetGroupStatus {
  std::size_t budget_index = 0;      // into Config::budgets
  std::string group;                 // GroupKey(); "all" for group_by: all
  WindowSpan window;                 // the window containing `now`
  double spent_ended = 0;            // PUs of ended jobs (ledger)
  double spent_running = 0;          // estimated PUs of running jobs; 0 unless count_running
  double limit = 0;                  // BudgetConfig::limit
  std::size_t running_jobs = 0;      // matching Queued/Active jobs of the listing
  std::size_t unestimated_jobs = 0;  // of those, counted 0 for lack of a rate (count_running)
  bool utc_fallback = false;         // the budget's zone failed to load: window computed in UTC
  bool warn = false;
  bool exceeded = false;

  double Spent() const { return spent_ended + spent_running; }
};

// Every (budget, group) with a ledger entry in the window or a matching
// Queued/Active job in `jobs`, ordered by budget index, then group. Per job
// the work is O(budgets) without allocation (beyond a group's first
// sighting); each budget's window is computed once per call.
std::vector<BudgetGroupStatus> EvaluateBudgets(const Config& config, const Ledger& ledger,
                                               const RateEstimator& rates,
                                               const std::vector<Job>& jobs, TimePoint now);

// Whether an exceeded budget cancels a job in `state`: cancel_queued ->
// Queued only; cancel_all -> Queued and Active; report -> never.
bool BudgetCancels(const BudgetConfig& budget, JobState state);

// The oldest end time the ledger must keep at `now`: the earliest start of a
// budget's current window, and `now - watch.lookback` (ended jobs still in
// the listing must stay known, or they would be counted again). Pass it to
// Ledger::Prune().
TimePoint LedgerHorizon(const Config& config, TimePoint now);

// The earliest start of a budget's current window at `now`: the ledger
// entries budgets sum at `now` are those that ended at or after it.
// TimePoint::max() when there is no budget.
TimePoint BudgetWindowsStart(const Config& config, TimePoint now);

}  // namespace rcw
