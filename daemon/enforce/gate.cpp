// The one gate before every DELETE (enforcer.h), and what it withdraws.
#include <algorithm>

#include "enforce/enforcer.h"

namespace rcw {
namespace {

constexpr std::string_view kManual = "manual";

}  // namespace

GateDecision Enforcer::Gate(const PendingCancel& p, TimePoint now) const {
  if (p.limit == kManual) return {GateVerdict::kSend, {}};  // `rc-watchdog cancel`
  if (dry_run()) return {GateVerdict::kWithdraw, "dry run is in force: no DELETE is sent"};
  if (!config_ || !fresh_.valid) return {GateVerdict::kWait, "no poll yet"};
  const std::vector<std::string>& watched = config_->watch.itwins;
  if (!watched.empty() && std::find(watched.begin(), watched.end(), p.itwin_id) == watched.end()) {
    return {GateVerdict::kWithdraw, "iTwin " + p.itwin_id + " is no longer watched"};
  }
  if (now - fresh_.as_of > config_->watch.poll_interval) {
    return {GateVerdict::kWait, "data older than one poll interval"};
  }
  if (breaker_tripped_) return {GateVerdict::kWait, "circuit breaker tripped this poll"};
  if (fresh_.violators.count(p.job_id)) return {GateVerdict::kSend, {}};
  // Judged under the config in force on fresh data and found compliant (or
  // exempt, or under a report-only policy now): withdrawn. A job the latest
  // data does not show (a page that failed) waits for the next poll.
  if (fresh_.states.count(p.job_id)) {
    return {GateVerdict::kWithdraw,
            "no longer violates a cancelling policy or budget under the config in force"};
  }
  return {GateVerdict::kWait, "not in the latest data"};
}

AuditEvent Enforcer::WithdrawnLine(const PendingCancel& p, const std::string& reason,
                                   TimePoint now) const {
  AuditEvent e = Line(p, "cancel_result", now);
  e.outcome = "withdrawn";
  e.message = reason + "; not cancelled";
  if (p.attempts > 0) e.attempt = p.attempts;
  return e;
}

Status Enforcer::Withdraw(const PendingCancel& p, const std::string& reason, TimePoint now) {
  return audit_.Append(WithdrawnLine(p, reason, now));
}

Status Enforcer::Sweep(TimePoint now) {
  std::vector<PendingCancel> kept;
  Status failure;
  for (PendingCancel& p : state_.pending) {
    if (failure.ok() && !p.accepted) {
      GateDecision d = Gate(p, now);
      if (d.verdict == GateVerdict::kWithdraw) {
        failure = Withdraw(p, d.reason, now);
        if (failure.ok()) continue;
      }
    }
    kept.push_back(std::move(p));
  }
  state_.pending = std::move(kept);
  return failure;
}

Status Enforcer::Rejudge(const CycleView& view, TimePoint now) {
  if (fresh_.valid) {
    fresh_.violators.clear();
    Judge(view);
  }
  if (Status s = Sweep(now); !s.ok()) return AuditFailed(s, now);
  return Status::Ok();
}

Status Enforcer::AuditFailed(Status s, TimePoint now) {
  audit_retry_at_ = now + kAuditRetry;
  return s;
}

std::size_t Enforcer::unsent() const {
  return static_cast<std::size_t>(std::count_if(state_.pending.begin(), state_.pending.end(),
                                                [](const PendingCancel& p) { return !p.accepted; }));
}

std::optional<TimePoint> Enforcer::NextAttempt() const {
  std::optional<TimePoint> next;
  for (const PendingCancel& p : state_.pending) {
    if (!p.accepted && (!next || p.next_attempt < *next)) next = p.next_attempt;
  }
  return next;
}

}  // namespace rcw
