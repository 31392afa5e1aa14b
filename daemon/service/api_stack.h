// The API client and what it stands on (HTTP, rate gate, tokens), built from
// a Config. Shared by `run`, `plan` and `cancel`.
#pragma once

#include <memory>

#include "api/curl_http_client.h"
#include "api/rc_client.h"
#include "api/request_gate.h"
#include "api/token_provider.h"
#include "config/config.h"

namespace rcw {

class ApiStack {
 public:
  // `clock` is the uncorrected local clock (the Date-header correction is
  // measured against it); `observer` may be null. Both must outlive the stack.
  ApiStack(const Config& config, const Clock& clock, ApiObserver* observer);
  RealityConversionClient& client() { return client_; }
  RequestGate& gate() { return gate_; }

 private:
  CurlHttpClient http_;
  RequestGate gate_;
  ClientCredentialsTokenProvider tokens_;
  RealityConversionClient client_;
};

}  // namespace rcw
