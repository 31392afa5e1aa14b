#include "config/suggest.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace rcw {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> Suggest(std::string_view word,
                                   std::span<const std::string_view> candidates) {
  for (std::string_view c : candidates) {
    if (c == word) return std::nullopt;
  }
  for (std::string_view c : candidates) {
    if (EqualsIgnoreCase(c, word)) return std::string(c);
  }
  constexpr int kMaxDistance = 2;
  std::optional<std::string> best;
  int best_distance = kMaxDistance + 1;
  for (std::string_view c : candidates) {
    int d = EditDistance(word, c);
    // "x" is 2 edits from every two-letter candidate: noise, not a typo.
    if (d >= static_cast<int>(std::min(word.size(), c.size()))) continue;
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

std::string JoinChoices(std::span<const std::string_view> choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

}  // namespace rcw
