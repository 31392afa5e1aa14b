// GroupIndex: numbers the distinct group keys met during one budget
// evaluation densely (0, 1, 2...), so that per-budget tallies are vectors
// indexed by number and a job's key is looked up once per GroupBy kind, not
// once per budget. Internal to budget/.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rcw {

class GroupIndex {
 public:
  // The number of `key`, numbering it when new (that allocates; looking up a
  // known key does not). Consecutive calls with the same key (jobs of one
  // iTwin, listed together) cost a comparison, not a hash.
  std::size_t Of(std::string_view key);
  // REQUIRES: n < size(). Valid as long as this index.
  const std::string& Key(std::size_t n) const { return *keys_[n]; }
  std::size_t size() const { return keys_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> numbers_;
  std::vector<const std::string*> keys_;  // into numbers_' nodes, which never move
  std::string_view last_key_;             // views keys_[last_]
  std::size_t last_ = 0;
};

}  // namespace rcw
