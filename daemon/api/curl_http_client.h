// CurlHttpClient: the production HttpClient, on libcurl (the only file that
// includes curl is curl_http_client.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "api/http_client.h"
#include "base/clock.h"
#include "base/status.h"

namespace rcw {

struct CurlOptions {
  Seconds timeout{30};          // whole request, connect included
  Seconds connect_timeout{10};
  // An EXTRA PEM bundle of CA certificates, trusted in addition to the system
  // bundle (both are handed to libcurl as one in-memory bundle, because
  // CURLOPT_CAINFO would replace the system bundle). TLS verification of peer
  // and host name is always on and cannot be turned off.
  std::optional<std::string> ca_file;
  // The system bundle; default: libcurl's built-in one (Debian:
  // /etc/ssl/certs/ca-certificates.crt). Tests point it elsewhere.
  std::optional<std::string> system_ca_file;
  std::size_t max_body_bytes = 64u << 20;  // bigger bodies fail with kBadResponse
  // All header lines of a response together (real API answers send a few
  // KiB); more fail with kBadResponse. libcurl itself refuses one header line
  // over 100 KiB (kUnavailable, "response header line too long ...").
  std::size_t max_header_bytes = 64u << 10;
  std::string user_agent;                  // when a request sets none
};

// One reused easy handle, so connections stay open between requests
// (keep-alive, HTTP/2 where the server offers it over TLS). Only http and
// https, also for redirects, which are never followed (a 3xx is returned as
// is). Response header names are lower-cased; the body's capacity leaves
// kJsonPadding spare bytes so PaddedJson::Borrow() needs no copy.
// Transport failures are kUnavailable with messages such as "timeout after
// 30s", "connect timeout after 10s" (only when no connection was made),
// "connection refused", "connection reset", "TLS: certificate verify failed:
// ..."; they never contain request headers. Not thread-safe: one client per
// thread.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlOptions options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // Not OK when set-up failed (an unreadable or certificate-less ca_file, no
  // curl handle); Send() then fails with this status without sending.
  const Status& init_status() const { return init_status_; }

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Status init_status_;
};

// "libcurl 7.88.1 (OpenSSL/3.0.19, nghttp2/1.52.0)", asked at run time.
std::string LibcurlVersion();

}  // namespace rcw
