#include "budget/history.h"

namespace rcw {

void History::Add(const std::vector<Job>& listing, std::uint32_t index) {
  if (source_ != &listing) {
    Detach();
    source_ = &listing;
  }
  borrowed_.push_back(index);
}

void History::AddUncounted(const std::vector<Job>& listing, std::uint32_t index) {
  if (!uncounted_.emplace(listing[index].id.view()).second) return;
  Add(listing, index);
}

void History::PlanPrune(TimePoint now, Seconds retention) {
  if (last_prune_ && *last_prune_ <= now && now - *last_prune_ < kPruneEvery) return;
  last_prune_ = now;
  prune_before_ = now - retention;
}

void History::Detach() {
  if (source_) {
    for (std::uint32_t i : borrowed_) {
      owned_.push_back((*source_)[i]);
      owned_.back().name = HistoryName(owned_.back().name);
    }
  }
  borrowed_.clear();
  source_ = nullptr;
}

std::size_t History::DropBorrowed() {
  std::size_t n = borrowed_.size();
  borrowed_.clear();
  source_ = nullptr;
  return n;
}

HistoryBatch History::Batch() const {
  HistoryBatch b;
  b.prune_before = prune_before_;
  b.rows.reserve(owned_.size() + borrowed_.size());
  for (const Job& j : owned_) b.rows.push_back(&j);
  if (source_) {
    for (std::uint32_t i : borrowed_) b.rows.push_back(&(*source_)[i]);
  }
  return b;
}

void History::MarkSaved() {
  owned_.clear();
  owned_.shrink_to_fit();
  borrowed_.clear();
  borrowed_.shrink_to_fit();
  prune_before_.reset();
}

}  // namespace rcw
