#include "api/exchange.h"

#include <algorithm>

#include "base/timefmt.h"
#include "base/version.h"

namespace rcw {

std::string UserAgent() { return std::string("rc-watchdog/") + kVersion; }

Seconds RetryAfterOf(const HttpResponse& response, TimePoint now) {
  std::optional<Seconds> wait;
  for (std::string_view name : {"retry-after", "itwinplatform-ratelimit-retry-after-seconds"}) {
    std::optional<std::string_view> value = response.Header(name);
    if (!value) continue;
    Result<Seconds> parsed = ParseRetryAfter(*value, now);
    if (parsed.ok()) wait = std::max(wait.value_or(Seconds{0}), *parsed);
  }
  return std::min(wait.value_or(kDefaultRetryAfter), kMaxRetryAfter);
}

Result<HttpResponse> SendCounted(HttpClient& http, RequestGate& gate, const Clock& clock,
                                 ApiObserver* observer, ApiOperation op,
                                 const HttpRequest& request) {
  gate.OnSent(clock.Now());
  // Durations come from the monotonic clock: they are measurements, not
  // decisions, and a wall-clock step must not produce negative latencies.
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = http.Send(request);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  TimePoint now = clock.Now();
  long status = response.ok() ? response->status : 0;
  if (status == 429) gate.BlockUntil(now + RetryAfterOf(*response, now));
  if (observer == nullptr) return response;
  if (response.ok() && response->elapsed.count() > 0) seconds = response->elapsed.count();
  observer->OnResponse(op, status, seconds);
  if (status == 429) observer->OnRateLimited(op);
  if (response.ok()) {
    if (std::optional<std::string_view> date = response->Header("date")) {
      if (Result<TimePoint> server = ParseHttpDate(*date); server.ok()) {
        observer->OnServerDate(*server, now);
      }
    }
  }
  return response;
}

}  // namespace rcw
