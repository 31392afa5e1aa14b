#include "api/exchange.h"

#include <catch2/catch.hpp>

#include "base/timefmt.h"
#include "base/version.h"
#include "fakes/fake_api.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"

using namespace rcw;
using namespace std::chrono_literals;
using namespace rcw::testing;

namespace {
HttpResponse With(std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = 429;
  r.headers = std::move(headers);
  return r;
}
}  // namespace

TEST_CASE("retry-after in seconds, as an HTTP date, and the iTwin header") {
  FakeClock clock;
  TimePoint now = clock.Now();
  CHECK(RetryAfterOf(With({{"retry-after", "7"}}), now) == 7s);
  CHECK(RetryAfterOf(With({{"retry-after", FormatHttpDate(now + 42s)}}), now) == 42s);
  CHECK(RetryAfterOf(
            With({{"retry-after", "7"}, {"itwinplatform-ratelimit-retry-after-seconds", "20"}}),
            now) == 20s);
  CHECK(RetryAfterOf(
            With({{"retry-after", "30"}, {"itwinplatform-ratelimit-retry-after-seconds", "20"}}),
            now) == 30s);
  CHECK(RetryAfterOf(With({{"itwinplatform-ratelimit-retry-after-seconds", "9"}}), now) == 9s);
  CHECK(RetryAfterOf(With({}), now) == kDefaultRetryAfter);
  CHECK(RetryAfterOf(With({{"retry-after", "soon"}}), now) == kDefaultRetryAfter);
  CHECK(RetryAfterOf(With({{"retry-after", "0"}}), now) == 0s);
  CHECK(RetryAfterOf(With({{"retry-after", "86400"}}), now) == kMaxRetryAfter);
}

TEST_CASE("SendCounted records with the gate and reports to the observer") {
  FakeClock clock;
  RequestGate gate(clock);
  RecordingObserver observer;
  FakeHttpClient http;
  http.Respond(200, "{}", {{"date", "Sun, 05 Apr 2026 14:05:06 GMT"}});
  http.Respond(429, "", {{"retry-after", "15"}});
  http.Fail(Status(StatusCode::kUnavailable, "connection reset"));
  http.set_on_send([&](const HttpRequest&) { clock.Advance(1s); });
  HttpRequest request{"GET", "http://h/x", {}, {}};

  Result<HttpResponse> ok =
      SendCounted(http, gate, clock, &observer, ApiOperation::kGetJob, request);
  REQUIRE(ok.ok());
  REQUIRE(observer.server_dates.size() == 1);
  CHECK(observer.server_dates[0].first == *ParseHttpDate("Sun, 05 Apr 2026 14:05:06 GMT"));
  CHECK(observer.server_dates[0].second == clock.Now());  // local time at arrival

  TimePoint before_429 = clock.Now();
  Result<HttpResponse> limited =
      SendCounted(http, gate, clock, &observer, ApiOperation::kListJobs, request);
  REQUIRE(limited.ok());
  CHECK(gate.BlockedUntil(clock.Now(), Priority::kHigh) == before_429 + 1s + 15s);
  REQUIRE(observer.rate_limited.size() == 1);
  CHECK(observer.rate_limited[0] == ApiOperation::kListJobs);

  Result<HttpResponse> failed =
      SendCounted(http, gate, clock, &observer, ApiOperation::kCancelJob, request);
  CHECK_FALSE(failed.ok());

  REQUIRE(observer.responses.size() == 3);
  CHECK(observer.responses[0].op == ApiOperation::kGetJob);
  CHECK(observer.responses[0].http_status == 200);
  CHECK(observer.responses[1].http_status == 429);
  CHECK(observer.responses[2].op == ApiOperation::kCancelJob);
  CHECK(observer.responses[2].http_status == 0);
  CHECK(observer.server_dates.size() == 1);  // the others had no Date header
  CHECK(gate.SentInLastMinute(clock.Now()) == 3);
}

TEST_CASE("SendCounted works without an observer") {
  FakeClock clock;
  RequestGate gate(clock);
  FakeHttpClient http;
  http.Respond(429);
  Result<HttpResponse> r = SendCounted(http, gate, clock, nullptr, ApiOperation::kToken,
                                       HttpRequest{"POST", "http://h/t", {}, "x"});
  REQUIRE(r.ok());
  CHECK(gate.BlockedUntil(clock.Now(), Priority::kHigh) == clock.Now() + kDefaultRetryAfter);
}

TEST_CASE("the user agent names rc-watchdog and its version") {
  CHECK(UserAgent() == std::string("rc-watchdog/") + kVersion);
}
