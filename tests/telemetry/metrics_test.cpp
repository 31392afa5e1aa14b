#include "telemetry/metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <string>

#include "base/version.h"
#include "telemetry/exposition.h"

namespace rcw {
namespace {

using testing::HasLine;
using testing::Sample;

std::unique_ptr<Metrics> NoHttp() {
  auto created = Metrics::Create("");
  REQUIRE(created.ok());
  return std::move(created).value();
}

TimePoint At(double unix_seconds) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(unix_seconds)));
}

// Every metric of docs/metrics.md, with its TYPE.
const char* const kTypes[] = {
    "rc_watchdog_build_info gauge",
    "rc_watchdog_jobs gauge",
    "rc_watchdog_polls_total counter",
    "rc_watchdog_poll_duration_seconds histogram",
    "rc_watchdog_last_successful_poll_timestamp_seconds gauge",
    "rc_watchdog_violations_total counter",
    "rc_watchdog_cancellations_total counter",
    "rc_watchdog_cancellations_confirmed_total counter",
    "rc_watchdog_cancellations_pending gauge",
    "rc_watchdog_cancellations_blocked_total counter",
    "rc_watchdog_warnings_total counter",
    "rc_watchdog_dry_run gauge",
    "rc_watchdog_api_requests_total counter",
    "rc_watchdog_api_request_duration_seconds histogram",
    "rc_watchdog_api_rate_limited_total counter",
    "rc_watchdog_processing_units_total counter",
    "rc_watchdog_budget_spent_processing_units gauge",
    "rc_watchdog_budget_limit_processing_units gauge",
    "rc_watchdog_config_last_reload_successful gauge",
    "rc_watchdog_config_last_reload_success_timestamp_seconds gauge",
    "rc_watchdog_clock_skew_seconds gauge",
    "rc_watchdog_listings_total counter",
    "process_cpu_seconds_total counter",
    "process_resident_memory_bytes gauge",
    "process_virtual_memory_bytes gauge",
    "process_open_fds gauge",
    "process_max_fds gauge",
    "process_start_time_seconds gauge",
};

// Drives every typed method once (or more), as a daemon cycle would.
void DriveAll(Metrics& m) {
  m.DeclarePolicies({"pointclouds-2h"}, {"itwin-daily"});
  JobCounts jobs{};
  jobs[static_cast<int>(JobState::kActive)][static_cast<int>(JobType::kMeshSampling)] = 3;
  m.SetJobs(jobs);
  m.PollFinished(true, 0.2, At(1764410400));
  m.PollFinished(false, 45, At(1764410430));
  m.Violation("pointclouds-2h", "max_runtime");
  m.Warning("pointclouds-2h");
  m.CancellationFinished("pointclouds-2h", "cancelled");
  m.CancellationConfirmed("pointclouds-2h");
  m.SetCancellationsPending(2);
  m.CancellationBlocked("circuit_breaker");
  m.SetDryRun(true);
  m.ApiRequest("list_jobs", 200, 0.03);
  m.ApiRequest("cancel_job", 429, 0.02);
  m.ApiRateLimited("cancel_job");
  m.ApiRequest("token", 0, 12);
  m.ProcessingUnits("itw-1", "MeshSampling", 12.5);
  m.ProcessingUnits("itw-1", "MeshSampling", 0.5);
  m.SetBudgetLimit("itwin-daily", 10000);
  m.BeginBudgetUpdate();
  m.SetBudget("itwin-daily", "itw-1", 812.5);
  m.EndBudgetUpdate();
  m.ConfigReloaded(true, At(1764410000));
  m.SetClockSkew(-2.5);
}

TEST_CASE("every metric of the contract is rendered with its TYPE") {
  auto m = NoHttp();
  DriveAll(*m);
  std::string text = m->Render();
  for (const char* type : kTypes) {
    INFO(type);
    CHECK(HasLine(text, std::string("# TYPE ") + type));
  }
}

