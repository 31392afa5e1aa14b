// The Enforcer turns findings into audited cancellations (README "How enforcement works"):
// warnings and violations recorded once, new cancellations chosen under the
// safety limits, DELETEs sent with backoff and followed until the job is
// terminal. It owns the pending cancellations and its once-only markers in
// the PersistentState it is given, which the service saves after each step.
//
// Safety rules kept here:
//  - one gate (Gate()) before every DELETE, first send or retry, policy or
//    budget: it re-decides the job under the config in force at that moment
//    (dry run, exemptions, action, watched iTwins, limits: the service hands
//    the latest judgement under the config in force with Decide or Rejudge),
//    on data no older than one poll interval, under the safety limits of the
//    current poll. What it refuses for good is withdrawn with an audit line
//    saying why. Only `rc-watchdog cancel` (policy "manual") bypasses it;
//  - an audit line is on disk before every DELETE; no line, no DELETE; a
//    once-only marker is set only after its line is on disk;
//  - dry run and action: report write the same lines, marked dry_run, and
//    send nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/rc_client.h"
#include "base/persisted_state.h"
#include "config/config.h"
#include "policy/verdict.h"
#include "state/audit.h"

namespace rcw {

// Metrics hooks; the service forwards them to telemetry.
class EnforceObserver {
 public:
  virtual ~EnforceObserver() = default;
  virtual void OnViolation(const std::string& policy, std::string_view limit) = 0;
  virtual void OnWarning(const std::string& policy) = 0;
  // outcome: cancelled | already_finished | not_found | not_cancellable | failed | dry_run
  virtual void OnCancellationFinished(const std::string& policy, std::string_view outcome) = 0;
  virtual void OnConfirmed(const std::string& policy) = 0;
  // A DELETE of `p` was accepted at `at` (the owner is told: notify/).
  virtual void OnAccepted(const PendingCancel& p, TimePoint at) {
    (void)p;
    (void)at;
  }
  // reason: max_per_cycle | max_per_hour | circuit_breaker | incomplete_data
  virtual void OnBlocked(std::string_view reason, std::size_t count) = 0;
};

// What one complete or incomplete poll found.
struct CycleView {
  const std::vector<Job>* jobs = nullptr;
  const std::vector<Finding>* findings = nullptr;
  bool complete = false;       // every page listed and decoded
  std::size_t running = 0;     // Queued + Active jobs watched
  TimePoint polled_at{};       // "now" of the poll the data came from
  // False for a deadline re-check between polls (the last poll's jobs with
  // the crossing ones re-read): accepted cancellations are not followed then.
  bool is_poll = true;
};

// What the gate says of one pending cancellation right before its DELETE.
enum class GateVerdict {
  kSend,      // justified now: send
  kWait,      // not now (stale data, breaker, not seen in the latest data)
  kWithdraw,  // no longer justified: withdrawn with an audit line
};
struct GateDecision {
  GateVerdict verdict = GateVerdict::kWait;
  std::string reason;  // why, for kWithdraw (audited) and kWait (logs)
};

class Enforcer {
 public:
  Enforcer(RealityConversionClient& api, AuditSink& audit, PersistentState& state,
           EnforceObserver* observer, std::uint64_t seed);

  // REQUIRES: config outlives the next call; swapped on reload.
  void SetConfig(const Config* config, bool force_dry_run);
  bool dry_run() const;

  // Records warnings and violations (once per job, policy and limit) and
  // queues the cancellations the safety limits allow. Also confirms accepted
  // cancellations against the fresh data. An error means an audit line could
  // not be written; nothing further was decided.
  Status Decide(const CycleView& view, TimePoint now);

  // Queues cancellations asked for by name (`rc-watchdog cancel`), outside
  // any policy and safety limit.
  Status AddManual(const std::vector<std::string>& job_ids, TimePoint now);

  // Re-judges the pending cancellations after a reload: `view` is the last
  // listing evaluated under the new config, as of the same moment as before
  // (its data is no fresher). Pending entries the gate now refuses for good
  // are withdrawn with an audit line; nothing new is queued.
  Status Rejudge(const CycleView& view, TimePoint now);

