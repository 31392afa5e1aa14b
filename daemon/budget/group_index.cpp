#include "budget/group_index.h"

namespace rcw {

std::size_t GroupIndex::Of(std::string_view key) {
  if (!keys_.empty() && key == last_key_) return last_;
  auto it = numbers_.find(key);
  if (it == numbers_.end()) {
    it = numbers_.emplace(std::string(key), keys_.size()).first;
    keys_.push_back(&it->first);
  }
  last_ = it->second;
  last_key_ = it->first;
  return last_;
}

}  // namespace rcw
