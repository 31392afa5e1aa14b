// Which violators get a cancellation this cycle: one finding per job (the
// first cancelling policy in config order, else a budget), then the safety
// limits of docs/configuration.md `enforcement`. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/job.h"
#include "config/config.h"
#include "policy/verdict.h"

namespace rcw {

struct Selection {
  std::vector<Finding> start;             // new cancellations to start now
  std::vector<Finding> over_cycle;        // held back by max_cancels_per_cycle
  std::vector<Finding> over_hour;         // held back by max_cancels_per_hour
  std::vector<Finding> breaker;           // held back by the circuit breaker
  bool breaker_tripped = false;
  std::size_t would = 0;                  // wanted + already under way
  double fraction = 0;                    // would / watched Queued+Active jobs
};

// One cancelling finding per job: the first policy finding with cancel set
// (policy order), else the first budget finding with cancel set.
std::vector<Finding> CancellingFindings(const std::vector<Finding>& findings);

// `wanted`: cancelling findings of jobs not already pending. `already`: jobs
// with a cancellation already under way that are still violators (they count
// towards the breaker's fraction). `running`: Queued+Active jobs watched.
// `used_this_hour`: cancellations started in the last 60 minutes. Worst
// offenders (highest observed/threshold, then oldest) go first. The breaker
// trips when at least limits.circuit_breaker_min_jobs jobs would be cancelled
// and that is more than limits.max_cancel_fraction of `running`.
Selection SelectCancellations(std::vector<Finding> wanted, std::size_t already,
                              std::size_t running, std::size_t used_this_hour,
                              const EnforcementConfig& limits, const std::vector<Job>& jobs);

// The cancel_blocked message of a tripped breaker, naming both conditions:
// "circuit breaker: 12 of 20 watched jobs would be cancelled (fraction 0.60 >
// max_cancel_fraction 0.50, and 12 >= circuit_breaker_min_jobs 3); cancelling
// none this cycle".
std::string BreakerMessage(const Selection& s, std::size_t running,
                           const EnforcementConfig& limits);

}  // namespace rcw
