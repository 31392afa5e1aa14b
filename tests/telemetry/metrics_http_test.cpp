// The /metrics endpoint over loopback: a tiny POSIX-socket GET, no curl.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "telemetry/exposition.h"
#include "telemetry/listen_address.h"
#include "telemetry/metrics.h"

namespace rcw {
namespace {

// GET `path` from 127.0.0.1:port with HTTP/1.0 (no chunking, server closes).
// Returns the whole response, headers included; "" when it cannot connect.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

std::string Body(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

std::unique_ptr<Metrics> OnFreePort() {
  auto created = Metrics::Create("127.0.0.1:0");
  REQUIRE(created.ok());
  std::unique_ptr<Metrics> m = std::move(created).value();
  REQUIRE(m->port() > 0);
  return m;
}

TEST_CASE("a scrape of /metrics returns what Render() shows") {
  auto m = OnFreePort();
  m->DeclarePolicies({"p"}, {"b"});
  m->Violation("p", "max_queued");
  m->ApiRequest("get_job", 404, 0.1);
  std::string response = HttpGet(m->port(), "/metrics");
  REQUIRE(response.rfind("HTTP/1.", 0) == 0);
  CHECK(response.find(" 200 ") != std::string::npos);
  std::string body = Body(response);
  std::string rendered = m->Render();
  // Process metrics move between the two reads; ours must be identical.
  CHECK(testing::LinesWith(body, "rc_watchdog_") == testing::LinesWith(rendered, "rc_watchdog_"));
  CHECK(testing::Sample(body,
                        "rc_watchdog_api_requests_total{code=\"404\",operation=\"get_job\"}") == 1);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_start_time_seconds"}) {
    INFO(name);
    CHECK(testing::Sample(body, name).has_value());
  }
}

TEST_CASE("no listen address means no endpoint") {
  auto created = Metrics::Create("");
  REQUIRE(created.ok());
  CHECK((*created)->port() == 0);
}

TEST_CASE("a busy port is an error Result and not an exception") {
  auto first = OnFreePort();
  Result<std::unique_ptr<Metrics>> second =
      Metrics::Create("127.0.0.1:" + std::to_string(first->port()));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK(second.status().message().find("127.0.0.1:") != std::string::npos);
  // The first endpoint still serves.
  CHECK(Body(HttpGet(first->port(), "/metrics")).find("rc_watchdog_build_info") !=
        std::string::npos);
}

TEST_CASE("a malformed listen address is a config error") {
  for (const char* bad : {"9877", "localhost", ":9877", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:x", "::1:9877", "[]:80"}) {
    INFO(bad);
    Result<std::unique_ptr<Metrics>> m = Metrics::Create(bad);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kInvalidConfig);
  }
}

TEST_CASE("ParseListenAddress splits host and port") {
  Result<ListenAddress> v4 = ParseListenAddress("127.0.0.1:9877");
  REQUIRE(v4.ok());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9877);
  Result<ListenAddress> v6 = ParseListenAddress("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);
}

TEST_CASE("the destructor returns fast even after a scrape") {
  // A scrape of some size leaves civetweb's accept loop back in its 2 s poll
  // (the race ListenerWaker exists for); a few rounds make a lucky pass unlikely.
  for (int round = 0; round < 3; ++round) {
    auto m = OnFreePort();
    m->DeclarePolicies({"a", "b", "c"}, {"d"});
    int port = m->port();
    CHECK_FALSE(HttpGet(port, "/metrics").empty());
    auto start = std::chrono::steady_clock::now();
    m.reset();
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < std::chrono::milliseconds(500));
    CHECK(HttpGet(port, "/metrics").empty());  // the port is closed
  }
}

}  // namespace
}  // namespace rcw
