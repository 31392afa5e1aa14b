#include "api/rc_client.h"

#include <catch2/catch.hpp>
#include <set>

#include "base/timefmt.h"
#include "base/version.h"
#include "fakes/fake_api.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"
#include "fakes/fake_job_server.h"
#include "fakes/test_files.h"

using namespace rcw;
using namespace std::chrono_literals;
using namespace rcw::testing;

namespace {

constexpr const char* kBase = "https://api.bentley.com/reality-conversion";
constexpr const char* kJobId = "5e315451-564e-4e8b-a952-45b14e6a9c90";

std::string JobJson(const std::string& id, const std::string& state = "Active") {
  return R"({"id":")" + id + R"(","state":")" + state +
         R"(","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})";
}

std::string PageJson(const std::vector<std::string>& ids, const std::string& next = "") {
  std::string body = R"({"jobs":[)";
  for (size_t i = 0; i < ids.size(); ++i) body += (i ? "," : "") + JobJson(ids[i]);
  body += "]";
  if (!next.empty()) body += R"(,"_links":{"next":{"href":")" + next + R"("}})";
  return body + "}";
}

struct Fixture {
  explicit Fixture(GateOptions gate_options = {}, std::string base = std::string(kBase) + "/")
      : gate(clock, gate_options),
        client(http, tokens, gate, clock, &observer, ClientOptions{std::move(base)}) {}

  // Every error must be free of the bearer token.
  template <class T>
  ApiError MustFail(const ApiResult<T>& r) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().ToString().find("token-") == std::string::npos);
    CHECK(r.error().outcome != ApiOutcome::kOk);
    return r.error();
  }

  ApiResult<ListStats> List(const ListQuery& q, std::vector<std::string>& ids) {
    return client.ListJobs(q, [&](Job&& job) { ids.push_back(job.id.str()); });
  }

  FakeClock clock;
  RequestGate gate;
  FakeHttpClient http;
  FakeTokenSource tokens;
  RecordingObserver observer;
  RealityConversionClient client;
};

ListQuery ItwinQuery() {
  ListQuery q;
  q.itwin_id = "ce54f773-67db-4b4f-a98b-368329107429";
  return q;
}

}  // namespace

TEST_CASE("base URLs: v2 accepted, v1 refused by name, junk refused") {
  for (const char* ok :
       {"https://api.bentley.com/reality-conversion", "https://api.bentley.com/reality-conversion/",
        "http://127.0.0.1:8080", "https://dev-api.bentley.com/reality-conversion"}) {
    INFO(ok);
    CHECK(RealityConversionClient::ValidateBaseUrl(ok).ok());
  }
  Status v1 =
      RealityConversionClient::ValidateBaseUrl("https://api.bentley.com/realityconversion/");
  CHECK(v1.code() == StatusCode::kInvalidConfig);
  CHECK_THAT(v1.message(), Catch::Contains("v1") && Catch::Contains("/reality-conversion") &&
                               Catch::Contains("DELETE deletes"));
  CHECK_FALSE(RealityConversionClient::ValidateBaseUrl("https://h/RealityConversion").ok());
  CHECK_FALSE(RealityConversionClient::ValidateBaseUrl("https://h/realityconversion/jobs").ok());
  for (const char* bad : {"ftp://h/reality-conversion", "api.bentley.com/reality-conversion",
                          "https://h/reality-conversion?x=1", "https://h/rc#frag",
                          "https://user:pw@h/reality-conversion", ""}) {
    INFO(bad);
    CHECK(RealityConversionClient::ValidateBaseUrl(bad).code() == StatusCode::kInvalidConfig);
  }
}

TEST_CASE("a client on a v1 base URL sends nothing") {
  Fixture f({}, "https://api.bentley.com/realityconversion");
  ApiError e = f.MustFail(f.client.CancelJob(kJobId));
  CHECK(e.outcome == ApiOutcome::kClientError);
  CHECK_FALSE(e.sent);
  CHECK_THAT(e.message, Catch::Contains("v1"));
  std::vector<std::string> ids;
  CHECK_FALSE(f.List(ItwinQuery(), ids).ok());
  CHECK(f.http.requests().empty());
}

