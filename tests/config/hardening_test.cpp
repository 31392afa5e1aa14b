// Issue 10's config items: RE2 regexes (no crash on long names, whole name
// searched, RE2-only syntax refused), GUIDs lower-cased at load, duplicate
// watched iTwins, https-only endpoints and enforcement.circuit_breaker_min_jobs.
#include <catch2/catch.hpp>

#include "config/config_test_util.h"
#include "config/match.h"

using namespace rcw;
using namespace rcw::testing;

namespace {

Job Named(std::string name) {
  Job job;
  job.id = "0b9a4f3c-1d2e-4f5a-8b6c-7d8e9f0a1b2c";
  job.name = std::move(name);
  return job;
}

const PolicyConfig& OnlyPolicy(const LoadResult& r) {
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  REQUIRE(r.config->policies.size() == 1);
  return r.config->policies[0];
}

}  // namespace

TEST_CASE("regexes are RE2: what RE2 cannot compile is an error at its position") {
  const std::string base =
      std::string(kServiceOnly) + "policies:\n  - name: p\n    limits: {max_runtime: 1h}\n";
  // Line 9: "    exempt: {name_regex: ..." -> the value at column 26.
  CheckOneError(base + "    exempt: {name_regex: \"^(?=nightly)\"}\n", "9:26",
                "policies[0].exempt.name_regex",
                "\"^(?=nightly)\" is not a valid regular expression: invalid perl operator: (?=");
  CheckOneError(base + "    match: {name_regex: '(a)\\1'}\n", "9:25",
                "policies[0].match.name_regex",
                "\"(a)\\1\" is not a valid regular expression: invalid escape sequence: \\1");
  CheckOneError(base + "    match: {name_regex: '(?<!x)y'}\n", "9:25",
                "policies[0].match.name_regex", "use RE2 syntax, as in Prometheus");
}

TEST_CASE("a 100,000-character job name is evaluated, not a crash") {
  LoadResult r = Load(std::string(kServiceOnly) +
                      "policies:\n  - name: p\n    limits: {max_runtime: 1h}\n"
                      "    exempt: {name_regex: \"^nightly-[a-z]+$\"}\n");
  const PolicyConfig& p = OnlyPolicy(r);
  std::string long_name = "nightly-" + std::string(100000 - 8, 'a');
  REQUIRE(long_name.size() == 100000);
  CHECK(IsExempt(p.exempt, Named(long_name)));
  long_name.back() = '7';  // the last character decides: the whole name was read
  CHECK_FALSE(IsExempt(p.exempt, Named(long_name)));
}

TEST_CASE("a regex is searched over the whole name, however long") {
  LoadResult r = Load(std::string(kServiceOnly) +
                      "policies:\n  - name: p\n    limits: {max_runtime: 1h}\n"
                      "    exempt: {name_regex: \"-keep$\"}\n");
  const PolicyConfig& p = OnlyPolicy(r);
  std::string name = std::string(1000000 - 5, 'x') + "-keep";
  REQUIRE(name.size() == 1000000);
  CHECK(IsExempt(p.exempt, Named(name)));
  CHECK_FALSE(IsExempt(p.exempt, Named(name + "s")));
  // UTF-8: "é" is one character to `.`.
  Result<Regex> one_char = Regex::Compile("^caf.$");
  REQUIRE(one_char.ok());
  CHECK(one_char->Search("caf\xc3\xa9"));
}

