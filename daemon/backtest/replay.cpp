#include "backtest/replay.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <string_view>

#include "budget/budget_eval.h"
#include "budget/group.h"
#include "budget/window.h"
#include "config/match.h"
#include "policy/engine.h"

namespace rcw {
namespace {

// One job's life: Queued [created, queued_end), Active [started, end).
struct Life {
  TimePoint created{}, queued_end{}, end{};
  std::optional<TimePoint> started;
};

Life LifeOf(const Job& j, TimePoint to) {
  Life l;
  l.created = j.created;
  l.end = j.ended ? *j.ended : std::max(to, j.created);
  if (j.started && *j.started < l.end) l.started = std::max(*j.started, j.created);
  l.queued_end = l.started ? *l.started : l.end;
  return l;
}

// `v` (a copy of the job) as a poll at `t` would have shown it.
void SetView(Job& v, const Life& l, TimePoint t) {
  bool active = l.started && t >= *l.started;
  v.state = active ? JobState::kActive : JobState::kQueued;
  v.started = active ? l.started : std::nullopt;
  v.ended.reset();
  v.processing_units.reset();
}

// The moments at which a limit of a policy matching `j` can be crossed: the
// engine's crossing (limit + grace + 1 s, time limits compare whole seconds)
// and the moment the rate estimate passes max_processing_units.
void Candidates(const Config& config, const Job& j, const Life& l, const RateEstimator& rates,
                std::vector<TimePoint>& out) {
  out.clear();
  for (const PolicyConfig& p : config.policies) {
    if (!Matches(p.match, j)) continue;
    if (p.limits.max_queued) {
      TimePoint t = l.created + *p.limits.max_queued + p.grace + Seconds{1};
      if (t < l.queued_end) out.push_back(t);
    }
    if (!l.started) continue;
    if (p.limits.max_runtime) {
      TimePoint t = *l.started + *p.limits.max_runtime + p.grace + Seconds{1};
      if (t < l.end) out.push_back(t);
    }
    std::optional<double> rate = rates.RatePerHour(j.type);
    if (p.limits.max_processing_units && rate && *rate > 0) {
      double ms = std::ceil(*p.limits.max_processing_units / *rate * 3.6e6);
      if (ms < 1e15) {
        TimePoint t = *l.started + Millis(static_cast<std::int64_t>(ms) + 1);
        if (t < l.end) out.push_back(t);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

TimePoint CrossedAt(const PolicyConfig& p, LimitKind limit, const Life& l, TimePoint violated) {
  if (limit == LimitKind::kMaxQueued) return l.created + *p.limits.max_queued;
  if (limit == LimitKind::kMaxRuntime && l.started) return *l.started + *p.limits.max_runtime;
  return violated;
}

double SecondsBetween(TimePoint a, TimePoint b) {
  return std::chrono::duration<double>(b - a).count();
}

bool InPeriod(TimePoint t, const BacktestOptions& o) { return o.from <= t && t <= o.to; }

// Replays the policies on job `i`: its hits, and outcomes for the cancelling
// one (the earliest) and for report-only policies over a limit before it.
class Replayer {
 public:
  Replayer(const Config& config, const std::vector<Job>& jobs, const RateEstimator& rates,
           const BacktestOptions& options, BacktestReport& report)
      : config_(config), jobs_(jobs), rates_(rates), options_(options), report_(report) {
    in_.config = &config_;
    in_.jobs = &one_;
    in_.rates = &rates_;
    one_.resize(1);
  }

  void Run() {
    lives_.reserve(jobs_.size());
    for (const Job& j : jobs_) lives_.push_back(LifeOf(j, options_.to));
    eff_end_.resize(jobs_.size());
    eff_queued_end_.resize(jobs_.size());
    cancelled_.assign(jobs_.size(), false);
    for (std::uint32_t i = 0; i < jobs_.size(); ++i) {
      const Life& l = lives_[i];
      if (l.created <= options_.to && l.end >= options_.from) ++report_.jobs_seen;
      ReplayPolicies(i);
    }
    report_.hit_begin.push_back(static_cast<std::uint32_t>(report_.hits.size()));
    for (std::size_t b = 0; b < config_.budgets.size(); ++b) ReplayBudget(b);
    SafetyLimits();
    Summarise();
  }

 private:
  // The job's PUs as it ran: reported, else estimated.
  std::optional<double> PuOf(std::uint32_t i) const {
    const Job& j = jobs_[i];
    if (j.processing_units) return j.processing_units;
    Job done = j;
    done.ended = lives_[i].end;
    if (!IsTerminal(done.state)) done.state = JobState::kCancelled;
    return rates_.EstimateProcessingUnits(done, lives_[i].end);
  }

  JobOutcome Outcome(std::uint32_t i, TimePoint at, bool cancelled) const {
    JobOutcome o;
    o.job_index = i;
    o.cancel_at = at;
    o.cancelled = cancelled;
    std::optional<double> pu = PuOf(i);
    o.pu_known = pu.has_value();
    o.pu = pu.value_or(0);
    if (cancelled) Settle(o);
    return o;
  }

  void Settle(JobOutcome& o) const {
    const Life& l = lives_[o.job_index];
    o.pu_saved = o.cancelled ? PuAfter(o.pu, l.started, l.end, o.cancel_at) : 0;
    o.success_cut_short = o.cancelled && jobs_[o.job_index].state == JobState::kSuccess;
    o.pu_lost = o.success_cut_short ? std::max(0.0, o.pu - o.pu_saved) : 0;
  }

  void ReplayPolicies(std::uint32_t i) {
    const Job& job = jobs_[i];
    const Life& l = lives_[i];
    report_.hit_begin.push_back(static_cast<std::uint32_t>(report_.hits.size()));
    eff_end_[i] = l.end;
    eff_queued_end_[i] = l.queued_end;
    Candidates(config_, job, l, rates_, candidates_);
    if (candidates_.empty()) return;
    one_[0] = job;
    std::vector<bool> seen(config_.policies.size(), false);
    std::size_t first = report_.hits.size();
    for (TimePoint t : candidates_) {
      SetView(one_[0], l, t);
      in_.now = t;
      Evaluation ev = Evaluate(in_);
      for (const Finding& f : ev.findings) {
        if (f.severity != Severity::kViolation || !f.policy_index || seen[*f.policy_index]) {
          continue;
        }
        seen[*f.policy_index] = true;
        const PolicyConfig& p = config_.policies[*f.policy_index];
        report_.hits.push_back(
            {*f.policy_index, f.limit, t, CrossedAt(p, f.limit, l, t), f.exempt, f.cancel});
      }
    }
    // The earliest cancelling hit cancels; report-only hits up to then count.
    std::optional<std::size_t> cancel;
    for (std::size_t h = first; h < report_.hits.size(); ++h) {
      if (report_.hits[h].cancels && !cancel) cancel = h;
    }
    TimePoint cancel_at = cancel ? report_.hits[*cancel].violated_at : TimePoint::max();
    for (std::size_t h = first; h < report_.hits.size(); ++h) {
      const PolicyHit& hit = report_.hits[h];
      if (hit.exempt || hit.violated_at > cancel_at || (hit.cancels && h != cancel)) continue;
      JobOutcome o = Outcome(i, hit.violated_at, hit.cancels);
      o.owner = config_.policies[hit.policy_index].name;
      o.limit = std::string(ToString(hit.limit));
      TimePoint limit_end = hit.limit == LimitKind::kMaxQueued ? l.queued_end : l.end;
      o.overrun_s = std::max(0.0, SecondsBetween(hit.crossed_at, limit_end));
      if (!InPeriod(o.cancel_at, options_)) continue;
      if (o.cancelled) Cancel(i, o.cancel_at);
      report_.outcomes.push_back(std::move(o));
    }
  }

  void Cancel(std::uint32_t i, TimePoint at) {
    cancelled_[i] = true;
    eff_end_[i] = std::min(eff_end_[i], at);
    eff_queued_end_[i] = std::min(eff_queued_end_[i], at);
  }

  // The PUs job `i` spends as the replay has it (cancelled: up to then).
  double EffectivePu(std::uint32_t i, double pu) const {
    const Life& l = lives_[i];
    return cancelled_[i] ? pu - PuAfter(pu, l.started, l.end, eff_end_[i]) : pu;
  }

  void ReplayBudget(std::size_t b) {
    const BudgetConfig& budget = config_.budgets[b];
    Result<WindowCalculator> calc = WindowCalculator::Create(budget.window, budget.timezone);
    if (!calc.ok()) return;
    std::map<std::string_view, std::vector<std::uint32_t>> groups;
    for (std::uint32_t i = 0; i < jobs_.size(); ++i) {
      if (Matches(budget.match, jobs_[i])) groups[GroupKey(budget.group_by, jobs_[i])].push_back(i);
    }
    for (auto& [group, members] : groups) {
      std::vector<std::pair<TimePoint, double>> spends;
      for (std::uint32_t i : members) {
        if (std::optional<double> pu = PuOf(i))
          spends.emplace_back(eff_end_[i], EffectivePu(i, *pu));
      }
      std::sort(spends.begin(), spends.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      std::vector<std::pair<TimePoint, WindowSpan>> crossings;
      WindowSpan window;
      double sum = 0;
      bool crossed = false;
      for (const auto& [end, pu] : spends) {
        if (!window.Contains(end)) {
          window = calc->Containing(end);
          sum = 0;
          crossed = false;
        }
        if (crossed) continue;
        sum += pu;
        if (sum >= budget.limit) {
          crossed = true;
          crossings.emplace_back(end, window);
        }
      }
      for (const auto& [at, span] : crossings) CancelForBudget(b, group, at, span, members);
    }
  }

  void CancelForBudget(std::size_t b, std::string_view group, TimePoint at, const WindowSpan& span,
                       const std::vector<std::uint32_t>& members) {
    const BudgetConfig& budget = config_.budgets[b];
    if (at > options_.to || span.end < options_.from) return;
    BudgetCrossing c{budget.name, std::string(group), span.label, at, 0, 0};
    auto crossing = static_cast<std::int32_t>(report_.budgets.size());
    for (std::uint32_t i : members) {
      if (cancelled_[i]) continue;
      const Life& l = lives_[i];
      // When in [at, span.end) the job was in a state the budget cancels.
      TimePoint t = std::max(at, l.created);
      bool hit = (t < eff_queued_end_[i] && BudgetCancels(budget, JobState::kQueued)) ||
                 (t < eff_end_[i] && l.started && BudgetCancels(budget, JobState::kActive));
      if (!hit || t >= span.end || !InPeriod(t, options_)) continue;
      JobOutcome o = Outcome(i, t, true);
      o.owner = budget.name;
      o.limit = "budget";
      o.budget = true;
      o.crossing = crossing;
      Cancel(i, t);
      ++c.jobs_cancelled;
      c.pu_saved += o.pu_saved;
      report_.outcomes.push_back(std::move(o));
    }
    report_.budgets.push_back(std::move(c));
  }

  // Jobs Queued or Active at `t` (the circuit breaker's denominator).
  std::size_t RunningAt(TimePoint t) const {
    auto created = std::upper_bound(starts_.begin(), starts_.end(), t) - starts_.begin();
    auto ended = std::upper_bound(ends_.begin(), ends_.end(), t) - ends_.begin();
    return static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, created - ended));
  }

  // Per poll cycle, as the enforcer would: the circuit breaker, then at most
  // max_cancels_per_cycle and what is left of max_cancels_per_hour, earliest
  // first; the rest waits for the next cycle while its job runs.
  void SafetyLimits() {
    for (const Life& l : lives_) {
      starts_.push_back(l.created);
      ends_.push_back(l.end);
    }
    std::sort(starts_.begin(), starts_.end());
    std::sort(ends_.begin(), ends_.end());
    std::vector<std::uint32_t> order;
    for (std::uint32_t k = 0; k < report_.outcomes.size(); ++k) {
      if (report_.outcomes[k].cancelled) order.push_back(k);
    }
    std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
      return report_.outcomes[x].cancel_at < report_.outcomes[y].cancel_at;
    });
    const EnforcementConfig& e = config_.enforcement;
    const Millis poll = std::max<Millis>(config_.watch.poll_interval, Millis{1});
    auto cycle_of = [&](TimePoint t) { return t.time_since_epoch() / poll; };
    std::deque<TimePoint> last_hour;
    std::vector<std::uint32_t> due;
    std::size_t next = 0;
    auto k = order.empty() ? 0 : cycle_of(report_.outcomes[order[0]].cancel_at);
    while (next < order.size() || !due.empty()) {
      if (due.empty()) k = std::max(k, cycle_of(report_.outcomes[order[next]].cancel_at));
      TimePoint start = TimePoint(poll * k), end = start + poll;
      while (next < order.size() && report_.outcomes[order[next]].cancel_at < end) {
        due.push_back(order[next++]);
      }
      // Held jobs that ended meanwhile are never cancelled.
      std::erase_if(due, [&](std::uint32_t o) {
        JobOutcome& x = report_.outcomes[o];
        if (!x.held_back || lives_[x.job_index].end > start) return false;
        ++report_.held_back_for_good;
        if (options_.with_safety_limits) x.cancelled = false, Settle(x);
        return true;
      });
      while (!last_hour.empty() && last_hour.front() <= start - Seconds{3600})
        last_hour.pop_front();
      std::size_t take =
          std::min<std::size_t>(due.size(), static_cast<std::size_t>(e.max_cancels_per_cycle));
      std::size_t hour_left = static_cast<std::size_t>(std::max<std::ptrdiff_t>(
          0, e.max_cancels_per_hour - static_cast<std::ptrdiff_t>(last_hour.size())));
      std::size_t* reason = take < due.size() ? &report_.held_max_per_cycle : nullptr;
      if (hour_left < take) take = hour_left, reason = &report_.held_max_per_hour;
      if (static_cast<int>(due.size()) >= e.circuit_breaker_min_jobs &&
          static_cast<double>(due.size()) >
              e.max_cancel_fraction * static_cast<double>(RunningAt(start))) {
        take = 0;
        reason = &report_.held_circuit_breaker;
      }
      for (std::size_t n = 0; n < due.size(); ++n) {
        JobOutcome& x = report_.outcomes[due[n]];
        if (n < take) {
          if (x.held_back && options_.with_safety_limits) x.cancel_at = start, Settle(x);
          last_hour.push_back(start);
          continue;
        }
        if (!x.held_back) {
          x.held_back = true;
          ++report_.held_back;
          if (reason) ++*reason;
        }
      }
      due.erase(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(take));
      ++k;
    }
  }

  void Summarise() {
    std::sort(report_.outcomes.begin(), report_.outcomes.end(),
              [](const JobOutcome& x, const JobOutcome& y) { return x.cancel_at < y.cancel_at; });
    std::map<std::string_view, std::vector<double>> overruns;
    for (const PolicyConfig& p : config_.policies) {
      report_.policies.push_back({p.name, p.action == PolicyAction::kReport});
    }
    for (BudgetCrossing& c : report_.budgets) c.jobs_cancelled = 0, c.pu_saved = 0;
    for (const JobOutcome& o : report_.outcomes) {
      if (o.budget) {
        if (o.cancelled && o.crossing >= 0) {
          BudgetCrossing& c = report_.budgets[static_cast<std::size_t>(o.crossing)];
          ++c.jobs_cancelled;
          c.pu_saved += o.pu_saved;
        }
        continue;
      }
      auto it = std::find_if(report_.policies.begin(), report_.policies.end(),
                             [&](const PolicySummary& s) { return s.name == o.owner; });
      PolicySummary& s = *it;
      ++s.jobs_over_limit;
      overruns[s.name].push_back(o.overrun_s);
      if (!o.cancelled) continue;
      ++s.jobs_cancelled;
      s.pu_saved += o.pu_saved;
      if (o.success_cut_short) ++s.successes_cut_short, s.pu_lost += o.pu_lost;
    }
    for (PolicySummary& s : report_.policies) {
      std::vector<double>& v = overruns[s.name];
      if (v.empty()) continue;
      std::sort(v.begin(), v.end());
      std::size_t n = v.size();
      s.median_overrun_s = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
      s.worst_overrun_s = v.back();
    }
  }

  const Config& config_;
  const std::vector<Job>& jobs_;
  const RateEstimator& rates_;
  const BacktestOptions& options_;
  BacktestReport& report_;
  EvalInputs in_;
  std::vector<Job> one_;
  std::vector<TimePoint> candidates_;
  std::vector<Life> lives_;
  std::vector<TimePoint> eff_end_, eff_queued_end_;
  std::vector<bool> cancelled_;
  std::vector<TimePoint> starts_, ends_;
};

}  // namespace

double PuAfter(double pu, std::optional<TimePoint> started, TimePoint ended, TimePoint at) {
  if (!started || at <= *started) return pu;
  if (at >= ended || ended <= *started) return 0;
  return pu * SecondsBetween(at, ended) / SecondsBetween(*started, ended);
}

BacktestReport Replay(const Config& config, const std::vector<Job>& jobs,
                      const RateEstimator& rates, const BacktestOptions& options) {
  BacktestReport report;
  report.from = options.from;
  report.to = options.to;
  Replayer(config, jobs, rates, options, report).Run();
  return report;
}

}  // namespace rcw
