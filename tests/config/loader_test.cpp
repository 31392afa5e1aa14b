// The loader's schema: every default, every value, the secret lookup and the
// public error format. Validation errors are in validation_test.cpp.
#include "config/loader.h"

#include <catch2/catch.hpp>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

TEST_CASE("a minimal config gets every documented default") {
  LoadResult r = Load(kMinimal);
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  const Config& c = *r.config;
  CHECK(c.path == "config.yaml");
  CHECK(c.api.base_url == "https://api.bentley.com/reality-conversion");
  CHECK(c.api.timeout == 30s);
  CHECK_FALSE(c.api.ca_file.has_value());
  CHECK(c.api.max_requests_per_minute == 250);
  CHECK(c.api.max_requests_per_hour == 4500);
  CHECK(c.auth.token_url == "https://ims.bentley.com/connect/token");
  CHECK(c.auth.client_id == "service-abc123");
  CHECK(c.auth.scope == "itwin-platform");
  CHECK(c.auth.client_secret == "s3cret");
  CHECK(c.auth.secret_source == "environment RC_WATCHDOG_CLIENT_SECRET");
  CHECK(c.watch.itwins.empty());
  CHECK(c.watch.poll_interval == 30s);
  CHECK(c.watch.page_size == 1000);
  CHECK(c.watch.lookback == Seconds(7 * 86400));
  CHECK(c.watch.full_listing_interval == 1h);
  CHECK(c.enforcement.dry_run == false);
  CHECK(c.enforcement.max_cancels_per_cycle == 10);
  CHECK(c.enforcement.max_cancels_per_hour == 100);
  CHECK(c.enforcement.max_cancel_fraction == 0.5);
  CHECK(c.enforcement.circuit_breaker_min_jobs == 3);
  CHECK(c.enforcement.retry.initial == 1s);
  CHECK(c.enforcement.retry.max == 5min);
  CHECK(c.enforcement.retry.max_attempts == 8);
  CHECK(c.metrics_listen == "127.0.0.1:9877");
  CHECK(c.state_directory == "/var/lib/rc-watchdog");
  CHECK(c.history_retention == Seconds(35 * 86400));
  CHECK(c.log_level == LogLevel::kInfo);
  CHECK(c.log_format == LogFormat::kText);
  CHECK(c.learn_estimates == true);
  for (const auto& rate : c.pu_per_hour) CHECK_FALSE(rate.has_value());
  CHECK(c.budgets.empty());
  REQUIRE(c.policies.size() == 1);
  const PolicyConfig& p = c.policies[0];
  CHECK(p.name == "p1");
  CHECK(p.match.types.empty());
  CHECK(p.match.itwins.empty());
  CHECK(p.match.users.empty());
  CHECK_FALSE(p.match.name_regex.has_value());
  CHECK_FALSE(p.exempt.name_regex.has_value());
  CHECK(p.exempt.ids.empty());
  CHECK(p.limits.max_runtime == 2h);
  CHECK_FALSE(p.limits.max_queued.has_value());
  CHECK_FALSE(p.limits.max_processing_units.has_value());
  CHECK(p.grace == 0s);
  CHECK_FALSE(p.warn_at.has_value());
  CHECK(p.action == PolicyAction::kCancel);
}

TEST_CASE("budget defaults: UTC, cancel_queued, count_running") {
  LoadResult r = Load(std::string(kServiceOnly) +
                      "budgets:\n"
                      "  - name: b\n"
                      "    group_by: all\n"
                      "    window: weekly\n"
                      "    limit: 100\n");
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  REQUIRE(r.config->budgets.size() == 1);
  const BudgetConfig& b = r.config->budgets[0];
  CHECK(b.name == "b");
  CHECK(b.group_by == GroupBy::kAll);
  CHECK(b.window == BudgetWindow::kWeekly);
  CHECK(b.timezone == "UTC");
  CHECK(b.limit == 100);
  CHECK_FALSE(b.warn_at.has_value());
  CHECK(b.action == BudgetAction::kCancelQueued);
  CHECK(b.count_running == true);
  CHECK(b.match.types.empty());
  CHECK(r.config->policies.empty());
}