TEST_CASE("GUIDs are lower-cased at load: upper-case ids match lower-case job fields") {
  LoadResult r = Load(std::string(kServiceOnly) +
                      "watch:\n  itwins: [CE54F773-67DB-4B4F-A98B-368329107429]\n"
                      "policies:\n  - name: p\n    limits: {max_runtime: 1h}\n"
                      "    match:\n"
                      "      itwins: [CE54F773-67DB-4B4F-A98B-368329107429]\n"
                      "      users: [3A8670F9-B69F-4A60-B958-F103D580755F]\n"
                      "    exempt: {ids: [5E315451-564E-4E8B-A952-45B14E6A9C90]}\n");
  const PolicyConfig& p = OnlyPolicy(r);
  CHECK(r.config->watch.itwins == std::vector<std::string>{"ce54f773-67db-4b4f-a98b-368329107429"});
  Job job = Named("survey");
  job.id = "5e315451-564e-4e8b-a952-45b14e6a9c90";
  job.itwin_id = "ce54f773-67db-4b4f-a98b-368329107429";
  job.user_id = "3a8670f9-b69f-4a60-b958-f103d580755f";
  CHECK(IsExempt(p.exempt, job));
  CHECK(Matches(p.match, job));
  job.id = "5e315451-564e-4e8b-a952-45b14e6a9c91";
  CHECK_FALSE(IsExempt(p.exempt, job));
}

TEST_CASE("watch.itwins lists each iTwin once, in any case") {
  // kMinimal has nine lines: "watch:" is line 10, the items 12..14.
  CheckOneError(std::string(kMinimal) +
                    "watch:\n  itwins:\n    - ce54f773-67db-4b4f-a98b-368329107429\n"
                    "    - 3a8670f9-b69f-4a60-b958-f103d580755f\n"
                    "    - CE54F773-67db-4b4f-a98b-368329107429\n",
                "14:7", "watch.itwins[2]",
                "\"CE54F773-67db-4b4f-a98b-368329107429\" is listed twice (also at line 12");
}

TEST_CASE("http:// is refused for the API and the token endpoint, except on loopback") {
  const std::string policies = "policies:\n  - name: p1\n    limits: {max_runtime: 2h}\n";
  auto yaml = [&](const std::string& base_url, const std::string& token_url) {
    return "api:\n  base_url: " + base_url + "\nauth:\n  token_url: " + token_url +
           "\n  client_id: c\n" + policies;
  };
  const std::string https_api = "https://api.bentley.com/reality-conversion";
  const std::string https_token = "https://ims.bentley.com/connect/token";
  CheckOneError(yaml("http://api.bentley.com/reality-conversion", https_token), "2:13",
                "api.base_url", "uses http://, so the bearer token would travel in clear text");
  CheckOneError(yaml(https_api, "HTTP://ims.bentley.com/connect/token"), "4:14", "auth.token_url",
                "uses http://, so the client secret would travel in clear text");
  for (const char* not_loopback : {"http://128.0.0.1:8080", "http://localhost.example.com",
                                   "http://[::2]:8080", "http://10.0.0.1"}) {
    INFO(not_loopback);
    CheckOneError(yaml(https_api, not_loopback), "4:14", "auth.token_url", "use https://");
  }
  for (const char* loopback : {"http://127.0.0.1:8080", "http://127.45.6.7", "http://[::1]:9000",
                               "http://localhost:8080", "http://LocalHost"}) {
    INFO(loopback);
    CheckLoads(yaml(std::string(loopback) + "/rc", std::string(loopback) + "/token"));
  }
}

TEST_CASE("enforcement.circuit_breaker_min_jobs: default 3, an integer >= 1") {
  LoadResult defaults = Load(kMinimal);
  REQUIRE(defaults.ok());
  CHECK(defaults.config->enforcement.circuit_breaker_min_jobs == 3);
  LoadResult five = Load(std::string(kMinimal) + "enforcement:\n  circuit_breaker_min_jobs: 5\n");
  REQUIRE(five.ok());
  CHECK(five.config->enforcement.circuit_breaker_min_jobs == 5);
  CheckOneError(std::string(kMinimal) + "enforcement:\n  circuit_breaker_min_jobs: 0\n", "11:29",
                "enforcement.circuit_breaker_min_jobs", "0 is out of range (use an integer >= 1)");
  CheckOneError(std::string(kMinimal) + "circuit_breaker_min_jobs: 2\n", "10:1",
                "circuit_breaker_min_jobs", "enforcement");
}
