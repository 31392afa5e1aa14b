// check-config's summary lines.
#include <catch2/catch.hpp>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;

TEST_CASE("DescribeConfig prints a header, then one line per policy and per budget") {
  TempDir dir;
  std::string secret = dir.Write("client-secret", "TOPSECRET\n");
  LoadResult r = Load(std::string(kServiceOnly) + "  client_secret_file: " + secret + "\n" + R"(
watch:
  itwins: [ce54f773-67db-4b4f-a98b-368329107429]
policies:
  - name: pointclouds-2h
    match:
      types: [PointCloudConversion, PointCloudOptimization]
      itwins: [ce54f773-67db-4b4f-a98b-368329107429]
    limits: {max_runtime: 2h, max_queued: 30m}
    warn_at: 0.8
  - name: everything
    exempt: {name_regex: "-keep$", ids: [5e315451-564e-4e8b-a952-45b14e6a9c90]}
    limits: {max_processing_units: 500}
    grace: 1h30m
    action: report
budgets:
  - name: itwin-daily
    group_by: itwin
    match: {types: [MeshSampling]}
    window: daily
    limit: 10000
    warn_at: 0.8
  - name: monthly-all
    group_by: all
    window: monthly
    timezone: Europe/Paris
    limit: 2500.5
    action: report
    count_running: false
estimates:
  pu_per_hour: {PointCloudConversion: 12}
)");
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  std::vector<std::string> lines = DescribeConfig(*r.config);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] ==
        "config config.yaml: api=https://api.bentley.com/reality-conversion auth "
        "client_id=service-abc123 secret=(file " +
            secret +
            ") watch itwins=1 poll_interval=30s "
            "lookback=7d full_listing_interval=1h enforcement dry_run=false "
            "max_cancels_per_cycle=10 max_cancels_per_hour=100 "
            "max_cancel_fraction=0.5 circuit_breaker_min_jobs=3 estimates learn=true "
            "PointCloudConversion=12pu/h");
  CHECK(lines[1] ==
        "policy pointclouds-2h: types=PointCloudConversion,PointCloudOptimization itwins=1 limits "
        "max_runtime=2h max_queued=30m grace=0s warn_at=0.8 action=cancel");
  CHECK(lines[2] ==
        "policy everything: jobs=all exempt name_regex=\"-keep$\" ids=1 limits "
        "max_processing_units=500 grace=1h30m action=report");
  CHECK(lines[3] ==
        "budget itwin-daily: group_by=itwin window=daily tz=UTC limit=10000 warn_at=0.8 "
        "action=cancel_queued count_running=true match types=MeshSampling");
  CHECK(lines[4] ==
        "budget monthly-all: group_by=all window=monthly tz=Europe/Paris limit=2500.5 "
        "action=report count_running=false");
  for (const std::string& line : lines) CHECK(line.find("TOPSECRET") == std::string::npos);
}

TEST_CASE("DescribeConfig names the secret's source, never the secret") {
  LoadResult env = Load(kMinimal, WithEnv({{"RC_WATCHDOG_CLIENT_SECRET", "TOPSECRET"}}));
  REQUIRE(env.ok());
  std::string header = DescribeConfig(*env.config)[0];
  CHECK(header.find("secret=(environment RC_WATCHDOG_CLIENT_SECRET)") != std::string::npos);
  CHECK(header.find("watch itwins=own-jobs") != std::string::npos);
  CHECK(header.find("TOPSECRET") == std::string::npos);

  TempDir dir;
  dir.Write("client-secret", "TOPSECRET");
  LoadResult cred = Load(kMinimal, WithEnv({{"CREDENTIALS_DIRECTORY", dir.path()}}));
  REQUIRE(cred.ok());
  header = DescribeConfig(*cred.config)[0];
  CHECK(header.find("secret=(systemd credential client-secret)") != std::string::npos);
  CHECK(header.find("TOPSECRET") == std::string::npos);
}
