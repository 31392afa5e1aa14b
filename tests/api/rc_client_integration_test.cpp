// RealityConversionClient + CurlHttpClient against the simulator
// (tests/sim/rc_sim.py) over loopback HTTP and HTTPS.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "api/sim_fixture.h"
#include "fakes/fake_clock.h"
#include "json/decode.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

void ListsThreePages(bool tls) {
  SimProcess sim({.tls = tls});
  REQUIRE(sim.ok());
  INFO(sim.error());
  MustControl(sim, "POST", "/_sim/jobs",
              R"({"generate":{"count":25,"seed":7,"itwins":[")" + std::string(kSimItwin) +
                  R"("],"created_ago":[60,86400],"null_name_fraction":0.2}})");
  SystemClock clock;
  SimClient c(sim, clock);
  std::set<std::string> ids;
  int active_or_queued = 0;
  ApiResult<ListStats> stats = c.client.ListJobs(SimQuery(10), [&](Job&& job) {
    ids.insert(job.id.str());
    if (IsRunning(job.state)) ++active_or_queued;
    CHECK(job.itwin_id == kSimItwin);
    CHECK(job.type != JobType::kUnknown);
  });
  INFO((stats.ok() ? "" : stats.error().ToString()));
  REQUIRE(stats.ok());
  CHECK(stats->pages == 3);
  CHECK(stats->jobs == 25);
  CHECK(ids.size() == 25);  // no job twice, none lost
  CHECK(LoggedRequests(sim, "list_jobs") == 3);
  CHECK(LoggedRequests(sim, "token") == 1);
  std::string log = MustControl(sim, "GET", "/_sim/requests?op=list_jobs");
  CHECK(CountOf(log, R"("accept":"application/vnd.bentley.itwin-platform.v2+json")") == 3);
  CHECK(CountOf(log, R"("user_agent":"rc-watchdog/)") == 3);
  CHECK(CountOf(log, R"("authorized":true)") == 3);
  REQUIRE(c.observer.responses.size() == 4);  // token + 3 pages
  CHECK(c.observer.server_dates.size() == 4);
}

}  // namespace

TEST_CASE("listing pages through the simulator over HTTP", "[integration]") {
  ListsThreePages(false);
}

TEST_CASE("listing pages through the simulator over HTTPS", "[integration]") {
  ListsThreePages(true);
}

TEST_CASE("tokens are renewed before expiry and after a 401", "[integration]") {
  SimProcess sim({.extra_args = {"--token-lifetime", "600"}});
  REQUIRE(sim.ok());
  MustControl(sim, "POST", "/_sim/jobs", R"({"jobs":[)" + JobSpec("job-a", 60, 0, 7200) + "]}");
  FakeClock clock;  // the client's view of time; the simulator keeps its own
  SimClient c(sim, clock);
  REQUIRE(c.client.GetJob("job-a").ok());
  CHECK(LoggedRequests(sim, "token") == 1);

  // Past half of the 600 s lifetime: renewed before use, no 401 needed.
  clock.Advance(301s);
  MustControl(sim, "POST", "/_sim/clock", R"({"advance":301})");
  REQUIRE(c.client.GetJob("job-a").ok());
  CHECK(LoggedRequests(sim, "token") == 2);

  // The server expires the token early (our clock disagrees): one 401, one
  // renewal, one retry, success.
  MustControl(sim, "DELETE", "/_sim/tokens");
  ApiResult<Job> job = c.client.GetJob("job-a");
  INFO((job.ok() ? "" : job.error().ToString()));
  REQUIRE(job.ok());
  CHECK(LoggedRequests(sim, "token") == 3);
  CHECK(LoggedRequests(sim, "get_job") == 4);
  CHECK(CountOf(MustControl(sim, "GET", "/_sim/requests?op=get_job"), R"("status":401)") == 1);
}

TEST_CASE("wrong client credentials: unauthorized, nothing sent, no secret shown",
          "[integration]") {
  SimProcess sim;
  REQUIRE(sim.ok());
  SystemClock clock;
  SimClient c(sim, clock, {}, "not-the-secret");
  ApiResult<Job> r = c.client.CancelJob("job-a");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().outcome == ApiOutcome::kUnauthorized);
  CHECK_FALSE(r.error().sent);
  CHECK_THAT(r.error().message,
             Catch::Contains("invalid_client") && Catch::Contains(sim.token_url()));
  CHECK(r.error().ToString().find("not-the-secret") == std::string::npos);
  CHECK(LoggedRequests(sim, "cancel_job") == 0);
}

