// Reads files of the source tree (tests/data/...) in tests.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rcw::testing {

// Contents of RCW_SOURCE_DIR/`relative`; throws (failing the test) when the
// file cannot be read, so a missing fixture never passes as an empty body.
inline std::string ReadSourceFile(std::string_view relative) {
  std::string path = std::string(RCW_SOURCE_DIR) + "/" + std::string(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace rcw::testing
