// HttpClient: the one seam between rc-watchdog and the network, so tests can
// replace it with a fake (tests/fakes/fake_http_client.h). The production
// implementation is CurlHttpClient (curl_http_client.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace rcw {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, DELETE
  std::string url;             // absolute http:// or https:// URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  long status = 0;
  // Header names lower-cased; the last value wins for repeated headers.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Wall time from sending to the end of the body.
  std::chrono::duration<double> elapsed{0};

  // Case-insensitive lookup; `name` must be lower case.
  std::optional<std::string_view> Header(std::string_view name) const {
    for (auto& [k, v] : headers) {
      if (k == name) return std::string_view(v);
    }
    return std::nullopt;
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request. Any HTTP status is a successful Result; a transport
  // failure is kUnavailable ("timeout", "connection reset", "TLS: ...") and a
  // body over the size limit is kBadResponse. The message never includes
  // request headers (they carry the bearer token).
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace rcw
