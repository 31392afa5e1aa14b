#include "config/diagnostics.h"

#include <algorithm>

namespace rcw {

std::string ConfigError::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

void Diagnostics::Error(const YamlMark& mark, std::string path, std::string message) {
  errors_.push_back(
      ConfigError{file_, mark.line, mark.column, std::move(path), std::move(message)});
}

void Diagnostics::FileError(std::string message) {
  errors_.push_back(ConfigError{file_, 0, 0, "", std::move(message)});
}

std::vector<ConfigError> Diagnostics::TakeSorted() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return std::move(errors_);
}

std::string ChildPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string IndexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

}  // namespace rcw
