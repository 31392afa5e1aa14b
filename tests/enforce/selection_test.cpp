#include "enforce/selection.h"

#include <catch2/catch.hpp>

#include "base/timefmt.h"

using namespace rcw;

namespace {

Finding Violation(std::uint32_t job, std::uint32_t policy, double observed, double threshold) {
  Finding f;
  f.job_index = job;
  f.policy_index = policy;
  f.severity = Severity::kViolation;
  f.observed = observed;
  f.threshold = threshold;
  f.cancel = true;
  return f;
}

std::vector<Job> Jobs(int n) {
  std::vector<Job> jobs(n);
  for (int i = 0; i < n; ++i) {
    jobs[i].id = "job-" + std::to_string(i);
    jobs[i].created = *ParseTimestamp("2026-11-29T00:00:00Z") + Seconds{i};
  }
  return jobs;
}

std::vector<std::uint32_t> JobsOf(const std::vector<Finding>& fs) {
  std::vector<std::uint32_t> out;
  for (const Finding& f : fs) out.push_back(f.job_index);
  return out;
}

}  // namespace

TEST_CASE("one cancelling finding per job: the first policy, else a budget") {
  Finding budget;
  budget.job_index = 0;
  budget.budget_index = 0;
  budget.limit = LimitKind::kBudget;
  budget.cancel = true;
  Finding report = Violation(1, 0, 10, 5);
  report.cancel = false;
  std::vector<Finding> all = {budget, Violation(0, 1, 10, 5), Violation(0, 2, 10, 5), report,
                              Violation(2, 0, 10, 5)};
  all[4].severity = Severity::kWarn;
  all[4].cancel = false;
  std::vector<Finding> chosen = CancellingFindings(all);
  REQUIRE(chosen.size() == 1);
  CHECK(chosen[0].job_index == 0);
  CHECK(chosen[0].policy_index == 1u);
}

TEST_CASE("max_cancels_per_cycle keeps the worst offenders first") {
  EnforcementConfig limits;
  limits.max_cancels_per_cycle = 2;
  limits.max_cancel_fraction = 1.0;
  auto jobs = Jobs(10);
  std::vector<Finding> wanted = {Violation(0, 0, 11, 10), Violation(1, 0, 30, 10),
                                 Violation(2, 0, 20, 10)};
  Selection s = SelectCancellations(wanted, 0, 10, 0, limits, jobs);
  CHECK(JobsOf(s.start) == std::vector<std::uint32_t>{1, 2});
  CHECK(JobsOf(s.over_cycle) == std::vector<std::uint32_t>{0});
  CHECK_FALSE(s.breaker_tripped);
}

TEST_CASE("equal offenders: the oldest job goes first") {
  EnforcementConfig limits;
  limits.max_cancels_per_cycle = 1;
  limits.max_cancel_fraction = 1.0;
  auto jobs = Jobs(3);
  Selection s = SelectCancellations({Violation(2, 0, 20, 10), Violation(1, 0, 20, 10)}, 0, 3, 0,
                                    limits, jobs);
  CHECK(JobsOf(s.start) == std::vector<std::uint32_t>{1});
}

TEST_CASE("max_cancels_per_hour counts the cancellations of the last hour") {
  EnforcementConfig limits;
  limits.max_cancels_per_cycle = 10;
  limits.max_cancels_per_hour = 5;
  limits.max_cancel_fraction = 1.0;
  auto jobs = Jobs(10);
  std::vector<Finding> wanted = {Violation(0, 0, 20, 10), Violation(1, 0, 30, 10),
                                 Violation(2, 0, 40, 10)};
  Selection s = SelectCancellations(wanted, 0, 10, 4, limits, jobs);
  CHECK(JobsOf(s.start) == std::vector<std::uint32_t>{2});
  CHECK(s.over_hour.size() == 2);
  Selection full = SelectCancellations(wanted, 0, 10, 5, limits, jobs);
  CHECK(full.start.empty());
  CHECK(full.over_hour.size() == 3);
}

