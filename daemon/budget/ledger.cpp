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
  if (IsRunning(job.state) || !job.ended || !job.processing_units ||
      !ValidUnits(*job.processing_units) || Contains(job.id)) {
    return false;
  }
  return Add(LedgerEntry{.job_id = job.id,
                         .ended = *job.ended,
                         .processing_units = *job.processing_units,
                         .itwin_id = job.itwin_id,
                         .user_id = job.user_id,
                         .type = job.type,
                         .name = job.name});
}

bool Ledger::Add(LedgerEntry entry) {
  if (!ids_.insert(entry.job_id).second) return false;
  entries_.push_back(std::move(entry));
  return true;
}

bool Ledger::Contains(std::string_view job_id) const { return ids_.find(job_id) != ids_.end(); }

void Ledger::Prune(TimePoint older_than) {
  std::erase_if(entries_, [&](const LedgerEntry& e) {
    if (e.ended >= older_than) return false;
    ids_.erase(e.job_id);
    return true;
  });
}

void Ledger::Restore(std::vector<LedgerEntry> entries) {
  entries_.clear();
  ids_.clear();
  entries_.reserve(entries.size());
  ids_.reserve(entries.size());
  for (LedgerEntry& e : entries) {
    if (ValidUnits(e.processing_units)) Add(std::move(e));
  }
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
