#include "enforce/enforcer.h"

#include <catch2/catch.hpp>
#include <map>

#include "api/request_gate.h"
#include "base/timefmt.h"
#include "fakes/fake_api.h"
#include "fakes/fake_audit.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

const char* kBase = "https://api.example.test/reality-conversion";

std::string JobBody(const std::string& id, const std::string& state) {
  return R"({"job":{"id":")" + id + R"(","state":")" + state +
         R"(","userId":"u","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"},)"
         R"("name":"n","type":"PointCloudConversion","iTwinId":"i"}})";
}

const std::string kInvalidChange =
    R"({"error":{"code":"InvalidRealityConversionRequest","message":"Invalid request to Reality Conversion.","details":[{"code":"InvalidChange","message":"The job is about to complete.","target":""}]}})";

class Recorder final : public EnforceObserver {
 public:
  void OnViolation(const std::string& p, std::string_view l) override {
    violations.push_back(p + "/" + std::string(l));
  }
  void OnWarning(const std::string& p) override { warnings.push_back(p); }
  void OnCancellationFinished(const std::string&, std::string_view outcome) override {
    outcomes.emplace_back(outcome);
  }
  void OnConfirmed(const std::string& p) override { confirmed.push_back(p); }
  void OnBlocked(std::string_view reason, std::size_t n) override {
    blocked[std::string(reason)] += n;
  }
  std::vector<std::string> violations, warnings, outcomes, confirmed;
  std::map<std::string, std::size_t> blocked;
};

// A world with one policy "rt" and jobs the test controls.
struct World {
  FakeClock clock;
  FakeHttpClient http;
  FakeTokenSource tokens;
  RequestGate gate{clock};
  RealityConversionClient api{http, tokens, gate, clock, nullptr, ClientOptions{kBase}};
  FakeAuditSink audit;
  PersistentState state;
  Recorder observer;
  Config config;
  Enforcer enforcer{api, audit, state, &observer, 42};
  std::vector<Job> jobs;
  std::vector<Finding> findings;

  World() {
    PolicyConfig p;
    p.name = "rt";
    p.limits.max_runtime = 1h;
    config.policies = {p};
    BudgetConfig b;
    b.name = "daily";
    config.budgets = {b};
    config.watch.poll_interval = 30s;
    config.enforcement.max_cancel_fraction = 1.0;
    config.enforcement.retry.initial = 1000ms;
    config.enforcement.retry.max = 4000ms;
    config.enforcement.retry.max_attempts = 3;
    enforcer.SetConfig(&config, false);
  }

  void AddJob(const std::string& id, JobState state = JobState::kActive) {
    Job j;
    j.id = id;
    j.state = state;
    j.type = JobType::kPointCloudConversion;
    j.created = clock.Now() - 3h;
    j.started = clock.Now() - 2h;
    jobs.push_back(j);
  }

  void Violates(std::uint32_t job, bool cancel = true, Severity severity = Severity::kViolation) {
    Finding f;
    f.job_index = job;
    f.policy_index = 0;
    f.limit = LimitKind::kMaxRuntime;
    f.severity = severity;
    f.observed = 7200;
    f.threshold = 3600;
    f.cancel = cancel && severity == Severity::kViolation;
    findings.push_back(f);
  }

  Status Cycle(bool complete = true) {
    std::size_t running = 0;
    for (const Job& j : jobs) running += IsRunning(j.state);
    CycleView view{&jobs, &findings, complete, running, clock.Now()};
    Status s = enforcer.Decide(view, clock.Now());
    if (!s.ok()) return s;
    return enforcer.RunDue(clock.Now());
  }

  std::size_t Deletes() const {
    std::size_t n = 0;
    for (const HttpRequest& r : http.requests()) n += r.method == "DELETE";
    return n;
  }
};

}  // namespace

