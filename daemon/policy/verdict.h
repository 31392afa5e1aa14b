// Findings: what the policy engine concludes about one job under one policy
// limit or budget. Plain values, handed to enforcement and to `plan`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

namespace rcw {

enum class LimitKind : std::uint8_t { kMaxRuntime, kMaxQueued, kMaxProcessingUnits, kBudget };
// "max_runtime", "max_queued", "max_processing_units", "budget" (metric labels).
std::string_view ToString(LimitKind limit);

enum class Severity : std::uint8_t {
  kWarn,       // past warn_at of a limit, not over it
  kViolation,  // over the limit (plus grace): would cancel under action cancel
};

struct Finding {
  std::uint32_t job_index = 0;  // into the jobs vector that was evaluated
  // Exactly one of policy_index / budget_index is set.
  std::optional<std::uint32_t> policy_index;
  std::optional<std::uint32_t> budget_index;
  LimitKind limit = LimitKind::kMaxRuntime;
  Severity severity = Severity::kViolation;
  double observed = 0;   // seconds for time limits, processing units otherwise
  double threshold = 0;  // the limit, same unit (without grace)
  bool estimated = false;  // observed PUs are an estimate, not reported
  bool exempt = false;     // matched the policy's exempt rules: never cancelled
  bool cancel = false;     // a violation whose action cancels (not report, not exempt)
  // Warnings: when the job will be cancelled if nothing changes (start +
  // limit + grace; for processing units, estimated from the job type's rate,
  // see `estimated`). Unset when it cannot be told.
  std::optional<TimePoint> cancel_at;

  // How far over: observed / threshold. Orders the worst offenders first.
  double Ratio() const { return threshold > 0 ? observed / threshold : 0; }
};

struct Evaluation {
  std::vector<Finding> findings;  // only warnings and violations, by job then policy
  // The earliest moment after `now` at which a watched, cancellable job will
  // cross a time limit (plus grace), if before the horizon given to Evaluate.
  std::optional<TimePoint> next_deadline;
};

// "runtime 2h13m > max_runtime 2h (grace 5m)"-style text for audit and plan.
std::string DescribeFinding(const Finding& f, std::string_view owner_name);

}  // namespace rcw
