// The ledger of counted jobs: every ended job's processing units, counted
// exactly once (docs/configuration.md `budgets`). Its entries are plain values
// (base/ledger_entry.h) that state/ persists, so a restart neither loses nor
// double-counts a job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/ledger_entry.h"
#include "budget/window.h"
#include "config/config.h"

namespace rcw {

// Group key (see GroupKey in budget/group.h) -> processing units, ordered by
// group; looked up by std::string_view without allocating.
using GroupSpend = std::map<std::string, double, std::less<>>;

class Ledger {
 public:
  // Counts `job` once: its processing units belong to the window of its
  // endedDateTime. REQUIRES: the job ended: state neither Queued nor Active,
  // `ended` and `processing_units` set, processing units finite and >= 0.
  // Returns true when added. Returns false and changes nothing when the id
  // is already counted (even if the PUs reported now differ: the first
  // sighting is the one counted) or when REQUIRES does not hold (the job can
  // then be recorded by a later call, once it does).
  bool Record(const Job& job);

  bool Contains(std::string_view job_id) const;
  std::size_t size() const { return entries_.size(); }

  // Drops the entries that ended before `older_than` (and forgets their ids).
  // LedgerHorizon() in budget/budget_eval.h says what the daemon must keep.
  // From then on Record refuses jobs that ended before the latest such
  // horizon: they were counted before being pruned (a raised lookback, or a
  // budget window that moved back, lists them again).
  void Prune(TimePoint older_than);
  std::optional<TimePoint> pruned_before() const { return pruned_before_; }
  void set_pruned_before(std::optional<TimePoint> t) { pruned_before_ = t; }

  // For persistence: every entry, in the order recorded (or restored).
  const LedgerEntries& entries() const { return entries_; }
  // Entries are appended in order and only ever removed by Prune, so the
  // store needs no copy to know what it lacks: entries()[0, saved()) are
  // persisted, the rest are not yet. MarkSaved() once the store committed
  // them all. Prune keeps the count right (the store deletes by
  // pruned_before() itself).
  std::size_t saved() const { return saved_; }
  void MarkSaved() {
    saved_ = entries_.size();
    unsaved_history_.clear();
    unsaved_history_.shrink_to_fit();
  }
  // The history fields of each entry not saved yet, in order:
  // unsaved_history()[k] belongs to entries()[saved() + k] (Record adds one;
  // Prune and Prepend drop the ones of unsaved entries they drop).
  const std::deque<CountedHistory>& unsaved_history() const { return unsaved_history_; }
  // Replaces the contents with persisted entries (all then count as saved).
  // Of entries with the same job id only the first is kept; entries whose
  // PUs are not finite and >= 0 are dropped.
  void Restore(LedgerEntries entries);
  // Adds persisted entries older than those restored so far (a ledger read
  // from its store piecemeal, newest first): they go before the others and
  // count as saved. An id in both keeps the older entry (the first
  // sighting); entries whose PUs are not finite and >= 0 are dropped.
  // Returns how many older entries were added.
  std::size_t Prepend(LedgerEntries older);

  // One pass over the entries: the PUs of the entries that match
  // `budget.match` and ended within `window`, summed per group of
  // `budget.group_by`. A group with only 0-PU entries is present with 0.
  GroupSpend SpentByGroup(const BudgetConfig& budget, const WindowSpan& window) const;
  // The same for one group; 0 when it has no entry in the window.
  double Spent(const BudgetConfig& budget, std::string_view group, const WindowSpan& window) const;

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  bool Add(LedgerEntry entry);
  // The slot of `job_id` in slots_: the one holding its entry's index, or the
  // empty slot where it would go. REQUIRES: slots_ has an empty slot.
  std::size_t Find(std::string_view job_id) const;
  // Sizes slots_ for `entries` entries (at most half full) and re-indexes
  // entries_.
  void Rehash(std::size_t entries);

  LedgerEntries entries_;
  // The id index: an open-addressing table (linear probing) of indexes into
  // entries_, hashed by their job_id. Four bytes a slot, where a set of ids
  // would hold a second copy of every 40-byte id plus a node: about 1 MB
  // instead of 7 MB for a month of 100,000 ended jobs.
  std::vector<std::uint32_t> slots_;
  std::optional<TimePoint> pruned_before_;
  std::size_t saved_ = 0;                       // entries_[0, saved_) are persisted
  std::deque<CountedHistory> unsaved_history_;  // of entries_[saved_, end)
};

}  // namespace rcw
