#include "budget/history.h"

namespace rcw {
namespace {

// Cuts `name` to kHistoryNameMax bytes without splitting a UTF-8 sequence.
std::string_view Capped(std::string_view name) {
  if (name.size() <= kHistoryNameMax) return name;
  std::size_t n = kHistoryNameMax;
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;
  return name.substr(0, n);
}

}  // namespace

void History::Add(const Job& job) {
  batch_.rows.push_back(job);
  Job& row = batch_.rows.back();
  if (row.name.size() > kHistoryNameMax) row.name = Capped(job.name);
}

void History::AddUncounted(const Job& job) {
  if (!uncounted_.emplace(job.id.view()).second) return;
  Add(job);
}

void History::PlanPrune(TimePoint now, Seconds retention) {
  if (last_prune_ && now - *last_prune_ < kPruneEvery) return;
  last_prune_ = now;
  batch_.prune_before = now - retention;
}

}  // namespace rcw
