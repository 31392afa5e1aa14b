// Bookkeeping of the budget gauges' series, so that stale ones can be removed:
// groups of a past window (budget_spent_processing_units{budget,group}) and
// budgets dropped from the config. Plain data; metrics.cpp does the removing.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rcw {

class BudgetSeries {
 public:
  using SpentKey = std::pair<std::string, std::string>;  // budget, group

  // Starts a full update: every spent series is unseen until Spent() again.
  void Begin();
  void Spent(std::string_view budget, std::string_view group);
  // Ends the update: forgets and returns the spent series not seen since
  // Begin(). Without a Begin() it returns nothing.
  std::vector<SpentKey> End();

  void Limit(std::string_view budget);

  // Forgets and returns the series of budgets not in `keep`.
  struct Dropped {
    std::vector<SpentKey> spent;
    std::vector<std::string> limits;
  };
  Dropped Retain(const std::vector<std::string>& keep);

 private:
  std::map<SpentKey, bool> spent_;  // -> seen since Begin()
  std::set<std::string> limits_;
  bool open_ = false;
};

}  // namespace rcw
