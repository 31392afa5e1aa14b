// The client stack wired to a running simulator, for the integration tests
// of tests/api (*_integration_test.cpp, tag [integration]).
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "api/curl_http_client.h"
#include "api/rc_client.h"
#include "api/request_gate.h"
#include "api/token_provider.h"
#include "fakes/fake_api.h"
#include "fakes/sim_process.h"

namespace rcw::testing {

constexpr const char* kSimClientId = "rcw-test";
constexpr const char* kSimSecret = "s3cret";
constexpr const char* kSimItwin = "ce54f773-67db-4b4f-a98b-368329107429";

// A control request that must succeed; returns the response body.
inline std::string MustControl(SimProcess& sim, std::string_view method, std::string_view path,
                               std::string_view body = {}) {
  Result<HttpResponse> r = sim.Control(method, path, body);
  INFO(method << " " << path << " " << body);
  REQUIRE(r.ok());
  INFO(r->body);
  REQUIRE(r->status == 200);
  return r->body;
}

inline int CountOf(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// Requests of `op` in the simulator's log ("token", "list_jobs", ...).
inline int LoggedRequests(SimProcess& sim, std::string_view op) {
  return CountOf(MustControl(sim, "GET", "/_sim/requests?op=" + std::string(op)), "\"seq\":");
}

// CurlHttpClient, gate, token provider and client against `sim`.
struct SimClient {
  SimClient(SimProcess& sim, const Clock& clock, CurlOptions curl = {},
            std::string secret = kSimSecret)
      : http(WithCa(sim, std::move(curl))),
        gate(clock),
        tokens(http, clock, gate, &observer,
               TokenOptions{sim.token_url(), kSimClientId, std::move(secret), "itwin-platform"}),
        client(http, tokens, gate, clock, &observer, ClientOptions{sim.base_url()}) {
    REQUIRE(http.init_status().ok());
  }

  static CurlOptions WithCa(SimProcess& sim, CurlOptions curl) {
    if (!sim.ca_file().empty() && !curl.ca_file) curl.ca_file = sim.ca_file();
    return curl;
  }

  CurlHttpClient http;
  RecordingObserver observer;
  RequestGate gate;
  ClientCredentialsTokenProvider tokens;
  RealityConversionClient client;
};

// A job spec for POST /_sim/jobs: `id`, in our iTwin, created `ago` seconds
// before the simulator's now, with the given timeline.
inline std::string JobSpec(const std::string& id, int ago, int queue_s, int run_s,
                           int save_s = 30) {
  return R"({"id":")" + id + R"(","itwin_id":")" + kSimItwin + R"(","created_ago":)" +
         std::to_string(ago) + R"(,"queue_seconds":)" + std::to_string(queue_s) +
         R"(,"run_seconds":)" + std::to_string(run_s) + R"(,"save_seconds":)" +
         std::to_string(save_s) + "}";
}

inline ListQuery SimQuery(int page_size = 1000) {
  ListQuery q;
  q.itwin_id = kSimItwin;
  q.page_size = page_size;
  return q;
}

}  // namespace rcw::testing
