// CurlHttpClient against the simulator and against a one-shot raw TCP server
// (for answers the simulator does not give).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <thread>
#include <vector>

#include "api/curl_http_client.h"
#include "api/sim_fixture.h"
#include "fakes/temp_dir.h"
#include "json/decode.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

// Accepts one connection on 127.0.0.1; for each of `replies`, reads a
// request head and writes the reply. Then closes (with a TCP RST when
// `reset`), or with `hold_open` first waits until the client hangs up.
class OneShotServer {
 public:
  OneShotServer(std::string reply, bool reset = false)
      : OneShotServer(std::vector<std::string>{std::move(reply)}, reset, false) {}
  OneShotServer(std::vector<std::string> replies, bool reset, bool hold_open) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, replies = std::move(replies), reset, hold_open] {
      Serve(replies, reset, hold_open);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/x"; }
  const std::string& request() const { return request_; }  // valid after the client returned

 private:
  void Serve(const std::vector<std::string>& replies, bool reset, bool hold_open) {
    int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buf[4096];
    size_t consumed = 0;  // request_ bytes of the heads already answered
    for (const std::string& reply : replies) {
      size_t end;
      while ((end = request_.find("\r\n\r\n", consumed)) == std::string::npos) {
        ssize_t n = ::read(conn, buf, sizeof buf);
        if (n <= 0) break;
        request_.append(buf, static_cast<size_t>(n));
      }
      if (end == std::string::npos) break;
      consumed = end + 4;
      for (size_t off = 0; off < reply.size();) {
        ssize_t n = ::write(conn, reply.data() + off, reply.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
    }
    while (hold_open && ::read(conn, buf, sizeof buf) > 0) {
    }
    if (reset) {
      linger lg{1, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::close(conn);
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

Result<HttpResponse> Get(CurlHttpClient& http, const std::string& url) {
  return http.Send(HttpRequest{"GET", url, {{"Accept", "application/json"}}, {}});
}

}  // namespace

TEST_CASE("header names are lower-cased and the last value wins", "[integration]") {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Correlation-ID: first\r\n"
      "x-correlation-id: second\r\nRetry-After:  7 \r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\n{}");
  CurlHttpClient http(CurlOptions{});
  Result<HttpResponse> r = Get(http, server.url());
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "{}");
  CHECK(r->Header("content-type") == "application/json");
  CHECK(r->Header("x-correlation-id") == "second");
  CHECK(r->Header("retry-after") == "7");
  for (const auto& [name, value] : r->headers) {
    for (char ch : name) CHECK_FALSE(std::isupper(static_cast<unsigned char>(ch)));
  }
  CHECK(r->body.capacity() >= r->body.size() + kJsonPadding);
  CHECK(r->elapsed.count() > 0);
}

TEST_CASE("request headers and the DELETE method reach the server", "[integration]") {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CurlHttpClient http(CurlOptions{});
  Result<HttpResponse> r =
      http.Send(HttpRequest{"DELETE", server.url(), {{"Authorization", "Bearer abc"}}, {}});
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(server.request().rfind("DELETE /x HTTP/1.1\r\n", 0) == 0);
  CHECK_THAT(server.request(), Catch::Contains("Authorization: Bearer abc\r\n"));
}

TEST_CASE("a body over the limit is refused without Content-Length too", "[integration]") {
  OneShotServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'x'));
  CurlOptions options;
  options.max_body_bytes = 4096;
  CurlHttpClient http(options);
  Result<HttpResponse> r = Get(http, server.url());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kBadResponse);
  CHECK(r.status().message() == "response body larger than 4096 bytes");
}

TEST_CASE("response headers over the limit are refused", "[integration]") {
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 1000; ++i) head += "X-Junk-" + std::to_string(i) + ": 12345678\r\n";
  OneShotServer server(head + "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
  CurlOptions options;
  options.max_header_bytes = 4096;
  CurlHttpClient http(options);
  Result<HttpResponse> r = Get(http, server.url());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kBadResponse);
  CHECK(r.status().message() == "response headers larger than 4096 bytes");
}

TEST_CASE("a header line over libcurl's own limit is named", "[integration]") {
  OneShotServer server("HTTP/1.1 200 OK\r\nX-Junk: " + std::string(200 << 10, 'a') +
                       "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  CurlOptions options;
  options.max_header_bytes = 1 << 20;
  CurlHttpClient http(options);
  Result<HttpResponse> r = Get(http, server.url());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::StartsWith("response header line too long"));
}