TEST_CASE("a violation is audited once and cancelled with an audit line before the DELETE") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  std::size_t lines_at_delete = 0;
  w.http.set_on_send([&](const HttpRequest&) { lines_at_delete = w.audit.lines.size(); });
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Deletes() == 1);
  CHECK(w.http.last().url == std::string(kBase) + "/jobs/job-1");
  CHECK(w.audit.lines.at(lines_at_delete - 1).event == "cancel_requested");
  auto results = w.audit.Of("cancel_result");
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == "cancelled");
  CHECK(results[0].http_status == 200L);
  CHECK(w.observer.outcomes == std::vector<std::string>{"cancelled"});
  CHECK(w.observer.violations == std::vector<std::string>{"rt/max_runtime"});
  // Next poll: still TerminatingOnCancel; then Cancelled.
  w.jobs[0].state = JobState::kTerminatingOnCancel;
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.audit.Of("violation").size() == 1);
  w.jobs[0].state = JobState::kCancelled;
  REQUIRE(w.Cycle().ok());
  CHECK(w.audit.Of("cancel_confirmed").size() == 1);
  CHECK(w.observer.confirmed == std::vector<std::string>{"rt"});
  CHECK(w.enforcer.pending() == 0);
}

TEST_CASE("warnings are audited once per job") {
  World w;
  w.AddJob("job-1");
  w.Violates(0, false, Severity::kWarn);
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Cycle().ok());
  CHECK(w.audit.Of("warning").size() == 1);
  CHECK(w.observer.warnings.size() == 1);
  CHECK(w.Deletes() == 0);
}

TEST_CASE("a violation of an exempt job is audited with exempt true and cancels nothing") {
  World w;
  w.AddJob("job-1");
  w.AddJob("job-2");
  w.Violates(0, false);
  w.findings.back().exempt = true;
  w.Violates(1, false, Severity::kWarn);
  REQUIRE(w.Cycle().ok());
  auto violations = w.audit.Of("violation");
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].exempt == true);
  CHECK_THAT(violations[0].ToJson(), Catch::Contains(R"("exempt":true)"));
  CHECK_THAT(violations[0].message, Catch::EndsWith("(exempt)"));
  auto warnings = w.audit.Of("warning");
  REQUIRE(warnings.size() == 1);
  CHECK_FALSE(warnings[0].exempt);
  CHECK_THAT(warnings[0].ToJson(), !Catch::Contains("exempt"));
  CHECK(w.Deletes() == 0);
  CHECK(w.audit.Of("cancel_requested").empty());
}

TEST_CASE("404 is not_found and 403 is failed, neither retried") {
  World w;
  w.AddJob("job-1");
  w.AddJob("job-2");
  w.Violates(0);
  w.Violates(1);
  w.http.Respond(404,
                 R"({"error":{"code":"JobNotFound","message":"Requested job is not available."}})");
  w.http.Respond(403, R"({"error":{"code":"InsufficientPermissions","message":"no"}})");
  REQUIRE(w.Cycle().ok());
  CHECK(w.observer.outcomes == std::vector<std::string>{"not_found", "failed"});
  CHECK(w.enforcer.pending() == 0);
  w.clock.Advance(10s);
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 2);
}

TEST_CASE("422 InvalidChange: not_cancellable while saving, already_finished once ended") {
  World w;
  w.AddJob("job-1");
  w.AddJob("job-2");
  w.Violates(0);
  w.Violates(1);
  w.http.Respond(422, kInvalidChange).Respond(200, JobBody("job-1", "Active"));
  w.http.Respond(422, kInvalidChange).Respond(200, JobBody("job-2", "Success"));
  REQUIRE(w.Cycle().ok());
  CHECK(w.observer.outcomes == std::vector<std::string>{"not_cancellable", "already_finished"});
  CHECK(w.Deletes() == 2);
  CHECK(w.enforcer.pending() == 0);
}

TEST_CASE("5xx is retried with full-jitter backoff, then failed after max_attempts") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 503;
    return r;
  });
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  std::optional<TimePoint> next = w.enforcer.NextDue(w.clock.Now());
  REQUIRE(next);
  CHECK(*next <= w.clock.Now() + 1s);  // attempt 1 waits at most retry.initial
  for (int i = 0; i < 5; ++i) {
    w.clock.Set(*w.enforcer.NextDue(w.clock.Now()));
    REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
    if (!w.enforcer.NextDue(w.clock.Now())) break;
  }
  CHECK(w.Deletes() == 3);  // retry.max_attempts
  CHECK(w.observer.outcomes == std::vector<std::string>{"failed"});
  auto results = w.audit.Of("cancel_result");
  REQUIRE(results.size() == 3);
  CHECK(results[0].outcome == "retry");
  CHECK(results[2].outcome == "failed");
  CHECK(results[2].attempt == 3);
}

