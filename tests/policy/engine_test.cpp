#include "policy/engine.h"

#include <catch2/catch.hpp>
#include <memory>

#include "base/timefmt.h"

using namespace rcw;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = *ParseTimestamp("2026-11-29T12:00:00Z");
const std::string kItwin = "ce54f773-67db-4b4f-a98b-368329107429";
const std::string kUser = "3a8670f9-b69f-4a60-b958-f103d580755f";

Regex Re(const std::string& pattern) {
  Result<Regex> re = Regex::Compile(pattern);
  REQUIRE(re.ok());
  return *re;
}

Job Active(const std::string& id, Seconds running, JobType type = JobType::kPointCloudConversion) {
  Job j;
  j.id = id;
  j.name = "job " + id;
  j.itwin_id = kItwin;
  j.user_id = kUser;
  j.type = type;
  j.state = JobState::kActive;
  j.created = kNow - running - 10min;
  j.started = kNow - running;
  return j;
}

Job Queued(const std::string& id, Seconds queued) {
  Job j = Active(id, 0s);
  j.state = JobState::kQueued;
  j.started.reset();
  j.created = kNow - queued;
  return j;
}

PolicyConfig Policy(const std::string& name) {
  PolicyConfig p;
  p.name = name;
  return p;
}

struct Fixture {
  Config config;
  std::vector<Job> jobs;
  std::map<std::string, TimePoint> first_seen;
  TimePoint now = kNow;
  const RateEstimator* rates = nullptr;
  const std::vector<BudgetGroupStatus>* budgets = nullptr;

  Evaluation Run() {
    EvalInputs in;
    in.config = &config;
    in.jobs = &jobs;
    in.rates = rates;
    in.budgets = budgets;
    in.first_seen_active = [this](std::string_view id) -> std::optional<TimePoint> {
      auto it = first_seen.find(std::string(id));
      return it == first_seen.end() ? std::nullopt : std::optional<TimePoint>(it->second);
    };
    in.now = now;
    return Evaluate(in);
  }
};

}  // namespace

TEST_CASE("max_runtime counts from startedDateTime and compares strictly") {
  Fixture fx;
  PolicyConfig p = Policy("rt");
  p.limits.max_runtime = 2h;
  fx.config.policies = {p};
  fx.jobs = {Active("exact", 2h), Active("over", 2h + 1s), Active("under", 1h)};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);
  CHECK(ev.findings[0].job_index == 1);
  CHECK(ev.findings[0].limit == LimitKind::kMaxRuntime);
  CHECK(ev.findings[0].severity == Severity::kViolation);
  CHECK(ev.findings[0].cancel);
  CHECK(ev.findings[0].observed == 7201);
  CHECK(ev.findings[0].threshold == 7200);
  // The exact job crosses one second from now.
  REQUIRE(ev.next_deadline);
  CHECK(*ev.next_deadline == kNow + 1s);
}

TEST_CASE("max_runtime of an Active job without startedDateTime counts from first seen Active") {
  Fixture fx;
  PolicyConfig p = Policy("rt");
  p.limits.max_runtime = 1h;
  fx.config.policies = {p};
  Job j = Active("no-start", 0s);
  j.started.reset();
  j.created = kNow - 10h;  // never from creation
  fx.jobs = {j};
  CHECK(fx.Run().findings.empty());  // not seen before: not measurable
  fx.first_seen["no-start"] = kNow - 30min;
  CHECK(fx.Run().findings.empty());
  fx.first_seen["no-start"] = kNow - 61min;
  REQUIRE(fx.Run().findings.size() == 1);
}

TEST_CASE("max_queued counts from createdDateTime and applies to Queued jobs only") {
  Fixture fx;
  PolicyConfig p = Policy("q");
  p.limits.max_queued = 30min;
  fx.config.policies = {p};
  Job active_long = Active("active", 5h);
  fx.jobs = {Queued("stuck", 31min), Queued("fresh", 29min), active_long};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);
  CHECK(ev.findings[0].job_index == 0);
  CHECK(ev.findings[0].limit == LimitKind::kMaxQueued);
  CHECK(*ev.next_deadline == kNow + 1min + 1s);
}

TEST_CASE("grace delays the violation, warn_at records a warning before it") {
  Fixture fx;
  PolicyConfig p = Policy("g");
  p.limits.max_runtime = 1h;
  p.grace = 10min;
  p.warn_at = 0.8;
  fx.config.policies = {p};
  fx.jobs = {Active("in-grace", 65min), Active("past-grace", 70min + 1s), Active("warned", 50min),
             Active("calm", 47min)};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 3);
  CHECK(ev.findings[0].job_index == 0);
  CHECK(ev.findings[0].severity == Severity::kWarn);  // over the limit, within grace
  CHECK_FALSE(ev.findings[0].cancel);
  CHECK(ev.findings[1].job_index == 1);
  CHECK(ev.findings[1].severity == Severity::kViolation);
  CHECK(ev.findings[2].job_index == 2);
  CHECK(ev.findings[2].severity == Severity::kWarn);
}

