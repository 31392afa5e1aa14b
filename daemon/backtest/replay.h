// The backtest replay (issue 13): what the policies and budgets of a config
// would have done to a set of jobs, had they been in force. Pure: jobs +
// config + rates + period -> report; no I/O, no clock. It judges with the
// daemon's own engine (policy/engine.h Evaluate) and budget pieces (windows,
// groups, BudgetCancels), stepping "now" through each job's life.
//
// Model, and where it differs from the running daemon (docs/backtest.md):
//  - Per-job limits: at each moment a limit of a matching policy could be
//    crossed (created + max_queued + grace, started + max_runtime + grace,
//    the moment the rate estimate passes max_processing_units), the job is
//    rebuilt as a poll would have shown it then (Queued or Active, no end, no
//    PUs) and evaluated. The first violation of a cancelling policy cancels
//    it; report-only policies and exempt jobs count as over the limit, never
//    as cancelled. The daemon acts at its next poll: up to one poll interval
//    later than the moment given here.
//  - Budgets, after the policies (jobs cancelled by a policy end then, with
//    the PUs they had used): per budget and group, ended jobs are summed in
//    the window of their end, in time order; the end that brings the sum to
//    the limit is the crossing. Jobs of the group that are Queued (cancel_all:
//    Queued or Active) at some moment between the crossing and the window's
//    end are cancelled at that moment. Running jobs' estimates
//    (count_running) are not replayed: the crossing may come later than the
//    daemon's, never earlier.
//  - Saved PUs: a job cancelled Queued saves all its PUs; an Active one the
//    share of its PUs after the cancel moment, pro rata over its runtime. A
//    job without reported PUs uses the rate estimate; without a rate, 0.
//  - Safety limits (per cycle, per hour, circuit breaker) are simulated per
//    poll cycle; by default they only count what they would have held back,
//    with `with_safety_limits` a held-back cancellation waits for the next
//    cycle (and is lost if the job ends first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "budget/estimates.h"
#include "config/config.h"
#include "policy/verdict.h"

namespace rcw {

struct BacktestOptions {
  TimePoint from{};  // cancellations before it are not reported
  TimePoint to{};    // nor after it; jobs still running are taken to run until it
  bool with_safety_limits = false;
};

// One policy over a limit for one job: the first moment the engine said so.
struct PolicyHit {
  std::uint32_t policy_index = 0;
  LimitKind limit = LimitKind::kMaxRuntime;
  TimePoint violated_at{};  // first evaluation found it over limit (+ grace)
  TimePoint crossed_at{};   // the limit itself was crossed (without grace)
  bool exempt = false;
  bool cancels = false;  // action cancel and not exempt
};

// A job that a policy or budget would have cancelled (or, report-only,
// reported as over its limit).
struct JobOutcome {
  std::uint32_t job_index = 0;  // into the replayed jobs
  std::string owner;            // policy or budget name
  std::string limit;            // max_runtime | max_queued | max_processing_units | budget
  bool budget = false;
  bool cancelled = false;          // false: report-only, or held back (with_safety_limits)
  TimePoint cancel_at{};           // when it would have been cancelled (or reported)
  double pu = 0;                   // its processing units as it ran (reported, else estimated)
  bool pu_known = false;           // reported or estimated
  double pu_saved = 0;             // PUs after cancel_at (0 unless cancelled)
  bool success_cut_short = false;  // ended Success, would have been cancelled
  double pu_lost = 0;              // of such a job: the PUs spent before cancel_at
  double overrun_s = 0;            // how far past the limit it really ran (policies)
  bool held_back = false;          // the safety limits would have delayed or stopped it
  std::int32_t crossing = -1;      // budget outcomes: index into BacktestReport::budgets
};

struct PolicySummary {
  std::string name;
  bool report_only = false;
  std::size_t jobs_over_limit = 0;  // cancelled or (report-only) reported
  std::size_t jobs_cancelled = 0;
  double pu_saved = 0;
  std::size_t successes_cut_short = 0;
  double pu_lost = 0;
  double median_overrun_s = 0;
  double worst_overrun_s = 0;
};

// One crossing: a budget's group spent its limit in one window.
struct BudgetCrossing {
  std::string name;
  std::string group;
  std::string window;  // the window's label, e.g. 2026-11-30
  TimePoint crossed_at{};
  std::size_t jobs_cancelled = 0;
  double pu_saved = 0;
};

struct BacktestReport {
  TimePoint from{}, to{};
  std::size_t jobs_seen = 0;             // jobs whose life overlaps [from, to]
  std::vector<PolicySummary> policies;   // in config order
  std::vector<BudgetCrossing> budgets;   // by budget, then time
  std::vector<JobOutcome> outcomes;      // by cancel_at
  std::vector<PolicyHit> hits;           // of every job, for --explain (by job)
  std::vector<std::uint32_t> hit_begin;  // hits of job i: [hit_begin[i], hit_begin[i + 1])
  // Safety limits: cancellations they would have delayed at least one cycle,
  // and of those, the ones whose job would have ended first.
  std::size_t held_back = 0;
  std::size_t held_back_for_good = 0;
  std::size_t held_max_per_cycle = 0, held_max_per_hour = 0, held_circuit_breaker = 0;
};

// REQUIRES: jobs have distinct ids. Jobs that never ended are taken to run
// until options.to.
BacktestReport Replay(const Config& config, const std::vector<Job>& jobs,
                      const RateEstimator& rates, const BacktestOptions& options);

// Pro rata: the PUs of `pu` a job running [started, ended) spends after
// `at`; all of them when it would be cancelled before it started.
double PuAfter(double pu, std::optional<TimePoint> started, TimePoint ended, TimePoint at);

}  // namespace rcw
