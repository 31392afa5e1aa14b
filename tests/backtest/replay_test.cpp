// The backtest replay on small histories with hand-computed answers.
#include "backtest/replay.h"

#include <catch2/catch.hpp>

#include "base/timefmt.h"

using namespace rcw;
using namespace std::chrono_literals;

namespace {

const TimePoint kDay = *ParseTimestamp("2026-11-30T00:00:00Z");
const std::string kItwin = "ce54f773-67db-4b4f-a98b-368329107429";
const std::string kUser = "3a8670f9-b69f-4a60-b958-f103d580755f";

// A job created at `created`, started `queued` later, ended `runtime` after
// that (never started when `queued` is negative).
Job Ended(const std::string& id, TimePoint created, Seconds queued, Seconds runtime,
          std::optional<double> pu, JobState state = JobState::kFailed) {
  Job j;
  j.id = id;
  j.name = "job-" + id;
  j.itwin_id = kItwin;
  j.user_id = kUser;
  j.type = JobType::kPointCloudConversion;
  j.state = state;
  j.created = created;
  j.started = created + queued;
  j.ended = created + queued + runtime;
  j.processing_units = pu;
  return j;
}

PolicyConfig MaxRuntime(const std::string& name, Seconds limit) {
  PolicyConfig p;
  p.name = name;
  p.limits.max_runtime = limit;
  return p;
}

struct Fixture {
  Config config;
  std::vector<Job> jobs;
  BacktestOptions options{kDay - 24h, kDay + 48h, false};

  Fixture() { config.enforcement.circuit_breaker_min_jobs = 1000; }

  BacktestReport Run() {
    RateEstimator rates(config);
    return Replay(config, jobs, rates, options);
  }
};

}  // namespace

TEST_CASE("a job that ran 3h against max_runtime 2h saves one third of its PUs") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.jobs = {Ended("a", kDay, 0s, 3h, 30.0)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  const JobOutcome& o = r.outcomes[0];
  CHECK(o.cancelled);
  CHECK(o.owner == "runtime-2h");
  CHECK(o.limit == "max_runtime");
  // The engine's crossing: 2h + 1s (it compares whole seconds, strictly).
  CHECK(o.cancel_at == kDay + 2h + 1s);
  CHECK(o.pu_saved == Approx(30.0 * 3599 / 10800));
  CHECK(o.pu_saved == Approx(10.0).epsilon(0.001));
  CHECK(o.overrun_s == Approx(3600));
  CHECK_FALSE(o.success_cut_short);
  REQUIRE(r.policies.size() == 1);
  CHECK(r.policies[0].jobs_cancelled == 1);
  CHECK(r.policies[0].pu_saved == Approx(o.pu_saved));
  CHECK(r.policies[0].worst_overrun_s == Approx(3600));
  CHECK(r.jobs_seen == 1);
}

TEST_CASE("a job within its limit is not counted") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.jobs = {Ended("a", kDay, 0s, 2h, 30.0)};  // exactly 2h is not over 2h
  BacktestReport r = f.Run();
  CHECK(r.outcomes.empty());
  CHECK(r.policies[0].jobs_over_limit == 0);
}

TEST_CASE("grace delays the cancellation") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.config.policies[0].grace = 30min;
  f.jobs = {Ended("a", kDay, 0s, 3h, 30.0)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].cancel_at == kDay + 2h + 30min + 1s);
  CHECK(r.outcomes[0].pu_saved == Approx(30.0 * (3600 - 1801) / 10800));
}

TEST_CASE("a report-only policy counts the job but saves nothing") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.config.policies[0].action = PolicyAction::kReport;
  f.jobs = {Ended("a", kDay, 0s, 3h, 30.0)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK_FALSE(r.outcomes[0].cancelled);
  CHECK(r.outcomes[0].pu_saved == 0);
  CHECK(r.policies[0].report_only);
  CHECK(r.policies[0].jobs_over_limit == 1);
  CHECK(r.policies[0].jobs_cancelled == 0);
  CHECK(r.policies[0].pu_saved == 0);
  CHECK(r.policies[0].worst_overrun_s == Approx(3600));
}

