// Folding one listing into the books and judging it: the step shared by the
// daemon's cycle and `plan`. Pure apart from the state it is handed.
#pragma once

#include <vector>

#include "base/job.h"
#include "base/persisted_state.h"
#include "budget/budget_eval.h"
#include "budget/estimates.h"
#include "budget/ledger.h"
#include "config/config.h"
#include "policy/verdict.h"

namespace rcw {

// The live budget books; mirrored into PersistentState when saved.
struct Books {
  Ledger ledger;
  RateEstimator rates;

  explicit Books(const Config& config) : rates(config) {}
  void Restore(const PersistentState& state);
  void Store(PersistentState& state) const;
};

struct Assessment {
  std::vector<BudgetGroupStatus> budgets;
  Evaluation eval;
  std::size_t running = 0;                 // Queued + Active jobs
  std::vector<std::uint32_t> newly_ended;  // jobs whose PUs were counted now
};

// Counts each ended job's PUs once (ledger), learns PU rates, remembers when
// an Active job without startedDateTime was first seen Active, forgets such
// marks for jobs no longer running (complete listings only), then evaluates
// policies and budgets at `now`.
Assessment Assess(const Config& config, const std::vector<Job>& jobs, bool complete,
                  PersistentState& state, Books& books, TimePoint now);

}  // namespace rcw
