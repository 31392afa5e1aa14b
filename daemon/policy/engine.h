// The policy engine: pure decisions. (jobs, facts, now) -> findings. No I/O,
// no clock: everything that changes over time is a parameter.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "budget/budget_eval.h"
#include "budget/estimates.h"
#include "config/config.h"
#include "policy/verdict.h"

namespace rcw {

struct EvalInputs {
  const Config* config = nullptr;
  const std::vector<Job>* jobs = nullptr;
  // When an Active job has no startedDateTime: the first poll that saw it
  // Active (kept in state). nullopt: runtime cannot be measured yet.
  std::function<std::optional<TimePoint>(std::string_view job_id)> first_seen_active;
  const RateEstimator* rates = nullptr;          // for max_processing_units estimates
  const std::vector<BudgetGroupStatus>* budgets = nullptr;  // may be null: no budget findings
  TimePoint now{};
};

// Evaluates every policy against every Queued/Active job and every exceeded
// budget against the jobs of its group. A job matching several policies gets
// a finding from each; within one policy the limits are checked in the order
// max_runtime, max_queued, max_processing_units and the first violated one is
// reported (a warning is reported only when no limit of that policy is
// violated). Time limits compare strictly: runtime 2h00m00s is not over 2h.
Evaluation Evaluate(const EvalInputs& in);

// Runtime of an Active job (from startedDateTime, else first seen Active) or
// queued time of a Queued job; nullopt when not measurable.
std::optional<Seconds> RunningFor(const Job& job, std::optional<TimePoint> first_seen_active,
                                  TimePoint now);

}  // namespace rcw
