#include "service/watchdog.h"

#include <malloc.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "base/log.h"
#include "base/timefmt.h"
#include "notify/alert_book.h"
#include "policy/engine.h"
#include "service/poller.h"

namespace rcw {
namespace {

// Findings of jobs whose iTwin is not watched (any more, after a reload) are
// dropped: nothing is decided about them.
void DropUnwatched(const Config& config, const std::vector<Job>& jobs,
                   std::vector<Finding>& findings) {
  const std::vector<std::string>& watched = config.watch.itwins;
  if (watched.empty()) return;
  std::erase_if(findings, [&](const Finding& f) {
    std::string_view itwin = jobs[f.job_index].itwin_id;
    return std::find(watched.begin(), watched.end(), itwin) == watched.end();
  });
}

}  // namespace

std::string CycleSummary::ToString(std::size_t pending) const {
  std::string s = "watching " + std::to_string(jobs) + " jobs (" + std::to_string(running) +
                  " running), " + std::to_string(violations) + " violations, " +
                  std::to_string(pending) + " cancellations pending";
  if (!error.empty()) s += "; last poll failed: " + error;
  return s;
}

Watchdog::Watchdog(RealityConversionClient& api, AuditSink& audit, StateStore& store,
                   const Clock& clock, Metrics* metrics, EnforceObserver* observer,
                   PersistentState state, std::shared_ptr<const Config> config, bool force_dry_run)
    : api_(api),
      audit_(audit),
      store_(store),
      clock_(clock),
      metrics_(metrics),
      state_(std::move(state)),
      config_(std::move(config)),
      force_dry_run_(force_dry_run),
      books_(*config_),
      tap_(*this, observer),
      enforcer_(api, audit, state_, &tap_, std::random_device{}()) {
  if (!state_.ledger_complete) ledger_floor_ = TimePoint::max();  // none read yet
  books_.Restore(state_);
  SetConfig(config_);
}

Status Watchdog::EnsureLedger(TimePoint from) {
  if (!ledger_floor_ || from >= *ledger_floor_) return Status::Ok();
  // Nothing that ended before the pruned horizon is counted again: below
  // it, whatever the store still has is read too (as a whole load would).
  std::optional<TimePoint> lower = from;
  std::optional<TimePoint> pruned = books_.ledger.pruned_before();
  if (pruned && from <= *pruned) lower.reset();
  Result<LedgerEntries> rows = store_.LoadLedger(lower, *ledger_floor_);
  if (!rows.ok()) return rows.status();
  std::size_t read = rows->size();
  books_.ledger.Prepend(std::move(*rows));
  ledger_floor_ = lower;
  LogDebug("ledger: read " + std::to_string(read) + " entries" +
           (lower ? " of jobs ended since " + FormatTimestampMs(*lower) : std::string(" (all)")));
  return Status::Ok();
}

void Watchdog::SetConfig(std::shared_ptr<const Config> config) {
  // A reload that changes `watch` makes the next listing of every scope full.
  if (config_ && config.get() != config_.get()) {
    ForgetListingsIfWatchChanged(config_->watch, config->watch, state_);
  }
  config_ = std::move(config);
  books_.rates.Reconfigure(*config_);
  enforcer_.SetConfig(config_.get(), force_dry_run_);
  Rejudge();
  if (!metrics_) return;
  std::vector<std::string> policies, budgets;
  for (const auto& p : config_->policies) policies.push_back(p.name);
  for (const auto& b : config_->budgets) {
    budgets.push_back(b.name);
    metrics_->SetBudgetLimit(b.name, b.limit);
    metrics_->SetBudgetWarnRatio(b.name, b.warn_at);
  }
  metrics_->DeclarePolicies(policies, budgets);
  metrics_->SetDryRun(enforcer_.dry_run());
}

void Watchdog::SetProgress(std::function<bool()> progress) {
  progress_ = progress;
  enforcer_.SetProgress(std::move(progress));
}

CycleSummary Watchdog::Cycle() {
  auto started = std::chrono::steady_clock::now();
  CycleSummary summary;
  try {
    summary = CycleOrThrow();
  } catch (const std::exception& e) {
    // A listing that died with the cycle takes the history rows borrowed
    // from it (their jobs stay in the ledger; only backtest misses them).
    if (books_.history.source() != &last_jobs_) {
      std::size_t lost = books_.history.DropBorrowed();
      if (lost > 0) LogWarn("job history: " + std::to_string(lost) + " ended jobs not recorded");
    }
    summary.error = std::string("internal error: ") + e.what();
    LogError("cycle aborted, nothing cancelled: " + summary.error);
  }
  status_ = summary.ToString(enforcer_.pending());
  if (metrics_) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_->PollFinished(summary.complete, seconds, clock_.Now());
    metrics_->SetCancellationsPending(static_cast<std::int64_t>(enforcer_.pending()));
  }
  return summary;
}