TEST_CASE("429: nothing is sent before retry-after expires") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(429, R"({"error":{"code":"RateLimitExceeded","message":"slow down"}})",
                 {{"retry-after", "20"}});
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  w.clock.Advance(19s);
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.audit.Of("cancel_requested").size() == 1);
  w.clock.Advance(2s);
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 2);
  CHECK(w.observer.outcomes == std::vector<std::string>{"cancelled"});
}

TEST_CASE("no DELETE on data older than one poll interval") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  w.clock.Advance(31s);  // the retry is due, but the data is stale
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  REQUIRE(w.Cycle().ok());  // fresh poll, still violating
  CHECK(w.Deletes() == 2);
}

TEST_CASE("a retry is withdrawn when the fresh poll no longer finds a violation") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  w.findings.clear();  // e.g. the policy was relaxed by a reload
  w.clock.Advance(5s);
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.enforcer.pending() == 0);
  CHECK(w.audit.Of("cancel_result").back().outcome == "withdrawn");
}

TEST_CASE("an accepted cancellation still Active three polls later is sent again") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.set_handler([](const HttpRequest& r) -> Result<HttpResponse> {
    HttpResponse resp;
    resp.status = 200;
    resp.body = JobBody("job-1", r.method == "DELETE" ? "TerminatingOnCancel" : "Active");
    return resp;
  });
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Deletes() == 1);
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 2);
  CHECK(w.audit.Of("cancel_requested").back().attempt == 2);
}

TEST_CASE("an audit log that cannot be written stops every DELETE") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.audit.fail = true;
  CHECK_FALSE(w.Cycle().ok());
  CHECK(w.http.requests().empty());
}

TEST_CASE("dry run sends nothing and writes the lines a real run would, once") {
  World w;
  w.enforcer.SetConfig(&w.config, true);
  w.AddJob("job-1");
  w.Violates(0);
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Cycle().ok());
  CHECK(w.http.requests().empty());
  auto requested = w.audit.Of("cancel_requested");
  auto results = w.audit.Of("cancel_result");
  REQUIRE(requested.size() == 1);
  REQUIRE(results.size() == 1);
  CHECK(requested[0].dry_run == true);
  CHECK(results[0].outcome == "dry_run");
  CHECK(w.observer.outcomes == std::vector<std::string>{"dry_run"});
}

TEST_CASE("action report is a dry run of that policy only") {
  World w;
  w.config.policies[0].action = PolicyAction::kReport;
  w.AddJob("job-1");
  w.Violates(0, false);
  REQUIRE(w.Cycle().ok());
  CHECK(w.http.requests().empty());
  CHECK(w.audit.Of("cancel_result").at(0).outcome == "dry_run");
}

TEST_CASE("an incomplete listing blocks budget cancellations but not per-job limits") {
  World w;
  w.AddJob("job-1", JobState::kQueued);
  w.AddJob("job-2");
  Finding budget;
  budget.job_index = 0;
  budget.budget_index = 0;
  budget.limit = LimitKind::kBudget;
  budget.cancel = true;
  w.findings.push_back(budget);
  w.Violates(1);
  w.http.Respond(200, JobBody("job-2", "TerminatingOnCancel"));
  REQUIRE(w.Cycle(false).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.http.last().url.ends_with("/jobs/job-2"));
  CHECK(w.observer.blocked["incomplete_data"] == 1);
  CHECK(w.audit.Of("cancel_blocked").at(0).outcome == "incomplete_data");
}

TEST_CASE("a cancel_queued budget over an Active job writes the violation only, no dry-run pair") {
  World w;
  w.AddJob("job-1");  // Active: out of scope of cancel_queued
  Finding budget;
  budget.job_index = 0;
  budget.budget_index = 0;
  budget.limit = LimitKind::kBudget;
  budget.cancel = false;
  w.findings.push_back(budget);
  REQUIRE(w.Cycle().ok());
  CHECK(w.audit.Of("violation").size() == 1);
  CHECK(w.audit.Of("cancel_requested").empty());
  CHECK(w.audit.Of("cancel_result").empty());
  w.config.budgets[0].action = BudgetAction::kReport;  // a report-only budget does get the pair
  w.jobs[0].id = "job-2";
  REQUIRE(w.Cycle().ok());
  CHECK(w.audit.Of("cancel_result").size() == 1);
  CHECK(w.audit.Of("cancel_result").at(0).outcome == "dry_run");
}