TEST_CASE("an exempt job is never counted") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.config.policies[0].exempt.name_regex = *Regex::Compile("-keep$");
  f.jobs = {Ended("a", kDay, 0s, 3h, 30.0), Ended("b", kDay, 0s, 5h, 50.0)};
  f.jobs[1].name = "nightly-keep";
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].job_index == 0);
  CHECK(r.policies[0].jobs_over_limit == 1);
  CHECK(r.policies[0].jobs_cancelled == 1);
  // The explain data still shows why: an exempt hit.
  REQUIRE(r.hit_begin.size() == 3);
  REQUIRE(r.hit_begin[2] - r.hit_begin[1] == 1);
  CHECK(r.hits[r.hit_begin[1]].exempt);
}

TEST_CASE("a Success job cut short is counted as a loss") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.jobs = {Ended("a", kDay, 0s, 3h, 30.0, JobState::kSuccess)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].success_cut_short);
  // The work before the cancel (2h + 1s of 3h) is lost with the result.
  CHECK(r.outcomes[0].pu_lost == Approx(30.0 * 7201 / 10800));
  CHECK(r.policies[0].successes_cut_short == 1);
  CHECK(r.policies[0].pu_lost == Approx(30.0 * 7201 / 10800));
}

TEST_CASE("a job without reported PUs is estimated from the rate") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.config.pu_per_hour[static_cast<int>(JobType::kPointCloudConversion)] = 12.0;
  f.jobs = {Ended("a", kDay, 0s, 3h, std::nullopt, JobState::kCancelled)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].pu_known);
  CHECK(r.outcomes[0].pu == Approx(36.0));
  CHECK(r.outcomes[0].pu_saved == Approx(12.0 * 3599 / 3600));
}

TEST_CASE("max_queued cancels a job still queued, saving all its PUs") {
  Fixture f;
  PolicyConfig p;
  p.name = "queued-30m";
  p.limits.max_queued = 30min;
  f.config.policies = {p};
  f.jobs = {Ended("a", kDay, 1h, 1h, 12.0), Ended("b", kDay, 10min, 1h, 12.0)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].job_index == 0);
  CHECK(r.outcomes[0].cancel_at == kDay + 30min + 1s);
  CHECK(r.outcomes[0].pu_saved == Approx(12.0));
  CHECK(r.outcomes[0].overrun_s == Approx(1800));
}

TEST_CASE("of two cancelling policies the earlier violation cancels") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h), MaxRuntime("runtime-1h", 1h)};
  f.jobs = {Ended("a", kDay, 0s, 3h, 30.0)};
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].owner == "runtime-1h");
  CHECK(r.policies[0].jobs_over_limit == 0);
  CHECK(r.policies[1].jobs_cancelled == 1);
}

TEST_CASE("a budget crossing mid-window cancels only the jobs queued from then on") {
  Fixture f;
  BudgetConfig b;
  b.name = "daily-100";
  b.group_by = GroupBy::kAll;
  b.window = BudgetWindow::kDaily;
  b.limit = 100;
  b.action = BudgetAction::kCancelQueued;
  f.config.budgets = {b};
  f.jobs = {
      Ended("a", kDay + 8h, 0s, 2h, 60.0),            // ends 10:00: 60 spent
      Ended("b", kDay + 10h, 0s, 2h, 50.0),           // ends 12:00: 110 >= 100, crossed
      Ended("c", kDay + 9h, 30min, 4h + 30min, 5.0),  // Active 09:30-14:00: not Queued after 12:00
      Ended("d", kDay + 13h, 30min, 90min, 20.0),     // queued at 13:00, after the crossing
      Ended("e", kDay + 11h, 30min, 1h, 4.0),         // queued 11:00-11:30, before it
      Ended("g", kDay + 24h + 30min, 10min, 1h, 8.0)  // the next day: a new window
  };
  BacktestReport r = f.Run();
  REQUIRE(r.budgets.size() == 1);
  CHECK(r.budgets[0].crossed_at == kDay + 12h);
  CHECK(r.budgets[0].window == "2026-11-30");
  CHECK(r.budgets[0].group == "all");
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].job_index == 3);
  CHECK(r.outcomes[0].budget);
  CHECK(r.outcomes[0].cancel_at == kDay + 13h);
  CHECK(r.outcomes[0].pu_saved == Approx(20.0));
  CHECK(r.budgets[0].jobs_cancelled == 1);
  CHECK(r.budgets[0].pu_saved == Approx(20.0));
}

