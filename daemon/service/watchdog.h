// Watchdog: one poll -> evaluate -> enforce -> record step at a time. The
// daemon loop (daemon.cpp) decides when; this class decides what.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "api/rc_client.h"
#include "base/persisted_state.h"
#include "config/config.h"
#include "enforce/enforcer.h"
#include "notify/alert_sink.h"
#include "service/assess.h"
#include "service/poller.h"
#include "state/audit.h"
#include "state/state_store.h"
#include "telemetry/metrics.h"

namespace rcw {

struct CycleSummary {
  bool complete = false;
  std::size_t jobs = 0;
  std::size_t running = 0;
  std::size_t violations = 0;
  std::string error;  // empty when the poll succeeded
  // "watching 812 jobs (120 running), 3 violations, 1 cancellation pending"
  std::string ToString(std::size_t pending) const;
};

class Watchdog {
 public:
  // `state` is what `store` loaded: its ledger counts as saved.
  Watchdog(RealityConversionClient& api, AuditSink& audit, StateStore& store, const Clock& clock,
           Metrics* metrics, EnforceObserver* observer, PersistentState state,
           std::shared_ptr<const Config> config, bool force_dry_run);

  // `progress` is called after the listing and after every DELETE; it
  // returns false to stop sending for now (SIGTERM). See Enforcer::SetProgress.
  void SetProgress(std::function<bool()> progress);

  // One cycle. Never throws: an unexpected exception is logged, counted as a
  // failed poll and cancels nothing.
  CycleSummary Cycle();
  // Commits the state (the pending cancellations decided since the last
  // save among it), then sends the DELETEs that are due and saves again.
  // A failed first save sends nothing and holds for kSaveRetry: no DELETE
  // goes out before its pending row is durable.
  Status RunDue();
  // The next moment RunDue has work, if any.
  std::optional<TimePoint> NextDue() const;
  // When a watched job crosses a time limit before the next poll: the loop
  // wakes then and calls CheckDeadline().
  std::optional<TimePoint> NextDeadline() const { return next_deadline_; }
  // Re-reads (GET) the jobs of the last poll that have crossed a time limit
  // since, and cancels those that still violate, without waiting for the
  // next poll. Costs one GET per crossing job.
  void CheckDeadline();
  std::size_t pending() const { return enforcer_.pending(); }
  // Cancellations still waiting for a DELETE to be accepted.
  std::size_t unsent() const { return enforcer_.unsent(); }
  // The earliest retry time of those, whatever the gate says now.
  std::optional<TimePoint> NextAttempt() const { return enforcer_.NextAttempt(); }
  // Violators the latest poll (and its deadline re-checks) held back from a
  // cancellation, by reason: max_per_cycle, max_per_hour, circuit_breaker,
  // incomplete_data. `run --once` reports them as work left (exit 75).
  const std::map<std::string, std::size_t, std::less<>>& held_back() const { return held_back_; }
  // One line about the latest listing, for STATUS= (set before enforcing).
  const std::string& status() const { return status_; }
  // Records of the last listing kept in memory: the jobs that can still
  // change (the ended jobs the ledger counted were folded as pages arrived).
  std::size_t kept() const { return last_jobs_.size(); }

  // Swaps the configuration (SIGHUP). REQUIRES: config validated.
  void SetConfig(std::shared_ptr<const Config> config);
  const Config& config() const { return *config_; }
  bool dry_run() const { return enforcer_.dry_run(); }

  Status Save();
  Status AuditEvent(const std::string& event, const std::string& message);

  // Where per-job alerts go (notify:); null sends none. REQUIRES: outlives
  // the watchdog. Alerts follow the config in force (owners, labels).
  void SetAlerts(AlertOutbox* outbox) { alerts_ = outbox; }

 private:
  // Forwards the enforcer's hooks to the service's observer, and turns each
  // accepted DELETE into a cancellation notice (notify/).
  class EnforceTap final : public EnforceObserver {
   public:
    EnforceTap(Watchdog& w, EnforceObserver* inner) : w_(w), inner_(inner) {}
    void OnViolation(const std::string& policy, std::string_view limit) override {
      if (inner_) inner_->OnViolation(policy, limit);
    }
    void OnWarning(const std::string& policy) override {
      if (inner_) inner_->OnWarning(policy);
    }
    void OnCancellationFinished(const std::string& policy, std::string_view outcome) override {
      if (inner_) inner_->OnCancellationFinished(policy, outcome);
    }
    void OnConfirmed(const std::string& policy) override {
      if (inner_) inner_->OnConfirmed(policy);
    }
    void OnBlocked(std::string_view reason, std::size_t count) override {
      w_.held_back_[std::string(reason)] += count;
      if (inner_) inner_->OnBlocked(reason, count);
    }
    void OnAccepted(const PendingCancel& p, TimePoint at) override;