TEST_CASE("a timeout on an open connection is not a connect timeout", "[integration]") {
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
  const std::string stalled = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"jobs\":[";
  CurlOptions options;
  options.timeout = 1s;
  SECTION("a new connection") {
    OneShotServer server({stalled}, false, true);
    CurlHttpClient http(options);
    Result<HttpResponse> r = Get(http, server.url());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "timeout after 1s");
  }
  SECTION("a reused connection") {
    OneShotServer server({ok, stalled}, false, true);
    CurlHttpClient http(options);
    REQUIRE(Get(http, server.url()).ok());
    Result<HttpResponse> r = Get(http, server.url());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "timeout after 1s");
  }
}

TEST_CASE("a connection reset mid-body is a transport error", "[integration]") {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"jobs\":[", true);
  CurlHttpClient http(CurlOptions{});
  Result<HttpResponse> r = Get(http, server.url());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::StartsWith("connection"));
}

TEST_CASE("connection refused", "[integration]") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);  // nothing listens on this port now
  CurlHttpClient http(CurlOptions{});
  Result<HttpResponse> r =
      Get(http, "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::StartsWith("connection refused"));
}

TEST_CASE("only http and https URLs are fetched", "[integration]") {
  CurlHttpClient http(CurlOptions{});
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"}) {
    INFO(url);
    Result<HttpResponse> r = Get(http, url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("TLS: an unknown CA is refused and the right CA accepted", "[integration]") {
  SimProcess sim({.tls = true});
  REQUIRE(sim.ok());
  INFO(sim.error());
  std::string url = sim.origin() + "/_sim/config";

  CurlHttpClient system_only(CurlOptions{});
  Result<HttpResponse> refused = Get(system_only, url);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::StartsWith("TLS: certificate verify failed"));

  CurlOptions other;
  other.ca_file = sim.other_ca_file();
  CurlHttpClient wrong_ca(other);
  REQUIRE(wrong_ca.init_status().ok());
  Result<HttpResponse> refused_too = Get(wrong_ca, url);
  REQUIRE_FALSE(refused_too.ok());
  CHECK_THAT(refused_too.status().message(), Catch::StartsWith("TLS: certificate verify failed"));

  CurlOptions right;
  right.ca_file = sim.ca_file();
  CurlHttpClient right_ca(right);
  Result<HttpResponse> accepted = Get(right_ca, url);
  INFO((accepted.ok() ? "" : accepted.status().message()));
  REQUIRE(accepted.ok());
  CHECK(accepted->status == 200);
  // Keep-alive: a second request on the same client works as well.
  CHECK(Get(right_ca, url).ok());
  CHECK(Get(right_ca, "https://localhost:" + std::to_string(sim.port()) + "/_sim/config").ok());
}

TEST_CASE("TLS: ca_file adds to the system bundle instead of replacing it", "[integration]") {
  SimProcess sim({.tls = true});
  REQUIRE(sim.ok());
  // Pretend the test CA is the system's: an unrelated extra CA must not
  // shadow it (CURLOPT_CAINFO alone would).
  CurlOptions options;
  options.system_ca_file = sim.ca_file();
  options.ca_file = sim.other_ca_file();
  CurlHttpClient http(options);
  REQUIRE(http.init_status().ok());
  Result<HttpResponse> r = Get(http, sim.origin() + "/_sim/config");
  INFO((r.ok() ? "" : r.status().message()));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
}

TEST_CASE("an unusable ca_file fails set-up and every send, naming the file", "[integration]") {
  TempDir dir;
  CurlOptions missing;
  missing.ca_file = dir.File("nope.pem");
  CurlHttpClient a(missing);
  CHECK_FALSE(a.init_status().ok());
  CHECK_THAT(a.init_status().message(), Catch::Contains("nope.pem"));
  Result<HttpResponse> r = Get(a, "http://127.0.0.1:1/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("nope.pem"));

  std::string junk = dir.File("junk.pem");
  { std::ofstream(junk) << "not a certificate\n"; }
  CurlOptions no_cert;
  no_cert.ca_file = junk;
  CurlHttpClient b(no_cert);
  CHECK_THAT(b.init_status().message(), Catch::Contains("holds no PEM certificate"));
}

TEST_CASE("LibcurlVersion names libcurl, its TLS library and nghttp2", "[integration]") {
  std::string v = LibcurlVersion();
  CHECK_THAT(v, Catch::Matches(R"(libcurl \d+\.\d+\.\d+ \(.*OpenSSL/.*nghttp2/.*\))"));
}
