// Turning HTTP answers and failures into ApiError values (the status mapping
// of the Reality Conversion client). `what` names the operation and its
// target, e.g. "cancel_job 5e315451-...", and starts every message.
#pragma once

#include <string>
#include <string_view>

#include "api/api_types.h"
#include "api/http_client.h"
#include "base/clock.h"
#include "base/status.h"

namespace rcw {

// An HTTP answer other than 200:
//   404 -> kNotFound; 422 whose code or a detail code is InvalidChange ->
//   kNotCancellable; other 400/422 and 4xx -> kClientError; 401 ->
//   kUnauthorized; 403 -> kForbidden; 429 -> kRateLimited with retry_after =
//   RetryAfterOf(); 5xx -> kServerError; anything else (1xx, 2xx, 3xx: no
//   redirect is followed) -> kBadResponse.
// Fills code, detail_codes and the server's message from the error envelope
// when the body is one, and correlation_id from x-correlation-id.
ApiError ErrorFromResponse(std::string_view what, const HttpResponse& response, TimePoint now);

// A 200 we cannot use (undecodable body, bad next link, wrong job):
// kBadResponse with `error`s message.
ApiError ErrorFromBody(std::string_view what, const HttpResponse& response, const Status& error);

// HttpClient::Send failed: kTransportError (kBadResponse for an oversized body).
ApiError ErrorFromTransport(std::string_view what, const Status& status);

// Nothing was sent (sent = false): `outcome` with `message`.
ApiError NotSent(ApiOutcome outcome, std::string message, Seconds retry_after = Seconds{0});

}  // namespace rcw
