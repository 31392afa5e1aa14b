// Decoders for the JSON bodies of the Reality Conversion v2 API and of the
// OAuth token endpoint. Bodies are decoded straight into plain values (Job,
// ApiErrorBody, TokenResponse); no JSON document outlives a call.
//
// Every decoder validates the whole body first (grammar, UTF-8, one root
// value, nesting at most kJsonMaxDepth levels), so truncated, hostile or
// garbage-trailed bodies fail cleanly with kBadResponse. Error messages name
// the field ("jobs[17].executionInfo.createdDateTime: ...") and never quote a
// body wholesale (a token body would carry the token).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/status.h"

namespace rcw {

// Bytes the JSON parser may read past the end of a body (SIMDJSON_PADDING).
inline constexpr std::size_t kJsonPadding = 64;
// Deepest nesting of arrays and objects accepted; deeper bodies fail.
inline constexpr std::size_t kJsonMaxDepth = 64;

// JSON text in a buffer readable kJsonPadding bytes past its end, as the parser
// needs. Move-only; the view stays valid across moves.
class PaddedJson {
 public:
  // Copies `text` into an owned, padded buffer.
  static PaddedJson Copy(std::string_view text);
  // Views `text` without a copy when text.capacity() >= text.size() +
  // kJsonPadding (CurlHttpClient reserves that), else copies. REQUIRES: `text`
  // outlives the PaddedJson and is not modified meanwhile.
  static PaddedJson Borrow(const std::string& text);

  std::string_view view() const { return view_; }
  // True when Borrow() could use the caller's buffer (for tests).
  bool borrowed() const { return owned_ == nullptr; }

 private:
  PaddedJson() = default;
  std::unique_ptr<char[]> owned_;
  std::string_view view_;
};

// One page of GET /jobs: {"jobs":[...],"_links":{"next":{"href":"..."}}}.
// Calls on_job for each job in order, then sets next_href to the next page's
// URL, or to nullopt on the last page (`_links` absent, null or {}, or `next`
// null). On failure returns kBadResponse naming the job index and field; jobs
// before the bad one may already have been delivered, and next_href is nullopt.
// Job rules: `id` (non-empty string), `state` and
// `executionInfo.createdDateTime` are required; unknown state/type texts give
// kUnknown with raw_state/raw_type; `name`, `userId`, `iTwinId`, `type`,
// `startedDateTime`, `endedDateTime`, `processingUnits` may be absent or null;
// processingUnits must be a finite number >= 0; a known key given twice in
// one job is an error; unknown keys (`specifications`, ...) are skipped.
// `id`, `iTwinId` and `userId` are GUIDs and come out in ASCII lower case
// (GUIDs are case-insensitive; everything downstream compares them as stored).
Status DecodeJobPage(const PaddedJson& body, const std::function<void(Job&&)>& on_job,
                     std::optional<std::string>& next_href);
// Same, copying `body` into a padded buffer first.
Status DecodeJobPage(std::string_view body, const std::function<void(Job&&)>& on_job,
                     std::optional<std::string>& next_href);
// Same, appending each job to `jobs` (decoded in place: no Job is moved).
// On failure the jobs before the bad one stay appended.
Status DecodeJobPage(const PaddedJson& body, std::vector<Job>& jobs,
                     std::optional<std::string>& next_href);

// {"job":{...}}: the 200 body of GET /jobs/{id} and DELETE /jobs/{id}. Errors
// name the field as "job.<field>". Same job rules (ids lower-cased) as above.
Result<Job> DecodeJobEnvelope(std::string_view body);

struct ApiErrorDetail {
  std::string code;
  std::string message;
  std::string target;
};

// The iTwin error envelope; any field may be empty.
struct ApiErrorBody {
  std::string code;
  std::string message;
  std::string target;
  std::vector<ApiErrorDetail> details;
};

// Tolerant decoder of error bodies. Accepts
//   {"error":{"code","message","target"?,"details"?:[{code,message,target}]}}
//   {"error":"invalid_client","error_description":"..."}  (OAuth)
//   {"code":..,"message":..}                               (API gateways)
// where any field may be missing, null or of another type (then left empty).
// Returns nullopt for anything else: non-JSON (an HTML gateway page), a
// non-object root, an object with none of these keys.
std::optional<ApiErrorBody> DecodeErrorBody(std::string_view body);

struct TokenResponse {
  std::string access_token;
  std::string token_type;  // "Bearer" when absent
  Seconds expires_in{3600};
};

// OAuth token response {"access_token","token_type","expires_in"}.
// access_token is required (non-empty string); expires_in may be a number or a
// numeric string, defaults to 3600 when absent or null, must be > 0 and is
// capped at one year. kBadResponse otherwise; the message never contains the
// token.
Result<TokenResponse> DecodeTokenResponse(std::string_view body);

}  // namespace rcw