   private:
    Watchdog& w_;
    EnforceObserver* inner_;
  };

  // The alerts of the last poll's findings (and the notices) to the outbox.
  // `complete`: the last listing saw every watched job, so alerts not found
  // again are resolved.
  void PublishAlerts(bool complete);

  // A listing that moved the corrected clock by more than this is repeated.
  static constexpr Seconds kClockJump{60};
  // After a failed save, RunDue sends nothing for this long.
  static constexpr Seconds kSaveRetry{5};
  // Listing capacity (jobs) kept however little of it the last poll used.
  static constexpr std::size_t kKeptListing = 4096;
  // Read below the earliest creation time of a listed ended job: an entry
  // holds its end time, which is never before the job's creation.
  static constexpr Seconds kLedgerMargin{3600};

  CycleSummary CycleOrThrow();
  // Lists every watched job; `as_of` gets the listing's start: the earlier
  // of the clock before it and the clock as corrected by its answers. Lists a
  // second time if the correction jumped by kClockJump or more.
  // `fold`: count each page's ended jobs in books_.ledger as it arrives and
  // drop them, with those counted before (PollJobs' `absorb`).
  Listing ListNow(const Config& config, std::vector<Job> recycled, TimePoint& as_of, bool fold);
  Evaluation EvaluateLast(TimePoint now) const;
  // After a reload: the last listing judged under the new config; the
  // enforcer withdraws what it no longer justifies.
  void Rejudge();
  void Export(const Listing& listing, const Assessment& a);
  // Reads from the store the ledger entries of jobs that ended at or after
  // `from` that books_.ledger lacks (none when the state came whole).
  Status EnsureLedger(TimePoint from);
  // budget_warning / budget_exceeded, once per budget, group and window.
  Status RecordBudgets(const Assessment& a, TimePoint now);

  RealityConversionClient& api_;
  AuditSink& audit_;
  StateStore& store_;
  const Clock& clock_;
  Metrics* metrics_;
  PersistentState state_;
  std::shared_ptr<const Config> config_;
  bool force_dry_run_;
  Books books_;
  // The ledger is read piecemeal (state.ledger_complete false): books_.ledger
  // holds every stored entry of a job that ended at or after this. Unset: it
  // holds them all. Before a listing's ended jobs are counted, the entries
  // of every job that could be one of them are read (from the earliest
  // creation time among them, less kLedgerMargin), and before budgets sum a
  // window, the entries of that window: so a job is never counted twice and
  // a window never misses one. A warm start reads a few hours of it.
  std::optional<TimePoint> ledger_floor_;
  // Processing units of the jobs counted as their pages arrived (ListNow's
  // fold), per iTwin and type, for the counter Export adds to; the texts of
  // unknown types they name. Cleared at each cycle's start.
  std::map<std::pair<std::string_view, std::string_view>, double> folded_pus_;
  std::deque<std::string> folded_types_;
  EnforceTap tap_;
  Enforcer enforcer_;
  AlertOutbox* alerts_ = nullptr;
  bool new_notices_ = false;            // a DELETE was accepted since the last publish
  std::vector<Finding> last_findings_;  // of last_jobs_, for the alerts
  // The last poll, kept for deadline re-checks between polls.
  std::vector<Job> last_jobs_;
  std::vector<BudgetGroupStatus> last_budgets_;
  bool last_complete_ = false;
  TimePoint last_polled_at_{};
  // Where the next poll starts listing watch.itwins: the first iTwin whose
  // listing failed in the last poll that had a failure.
  std::size_t first_itwin_ = 0;
  std::optional<TimePoint> next_deadline_;
  std::set<std::uint32_t> last_cancelling_;  // jobs (indexes) already decided on
  std::function<bool()> progress_;
  std::string status_ = "starting";
  std::map<std::string, std::size_t, std::less<>> held_back_;  // see held_back()
  TimePoint save_retry_at_{};  // RunDue holds until then after a failed save
};

}  // namespace rcw
