// One poll: every watched job, listed page by page, plus the long-running
// jobs that fell out of the lookback window, followed with GET.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "api/rc_client.h"
#include "base/job.h"
#include "base/persisted_state.h"
#include "config/config.h"

namespace rcw {

struct Listing {
  std::vector<Job> jobs;
  bool complete = true;   // false: some page or follow-up failed (fail closed)
  std::string error;      // the first failure, for logs and STATUS=
  int pages = 0;
  int gets = 0;
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
Listing PollJobs(RealityConversionClient& api, const Config& config, PersistentState& state,
                 TimePoint now, std::vector<Job> recycled = {}, std::size_t first_itwin = 0);

}  // namespace rcw
