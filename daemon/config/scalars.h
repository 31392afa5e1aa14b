// Typed reads of single YAML values. Each reads `node` (the value at `path`),
// and on a wrong value adds one error "what is wrong (use what is accepted)"
// at the node and returns nothing.
//
// Typing follows YAML: numbers and booleans must be written plain (10, 0.8,
// true); "10" and "true" are strings and refused where a number or boolean is
// expected, so a config means the same to every YAML tool. Booleans are the
// YAML 1.2 ones only (true/false); yes/no/on/off are refused as ambiguous.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "config/diagnostics.h"
#include "config/yaml_node.h"

namespace rcw {

// "a list", "a mapping", "an empty value", "\"text\"": for messages.
std::string DescribeNode(const YamlNode& node);

// A scalar; otherwise reports "expected <expected>, found a list".
bool ExpectScalar(const YamlNode& node, const std::string& path, Diagnostics& diag,
                  std::string_view expected);

// A non-empty scalar, quoted or not.
std::optional<std::string> ReadString(const YamlNode& node, const std::string& path,
                                      Diagnostics& diag);

// A plain decimal integer in [min, max].
std::optional<long long> ReadInt(const YamlNode& node, const std::string& path, Diagnostics& diag,
                                 long long min,
                                 long long max = std::numeric_limits<long long>::max());

enum class NumberRange {
  kPositive,      // > 0
  kFraction,      // (0, 1]
  kOpenFraction,  // (0, 1)
};
// A plain finite decimal number (10, 0.8, 1e3) in `range`.
std::optional<double> ReadNumber(const YamlNode& node, const std::string& path, Diagnostics& diag,
                                 NumberRange range);

// Plain true or false (also True, TRUE, False, FALSE).
std::optional<bool> ReadBool(const YamlNode& node, const std::string& path, Diagnostics& diag);

enum class DurationRange {
  kPositive,     // > 0
  kNonNegative,  // >= 0 (grace)
};
// A duration as rcw::ParseDuration reads it ("90s", "1h30m"); never negative.
std::optional<Seconds> ReadDuration(const YamlNode& node, const std::string& path,
                                    Diagnostics& diag, DurationRange range);

// One of `choices` (exact spelling); the index. Near misses get a suggestion.
std::optional<size_t> ReadChoice(const YamlNode& node, const std::string& path, Diagnostics& diag,
                                 std::span<const std::string_view> choices);

// The items of a list. A scalar or mapping is refused (a single value is not
// promoted to a list). `allow_empty` false refuses [] with `empty_hint`.
const std::vector<YamlNode>* ReadSequence(const YamlNode& node, const std::string& path,
                                          Diagnostics& diag, bool allow_empty,
                                          std::string_view empty_hint = "");

// A list of GUIDs (iTwin, user and job ids), lower-cased: GUIDs are
// case-insensitive, and everything downstream compares them exactly.
std::optional<std::vector<std::string>> ReadGuidList(const YamlNode& node, const std::string& path,
                                                     Diagnostics& diag, bool allow_empty,
                                                     std::string_view empty_hint = "");

// `ids`, as ReadGuidList read them from the list `node`, hold no id twice;
// otherwise one error at each later copy. False when there was one.
bool CheckUniqueGuids(const YamlNode& node, const std::string& path,
                      const std::vector<std::string>& ids, Diagnostics& diag);

// 8-4-4-4-12 hexadecimal digits.
bool IsGuid(std::string_view text);

}  // namespace rcw
