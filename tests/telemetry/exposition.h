// Helpers for tests reading the Prometheus text exposition.
#pragma once

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace rcw::testing {

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of the sample whose series (name plus {labels}, exactly as
// rendered: labels sorted by name) is `series`; nullopt when absent.
inline std::optional<double> Sample(const std::string& text, const std::string& series) {
  for (const std::string& line : Lines(text)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

inline bool HasLine(const std::string& text, const std::string& wanted) {
  for (const std::string& line : Lines(text)) {
    if (line == wanted) return true;
  }
  return false;
}

// Lines mentioning `needle`, in order.
inline std::string LinesWith(const std::string& text, const std::string& needle) {
  std::string out;
  for (const std::string& line : Lines(text)) {
    if (line.find(needle) != std::string::npos) out += line + "\n";
  }
  return out;
}

}  // namespace rcw::testing
