// Access tokens for the iTwin platform: the TokenSource interface the API
// client uses, and its OAuth2 client-credentials implementation.
#pragma once

#include <string>

#include "api/api_observer.h"
#include "api/http_client.h"
#include "api/request_gate.h"
#include "base/clock.h"
#include "base/status.h"

namespace rcw {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The Authorization header value, "Bearer <token>". Errors:
  // kRateLimited (a 429, or the gate is closed: nothing was sent),
  // kUnavailable (transport failure, 5xx), kPermissionDenied (the endpoint
  // refused the credentials), kBadResponse (an answer we cannot use).
  virtual Result<std::string> BearerToken() = 0;
  // Forgets the cached token (the API answered 401); the next BearerToken()
  // fetches a new one.
  virtual void Invalidate() = 0;
};

struct TokenOptions {
  std::string token_url;  // e.g. https://ims.bentley.com/connect/token
  std::string client_id;
  std::string client_secret;  // never logged, never in an error message
  std::string scope = "itwin-platform";
};

// POSTs grant_type=client_credentials to token_url (form-encoded) and caches
// the token. Renewal: 5 minutes before expiry, or at half of the lifetime
// when that is 10 minutes or less. If a renewal fails while the cached token
// is still valid for kMinValidity, the cached one is used and the renewal is
// retried at most every kRenewalRetry. Token requests pass the gate with
// Priority::kHigh (every operation needs a token). Error messages name the
// token URL, the HTTP status and the server's error code, never the secret
// or a token.
class ClientCredentialsTokenProvider final : public TokenSource {
 public:
  static constexpr Seconds kMinValidity{30};
  static constexpr Seconds kRenewalRetry{30};

  // All references must outlive the provider; `observer` may be null.
  ClientCredentialsTokenProvider(HttpClient& http, const Clock& clock, RequestGate& gate,
                                 ApiObserver* observer, TokenOptions options);

  Result<std::string> BearerToken() override;
  void Invalidate() override;

  // When the cached token will be renewed; the epoch when none is cached.
  TimePoint renew_at() const { return renew_at_; }

 private:
  Result<std::string> Fetch(TimePoint now);
  Status Refused(const HttpResponse& response) const;
  std::string FormBody() const;

  HttpClient& http_;
  const Clock& clock_;
  RequestGate& gate_;
  ApiObserver* observer_;
  TokenOptions options_;
  std::string header_;  // "Bearer ..."; empty when no token is cached
  TimePoint renew_at_{};
  TimePoint expires_at_{};
  TimePoint next_renewal_try_{};
};

}  // namespace rcw