TEST_CASE("every key of the schema is read") {
  const std::string yaml = R"(
api:
  base_url: http://127.0.0.1:8080/reality-conversion/
  timeout: 1m30s
  max_requests_per_minute: 500
  max_requests_per_hour: 20000
auth:
  token_url: http://127.0.0.1:8080/token
  client_id: svc
  scope: "itwin-platform realitydata:read"
watch:
  itwins: [ce54f773-67db-4b4f-a98b-368329107429, 0E54F773-67DB-4B4F-A98B-368329107420]
  poll_interval: 10s
  page_size: 50
  lookback: 2d
  full_listing_interval: 20m
enforcement:
  dry_run: true
  max_cancels_per_cycle: 3
  max_cancels_per_hour: 20
  max_cancel_fraction: 1
  circuit_breaker_min_jobs: 7
  retry: {initial: 2s, max: 1m, max_attempts: 4}
metrics:
  listen: "[::1]:9100"
state:
  directory: /tmp/rcw-state
  history_retention: 60d
log:
  level: debug
  format: json
policies:
  - name: pc.2h_x-1
    match:
      types: [PointCloudConversion, PointCloudOptimization]
      itwins: [ce54f773-67db-4b4f-a98b-368329107429]
      users: [3a8670f9-b69f-4a60-b958-f103d580755f]
      name_regex: "^nightly-"
    exempt:
      name_regex: "-keep$"
      ids: [5e315451-564e-4e8b-a952-45b14e6a9c90]
    limits:
      max_runtime: 2h
      max_queued: 30m
      max_processing_units: 500.5
    grace: 5m
    warn_at: 0.8
    action: report
budgets:
  - name: itwin-daily
    group_by: user
    match: {types: [MeshSampling]}
    window: monthly
    timezone: Europe/Paris
    limit: 1e4
    warn_at: 0.75
    action: cancel_all
    count_running: false
estimates:
  learn: false
  pu_per_hour:
    PointCloudConversion: 12
    ContextSceneTiler: 0.5
)";
  LoadResult r = Load(yaml);
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  const Config& c = *r.config;
  CHECK(c.api.base_url == "http://127.0.0.1:8080/reality-conversion");
  CHECK(c.api.timeout == 90s);
  CHECK(c.api.max_requests_per_minute == 500);
  CHECK(c.api.max_requests_per_hour == 20000);
  CHECK(c.auth.scope == "itwin-platform realitydata:read");
  // GUIDs are lower-cased at load.
  CHECK(c.watch.itwins == std::vector<std::string>{"ce54f773-67db-4b4f-a98b-368329107429",
                                                   "0e54f773-67db-4b4f-a98b-368329107420"});
  CHECK(c.watch.poll_interval == 10s);
  CHECK(c.watch.page_size == 50);
  CHECK(c.watch.lookback == 48h);
  CHECK(c.watch.full_listing_interval == 20min);
  CHECK(c.enforcement.dry_run);
  CHECK(c.enforcement.max_cancels_per_cycle == 3);
  CHECK(c.enforcement.max_cancels_per_hour == 20);
  CHECK(c.enforcement.max_cancel_fraction == 1.0);
  CHECK(c.enforcement.circuit_breaker_min_jobs == 7);
  CHECK(c.enforcement.retry.initial == 2s);
  CHECK(c.enforcement.retry.max == 1min);
  CHECK(c.enforcement.retry.max_attempts == 4);
  CHECK(c.metrics_listen == "[::1]:9100");
  CHECK(c.state_directory == "/tmp/rcw-state");
  CHECK(c.history_retention == Seconds(60 * 86400));
  CHECK(c.log_level == LogLevel::kDebug);
  CHECK(c.log_format == LogFormat::kJson);
  REQUIRE(c.policies.size() == 1);
  const PolicyConfig& p = c.policies[0];
  CHECK(p.name == "pc.2h_x-1");
  CHECK(p.match.types ==
        std::vector<JobType>{JobType::kPointCloudConversion, JobType::kPointCloudOptimization});
  CHECK(p.match.itwins.size() == 1);
  CHECK(p.match.users == std::vector<std::string>{"3a8670f9-b69f-4a60-b958-f103d580755f"});
  REQUIRE(p.match.name_regex.has_value());
  CHECK(p.match.name_regex->pattern == "^nightly-");
  CHECK(p.match.name_regex->Search("nightly-42"));
  CHECK_FALSE(p.match.name_regex->Search("x-nightly-42"));
  REQUIRE(p.exempt.name_regex.has_value());
  CHECK(p.exempt.name_regex->Search("run-keep"));
  CHECK(p.exempt.ids == std::vector<std::string>{"5e315451-564e-4e8b-a952-45b14e6a9c90"});
  CHECK(p.limits.max_runtime == 2h);
  CHECK(p.limits.max_queued == 30min);
  CHECK(p.limits.max_processing_units == 500.5);
  CHECK(p.grace == 5min);
  CHECK(p.warn_at == 0.8);
  CHECK(p.action == PolicyAction::kReport);
  REQUIRE(c.budgets.size() == 1);
  const BudgetConfig& b = c.budgets[0];
  CHECK(b.group_by == GroupBy::kUser);
  CHECK(b.match.types == std::vector<JobType>{JobType::kMeshSampling});
  CHECK(b.window == BudgetWindow::kMonthly);
  CHECK(b.timezone == "Europe/Paris");
  CHECK(b.limit == 10000);
  CHECK(b.warn_at == 0.75);
  CHECK(b.action == BudgetAction::kCancelAll);
  CHECK(b.count_running == false);
  CHECK(c.learn_estimates == false);
  CHECK(c.pu_per_hour[static_cast<int>(JobType::kPointCloudConversion)] == 12);
  CHECK(c.pu_per_hour[static_cast<int>(JobType::kContextSceneTiler)] == 0.5);
  CHECK_FALSE(c.pu_per_hour[static_cast<int>(JobType::kMeshSampling)].has_value());
}