TEST_CASE("requests carry the bearer token, the v2 Accept header and the user agent") {
  Fixture f;
  f.http.Respond(200, R"({"job":)" + JobJson(kJobId) + "}");
  ApiResult<Job> job = f.client.GetJob(kJobId);
  REQUIRE(job.ok());
  CHECK(job->id == kJobId);
  CHECK(job->state == JobState::kActive);
  const HttpRequest& req = f.http.last();
  CHECK(req.method == "GET");
  CHECK(req.url == std::string(kBase) + "/jobs/" + kJobId);
  CHECK(f.http.RequestHeader(0, "Authorization") == "Bearer token-1");
  CHECK(f.http.RequestHeader(0, "Accept") == "application/vnd.bentley.itwin-platform.v2+json");
  CHECK(f.http.RequestHeader(0, "User-Agent") == std::string("rc-watchdog/") + kVersion);
  REQUIRE(f.observer.responses.size() == 1);
  CHECK(f.observer.responses[0].op == ApiOperation::kGetJob);
}

TEST_CASE("cancel sends DELETE and decodes the seed's 200 body") {
  Fixture f;
  f.http.Respond(200, ReadSourceFile("tests/data/api/cancel_200.json"),
                 {{"date", "Sun, 05 Apr 2026 14:05:00 GMT"}});
  ApiResult<Job> job = f.client.CancelJob(kJobId);
  REQUIRE(job.ok());
  CHECK(job->state == JobState::kTerminatingOnCancel);
  CHECK(f.http.last().method == "DELETE");
  CHECK(f.http.last().url == std::string(kBase) + "/jobs/" + kJobId);
  CHECK(f.http.last().body.empty());
  REQUIRE(f.observer.server_dates.size() == 1);
  CHECK(f.observer.responses.at(0).op == ApiOperation::kCancelJob);
}

TEST_CASE("every status maps to its outcome with the envelope's details") {
  struct Case {
    long status;
    std::string body;
    ApiOutcome outcome;
    std::string code;
  };
  std::vector<Case> cases = {
      {404, ReadSourceFile("tests/data/api/cancel_404.json"), ApiOutcome::kNotFound, "JobNotFound"},
      {422, ReadSourceFile("tests/data/api/cancel_422.json"), ApiOutcome::kNotCancellable,
       "InvalidRealityConversionRequest"},
      {422, R"({"error":{"code":"InvalidChange","message":"too late"}})",
       ApiOutcome::kNotCancellable, "InvalidChange"},
      {422,
       R"({"error":{"code":"InvalidRealityConversionRequest","details":[{"code":"InvalidProperty"}]}})",
       ApiOutcome::kClientError, "InvalidRealityConversionRequest"},
      {400,
       R"({"error":{"code":"InvalidRealityConversionRequest","details":[{"code":"InvalidChange"}]}})",
       ApiOutcome::kClientError, "InvalidRealityConversionRequest"},
      {403, R"({"error":{"code":"InsufficientPermissions","message":"no"}})",
       ApiOutcome::kForbidden, "InsufficientPermissions"},
      {409, "", ApiOutcome::kClientError, ""},
      {500, "", ApiOutcome::kServerError, ""},
      {502, "<html>Bad Gateway</html>", ApiOutcome::kServerError, ""},
      {503, R"({"error":{"code":"ServiceUnavailable"}})", ApiOutcome::kServerError,
       "ServiceUnavailable"},
      {302, "", ApiOutcome::kBadResponse, ""},
      {204, "", ApiOutcome::kBadResponse, ""},
  };
  for (const Case& c : cases) {
    Fixture f;
    f.http.Respond(c.status, c.body, {{"x-correlation-id", "corr-7"}});
    INFO(c.status << " " << c.body);
    ApiError e = f.MustFail(f.client.CancelJob(kJobId));
    CHECK(e.outcome == c.outcome);
    CHECK(e.http_status == c.status);
    CHECK(e.code == c.code);
    CHECK(e.correlation_id == "corr-7");
    CHECK(e.sent);
    CHECK_THAT(e.message, Catch::StartsWith(std::string("cancel_job ") + kJobId + ": HTTP " +
                                            std::to_string(c.status)));
    CHECK(f.tokens.invalidations == 0);
  }
}