TEST_CASE("typed calls set the values and labels of the contract") {
  auto m = NoHttp();
  DriveAll(*m);
  std::string t = m->Render();
  std::string build = std::string("rc_watchdog_build_info{revision=\"") + kGitRevision +
                      "\",version=\"" + kVersion + "\"}";
  CHECK(Sample(t, build) == 1);
  CHECK(Sample(t, "rc_watchdog_jobs{state=\"Active\",type=\"MeshSampling\"}") == 3);
  CHECK(Sample(t, "rc_watchdog_jobs{state=\"Queued\",type=\"MeshSampling\"}") == 0);
  CHECK(Sample(t, "rc_watchdog_polls_total{outcome=\"success\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_polls_total{outcome=\"error\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_count") == 2);
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_sum") == Approx(45.2));
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_bucket{le=\"0.05\"}") == 0);
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_bucket{le=\"0.25\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_bucket{le=\"60\"}") == 2);
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_bucket{le=\"+Inf\"}") == 2);
  // Only the successful poll moves the timestamp.
  CHECK(Sample(t, "rc_watchdog_last_successful_poll_timestamp_seconds") == 1764410400);
  CHECK(
      Sample(t, "rc_watchdog_violations_total{limit=\"max_runtime\",policy=\"pointclouds-2h\"}") ==
      1);
  CHECK(Sample(t, "rc_watchdog_warnings_total{policy=\"pointclouds-2h\"}") == 1);
  CHECK(
      Sample(t,
             "rc_watchdog_cancellations_total{outcome=\"cancelled\",policy=\"pointclouds-2h\"}") ==
      1);
  CHECK(Sample(t, "rc_watchdog_cancellations_confirmed_total{policy=\"pointclouds-2h\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_cancellations_pending") == 2);
  CHECK(Sample(t, "rc_watchdog_cancellations_blocked_total{reason=\"circuit_breaker\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_dry_run") == 1);
  CHECK(Sample(t, "rc_watchdog_api_requests_total{code=\"200\",operation=\"list_jobs\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_api_requests_total{code=\"429\",operation=\"cancel_job\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_api_requests_total{code=\"error\",operation=\"token\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_api_request_duration_seconds_count{operation=\"token\"}") == 1);
  CHECK(
      Sample(t, "rc_watchdog_api_request_duration_seconds_bucket{operation=\"token\",le=\"10\"}") ==
      0);
  CHECK(
      Sample(t, "rc_watchdog_api_request_duration_seconds_bucket{operation=\"token\",le=\"30\"}") ==
      1);
  CHECK(
      Sample(
          t,
          "rc_watchdog_api_request_duration_seconds_bucket{operation=\"list_jobs\",le=\"0.01\"}") ==
      0);
  CHECK(Sample(t, "rc_watchdog_api_rate_limited_total{operation=\"cancel_job\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_processing_units_total{itwin=\"itw-1\",type=\"MeshSampling\"}") ==
        13);
  CHECK(
      Sample(t,
             "rc_watchdog_budget_spent_processing_units{budget=\"itwin-daily\",group=\"itw-1\"}") ==
      812.5);
  CHECK(Sample(t, "rc_watchdog_budget_limit_processing_units{budget=\"itwin-daily\"}") == 10000);
  CHECK(Sample(t, "rc_watchdog_config_last_reload_successful") == 1);
  CHECK(Sample(t, "rc_watchdog_config_last_reload_success_timestamp_seconds") == 1764410000);
  CHECK(Sample(t, "rc_watchdog_clock_skew_seconds") == -2.5);
}

TEST_CASE("listings are counted by kind and outcome") {
  auto m = NoHttp();
  m->ListingFinished(true, true);
  m->ListingFinished(false, true);
  m->ListingFinished(false, true);
  m->ListingFinished(false, false);
  std::string t = m->Render();
  CHECK(Sample(t, "rc_watchdog_listings_total{kind=\"full\",outcome=\"complete\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_listings_total{kind=\"full\",outcome=\"incomplete\"}") == 0);
  CHECK(Sample(t, "rc_watchdog_listings_total{kind=\"incremental\",outcome=\"complete\"}") == 2);
  CHECK(Sample(t, "rc_watchdog_listings_total{kind=\"incremental\",outcome=\"incomplete\"}") == 1);
}