TEST_CASE("every DELETE outcome of the simulator", "[integration]") {
  SimProcess sim;
  REQUIRE(sim.ok());
  MustControl(sim, "POST", "/_sim/jobs",
              R"({"jobs":[)" + JobSpec("active-1", 600, 60, 7200) + "," +
                  JobSpec("saving-1", 100, 0, 120, 60) + "," + JobSpec("done-1", 900, 0, 60) +
                  "]}");
  SystemClock clock;
  SimClient c(sim, clock);

  ApiResult<Job> cancelled = c.client.CancelJob("active-1");
  INFO((cancelled.ok() ? "" : cancelled.error().ToString()));
  REQUIRE(cancelled.ok());
  CHECK(cancelled->id == "active-1");
  CHECK(cancelled->state == JobState::kTerminatingOnCancel);

  ApiResult<Job> again = c.client.CancelJob("active-1");  // idempotent while terminating
  REQUIRE(again.ok());
  CHECK(again->state == JobState::kTerminatingOnCancel);

  ApiResult<Job> missing = c.client.CancelJob("00000000-0000-4000-a000-000000000000");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().outcome == ApiOutcome::kNotFound);
  CHECK(missing.error().code == "JobNotFound");
  CHECK(missing.error().http_status == 404);
  CHECK_FALSE(missing.error().correlation_id.empty());

  ApiResult<Job> saving = c.client.CancelJob("saving-1");
  REQUIRE_FALSE(saving.ok());
  CHECK(saving.error().outcome == ApiOutcome::kNotCancellable);
  CHECK(saving.error().detail_codes == std::vector<std::string>{"InvalidChange"});
  CHECK_THAT(saving.error().message, Catch::Contains("saving the data"));

  ApiResult<Job> done = c.client.CancelJob("done-1");
  REQUIRE_FALSE(done.ok());
  CHECK(done.error().outcome == ApiOutcome::kNotCancellable);
  CHECK(done.error().http_status == 422);

  MustControl(sim, "POST", "/_sim/clock", R"({"advance":60})");
  ApiResult<Job> later = c.client.GetJob("active-1");
  REQUIRE(later.ok());
  CHECK(later->state == JobState::kCancelled);
  CHECK(later->ended.has_value());
}

TEST_CASE("a 429 closes the gate until retry-after has passed", "[integration]") {
  SimProcess sim;
  REQUIRE(sim.ok());
  MustControl(sim, "POST", "/_sim/jobs", R"({"jobs":[)" + JobSpec("job-a", 600, 60, 7200) + "]}");
  SystemClock clock;
  SimClient c(sim, clock);
  REQUIRE(c.client.GetJob("job-a").ok());  // the token is in hand
  MustControl(
      sim, "POST", "/_sim/faults",
      R"({"rules":[{"match":{"op":"cancel_job"},"kind":"ratelimit","retry_after":2,"count":1}]})");

  ApiResult<Job> limited = c.client.CancelJob("job-a");
  REQUIRE_FALSE(limited.ok());
  CHECK(limited.error().outcome == ApiOutcome::kRateLimited);
  CHECK(limited.error().sent);
  CHECK(limited.error().retry_after == 2s);
  CHECK(limited.error().code == "RateLimitExceeded");
  REQUIRE(c.observer.rate_limited.size() == 1);

  ApiResult<Job> held = c.client.CancelJob("job-a");
  REQUIRE_FALSE(held.ok());
  CHECK(held.error().outcome == ApiOutcome::kRateLimited);
  CHECK_FALSE(held.error().sent);
  CHECK(held.error().retry_after <= 2s);
  CHECK(LoggedRequests(sim, "cancel_job") == 1);

  // The one real wait of the suite: the gate runs on the real clock here.
  std::optional<TimePoint> open_at = c.gate.NotBefore(Priority::kHigh);
  REQUIRE(open_at.has_value());
  std::this_thread::sleep_until(*open_at + 50ms);
  ApiResult<Job> after = c.client.CancelJob("job-a");
  INFO((after.ok() ? "" : after.error().ToString()));
  REQUIRE(after.ok());
  CHECK(after->state == JobState::kTerminatingOnCancel);
  std::string log = MustControl(sim, "GET", "/_sim/requests");
  CHECK(CountOf(log, R"("early":true)") == 0);  // nothing arrived before retry-after
}

