// One poll: every watched job, listed page by page, plus the long-running
// jobs that fell out of the lookback window, followed with GET.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/rc_client.h"
#include "base/job.h"
#include "base/persisted_state.h"
#include "config/config.h"

namespace rcw {

// Incremental listing (issue 11): which jobs of one scope (a watched iTwin,
// or "" for the client's own jobs) a listing asks for.
enum class ListingKind { kFull, kIncremental };
std::string_view ToString(ListingKind kind);  // "full" | "incremental"

// The margin below the horizon of an incremental listing, for clock skew
// between the API's hosts and for jobs that become visible late.
inline constexpr Seconds kIncrementalMargin{600};

struct ScopePlan {
  ListingKind kind = ListingKind::kFull;
  TimePoint created_after{};  // the listing asks for createdDateTime gt this
};

// Pure: how to list a scope at `now`, given its mark (nullptr: none).
// Incremental: jobs created after max(now - lookback, horizon -
// kIncrementalMargin). Full (jobs created after now - lookback) when there
// is no mark, its horizon or full_at is unset, now - full_at >=
// watch.full_listing_interval, the mark's lookback is not the config's
// (watch changed), the mark lies in the future (the clock went back), or
// full_listing_interval <= poll_interval (then every listing is full).
ScopePlan PlanScope(const Config& config, const ListingMark* mark, TimePoint now);

// What one scope's listing of a poll did.
struct ScopeListing {
  std::string scope;  // iTwin id (lower case), "" for own jobs
  ListingKind kind = ListingKind::kFull;
  TimePoint created_after{};
  bool complete = false;  // every page of this scope was read and decoded
  // The creation time of the oldest listed job of this scope that can still
  // change: not terminal, or with a cancellation pending (its final state is
  // still to be confirmed). Unset: there was none.
  std::optional<TimePoint> oldest_open;
};

struct Listing {
  std::vector<Job> jobs;  // one record per job id, of watched iTwins only
  bool complete = true;   // false: some page or follow-up failed (fail closed)
  std::string error;      // the first failure, for logs and STATUS=
  int pages = 0;
  int gets = 0;
  std::size_t duplicates = 0;  // records dropped for a job id read twice
  std::size_t unwatched = 0;   // jobs dropped for an iTwin not in watch.itwins
  // Folded as their pages arrived (PollJobs' `absorb`): ended jobs the
  // ledger counted (before, or as their page arrived), not kept in `jobs`,
  // and their number per state and type (for the jobs gauge). `stale`:
  // records that showed such a job queued or running (an ended job never runs
  // again: a replica behind, or the job ended while later pages were read),
  // dropped as well.
  std::size_t folded = 0;
  std::size_t stale = 0;
  std::array<std::array<std::uint32_t, kJobTypeCount>, kJobStateCount> folded_counts{};
  // The watched iTwins whose listing failed (the rest were listed whole).
  std::set<std::string> incomplete_itwins;
  // Index in watch.itwins of the first iTwin whose listing failed (a page
  // failed, or the rate limit held it back): the next poll starts there.
  std::optional<std::size_t> first_failed;
  // One per scope listed, in the order listed.
  std::vector<ScopeListing> scopes;
  TimePoint started{};  // the `now` the listing was planned at
  // kFull when any scope was listed in full.
  ListingKind kind() const;
};

// Lists jobs created within watch.lookback, each scope as PlanScope says
// from its mark in `state.listings` (which it only reads: CommitListing
// advances the marks once the listing was assessed): one listing per watched
// iTwin (or one of the client's own jobs), then GETs each job of `state.followed`
// that the listing no longer returned. Updates `state.followed` with the
// running jobs whose creation is near the lookback edge. `recycled` lends
// its capacity (the previous listing's vector), so a 100,000-job poll does not
// regrow a vector; its contents are dropped.
//
// The iTwins are listed from index `first_itwin` on (modulo their number),
// wrapping around: a poll cut short by a tight rate limit is resumed where it
// stopped by the next, so every iTwin is seen in turn instead of the first
// ones over and over while the last are never listed.
//
// Pacing: a page or GET held back by the rate limit for at most
// MaxPacingWait(config) is waited for (through the client's Waiter, if it has
// one) and read, so a listing longer than api.max_requests_per_minute
// completes. An interrupted wait (shutdown) leaves the listing incomplete.
//
// The listing is normalised before anyone judges it:
// - with watch.itwins set, jobs whose itwin_id is not watched are dropped
//   (a job read back with GET too), and their ids leave `state.followed`;
// - one record per job id (KeepOneRecordPerJob): a job that moved between
//   pages while they were read, or was listed twice, counts once.
//
// Folding (issue 11: a listing keeps what can still change, not 100,000
// records): with `absorb` set, each page, as it arrives, offers it every job of
// a watched iTwin whose cancellation is not pending and that is not followed,
// ended or queued/running (a terminating job can still change: it is kept), and
// drops those it absorbs. absorb(job) is true when the ledger has counted
// the job ended: before, or just now (the caller counts it then, as Assess
// would have: nothing downstream needs its record, no policy judges an ended
// job). For a job shown queued or running it is true when the ledger counted
// it ended before; such records are also dropped after the last page, so a
// job that ended while the listing ran is judged by its ended record, as
// KeepOneRecordPerJob would. The ledger must hold every entry of a job
// created after EarliestListed() less an hour: a false "no" only keeps a job.
using AbsorbFn = std::function<bool(const Job& job)>;
Listing PollJobs(RealityConversionClient& api, const Config& config, PersistentState& state,
                 TimePoint now, std::vector<Job> recycled = {}, std::size_t first_itwin = 0,
                 const AbsorbFn& absorb = {});

// The earliest createdDateTime bound PollJobs would list from at `now` (the
// minimum over the scopes of PlanScope's created_after).
TimePoint EarliestListed(const Config& config, const PersistentState& state, TimePoint now);

// After the listing was assessed (its ended jobs counted, its jobs judged):
// advances the mark of each scope whose listing completed: horizon = its
// oldest_open, or the listing's start if none; full_at = the start when the
// scope was listed in full (else kept); lookback = watch.lookback. The mark
// of a scope whose listing failed is dropped, so its next listing is full.
// Marks of scopes no longer watched are dropped.
void CommitListing(const Config& config, const Listing& listing, PersistentState& state);

// A reload that changes `watch` (SIGHUP) drops every mark: the next listing
// of each scope is full.
void ForgetListingsIfWatchChanged(const WatchConfig& before, const WatchConfig& after,
                                  PersistentState& state);

// The longest rate-limit wait a listing sits through: min(120 s, 4 x
// watch.poll_interval). Longer waits fail the listing (the next poll retries).
Millis MaxPacingWait(const Config& config);

// Order of JobState along a job's life: Queued < Active (and kUnknown, a
// state we cannot place) < TerminatingOn* < Cancelled, Failed, Success.
int LifecycleRank(JobState state);

// Keeps one record per job id, in first-seen order: the one with the highest
// LifecycleRank, and of equal ranks the one read last. One hash pass; records
// are swapped or moved, never copied. Returns how many were dropped.
std::size_t KeepOneRecordPerJob(std::vector<Job>& jobs);

}  // namespace rcw