TEST_CASE("match keys must all match, empty keys match everything") {
  Fixture fx;
  PolicyConfig p = Policy("m");
  p.limits.max_runtime = 1h;
  p.match.types = {JobType::kMeshSampling};
  p.match.itwins = {kItwin};
  p.match.users = {kUser};
  p.match.name_regex = Re("^nightly-");
  fx.config.policies = {p};
  Job ok = Active("a", 2h, JobType::kMeshSampling);
  ok.name = "nightly-42";
  Job wrong_type = ok;
  wrong_type.type = JobType::kPointCloudConversion;
  Job wrong_itwin = ok;
  wrong_itwin.itwin_id = "0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11";
  Job wrong_user = ok;
  wrong_user.user_id = "someone-else";
  Job wrong_name = ok;
  wrong_name.name = "daily-42";
  fx.jobs = {ok, wrong_type, wrong_itwin, wrong_user, wrong_name};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);
  CHECK(ev.findings[0].job_index == 0);
}

TEST_CASE("exempt jobs are reported but never cancelled, by id or by name") {
  Fixture fx;
  PolicyConfig p = Policy("e");
  p.limits.max_runtime = 1h;
  p.exempt.ids = {"keep-id"};
  p.exempt.name_regex = Re("-keep$");
  fx.config.policies = {p};
  Job by_name = Active("x", 2h);
  by_name.name = "big-keep";
  fx.jobs = {Active("keep-id", 2h), by_name, Active("y", 2h)};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 3);
  CHECK(ev.findings[0].exempt);
  CHECK_FALSE(ev.findings[0].cancel);
  CHECK(ev.findings[1].exempt);
  CHECK_FALSE(ev.findings[1].cancel);
  CHECK(ev.findings[2].cancel);
}

TEST_CASE("action report finds violations without cancelling") {
  Fixture fx;
  PolicyConfig p = Policy("r");
  p.limits.max_runtime = 1h;
  p.action = PolicyAction::kReport;
  fx.config.policies = {p};
  fx.jobs = {Active("a", 2h)};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);
  CHECK(ev.findings[0].severity == Severity::kViolation);
  CHECK_FALSE(ev.findings[0].cancel);
  CHECK_FALSE(ev.next_deadline);  // report-only policies do not wake the daemon
}

TEST_CASE("max_processing_units uses reported units") {
  Fixture fx;
  PolicyConfig p = Policy("pu");
  p.limits.max_processing_units = 100;
  fx.config.policies = {p};
  Job over = Active("over", 1h);
  over.processing_units = 150;
  Job under = Active("under", 1h);
  under.processing_units = 99;
  Job unknown = Active("unknown", 1h);  // no rates given: no estimate, no finding
  fx.jobs = {over, under, unknown};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);
  CHECK(ev.findings[0].job_index == 0);
  CHECK(ev.findings[0].limit == LimitKind::kMaxProcessingUnits);
  CHECK_FALSE(ev.findings[0].estimated);
}

TEST_CASE("max_processing_units falls back to the estimate from the rate") {
  Fixture fx;
  PolicyConfig p = Policy("pu");
  p.limits.max_processing_units = 100;
  fx.config.policies = {p};
  fx.config.pu_per_hour[static_cast<int>(JobType::kPointCloudConversion)] = 40;
  RateEstimator rates(fx.config);
  fx.jobs = {Active("long", 3h), Active("short", 2h)};  // ~120 and ~80 units
  fx.rates = &rates;
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);
  CHECK(ev.findings[0].job_index == 0);
  CHECK(ev.findings[0].estimated);
  CHECK(ev.findings[0].observed == Approx(120));
}

TEST_CASE("the first violated limit of a policy wins, every policy gives its verdict") {
  Fixture fx;
  PolicyConfig both = Policy("both");
  both.limits.max_runtime = 1h;
  both.limits.max_processing_units = 10;
  PolicyConfig second = Policy("second");
  second.limits.max_runtime = 30min;
  fx.config.policies = {both, second};
  Job j = Active("a", 2h);
  j.processing_units = 50;
  fx.jobs = {j};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 2);
  CHECK(ev.findings[0].policy_index == 0u);
  CHECK(ev.findings[0].limit == LimitKind::kMaxRuntime);
  CHECK(ev.findings[1].policy_index == 1u);
}

TEST_CASE("terminal and unknown-state jobs are never judged") {
  Fixture fx;
  PolicyConfig p = Policy("rt");
  p.limits.max_runtime = 1h;
  fx.config.policies = {p};
  Job done = Active("done", 5h);
  done.state = JobState::kSuccess;
  Job odd = Active("odd", 5h);
  odd.state = JobState::kUnknown;
  Job cancelling = Active("cancelling", 5h);
  cancelling.state = JobState::kTerminatingOnCancel;
  fx.jobs = {done, odd, cancelling};
  CHECK(fx.Run().findings.empty());
}

