#include "telemetry/budget_series.h"

#include <algorithm>

namespace rcw {

void BudgetSeries::Begin() {
  for (auto& [key, seen] : spent_) seen = false;
  open_ = true;
}

void BudgetSeries::Spent(std::string_view budget, std::string_view group) {
  spent_[{std::string(budget), std::string(group)}] = true;
}

std::vector<BudgetSeries::SpentKey> BudgetSeries::End() {
  std::vector<SpentKey> stale;
  if (!open_) return stale;
  open_ = false;
  std::erase_if(spent_, [&](const auto& entry) {
    if (entry.second) return false;
    stale.push_back(entry.first);
    return true;
  });
  return stale;
}

void BudgetSeries::Limit(std::string_view budget) { limits_.emplace(budget); }

BudgetSeries::Dropped BudgetSeries::Retain(const std::vector<std::string>& keep) {
  auto gone = [&](const std::string& budget) {
    return std::find(keep.begin(), keep.end(), budget) == keep.end();
  };
  Dropped dropped;
  std::erase_if(spent_, [&](const auto& entry) {
    if (!gone(entry.first.first)) return false;
    dropped.spent.push_back(entry.first);
    return true;
  });
  std::erase_if(limits_, [&](const std::string& budget) {
    if (!gone(budget)) return false;
    dropped.limits.push_back(budget);
    return true;
  });
  return dropped;
}

}  // namespace rcw