TEST_CASE("cancel_all also cancels the Active jobs of the group, pro rata") {
  Fixture f;
  BudgetConfig b;
  b.name = "daily-100";
  b.group_by = GroupBy::kItwin;
  b.limit = 100;
  b.action = BudgetAction::kCancelAll;
  f.config.budgets = {b};
  f.jobs = {Ended("a", kDay + 8h, 0s, 4h, 100.0),   // ends 12:00: crossed
            Ended("c", kDay + 10h, 0s, 4h, 40.0)};  // Active 10:00-14:00
  BacktestReport r = f.Run();
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].job_index == 1);
  CHECK(r.outcomes[0].cancel_at == kDay + 12h);
  CHECK(r.outcomes[0].pu_saved == Approx(20.0));
  CHECK(r.budgets[0].group == kItwin);
}

TEST_CASE("a policy cancellation lowers what the budget counts") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  BudgetConfig b;
  b.name = "daily-100";
  b.group_by = GroupBy::kAll;
  b.limit = 100;
  f.config.budgets = {b};
  // 4h at 30 PU/h = 120 PU, over the budget as it ran; cancelled at 2h it
  // spends about 60, and the budget is never crossed.
  f.jobs = {Ended("a", kDay, 0s, 4h, 120.0)};
  BacktestReport r = f.Run();
  CHECK(r.budgets.empty());
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].owner == "runtime-2h");
}

TEST_CASE("cancellations outside the period are not reported") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.jobs = {Ended("a", kDay - 48h, 0s, 3h, 30.0)};
  BacktestReport r = f.Run();
  CHECK(r.outcomes.empty());
  CHECK(r.jobs_seen == 0);
}

TEST_CASE("safety limits: counted by default, applied on request") {
  Fixture f;
  f.config.policies = {MaxRuntime("runtime-2h", 2h)};
  f.config.enforcement.max_cancels_per_cycle = 2;
  f.config.watch.poll_interval = 30s;
  for (int k = 0; k < 3; ++k) f.jobs.push_back(Ended(std::to_string(k), kDay, 0s, 3h, 30.0));
  SECTION("ignored") {
    BacktestReport r = f.Run();
    CHECK(r.policies[0].jobs_cancelled == 3);
    CHECK(r.held_back == 1);
    CHECK(r.held_max_per_cycle == 1);
    CHECK(r.held_back_for_good == 0);
  }
  SECTION("applied: the third waits one cycle") {
    f.options.with_safety_limits = true;
    BacktestReport r = f.Run();
    CHECK(r.policies[0].jobs_cancelled == 3);
    CHECK(r.held_back == 1);
    REQUIRE(r.outcomes.size() == 3);
    int late = 0;
    for (const JobOutcome& o : r.outcomes) late += o.cancel_at > kDay + 2h + 1s;
    CHECK(late == 1);
  }
  SECTION("the circuit breaker holds all three for good") {
    f.config.enforcement.circuit_breaker_min_jobs = 3;
    f.options.with_safety_limits = true;
    BacktestReport r = f.Run();
    CHECK(r.held_circuit_breaker == 3);
    CHECK(r.held_back_for_good == 3);
    CHECK(r.policies[0].jobs_cancelled == 0);
    CHECK(r.policies[0].jobs_over_limit == 3);
  }
}

TEST_CASE("PuAfter is pro rata over the runtime") {
  TimePoint s = kDay;
  CHECK(PuAfter(30, s, s + 3h, s + 2h) == Approx(10));
  CHECK(PuAfter(30, s, s + 3h, s - 1h) == Approx(30));  // before it started: all
  CHECK(PuAfter(30, std::nullopt, s + 3h, s) == Approx(30));
  CHECK(PuAfter(30, s, s + 3h, s + 4h) == 0);
}
