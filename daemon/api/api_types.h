// The vocabulary of the Reality Conversion client: which operation, how it
// ended (ApiOutcome, one per way the caller must react), and ApiResult<T>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace rcw {

enum class ApiOperation { kToken, kListJobs, kGetJob, kCancelJob };

// "token", "list_jobs", "get_job", "cancel_job": metric label values.
std::string_view ToString(ApiOperation op);

enum class ApiOutcome {
  kOk,
  kNotFound,        // 404: the job does not exist (any more)
  kNotCancellable,  // 422 with detail InvalidChange: the job is saving its results
  kRateLimited,     // 429, or held back by the client-side RequestGate (sent = false)
  kUnauthorized,    // 401 even after one token renewal, or no token could be had
  kForbidden,       // 403
  kClientError,     // any other 4xx, or a request refused before sending
  kServerError,     // 5xx
  kTransportError,  // no HTTP answer: timeout, reset, refused, TLS
  kBadResponse,     // an answer we cannot use: undecodable body, unexpected status
};

// "ok", "not_found", "not_cancellable", "rate_limited", "unauthorized",
// "forbidden", "client_error", "server_error", "transport_error", "bad_response".
std::string_view ToString(ApiOutcome outcome);

struct ApiError {
  ApiOutcome outcome = ApiOutcome::kBadResponse;
  long http_status = 0;                   // 0: no HTTP answer
  Seconds retry_after{0};                 // kRateLimited: wait at least this long
  std::string code;                       // the error envelope's code, e.g. "JobNotFound"
  std::string message;                    // "<operation> <target>: <what happened>"
  std::vector<std::string> detail_codes;  // e.g. {"InvalidChange"}
  std::string correlation_id;             // x-correlation-id, for Bentley support
  // false: nothing reached the API (held back by the gate, no token, a
  // refused argument), so e.g. a DELETE certainly did not happen.
  bool sent = true;

  // One line for logs: "not_cancellable (HTTP 422 InvalidRealityConversionRequest
  // [InvalidChange]): cancel_job 5e31...: ... correlation-id=..."; never a secret.
  std::string ToString() const;
};

// Either a value or an ApiError (base/status.h Expected).
template <class T>
using ApiResult = Expected<T, ApiError>;

}  // namespace rcw
