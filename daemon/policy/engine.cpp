#include "policy/engine.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include "config/match.h"

namespace rcw {
namespace {

using std::chrono::duration_cast;

double ToSeconds(Seconds s) { return static_cast<double>(s.count()); }

// Running time and its start for one job, computed once per job.
struct JobClock {
  std::optional<TimePoint> active_since;  // Active jobs
  std::optional<TimePoint> queued_since;  // Queued jobs
};

JobClock ClockOf(const Job& job, const EvalInputs& in) {
  JobClock c;
  if (job.state == JobState::kQueued) {
    c.queued_since = job.created;
  } else if (job.state == JobState::kActive) {
    if (job.started) {
      c.active_since = job.started;
    } else if (in.first_seen_active) {
      c.active_since = in.first_seen_active(job.id);
    }
  }
  return c;
}

// Checks one time limit. Returns a finding when warned or violated, and
// lowers `deadline` to the crossing moment when it is still ahead.
std::optional<Finding> CheckTime(std::optional<TimePoint> since, std::optional<Seconds> limit,
                                 LimitKind kind, const PolicyConfig& p, TimePoint now,
                                 std::optional<TimePoint>& deadline) {
  if (!since || !limit) return std::nullopt;
  Seconds elapsed = std::chrono::floor<Seconds>(now - *since);
  Finding f;
  f.limit = kind;
  f.observed = ToSeconds(elapsed);
  f.threshold = ToSeconds(*limit);
  TimePoint crossing = *since + *limit + p.grace + Seconds{1};
  if (now >= crossing) {
    f.severity = Severity::kViolation;
    return f;
  }
  if (!deadline || crossing < *deadline) deadline = crossing;
  if (p.warn_at && f.observed >= *p.warn_at * f.threshold) {
    f.severity = Severity::kWarn;
    f.cancel_at = *since + *limit + p.grace;
    return f;
  }
  return std::nullopt;
}

std::optional<Finding> CheckUnits(const Job& job, const PolicyConfig& p, const EvalInputs& in) {
  if (!p.limits.max_processing_units) return std::nullopt;
  std::optional<double> pu = job.processing_units;
  bool estimated = false;
  if (!pu && in.rates) {
    pu = in.rates->EstimateProcessingUnits(job, in.now);
    estimated = pu.has_value();
  }
  if (!pu) return std::nullopt;
  Finding f;
  f.limit = LimitKind::kMaxProcessingUnits;
  f.observed = *pu;
  f.threshold = *p.limits.max_processing_units;
  f.estimated = estimated;
  // A running job's units grow at its type's rate (reported units mostly
  // come with ended jobs). `grace` is time: at that rate, the units a job
  // uses during it. Without a known rate there is no way to tell, and the
  // limit applies as it is.
  std::optional<double> rate = in.rates ? in.rates->RatePerHour(job.type) : std::nullopt;
  if (rate && *rate <= 0) rate.reset();
  double grace_units = rate ? *rate * std::chrono::duration<double>(p.grace).count() / 3600 : 0;
  double cancel_above = f.threshold + grace_units;
  if (f.observed > cancel_above) {
    f.severity = Severity::kViolation;
    return f;
  }
  // Over the limit but within its grace, or past warn_at: a warning.
  if (p.warn_at && f.observed >= *p.warn_at * f.threshold) {
    f.severity = Severity::kWarn;
    if (rate) {
      double hours = (cancel_above - f.observed) / *rate;
      auto ahead = std::chrono::duration<double>(std::clamp(hours, 0.0, 24.0 * 366) * 3600);
      f.cancel_at = in.now + std::chrono::duration_cast<Millis>(ahead);
    }
    return f;
  }
  return std::nullopt;
}

// The finding of one policy for one job: the first violated limit, else the
// first warning.
std::optional<Finding> CheckPolicy(const Job& job, const JobClock& clock, const PolicyConfig& p,
                                   const EvalInputs& in, std::optional<TimePoint>& deadline) {
  std::optional<TimePoint> policy_deadline;
  std::optional<Finding> results[] = {
      CheckTime(clock.active_since, p.limits.max_runtime, LimitKind::kMaxRuntime, p, in.now,
                policy_deadline),
      CheckTime(clock.queued_since, p.limits.max_queued, LimitKind::kMaxQueued, p, in.now,
                policy_deadline),
      CheckUnits(job, p, in)};
  bool exempt = IsExempt(p.exempt, job);
  if (!exempt && p.action == PolicyAction::kCancel && policy_deadline &&
      (!deadline || *policy_deadline < *deadline)) {
    deadline = policy_deadline;
  }
  std::optional<Finding> chosen;
  for (auto& r : results) {
    if (r && r->severity == Severity::kViolation) {
      chosen = r;
      break;
    }
    if (r && !chosen) chosen = r;
  }
  if (chosen) {
    chosen->exempt = exempt;
    chosen->cancel = chosen->severity == Severity::kViolation && !exempt &&
                     p.action == PolicyAction::kCancel;
  }
  return chosen;
}

// One pass over the jobs: each job is looked up in the exceeded groups of
// every budget it matches (O(jobs x budgets), not O(jobs x groups)).
void AddBudgetFindings(const EvalInputs& in, std::vector<Finding>& out) {
  const Config& config = *in.config;
  const std::vector<Job>& jobs = *in.jobs;
  std::map<std::pair<std::size_t, std::string_view>, const BudgetGroupStatus*> exceeded;
  for (const BudgetGroupStatus& status : *in.budgets) {
    if (status.exceeded) exceeded.emplace(std::make_pair(status.budget_index, std::string_view(status.group)), &status);
  }
  if (exceeded.empty()) return;
  for (std::uint32_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    if (!IsRunning(job.state)) continue;
    for (std::size_t b = 0; b < config.budgets.size(); ++b) {
      const BudgetConfig& budget = config.budgets[b];
      auto it = exceeded.find({b, GroupKey(budget.group_by, job)});
      if (it == exceeded.end() || !Matches(budget.match, job)) continue;
      const BudgetGroupStatus& status = *it->second;
      Finding f;
      f.job_index = i;
      f.budget_index = static_cast<std::uint32_t>(b);
      f.limit = LimitKind::kBudget;
      f.severity = Severity::kViolation;
      f.observed = status.Spent();
      f.threshold = status.limit;
      f.estimated = status.spent_running > 0;
      f.cancel = BudgetCancels(budget, job.state);
      out.push_back(f);
    }
  }
}

}  // namespace

std::optional<Seconds> RunningFor(const Job& job, std::optional<TimePoint> first_seen_active,
                                  TimePoint now) {
  std::optional<TimePoint> since;
  if (job.state == JobState::kQueued) since = job.created;
  if (job.state == JobState::kActive) since = job.started ? job.started : first_seen_active;
  if (!since) return std::nullopt;
  return std::chrono::floor<Seconds>(now - *since);
}

Evaluation Evaluate(const EvalInputs& in) {
  Evaluation ev;
  const std::vector<Job>& jobs = *in.jobs;
  const std::vector<PolicyConfig>& policies = in.config->policies;
  for (std::uint32_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    if (!IsRunning(job.state)) continue;
    JobClock clock = ClockOf(job, in);
    for (std::uint32_t p = 0; p < policies.size(); ++p) {
      if (!Matches(policies[p].match, job)) continue;
      std::optional<Finding> f = CheckPolicy(job, clock, policies[p], in, ev.next_deadline);
      if (!f) continue;
      f->job_index = i;
      f->policy_index = p;
      ev.findings.push_back(*f);
    }
  }
  if (in.budgets) AddBudgetFindings(in, ev.findings);
  return ev;
}

}  // namespace rcw