TEST_CASE("the 422 InvalidChange message carries the server's reason") {
  Fixture f;
  f.http.Respond(422, ReadSourceFile("tests/data/api/cancel_422.json"));
  ApiError e = f.MustFail(f.client.CancelJob(kJobId));
  CHECK(e.detail_codes == std::vector<std::string>{"InvalidChange"});
  CHECK_THAT(e.message, Catch::Contains("Cancellation is not allowed during this period."));
}

TEST_CASE("429 blocks the gate for retry-after seconds and later calls are held back") {
  Fixture f;
  f.http.Respond(429, ReadSourceFile("tests/data/api/cancel_429.json"), {{"retry-after", "15"}});
  TimePoint start = f.clock.Now();
  ApiError e = f.MustFail(f.client.CancelJob(kJobId));
  CHECK(e.outcome == ApiOutcome::kRateLimited);
  CHECK(e.code == "RateLimitExceeded");
  CHECK(e.retry_after == 15s);
  CHECK(e.sent);
  REQUIRE(f.observer.rate_limited.size() == 1);

  f.clock.Advance(10s);
  ApiError held = f.MustFail(f.client.CancelJob(kJobId));
  CHECK(held.outcome == ApiOutcome::kRateLimited);
  CHECK_FALSE(held.sent);
  CHECK(held.retry_after == 5s);
  CHECK(f.http.requests().size() == 1);
  CHECK(f.tokens.calls == 1);  // not even a token was asked for

  f.clock.Set(start + 15s);
  f.http.Respond(200, R"({"job":)" + JobJson(kJobId, "TerminatingOnCancel") + "}");
  CHECK(f.client.CancelJob(kJobId).ok());
}

TEST_CASE("retry-after as an HTTP date, and the iTwin header when larger") {
  Fixture f;
  f.http.Respond(429, "", {{"retry-after", FormatHttpDate(f.clock.Now() + 40s)}});
  CHECK(f.MustFail(f.client.GetJob(kJobId)).retry_after == 40s);
  CHECK(f.gate.NotBefore(Priority::kHigh) == f.clock.Now() + 40s);

  Fixture g;
  g.http.Respond(429, "",
                 {{"retry-after", "5"}, {"itwinplatform-ratelimit-retry-after-seconds", "25"}});
  CHECK(g.MustFail(g.client.GetJob(kJobId)).retry_after == 25s);
  Fixture h;
  h.http.Respond(429, "");
  CHECK(h.MustFail(h.client.GetJob(kJobId)).retry_after == 60s);
}

TEST_CASE("401 renews the token and retries exactly once") {
  Fixture f;
  f.http.Respond(401, ReadSourceFile("tests/data/api/cancel_401.json"));
  f.http.Respond(200, R"({"job":)" + JobJson(kJobId, "TerminatingOnCancel") + "}");
  ApiResult<Job> job = f.client.CancelJob(kJobId);
  REQUIRE(job.ok());
  CHECK(f.tokens.invalidations == 1);
  REQUIRE(f.http.requests().size() == 2);
  CHECK(f.http.RequestHeader(0, "Authorization") == "Bearer token-1");
  CHECK(f.http.RequestHeader(1, "Authorization") == "Bearer token-2");
  CHECK(f.http.requests()[1].method == "DELETE");

  Fixture g;
  g.http.Respond(401, "").Respond(401, ReadSourceFile("tests/data/api/cancel_401.json"));
  ApiError e = g.MustFail(g.client.CancelJob(kJobId));
  CHECK(e.outcome == ApiOutcome::kUnauthorized);
  CHECK(e.code == "HeaderNotFound");
  CHECK(g.http.requests().size() == 2);
  CHECK(g.tokens.invalidations == 1);
}

