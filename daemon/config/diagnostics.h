// Diagnostics: the errors collected while loading one file. Loading never
// stops at the first problem; every stage adds here and goes on.
#pragma once

#include <string>
#include <vector>

#include "config/loader.h"
#include "config/yaml_node.h"

namespace rcw {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  // An error at `mark` about the key at `path` (may be empty: the document).
  void Error(const YamlMark& mark, std::string path, std::string message);
  // An error about the file as a whole (no position).
  void FileError(std::string message);

  const std::string& file() const { return file_; }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  // The errors in file order (by line, then column; whole-file errors first).
  std::vector<ConfigError> TakeSorted();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Joins a parent path and a key: ("", "api") -> "api", ("api", "timeout") ->
// "api.timeout"; IndexPath("policies", 2) -> "policies[2]".
std::string ChildPath(const std::string& parent, const std::string& key);
std::string IndexPath(const std::string& parent, size_t index);

}  // namespace rcw
