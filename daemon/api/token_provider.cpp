#include "api/token_provider.h"

#include <algorithm>
#include <cctype>

#include "api/exchange.h"
#include "api/url.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "json/decode.h"

namespace rcw {
namespace {

constexpr Seconds kRenewBefore{300};

bool IsBearer(std::string_view type) {
  // RFC 6749 §7.1: the token type is case-insensitive.
  constexpr std::string_view kBearer = "bearer";
  return type.size() == kBearer.size() &&
         std::equal(type.begin(), type.end(), kBearer.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

// Replaces every occurrence of `secret` in `text`: a server that echoes the
// submitted form in its error text must not leak the secret into our logs.
std::string Redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "<redacted>");
  }
  return text;
}

}  // namespace

ClientCredentialsTokenProvider::ClientCredentialsTokenProvider(HttpClient& http, const Clock& clock,
                                                               RequestGate& gate,
                                                               ApiObserver* observer,
                                                               TokenOptions options)
    : http_(http), clock_(clock), gate_(gate), observer_(observer), options_(std::move(options)) {}

Result<std::string> ClientCredentialsTokenProvider::BearerToken() {
  TimePoint now = clock_.Now();
  if (!header_.empty() && now < renew_at_) return header_;
  bool usable = !header_.empty() && now + kMinValidity < expires_at_;
  if (usable && now < next_renewal_try_) return header_;
  Result<std::string> fresh = Fetch(now);
  if (fresh.ok() || !usable) return fresh;
  // The old token still works: keep going on it rather than fail the cycle.
  next_renewal_try_ = now + kRenewalRetry;
  LogWarn("token renewal failed, using the current token until " + FormatTimestamp(expires_at_) +
          ": " + fresh.status().message());
  return header_;
}

void ClientCredentialsTokenProvider::Invalidate() {
  header_.clear();
  renew_at_ = expires_at_ = next_renewal_try_ = TimePoint{};
}

std::string ClientCredentialsTokenProvider::FormBody() const {
  return "grant_type=client_credentials&client_id=" + PercentEncode(options_.client_id) +
         "&client_secret=" + PercentEncode(options_.client_secret) +
         "&scope=" + PercentEncode(options_.scope);
}

Result<std::string> ClientCredentialsTokenProvider::Fetch(TimePoint now) {
  const std::string& url = options_.token_url;
  if (std::optional<TimePoint> until = gate_.BlockedUntil(now, Priority::kHigh)) {
    return Status(StatusCode::kRateLimited, "token request to " + url +
                                                " held back by the client-side rate limit until " +
                                                FormatTimestamp(*until));
  }
  HttpRequest request{"POST",
                      url,
                      {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"},
                       {"User-Agent", UserAgent()}},
                      FormBody()};
  Result<HttpResponse> response =
      SendCounted(http_, gate_, clock_, observer_, ApiOperation::kToken, request);
  if (!response.ok()) {
    return Status(response.status().code() == StatusCode::kBadResponse ? StatusCode::kBadResponse
                                                                       : StatusCode::kUnavailable,
                  "token request to " + url + " failed: " + response.status().message());
  }
  if (response->status != 200) return Refused(*response);
  Result<TokenResponse> token = DecodeTokenResponse(response->body);
  if (!token.ok()) {
    return Status(StatusCode::kBadResponse,
                  "token endpoint " + url + " answered 200 with " + token.status().message());
  }
  if (!IsBearer(token->token_type)) {
    return Status(StatusCode::kBadResponse, "token endpoint " + url + " issued a token of type \"" +
                                                token->token_type.substr(0, 32) + "\", not Bearer");
  }
  Seconds life = token->expires_in;
  // `now` is before the request: the token is at least as fresh as assumed.
  renew_at_ = now + (life > 2 * kRenewBefore ? life - kRenewBefore : life / 2);
  expires_at_ = now + life;
  next_renewal_try_ = TimePoint{};
  header_ = "Bearer " + token->access_token;
  return header_;
}

Status ClientCredentialsTokenProvider::Refused(const HttpResponse& response) const {
  long status = response.status;
  std::string text =
      "token endpoint " + options_.token_url + " answered HTTP " + std::to_string(status);
  if (std::optional<ApiErrorBody> error = DecodeErrorBody(response.body)) {
    if (!error->code.empty()) text += " " + error->code;
    if (!error->message.empty()) text += ": " + error->message;
  }
  StatusCode code = StatusCode::kBadResponse;
  if (status == 429) {
    code = StatusCode::kRateLimited;
  } else if (status >= 500) {
    code = StatusCode::kUnavailable;
  } else if (status == 400 || status == 401 || status == 403) {
    code = StatusCode::kPermissionDenied;  // invalid_client, invalid_scope, ...
  }
  return Status(code, Redact(std::move(text), options_.client_secret));
}

}  // namespace rcw
