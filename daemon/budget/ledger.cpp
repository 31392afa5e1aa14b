#include "budget/ledger.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "budget/group.h"
#include "budget/group_index.h"

namespace rcw {
namespace {

bool ValidUnits(double pu) { return std::isfinite(pu) && pu >= 0; }

// An entry counts for a budget window when it matches and ended within it.
bool Counts(const LedgerEntry& e, const BudgetConfig& budget, const WindowSpan& window) {
  return window.Contains(e.ended) && Matches(budget.match, e);
}

}  // namespace

bool Ledger::Record(const Job& job) {
  // (An id already counted is refused by Add, whose probe finds it.)
  if (IsRunning(job.state) || !job.ended || !job.processing_units ||
      !ValidUnits(*job.processing_units)) {
    return false;
  }
  if (pruned_before_ && *job.ended < *pruned_before_) return false;  // counted, then pruned
  if (!Add(LedgerEntry{.job_id = job.id,
                       .ended = *job.ended,
                       .processing_units = *job.processing_units,
                       .itwin_id = job.itwin_id.view(),
                       .user_id = job.user_id.view(),
                       .type = job.type,
                       .name = job.name})) {
    return false;
  }
  unsaved_history_.push_back(CountedHistory{.created = job.created,
                                            .started = job.started.value_or(TimePoint{}),
                                            .state = job.state,
                                            .has_started = job.started.has_value()});
  return true;
}

std::size_t Ledger::Find(std::string_view job_id) const {
  std::size_t mask = slots_.size() - 1;
  std::size_t i = std::hash<std::string_view>{}(job_id)&mask;
  while (slots_[i] != kEmpty && std::string_view(entries_[slots_[i]].job_id) != job_id) {
    i = (i + 1) & mask;
  }
  return i;
}

void Ledger::Rehash(std::size_t entries) {
  std::size_t size = 16;
  while (size < 2 * entries + 2) size *= 2;
  slots_.assign(size, kEmpty);
  for (std::size_t n = 0; n < entries_.size(); ++n) {
    slots_[Find(entries_[n].job_id)] = static_cast<std::uint32_t>(n);
  }
}

bool Ledger::Add(LedgerEntry entry) {
  if (entries_.size() >= kEmpty - 1) return false;  // 4 billion ended jobs: never
  if (2 * (entries_.size() + 1) + 2 > slots_.size()) Rehash(entries_.size() + 1);
  std::size_t slot = Find(entry.job_id);
  if (slots_[slot] != kEmpty) return false;
  slots_[slot] = static_cast<std::uint32_t>(entries_.size());
  entries_.push_back(std::move(entry));
  return true;
}

bool Ledger::Contains(std::string_view job_id) const {
  return !slots_.empty() && slots_[Find(job_id)] != kEmpty;
}

void Ledger::Prune(TimePoint older_than) {
  if (!pruned_before_ || older_than > *pruned_before_) pruned_before_ = older_than;
  std::size_t before = entries_.size();
  auto old = [&](const LedgerEntry& e) { return e.ended < older_than; };
  // The history fields of unsaved entries pruned go with them (rare: a job
  // is counted when it is listed, inside the horizon).
  auto unsaved = entries_.begin() + static_cast<std::ptrdiff_t>(saved_);
  if (std::any_of(unsaved, entries_.end(), old)) {
    std::deque<CountedHistory> history;
    for (std::size_t i = saved_; i < entries_.size() && i - saved_ < unsaved_history_.size(); ++i) {
      if (!old(entries_[i])) history.push_back(unsaved_history_[i - saved_]);
    }
    unsaved_history_ = std::move(history);
  }
  // erase_if keeps the order: the saved entries left are still the first.
  saved_ -= static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(saved_), old));
  std::erase_if(entries_, old);
  if (entries_.size() != before) Rehash(entries_.size());  // indexes moved
}

void Ledger::Restore(LedgerEntries entries) {
  entries_.clear();
  unsaved_history_.clear();
  Rehash(entries.size());
  // Taken from the front, so the given deque frees its blocks as this one
  // fills: 90,000 entries are never in memory twice.
  while (!entries.empty()) {
    if (ValidUnits(entries.front().processing_units)) Add(std::move(entries.front()));
    entries.pop_front();
  }
  saved_ = entries_.size();
}

std::size_t Ledger::Prepend(LedgerEntries older) {
  if (older.empty()) return 0;
  // Rebuilt in order: the older entries, then the current ones. Both are
  // taken from the front, so no entry is in memory twice.
  LedgerEntries newer = std::move(entries_);
  entries_ = LedgerEntries();
  Rehash(older.size() + newer.size());
  std::size_t added = 0;
  while (!older.empty()) {
    if (ValidUnits(older.front().processing_units) && Add(std::move(older.front()))) ++added;
    older.pop_front();
  }
  // The current entries keep their order, so the saved ones are still a
  // prefix. One whose id an older entry holds is dropped (the first
  // sighting is the one counted; the store has that one).
  std::size_t saved = entries_.size();
  std::deque<CountedHistory> history = std::move(unsaved_history_);
  unsaved_history_ = {};
  for (std::size_t i = 0; !newer.empty(); ++i) {
    bool was_saved = i < saved_;
    bool kept = Add(std::move(newer.front()));
    if (kept && was_saved) ++saved;
    if (kept && !was_saved && i - saved_ < history.size()) {
      unsaved_history_.push_back(history[i - saved_]);
    }
    newer.pop_front();
  }
  saved_ = saved;
  return added;
}

GroupSpend Ledger::SpentByGroup(const BudgetConfig& budget, const WindowSpan& window) const {
  // Numbered groups first: the tree is built once per group, not searched
  // once per entry.
  GroupIndex index;
  std::vector<double> sums;
  for (const LedgerEntry& e : entries_) {
    if (!Counts(e, budget, window)) continue;
    std::size_t n = index.Of(GroupKey(budget.group_by, e));
    if (n == sums.size()) sums.push_back(0);
    sums[n] += e.processing_units;
  }
  GroupSpend spent;
  for (std::size_t n = 0; n < sums.size(); ++n) spent.emplace(index.Key(n), sums[n]);
  return spent;
}

double Ledger::Spent(const BudgetConfig& budget, std::string_view group,
                     const WindowSpan& window) const {
  double spent = 0;
  for (const LedgerEntry& e : entries_) {
    if (Counts(e, budget, window) && GroupKey(budget.group_by, e) == group) {
      spent += e.processing_units;
    }
  }
  return spent;
}

}  // namespace rcw