TEST_CASE("no token: nothing is sent and the outcome says why") {
  struct Case {
    StatusCode code;
    ApiOutcome outcome;
  };
  for (Case c : {Case{StatusCode::kPermissionDenied, ApiOutcome::kUnauthorized},
                 Case{StatusCode::kUnavailable, ApiOutcome::kTransportError},
                 Case{StatusCode::kBadResponse, ApiOutcome::kBadResponse},
                 Case{StatusCode::kRateLimited, ApiOutcome::kRateLimited}}) {
    Fixture f;
    f.tokens.Fail(Status(c.code, "token endpoint said no"));
    ApiError e = f.MustFail(f.client.CancelJob(kJobId));
    CHECK(e.outcome == c.outcome);
    CHECK_FALSE(e.sent);
    CHECK_THAT(e.message, Catch::Contains("no access token: token endpoint said no"));
    CHECK(f.http.requests().empty());
  }
}

TEST_CASE("transport failures and oversized bodies") {
  Fixture f;
  f.http.Fail(Status(StatusCode::kUnavailable, "connection reset"));
  ApiError e = f.MustFail(f.client.CancelJob(kJobId));
  CHECK(e.outcome == ApiOutcome::kTransportError);
  CHECK(e.http_status == 0);
  CHECK(e.sent);  // the DELETE may have arrived
  CHECK(e.message == std::string("cancel_job ") + kJobId + ": connection reset");
  REQUIRE(f.observer.responses.size() == 1);
  CHECK(f.observer.responses[0].http_status == 0);

  f.http.Fail(Status(StatusCode::kBadResponse, "response body larger than 10 bytes"));
  CHECK(f.MustFail(f.client.GetJob(kJobId)).outcome == ApiOutcome::kBadResponse);
}

TEST_CASE("a 200 that cannot be used is a bad response naming the operation") {
  Fixture f;
  f.http.Respond(200, R"({"job":{"id":"x"})");
  ApiError e = f.MustFail(f.client.GetJob(kJobId));
  CHECK(e.outcome == ApiOutcome::kBadResponse);
  CHECK(e.http_status == 200);
  CHECK_THAT(e.message, Catch::StartsWith(std::string("get_job ") + kJobId + ": bad response: "));

  f.http.Respond(200, R"({"job":)" + JobJson("another-job") + "}");
  CHECK_THAT(f.MustFail(f.client.CancelJob(kJobId)).message,
             Catch::Contains("the answer is about job another-job"));
  f.http.Respond(200, R"({"job":)" + JobJson("5E315451-564E-4E8B-A952-45B14E6A9C90") + "}");
  CHECK(f.client.GetJob(kJobId).ok());  // GUID case does not matter
}

TEST_CASE("job ids outside [A-Za-z0-9-] are refused without sending") {
  Fixture f;
  for (const char* id : {"", "../jobs", "a b", "x?y=1", "5e31%2F"}) {
    INFO(id);
    ApiError e = f.MustFail(f.client.CancelJob(id));
    CHECK(e.outcome == ApiOutcome::kClientError);
    CHECK_FALSE(e.sent);
  }
  CHECK(f.http.requests().empty());
  CHECK(f.tokens.calls == 0);
}