TEST_CASE("the circuit breaker holds every DELETE of the cycle") {
  World w;
  w.config.enforcement.max_cancel_fraction = 0.5;
  w.config.enforcement.circuit_breaker_min_jobs = 1;  // trips on 2 jobs
  w.AddJob("job-1");
  w.AddJob("job-2");
  w.AddJob("job-3");
  w.Violates(0);
  w.Violates(1);
  REQUIRE(w.Cycle().ok());
  CHECK(w.http.requests().empty());
  CHECK(w.observer.blocked["circuit_breaker"] == 2);
  CHECK(w.audit.Of("cancel_blocked").back().message.find("circuit breaker") != std::string::npos);
  // Held back again at the next poll: counted again, audited once per job.
  w.clock.Advance(30s);
  REQUIRE(w.Cycle().ok());
  CHECK(w.http.requests().empty());
  CHECK(w.observer.blocked["circuit_breaker"] == 4);
  CHECK(w.audit.Of("cancel_blocked").size() == 2);
  // A job held back for another reason later gets a line for that reason.
  w.config.enforcement.max_cancel_fraction = 1.0;
  w.config.enforcement.max_cancels_per_cycle = 1;
  w.clock.Advance(30s);
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  auto blocked = w.audit.Of("cancel_blocked");
  REQUIRE(blocked.size() == 3);
  CHECK(blocked.back().outcome == "max_per_cycle");
}

TEST_CASE("manual cancellations need no policy and no fresh poll") {
  World w;
  w.http.Respond(200, JobBody("job-9", "TerminatingOnCancel"));
  REQUIRE(w.enforcer.AddManual({"job-9", "job-9"}, w.clock.Now()).ok());
  CHECK(w.enforcer.pending() == 1);
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.audit.Of("cancel_result").at(0).policy == "manual");
  CHECK(w.observer.outcomes == std::vector<std::string>{"cancelled"});
  // Only the id was known before the DELETE; the job it answered with
  // describes the lines after it.
  CHECK(w.audit.Of("cancel_requested").at(0).itwin_id.empty());
  const AuditEvent result = w.audit.Of("cancel_result").at(0);  // Of() returns a copy
  CHECK(result.job_id == "job-9");
  CHECK(result.itwin_id == "i");
  CHECK(result.type == "PointCloudConversion");
  CHECK(result.name == "n");
  CHECK(result.user_id == "u");
}

TEST_CASE("while our own rate gate is closed nothing is sent and nothing is audited") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.gate.BlockUntil(w.clock.Now() + 10s);
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  CHECK(w.http.requests().empty());
  CHECK(w.audit.Of("cancel_requested").empty());
  REQUIRE(w.enforcer.NextDue(w.clock.Now()));
  CHECK(*w.enforcer.NextDue(w.clock.Now()) == w.clock.Now() + 10s);
  w.clock.Advance(10s);
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.audit.Of("cancel_requested").size() == 1);
  CHECK(w.audit.Of("cancel_requested")[0].attempt == 1);
}

TEST_CASE(
    "a gate wait is a duration: an API clock far from the local one neither stalls nor spins") {
  for (auto skew : {-180 * 24h, 180 * 24h}) {  // the API's "now" months behind, then ahead
    World w;
    w.AddJob("job-1");
    w.Violates(0);
    w.gate.BlockUntil(w.clock.Now() + 10s);  // the gate runs on the local clock
    w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
    TimePoint api_now = w.clock.Now() + skew;
    CycleView view{&w.jobs, &w.findings, true, 1, api_now};
    REQUIRE(w.enforcer.Decide(view, api_now).ok());
    REQUIRE(w.enforcer.RunDue(api_now).ok());
    CHECK(w.Deletes() == 0);
    REQUIRE(w.enforcer.NextDue(api_now));
    CHECK(*w.enforcer.NextDue(api_now) == api_now + 10s);
    w.clock.Advance(10s);
    REQUIRE(w.enforcer.RunDue(api_now + 10s).ok());
    CHECK(w.Deletes() == 1);
  }
}