TEST_CASE("exceeded budgets find the running jobs of their group") {
  Fixture fx;
  BudgetConfig queued_only;
  queued_only.name = "daily";
  queued_only.group_by = GroupBy::kItwin;
  queued_only.action = BudgetAction::kCancelQueued;
  queued_only.limit = 100;
  fx.config.budgets = {queued_only};
  Job other = Queued("other-itwin", 1min);
  other.itwin_id = "0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11";
  fx.jobs = {Queued("q", 1min), Active("a", 1h), other};
  BudgetGroupStatus status;
  status.budget_index = 0;
  status.group = kItwin;
  status.spent_ended = 120;
  status.limit = 100;
  status.exceeded = true;
  std::vector<BudgetGroupStatus> budgets = {status};
  fx.budgets = &budgets;
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 2);
  CHECK(ev.findings[0].job_index == 0);
  CHECK(ev.findings[0].cancel);  // Queued: cancel_queued cancels it
  CHECK(ev.findings[1].job_index == 1);
  CHECK_FALSE(ev.findings[1].cancel);  // Active: cancel_queued leaves it
  CHECK(ev.findings[0].limit == LimitKind::kBudget);
}

TEST_CASE("a warning tells when the job will be cancelled: start + limit + grace, or by the rate") {
  Fixture fx;
  PolicyConfig p = Policy("g");
  p.limits.max_runtime = 1h;
  p.grace = 10min;
  p.warn_at = 0.8;
  PolicyConfig q = Policy("queued");
  q.limits.max_queued = 30min;
  q.warn_at = 0.5;
  fx.config.policies = {p, q};
  fx.jobs = {Active("warned", 50min), Queued("waiting", 20min)};
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 2);
  REQUIRE(ev.findings[0].cancel_at.has_value());
  CHECK(*ev.findings[0].cancel_at == kNow - 50min + 1h + 10min);
  REQUIRE(ev.findings[1].cancel_at.has_value());
  CHECK(*ev.findings[1].cancel_at == kNow - 20min + 30min);

  // 80 estimated units of 100 at 40 an hour: 20 more in 30 minutes.
  Fixture pu;
  PolicyConfig units = Policy("pu");
  units.limits.max_processing_units = 100;
  units.warn_at = 0.5;
  pu.config.policies = {units};
  pu.config.pu_per_hour[static_cast<int>(JobType::kPointCloudConversion)] = 40;
  RateEstimator rates(pu.config);
  pu.jobs = {Active("short", 2h)};
  pu.rates = &rates;
  Evaluation est = pu.Run();
  REQUIRE(est.findings.size() == 1);
  CHECK(est.findings[0].severity == Severity::kWarn);
  CHECK(est.findings[0].estimated);
  REQUIRE(est.findings[0].cancel_at.has_value());
  CHECK(std::chrono::abs(*est.findings[0].cancel_at - (kNow + 30min)) < 1s);
}

TEST_CASE("grace applies to max_processing_units as the units used at the type's rate during it") {
  // 100 units, 30 minutes of grace at 40 units an hour: cancelled above 120.
  Fixture fx;
  PolicyConfig units = Policy("pu");
  units.limits.max_processing_units = 100;
  units.grace = 30min;
  fx.config.policies = {units};
  fx.config.pu_per_hour[static_cast<int>(JobType::kPointCloudConversion)] = 40;
  RateEstimator rates(fx.config);
  fx.jobs = {Active("in-grace", 2h + 45min), Active("past-grace", 3h + 7min + 30s)};
  fx.rates = &rates;
  Evaluation ev = fx.Run();
  REQUIRE(ev.findings.size() == 1);  // 110 units: over the limit, within its grace
  CHECK(ev.findings[0].job_index == 1);
  CHECK(ev.findings[0].severity == Severity::kViolation);
  CHECK(ev.findings[0].cancel);

  // With warn_at, the job in its grace is warned, with the moment it reaches 120.
  fx.config.policies[0].warn_at = 0.8;
  ev = fx.Run();
  REQUIRE(ev.findings.size() == 2);
  CHECK(ev.findings[0].severity == Severity::kWarn);
  CHECK_FALSE(ev.findings[0].cancel);
  REQUIRE(ev.findings[0].cancel_at.has_value());
  CHECK(std::chrono::abs(*ev.findings[0].cancel_at - (kNow + 15min)) < 1s);

  // Without grace the same job is cancelled.
  fx.config.policies[0].grace = Seconds{0};
  ev = fx.Run();
  REQUIRE(ev.findings.size() == 2);
  CHECK(ev.findings[0].severity == Severity::kViolation);
}