TEST_CASE("every enum spelling maps to its value") {
  const std::pair<const char*, LogLevel> levels[] = {{"trace", LogLevel::kTrace},
                                                     {"debug", LogLevel::kDebug},
                                                     {"info", LogLevel::kInfo},
                                                     {"warn", LogLevel::kWarn},
                                                     {"error", LogLevel::kError}};
  for (auto [text, level] : levels) {
    LoadResult r = Load(std::string(kMinimal) + "log: {level: " + text + "}\n");
    REQUIRE(r.ok());
    CHECK(r.config->log_level == level);
  }
  const std::pair<const char*, GroupBy> groups[] = {{"itwin", GroupBy::kItwin},
                                                    {"user", GroupBy::kUser},
                                                    {"type", GroupBy::kType},
                                                    {"all", GroupBy::kAll}};
  const std::pair<const char*, BudgetWindow> windows[] = {{"daily", BudgetWindow::kDaily},
                                                          {"weekly", BudgetWindow::kWeekly},
                                                          {"monthly", BudgetWindow::kMonthly}};
  const std::pair<const char*, BudgetAction> actions[] = {
      {"cancel_queued", BudgetAction::kCancelQueued},
      {"cancel_all", BudgetAction::kCancelAll},
      {"report", BudgetAction::kReport}};
  for (int i = 0; i < 4; ++i) {
    std::string yaml = std::string(kServiceOnly) +
                       "budgets:\n  - {name: b, limit: 5, group_by: " + groups[i].first +
                       ", window: " + windows[i % 3].first + ", action: " + actions[i % 3].first +
                       "}\n";
    LoadResult r = Load(yaml);
    INFO(AllErrors(r));
    REQUIRE(r.ok());
    CHECK(r.config->budgets[0].group_by == groups[i].second);
    CHECK(r.config->budgets[0].window == windows[i % 3].second);
    CHECK(r.config->budgets[0].action == actions[i % 3].second);
  }
}

TEST_CASE("all six job types are accepted in match.types and estimates") {
  const char* types[] = {"PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
                         "VectorOptimization",   "MeshSampling",           "ContextSceneTiler"};
  std::string list, rates;
  for (const char* t : types) {
    list += std::string(list.empty() ? "" : ", ") + t;
    rates += std::string("    ") + t + ": 2\n";
  }
  LoadResult r =
      Load(std::string(kServiceOnly) + "policies:\n  - name: all\n    match: {types: [" + list +
           "]}\n    limits: {max_queued: 1h}\nestimates:\n  pu_per_hour:\n" + rates);
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  REQUIRE(r.config->policies[0].match.types.size() == 6);
  for (int i = 0; i < 6; ++i) {
    CHECK(ToString(r.config->policies[0].match.types[i]) == types[i]);
    CHECK(r.config->pu_per_hour[i] == 2);
  }
  CHECK_FALSE(r.config->pu_per_hour[static_cast<int>(JobType::kUnknown)].has_value());
}

TEST_CASE("comments, anchors and flow style are plain YAML") {
  CheckLoads(std::string(kServiceOnly) +
             "policies:   # comment\n"
             "  - {name: a, limits: &lim {max_runtime: 1h}}\n"
             "  - name: b\n"
             "    limits: *lim\n");
}
