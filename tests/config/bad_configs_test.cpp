// Every file in tests/data/config/bad/ is a broken config whose first lines
// say what must be reported:
//   # expect: <a substring of the error>
//   # at: LINE:COL
// The CLI runs the same files and expects exit status 78.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;

namespace {

struct Expectation {
  std::string message;
  std::string position;
};

std::string HeaderValue(std::ifstream& in, const std::string& prefix) {
  std::string line;
  std::getline(in, line);
  if (line.rfind(prefix, 0) != 0) return "";
  return line.substr(prefix.size());
}

Expectation ReadExpectation(const std::string& file) {
  std::ifstream in(file);
  Expectation e;
  e.message = HeaderValue(in, "# expect: ");
  e.position = HeaderValue(in, "# at: ");
  return e;
}

std::vector<std::string> BadConfigs() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(RCW_SOURCE_DIR) +
                                                               "/tests/data/config/bad")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every broken config in tests/data/config/bad is rejected where it says") {
  std::vector<std::string> files = BadConfigs();
  CHECK(files.size() >= 25);
  // The secret is in the environment so only the file's own mistake is reported
  // (except where the file is about the secret).
  LoadOptions env = WithEnv({{"RC_WATCHDOG_CLIENT_SECRET", "s3cret"}});
  for (const std::string& file : files) {
    Expectation e = ReadExpectation(file);
    INFO(file);
    REQUIRE_FALSE(e.message.empty());
    REQUIRE_FALSE(e.position.empty());
    LoadResult r = LoadConfigFile(file, env);
    INFO(AllErrors(r));
    CHECK_FALSE(r.config.has_value());
    REQUIRE_FALSE(r.errors.empty());
    bool found = false;
    for (const ConfigError& error : r.errors) {
      std::string text = error.ToString();
      found = found || (text.rfind(file + ":" + e.position + ": ", 0) == 0 &&
                        text.find(e.message) != std::string::npos);
    }
    CHECK(found);
  }
}
