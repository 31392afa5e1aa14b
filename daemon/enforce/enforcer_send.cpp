// Acting: DELETEs with backoff, and following accepted cancellations until
// the job is terminal.
#include <algorithm>

#include "enforce/backoff.h"
#include "enforce/enforcer.h"

namespace rcw {
namespace {

constexpr std::string_view kManual = "manual";
constexpr int kPollsBeforeResend = 3;

bool IsManual(const PendingCancel& p) { return p.limit == kManual; }

// `rc-watchdog cancel` knows only the job's id: its iTwin, type, name and
// user come from the job the API answers with (no extra request), for the
// audit lines that follow.
void Describe(PendingCancel& p, const Job& job) {
  if (!IsManual(p) || job.id.view() != p.job_id) return;
  if (p.itwin_id.empty()) p.itwin_id = job.itwin_id.str();
  if (p.type.empty()) p.type = std::string(job.TypeText());
  if (p.name.empty()) p.name = job.name.str();
  if (p.user_id.empty()) p.user_id = job.user_id.str();
}

}  // namespace

void Enforcer::Confirm(const CycleView& view, TimePoint now, std::vector<AuditEvent>& lines) {
  std::vector<PendingCancel> kept;
  for (PendingCancel& p : state_.pending) {
    auto seen = fresh_.states.find(p.job_id);
    if (seen == fresh_.states.end()) {
      // Not listed by a complete listing (its iTwin no longer watched, the
      // job gone or out of the lookback): a DELETE not yet accepted is
      // withdrawn, so nothing stays pending forever; an accepted one is
      // followed with GET in RunDue.
      if (!p.accepted && !IsManual(p) && view.complete) {
        lines.push_back(WithdrawnLine(p, "the job is no longer listed", now));
        continue;
      }
      kept.push_back(std::move(p));
      continue;
    }
    JobState state = seen->second;
    if (p.accepted && state == JobState::kCancelled) {
      lines.push_back(Line(p, "cancel_confirmed", now));
      if (observer_) observer_->OnConfirmed(p.policy);
      continue;
    }
    if (IsTerminal(state)) {
      AuditEvent e = Line(p, p.accepted ? "cancel_confirmed" : "cancel_result", now);
      e.outcome = "already_finished";
      e.message = "job reached " + std::string(ToString(state)) + " before the cancellation";
      lines.push_back(std::move(e));
      if (!p.accepted && observer_) observer_->OnCancellationFinished(p.policy, "already_finished");
      continue;
    }
    if (p.accepted && IsRunning(state) && ++p.polls_since_accept >= kPollsBeforeResend) {
      p.accepted = false;  // accepted but still running: send DELETE again
      p.polls_since_accept = 0;
      p.next_attempt = now;
    }
    if (!p.accepted && !IsManual(p) && view.complete && !fresh_.violators.count(p.job_id) &&
        IsRunning(state)) {
      lines.push_back(WithdrawnLine(p, "no longer violates any cancelling policy", now));
      continue;
    }
    kept.push_back(std::move(p));
  }
  state_.pending = std::move(kept);
}

std::optional<TimePoint> Enforcer::NextDue(TimePoint now) const {
  std::optional<TimePoint> next;
  for (const PendingCancel& p : state_.pending) {
    if (p.accepted) continue;
    TimePoint at = p.next_attempt;
    GateDecision d = Gate(p, now);
    if (d.verdict == GateVerdict::kWithdraw) {
      at = now;  // withdrawn at once, with its audit line
    } else if (d.verdict == GateVerdict::kWait) {
      continue;  // until the next poll: the loop would otherwise wake (and spin) for nothing
    } else if (!IsManual(p)) {
      TimePoint stale_at = fresh_.as_of + config_->watch.poll_interval;
      if (p.next_attempt > stale_at) continue;  // the gate will refuse it then
    }
    if (!next || at < *next) next = at;
  }
  if (next && *next < audit_retry_at_) next = audit_retry_at_;
  return next;
}

Status Enforcer::RunDue(TimePoint now) {
  if (now < audit_retry_at_) return Status(StatusCode::kUnavailable, "audit log failed recently");
  std::vector<PendingCancel> kept;
  Status failure;
  bool stopped = false;
  for (size_t i = 0; i < state_.pending.size(); ++i) {
    PendingCancel& p = state_.pending[i];
    bool keep = true;
    if (failure.ok()) {
      if (p.accepted && !fresh_.states.count(p.job_id) && fresh_.valid) {
        bool done = false;
        failure = FollowUnseen(p, now, done);
        keep = !done;
      } else if (!p.accepted && !stopped) {
        GateDecision d = Gate(p, now);
        if (d.verdict == GateVerdict::kWithdraw) {
          failure = Withdraw(p, d.reason, now);
          keep = !failure.ok();
        } else if (d.verdict == GateVerdict::kSend && p.next_attempt <= now) {
          Result<bool> r = SendOne(p, now);
          if (!r.ok()) failure = r.status();
          keep = r.ok() ? *r : true;
          stopped = progress_ && !progress_();
        }
      }
    }
    if (keep) kept.push_back(std::move(p));
  }
  state_.pending = std::move(kept);
  if (!failure.ok()) return AuditFailed(failure, now);
  return failure;
}

Result<bool> Enforcer::SendOne(PendingCancel& p, TimePoint now) {
  if (std::optional<Millis> wait = api_.CancelBlockedFor()) {
    p.next_attempt = now + *wait;  // our own rate gate: wait, send nothing
    return true;
  }
  AuditEvent requested = Line(p, "cancel_requested", now);
  requested.attempt = p.attempts + 1;
  if (Status s = audit_.Append(requested); !s.ok()) return s;
  ++p.attempts;
  ApiResult<Job> r = api_.CancelJob(p.job_id);
  if (r.ok()) {
    Describe(p, r.value());
    JobState state = r.value().state;
    if (state == JobState::kCancelled) return Finish(p, "cancelled", nullptr, now, true);
    if (IsTerminal(state)) return Finish(p, "already_finished", nullptr, now);
    p.accepted = true;
    p.polls_since_accept = 0;
    AuditEvent e = Line(p, "cancel_result", now);
    e.attempt = p.attempts;
    e.http_status = 200;
    e.outcome = "cancelled";
    e.message = "job is " + std::string(r.value().StateText());
    if (Status s = audit_.Append(e); !s.ok()) return s;
    if (observer_) observer_->OnCancellationFinished(p.policy, "cancelled");
    if (observer_) observer_->OnAccepted(p, now);
    return true;
  }
  const ApiError& err = r.error();
  switch (err.outcome) {
    case ApiOutcome::kNotFound:
      return Finish(p, "not_found", &err, now);
    case ApiOutcome::kNotCancellable: {
      ApiResult<Job> job = api_.GetJob(p.job_id);
      if (job.ok()) Describe(p, job.value());
      bool ended = job.ok() && IsTerminal(job.value().state);
      return Finish(p, ended ? "already_finished" : "not_cancellable", &err, now);
    }
    case ApiOutcome::kForbidden:
    case ApiOutcome::kClientError:
      return Finish(p, "failed", &err, now);
    default:
      break;
  }
  // Held back by our own rate gate: nothing was sent, the attempt is not used.
  // Anything else (a token that cannot be had included) uses an attempt.
  bool deferred = !err.sent && err.outcome == ApiOutcome::kRateLimited;
  if (deferred) --p.attempts;
  if (!deferred && p.attempts >= config_->enforcement.retry.max_attempts) {
    return Finish(p, "failed", &err, now);
  }
  Millis delay = BackoffDelay(config_->enforcement.retry, std::max(p.attempts, 1), rng_);
  if (err.outcome == ApiOutcome::kRateLimited) delay = std::max<Millis>(delay, err.retry_after);
  p.next_attempt = now + delay;
  AuditEvent e = Line(p, "cancel_result", now);
  e.attempt = p.attempts + (deferred ? 1 : 0);
  if (err.http_status) e.http_status = err.http_status;
  e.outcome = deferred ? "deferred" : "retry";
  e.message = err.ToString() + "; next attempt in " + std::to_string(delay.count()) + "ms";
  if (Status s = audit_.Append(e); !s.ok()) return s;
  return true;
}

Result<bool> Enforcer::Finish(PendingCancel& p, std::string_view outcome, const ApiError* error,
                              TimePoint now, bool confirmed) {
  AuditEvent e = Line(p, "cancel_result", now);
  e.attempt = p.attempts;
  e.outcome = std::string(outcome);
  if (error) {
    if (error->http_status) e.http_status = error->http_status;
    e.message = error->ToString();
  } else {
    e.http_status = 200;
  }
  std::vector<AuditEvent> lines{e};
  // DELETE answered 200 with the job already Cancelled: cancelled, and
  // confirmed at once (there is nothing left to follow).
  if (confirmed) {
    lines.back().message = "job is Cancelled";
    lines.push_back(Line(p, "cancel_confirmed", now));
  }
  if (Status s = audit_.Append(lines); !s.ok()) return s;
  if (observer_) observer_->OnCancellationFinished(p.policy, outcome);
  if (confirmed && observer_) observer_->OnConfirmed(p.policy);
  if (outcome == "cancelled" && observer_) observer_->OnAccepted(p, now);
  if (!IsManual(p)) state_.violated.insert(Marker(p.job_id, p.policy, "finished", p.itwin_id));
  return false;
}

Status Enforcer::FollowUnseen(PendingCancel& p, TimePoint now, bool& done) {
  ApiResult<Job> r = api_.GetJob(p.job_id);
  if (r.ok()) Describe(p, r.value());
  if (!r.ok()) {
    if (r.error().outcome != ApiOutcome::kNotFound) return Status::Ok();  // next poll
    AuditEvent e = Line(p, "cancel_confirmed", now);
    e.outcome = "not_found";
    e.message = "job no longer exists";
    done = true;
    return audit_.Append(e);
  }
  JobState state = r.value().state;
  fresh_.states[p.job_id] = state;  // followed once per poll
  if (state == JobState::kCancelled) {
    done = true;
    if (observer_) observer_->OnConfirmed(p.policy);
    return audit_.Append(Line(p, "cancel_confirmed", now));
  }
  if (IsTerminal(state)) {
    AuditEvent e = Line(p, "cancel_confirmed", now);
    e.outcome = "already_finished";
    e.message = "job reached " + std::string(ToString(state)) + " before the cancellation";
    done = true;
    return audit_.Append(e);
  }
  if (IsRunning(state) && ++p.polls_since_accept >= kPollsBeforeResend) {
    p.accepted = false;
    p.polls_since_accept = 0;
    p.next_attempt = now;
  }
  return Status::Ok();
}

}  // namespace rcw
