// The alerts a poll's findings call for (docs/alerts.md): which jobs are near
// a limit, over one without being cancelled, or were cancelled. Pure: the
// same inputs give the same alerts; the AlertSink sends them.
#pragma once

#include <vector>

#include "base/job.h"
#include "base/persisted_state.h"
#include "config/config.h"
#include "notify/alert.h"
#include "policy/verdict.h"

namespace rcw {

// How long an RcWatchdogJobCancelled alert fires, and its notice is kept.
inline constexpr Seconds kCancelledFor{3600};

struct AlertInputs {
  const Config* config = nullptr;  // REQUIRES: config->notify is set
  const std::vector<Job>* jobs = nullptr;
  const std::vector<Finding>* findings = nullptr;  // of `jobs`, watched iTwins only
  const std::vector<PendingCancel>* pending = nullptr;
  const std::vector<CancelNotice>* notices = nullptr;
  bool dry_run = false;  // global dry run in force
  TimePoint now{};       // when the findings were made
};

// The firing alerts:
//  - RcWatchdogJobCancelled for each notice;
//  - RcWatchdogJobNearLimit for a warning of a cancelling policy (not under
//    dry run), and for a cancelling violation whose DELETE is pending;
//  - RcWatchdogJobOverLimit for a violation that is not cancelled: exempt,
//    action report, dry run, or held back (no pending cancellation: a safety
//    limit, or a cancellation that failed).
// A job with a notice gets no other alert. One alert per job, policy and limit.
std::vector<Alert> FiringAlerts(const AlertInputs& in);

// The notice for a cancellation whose DELETE was accepted at `at`.
CancelNotice NoticeOf(const PendingCancel& p, TimePoint at);
// Adds `n` unless its job has one; drops notices older than kCancelledFor.
void AddNotice(std::vector<CancelNotice>& notices, CancelNotice n);
void PruneNotices(std::vector<CancelNotice>& notices, TimePoint now);

}  // namespace rcw