TEST_CASE("cancellations get the slots that listing may not use") {
  Fixture f({.max_per_minute = 10, .max_per_hour = 1000, .reserve = 0.2});
  for (int i = 0; i < 8; ++i) f.gate.OnSent(f.clock.Now());
  std::vector<std::string> ids;
  ApiError e = f.MustFail(f.List(ItwinQuery(), ids));
  CHECK(e.outcome == ApiOutcome::kRateLimited);
  CHECK_FALSE(e.sent);
  CHECK(e.retry_after == 60s);
  CHECK(f.http.requests().empty());
  CHECK_FALSE(f.MustFail(f.client.GetJob(kJobId)).sent);
  f.http.Respond(200, R"({"job":)" + JobJson(kJobId, "TerminatingOnCancel") + "}");
  CHECK(f.client.CancelJob(kJobId).ok());
}

TEST_CASE("listing follows next links over three pages") {
  Fixture f;
  std::string page2 = std::string(kBase) + "/jobs?$top=2&continuationToken=p2";
  std::string page3 = std::string(kBase) + "/jobs?$top=2&continuationToken=p3";
  f.http.Respond(200, PageJson({"a", "b"}, page2));
  f.http.Respond(200, PageJson({"c", "d"}, page3));
  f.http.Respond(200, PageJson({"e"}));
  ListQuery q = ItwinQuery();
  q.page_size = 2;
  std::vector<std::string> ids;
  ApiResult<ListStats> stats = f.List(q, ids);
  REQUIRE(stats.ok());
  CHECK(stats->pages == 3);
  CHECK(stats->jobs == 5);
  CHECK(ids == std::vector<std::string>{"a", "b", "c", "d", "e"});
  REQUIRE(f.http.requests().size() == 3);
  CHECK(f.http.requests()[0].url == std::string(kBase) +
                                        "/jobs?$filter=iTwinId%20eq%20"
                                        "ce54f773-67db-4b4f-a98b-368329107429&$top=2");
  CHECK(f.http.requests()[1].url == page2);
  CHECK(f.http.requests()[2].url == page3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(f.http.RequestHeader(i, "Authorization") == "Bearer token-1");
    CHECK(f.http.requests()[i].method == "GET");
  }
  CHECK(f.observer.responses.size() == 3);
}

TEST_CASE("a failing page makes the listing an error after the earlier jobs") {
  Fixture f;
  f.http.Respond(200, PageJson({"a"}, std::string(kBase) + "/jobs?continuationToken=2"));
  f.http.Respond(503, "");
  std::vector<std::string> ids;
  ApiError e = f.MustFail(f.List(ItwinQuery(), ids));
  CHECK(e.outcome == ApiOutcome::kServerError);
  CHECK_THAT(e.message, Catch::StartsWith("list_jobs page 2: HTTP 503"));
  CHECK(ids == std::vector<std::string>{"a"});  // delivered, but the listing is incomplete

  Fixture g;
  g.http.Respond(200, PageJson({"a"}, std::string(kBase) + "/jobs?continuationToken=2"));
  g.http.Respond(
      200, R"({"jobs":[{"id":"b","state":"Active","executionInfo":{"createdDateTime":"later"}}]})");
  ApiError bad = g.MustFail(g.List(ItwinQuery(), ids));
  CHECK(bad.outcome == ApiOutcome::kBadResponse);
  CHECK(bad.message ==
        "list_jobs page 2: bad response: jobs[0].executionInfo.createdDateTime: "
        "\"later\" is not an RFC 3339 timestamp");
}

TEST_CASE("next links to another scheme, host or port are refused before sending") {
  for (const char* href :
       {"https://evil.example/reality-conversion/jobs?continuationToken=x",
        "http://api.bentley.com/reality-conversion/jobs?continuationToken=x",
        "https://api.bentley.com:8443/reality-conversion/jobs?continuationToken=x",
        "https://api.bentley.com@evil.example/reality-conversion/jobs", "//evil.example/jobs",
        "ftp://api.bentley.com/jobs", "jobs?continuationToken=x"}) {
    Fixture f;
    f.http.Respond(200, PageJson({"a"}, href));
    std::vector<std::string> ids;
    INFO(href);
    ApiError e = f.MustFail(f.List(ItwinQuery(), ids));
    CHECK(e.outcome == ApiOutcome::kBadResponse);
    CHECK_THAT(e.message, Catch::StartsWith("list_jobs page 1: bad response: next link"));
    CHECK(f.http.requests().size() == 1);
  }
}

