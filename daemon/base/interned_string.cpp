#include "base/interned_string.h"

#include <functional>
#include <mutex>
#include <unordered_set>

namespace rcw {
namespace {

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

struct Pool {
  std::mutex mutex;
  // Node-based: an element never moves, so pointers to it stay valid.
  std::unordered_set<std::string, Hash, std::equal_to<>> texts;
};

Pool& ThePool() {
  static Pool* pool = new Pool;  // never destroyed: views may outlive static destructors
  return *pool;
}

}  // namespace

const std::string* InternedString::Intern(std::string_view text) {
  if (text.empty()) return nullptr;
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mutex);
  auto it = pool.texts.find(text);
  if (it == pool.texts.end()) it = pool.texts.emplace(text).first;
  return &*it;
}

std::size_t InternedString::PoolSize() {
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mutex);
  return pool.texts.size();
}

}  // namespace rcw
