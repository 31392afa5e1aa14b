// The one translation unit that uses libcurl.
#include "api/curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "json/decode.h"

namespace rcw {
namespace {

void GlobalInit() {
  // curl_global_init is not safe to race with itself or with other curl use.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kUnavailable, "TLS: cannot read CA file " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The system bundle followed by the extra one: CURLOPT_CAINFO_BLOB replaces
// CURLOPT_CAINFO, so "extra" means handing libcurl both. (The built-in
// CURLOPT_CAPATH directory, if any, stays in force as well.)
Result<std::string> CombinedCaBundle(const CurlOptions& options) {
  Result<std::string> extra = ReadFile(*options.ca_file);
  if (!extra.ok()) return extra;
  if (extra->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status(StatusCode::kUnavailable,
                  "TLS: CA file " + *options.ca_file + " holds no PEM certificate");
  }
  std::string system_path;
  if (options.system_ca_file) {
    system_path = *options.system_ca_file;
  } else if (const char* builtin = curl_version_info(CURLVERSION_NOW)->cainfo) {
    system_path = builtin;
  }
  std::string bundle;
  if (!system_path.empty()) {
    Result<std::string> system = ReadFile(system_path);
    if (system.ok()) bundle = std::move(*system) + "\n";  // no system bundle: extra only
  }
  return bundle + *extra;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// State of one transfer, shared with the callbacks.
struct Transfer {
  HttpResponse response;
  std::size_t max_body = 0;
  bool too_large = false;
  std::size_t max_header_bytes = 0;
  std::size_t header_bytes = 0;  // every header line of the transfer, 1xx included
  bool headers_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string& body = t->response.body;
  if (body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (body.capacity() < body.size() + n + kJsonPadding) {
    // Doubling, but never past the limit, so a body just under it does not
    // cost twice the limit. (Not body.reserve(): libstdc++ rounds any growth
    // up to twice the old capacity; a fresh string gets exactly what it asks.)
    std::string bigger;
    bigger.reserve(std::min(std::max(body.capacity() * 2, body.size() + n + kJsonPadding),
                            t->max_body + kJsonPadding));
    bigger.append(body);
    body.swap(bigger);
  }
  body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > t->max_header_bytes) {
    t->headers_too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {  // a status line starts a new response
    t->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = Trim(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = Trim(line.substr(colon + 1));
  if (name == "content-length") {
    // Room for the whole body and the decoder's padding at once; a length
    // over the limit reserves nothing (libcurl then aborts the transfer).
    unsigned long long length = std::strtoull(value.c_str(), nullptr, 10);
    if (length <= t->max_body) t->response.body.reserve(length + kJsonPadding);
  }
  auto& headers = t->response.headers;
  auto same = [&](const auto& h) { return h.first == name; };
  headers.erase(std::remove_if(headers.begin(), headers.end(), same), headers.end());
  headers.emplace_back(std::move(name), std::move(value));  // the last value wins
  return n;
}

Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

Status TransportError(CURLcode code, CURL* handle, const char* errbuf, const CurlOptions& options) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
  long os_errno = 0;
  curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
      // Connected (or reusing a connection) once the request is about to
      // go: CURLINFO_CONNECT_TIME_T is 0 on a reused connection too.
      curl_off_t pretransfer_us = 0;
      curl_easy_getinfo(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
      if (pretransfer_us == 0) {
        return Unavailable(
            "connect timeout after " +
            std::to_string(std::min(options.connect_timeout, options.timeout).count()) + "s");
      }
      return Unavailable("timeout after " + std::to_string(options.timeout.count()) + "s");
    }
    case CURLE_OUT_OF_MEMORY:
      // libcurl 7.88 reports a header line over its 100 KiB limit this way.
      return Unavailable("response header line too long (over libcurl's 100 KiB) or out of memory");
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) return Unavailable("connection refused: " + detail);
      return Unavailable("cannot connect: " + detail);
    case CURLE_COULDNT_RESOLVE_HOST:
      return Unavailable("cannot resolve host: " + detail);
    case CURLE_GOT_NOTHING:
      return Unavailable("connection reset: closed without a response");
    case CURLE_PARTIAL_FILE:
      return Unavailable("connection reset: body truncated");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno == ECONNRESET) return Unavailable("connection reset: " + detail);
      return Unavailable("connection error: " + detail);
    case CURLE_PEER_FAILED_VERIFICATION:
      return Unavailable("TLS: certificate verify failed: " + detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return Unavailable("TLS: " + detail);
    case CURLE_FILESIZE_EXCEEDED:
      return Status(
          StatusCode::kBadResponse,
          "response body larger than " + std::to_string(options.max_body_bytes) + " bytes");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Status(StatusCode::kInvalidArgument, "bad URL: " + detail);
    default:
      return Unavailable(detail);
  }
}

}  // namespace

struct CurlHttpClient::Impl {
  CURL* handle = nullptr;
  CurlOptions options;
  std::string ca_bundle;  // empty: libcurl's defaults

  void SetOptions(const HttpRequest& request, curl_slist* headers, Transfer& t, char* errbuf);
};

void CurlHttpClient::Impl::SetOptions(const HttpRequest& request, curl_slist* headers, Transfer& t,
                                      char* errbuf) {
  // Reset between requests: it keeps live connections and caches, and no
  // option of the previous request (method, body) can leak into this one.
  curl_easy_reset(handle);
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_bundle.empty()) {
    curl_blob blob{ca_bundle.data(), ca_bundle.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
  }
  curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count() * 1000));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count() * 1000));
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");  // the limit applies after decoding
  curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options.max_body_bytes));
  if (!options.user_agent.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERAGENT, options.user_agent.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  if (request.method == "GET") {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    if (request.method != "POST") {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
}

CurlHttpClient::CurlHttpClient(CurlOptions options) : impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->options = std::move(options);
  impl_->handle = curl_easy_init();
  if (impl_->handle == nullptr) {
    init_status_ = Status(StatusCode::kInternal, "curl_easy_init failed");
    return;
  }
  if (impl_->options.ca_file) {
    Result<std::string> bundle = CombinedCaBundle(impl_->options);
    if (!bundle.ok()) {
      init_status_ = bundle.status();
      return;
    }
    impl_->ca_bundle = std::move(*bundle);
  }
}

CurlHttpClient::~CurlHttpClient() {
  if (impl_->handle != nullptr) curl_easy_cleanup(impl_->handle);
}

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  if (!init_status_.ok()) return init_status_;
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  Transfer t;
  t.max_body = impl_->options.max_body_bytes;
  t.max_header_bytes = impl_->options.max_header_bytes;
  char errbuf[CURL_ERROR_SIZE] = {};
  impl_->SetOptions(request, headers, t, errbuf);
  CURLcode code = curl_easy_perform(impl_->handle);
  curl_slist_free_all(headers);  // the list held the bearer token: gone now
  if (t.too_large) {
    return Status(StatusCode::kBadResponse,
                  "response body larger than " + std::to_string(t.max_body) + " bytes");
  }
  if (t.headers_too_large) {
    return Status(StatusCode::kBadResponse,
                  "response headers larger than " + std::to_string(t.max_header_bytes) + " bytes");
  }
  if (code != CURLE_OK) return TransportError(code, impl_->handle, errbuf, impl_->options);
  curl_easy_getinfo(impl_->handle, CURLINFO_RESPONSE_CODE, &t.response.status);
  curl_off_t total_us = 0;
  curl_easy_getinfo(impl_->handle, CURLINFO_TOTAL_TIME_T, &total_us);
  t.response.elapsed = std::chrono::duration<double>(static_cast<double>(total_us) / 1e6);
  std::string& body = t.response.body;
  if (body.capacity() < body.size() + kJsonPadding) body.reserve(body.size() + kJsonPadding);
  return std::move(t.response);
}

std::string LibcurlVersion() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  std::string out = std::string("libcurl ") + info->version;
  std::string parts;
  if (info->ssl_version) parts = info->ssl_version;
  if (info->age >= CURLVERSION_SIXTH && info->nghttp2_version) {
    parts += (parts.empty() ? "" : ", ") + std::string("nghttp2/") + info->nghttp2_version;
  }
  if (!parts.empty()) out += " (" + parts + ")";
  return out;
}

}  // namespace rcw
