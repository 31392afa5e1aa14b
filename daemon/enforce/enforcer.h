// The Enforcer turns findings into audited cancellations (interface.md §3):
// warnings and violations recorded once, new cancellations chosen under the
// safety limits, DELETEs sent with backoff and followed until the job is
// terminal. It owns no state of its own: everything durable lives in the
// PersistentState it is given, which the service saves after each step.
//
// Safety rules kept here:
//  - an audit line is on disk before every DELETE; no line, no DELETE;
//  - a policy DELETE goes only to a job that the latest complete poll, no
//    older than one poll interval, found violating (fail closed);
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

  // Sends every DELETE that is due at `now`, and follows accepted ones that
  // the listing no longer shows with GET. Returns an error only when the
  // audit log fails (then it stops sending).
  Status RunDue(TimePoint now);

  // Called after every DELETE that RunDue sends; returning false stops the
  // round (the rest stays pending). The daemon pings systemd's watchdog here
  // and stops early when SIGTERM is pending.
  void SetProgress(std::function<bool()> progress) { progress_ = std::move(progress); }

  // When RunDue next has something to do; nullopt when nothing is pending
  // or everything waits for the next poll.
  // `now` tells data that has gone stale (it waits for the next poll).
  std::optional<TimePoint> NextDue(TimePoint now) const;
  std::size_t pending() const { return state_.pending.size(); }

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

  // "job|policy|what": the once-only markers kept in PersistentState
  // (what = a limit, "dry_run" or "finished"); pruned with the job.
  static std::string MarkerKey(std::string_view job, std::string_view owner,
                               std::string_view what);
  // Fills fresh_.states for the jobs of `jobs` that are pending or violators.
  void RememberStates(const std::vector<Job>& jobs);
  Status RecordFindings(const CycleView& view, TimePoint now);
  Status QueueNew(const CycleView& view, TimePoint now);
  Status DryRun(const Finding& f, const Job& job, TimePoint now);
  void Confirm(const CycleView& view, TimePoint now, std::vector<AuditEvent>& lines);
  bool MaySend(const PendingCancel& p, TimePoint now) const;
  // Sends one DELETE; returns false when the pending entry is finished.
  Result<bool> SendOne(PendingCancel& p, TimePoint now);
  Result<bool> Finish(PendingCancel& p, std::string_view outcome, const ApiError* error,
                      TimePoint now);
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
  bool breaker_tripped_ = false;
  std::function<bool()> progress_;
};

}  // namespace rcw