TEST_CASE("known series exist at zero before any event") {
  auto m = NoHttp();
  m->DeclarePolicies({"p1", "p2"}, {"b1"});
  std::string t = m->Render();
  for (const char* policy : {"p1", "p2"}) {
    std::string p = policy;
    for (const char* limit : {"max_runtime", "max_queued", "max_processing_units"}) {
      INFO(p << " " << limit);
      CHECK(Sample(t, "rc_watchdog_violations_total{limit=\"" + std::string(limit) +
                          "\",policy=\"" + p + "\"}") == 0);
    }
    CHECK_FALSE(Sample(t, "rc_watchdog_violations_total{limit=\"budget\",policy=\"" + p + "\"}"));
  }
  CHECK(Sample(t, "rc_watchdog_violations_total{limit=\"budget\",policy=\"b1\"}") == 0);
  for (const char* policy : {"p1", "p2", "b1"}) {
    std::string p = policy;
    for (auto outcome : kCancelOutcomes) {
      INFO(p << " " << outcome);
      CHECK(Sample(t, "rc_watchdog_cancellations_total{outcome=\"" + std::string(outcome) +
                          "\",policy=\"" + p + "\"}") == 0);
    }
    CHECK(Sample(t, "rc_watchdog_cancellations_confirmed_total{policy=\"" + p + "\"}") == 0);
    CHECK(Sample(t, "rc_watchdog_warnings_total{policy=\"" + p + "\"}") == 0);
  }
  for (auto reason : kBlockReasons) {
    CHECK(Sample(t, "rc_watchdog_cancellations_blocked_total{reason=\"" + std::string(reason) +
                        "\"}") == 0);
  }
  CHECK(Sample(t, "rc_watchdog_polls_total{outcome=\"success\"}") == 0);
  CHECK(Sample(t, "rc_watchdog_polls_total{outcome=\"error\"}") == 0);
  for (const char* kind : {"full", "incremental"}) {
    for (const char* outcome : {"complete", "incomplete"}) {
      std::string series = "rc_watchdog_listings_total{kind=\"" + std::string(kind) +
                           "\",outcome=\"" + outcome + "\"}";
      INFO(series);
      CHECK(Sample(t, series) == 0);
    }
  }
  CHECK(Sample(t, "rc_watchdog_poll_duration_seconds_count") == 0);
  for (auto op : kApiOperations) {
    std::string o(op);
    INFO(o);
    CHECK(Sample(t, "rc_watchdog_api_requests_total{code=\"200\",operation=\"" + o + "\"}") == 0);
    CHECK(Sample(t, "rc_watchdog_api_rate_limited_total{operation=\"" + o + "\"}") == 0);
    CHECK(Sample(t, "rc_watchdog_api_request_duration_seconds_count{operation=\"" + o + "\"}") ==
          0);
  }
  for (int s = 0; s < kJobStateCount; ++s) {
    for (int ty = 0; ty < kJobTypeCount; ++ty) {
      std::string series = "rc_watchdog_jobs{state=\"" +
                           std::string(ToString(static_cast<JobState>(s))) + "\",type=\"" +
                           std::string(ToString(static_cast<JobType>(ty))) + "\"}";
      INFO(series);
      CHECK(Sample(t, series) == 0);
    }
  }
  for (const char* gauge : {"rc_watchdog_cancellations_pending", "rc_watchdog_dry_run",
                            "rc_watchdog_last_successful_poll_timestamp_seconds",
                            "rc_watchdog_config_last_reload_successful",
                            "rc_watchdog_config_last_reload_success_timestamp_seconds",
                            "rc_watchdog_clock_skew_seconds"}) {
    INFO(gauge);
    CHECK(Sample(t, gauge) == 0);
  }
}

TEST_CASE("DeclarePolicies again keeps counts and adds new policies") {
  auto m = NoHttp();
  m->DeclarePolicies({"p1"}, {});
  m->Violation("p1", "max_queued");
  m->DeclarePolicies({"p1", "p3"}, {});
  std::string t = m->Render();
  CHECK(Sample(t, "rc_watchdog_violations_total{limit=\"max_queued\",policy=\"p1\"}") == 1);
  CHECK(Sample(t, "rc_watchdog_violations_total{limit=\"max_queued\",policy=\"p3\"}") == 0);
}

TEST_CASE("SetJobs overwrites the previous poll's counts") {
  auto m = NoHttp();
  JobCounts jobs{};
  jobs[0][0] = 5;
  m->SetJobs(jobs);
  jobs[0][0] = 0;
  jobs[1][0] = 1;
  m->SetJobs(jobs);
  std::string t = m->Render();
  CHECK(Sample(t, "rc_watchdog_jobs{state=\"Queued\",type=\"PointCloudConversion\"}") == 0);
  CHECK(Sample(t, "rc_watchdog_jobs{state=\"Active\",type=\"PointCloudConversion\"}") == 1);
}

