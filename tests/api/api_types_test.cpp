#include "api/api_types.h"

#include <catch2/catch.hpp>

using namespace rcw;
using namespace std::chrono_literals;

TEST_CASE("operation names are the metric label values") {
  CHECK(ToString(ApiOperation::kToken) == "token");
  CHECK(ToString(ApiOperation::kListJobs) == "list_jobs");
  CHECK(ToString(ApiOperation::kGetJob) == "get_job");
  CHECK(ToString(ApiOperation::kCancelJob) == "cancel_job");
}

TEST_CASE("outcome names") {
  CHECK(ToString(ApiOutcome::kOk) == "ok");
  CHECK(ToString(ApiOutcome::kNotFound) == "not_found");
  CHECK(ToString(ApiOutcome::kNotCancellable) == "not_cancellable");
  CHECK(ToString(ApiOutcome::kRateLimited) == "rate_limited");
  CHECK(ToString(ApiOutcome::kUnauthorized) == "unauthorized");
  CHECK(ToString(ApiOutcome::kForbidden) == "forbidden");
  CHECK(ToString(ApiOutcome::kClientError) == "client_error");
  CHECK(ToString(ApiOutcome::kServerError) == "server_error");
  CHECK(ToString(ApiOutcome::kTransportError) == "transport_error");
  CHECK(ToString(ApiOutcome::kBadResponse) == "bad_response");
}

TEST_CASE("ApiError::ToString says everything an operator needs on one line") {
  ApiError e;
  e.outcome = ApiOutcome::kNotCancellable;
  e.http_status = 422;
  e.code = "InvalidRealityConversionRequest";
  e.detail_codes = {"InvalidChange"};
  e.message = "cancel_job j1: HTTP 422: saving";
  e.correlation_id = "c-1";
  CHECK(e.ToString() ==
        "not_cancellable (HTTP 422 InvalidRealityConversionRequest [InvalidChange]): "
        "cancel_job j1: HTTP 422: saving; correlation-id=c-1");

  ApiError held;
  held.outcome = ApiOutcome::kRateLimited;
  held.retry_after = 12s;
  held.sent = false;
  held.message = "list_jobs page 1: held back";
  CHECK(held.ToString() ==
        "rate_limited: list_jobs page 1: held back; retry after 12s; nothing was sent");
}

TEST_CASE("ApiResult holds a value or an error") {
  ApiResult<int> ok(7);
  REQUIRE(ok.ok());
  CHECK(*ok == 7);
  ApiError e;
  e.outcome = ApiOutcome::kNotFound;
  ApiResult<int> bad(e);
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().outcome == ApiOutcome::kNotFound);
  ApiResult<std::string> moved(std::string("abc"));
  std::string taken = std::move(moved).value();
  CHECK(taken == "abc");
}
