#include "api/api_errors.h"

#include <algorithm>

#include "api/exchange.h"
#include "json/decode.h"

namespace rcw {
namespace {

constexpr std::string_view kInvalidChange = "InvalidChange";

ApiOutcome OutcomeOf(long status, const ApiError& e) {
  if (status == 404) return ApiOutcome::kNotFound;
  if (status == 401) return ApiOutcome::kUnauthorized;
  if (status == 403) return ApiOutcome::kForbidden;
  if (status == 429) return ApiOutcome::kRateLimited;
  if (status == 422 &&
      (e.code == kInvalidChange || std::find(e.detail_codes.begin(), e.detail_codes.end(),
                                             kInvalidChange) != e.detail_codes.end())) {
    return ApiOutcome::kNotCancellable;
  }
  if (status >= 400 && status < 500) return ApiOutcome::kClientError;
  if (status >= 500 && status < 600) return ApiOutcome::kServerError;
  return ApiOutcome::kBadResponse;
}

// The server's explanation: its message and the first detail's, if any.
std::string ServerText(const ApiErrorBody& body) {
  std::string text = body.message;
  if (!body.details.empty() && !body.details[0].message.empty()) {
    text += (text.empty() ? "" : " ") + body.details[0].message;
  }
  return text;
}

void AddCorrelationId(const HttpResponse& response, ApiError& e) {
  if (std::optional<std::string_view> id = response.Header("x-correlation-id")) {
    e.correlation_id = std::string(id->substr(0, 128));
  }
}

}  // namespace

ApiError ErrorFromResponse(std::string_view what, const HttpResponse& response, TimePoint now) {
  ApiError e;
  e.http_status = response.status;
  AddCorrelationId(response, e);
  std::string text = "HTTP " + std::to_string(response.status);
  if (std::optional<ApiErrorBody> body = DecodeErrorBody(response.body)) {
    e.code = body->code;
    for (const ApiErrorDetail& d : body->details) e.detail_codes.push_back(d.code);
    std::string server = ServerText(*body);
    if (!server.empty()) text += ": " + server;
  } else if (!response.body.empty()) {
    text += " (" + std::to_string(response.body.size()) + " bytes that are no error envelope)";
  }
  e.outcome = OutcomeOf(response.status, e);
  if (e.outcome == ApiOutcome::kRateLimited) e.retry_after = RetryAfterOf(response, now);
  if (response.status >= 300 && response.status < 400) text += " (redirects are not followed)";
  e.message = std::string(what) + ": " + text;
  return e;
}

ApiError ErrorFromBody(std::string_view what, const HttpResponse& response,
                       const Status& decode_error) {
  ApiError e;
  e.outcome = ApiOutcome::kBadResponse;
  e.http_status = response.status;
  AddCorrelationId(response, e);
  e.message = std::string(what) + ": bad response: " + decode_error.message();
  return e;
}

ApiError ErrorFromTransport(std::string_view what, const Status& status) {
  ApiError e;
  e.outcome = status.code() == StatusCode::kBadResponse ? ApiOutcome::kBadResponse
                                                        : ApiOutcome::kTransportError;
  e.message = std::string(what) + ": " + status.message();
  return e;
}

ApiError NotSent(ApiOutcome outcome, std::string message, Seconds retry_after) {
  ApiError e;
  e.outcome = outcome;
  e.message = std::move(message);
  e.retry_after = retry_after;
  e.sent = false;
  return e;
}

}  // namespace rcw