TEST_CASE("a retry that cannot go before the next poll is not due (no busy wake-ups)") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.enforcer.NextDue(w.clock.Now()));  // the retry, within the poll interval
  w.clock.Advance(31s);                        // stale: it waits for the next poll
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK_FALSE(w.enforcer.NextDue(w.clock.Now()));
  CHECK(w.enforcer.pending() == 1);
}

TEST_CASE("while the circuit breaker holds, nothing is due") {
  World w;
  w.config.enforcement.max_cancel_fraction = 0.5;
  w.config.enforcement.circuit_breaker_min_jobs = 1;  // trips on 2 jobs
  w.AddJob("job-1");
  w.AddJob("job-2");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());  // 1 of 2: allowed; the DELETE fails and is retried
  REQUIRE(w.enforcer.NextDue(w.clock.Now()));
  w.Violates(1);  // now 2 of 2 would go: the breaker trips
  w.clock.Advance(5s);
  REQUIRE(w.Cycle().ok());
  CHECK_FALSE(w.enforcer.NextDue(w.clock.Now()));
  CHECK(w.Deletes() == 1);
}

// ---- The gate: every DELETE re-decided right before it is sent ------------

TEST_CASE("gate: dry run turned on by a reload withdraws a retry waiting in backoff") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Deletes() == 1);
  REQUIRE(w.enforcer.pending() == 1);
  Config dry = w.config;
  dry.enforcement.dry_run = true;
  w.enforcer.SetConfig(&dry, false);  // SIGHUP
  w.clock.Advance(5s);                // the retry is due, the data still fresh
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.enforcer.pending() == 0);
  auto results = w.audit.Of("cancel_result");
  REQUIRE_FALSE(results.empty());
  CHECK(results.back().outcome == "withdrawn");
  CHECK(results.back().message.find("dry run") != std::string::npos);
}

TEST_CASE("gate: a restart with --dry-run never sends a pending cancellation of the state") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.enforcer.pending() == 1);
  // A new process over the same state, run --dry-run.
  Enforcer restarted(w.api, w.audit, w.state, &w.observer, 7);
  restarted.SetConfig(&w.config, true);
  w.clock.Advance(5s);
  std::size_t running = 1;
  CycleView view{&w.jobs, &w.findings, true, running, w.clock.Now()};
  REQUIRE(restarted.Decide(view, w.clock.Now()).ok());
  REQUIRE(restarted.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(restarted.pending() == 0);
  CHECK(w.audit.Of("cancel_result").back().outcome == "withdrawn");
}

TEST_CASE("gate: a reload that exempts a pending job withdraws it before its retry") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.enforcer.pending() == 1);
  // Re-judged under the new config: no cancelling finding any more.
  std::vector<Finding> none;
  CycleView view{&w.jobs, &none, true, 1, w.clock.Now(), false};
  REQUIRE(w.enforcer.Rejudge(view, w.clock.Now()).ok());
  CHECK(w.enforcer.pending() == 0);
  CHECK(w.audit.Of("cancel_result").back().outcome == "withdrawn");
  w.clock.Advance(5s);
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
}

TEST_CASE("gate: a pending job of an iTwin no longer watched is withdrawn") {
  World w;
  w.AddJob("job-1");
  w.jobs[0].itwin_id = "itwin-a";
  w.config.watch.itwins = {"itwin-a", "itwin-b"};
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.enforcer.pending() == 1);
  Config fewer = w.config;
  fewer.watch.itwins = {"itwin-b"};
  w.enforcer.SetConfig(&fewer, false);
  w.clock.Advance(5s);
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.enforcer.pending() == 0);
  CHECK(w.audit.Of("cancel_result").back().message.find("no longer watched") != std::string::npos);
}

