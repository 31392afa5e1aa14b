// Deciding: findings -> once-only audit lines and new pending cancellations.
#include "enforce/enforcer.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "enforce/selection.h"
#include "policy/verdict.h"

namespace rcw {
namespace {

constexpr std::string_view kManual = "manual";

}  // namespace

JobMarker Enforcer::Marker(std::string_view job, std::string_view owner, std::string_view what,
                          std::string_view itwin) {
  return JobMarker{std::string(job), std::string(owner), std::string(what), std::string(itwin)};
}

Enforcer::Enforcer(RealityConversionClient& api, AuditSink& audit, PersistentState& state,
                   EnforceObserver* observer, std::uint64_t seed)
    : api_(api), audit_(audit), state_(state), observer_(observer), rng_(seed) {}

void Enforcer::SetConfig(const Config* config, bool force_dry_run) {
  config_ = config;
  force_dry_run_ = force_dry_run;
}

bool Enforcer::dry_run() const {
  return force_dry_run_ || (config_ && config_->enforcement.dry_run);
}

bool Enforcer::ReportsOnly(const Finding& f) const {
  return f.policy_index ? config_->policies[*f.policy_index].action == PolicyAction::kReport
                        : config_->budgets[*f.budget_index].action == BudgetAction::kReport;
}

std::string Enforcer::OwnerName(const Finding& f) const {
  return f.policy_index ? config_->policies[*f.policy_index].name
                        : config_->budgets[*f.budget_index].name;
}

PendingCancel Enforcer::MakePending(const Finding& f, const Job& job, TimePoint now) const {
  PendingCancel p;
  p.job_id = job.id;
  p.policy = OwnerName(f);
  p.limit = ToString(f.limit);
  p.itwin_id = job.itwin_id;
  p.type = job.TypeText();
  p.name = job.name;
  p.user_id = job.user_id;
  p.observed = f.observed;
  p.threshold = f.threshold;
  p.requested_at = now;
  p.next_attempt = now;
  return p;
}

AuditEvent Enforcer::Line(const PendingCancel& p, std::string event, TimePoint now) const {
  AuditEvent e;
  e.ts = now;
  e.event = std::move(event);
  e.job_id = p.job_id;
  e.itwin_id = p.itwin_id;
  e.type = p.type;
  e.name = p.name;
  e.user_id = p.user_id;
  e.policy = p.policy;
  e.limit = p.limit;
  if (p.limit != kManual) {
    e.observed = p.observed;
    e.threshold = p.threshold;
  }
  return e;
}

Status Enforcer::Decide(const CycleView& view, TimePoint now) {
  if (view.is_poll) {  // a deadline re-check adds to the poll's picture
    breaker_tripped_ = false;
    started_this_poll_ = 0;
    fresh_.violators.clear();
    fresh_.states.clear();
    fresh_.as_of = view.polled_at;
    fresh_.valid = true;
  }
  Judge(view);
  if (now < audit_retry_at_) return Status(StatusCode::kUnavailable, "audit log failed recently");
  if (Status s = RecordFindings(view, now); !s.ok()) return AuditFailed(s, now);
  if (view.is_poll) {
    std::vector<AuditEvent> lines;
    Confirm(view, now, lines);
    if (Status s = audit_.Append(lines); !s.ok()) return AuditFailed(s, now);
  }
  if (Status s = QueueNew(view, now); !s.ok()) return AuditFailed(s, now);
  return Status::Ok();
}

void Enforcer::Judge(const CycleView& view) {
  const std::vector<Job>& jobs = *view.jobs;
  for (const Finding& f : CancellingFindings(*view.findings)) {
    if (f.policy_index || view.complete) fresh_.violators.insert(jobs[f.job_index].id);
  }
  RememberStates(jobs);
}

void Enforcer::RememberStates(const std::vector<Job>& jobs) {
  std::unordered_set<std::string_view> pending_ids;
  for (const PendingCancel& p : state_.pending) pending_ids.insert(p.job_id);
  if (pending_ids.empty() && fresh_.violators.empty()) return;
  for (const Job& job : jobs) {
    if (pending_ids.count(job.id) || fresh_.violators.count(job.id)) {
      fresh_.states[job.id] = job.state;
    }
  }
}

Status Enforcer::RecordFindings(const CycleView& view, TimePoint now) {
  const std::vector<Job>& jobs = *view.jobs;
  std::vector<AuditEvent> lines;
  std::vector<const Finding*> reported;  // report-only violations seen first now
  // Markers are set once their lines are on disk: a failed append leaves
  // them unset, so the lines are written by a later cycle.
  std::vector<std::pair<MarkerSet*, JobMarker>> markers;
  MarkerSet batch_warned, batch_violated;  // a job listed twice is recorded once
  for (const Finding& f : *view.findings) {
    if (f.limit == LimitKind::kBudget && !view.complete) continue;  // needs the whole picture
    const Job& job = jobs[f.job_index];
    std::string owner = OwnerName(f);
    bool warn = f.severity == Severity::kWarn;
    auto& seen = warn ? state_.warned : state_.violated;
    JobMarker key = Marker(job.id, owner, ToString(f.limit), job.itwin_id);
    if (seen.count(key) || !(warn ? batch_warned : batch_violated).insert(key).second) continue;
    markers.emplace_back(&seen, std::move(key));
    PendingCancel p = MakePending(f, job, now);
    AuditEvent e = Line(p, warn ? "warning" : "violation", now);
    e.message = DescribeFinding(f, owner);
    if (f.exempt) e.exempt = true;
    lines.push_back(std::move(e));
    if (warn) {
      if (observer_) observer_->OnWarning(owner);
      continue;
    }
    if (observer_) observer_->OnViolation(owner, ToString(f.limit));
    // Report-only owners get the dry-run pair; a cancel_queued budget over an
    // Active job is simply out of its action's scope: the violation line only.
    if (!f.cancel && !f.exempt && ReportsOnly(f)) reported.push_back(&f);
  }
  if (Status s = audit_.Append(lines); !s.ok()) return s;
  for (auto& [set, key] : markers) set->insert(std::move(key));
  for (const Finding* f : reported) {
    if (Status s = DryRun(*f, jobs[f->job_index], now); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Enforcer::DryRun(const Finding& f, const Job& job, TimePoint now) {
  PendingCancel p = MakePending(f, job, now);
  AuditEvent requested = Line(p, "cancel_requested", now);
  requested.dry_run = true;
  AuditEvent result = Line(p, "cancel_result", now);
  result.dry_run = true;
  result.outcome = "dry_run";
  result.message = dry_run() ? "dry run: no DELETE sent" : "policy action is report";
  if (Status s = audit_.Append({requested, result}); !s.ok()) return s;
  if (observer_) observer_->OnCancellationFinished(p.policy, "dry_run");
  return Status::Ok();
}

Status Enforcer::QueueNew(const CycleView& view, TimePoint now) {
  const std::vector<Job>& jobs = *view.jobs;
  std::unordered_set<std::string_view> pending_ids;
  std::size_t already = 0;
  for (const PendingCancel& p : state_.pending) {
    pending_ids.insert(p.job_id);
    if (p.limit != kManual && fresh_.violators.count(p.job_id)) ++already;
  }
  std::vector<Finding> wanted;
  std::vector<Finding> incomplete;
  for (const Finding& f : CancellingFindings(*view.findings)) {
    const Job& job = jobs[f.job_index];
    if (pending_ids.count(job.id) || !IsRunning(job.state)) continue;
    // A cancellation that ended without success (not_found, not_cancellable,
    // failed) is not started again for the same job: no request storms.
    if (state_.violated.count(Marker(job.id, OwnerName(f), "finished"))) continue;
    if (dry_run() && state_.violated.count(Marker(job.id, OwnerName(f), "dry_run"))) continue;
    (f.limit == LimitKind::kBudget && !view.complete ? incomplete : wanted).push_back(f);
    pending_ids.insert(job.id);  // a job listed twice is queued once
  }
  auto hour_ago = now - std::chrono::hours{1};
  std::erase_if(state_.cancel_times, [&](TimePoint t) { return t <= hour_ago; });
  // A deadline re-check shares its poll's safety limits: what the poll has
  // started counts against max_cancels_per_cycle, and a tripped breaker
  // holds until the next poll.
  EnforcementConfig limits = config_->enforcement;
  limits.max_cancels_per_cycle = std::max(0, limits.max_cancels_per_cycle - started_this_poll_);
  Selection sel = SelectCancellations(std::move(wanted), already, view.running,
                                      state_.cancel_times.size(), limits, jobs);
  if (breaker_tripped_ && !sel.start.empty()) {
    for (Finding& f : sel.start) sel.breaker.push_back(f);
    sel.start.clear();
  }
  bool newly_tripped = sel.breaker_tripped && !breaker_tripped_;
  breaker_tripped_ = breaker_tripped_ || sel.breaker_tripped;

  std::vector<AuditEvent> lines;
  std::vector<JobMarker> markers;  // set once the lines are on disk
  // The metric counts every hold-back; the audit log says it once per job,
  // owner and reason (a held-back job is held back again each poll: 100,000s
  // of lines a day otherwise).
  auto blocked = [&](const std::vector<Finding>& held, std::string_view reason) {
    if (held.empty()) return;
    if (observer_) observer_->OnBlocked(reason, held.size());
    std::string what = "blocked:" + std::string(reason);
    for (const Finding& f : held) {
      const Job& job = jobs[f.job_index];
      JobMarker key = Marker(job.id, OwnerName(f), what, job.itwin_id);
      if (state_.violated.count(key)) continue;
      markers.push_back(std::move(key));
      AuditEvent e = Line(MakePending(f, job, now), "cancel_blocked", now);
      e.outcome = std::string(reason);
      lines.push_back(std::move(e));
    }
  };
  blocked(incomplete, "incomplete_data");
  blocked(sel.over_cycle, "max_per_cycle");
  blocked(sel.over_hour, "max_per_hour");
  std::size_t before_breaker = lines.size();
  blocked(sel.breaker, "circuit_breaker");
  if (newly_tripped && lines.size() > before_breaker) {
    lines.back().message = BreakerMessage(sel, view.running, config_->enforcement);
  }
  if (Status s = audit_.Append(lines); !s.ok()) return s;
  for (JobMarker& key : markers) state_.violated.insert(std::move(key));

  for (const Finding& f : sel.start) {
    const Job& job = jobs[f.job_index];
    state_.cancel_times.push_back(now);
    ++started_this_poll_;
    if (dry_run()) {
      if (Status s = DryRun(f, job, now); !s.ok()) return s;
      state_.violated.insert(Marker(job.id, OwnerName(f), "dry_run", job.itwin_id));
      continue;
    }
    state_.pending.push_back(MakePending(f, job, now));
  }
  return Status::Ok();
}

Status Enforcer::AddManual(const std::vector<std::string>& job_ids, TimePoint now) {
  for (const std::string& id : job_ids) {
    auto same = [&](const PendingCancel& p) { return p.job_id == id; };
    if (std::any_of(state_.pending.begin(), state_.pending.end(), same)) continue;
    PendingCancel p;
    p.job_id = id;
    p.policy = std::string(kManual);
    p.limit = std::string(kManual);
    p.requested_at = now;
    p.next_attempt = now;
    state_.pending.push_back(std::move(p));
  }
  return Status::Ok();
}

}  // namespace rcw
