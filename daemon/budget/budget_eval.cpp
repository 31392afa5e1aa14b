#include "budget/budget_eval.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "budget/group_index.h"
#include "config/match.h"

namespace rcw {
namespace {

constexpr std::size_t kNoGroup = static_cast<std::size_t>(-1);

struct GroupTally {
  bool present = false;  // has a ledger entry or a running job
  double ended = 0;
  double running = 0;
  std::size_t running_jobs = 0;
  std::size_t unestimated_jobs = 0;
};

// One budget during one evaluation: its window, computed once, and its
// groups by their number in the GroupIndex of the budget's GroupBy.
struct BudgetTally {
  WindowSpan window;
  bool utc_fallback = false;
  std::vector<GroupTally> groups;

  GroupTally& Group(std::size_t n) {
    if (n >= groups.size()) groups.resize(n + 1);
    groups[n].present = true;
    return groups[n];
  }
};

std::size_t KindOf(GroupBy g) { return static_cast<std::size_t>(g); }

// One GroupIndex per GroupBy kind, shared by the budgets of that kind; type
// groups are also numbered by JobType directly, so they are never hashed.
class GroupNumbers {
 public:
  GroupNumbers() { by_type_.fill(kNoGroup); }
  GroupIndex& Index(GroupBy g) { return indexes_[KindOf(g)]; }
  std::size_t Of(GroupBy g, const Job& job) {
    if (g != GroupBy::kType) return Index(g).Of(GroupKey(g, job));
    std::size_t& n = by_type_[static_cast<std::size_t>(job.type)];
    if (n == kNoGroup) n = Index(g).Of(GroupKey(g, job));
    return n;
  }

 private:
  std::array<GroupIndex, 4> indexes_;
  std::array<std::size_t, kJobTypeCount> by_type_;
};

// The window of `budget` containing `now`; in UTC when its zone fails to
// load (config validation makes that unlikely), so the budget still holds.
WindowSpan CurrentWindow(const BudgetConfig& budget, TimePoint now, bool* utc_fallback) {
  Result<WindowCalculator> calc = WindowCalculator::Create(budget.window, budget.timezone);
  if (utc_fallback != nullptr) *utc_fallback = !calc.ok();
  if (calc.ok()) return calc->Containing(now);
  return WindowCalculator::Create(budget.window, "UTC")->Containing(now);
}

BudgetTally StartTally(const BudgetConfig& budget, const Ledger& ledger, TimePoint now,
                       GroupIndex& index) {
  BudgetTally tally;
  tally.window = CurrentWindow(budget, now, &tally.utc_fallback);
  for (const auto& [group, pu] : ledger.SpentByGroup(budget, tally.window)) {
    tally.Group(index.Of(group)).ended = pu;
  }
  return tally;
}

// A running job's group numbers and estimate, each computed at most once
// however many budgets need it.
class JobFacts {
 public:
  JobFacts(const Job& job, const RateEstimator& rates, TimePoint now, GroupNumbers& groups)
      : job_(job), rates_(rates), now_(now), groups_(groups) {
    numbers_.fill(kNoGroup);
  }
  const Job& job() const { return job_; }
  std::size_t Group(GroupBy g) {
    std::size_t& n = numbers_[KindOf(g)];
    if (n == kNoGroup) n = groups_.Of(g, job_);
    return n;
  }
  const std::optional<double>& Estimate() {
    if (!estimated_) estimate_ = rates_.EstimateProcessingUnits(job_, now_);
    estimated_ = true;
    return estimate_;
  }

 private:
  const Job& job_;
  const RateEstimator& rates_;
  TimePoint now_;
  GroupNumbers& groups_;
  std::array<std::size_t, 4> numbers_;
  bool estimated_ = false;
  std::optional<double> estimate_;
};

void AddRunning(const BudgetConfig& budget, JobFacts& facts, BudgetTally& tally) {
  if (!Matches(budget.match, facts.job())) return;
  GroupTally& g = tally.Group(facts.Group(budget.group_by));
  ++g.running_jobs;
  if (!budget.count_running) return;
  const std::optional<double>& pu = facts.Estimate();
  if (pu) {
    g.running += *pu;
  } else {
    ++g.unestimated_jobs;
  }
}

BudgetGroupStatus StatusOf(std::size_t index, const BudgetConfig& budget, const BudgetTally& tally,
                           const std::string& group, const GroupTally& g) {
  BudgetGroupStatus s;
  s.budget_index = index;
  s.group = group;
  s.window = tally.window;
  s.spent_ended = g.ended;
  s.spent_running = g.running;
  s.limit = budget.limit;
  s.running_jobs = g.running_jobs;
  s.unestimated_jobs = g.unestimated_jobs;
  s.utc_fallback = tally.utc_fallback;
  s.warn = budget.warn_at && s.Spent() >= *budget.warn_at * budget.limit;
  s.exceeded = s.Spent() >= budget.limit;
  return s;
}

// Appends the statuses of budget `i`, ordered by group.
void AppendStatuses(std::size_t i, const BudgetConfig& budget, const BudgetTally& tally,
                    const GroupIndex& index, std::vector<BudgetGroupStatus>& out) {
  std::size_t first = out.size();
  for (std::size_t n = 0; n < tally.groups.size(); ++n) {
    if (tally.groups[n].present) {
      out.push_back(StatusOf(i, budget, tally, index.Key(n), tally.groups[n]));
    }
  }
  std::sort(
      out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
      [](const BudgetGroupStatus& a, const BudgetGroupStatus& b) { return a.group < b.group; });
}

}  // namespace

std::vector<BudgetGroupStatus> EvaluateBudgets(const Config& config, const Ledger& ledger,
                                               const RateEstimator& rates,
                                               const std::vector<Job>& jobs, TimePoint now) {
  const std::vector<BudgetConfig>& budgets = config.budgets;
  GroupNumbers groups;
  std::vector<BudgetTally> tallies;
  tallies.reserve(budgets.size());
  for (const BudgetConfig& b : budgets) {
    tallies.push_back(StartTally(b, ledger, now, groups.Index(b.group_by)));
  }
  for (const Job& job : jobs) {
    if (!IsRunning(job.state)) continue;
    JobFacts facts(job, rates, now, groups);
    for (std::size_t i = 0; i < budgets.size(); ++i) AddRunning(budgets[i], facts, tallies[i]);
  }
  std::vector<BudgetGroupStatus> out;
  for (std::size_t i = 0; i < budgets.size(); ++i) {
    AppendStatuses(i, budgets[i], tallies[i], groups.Index(budgets[i].group_by), out);
  }
  return out;
}

bool BudgetCancels(const BudgetConfig& budget, JobState state) {
  switch (budget.action) {
    case BudgetAction::kCancelQueued:
      return state == JobState::kQueued;
    case BudgetAction::kCancelAll:
      return IsRunning(state);
    case BudgetAction::kReport:
      break;
  }
  return false;
}

TimePoint BudgetWindowsStart(const Config& config, TimePoint now) {
  TimePoint start = TimePoint::max();
  for (const BudgetConfig& b : config.budgets) {
    start = std::min(start, CurrentWindow(b, now, nullptr).start);
  }
  return start;
}

TimePoint LedgerHorizon(const Config& config, TimePoint now) {
  TimePoint horizon = now - config.watch.lookback;
  for (const BudgetConfig& b : config.budgets) {
    horizon = std::min(horizon, CurrentWindow(b, now, nullptr).start);
  }
  return horizon;
}

}  // namespace rcw
