// Folding one listing into the books and judging it: the step shared by the
// daemon's cycle and `plan`. Pure apart from the state it is handed.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/job.h"
#include "base/persisted_state.h"
#include "budget/budget_eval.h"
#include "budget/estimates.h"
#include "budget/history.h"
#include "budget/ledger.h"
#include "config/config.h"
#include "policy/verdict.h"

namespace rcw {

// The live budget books. The ledger lives here only: Restore moves the
// persisted entries out of the state (one copy in memory, not two; state.db
// is written from ledger.entries()); the learned rates are mirrored back into
// the state by Store.
struct Books {
  Ledger ledger;
  RateEstimator rates;
  History history;  // ended jobs for state.db's history table (backtest)

  explicit Books(const Config& config) : rates(config) {}
  // Leaves state.ledger empty.
  void Restore(PersistentState& state);
  void Store(PersistentState& state) const;
};

struct Assessment {
  std::vector<BudgetGroupStatus> budgets;
  Evaluation eval;
  std::size_t running = 0;                 // Queued + Active jobs
  std::vector<std::uint32_t> newly_ended;  // jobs whose PUs were counted now
};

// Counts each ended job's PUs once (ledger) and adds it to the history,
// plans the history's daily prune, learns PU rates, remembers when
// an Active job without startedDateTime was first seen Active, forgets such
// marks for jobs no longer running (complete listings only), forgets the
// once-only markers of jobs no longer running (per iTwin: those of an iTwin
// listed whole even when another's listing failed; `incomplete_itwins` names
// the iTwins whose listing failed), then evaluates policies and budgets at
// `now`.
Assessment Assess(const Config& config, const std::vector<Job>& jobs, bool complete,
                  PersistentState& state, Books& books, TimePoint now,
                  const std::set<std::string>& incomplete_itwins = {});

}  // namespace rcw