TEST_CASE("relative and unencoded next links stay on the base origin") {
  Fixture f;
  f.http.Respond(200, PageJson({"a"}, "/reality-conversion/jobs?continuationToken=x"));
  f.http.Respond(
      200,
      PageJson({"b"}, "https://API.bentley.com:443/reality-conversion/jobs?$filter=iTwinId eq y"));
  f.http.Respond(200, PageJson({"c"}));
  std::vector<std::string> ids;
  REQUIRE(f.List(ItwinQuery(), ids).ok());
  CHECK(f.http.requests()[1].url ==
        "https://api.bentley.com/reality-conversion/jobs?continuationToken=x");
  CHECK(f.http.requests()[2].url ==
        "https://API.bentley.com:443/reality-conversion/jobs?$filter=iTwinId%20eq%20y");
}

TEST_CASE("paging loops are refused") {
  Fixture self_loop;
  std::string first;
  self_loop.http.set_handler([&](const HttpRequest& r) -> Result<HttpResponse> {
    HttpResponse resp;
    resp.status = 200;
    resp.body = PageJson({"a"}, r.url);  // every page links to itself
    return resp;
  });
  std::vector<std::string> ids;
  ApiError e = self_loop.MustFail(self_loop.List(ItwinQuery(), ids));
  CHECK(e.outcome == ApiOutcome::kBadResponse);
  CHECK_THAT(e.message, Catch::Contains("paging loop"));
  CHECK(self_loop.http.requests().size() == 1);

  Fixture cycle;
  std::string p2 = std::string(kBase) + "/jobs?continuationToken=2";
  std::string p3 = std::string(kBase) + "/jobs?continuationToken=3";
  cycle.http.Respond(200, PageJson({"a"}, p2)).Respond(200, PageJson({"b"}, p3));
  cycle.http.Respond(200, PageJson({"c"}, p2));
  CHECK_THAT(cycle.MustFail(cycle.List(ItwinQuery(), ids)).message,
             Catch::StartsWith("list_jobs page 3: bad response: paging loop"));
  CHECK(cycle.http.requests().size() == 3);
}

TEST_CASE("a listing stops at the page cap") {
  Fixture f({.max_per_minute = 1000000, .max_per_hour = 1000000, .reserve = 0});
  int served = 0;
  f.http.set_handler([&](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse resp;
    resp.status = 200;
    resp.body =
        PageJson({}, std::string(kBase) + "/jobs?continuationToken=" + std::to_string(++served));
    return resp;
  });
  std::vector<std::string> ids;
  ApiError e = f.MustFail(f.List(ItwinQuery(), ids));
  CHECK(e.outcome == ApiOutcome::kBadResponse);
  CHECK_THAT(e.message, Catch::Contains("more than 10000 pages"));
  CHECK(served == RealityConversionClient::kMaxPages);
}

TEST_CASE("jobs in states not asked for are dropped client-side") {
  Fixture f;
  f.http.Respond(200, R"({"jobs":[)" + JobJson("a", "Active") + "," + JobJson("b", "Success") +
                          "," + JobJson("c", "Queued") + "]}");
  ListQuery q = ItwinQuery();
  q.states = {JobState::kQueued, JobState::kActive};
  std::vector<std::string> ids;
  ApiResult<ListStats> stats = f.List(q, ids);
  REQUIRE(stats.ok());
  CHECK(ids == std::vector<std::string>{"a", "c"});
  CHECK(stats->jobs == 2);
  CHECK_THAT(f.http.last().url,
             Catch::Contains("state%20in%20%28%27Queued%27%2C%20%27Active%27%29"));
}

