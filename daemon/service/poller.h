// One poll: every watched job, listed page by page, plus the long-running
// jobs that fell out of the lookback window, followed with GET.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/rc_client.h"
#include "base/job.h"
#include "base/persisted_state.h"
#include "config/config.h"

namespace rcw {

struct Listing {
  std::vector<Job> jobs;  // one record per job id, of watched iTwins only
  bool complete = true;   // false: some page or follow-up failed (fail closed)
  std::string error;      // the first failure, for logs and STATUS=
  int pages = 0;
  int gets = 0;
  std::size_t duplicates = 0;  // records dropped for a job id read twice
  std::size_t unwatched = 0;   // jobs dropped for an iTwin not in watch.itwins
  // The watched iTwins whose listing failed (the rest were listed whole).
  std::set<std::string> incomplete_itwins;
  // Index in watch.itwins of the first iTwin whose listing failed (a page
  // failed, or the rate limit held it back): the next poll starts there.
  std::optional<std::size_t> first_failed;
};

// Lists jobs created within watch.lookback: one listing per watched iTwin
// (or one of the client's own jobs), then GETs each job of `state.followed`
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
Listing PollJobs(RealityConversionClient& api, const Config& config, PersistentState& state,
                 TimePoint now, std::vector<Job> recycled = {}, std::size_t first_itwin = 0);

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