TEST_CASE("gate: a deadline re-check shares the poll's max_cancels_per_cycle") {
  World w;
  w.config.enforcement.max_cancels_per_cycle = 1;
  w.AddJob("job-1");
  w.AddJob("job-2");
  w.AddJob("job-3");
  w.Violates(0);
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.Deletes() == 1);
  // Between polls job-2 crosses its limit: a re-check of the same poll.
  w.findings.clear();
  w.Violates(1);
  w.clock.Advance(10s);
  CycleView view{&w.jobs, &w.findings, true, 3, w.clock.Now(), false};
  REQUIRE(w.enforcer.Decide(view, w.clock.Now()).ok());
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.observer.blocked["max_per_cycle"] == 1);
}

TEST_CASE("gate: a breaker tripped at the poll holds the re-checks until the next poll") {
  World w;
  w.config.enforcement.max_cancel_fraction = 0.5;
  for (int i = 0; i < 6; ++i) w.AddJob("job-" + std::to_string(i));
  for (std::uint32_t i = 0; i < 5; ++i) w.Violates(i);
  REQUIRE(w.Cycle().ok());
  CHECK(w.observer.blocked["circuit_breaker"] == 5);
  // A re-check finds one more crossing job: 1 of 6 alone would pass the
  // breaker, but the poll's trip holds.
  w.findings.clear();
  w.Violates(5);
  w.clock.Advance(10s);
  CycleView view{&w.jobs, &w.findings, true, 6, w.clock.Now(), false};
  REQUIRE(w.enforcer.Decide(view, w.clock.Now()).ok());
  REQUIRE(w.enforcer.RunDue(w.clock.Now()).ok());
  CHECK(w.http.requests().empty());
  CHECK(w.observer.blocked["circuit_breaker"] == 6);
}

TEST_CASE("a DELETE answered 200 with the job Cancelled is cancelled, and confirmed") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(200, JobBody("job-1", "Cancelled"));
  REQUIRE(w.Cycle().ok());
  auto results = w.audit.Of("cancel_result");
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == "cancelled");
  CHECK(w.audit.Of("cancel_confirmed").size() == 1);
  CHECK(w.observer.outcomes == std::vector<std::string>{"cancelled"});
  CHECK(w.observer.confirmed.size() == 1);
  CHECK(w.enforcer.pending() == 0);
}

TEST_CASE("a pending cancellation whose job a complete listing no longer shows is withdrawn") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  REQUIRE(w.enforcer.pending() == 1);
  w.jobs.clear();
  w.findings.clear();
  w.clock.Advance(30s);
  REQUIRE(w.Cycle().ok());
  CHECK(w.enforcer.pending() == 0);
  CHECK(w.audit.Of("cancel_result").back().outcome == "withdrawn");
  CHECK(w.Deletes() == 1);
}

TEST_CASE("an audit failure holds sends back for a while instead of spinning") {
  World w;
  w.AddJob("job-1");
  w.Violates(0);
  w.http.Respond(503, "");
  REQUIRE(w.Cycle().ok());
  w.clock.Advance(5s);
  w.audit.fail = true;
  CHECK_FALSE(w.enforcer.RunDue(w.clock.Now()).ok());
  std::optional<TimePoint> due = w.enforcer.NextDue(w.clock.Now());
  REQUIRE(due);
  CHECK(*due >= w.clock.Now() + Enforcer::kAuditRetry);
}

TEST_CASE("a once-only marker is set only after its line is on disk") {
  World w;
  w.AddJob("job-1");
  w.Violates(0, false);  // a violation that does not cancel (exempt, say)
  w.audit.fail = true;
  CHECK_FALSE(w.Cycle().ok());
  w.audit.fail = false;
  w.clock.Advance(Enforcer::kAuditRetry + 1s);
  REQUIRE(w.Cycle().ok());
  CHECK(w.audit.Of("violation").size() == 1);
}

TEST_CASE("a job listed twice is recorded and cancelled once") {
  World w;
  w.AddJob("job-1");
  w.AddJob("job-1");
  w.Violates(0);
  w.Violates(1);
  w.http.Respond(200, JobBody("job-1", "TerminatingOnCancel"));
  REQUIRE(w.Cycle().ok());
  CHECK(w.Deletes() == 1);
  CHECK(w.audit.Of("violation").size() == 1);
  CHECK(w.enforcer.pending() == 1);
}
