// The job history the budget stage keeps for `backtest`: which ended jobs the
// next save adds to state.db's history table, and when that table is pruned.
// A row per ended job, never a copy per poll:
// - a job the ledger counts (Ledger::Record returned true, once per id) gets
//   its row from its ledger entry and the fields the ledger keeps with it
//   until the save (Ledger::unsaved_history, HistoryBatch::counted): a job
//   counted as its page arrives is not kept anywhere else;
// - an ended job the API reported without processing units is added here the
//   first time this process sees it (such ids are remembered in memory until
//   they leave the listing, so a restart may write one of them twice;
//   backtest keeps the first row of an id).
//
// Memory: the rows added here are borrowed from the listing by index (4 bytes
// a job), not copied. The listing's owner keeps it alive and tells the
// history where it went (Rebind), copies what is still unsaved before reusing
// it (Detach), or drops the borrowed rows when it was lost (DropBorrowed).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/history.h"
#include "base/job.h"

namespace rcw {

class History {
 public:
  // How often the history table is pruned.
  static constexpr Seconds kPruneEvery{86400};

  // listing[index], an ended job. REQUIRES: `listing` is the vector of every
  // Add since the last Detach, DropBorrowed or MarkSaved.
  void Add(const std::vector<Job>& listing, std::uint32_t index);
  // An ended job without processing units (the ledger does not count it):
  // added the first time this process sees it.
  void AddUncounted(const std::vector<Job>& listing, std::uint32_t index);
  // Forgets the in-memory ids of AddUncounted jobs that `still_listed` no
  // longer contains. Call after a complete listing.
  template <class Pred>
  void ForgetUncounted(Pred still_listed) {
    std::erase_if(uncounted_, [&](const std::string& id) { return !still_listed(id); });
  }
  // Asks the next save to delete rows of jobs that ended before
  // now - retention, at most once per kPruneEvery since the last prune (the
  // state remembers it across restarts: set_last_prune), and again when the
  // clock went back before it.
  void PlanPrune(TimePoint now, Seconds retention);
  // When the last planned prune was (saved with the state).
  std::optional<TimePoint> last_prune() const { return last_prune_; }
  void set_last_prune(std::optional<TimePoint> at) { last_prune_ = at; }

  // The listing was moved to `listing` (same jobs at the same indexes).
  void Rebind(const std::vector<Job>* listing) { source_ = listing; }
  // Copies the unsaved borrowed jobs: the listing is about to be reused.
  void Detach();
  // The listing is gone (a cycle aborted): its unsaved rows are dropped.
  // Returns how many.
  std::size_t DropBorrowed();

  // The listing the unsaved borrowed rows point into (null: none).
  const std::vector<Job>* source() const { return source_; }

  // What the next save writes; valid until this History changes.
  HistoryBatch Batch() const;
  // The store committed Batch(): start a new one.
  void MarkSaved();

 private:
  std::vector<Job> owned_;  // copies, saved before the borrowed ones
  const std::vector<Job>* source_ = nullptr;
  std::vector<std::uint32_t> borrowed_;  // indexes into *source_
  std::optional<TimePoint> prune_before_;
  std::unordered_set<std::string> uncounted_;
  std::optional<TimePoint> last_prune_;
};

}  // namespace rcw