TEST_CASE("server errors, resets, hangs and bad bodies give typed errors", "[integration]") {
  SimProcess sim;
  REQUIRE(sim.ok());
  MustControl(sim, "POST", "/_sim/jobs", R"({"jobs":[)" + JobSpec("job-a", 600, 60, 7200) + "]}");
  SystemClock clock;
  CurlOptions curl;
  curl.timeout = 2s;
  curl.max_body_bytes = 1u << 20;
  SimClient c(sim, clock, curl);
  REQUIRE(c.client.GetJob("job-a").ok());
  auto fault = [&](const std::string& rule) {
    MustControl(sim, "POST", "/_sim/faults", R"({"rules":[)" + rule + "]}");
  };
  auto list_error = [&]() {
    ApiResult<ListStats> r = c.client.ListJobs(SimQuery(), [](Job&&) {});
    REQUIRE_FALSE(r.ok());
    return r.error();
  };

  fault(R"({"match":{"op":"get_job"},"kind":"status","status":503,"count":1})");
  ApiResult<Job> unavailable = c.client.GetJob("job-a");
  REQUIRE_FALSE(unavailable.ok());
  CHECK(unavailable.error().outcome == ApiOutcome::kServerError);
  CHECK(unavailable.error().http_status == 503);
  CHECK(unavailable.error().code == "ServiceUnavailable");

  // Two resets: libcurl silently repeats a request once when a reused
  // connection dies before any byte of the answer.
  fault(R"({"match":{"op":"list_jobs"},"kind":"reset","count":2})");
  ApiError reset = list_error();
  CHECK(reset.outcome == ApiOutcome::kTransportError);
  CHECK(reset.http_status == 0);
  CHECK_THAT(reset.message, Catch::Contains("connection reset"));

  fault(R"({"match":{"op":"cancel_job"},"kind":"hang","hang_seconds":5,"count":1})");
  auto start = std::chrono::steady_clock::now();
  ApiResult<Job> hung = c.client.CancelJob("job-a");
  REQUIRE_FALSE(hung.ok());
  CHECK(hung.error().outcome == ApiOutcome::kTransportError);
  CHECK(hung.error().sent);
  CHECK_THAT(hung.error().message, Catch::Contains("timeout after 2s"));
  CHECK(std::chrono::steady_clock::now() - start < 4s);

  fault(R"({"match":{"op":"list_jobs"},"kind":"malformed","count":1})");
  ApiError malformed = list_error();
  CHECK(malformed.outcome == ApiOutcome::kBadResponse);
  CHECK(malformed.http_status == 200);
  CHECK_THAT(malformed.message,
             Catch::StartsWith("list_jobs page 1: bad response: body is not valid JSON"));

  fault(R"({"match":{"op":"list_jobs"},"kind":"truncated","count":1})");
  CHECK(list_error().outcome == ApiOutcome::kBadResponse);

  fault(R"({"match":{"op":"list_jobs"},"kind":"deep","depth":100000,"count":1})");
  CHECK_THAT(list_error().message, Catch::Contains("nested deeper"));

  fault(R"({"match":{"op":"list_jobs"},"kind":"huge","bytes":3000000,"count":1})");
  ApiError huge = list_error();
  CHECK(huge.outcome == ApiOutcome::kBadResponse);
  CHECK_THAT(huge.message, Catch::Contains("response body larger than 1048576 bytes"));

  fault(R"({"match":{"op":"list_jobs"},"kind":"loop_link","count":1})");
  CHECK_THAT(list_error().message, Catch::Contains("paging loop"));

  // After all that, the same client still works.
  MustControl(sim, "DELETE", "/_sim/faults");
  ApiResult<Job> fine = c.client.GetJob("job-a");
  INFO((fine.ok() ? "" : fine.error().ToString()));
  CHECK(fine.ok());
}

TEST_CASE("the simulator accepts our state and creation-time filters", "[integration]") {
  SimProcess sim;
  REQUIRE(sim.ok());
  MustControl(sim, "POST", "/_sim/jobs",
              R"({"jobs":[)" + JobSpec("old-active", 7200, 60, 86400) + "," +
                  JobSpec("new-active", 600, 60, 86400) + "," +
                  JobSpec("new-queued", 300, 3600, 60) + "," + JobSpec("new-done", 900, 0, 60) +
                  "]}");
  FakeClock clock;  // only for "created after"; the simulator runs on real time
  clock.Set(std::chrono::system_clock::now());
  SimClient c(sim, clock);
  ListQuery q = SimQuery();
  q.created_after = clock.Now() - 3600s;
  q.states = {JobState::kQueued, JobState::kActive};
  std::set<std::string> ids;
  ApiResult<ListStats> stats = c.client.ListJobs(q, [&](Job&& job) { ids.insert(job.id.str()); });
  INFO((stats.ok() ? "" : stats.error().ToString()));
  REQUIRE(stats.ok());
  CHECK(ids == std::set<std::string>{"new-active", "new-queued"});
  // The server applied the filter too (the client drops other states as well):
  // the raw answer to our URL holds exactly these two jobs.
  Result<std::string> url = BuildListUrl(sim.base_url(), q);
  REQUIRE(url.ok());
  Result<std::string> bearer = c.tokens.BearerToken();
  REQUIRE(bearer.ok());
  Result<HttpResponse> raw =
      c.http.Send(HttpRequest{"GET", *url, {{"Authorization", *bearer}}, {}});
  REQUIRE(raw.ok());
  REQUIRE(raw->status == 200);
  int raw_jobs = 0;
  std::optional<std::string> next;
  REQUIRE(DecodeJobPage(
              raw->body, [&](Job&&) { ++raw_jobs; }, next)
              .ok());
  CHECK(raw_jobs == 2);
  q.states = {JobState::kActive};
  ids.clear();
  REQUIRE(c.client.ListJobs(q, [&](Job&& job) { ids.insert(job.id.str()); }).ok());
  CHECK(ids == std::set<std::string>{"new-active"});
}
