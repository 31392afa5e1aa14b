// RealityConversionClient: list, get and cancel jobs of the Reality
// Conversion v2 API (https://api.bentley.com/reality-conversion).
//
// Every request carries `Authorization: Bearer ...`, the v2 Accept header and
// `User-Agent: rc-watchdog/<version>`, and passes the RequestGate first. The
// client retries nothing except one token renewal after a 401, and sends the
// same request again after a rate-limit wait only when the caller allows one
// (`max_wait`, with a Waiter set): a listing paces itself under the gate.
// Other backoff belongs to the caller (enforce/). See api_errors.h for how
// answers map to ApiOutcome.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "api/api_observer.h"
#include "api/api_types.h"
#include "api/http_client.h"
#include "api/request_gate.h"
#include "api/requests.h"
#include "api/token_provider.h"
#include "base/clock.h"
#include "base/job.h"
#include "base/status.h"
#include "base/waiter.h"

namespace rcw {

struct ClientOptions {
  // REQUIRES: ValidateBaseUrl(base_url).ok(); a trailing slash is dropped.
  std::string base_url;
};

struct ListStats {
  int pages = 0;
  std::size_t jobs = 0;  // jobs delivered (appended or handed to on_job)
};

class RealityConversionClient {
 public:
  // Listing may not go on forever: a server that keeps linking new pages is
  // broken (or hostile), and the listing is refused as incomplete.
  static constexpr int kMaxPages = 10000;
  // Rate-limit waits for one request at most (one is the rule: after it, the
  // gate has room; a 429 from the API itself may come again).
  static constexpr int kMaxWaitsPerRequest = 8;

  // All references must outlive the client; `observer` may be null.
  RealityConversionClient(HttpClient& http, TokenSource& tokens, RequestGate& gate,
                          const Clock& clock, ApiObserver* observer, ClientOptions options);

  // OK for an http(s) URL with a host and no query, user info or fragment
  // whose path does not end in /realityconversion: that is the v1 API, where
  // DELETE deletes a job instead of cancelling it. kInvalidConfig otherwise.
  static Status ValidateBaseUrl(std::string_view base_url);

  // GET /jobs for `query`, following _links.next.href as given until there is
  // none; each page is decoded as it arrives and its jobs handed to on_job
  // (only those in query.states, if any). Pages pass the gate with
  // Priority::kNormal.
  // On error the listing is INCOMPLETE: jobs already delivered are a partial
  // picture, and the caller must not treat missing jobs as gone or budgets as
  // fully counted. kBadResponse also for a next link to another scheme, host
  // or port than base_url (the token must not leave it), a link seen before
  // (a paging loop) and more than kMaxPages pages.
  // Pacing: when a page is rate limited (held back by the client-side gate,
  // or answered 429, which blocks the gate for its retry-after) and the gate
  // opens again within `max_wait`, the listing waits through the Waiter (see
  // SetWaiter) and asks for the same page again, instead of failing: a
  // listing longer than the gate's ceiling completes at the pace it allows.
  // A longer wait, an interrupted wait (kRateLimited, the listing incomplete),
  // no Waiter or max_wait <= 0 (the default) fail the listing as before.
  // Appends the jobs to `out`, each decoded in place (no per-job move or
  // callback: the poller's path, 100,000 jobs a poll); on error the jobs of
  // the pages read so far stay appended.
  // `fold`, when set, runs after each page is decoded and may remove jobs
  // from out[from, end): the poller drops the ended jobs it counted before
  // there, so a listing of 100,000 such jobs never holds them all.
  using PageFold = std::function<void(std::vector<Job>& out, std::size_t from)>;
  ApiResult<ListStats> ListJobs(const ListQuery& query, std::vector<Job>& out,
                                Millis max_wait = Millis{0}, const PageFold* fold = nullptr);
  // The same, handing each job to `on_job` once the listing has ended.
  ApiResult<ListStats> ListJobs(const ListQuery& query, const std::function<void(Job&&)>& on_job,
                                Millis max_wait = Millis{0});

  // GET /jobs/{id}. An id outside [A-Za-z0-9-] is refused unsent
  // (kClientError, sent = false); so is a job whose answer names another id.
  // `max_wait`: rate-limit pacing as for ListJobs.
  ApiResult<Job> GetJob(std::string_view id, Millis max_wait = Millis{0});
  // DELETE /jobs/{id} (cancel; 200 with the job, usually TerminatingOnCancel).
  // Passes the gate with Priority::kHigh.
  ApiResult<Job> CancelJob(std::string_view id);

  const std::string& base_url() const { return base_url_; }
  // When the client-side gate would hold a cancellation back now: how long
  // until it may go, else nullopt. Lets callers wait without sending (or
  // auditing) a request that would not be sent. A duration, not a time: the
  // gate runs on this client's clock, which need not be the caller's (the
  // daemon corrects its "now" by the API's Date header).
  std::optional<Millis> CancelBlockedFor() const;

  // What rate-limit waits of ListJobs and GetJob go through (see ListJobs);
  // null (the default): they never wait. Must outlive the client, or be reset.
  void SetWaiter(Waiter* waiter) { waiter_ = waiter; }

 private:
  // Gate, token, send; one retry with a new token after a 401. Returns the
  // response only for HTTP 200.
  ApiResult<HttpResponse> Execute(ApiOperation op, std::string_view what, const char* method,
                                  const std::string& url, Priority priority);
  // Execute, waiting and sending again while it is rate limited and the gate
  // opens within `max_wait` (at most kMaxWaitsPerRequest times).
  ApiResult<HttpResponse> ExecutePaced(ApiOperation op, std::string_view what, const char* method,
                                       const std::string& url, Priority priority, Millis max_wait);
  // How long until the gate lets a `priority` request go, if a wait of at
  // most `max_wait` would do; else nullopt.
  std::optional<Millis> PaceWait(Priority priority, Millis max_wait) const;
  std::optional<ApiError> GateClosed(std::string_view what, Priority priority) const;
  ApiError TokenFailed(std::string_view what, const Status& status, Priority priority) const;
  ApiResult<Job> JobRequest(ApiOperation op, const char* method, std::string_view id,
                            Priority priority, Millis max_wait);
  // `href` resolved and checked: same origin as base_url_.
  Result<std::string> CheckNextLink(std::string_view href) const;
  // The next page's URL, or kBadResponse for a foreign link, a loop (a URL in
  // `seen`, which it joins) or the page cap.
  Result<std::string> NextPageUrl(std::string_view href, int pages_done,
                                  std::unordered_set<std::string>& seen) const;

  HttpClient& http_;
  TokenSource& tokens_;
  RequestGate& gate_;
  const Clock& clock_;
  ApiObserver* observer_;
  Waiter* waiter_ = nullptr;
  std::string base_url_;
  Status base_url_status_;
};

}  // namespace rcw
