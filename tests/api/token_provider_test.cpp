#include "api/token_provider.h"

#include <catch2/catch.hpp>

#include "base/version.h"
#include "fakes/fake_api.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"

using namespace rcw;
using namespace std::chrono_literals;
using namespace rcw::testing;

namespace {

constexpr const char* kUrl = "https://ims.example/connect/token";
constexpr const char* kSecret = "s3cret&x=y +%";

std::string TokenBody(const std::string& token, int expires_in = 3600) {
  return R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" +
         std::to_string(expires_in) + "}";
}

struct Fixture {
  FakeClock clock;
  RequestGate gate{clock};
  FakeHttpClient http;
  RecordingObserver observer;
  ClientCredentialsTokenProvider tokens{
      http, clock, gate, &observer, TokenOptions{kUrl, "client id/1", kSecret, "itwin-platform"}};

  // The error of a BearerToken() call that must fail, checked for leaks.
  Status MustFail() {
    Result<std::string> r = tokens.BearerToken();
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(kSecret) == std::string::npos);
    CHECK(r.status().message().find("tok-") == std::string::npos);
    return r.status();
  }
};

}  // namespace

TEST_CASE("the token request is a form-encoded client-credentials POST") {
  Fixture f;
  f.http.Respond(200, TokenBody("tok-1"));
  Result<std::string> bearer = f.tokens.BearerToken();
  REQUIRE(bearer.ok());
  CHECK(*bearer == "Bearer tok-1");
  REQUIRE(f.http.requests().size() == 1);
  const HttpRequest& req = f.http.last();
  CHECK(req.method == "POST");
  CHECK(req.url == kUrl);
  CHECK(req.body ==
        "grant_type=client_credentials&client_id=client%20id%2F1"
        "&client_secret=s3cret%26x%3Dy%20%2B%25&scope=itwin-platform");
  CHECK(f.http.RequestHeader(0, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(f.http.RequestHeader(0, "User-Agent") == std::string("rc-watchdog/") + kVersion);
  CHECK_FALSE(f.http.RequestHeader(0, "Authorization").has_value());
  REQUIRE(f.observer.responses.size() == 1);
  CHECK(f.observer.responses[0].op == ApiOperation::kToken);
  CHECK(f.observer.responses[0].http_status == 200);
  CHECK(f.gate.SentInLastMinute(f.clock.Now()) == 1);
}

TEST_CASE("the token is cached and renewed five minutes before it expires") {
  Fixture f;
  f.http.Respond(200, TokenBody("tok-1", 3600)).Respond(200, TokenBody("tok-2", 3600));
  TimePoint start = f.clock.Now();
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
  CHECK(f.tokens.renew_at() == start + 3300s);
  f.clock.Advance(3299s);
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
  CHECK(f.http.requests().size() == 1);
  f.clock.Advance(1s);
  CHECK(*f.tokens.BearerToken() == "Bearer tok-2");
  CHECK(f.http.requests().size() == 2);
}

TEST_CASE("short-lived tokens are renewed at half their lifetime") {
  Fixture f;
  f.http.Respond(200, TokenBody("tok-1", 120)).Respond(200, TokenBody("tok-2", 600));
  TimePoint start = f.clock.Now();
  REQUIRE(f.tokens.BearerToken().ok());
  CHECK(f.tokens.renew_at() == start + 60s);
  f.clock.Advance(59s);
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
  f.clock.Advance(1s);
  CHECK(*f.tokens.BearerToken() == "Bearer tok-2");
  CHECK(f.tokens.renew_at() == start + 60s + 300s);
}

TEST_CASE("a numeric-string or missing expires_in is understood") {
  Fixture f;
  f.http.Respond(200, R"({"access_token":"tok-1","expires_in":"1800"})");
  TimePoint start = f.clock.Now();
  REQUIRE(f.tokens.BearerToken().ok());
  CHECK(f.tokens.renew_at() == start + 1500s);
  f.tokens.Invalidate();
  f.http.Respond(200, R"({"access_token":"tok-2","token_type":"bearer"})");
  CHECK(*f.tokens.BearerToken() == "Bearer tok-2");
  CHECK(f.tokens.renew_at() == start + 3300s);
}

TEST_CASE("Invalidate forces a new token") {
  Fixture f;
  f.http.Respond(200, TokenBody("tok-1")).Respond(200, TokenBody("tok-2"));
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
  f.tokens.Invalidate();
  CHECK(*f.tokens.BearerToken() == "Bearer tok-2");
  CHECK(f.http.requests().size() == 2);
}

TEST_CASE("refused credentials name the URL, status and code but not the secret") {
  Fixture f;
  f.http.Respond(401,
                 R"({"error":"invalid_client","error_description":"bad secret s3cret&x=y +%"})");
  Status s = f.MustFail();
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK(s.message() == std::string("token endpoint ") + kUrl +
                           " answered HTTP 401 invalid_client: bad secret <redacted>");
  f.http.Respond(400, R"({"error":"invalid_scope"})");
  CHECK(f.MustFail().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("token endpoint failures map to status codes") {
  Fixture f;
  f.http.Respond(503, "<html>down</html>");
  Status s = f.MustFail();
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message() == std::string("token endpoint ") + kUrl + " answered HTTP 503");

  f.http.Fail(Status(StatusCode::kUnavailable, "timeout after 30s"));
  s = f.MustFail();
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message() == std::string("token request to ") + kUrl + " failed: timeout after 30s");

  f.http.Respond(200, R"({"access_token":"tok-1","expires_in":"never"})");
  s = f.MustFail();
  CHECK(s.code() == StatusCode::kBadResponse);
  CHECK_THAT(s.message(), Catch::Contains("expires_in"));

  f.http.Respond(200, R"({"access_token":"tok-1","token_type":"mac"})");
  CHECK_THAT(f.MustFail().message(), Catch::Contains("not Bearer"));

  f.http.Respond(404, "");
  CHECK(f.MustFail().code() == StatusCode::kBadResponse);
}

TEST_CASE("a 429 from the token endpoint closes the gate and nothing is sent until it opens") {
  Fixture f;
  f.http.Respond(429, R"({"error":"too_many"})", {{"retry-after", "20"}});
  CHECK(f.MustFail().code() == StatusCode::kRateLimited);
  REQUIRE(f.observer.rate_limited.size() == 1);
  CHECK(f.observer.rate_limited[0] == ApiOperation::kToken);
  Status held = f.MustFail();
  CHECK(held.code() == StatusCode::kRateLimited);
  CHECK_THAT(held.message(), Catch::Contains("held back by the client-side rate limit"));
  CHECK(f.http.requests().size() == 1);
  f.clock.Advance(20s);
  f.http.Respond(200, TokenBody("tok-1"));
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
}

TEST_CASE("a failed renewal falls back to the still-valid token and retries later") {
  Fixture f;
  f.http.Respond(200, TokenBody("tok-1", 3600));
  REQUIRE(f.tokens.BearerToken().ok());
  f.clock.Advance(3300s);
  f.http.Fail(Status(StatusCode::kUnavailable, "connection refused"));
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
  CHECK(f.http.requests().size() == 2);
  f.clock.Advance(29s);
  CHECK(*f.tokens.BearerToken() == "Bearer tok-1");
  CHECK(f.http.requests().size() == 2);  // no retry within kRenewalRetry
  f.clock.Advance(1s);
  f.http.Respond(200, TokenBody("tok-2", 3600));
  CHECK(*f.tokens.BearerToken() == "Bearer tok-2");
  CHECK(f.http.requests().size() == 3);
}

TEST_CASE("close to expiry a failed renewal is an error, not a stale token") {
  Fixture f;
  f.http.Respond(200, TokenBody("tok-1", 3600));
  REQUIRE(f.tokens.BearerToken().ok());
  f.clock.Advance(3600s - 20s);  // less than kMinValidity left
  f.http.Fail(Status(StatusCode::kUnavailable, "connection refused"));
  CHECK(f.MustFail().code() == StatusCode::kUnavailable);
}
