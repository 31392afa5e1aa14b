// PersistentState: everything the daemon must remember across restarts
// (docs/configuration.md `state`). Plain values; state/ keeps them in
// <state.directory>/state.db (SQLite, one table per member, saving only the
// rows that changed: state/state_db.cpp, docs/state.md). json/ decodes the
// state.json of 0.1.x, which state/ imports once.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "base/ledger_entry.h"

namespace rcw {

// A cancellation the daemon decided on and has not finished: waiting to be
// (re)sent, or accepted and waiting for the job to reach a terminal state.
struct PendingCancel {
  std::string job_id;
  std::string policy;  // policy or budget name; "manual" for `rc-watchdog cancel`
  std::string limit;   // max_runtime | max_queued | max_processing_units | budget | manual
  std::string itwin_id, type, name, user_id;  // for audit lines
  double observed = 0, threshold = 0;
  int attempts = 0;             // DELETEs sent so far
  TimePoint next_attempt{};     // when the next DELETE may go
  TimePoint requested_at{};     // when the cancellation was decided
  bool accepted = false;        // a DELETE was answered 200: awaiting a terminal state
  int polls_since_accept = 0;   // polls that still saw it Queued/Active after acceptance
};

// A once-only marker of the enforcer: something recorded about one job under
// one policy or budget (a warning or violation of a limit, "dry_run",
// "finished", "blocked:<reason>"). Identified by job, owner and what; the
// job's iTwin rides along so that markers are pruned per iTwin, on that
// iTwin's own complete listing.
// A job the watchdog cancelled, for its RcWatchdogJobCancelled alert
// (docs/alerts.md). Owned by the notify stage; kept until it expires, so
// that an Alertmanager that was down, or a restart, loses no notice.
struct CancelNotice {
  std::string job_id;
  std::string policy;  // policy or budget name
  std::string limit;   // max_runtime | max_queued | max_processing_units | budget
  std::string itwin_id, type, name, user_id;
  double observed = 0, threshold = 0;
  TimePoint at{};  // when the DELETE was accepted
  bool operator==(const CancelNotice&) const = default;
};

struct JobMarker {
  std::string job_id;
  std::string owner;     // policy or budget name
  std::string what;      // a limit, "dry_run", "finished" or "blocked:<reason>"
  std::string itwin_id;  // not part of the identity; empty in states of 0.1.0
};
struct JobMarkerLess {
  bool operator()(const JobMarker& a, const JobMarker& b) const {
    return std::tie(a.job_id, a.owner, a.what) < std::tie(b.job_id, b.owner, b.what);
  }
};
using MarkerSet = std::set<JobMarker, JobMarkerLess>;

// What the poller remembers of its listings of one scope (a watched iTwin,
// or "" for the client's own jobs), so that a poll lists only what can have
// changed (incremental listing, issue 11): every job of the scope created
// before `horizon` was terminal at the listing that set it, and terminal is
// final. Owned by the poller (service/poller.cpp).
struct ListingMark {
  std::string scope;                     // iTwin id (lower case), "" for own jobs
  std::optional<TimePoint> full_at;      // start of the last complete full-lookback listing
  // The creation time of the oldest non-terminal job of the last complete
  // listing (full or incremental), or that listing's start if it had none.
  // The next incremental listing asks for createdDateTime gt horizon - 10 min.
  std::optional<TimePoint> horizon;
  Seconds lookback{0};  // watch.lookback of the full listing: another one needs a full listing
  bool operator==(const ListingMark&) const = default;
};

struct PersistentState {
  int version = 1;
  // Active jobs without startedDateTime: when a poll first saw them Active.
  std::map<std::string, TimePoint, std::less<>> first_seen_active;
  // Once-only markers of warnings, and of violations and cancellations.
  MarkerSet warned;
  MarkerSet violated;
  // "budget|group|window label" for budget_warning / budget_exceeded events.
  std::set<std::string> budget_warned;
  std::set<std::string> budget_exceeded;
  // Running jobs near or past the lookback window: followed with GET
  // /jobs/{id} once the listing no longer returns them.
  std::set<std::string> followed;
  std::vector<PendingCancel> pending;
  std::vector<TimePoint> cancel_times;  // first DELETEs of the last hour
  LedgerEntries ledger;
  // Not persisted: true when `ledger` holds every row of the store. The
  // daemon loads without the ledger (StateStore::Load(false)) and reads the
  // rows it needs when it needs them (Watchdog::EnsureLedger): a warm start
  // reads the few jobs ended since the incremental horizon, not 100,000.
  bool ledger_complete = true;
  // Jobs that ended before this were pruned from the ledger: never counted
  // again (a raised lookback lists them anew). Unset: nothing pruned yet.
  std::optional<TimePoint> ledger_pruned_before;
  // When the history table was last pruned (History::kPruneEvery): a
  // restart or a cron-style run --once within a day does not scan it again.
  std::optional<TimePoint> history_pruned_at;
  std::vector<LearnedRate> rates;
  // By scope: see ListingMark. A scope without a mark is listed in full.
  std::map<std::string, ListingMark, std::less<>> listings;
  // Cancellation notices for Alertmanager, oldest first (notify stage).
  std::vector<CancelNotice> notices;
};

}  // namespace rcw
