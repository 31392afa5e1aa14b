// ApiObserver: how the API client reports what it sent, for metrics and for
// the clock-skew correction. Implemented outside api/ (telemetry, service).
#pragma once

#include "api/api_types.h"
#include "base/clock.h"

namespace rcw {

class ApiObserver {
 public:
  virtual ~ApiObserver() = default;
  // Once per request actually sent (token requests included): the HTTP status,
  // or 0 for a transport error, and the time from sending to the last byte.
  virtual void OnResponse(ApiOperation op, long http_status, double seconds) = 0;
  // Once per 429 answer (after OnResponse).
  virtual void OnRateLimited(ApiOperation op) = 0;
  // For every response whose `Date` header parses: the server's time and the
  // local clock when the response arrived.
  virtual void OnServerDate(TimePoint server_date, TimePoint local_now) = 0;
};

}  // namespace rcw