CycleSummary Watchdog::CycleOrThrow() {
  const Config& config = *config_;
  // The previous listing is not needed once a new one starts: its memory is
  // reused, so a poll holds one listing, not two.
  last_cancelling_.clear();
  held_back_.clear();
  books_.history.Detach();  // unsaved history rows borrowed from the listing reused now
  std::vector<Job> recycled = std::move(last_jobs_);
  last_jobs_.clear();
  last_findings_.clear();  // they index last_jobs_
  folded_pus_.clear();
  folded_types_.clear();
  // The ledger entries of every job this listing can return, read before it
  // starts: each page's ended jobs are then counted as it arrives and dropped
  // (ListNow's absorb), so a listing of 100,000 ended jobs holds the few that
  // can still change. If they cannot be read, nothing is folded (and the read
  // below fails the poll).
  bool fold = EnsureLedger(EarliestListed(config, state_, clock_.Now()) - kLedgerMargin).ok();
  TimePoint as_of;
  Listing listing = ListNow(config, std::move(recycled), as_of, fold);
  status_ = listing.complete
                ? "watching " + std::to_string(listing.jobs.size() + listing.folded) + " jobs"
                : "last poll failed: " + listing.error;
  if (progress_ && !progress_()) {
    CycleSummary stopped;
    stopped.error = "stopping: cycle interrupted after the listing";
    return stopped;
  }
  // Jobs are judged as of the listing's start (on the clock as corrected by
  // the API's Date headers meanwhile): a page read later shows a job at
  // least that old, so nothing is extrapolated past what was seen. A job
  // that ended while later pages were read is not judged over its limit.
  TimePoint now = clock_.Now();
  // The stored ledger entries this listing's ended jobs and the budgets'
  // windows need, before anything is counted.
  TimePoint need = BudgetWindowsStart(config, as_of);
  for (const Job& j : listing.jobs) {
    if (IsTerminal(j.state) && j.ended && j.processing_units) {
      need = std::min(need, j.created - kLedgerMargin);
    }
  }
  if (Status st = EnsureLedger(need); !st.ok()) {
    CycleSummary failed;
    failed.error = "cannot read the ledger: " + st.ToString();
    LogError(failed.error + "; nothing counted or cancelled in this poll");
    return failed;
  }
  Assessment a = Assess(config, listing.jobs, listing.complete, state_, books_, as_of,
                        listing.incomplete_itwins);
  // The listing's ended jobs are counted: the next listing of each scope
  // listed whole may start at its horizon (incremental listing).
  CommitListing(config, listing, state_);
  DropUnwatched(config, listing.jobs, a.eval.findings);
  CycleSummary s;
  s.complete = listing.complete;
  s.jobs = listing.jobs.size() + listing.folded;
  s.running = a.running;
  s.error = listing.error;
  for (const Finding& f : a.eval.findings) s.violations += f.severity == Severity::kViolation;
  if (!listing.complete) LogWarn("incomplete listing, failing closed: " + listing.error);
  Export(listing, a);

  if (listing.complete) {
    if (Status st = RecordBudgets(a, now); !st.ok()) {
      s.error = st.ToString();
      return s;
    }
  }
  CycleView view{&listing.jobs, &a.eval.findings, listing.complete, a.running, now};
  Status decided = enforcer_.Decide(view, now);
  last_jobs_ = std::move(listing.jobs);
  books_.history.Rebind(&last_jobs_);
  // A listing that kept 100,000 jobs (running ones: ended ones are folded)
  // leaves a 24 MB vector whose capacity the listings that follow (a few
  // hundred jobs) would keep for nothing: given back when it is more than
  // four times what is used.
  if (last_jobs_.capacity() > kKeptListing && last_jobs_.capacity() > 4 * last_jobs_.size()) {
    last_jobs_.shrink_to_fit();
    // And the pages that full listing's decoding left free inside the heap
    // go back to the system (glibc keeps them otherwise): about 10 MB of
    // resident memory at 100,000 jobs, once after each full listing.
    malloc_trim(0);
  }
  last_budgets_ = std::move(a.budgets);
  last_complete_ = listing.complete;
  last_polled_at_ = now;
  next_deadline_ = a.eval.next_deadline;
  last_cancelling_.clear();
  for (const Finding& f : a.eval.findings) {
    if (f.cancel) last_cancelling_.insert(f.job_index);
  }
  last_findings_ = std::move(a.eval.findings);
  if (!decided.ok()) {
    LogError("audit log failed, nothing cancelled: " + decided.ToString());
    s.error = decided.ToString();
    return s;
  }
  if (Status st = RunDue(); !st.ok()) s.error = st.ToString();
  PublishAlerts(listing.complete);
  return s;
}