  // Sends every DELETE that is due at `now` and that the gate lets through,
  // withdraws those it refuses for good, and follows accepted ones that the
  // listing no longer shows with GET. Returns an error only when the audit
  // log fails (then it stops sending and waits kAuditRetry before trying
  // again, so a full disk does not make the loop spin).
  Status RunDue(TimePoint now);

  // The one gate before every DELETE (see the file comment).
  GateDecision Gate(const PendingCancel& p, TimePoint now) const;

  // Called after every DELETE that RunDue sends; returning false stops the
  // round (the rest stays pending). The daemon pings systemd's watchdog here
  // and stops early when SIGTERM is pending.
  void SetProgress(std::function<bool()> progress) { progress_ = std::move(progress); }

  // When RunDue next has something to do; nullopt when nothing is pending
  // or everything waits for the next poll.
  // `now` tells data that has gone stale (it waits for the next poll).
  std::optional<TimePoint> NextDue(TimePoint now) const;
  std::size_t pending() const { return state_.pending.size(); }
  // Cancellations that want a DELETE still (not accepted yet).
  std::size_t unsent() const;
  // The earliest next_attempt of those; nullopt when there is none.
  std::optional<TimePoint> NextAttempt() const;

  // How long an audit failure holds every send back.
  static constexpr Seconds kAuditRetry{5};

 private:
  struct Fresh {
    // Cancellable violators of the last poll (and re-checks since).
    std::unordered_set<CompactString, TextHash, std::equal_to<>> violators;
    // The last seen state of the jobs that are pending or violators only:
    // the rest of a 100,000-job listing is never asked about.
    std::unordered_map<CompactString, JobState, TextHash, std::equal_to<>> states;
    TimePoint as_of{};
    bool valid = false;
  };

  // The once-only markers kept in PersistentState (what = a limit,
  // "dry_run", "finished" or "blocked:<reason>"); pruned with the job, per
  // iTwin (service/assess.cpp).
  static JobMarker Marker(std::string_view job, std::string_view owner, std::string_view what,
                          std::string_view itwin = {});
  // Fills fresh_.states for the jobs of `jobs` that are pending or violators.
  void RememberStates(const std::vector<Job>& jobs);
  Status RecordFindings(const CycleView& view, TimePoint now);
  Status QueueNew(const CycleView& view, TimePoint now);
  // Refills fresh_.violators from the cancelling findings of `view`.
  void Judge(const CycleView& view);
  // Withdraws the pending entries the gate refuses for good.
  Status Sweep(TimePoint now);
  // The cancel_result line with outcome "withdrawn" and the reason.
  AuditEvent WithdrawnLine(const PendingCancel& p, const std::string& reason,
                           TimePoint now) const;
  Status Withdraw(const PendingCancel& p, const std::string& reason, TimePoint now);
  Status AuditFailed(Status s, TimePoint now);
  Status DryRun(const Finding& f, const Job& job, TimePoint now);
  void Confirm(const CycleView& view, TimePoint now, std::vector<AuditEvent>& lines);
  // Sends one DELETE; returns false when the pending entry is finished.
  Result<bool> SendOne(PendingCancel& p, TimePoint now);
  // Audits the final outcome; `confirmed`: the DELETE's answer already shows
  // the job Cancelled (cancel_confirmed follows at once).
  Result<bool> Finish(PendingCancel& p, std::string_view outcome, const ApiError* error,
                      TimePoint now, bool confirmed = false);
  Status FollowUnseen(PendingCancel& p, TimePoint now, bool& done);
  AuditEvent Line(const PendingCancel& p, std::string event, TimePoint now) const;
  std::string OwnerName(const Finding& f) const;
  // True when the finding's policy or budget has action "report".
  bool ReportsOnly(const Finding& f) const;
  PendingCancel MakePending(const Finding& f, const Job& job, TimePoint now) const;

  RealityConversionClient& api_;
  AuditSink& audit_;
  PersistentState& state_;
  EnforceObserver* observer_;
  const Config* config_ = nullptr;
  bool force_dry_run_ = false;
  std::mt19937_64 rng_;
  Fresh fresh_;
  // Safety limits of the current poll, shared by its deadline re-checks.
  bool breaker_tripped_ = false;
  int started_this_poll_ = 0;
  TimePoint audit_retry_at_{};  // after an audit failure: nothing before
  std::function<bool()> progress_;
};

}  // namespace rcw
