#include "budget/budget_eval.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "base/timefmt.h"
#include "budget_test_util.h"

namespace rcw {
namespace {

using Catch::Detail::Approx;
using test::At;
using test::EndedJob;
using test::JobSpec;
using test::MakeBudget;
using test::RunningJob;

constexpr JobType kMesh = JobType::kMeshSampling;
constexpr JobType kPc = JobType::kPointCloudConversion;

// Everything one evaluation needs, with a fixed "now".
struct Fixture {
  Config config;
  Ledger ledger;
  std::vector<Job> jobs;
  TimePoint now = At("2026-11-29T12:00:00Z");

  Fixture() { config.pu_per_hour[static_cast<int>(kPc)] = 12; }

  void Ended(JobSpec spec, std::string_view ended, double pu) {
    REQUIRE(ledger.Record(EndedJob(std::move(spec), ended, pu)));
  }
  std::vector<BudgetGroupStatus> Evaluate() const {
    RateEstimator rates(config);
    return EvaluateBudgets(config, ledger, rates, jobs, now);
  }
  // The only status, or fails the test.
  BudgetGroupStatus Only() const {
    std::vector<BudgetGroupStatus> all = Evaluate();
    REQUIRE(all.size() == 1);
    return all.front();
  }
};

TEST_CASE("BudgetCancels by action and state", "[budget][eval]") {
  BudgetConfig b;
  b.action = BudgetAction::kCancelQueued;
  CHECK(BudgetCancels(b, JobState::kQueued));
  CHECK_FALSE(BudgetCancels(b, JobState::kActive));
  b.action = BudgetAction::kCancelAll;
  CHECK(BudgetCancels(b, JobState::kQueued));
  CHECK(BudgetCancels(b, JobState::kActive));
  b.action = BudgetAction::kReport;
  CHECK_FALSE(BudgetCancels(b, JobState::kQueued));
  CHECK_FALSE(BudgetCancels(b, JobState::kActive));
  for (BudgetAction a : {BudgetAction::kCancelQueued, BudgetAction::kCancelAll}) {
    b.action = a;
    for (JobState s :
         {JobState::kTerminatingOnCancel, JobState::kTerminatingOnFailure, JobState::kCancelled,
          JobState::kFailed, JobState::kSuccess, JobState::kUnknown}) {
      CHECK_FALSE(BudgetCancels(b, s));
    }
  }
}

TEST_CASE("no budgets, or nothing spent and nothing running: no status", "[budget][eval]") {
  Fixture f;
  CHECK(f.Evaluate().empty());
  f.config.budgets.push_back(MakeBudget(GroupBy::kItwin, 100));
  CHECK(f.Evaluate().empty());
  f.Ended({.id = "old"}, "2026-11-28T23:59:59Z", 50);  // yesterday
  CHECK(f.Evaluate().empty());
}

TEST_CASE("count_running adds estimates of Queued and Active jobs", "[budget][eval]") {
  Fixture f;
  f.config.budgets.push_back(MakeBudget(GroupBy::kItwin, 100));
  f.Ended({.id = "e1", .type = kPc, .itwin = "A"}, "2026-11-29T01:00:00Z", 60);
  f.jobs.push_back(RunningJob({.id = "r1", .type = kPc, .itwin = "A"}, "2026-11-29T10:00:00Z"));
  f.jobs.push_back(RunningJob({.id = "q1", .type = kPc, .itwin = "A"}, ""));
  f.jobs.push_back(RunningJob({.id = "r2", .type = kMesh, .itwin = "A"}, "2026-11-29T10:00:00Z"));
  // Ended jobs of the listing and terminating ones do not count here.
  f.jobs.push_back(EndedJob({.id = "e9", .type = kPc, .itwin = "A"}, "2026-11-29T11:00:00Z", 500));
  Job terminating = RunningJob({.id = "t", .type = kPc, .itwin = "A"}, "2026-11-29T00:00:00Z");
  terminating.state = JobState::kTerminatingOnCancel;
  f.jobs.push_back(terminating);

  SECTION("on") {
    BudgetGroupStatus s = f.Only();
    CHECK(s.budget_index == 0);
    CHECK(s.group == "A");
    CHECK(s.spent_ended == 60);
    CHECK(s.spent_running == Approx(24));  // 12 PU/h x 2 h; the Queued job 0
    CHECK(s.Spent() == Approx(84));
    CHECK(s.limit == 100);
    CHECK(s.running_jobs == 3);
    CHECK(s.unestimated_jobs == 1);  // MeshSampling has no rate
    CHECK_FALSE(s.exceeded);
    CHECK_FALSE(s.utc_fallback);
  }
  SECTION("off") {
    f.config.budgets[0].count_running = false;
    BudgetGroupStatus s = f.Only();
    CHECK(s.spent_ended == 60);
    CHECK(s.spent_running == 0);
    CHECK(s.Spent() == 60);
    CHECK(s.running_jobs == 3);
    CHECK(s.unestimated_jobs == 0);
  }
}

TEST_CASE("a group with only running jobs gets a status", "[budget][eval]") {
  Fixture f;
  f.config.budgets.push_back(MakeBudget(GroupBy::kUser, 100));
  f.config.budgets[0].count_running = false;
  f.jobs.push_back(RunningJob({.id = "q", .user = "u9"}, ""));
  BudgetGroupStatus s = f.Only();
  CHECK(s.group == "u9");
  CHECK(s.Spent() == 0);
  CHECK(s.running_jobs == 1);
}

TEST_CASE("warn and exceeded thresholds", "[budget][eval]") {
  struct Case {
    double spent;
    bool warn;
    bool exceeded;
  };
  for (Case c : {Case{0, false, false}, Case{79.99, false, false}, Case{80, true, false},
                 Case{99.99, true, false}, Case{100, true, true}, Case{150, true, true}}) {
    Fixture f;
    f.config.budgets.push_back(MakeBudget(GroupBy::kAll, 100));
    f.config.budgets[0].warn_at = 0.8;
    f.Ended({.id = "e"}, "2026-11-29T01:00:00Z", c.spent);
    BudgetGroupStatus s = f.Only();
    INFO("spent " << c.spent);
    CHECK(s.warn == c.warn);
    CHECK(s.exceeded == c.exceeded);
  }
}

TEST_CASE("without warn_at nothing warns, running estimates can exceed", "[budget][eval]") {
  Fixture f;
  f.config.budgets.push_back(MakeBudget(GroupBy::kAll, 100));
  f.Ended({.id = "e", .type = kPc}, "2026-11-29T01:00:00Z", 76);
  f.jobs.push_back(RunningJob({.id = "r", .type = kPc}, "2026-11-29T10:00:00Z"));  // 24
  BudgetGroupStatus s = f.Only();
  CHECK(s.Spent() == Approx(100));
  CHECK(s.exceeded);
  CHECK_FALSE(s.warn);
  f.config.budgets[0].count_running = false;
  CHECK_FALSE(f.Only().exceeded);
}

TEST_CASE("a job ended just before local midnight is not in today's window", "[budget][eval]") {
  Fixture f;
  BudgetConfig paris = MakeBudget(GroupBy::kAll, 1000, BudgetWindow::kDaily, "Europe/Paris");
  f.config.budgets.push_back(paris);
  BudgetConfig utc = MakeBudget(GroupBy::kAll, 1000);
  f.config.budgets.push_back(utc);
  // Paris day 2026-11-29 = [2026-11-28T23:00Z, 2026-11-29T23:00Z).
  f.Ended({.id = "before"}, "2026-11-28T22:59:59.999Z", 1);  // 23:59:59.999 local on the 28th
  f.Ended({.id = "at"}, "2026-11-28T23:00:00Z", 10);         // 00:00 local on the 29th
  f.Ended({.id = "after"}, "2026-11-28T23:30:00Z", 100);     // 00:30 local, still the 28th in UTC
  f.Ended({.id = "utc"}, "2026-11-29T00:00:00Z", 1000);      // 01:00 local
  std::vector<BudgetGroupStatus> all = f.Evaluate();
  REQUIRE(all.size() == 2);
  CHECK(all[0].budget_index == 0);
  CHECK(all[0].spent_ended == 1110);
  CHECK(all[0].window.label == "2026-11-29");
  CHECK(all[0].window.start == At("2026-11-28T23:00:00Z"));
  CHECK(all[1].budget_index == 1);
  CHECK(all[1].spent_ended == 1000);
  CHECK(all[1].window.start == At("2026-11-29T00:00:00Z"));
}

TEST_CASE("a job that ended before the window started counts nothing in it", "[budget][eval]") {
  Fixture f;
  f.now = At("2026-11-29T00:30:00Z");
  f.config.budgets.push_back(MakeBudget(GroupBy::kAll, 1000));
  // It ended one second before the day began: it counts in yesterday's window only.
  f.Ended({.id = "late"}, "2026-11-28T23:59:59Z", 500);
  CHECK(f.Evaluate().empty());
  f.now = At("2026-11-28T23:59:59Z");
  CHECK(f.Only().spent_ended == 500);
}

TEST_CASE("statuses are ordered by budget, then group, match filters both sources",
          "[budget][eval]") {
  Fixture f;
  BudgetConfig by_itwin = MakeBudget(GroupBy::kItwin, 100);
  by_itwin.match.types = {kPc};
  BudgetConfig by_type = MakeBudget(GroupBy::kType, 100, BudgetWindow::kMonthly);
  f.config.budgets = {by_itwin, by_type};
  f.Ended({.id = "1", .type = kPc, .itwin = "Z"}, "2026-11-29T01:00:00Z", 5);
  f.Ended({.id = "2", .type = kMesh, .itwin = "Y"}, "2026-11-02T01:00:00Z", 7);
  f.jobs.push_back(RunningJob({.id = "r1", .type = kPc, .itwin = "B"}, "2026-11-29T11:00:00Z"));
  f.jobs.push_back(RunningJob({.id = "r2", .type = kMesh, .itwin = "A"}, ""));
  std::vector<BudgetGroupStatus> all = f.Evaluate();
  REQUIRE(all.size() == 4);
  CHECK(all[0].budget_index == 0);
  CHECK(all[0].group == "B");
  CHECK(all[0].spent_running == Approx(12));
  CHECK(all[1].group == "Z");
  CHECK(all[1].spent_ended == 5);
  CHECK(all[2].budget_index == 1);
  CHECK(all[2].group == "MeshSampling");
  CHECK(all[2].spent_ended == 7);
  CHECK(all[2].running_jobs == 1);
  CHECK(all[2].window.label == "2026-11");
  CHECK(all[3].group == "PointCloudConversion");
  CHECK(all[3].Spent() == Approx(17));
}

TEST_CASE("running estimates: a fixed rate wins over a learned one", "[budget][eval]") {
  Fixture f;
  f.config.budgets.push_back(MakeBudget(GroupBy::kType, 1000));
  f.jobs.push_back(RunningJob({.id = "pc", .type = kPc}, "2026-11-29T10:00:00Z"));
  f.jobs.push_back(RunningJob({.id = "m", .type = kMesh}, "2026-11-29T10:00:00Z"));
  RateEstimator rates(f.config);
  for (JobType t : {kPc, kMesh}) {
    for (int i = 0; i < 3; ++i) {
      REQUIRE(rates.Learn(EndedJob({.id = "s", .type = t}, "2026-11-28T10:00:00Z", 50)));
    }
  }
  std::vector<BudgetGroupStatus> all = EvaluateBudgets(f.config, f.ledger, rates, f.jobs, f.now);
  REQUIRE(all.size() == 2);
  CHECK(all[0].group == "MeshSampling");
  CHECK(all[0].spent_running == Approx(100));  // learned 50 PU/h x 2 h
  CHECK(all[0].unestimated_jobs == 0);
  CHECK(all[1].group == "PointCloudConversion");
  CHECK(all[1].spent_running == Approx(24));  // fixed 12 PU/h x 2 h
}

TEST_CASE("an unloadable zone falls back to UTC and says so", "[budget][eval]") {
  Fixture f;
  f.config.budgets.push_back(MakeBudget(GroupBy::kAll, 100, BudgetWindow::kDaily, "Mars/Base"));
  f.Ended({.id = "e"}, "2026-11-29T01:00:00Z", 5);
  BudgetGroupStatus s = f.Only();
  CHECK(s.utc_fallback);
  CHECK(s.window.label == "2026-11-29");
  CHECK(s.window.start == At("2026-11-29T00:00:00Z"));
  CHECK(s.spent_ended == 5);
}

TEST_CASE("LedgerHorizon keeps the longest window and the lookback", "[budget][eval]") {
  Config c;
  c.watch.lookback = std::chrono::hours(7 * 24);
  const TimePoint now = At("2026-11-29T12:00:00Z");
  CHECK(LedgerHorizon(c, now) == At("2026-11-22T12:00:00Z"));
  c.budgets.push_back(MakeBudget(GroupBy::kAll, 1));  // daily
  CHECK(LedgerHorizon(c, now) == At("2026-11-22T12:00:00Z"));
  c.budgets.push_back(MakeBudget(GroupBy::kAll, 1, BudgetWindow::kMonthly, "America/New_York"));
  CHECK(LedgerHorizon(c, now) == At("2026-11-01T04:00:00Z"));
}

// 36-character ids like the API's GUIDs: "00000000-0000-4000-8000-000000000042".
std::string Guid(int n) {
  std::string digits = std::to_string(n);
  return "00000000-0000-4000-8000-" + std::string(12 - digits.size(), '0') + digits;
}

TEST_CASE("a hundred thousand running jobs over five budgets", "[budget][eval]") {
  Fixture f;
  f.config.budgets = {MakeBudget(GroupBy::kItwin, 1e9), MakeBudget(GroupBy::kUser, 1e9),
                      MakeBudget(GroupBy::kType, 1e9, BudgetWindow::kWeekly, "Europe/Paris"),
                      MakeBudget(GroupBy::kAll, 1e9, BudgetWindow::kMonthly, "Asia/Tokyo"),
                      MakeBudget(GroupBy::kItwin, 1e9)};
  f.config.budgets[4].match.types = {kPc};
  f.jobs.reserve(100000);
  // Worst case for lookups: consecutive jobs never share an iTwin or a user.
  for (int i = 0; i < 100000; ++i) {
    f.jobs.push_back(RunningJob({.id = Guid(i),
                                 .type = i % 2 == 0 ? kPc : kMesh,
                                 .itwin = Guid(i % 1000),
                                 .user = Guid(1000 + i % 300)},
                                i % 4 == 0 ? "" : "2026-11-29T11:00:00Z"));
  }
  for (int i = 0; i < 20000; ++i) {
    f.Ended({.id = "e" + std::to_string(i), .itwin = Guid(i % 1000)}, "2026-11-29T01:00:00Z", 1);
  }
  (void)f.Evaluate();  // the first use of the tz database loads its index
  std::clock_t t0 = std::clock();
  std::vector<BudgetGroupStatus> all = f.Evaluate();
  double cpu_ms = 1000.0 * static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  WARN("EvaluateBudgets, 100k jobs x 5 budgets, 20k ledger entries: " << cpu_ms << " ms CPU");
  // 1000 iTwins; 300 users + user-a of the ledger; 2 types; all; the 500
  // iTwins with PointCloudConversion jobs.
  REQUIRE(all.size() == 1000 + 301 + 2 + 1 + 500);
  const BudgetGroupStatus& everything = all[1000 + 301 + 2];
  CHECK(everything.group == "all");
  CHECK(everything.running_jobs == 100000);
  CHECK(everything.unestimated_jobs == 50000);  // the (all Active) MeshSampling jobs: no rate
  CHECK(everything.spent_running == Approx(25000 * 12));  // Active PC jobs, 1 h at 12 PU/h
  CHECK(everything.spent_ended == 20000);
}

}  // namespace
}  // namespace rcw
