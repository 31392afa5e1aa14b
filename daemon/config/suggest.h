// "Did you mean ...?" for misspelt keys and values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rcw {

// Levenshtein distance (insertions, deletions, substitutions), byte-wise.
int EditDistance(std::string_view a, std::string_view b);

// The candidate `word` most likely meant: a case-insensitive match first,
// else the nearest candidate within edit distance 2 (ties: the first listed).
// Nothing when no candidate is that close, or `word` is a candidate.
std::optional<std::string> Suggest(std::string_view word,
                                   std::span<const std::string_view> candidates);

// "a, b or c"
std::string JoinChoices(std::span<const std::string_view> choices);

}  // namespace rcw
