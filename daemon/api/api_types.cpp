#include "api/api_types.h"

namespace rcw {

std::string_view ToString(ApiOperation op) {
  switch (op) {
    case ApiOperation::kToken:
      return "token";
    case ApiOperation::kListJobs:
      return "list_jobs";
    case ApiOperation::kGetJob:
      return "get_job";
    case ApiOperation::kCancelJob:
      return "cancel_job";
  }
  return "unknown";
}

std::string_view ToString(ApiOutcome outcome) {
  switch (outcome) {
    case ApiOutcome::kOk:
      return "ok";
    case ApiOutcome::kNotFound:
      return "not_found";
    case ApiOutcome::kNotCancellable:
      return "not_cancellable";
    case ApiOutcome::kRateLimited:
      return "rate_limited";
    case ApiOutcome::kUnauthorized:
      return "unauthorized";
    case ApiOutcome::kForbidden:
      return "forbidden";
    case ApiOutcome::kClientError:
      return "client_error";
    case ApiOutcome::kServerError:
      return "server_error";
    case ApiOutcome::kTransportError:
      return "transport_error";
    case ApiOutcome::kBadResponse:
      return "bad_response";
  }
  return "unknown";
}

std::string ApiError::ToString() const {
  std::string out(rcw::ToString(outcome));
  std::string status;
  if (http_status != 0) status = "HTTP " + std::to_string(http_status);
  if (!code.empty()) status += (status.empty() ? "" : " ") + code;
  if (!detail_codes.empty()) {
    status += " [";
    for (size_t i = 0; i < detail_codes.size(); ++i) {
      status += (i ? ", " : "") + detail_codes[i];
    }
    status += "]";
  }
  if (!status.empty()) out += " (" + status + ")";
  out += ": " + message;
  if (outcome == ApiOutcome::kRateLimited) {
    out += "; retry after " + std::to_string(retry_after.count()) + "s";
  }
  if (!sent) out += "; nothing was sent";
  if (!correlation_id.empty()) out += "; correlation-id=" + correlation_id;
  return out;
}

}  // namespace rcw
