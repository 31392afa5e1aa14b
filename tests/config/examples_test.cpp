// Every shipped example config loads without errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;

namespace {

std::vector<std::string> YamlFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("config/example.yaml and config/examples/*.yaml load without errors") {
  const std::string root = std::string(RCW_SOURCE_DIR) + "/config";
  std::vector<std::string> files = YamlFiles(root + "/examples");
  CHECK(files.size() >= 8);
  files.push_back(root + "/example.yaml");
  for (const std::string& file : files) {
    INFO(file);
    // example.yaml points at /etc/rc-watchdog/client-secret; offline mode skips
    // the secret there, the examples read config/examples/client-secret.
    LoadOptions options = WithEnv({});
    options.resolve_secrets = file.find("/examples/") != std::string::npos;
    LoadResult r = LoadConfigFile(file, options);
    INFO(AllErrors(r));
    REQUIRE(r.ok());
    CHECK_FALSE(DescribeConfig(*r.config).empty());
    if (options.resolve_secrets) {
      CHECK(r.config->auth.client_secret == "example-secret");
      CHECK(r.config->auth.secret_source == "file " + root + "/examples/client-secret");
    }
  }
}

TEST_CASE("config/example.yaml uses every key of the schema") {
  LoadOptions options = WithEnv({});
  options.resolve_secrets = false;
  LoadResult r = LoadConfigFile(std::string(RCW_SOURCE_DIR) + "/config/example.yaml", options);
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  const Config& c = *r.config;
  bool runtime = false, queued = false, units = false, report = false;
  bool groups[4] = {}, windows[3] = {}, actions[3] = {};
  for (const PolicyConfig& p : c.policies) {
    runtime = runtime || p.limits.max_runtime.has_value();
    queued = queued || p.limits.max_queued.has_value();
    units = units || p.limits.max_processing_units.has_value();
    report = report || p.action == PolicyAction::kReport;
  }
  for (const BudgetConfig& b : c.budgets) {
    groups[static_cast<int>(b.group_by)] = true;
    windows[static_cast<int>(b.window)] = true;
    actions[static_cast<int>(b.action)] = true;
  }
  CHECK((runtime && queued && units && report));
  CHECK((groups[0] && groups[1] && groups[2] && groups[3]));
  CHECK((windows[0] && windows[1] && windows[2]));
  CHECK((actions[0] && actions[1] && actions[2]));
  CHECK(c.api.ca_file.has_value());
  CHECK_FALSE(c.watch.itwins.empty());
}
