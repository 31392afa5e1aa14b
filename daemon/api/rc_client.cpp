#include "api/rc_client.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "api/api_errors.h"
#include "api/exchange.h"
#include "api/url.h"
#include "base/timefmt.h"
#include "json/decode.h"

namespace rcw {
namespace {

constexpr const char* kAcceptV2 = "application/vnd.bentley.itwin-platform.v2+json";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view StripTrailingSlashes(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

// True when some segment of `path` is "realityconversion" (the v1 API).
bool HasV1Segment(std::string_view path) {
  while (!path.empty()) {
    size_t slash = path.find('/', 1);
    std::string_view segment = path.substr(1, slash == std::string_view::npos ? slash : slash - 1);
    if (EqualsIgnoreCase(segment, "realityconversion")) return true;
    if (slash == std::string_view::npos) break;
    path = path.substr(slash);
  }
  return false;
}

Seconds WaitUntil(TimePoint until, TimePoint now) {
  return std::max(Seconds{1}, std::chrono::ceil<Seconds>(until - now));
}

}  // namespace

RealityConversionClient::RealityConversionClient(HttpClient& http, TokenSource& tokens,
                                                 RequestGate& gate, const Clock& clock,
                                                 ApiObserver* observer, ClientOptions options)
    : http_(http),
      tokens_(tokens),
      gate_(gate),
      clock_(clock),
      observer_(observer),
      base_url_(StripTrailingSlashes(options.base_url)),
      base_url_status_(ValidateBaseUrl(options.base_url)) {}

Status RealityConversionClient::ValidateBaseUrl(std::string_view base_url) {
  auto bad = [&](const std::string& why) {
    return Status(StatusCode::kInvalidConfig,
                  "api.base_url \"" + EncodeUnsafeUrlBytes(base_url.substr(0, 200)) + "\" " + why);
  };
  std::string_view path;
  if (!ParseOrigin(base_url, &path)) {
    return bad("is not an http:// or https:// URL with a host (and without user info)");
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return bad("must not have a query or fragment");
  }
  if (HasV1Segment(StripTrailingSlashes(path))) {
    return bad(
        "is the v1 Reality Conversion API, where DELETE deletes a job instead of "
        "cancelling it; use the v2 API at /reality-conversion "
        "(e.g. https://api.bentley.com/reality-conversion)");
  }
  return Status::Ok();
}

std::optional<ApiError> RealityConversionClient::GateClosed(std::string_view what,
                                                            Priority priority) const {
  TimePoint now = clock_.Now();
  std::optional<TimePoint> until = gate_.BlockedUntil(now, priority);
  if (!until) return std::nullopt;
  return NotSent(ApiOutcome::kRateLimited,
                 std::string(what) + ": held back by the client-side rate limit until " +
                     FormatTimestamp(*until),
                 WaitUntil(*until, now));
}

ApiError RealityConversionClient::TokenFailed(std::string_view what, const Status& status,
                                              Priority priority) const {
  ApiOutcome outcome = ApiOutcome::kTransportError;  // kUnavailable: transport or 5xx
  Seconds wait{0};
  switch (status.code()) {
    case StatusCode::kRateLimited: {
      outcome = ApiOutcome::kRateLimited;
      TimePoint now = clock_.Now();
      wait = WaitUntil(gate_.BlockedUntil(now, priority).value_or(now), now);
      break;
    }
    case StatusCode::kPermissionDenied:
      outcome = ApiOutcome::kUnauthorized;
      break;
    case StatusCode::kBadResponse:
      outcome = ApiOutcome::kBadResponse;
      break;
    case StatusCode::kUnavailable:
      break;
    default:
      outcome = ApiOutcome::kClientError;
      break;
  }
  return NotSent(outcome, std::string(what) + ": no access token: " + status.message(), wait);
}

ApiResult<HttpResponse> RealityConversionClient::Execute(ApiOperation op, std::string_view what,
                                                         const char* method, const std::string& url,
                                                         Priority priority) {
  for (int attempt = 0;; ++attempt) {
    if (std::optional<ApiError> closed = GateClosed(what, priority)) return *closed;
    Result<std::string> bearer = tokens_.BearerToken();
    if (!bearer.ok()) return TokenFailed(what, bearer.status(), priority);
    // The token request may just have taken the last slot.
    if (std::optional<ApiError> closed = GateClosed(what, priority)) return *closed;
    HttpRequest request{
        method,
        url,
        {{"Authorization", *bearer}, {"Accept", kAcceptV2}, {"User-Agent", UserAgent()}},
        {}};
    Result<HttpResponse> response = SendCounted(http_, gate_, clock_, observer_, op, request);
    if (!response.ok()) return ErrorFromTransport(what, response.status());
    if (response->status == 200) return std::move(*response);
    if (response->status == 401 && attempt == 0) {
      tokens_.Invalidate();  // expired or revoked early: one retry with a new token
      continue;
    }
    return ErrorFromResponse(what, *response, clock_.Now());
  }
}

std::optional<Millis> RealityConversionClient::PaceWait(Priority priority, Millis max_wait) const {
  if (waiter_ == nullptr || max_wait <= Millis{0}) return std::nullopt;
  TimePoint now = clock_.Now();
  std::optional<TimePoint> until = gate_.BlockedUntil(now, priority);
  // Not blocked after a refusal (a token endpoint's 429 that set no block):
  // nothing says how long to wait, so do not.
  if (!until) return std::nullopt;
  Millis wait = std::max(Millis{1}, std::chrono::ceil<Millis>(*until - now));
  if (wait > max_wait) return std::nullopt;
  return wait;
}

ApiResult<HttpResponse> RealityConversionClient::ExecutePaced(ApiOperation op,
                                                              std::string_view what,
                                                              const char* method,
                                                              const std::string& url,
                                                              Priority priority, Millis max_wait) {
  for (int waits = 0;; ++waits) {
    ApiResult<HttpResponse> r = Execute(op, what, method, url, priority);
    if (r.ok() || r.error().outcome != ApiOutcome::kRateLimited) return r;
    std::optional<Millis> wait = PaceWait(priority, max_wait);
    if (!wait || waits >= kMaxWaitsPerRequest) return r;
    if (!waiter_->WaitFor(*wait)) {
      ApiError error = std::move(r).error();
      error.message += " (the wait for it was interrupted)";
      return error;
    }
  }
}

Result<std::string> RealityConversionClient::CheckNextLink(std::string_view href) const {
  std::string_view base_path;
  std::optional<Origin> base = ParseOrigin(base_url_, &base_path);
  std::string url(href);
  if (href.size() >= 1 && href[0] == '/' && (href.size() < 2 || href[1] != '/')) {
    // A path-absolute link: resolve it against the base URL's origin.
    url = base_url_.substr(0, base_url_.size() - base_path.size()) + url;
  }
  std::optional<Origin> next = ParseOrigin(url);
  if (!next) {
    return Status(StatusCode::kBadResponse, "next link \"" +
                                                EncodeUnsafeUrlBytes(href.substr(0, 200)) +
                                                "\" is not an absolute http(s) URL");
  }
  if (!base || !(*next == *base)) {
    return Status(StatusCode::kBadResponse, "next link points to " + next->ToString() +
                                                ", not to " +
                                                (base ? base->ToString() : base_url_) +
                                                "; the access token is not sent anywhere else");
  }
  return EncodeUnsafeUrlBytes(url);
}

Result<std::string> RealityConversionClient::NextPageUrl(
    std::string_view href, int pages_done, std::unordered_set<std::string>& seen) const {
  Result<std::string> url = CheckNextLink(href);
  if (!url.ok()) return url;
  if (!seen.insert(*url).second) {
    return Status(StatusCode::kBadResponse, "paging loop: the next link repeats an earlier page");
  }
  if (pages_done >= kMaxPages) {
    return Status(StatusCode::kBadResponse,
                  "more than " + std::to_string(kMaxPages) + " pages; giving up");
  }
  return url;
}

ApiResult<ListStats> RealityConversionClient::ListJobs(const ListQuery& query,
                                                       std::vector<Job>& out, Millis max_wait,
                                                       const PageFold* fold) {
  if (!base_url_status_.ok()) {
    return NotSent(ApiOutcome::kClientError, "list_jobs: " + base_url_status_.message());
  }
  Result<std::string> url = BuildListUrl(base_url_, query);
  if (!url.ok()) return NotSent(ApiOutcome::kClientError, "list_jobs: " + url.status().message());
  ListStats stats;
  auto unwanted = [&](const Job& job) {
    return std::find(query.states.begin(), query.states.end(), job.state) == query.states.end();
  };
  std::unordered_set<std::string> seen{*url};
  while (true) {
    std::string what = "list_jobs page " + std::to_string(stats.pages + 1);
    ApiResult<HttpResponse> response =
        ExecutePaced(ApiOperation::kListJobs, what, "GET", *url, Priority::kNormal, max_wait);
    if (!response.ok()) return response.error();
    ++stats.pages;
    std::optional<std::string> next;
    std::size_t before = out.size();
    // Decoded in place, at the end of `out` (no Job moved through a callback).
    Status page = DecodeJobPage(PaddedJson::Borrow(response->body), out, next);
    if (!query.states.empty()) {
      out.erase(
          std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(), unwanted),
          out.end());
    }
    stats.jobs += out.size() - before;
    if (fold && *fold) (*fold)(out, before);
    if (!page.ok()) return ErrorFromBody(what, *response, page);
    if (!next) return stats;
    url = NextPageUrl(*next, stats.pages, seen);
    if (!url.ok()) return ErrorFromBody(what, *response, url.status());
  }
}

ApiResult<ListStats> RealityConversionClient::ListJobs(const ListQuery& query,
                                                       const std::function<void(Job&&)>& on_job,
                                                       Millis max_wait) {
  // The jobs are handed on after the listing (complete or not): for callers
  // that do not keep them all; the poller appends in place.
  std::vector<Job> jobs;
  ApiResult<ListStats> r = ListJobs(query, jobs, max_wait);
  for (Job& job : jobs) on_job(std::move(job));
  return r;
}

ApiResult<Job> RealityConversionClient::JobRequest(ApiOperation op, const char* method,
                                                   std::string_view id, Priority priority,
                                                   Millis max_wait) {
  if (!IsSafeId(id)) {
    return NotSent(ApiOutcome::kClientError,
                   std::string(ToString(op)) + ": refusing job id \"" +
                       EncodeUnsafeUrlBytes(id.substr(0, 64)) +
                       "\": only letters, digits and '-' (1 to 128) are allowed");
  }
  std::string what = std::string(ToString(op)) + " " + std::string(id);
  if (!base_url_status_.ok()) {
    return NotSent(ApiOutcome::kClientError, what + ": " + base_url_status_.message());
  }
  ApiResult<HttpResponse> response =
      ExecutePaced(op, what, method, JobUrl(base_url_, id), priority, max_wait);
  if (!response.ok()) return response.error();
  Result<Job> job = DecodeJobEnvelope(response->body);
  if (!job.ok()) return ErrorFromBody(what, *response, job.status());
  if (!EqualsIgnoreCase(job->id, id)) {
    return ErrorFromBody(
        what, *response,
        Status(StatusCode::kBadResponse,
               "the answer is about job " + std::string(job->id.view().substr(0, 64))));
  }
  return std::move(*job);
}

ApiResult<Job> RealityConversionClient::GetJob(std::string_view id, Millis max_wait) {
  return JobRequest(ApiOperation::kGetJob, "GET", id, Priority::kNormal, max_wait);
}

ApiResult<Job> RealityConversionClient::CancelJob(std::string_view id) {
  // Never paced: whether a DELETE may still go after a wait is the
  // enforcer's decision, on fresh data.
  return JobRequest(ApiOperation::kCancelJob, "DELETE", id, Priority::kHigh, Millis{0});
}

std::optional<Millis> RealityConversionClient::CancelBlockedFor() const {
  TimePoint now = clock_.Now();
  std::optional<TimePoint> until = gate_.BlockedUntil(now, Priority::kHigh);
  if (!until) return std::nullopt;
  // Rounded up, and at least 1 ms: a zero wait would be retried at once.
  return std::max(Millis{1}, std::chrono::ceil<Millis>(*until - now));
}

}  // namespace rcw