void Watchdog::EnforceTap::OnAccepted(const PendingCancel& p, TimePoint at) {
  if (inner_) inner_->OnAccepted(p, at);
  if (!w_.config_->notify || p.policy == "manual") return;
  AddNotice(w_.state_.notices, NoticeOf(p, at));
  w_.new_notices_ = true;
}

void Watchdog::PublishAlerts(bool complete) {
  new_notices_ = false;
  TimePoint now = clock_.Now();
  PruneNotices(state_.notices, now);
  if (!alerts_ || !config_->notify) return;
  AlertInputs in;
  in.config = config_.get();
  in.jobs = &last_jobs_;
  in.findings = &last_findings_;
  in.pending = &state_.pending;
  in.notices = &state_.notices;
  in.dry_run = enforcer_.dry_run();
  in.now = last_polled_at_;
  alerts_->Publish(FiringAlerts(in), complete);
}

Listing Watchdog::ListNow(const Config& config, std::vector<Job> recycled, TimePoint& as_of,
                          bool fold) {
  // Counts an ended job as its page arrives, as Assess would (ledger, rates,
  // the processing-units counter): then its record need not be kept.
  AbsorbFn absorb;
  if (fold) {
    absorb = [this](const Job& j) {
      Ledger& ledger = books_.ledger;
      if (ledger.Contains(j.id.view())) return true;
      if (IsRunning(j.state) || !j.ended || !j.processing_units) return false;
      // Counted only if every stored entry it could have is in memory (an
      // API that ignores the createdDateTime filter returns older jobs):
      // else it is kept, and counted after the listing, once those are read.
      if (ledger_floor_ && j.created - kLedgerMargin < *ledger_floor_) return false;
      if (!ledger.Record(j)) return false;
      books_.rates.Learn(j);
      std::string_view type = ToString(j.type);
      if (j.type == JobType::kUnknown) type = folded_types_.emplace_back(j.TypeText());
      folded_pus_[{ledger.entries().back().itwin_id.view(), type}] += *j.processing_units;
      return true;
    };
  }
  for (int attempt = 0;; ++attempt) {
    TimePoint start = clock_.Now();
    auto steady_start = std::chrono::steady_clock::now();
    Listing listing =
        PollJobs(api_, config, state_, start, std::move(recycled), first_itwin_, absorb);
    if (listing.first_failed) first_itwin_ = *listing.first_failed;
    if (metrics_) {
      metrics_->ListingFinished(listing.kind() == ListingKind::kFull, listing.complete);
    }
    auto took = std::chrono::steady_clock::now() - steady_start;
    // The start again, on the clock as corrected by the listing's answers.
    TimePoint corrected_start = clock_.Now() - std::chrono::duration_cast<Millis>(took);
    // The earlier of the two: a local clock found fast cannot judge jobs
    // early, and an API clock that jumped ahead meanwhile cannot either.
    as_of = std::min(start, corrected_start);
    // The clock was corrected during the listing (the first poll after a
    // start, against an API whose Date differs from the host's): its
    // createdDateTime window was wrong, so list again, once.
    if (attempt > 0 || std::chrono::abs(corrected_start - start) < kClockJump) return listing;
    LogWarn("the API's clock differs from the host's by " +
            std::to_string(std::chrono::duration_cast<Seconds>(corrected_start - start).count()) +
            " s; listing again with the corrected time");
    recycled = std::move(listing.jobs);
  }
}

