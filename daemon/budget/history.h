// The job history the budget stage keeps for `backtest`: which ended jobs the
// next save adds to state.db's history table, and when that table is pruned.
// A row per ended job, never a copy per poll: a job enters when the ledger
// counts it (Ledger::Record returned true, which happens once per id), or,
// for an ended job the API reported without processing units, the first time
// this process sees it (such ids are remembered in memory until they leave
// the listing, so a restart may write one of them twice; backtest keeps the
// first row of an id).
#pragma once

#include <string>
#include <unordered_set>

#include "base/history.h"
#include "base/job.h"

namespace rcw {

class History {
 public:
  // How often the history table is pruned.
  static constexpr Seconds kPruneEvery{86400};

  // A job the ledger counted just now. REQUIRES: the job ended.
  void Add(const Job& job);
  // An ended job without processing units (the ledger does not count it):
  // added the first time this process sees it.
  void AddUncounted(const Job& job);
  // Forgets the in-memory ids of AddUncounted jobs that `still_listed` no
  // longer contains. Call after a complete listing.
  template <class Pred>
  void ForgetUncounted(Pred still_listed) {
    std::erase_if(uncounted_, [&](const std::string& id) { return !still_listed(id); });
  }
  // Asks the next save to delete rows of jobs that ended before
  // now - retention, at most once per kPruneEvery (and at the first cycle).
  void PlanPrune(TimePoint now, Seconds retention);

  // What the next save writes.
  const HistoryBatch& batch() const { return batch_; }
  // The store committed batch(): start a new one.
  void MarkSaved() { batch_ = HistoryBatch{}; }

 private:
  HistoryBatch batch_;
  std::unordered_set<std::string> uncounted_;
  std::optional<TimePoint> last_prune_;
};

}  // namespace rcw
