#include "config/suggest.h"

#include <catch2/catch.hpp>

using namespace rcw;

namespace {
constexpr std::string_view kKeys[] = {"max_runtime", "max_queued", "max_processing_units"};
}

TEST_CASE("EditDistance counts insertions, deletions and substitutions") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("abc", "") == 3);
  CHECK(EditDistance("max_runtme", "max_runtime") == 1);
  CHECK(EditDistance("kitten", "sitting") == 3);
  CHECK(EditDistance("flaw", "lawn") == 2);
}

TEST_CASE("Suggest finds near misses and case slips only") {
  CHECK(Suggest("max_runtme", kKeys) == "max_runtime");
  CHECK(Suggest("max_qeued", kKeys) == "max_queued");
  CHECK(Suggest("MAX_QUEUED", kKeys) == "max_queued");   // case-insensitive beats distance
  CHECK(Suggest("max_runtime", kKeys) == std::nullopt);  // already right
  CHECK(Suggest("timeout", kKeys) == std::nullopt);
  constexpr std::string_view kShort[] = {"ab", "cd"};
  CHECK(Suggest("x", kShort) == std::nullopt);  // two edits from anything short: noise
  constexpr std::string_view kLonger[] = {"abc", "xyz"};
  CHECK(Suggest("ab", kLonger) == "abc");
}

TEST_CASE("JoinChoices reads as a sentence") {
  constexpr std::string_view one[] = {"a"};
  constexpr std::string_view two[] = {"a", "b"};
  constexpr std::string_view three[] = {"a", "b", "c"};
  CHECK(JoinChoices(one) == "a");
  CHECK(JoinChoices(two) == "a or b");
  CHECK(JoinChoices(three) == "a, b or c");
}