TEST_CASE("the circuit breaker cancels none when too large a fraction would go") {
  EnforcementConfig limits;
  limits.max_cancel_fraction = 0.5;
  auto jobs = Jobs(4);
  std::vector<Finding> three = {Violation(0, 0, 20, 10), Violation(1, 0, 20, 10),
                                Violation(2, 0, 20, 10)};
  Selection s = SelectCancellations(three, 0, 4, 0, limits, jobs);
  CHECK(s.breaker_tripped);
  CHECK(s.start.empty());
  CHECK(s.breaker.size() == 3);
  CHECK(s.fraction == Approx(0.75));
  // Exactly the fraction is not more than it.
  Selection two = SelectCancellations({three[0], three[1]}, 0, 4, 0, limits, jobs);
  CHECK_FALSE(two.breaker_tripped);
  CHECK(two.start.size() == 2);
  // Cancellations already under way count towards the fraction.
  Selection with_pending = SelectCancellations({three[0], three[1]}, 1, 4, 0, limits, jobs);
  CHECK(with_pending.breaker_tripped);
}

TEST_CASE("nothing wanted never trips the breaker") {
  EnforcementConfig limits;
  Selection s = SelectCancellations({}, 3, 3, 0, limits, Jobs(3));
  CHECK_FALSE(s.breaker_tripped);
  CHECK(s.start.empty());
}

namespace {

std::vector<Finding> Violators(int n) {
  std::vector<Finding> out;
  for (int i = 0; i < n; ++i) out.push_back(Violation(i, 0, 20, 10));
  return out;
}

}  // namespace

TEST_CASE("a lone runaway or two is cancelled: the breaker needs circuit_breaker_min_jobs") {
  EnforcementConfig limits;  // defaults: fraction 0.5, min jobs 3
  REQUIRE(limits.circuit_breaker_min_jobs == 3);
  Selection one = SelectCancellations(Violators(1), 0, 1, 0, limits, Jobs(1));
  CHECK_FALSE(one.breaker_tripped);
  CHECK(one.start.size() == 1);
  Selection two = SelectCancellations(Violators(2), 0, 3, 0, limits, Jobs(3));
  CHECK_FALSE(two.breaker_tripped);
  CHECK(two.start.size() == 2);
  // One new and one under way count as two: still below the minimum.
  Selection pending = SelectCancellations(Violators(1), 1, 2, 0, limits, Jobs(2));
  CHECK_FALSE(pending.breaker_tripped);
}

TEST_CASE("the breaker trips from circuit_breaker_min_jobs jobs over the fraction") {
  EnforcementConfig limits;
  Selection most = SelectCancellations(Violators(15), 0, 20, 0, limits, Jobs(20));
  CHECK(most.breaker_tripped);
  CHECK(most.start.empty());
  CHECK(most.breaker.size() == 15);
  Selection three = SelectCancellations(Violators(3), 0, 4, 0, limits, Jobs(4));
  CHECK(three.breaker_tripped);
  CHECK(three.would == 3);
  // At the minimum but not over the fraction: no trip.
  Selection half = SelectCancellations(Violators(3), 0, 6, 0, limits, Jobs(6));
  CHECK_FALSE(half.breaker_tripped);
  // A higher minimum lets more through.
  limits.circuit_breaker_min_jobs = 4;
  CHECK_FALSE(SelectCancellations(Violators(3), 0, 4, 0, limits, Jobs(4)).breaker_tripped);
}

TEST_CASE("the breaker's message names both conditions") {
  EnforcementConfig limits;
  Selection s = SelectCancellations(Violators(10), 2, 20, 0, limits, Jobs(20));
  REQUIRE(s.breaker_tripped);
  CHECK(BreakerMessage(s, 20, limits) ==
        "circuit breaker: 12 of 20 watched jobs would be cancelled (fraction 0.60 > "
        "max_cancel_fraction 0.50, and 12 >= circuit_breaker_min_jobs 3); cancelling none "
        "this cycle");
}