void Watchdog::Rejudge() {
  // The last listing judged again under the config now in force, as of the
  // same moment (its data is no fresher): budgets are re-evaluated too, since
  // their indexes and limits belong to the config they were computed under.
  // Pending cancellations the gate now refuses are withdrawn at once.
  TimePoint now = clock_.Now();
  if (!last_jobs_.empty() || !last_budgets_.empty()) {
    if (Status st = EnsureLedger(BudgetWindowsStart(*config_, last_polled_at_)); !st.ok()) {
      // Budgets unknown: none is taken as exceeded (the gate then withdraws
      // a pending budget cancellation) until a poll can read the ledger.
      LogError("cannot read the ledger after the reload, budgets not evaluated: " + st.ToString());
      last_budgets_.clear();
    } else {
      last_budgets_ =
          EvaluateBudgets(*config_, books_.ledger, books_.rates, last_jobs_, last_polled_at_);
    }
  }
  Evaluation ev = EvaluateLast(last_polled_at_);
  std::size_t running = 0;
  for (const Job& j : last_jobs_) running += IsRunning(j.state);
  CycleView view{&last_jobs_, &ev.findings, last_complete_, running, last_polled_at_, false};
  if (Status st = enforcer_.Rejudge(view, now); !st.ok()) {
    LogError("audit log failed while re-judging after the reload: " + st.ToString());
  }
  // The findings the alerts are made of name policies and budgets by index:
  // those of the config now in force.
  last_findings_ = std::move(ev.findings);
  if (metrics_) metrics_->SetCancellationsPending(static_cast<std::int64_t>(enforcer_.pending()));
}

Evaluation Watchdog::EvaluateLast(TimePoint now) const {
  EvalInputs in;
  in.config = config_.get();
  in.jobs = &last_jobs_;
  in.first_seen_active = [this](std::string_view id) -> std::optional<TimePoint> {
    auto it = state_.first_seen_active.find(id);
    if (it == state_.first_seen_active.end()) return std::nullopt;
    return it->second;
  };
  in.rates = &books_.rates;
  in.budgets = &last_budgets_;
  in.now = now;
  Evaluation ev = Evaluate(in);
  DropUnwatched(*config_, last_jobs_, ev.findings);
  return ev;
}

void Watchdog::CheckDeadline() {
  next_deadline_.reset();
  TimePoint now = clock_.Now();
  if (now - last_polled_at_ > config_->watch.poll_interval) return;  // a poll is due anyway
  // Jobs that became cancellable violators since the poll (or the last
  // re-check): only those are re-read.
  std::set<std::uint32_t> crossing;
  for (const Finding& f : EvaluateLast(now).findings) {
    if (f.cancel && f.policy_index && f.limit != LimitKind::kMaxProcessingUnits &&
        !last_cancelling_.count(f.job_index)) {
      crossing.insert(f.job_index);
    }
  }
  last_cancelling_.insert(crossing.begin(), crossing.end());
  // Only what was read again now may be judged at `now`: a job whose GET was
  // refused (rate limit) or failed keeps the poll's data, which shows no
  // violation yet, and waits for the next poll. Extrapolating would cancel a
  // job listed Queued that started meanwhile.
  std::set<std::uint32_t> reread;
  for (std::uint32_t i : crossing) {
    ApiResult<Job> fresh = api_.GetJob(last_jobs_[i].id);
    if (fresh.ok() && fresh.value().id == last_jobs_[i].id) {
      last_jobs_[i] = std::move(fresh).value();
      reread.insert(i);
    } else if (!fresh.ok() && fresh.error().outcome == ApiOutcome::kNotFound) {
      last_jobs_[i].state = JobState::kUnknown;  // gone: never judged again
    } else {
      last_cancelling_.erase(i);  // judged again at the next re-check or poll
    }
  }
  Evaluation ev = EvaluateLast(now);
  next_deadline_ = ev.next_deadline;
  if (reread.empty()) return;
  // Only the re-read crossing jobs are decided on: the others were decided
  // at the poll; the safety limits are the poll's (Enforcer::QueueNew).
  std::erase_if(ev.findings, [&](const Finding& f) { return !reread.count(f.job_index); });
  std::size_t running = 0;
  for (const Job& j : last_jobs_) running += IsRunning(j.state);
  CycleView view{&last_jobs_, &ev.findings, last_complete_, running, last_polled_at_, false};
  if (Status st = enforcer_.Decide(view, now); !st.ok()) {
    LogError("audit log failed, nothing cancelled: " + st.ToString());
    return;
  }
  (void)RunDue();
}

void Watchdog::Export(const Listing& listing, const Assessment& a) {
  if (!metrics_) return;
  const std::vector<Job>& jobs = listing.jobs;
  JobCounts counts{};
  for (int st = 0; st < kJobStateCount; ++st) {
    for (int ty = 0; ty < kJobTypeCount; ++ty) counts[st][ty] = listing.folded_counts[st][ty];
  }
  for (const Job& j : jobs) ++counts[static_cast<int>(j.state)][static_cast<int>(j.type)];
  metrics_->SetJobs(counts);
  // Summed per series first: a first listing counts up to 100,000 ended jobs
  // into a few series, and a labelled counter lookup costs microseconds.
  std::map<std::pair<std::string_view, std::string_view>, double> pus = folded_pus_;
  for (std::uint32_t i : a.newly_ended) {
    double pu = *jobs[i].processing_units;
    if (pu >= 0) pus[{jobs[i].itwin_id.view(), jobs[i].TypeText()}] += pu;
  }
  for (const auto& [series, pu] : pus) metrics_->ProcessingUnits(series.first, series.second, pu);
  metrics_->BeginBudgetUpdate();
  for (const BudgetGroupStatus& b : a.budgets) {
    metrics_->SetBudget(config_->budgets[b.budget_index].name, b.group, b.Spent());
  }
  metrics_->EndBudgetUpdate();
}

