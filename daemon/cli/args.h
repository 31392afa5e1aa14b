// A tiny command-line parser: flags with and without values, positionals.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rcw {

struct Args {
  std::map<std::string, std::string> values;  // "--format" -> "json"
  std::set<std::string> flags;                // "--dry-run"
  std::vector<std::string> positional;
  std::string error;                          // set when parsing failed

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::optional<std::string> Value(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

// `with_value`: options taking a value ("-c", "--format"); `switches`: bare
// flags ("--dry-run"). "-c X", "--config X" and "--config=X" are accepted;
// "-c" is stored as "--config". "--help"/"-h" are always switches.
Args ParseArgs(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
               const std::set<std::string>& switches);

}  // namespace rcw