TEST_CASE("an unsafe iTwin id in the query is refused without sending") {
  Fixture f;
  ListQuery q;
  q.itwin_id = "x or iTwinId ne y";
  std::vector<std::string> ids;
  ApiError e = f.MustFail(f.List(q, ids));
  CHECK(e.outcome == ApiOutcome::kClientError);
  CHECK_FALSE(e.sent);
  CHECK(f.http.requests().empty());
}

// --- Pacing under the rate limit (a listing longer than the ceiling) --------

namespace {

constexpr const char* kItwin = "ce54f773-67db-4b4f-a98b-368329107429";

// A client at api.max_requests_per_minute 20 (18 for listing, 2 reserved for
// cancellations) in front of a server that allows 20 a minute and lists
// `pages` pages of two jobs for kItwin; each request takes 200 ms.
struct PacedFixture {
  explicit PacedFixture(int pages)
      : f({.max_per_minute = 20, .max_per_hour = 4500, .reserve = 0.10}),
        server(f.clock, kBase),
        waiter(f.clock) {
    for (int k = 0; k < pages; ++k) {
      server.pages[kItwin].push_back({ApiJobJson("p" + std::to_string(k) + "a", "Active", kItwin),
                                      ApiJobJson("p" + std::to_string(k) + "b", "Queued", kItwin)});
    }
    server.max_per_minute = 20;
    f.http.set_handler([this](const HttpRequest& r) { return server(r); });
    f.http.set_on_send([this](const HttpRequest&) { f.clock.Advance(200ms); });
    f.client.SetWaiter(&waiter);
  }

  ApiResult<ListStats> List(Millis max_wait) {
    ListQuery q;
    q.itwin_id = kItwin;
    q.page_size = 2;
    return f.client.ListJobs(q, jobs, max_wait);
  }

  // The URL of each request, in order.
  std::vector<std::string> Urls() const {
    std::vector<std::string> urls;
    for (const HttpRequest& r : f.http.requests()) urls.push_back(r.url);
    return urls;
  }

  Fixture f;
  FakeJobServer server;
  FakeWaiter waiter;
  std::vector<Job> jobs;
};

}  // namespace

TEST_CASE("a listing longer than the request ceiling waits for the gate and completes") {
  PacedFixture p(20);
  TimePoint start = p.f.clock.Now();
  ApiResult<ListStats> r = p.List(120s);
  REQUIRE(r.ok());
  CHECK(r->pages == 20);
  CHECK(p.jobs.size() == 40);
  CHECK(p.jobs.back().id == "p19b");
  // Every page asked for once, in order: the listing went on from where the
  // gate held it, never from page 1 again, and the API refused nothing.
  REQUIRE(p.f.http.requests().size() == 20);
  std::vector<std::string> urls = p.Urls();
  CHECK(std::set<std::string>(urls.begin(), urls.end()).size() == 20);
  CHECK(p.server.refused == 0);
  CHECK(p.f.observer.rate_limited.empty());
  // 18 pages at once, then the window has to move: about a minute of waiting.
  REQUIRE_FALSE(p.waiter.waits().empty());
  for (Millis w : p.waiter.waits()) CHECK(w <= 60s);
  CHECK(p.waiter.total() >= 55s);
  CHECK(p.f.clock.Now() - start < 70s);
}

TEST_CASE("without a waiter or a wait allowance the listing stops at the gate as before") {
  for (bool with_waiter : {false, true}) {
    PacedFixture p(20);
    if (!with_waiter) p.f.client.SetWaiter(nullptr);
    ApiError e = p.f.MustFail(p.List(with_waiter ? Millis{0} : 120s));
    CHECK(e.outcome == ApiOutcome::kRateLimited);
    CHECK_FALSE(e.sent);
    CHECK_THAT(e.message, Catch::StartsWith("list_jobs page 19: held back by the client-side"));
    CHECK(p.f.http.requests().size() == 18);
    CHECK(p.jobs.size() == 36);  // the pages read stay appended; the listing is incomplete
    CHECK(p.waiter.waits().empty());
  }
}

