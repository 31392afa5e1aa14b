// What every request to the iTwin platform goes through once the gate has
// admitted it, shared by the token provider and the Reality Conversion client.
#pragma once

#include <string>

#include "api/api_observer.h"
#include "api/api_types.h"
#include "api/http_client.h"
#include "api/request_gate.h"
#include "base/clock.h"

namespace rcw {

// The longest retry-after honoured. A bogus header must not silence the
// watchdog for longer than the API's longest quota window (one hour).
inline constexpr Seconds kMaxRetryAfter{3600};
// Assumed when a 429 names no usable wait.
inline constexpr Seconds kDefaultRetryAfter{60};

// "rc-watchdog/<version>".
std::string UserAgent();

// Sends `request`: records it with the gate, reports it to `observer` (may be
// null: OnResponse, OnRateLimited, OnServerDate), and on a 429 blocks the gate
// for RetryAfterOf(). Returns what the HttpClient returned.
Result<HttpResponse> SendCounted(HttpClient& http, RequestGate& gate, const Clock& clock,
                                 ApiObserver* observer, ApiOperation op,
                                 const HttpRequest& request);

// A 429's wait: the larger of `retry-after` (seconds or an HTTP date) and
// `itwinplatform-ratelimit-retry-after-seconds`; kDefaultRetryAfter when
// neither parses; at most kMaxRetryAfter.
Seconds RetryAfterOf(const HttpResponse& response, TimePoint now);

}  // namespace rcw