TEST_CASE("budget groups not set in an update are removed") {
  auto m = NoHttp();
  const std::string a = "rc_watchdog_budget_spent_processing_units{budget=\"daily\",group=\"a\"}";
  const std::string b = "rc_watchdog_budget_spent_processing_units{budget=\"daily\",group=\"b\"}";
  m->BeginBudgetUpdate();
  m->SetBudget("daily", "a", 10);
  m->SetBudget("daily", "b", 20);
  m->EndBudgetUpdate();
  CHECK(Sample(m->Render(), b) == 20);

  m->BeginBudgetUpdate();  // a new window: only group a spent anything yet
  m->SetBudget("daily", "a", 1);
  m->EndBudgetUpdate();
  std::string t = m->Render();
  CHECK(Sample(t, a) == 1);
  CHECK_FALSE(Sample(t, b));

  m->BeginBudgetUpdate();  // nothing at all (prometheus-cpp then omits the family)
  m->EndBudgetUpdate();
  CHECK_FALSE(Sample(m->Render(), a));

  m->SetBudget("daily", "c", 3);  // outside a bracket: just set, EndBudgetUpdate is a no-op
  m->EndBudgetUpdate();
  CHECK(Sample(m->Render(),
               "rc_watchdog_budget_spent_processing_units{budget=\"daily\",group=\"c\"}") == 3);
}

TEST_CASE("budgets dropped from the config lose their series") {
  auto m = NoHttp();
  m->DeclarePolicies({}, {"keep", "gone"});
  for (const char* budget : {"keep", "gone"}) {
    m->SetBudgetLimit(budget, 100);
    m->SetBudget(budget, "all", 5);
  }
  m->DeclarePolicies({}, {"keep"});
  std::string t = m->Render();
  CHECK(Sample(t, "rc_watchdog_budget_limit_processing_units{budget=\"keep\"}") == 100);
  CHECK(Sample(t, "rc_watchdog_budget_spent_processing_units{budget=\"keep\",group=\"all\"}") == 5);
  CHECK_FALSE(Sample(t, "rc_watchdog_budget_limit_processing_units{budget=\"gone\"}"));
  CHECK_FALSE(
      Sample(t, "rc_watchdog_budget_spent_processing_units{budget=\"gone\",group=\"all\"}"));
}

TEST_CASE("a failed reload keeps the last success time and odd inputs stay sane") {
  auto m = NoHttp();
  m->ConfigReloaded(true, At(1000));
  m->ConfigReloaded(false, At(2000));
  m->ProcessingUnits("i", "t", -5);
  m->ProcessingUnits("i", "t", std::nan(""));
  m->SetDryRun(false);
  std::string t = m->Render();
  CHECK(Sample(t, "rc_watchdog_config_last_reload_successful") == 0);
  CHECK(Sample(t, "rc_watchdog_config_last_reload_success_timestamp_seconds") == 1000);
  CHECK_FALSE(Sample(t, "rc_watchdog_processing_units_total{itwin=\"i\",type=\"t\"}"));
  CHECK(Sample(t, "rc_watchdog_dry_run") == 0);
}

TEST_CASE("label values are escaped in the exposition") {
  auto m = NoHttp();
  m->Warning("quote\"back\\slash\nnewline");
  CHECK(Sample(m->Render(),
               "rc_watchdog_warnings_total{policy=\"quote\\\"back\\\\slash\\nnewline\"}") == 1);
}

TEST_CASE("promtool check metrics accepts the exposition") {
  const char* promtool = "/usr/bin/promtool";
  if (access(promtool, X_OK) != 0) {
    WARN("promtool not installed (Debian package prometheus): skipped");
    return;
  }
  auto m = NoHttp();
  DriveAll(*m);
  char path[] = "/tmp/rcw_metrics_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string text = m->Render();
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  std::string cmd = std::string(promtool) + " check metrics < " + path + " 2>&1";
  FILE* out = popen(cmd.c_str(), "r");
  REQUIRE(out != nullptr);
  std::string findings;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, out)) findings.append(buf, n);
  int status = pclose(out);
  unlink(path);
  INFO(findings);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace rcw