TEST_CASE("a gate wait longer than the allowance is not taken") {
  PacedFixture p(20);
  ApiError e = p.f.MustFail(p.List(30s));  // the window opens in ~56 s
  CHECK(e.outcome == ApiOutcome::kRateLimited);
  CHECK(p.waiter.waits().empty());
  CHECK(p.f.http.requests().size() == 18);
}

TEST_CASE("an interrupted wait ends the listing incomplete") {
  PacedFixture p(20);
  p.waiter.interrupt_next = true;
  ApiError e = p.f.MustFail(p.List(120s));
  CHECK(e.outcome == ApiOutcome::kRateLimited);
  CHECK_FALSE(e.sent);
  CHECK_THAT(e.message, Catch::Contains("interrupted"));
  CHECK(p.waiter.waits().size() == 1);
  CHECK(p.f.http.requests().size() == 18);
  CHECK(p.jobs.size() == 36);
}

TEST_CASE("a 429 from the API with a short retry-after is waited for, a long one is not") {
  PacedFixture p(3);
  p.f.http.Respond(
      200, PageJson({"a"}, std::string(kBase) + "/jobs?continuationToken=" + kItwin + ".1"));
  p.f.http.Respond(429, "", {{"retry-after", "5"}});
  ApiResult<ListStats> r = p.List(120s);
  REQUIRE(r.ok());
  CHECK(r->pages == 3);
  REQUIRE(p.waiter.waits().size() == 1);
  // 5 s from the 429's answer, which came 200 ms after it was sent.
  CHECK(p.waiter.waits()[0] == 5000ms);
  std::vector<std::string> urls = p.Urls();
  REQUIRE(urls.size() == 4);
  CHECK(urls[1] == urls[2]);  // page 2 asked for again, not page 1
  CHECK(p.f.observer.rate_limited.size() == 1);

  PacedFixture q(3);
  q.f.http.Respond(429, "", {{"retry-after", "600"}});
  ApiError e = q.f.MustFail(q.List(120s));
  CHECK(e.outcome == ApiOutcome::kRateLimited);
  CHECK(e.sent);
  CHECK(q.waiter.waits().empty());
}

TEST_CASE("an API that keeps answering 429 is not waited for forever") {
  PacedFixture p(1);
  p.f.http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 429;
    r.headers = {{"retry-after", "1"}};
    return r;
  });
  ApiError e = p.f.MustFail(p.List(120s));
  CHECK(e.outcome == ApiOutcome::kRateLimited);
  CHECK(p.waiter.waits().size() == RealityConversionClient::kMaxWaitsPerRequest);
  CHECK(p.f.http.requests().size() == RealityConversionClient::kMaxWaitsPerRequest + 1);
}

TEST_CASE("GET paces itself when allowed to, DELETE never waits") {
  PacedFixture p(0);
  p.server.single[kJobId] = JobJson(kJobId);
  for (int i = 0; i < 18; ++i) p.f.gate.OnSent(p.f.clock.Now());
  CHECK_FALSE(p.f.MustFail(p.f.client.GetJob(kJobId)).sent);  // no allowance: as before
  CHECK(p.waiter.waits().empty());
  ApiResult<Job> job = p.f.client.GetJob(kJobId, 120s);
  REQUIRE(job.ok());
  CHECK(job->id == kJobId);
  CHECK(p.waiter.waits() == std::vector<Millis>{60s});

  for (int i = 0; i < 20; ++i) p.f.gate.OnSent(p.f.clock.Now());
  CHECK_FALSE(p.f.MustFail(p.f.client.CancelJob(kJobId)).sent);
  CHECK(p.waiter.waits().size() == 1);
}