Status Watchdog::RecordBudgets(const Assessment& a, TimePoint now) {
  std::vector<rcw::AuditEvent> lines;
  // Markers are set once their lines are on disk (a failed append leaves
  // them unset, so a later poll writes the lines).
  std::vector<std::pair<std::set<std::string>*, std::string>> markers;
  for (const BudgetGroupStatus& b : a.budgets) {
    const BudgetConfig& cfg = config_->budgets[b.budget_index];
    std::string key = cfg.name + "|" + b.group + "|" + b.window.label;
    bool exceeded = b.exceeded && !state_.budget_exceeded.count(key);
    bool warned = !exceeded && b.warn && !b.exceeded && !state_.budget_warned.count(key);
    if (!exceeded && !warned) continue;
    markers.emplace_back(exceeded ? &state_.budget_exceeded : &state_.budget_warned, key);
    rcw::AuditEvent e;
    e.ts = now;
    e.event = exceeded ? "budget_exceeded" : "budget_warning";
    e.policy = cfg.name;
    e.limit = "budget";
    e.observed = b.Spent();
    e.threshold = b.limit;
    e.message = "group " + b.group + ", window " + b.window.label +
                (b.spent_running > 0 ? " (including estimates of running jobs)" : "");
    lines.push_back(std::move(e));
  }
  // Markers of past windows are no longer needed.
  auto current = [&](const std::string& key) {
    for (const BudgetGroupStatus& b : a.budgets) {
      if (key.size() > b.window.label.size() && key.ends_with("|" + b.window.label)) return true;
    }
    return false;
  };
  std::erase_if(state_.budget_warned, [&](const std::string& k) { return !current(k); });
  std::erase_if(state_.budget_exceeded, [&](const std::string& k) { return !current(k); });
  if (Status s = audit_.Append(lines); !s.ok()) return s;
  for (auto& [set, key] : markers) set->insert(std::move(key));
  return Status::Ok();
}

std::optional<TimePoint> Watchdog::NextDue() const {
  std::optional<TimePoint> due = enforcer_.NextDue(clock_.Now());
  if (due && *due < save_retry_at_) due = save_retry_at_;
  return due;
}

Status Watchdog::RunDue() {
  TimePoint now = clock_.Now();
  if (now < save_retry_at_) {
    return Status(StatusCode::kUnavailable, "state save failed recently: nothing sent");
  }
  PruneNotices(state_.notices, now);  // expired: saved below
  // Durability before a DELETE: what was decided (the pending rows, after
  // their audit lines) is committed before any request goes out.
  if (Status s = Save(); !s.ok()) {
    save_retry_at_ = now + kSaveRetry;
    return s;
  }
  Status sent = enforcer_.RunDue(now);
  if (metrics_) metrics_->SetCancellationsPending(static_cast<std::int64_t>(enforcer_.pending()));
  Status saved = Save();
  if (!saved.ok()) save_retry_at_ = clock_.Now() + kSaveRetry;
  // A cancellation accepted between polls: its notice (saved above, so a
  // kill -9 cannot lose it) goes out now.
  if (new_notices_) PublishAlerts(false);
  if (!sent.ok()) return sent;
  return saved;
}

Status Watchdog::Save() {
  books_.Store(state_);
  const Ledger& ledger = books_.ledger;
  HistoryBatch history = books_.history.Batch();
  history.counted = &ledger.unsaved_history();
  Status s = store_.Save(state_, ledger.entries(), ledger.saved(), &history);
  if (s.ok()) {
    books_.ledger.MarkSaved();
    books_.history.MarkSaved();
  } else {
    LogError("cannot save state: " + s.ToString());
  }
  return s;
}

Status Watchdog::AuditEvent(const std::string& event, const std::string& message) {
  rcw::AuditEvent e;
  e.ts = clock_.Now();
  e.event = event;
  e.message = message;
  return audit_.Append(e);
}

}  // namespace rcw
