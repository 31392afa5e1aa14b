// Every validation rule, each with the exact position and path of its error.
#include <catch2/catch.hpp>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;

namespace {

struct Case {
  const char* yaml;      // appended to a base config
  const char* position;  // LINE:COL of the single error
  const char* path;
  const char* message;  // a substring of the error
};

void CheckCases(const std::string& base, std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    CheckOneError(base + c.yaml, c.position, c.path, c.message);
  }
}

}  // namespace

TEST_CASE("service sections: wrong values are reported at the value") {
  // kMinimal has nine lines; these start at line 10.
  CheckCases(
      kMinimal,
      {
          {"watch:\n  poll_interval: 0s\n", "11:18", "watch.poll_interval", "\"0s\" is zero"},
          {"watch:\n  poll_interval: 2 hours\n", "11:18", "watch.poll_interval",
           "\"2 hours\" is not a duration (use 90s, 30m, 2h, 1d)"},
          {"watch:\n  poll_interval: -30s\n", "11:18", "watch.poll_interval", "is negative"},
          {"watch:\n  page_size: 0\n", "11:14", "watch.page_size",
           "0 is out of range (use an integer 1..1000)"},
          {"watch:\n  page_size: 1001\n", "11:14", "watch.page_size", "out of range"},
          {"watch:\n  page_size: 2.5\n", "11:14", "watch.page_size", "\"2.5\" is not an integer"},
          {"watch:\n  page_size: \"100\"\n", "11:14", "watch.page_size",
           "\"100\" is quoted, so it is a string"},
          {"watch:\n  lookback: 0d\n", "11:13", "watch.lookback", "is zero"},
          {"watch:\n  lookback: 10s\n", "11:13", "watch.lookback",
           "lookback 10s is shorter than poll_interval 30s"},
          {"watch:\n  full_listing_interval: 0s\n", "11:26", "watch.full_listing_interval",
           "\"0s\" is zero"},
          {"watch:\n  full_listing_interval: -1h\n", "11:26", "watch.full_listing_interval",
           "is negative"},
          {"watch:\n  full_listing_interval: hourly\n", "11:26", "watch.full_listing_interval",
           "\"hourly\" is not a duration"},
          {"watch:\n  itwins: ce54f773-67db-4b4f-a98b-368329107429\n", "11:11", "watch.itwins",
           "expected a list"},
          {"watch:\n  itwins: [ce54f773-67db-4b4f-a98b-36832910742]\n", "11:12", "watch.itwins[0]",
           "is not an id (use a GUID"},
          {"watch:\n  itwins:\n    - {id: x}\n", "12:7", "watch.itwins[0]",
           "expected an id (a GUID), found a mapping"},
          {"enforcement:\n  dry_run: yes\n", "11:12", "enforcement.dry_run",
           "\"yes\" is not a boolean (use true or false)"},
          {"enforcement:\n  dry_run: \"true\"\n", "11:12", "enforcement.dry_run", "quoted"},
          {"enforcement:\n  dry_run:\n", "11:3", "enforcement.dry_run", "found an empty value"},
          {"enforcement:\n  max_cancel_fraction: 0\n", "11:24", "enforcement.max_cancel_fraction",
           "0 is out of range (use a fraction in (0, 1]"},
          {"enforcement:\n  max_cancel_fraction: 1.5\n", "11:24", "enforcement.max_cancel_fraction",
           "1.5 is out of range"},
          {"enforcement:\n  max_cancel_fraction: .nan\n", "11:24",
           "enforcement.max_cancel_fraction", "is not a number"},
          {"enforcement:\n  max_cancels_per_cycle: 0\n", "11:26",
           "enforcement.max_cancels_per_cycle", "0 is out of range (use an integer >= 1)"},
          {"enforcement:\n  max_cancels_per_hour: -1\n", "11:25",
           "enforcement.max_cancels_per_hour", "out of range"},
          {"enforcement:\n  retry:\n    initial: 10s\n    max: 5s\n", "13:10",
           "enforcement.retry.max", "retry.max 5s is less than retry.initial 10s"},
          {"enforcement:\n  retry:\n    initial: 10m\n", "12:14", "enforcement.retry.initial",
           "retry.max 5m is less than retry.initial 10m"},
          {"enforcement:\n  retry:\n    initial: 0s\n", "12:14", "enforcement.retry.initial",
           "zero"},
          {"enforcement:\n  retry:\n    max_attempts: 0\n", "12:19",
           "enforcement.retry.max_attempts", "out of range"},
          {"enforcement:\n  retry: 3\n", "11:10", "enforcement.retry", "expected a mapping"},
          {"metrics:\n  listen: 9877\n", "11:11", "metrics.listen", "is not host:port"},
          {"metrics:\n  listen: localhost:70000\n", "11:11", "metrics.listen", "port 0..65535"},
          {"metrics:\n  listen: \"localhost:\"\n", "11:11", "metrics.listen", "is not host:port"},
          {"metrics:\n  listen: \":9877\"\n", "11:11", "metrics.listen", "is not host:port"},
          {"metrics:\n  listen: \"::1:9877\"\n", "11:11", "metrics.listen", "[::1]:9877"},
          {"log:\n  level: verbose\n", "11:10", "log.level",
           "\"verbose\" is not a valid value (use trace, debug, info, warn or error)"},
          {"log:\n  format: JSON\n", "11:11", "log.format", "did you mean `json`?"},
          {"estimates:\n  pu_per_hour:\n    MeshSamplng: 3\n", "12:5",
           "estimates.pu_per_hour.MeshSamplng", "unknown key; did you mean `MeshSampling`?"},
          {"estimates:\n  pu_per_hour:\n    MeshSampling: 0\n", "12:19",
           "estimates.pu_per_hour.MeshSampling", "out of range (use a number > 0)"},
          {"estimates:\n  learn: 0\n", "11:10", "estimates.learn", "is not a boolean"},
          {"state:\n  directory: \"\"\n", "11:14", "state.directory", "is empty"},
          {"state:\n  history_retention: 0d\n", "11:22", "state.history_retention", "is zero"},
          {"state:\n  history_retention: forever\n", "11:22", "state.history_retention",
           "\"forever\" is not a duration"},
          {"policies2: []\n", "10:1", "policies2", "did you mean `policies`?"},
          {"Watch: {}\n", "10:1", "Watch", "did you mean `watch`?"},
          {"poll_interval: 10s\n", "10:1", "poll_interval", "it belongs under `watch:`"},
          {"frobnicate: 1\n", "10:1", "frobnicate", "unknown key (use api, auth, watch,"},
      });
}

TEST_CASE("api and auth: required keys, URLs, files") {
  const std::string auth =
      "auth:\n"
      "  token_url: https://ims.bentley.com/connect/token\n"
      "  client_id: c\n"
      "policies: [{name: p, limits: {max_runtime: 1h}}]\n";
  CheckCases(auth, {
                       {"", "1:1", "api", "required key is missing"},
                   });
  const std::string tail = auth;  // api first, then this
  CheckOneError("api:\n  timeout: 5s\n" + tail, "1:1", "api.base_url", "required key is missing");
  CheckOneError("api:\n" + tail, "1:1", "api.base_url", "required key is missing");
  CheckOneError("api:\n  base_url: https://api.bentley.com/realityconversion\n" + tail, "2:13",
                "api.base_url",
                "this is the v1 Reality Conversion API (DELETE deletes jobs there); use the v2 "
                "API, .../reality-conversion");
  CheckOneError("api:\n  base_url: https://api.bentley.com/RealityConversion/\n" + tail, "2:13",
                "api.base_url", "v1 Reality Conversion API");
  CheckOneError("api:\n  base_url: https://api.bentley.com/reality-conversion?x=1\n" + tail, "2:13",
                "api.base_url", "has a query or fragment");
  CheckOneError("api:\n  base_url: https://api.bentley.com/reality-conversion#top\n" + tail, "2:13",
                "api.base_url", "has a query or fragment");
  CheckOneError("api:\n  base_url: ftp://api.bentley.com/reality-conversion\n" + tail, "2:13",
                "api.base_url", "is not an http or https URL");
  CheckOneError("api:\n  base_url: https://user:pw@api.bentley.com/reality-conversion\n" + tail,
                "2:13", "api.base_url", "user info in the URL is refused");
  CheckOneError("api:\n  base_url: https:///reality-conversion\n" + tail, "2:13", "api.base_url",
                "has no valid host");
  const std::string api = "api:\n  base_url: https://api.bentley.com/reality-conversion\n";
  CheckOneError(api + "  timeout: 0s\n" + auth, "3:12", "api.timeout", "is zero");
  CheckOneError(api + "  max_requests_per_minute: 5001\n" + auth, "3:28",
                "api.max_requests_per_minute", "out of range (use an integer 1..5000)");
  CheckOneError(api + "  max_requests_per_minute: 0\n" + auth, "3:28",
                "api.max_requests_per_minute", "out of range");
  CheckOneError(api + "  max_requests_per_hour: 300001\n" + auth, "3:26",
                "api.max_requests_per_hour", "out of range (use an integer 1..300000)");
  CheckOneError(api + "  ca_file: /nonexistent/ca.pem\n" + auth, "3:12", "api.ca_file",
                "cannot read \"/nonexistent/ca.pem\": no such file");
  CheckOneError(api + "  ca_file: /tmp\n" + auth, "3:12", "api.ca_file", "not a regular file");
  CheckOneError(api + "  timout: 5s\n" + auth, "3:3", "api.timout", "did you mean `timeout`?");
  const std::string policy = "policies: [{name: p, limits: {max_runtime: 1h}}]\n";
  CheckOneError(api + policy, "1:1", "auth", "required key is missing");
  CheckOneError(api + "auth:\n  client_id: c\n" + policy, "3:1", "auth.token_url",
                "required key is missing");
  CheckOneError(api + "auth:\n  token_url: https://ims.bentley.com/connect/token\n" + policy, "3:1",
                "auth.client_id", "required key is missing");
  CheckOneError(api + "auth:\n  token_url: ims.bentley.com\n  client_id: c\n" + policy, "4:14",
                "auth.token_url", "is not an http or https URL");
  CheckOneError(api +
                    "auth:\n  token_url: https://ims.bentley.com/connect/token\n"
                    "  client_id: c\n  client_secret_files: /x\n" +
                    policy,
                "6:3", "auth.client_secret_files", "did you mean `client_secret_file`?");
}

TEST_CASE("metrics.listen: port 0 asks for a free port") {
  for (const char* listen : {"127.0.0.1:0", "0.0.0.0:9877", "[::]:9877", "localhost:65535"}) {
    LoadResult r = Load(std::string(kMinimal) + "metrics: {listen: \"" + listen + "\"}\n");
    INFO(AllErrors(r));
    REQUIRE(r.ok());
    CHECK(r.config->metrics_listen == listen);
  }
}

TEST_CASE("api.base_url: trailing slashes are stripped, http is allowed, ca_file is kept") {
  TempDir dir;
  std::string ca = dir.Write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  LoadResult r = Load("api:\n  base_url: http://localhost:8080/rc//\n  ca_file: " + ca + "\n" +
                      std::string(kMinimal).substr(std::string(kMinimal).find("auth:")));
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->api.base_url == "http://localhost:8080/rc");
  CHECK(r.config->api.ca_file == ca);
}

TEST_CASE("policies: limits, matches, names and actions") {
  // kServiceOnly has five lines; "policies:" is line 6, the first item line 7.
  const std::string base = std::string(kServiceOnly) + "policies:\n";
  CheckCases(
      base,
      {
          {"  - name: p\n", "7:5", "policies[0].limits", "required key is missing"},
          {"  - name: p\n    limits: {}\n", "8:5", "policies[0].limits", "no limit set"},
          {"  - name: p\n    limits:\n", "8:5", "policies[0].limits", "no limit set"},
          {"  - name: p\n    limits: [max_runtime]\n", "8:13", "policies[0].limits",
           "expected a mapping"},
          {"  - name: p\n    limits:\n      max_runtme: 2h\n", "9:7",
           "policies[0].limits.max_runtme", "unknown key; did you mean `max_runtime`?"},
          {"  - name: p\n    limits:\n      Max_Runtime: 2h\n", "9:7",
           "policies[0].limits.Max_Runtime", "did you mean `max_runtime`?"},
          {"  - name: p\n    max_runtime: 2h\n    limits: {max_queued: 1h}\n", "8:5",
           "policies[0].max_runtime", "it belongs under `limits:`"},
          {"  - name: p\n    limits: {max_runtime: 2 hours}\n", "8:27",
           "policies[0].limits.max_runtime",
           "\"2 hours\" is not a duration (use 90s, 30m, 2h, 1d)"},
          {"  - name: p\n    limits: {max_queued: -5m}\n", "8:26", "policies[0].limits.max_queued",
           "\"-5m\" is negative"},
          {"  - name: p\n    limits: {max_queued: 0m}\n", "8:26", "policies[0].limits.max_queued",
           "is zero"},
          {"  - name: p\n    limits: {max_processing_units: 0}\n", "8:36",
           "policies[0].limits.max_processing_units", "out of range (use a number > 0)"},
          {"  - name: p\n    limits: {max_processing_units: lots}\n", "8:36",
           "policies[0].limits.max_processing_units", "\"lots\" is not a number"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    grace: -1s\n", "9:12",
           "policies[0].grace", "is negative"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    warn_at: 1\n", "9:14",
           "policies[0].warn_at", "1 is out of range (use a fraction between 0 and 1, exclusive"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    warn_at: 0\n", "9:14",
           "policies[0].warn_at", "out of range"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    action: cancle\n", "9:13",
           "policies[0].action",
           "\"cancle\" is not a valid value (use cancel or report); did you mean `cancel`?"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    action: cancel_all\n", "9:13",
           "policies[0].action", "(use cancel or report)"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      types: "
           "[PointCloudConvertion]\n",
           "10:15", "policies[0].match.types[0]", "did you mean `PointCloudConversion`?"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      types: [MeshSampling, "
           "meshsampling]\n",
           "10:29", "policies[0].match.types[1]", "did you mean `MeshSampling`?"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      types: MeshSampling\n",
           "10:14", "policies[0].match.types", "expected a list"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      types: []\n", "10:14",
           "policies[0].match.types", "is an empty list (remove types: to match every job type)"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      itwins: []\n", "10:15",
           "policies[0].match.itwins", "remove itwins: to match every iTwin"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      users:\n", "10:7",
           "policies[0].match.users", "expected a list"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      itwin: []\n", "10:7",
           "policies[0].match.itwin", "did you mean `itwins`?"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match:\n      name_regex: \"([a-z\"\n",
           "10:19", "policies[0].match.name_regex",
           "\"([a-z\" is not a valid regular expression: "},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    exempt: {name_regex: \"a{2,1}\"}\n",
           "9:26", "policies[0].exempt.name_regex", "is not a valid regular expression"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    exempt: {ids: [job-1]}\n", "9:20",
           "policies[0].exempt.ids[0]", "\"job-1\" is not an id"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n    match: [a]\n", "9:12",
           "policies[0].match", "expected a mapping"},
          {"  - name: my policy\n    limits: {max_runtime: 1h}\n", "7:11", "policies[0].name",
           "\"my policy\" is not a valid name (use letters, digits, _, . and -"},
          {"  - limits: {max_runtime: 1h}\n", "7:5", "policies[0].name", "required key is missing"},
          {"  - name: \"\"\n    limits: {max_runtime: 1h}\n", "7:11", "policies[0].name",
           "is empty"},
          {"  - name: p\n    limits: {max_runtime: 1h}\n  - name: p\n    limits: {max_queued: "
           "1h}\n",
           "9:11", "policies[1].name", "duplicate name \"p\" (the policy at line 7 has it"},
          {"  - p1\n", "7:5", "policies[0]", "expected a mapping (name:, ... lines), found \"p1\""},
          {"  -\n", "8:1", "policies[0]", "found an empty value"},  // yaml-cpp: the next token
      });
  CheckOneError(std::string(kServiceOnly) + "policies: {name: p}\n", "6:11", "policies",
                "expected a list");
}

TEST_CASE("policies: grace 0s and the regexes' RE2 syntax are fine") {
  LoadResult r = Load(std::string(kServiceOnly) +
                      "policies:\n  - name: p\n    limits: {max_runtime: 1h}\n    grace: 0s\n"
                      "    match: {name_regex: '^(?:nightly|weekly)-\\d+$'}\n");
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->policies[0].match.name_regex->Search("nightly-12"));
}

TEST_CASE("budgets: groups, windows, time zones and limits") {
  const std::string base = std::string(kServiceOnly) + "budgets:\n  - name: b\n";
  // Item keys start at line 8.
  const std::string ok = "    group_by: itwin\n    window: daily\n    limit: 10\n";
  CheckCases(
      base,
      {
          {"    window: daily\n    limit: 10\n", "7:5", "budgets[0].group_by",
           "required key is missing"},
          {"    group_by: itwin\n    limit: 10\n", "7:5", "budgets[0].window",
           "required key is missing"},
          {"    group_by: itwin\n    window: daily\n", "7:5", "budgets[0].limit",
           "required key is missing"},
          {"    group_by: project\n    window: daily\n    limit: 10\n", "8:15",
           "budgets[0].group_by", "(use itwin, user, type or all)"},
          {"    group_by: itwin\n    window: yearly\n    limit: 10\n", "9:13", "budgets[0].window",
           "(use daily, weekly or monthly)"},
          {"    group_by: itwin\n    window: daily\n    limit: 0\n", "10:12", "budgets[0].limit",
           "out of range (use a number > 0)"},
          {"    group_by: itwin\n    window: daily\n    limit: -3\n", "10:12", "budgets[0].limit",
           "out of range"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    action: cancel\n", "11:13",
           "budgets[0].action", "(use cancel_queued, cancel_all or report)"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    count_running: 1\n", "11:20",
           "budgets[0].count_running", "is not a boolean"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    warn_at: 0\n", "11:14",
           "budgets[0].warn_at", "out of range"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    timezone: Mars/Olympus\n",
           "11:15", "budgets[0].timezone", "\"Mars/Olympus\" is not a time zone in"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    timezone: europe/paris\n",
           "11:15", "budgets[0].timezone", "did you mean `Europe/Paris`?"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    timezone: ../../etc/passwd\n",
           "11:15", "budgets[0].timezone", "is not a time zone name"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    timezone: /etc/localtime\n",
           "11:15", "budgets[0].timezone", "is not a time zone name"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    timezone: zone.tab\n",
           "11:15", "budgets[0].timezone", "is not a time zone"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    types: [MeshSampling]\n",
           "11:5", "budgets[0].types", "it belongs under `match:`"},
          {"    group_by: user\n    window: daily\n    limit: 10\n    exempt: {}\n", "11:5",
           "budgets[0].exempt", "unknown key (use name, group_by,"},
      });
  CheckOneError(base + ok + "policies: [{name: b, limits: {max_runtime: 1h}}]\n", "11:19",
                "policies[0].name", "duplicate name \"b\" (the budget at line 7 has it");
}

TEST_CASE("budget time zones come from TZDIR when it is set") {
  TempDir dir;
  dir.Write("Test/Zone", std::string("TZif2") + std::string(40, '\0'));
  dir.Write("Test/NotAZone", "hello");
  const std::string base = std::string(kServiceOnly) +
                           "budgets:\n  - {name: b, group_by: all, window: daily, limit: 1, "
                           "timezone: ";
  LoadOptions env = WithEnv({{"TZDIR", dir.path()}, {"RC_WATCHDOG_CLIENT_SECRET", "x"}});
  CHECK(Load(base + "Test/Zone}\n", env).ok());
  CHECK(Load(base + "UTC}\n", env).ok());  // always valid
  CHECK_FALSE(Load(base + "Test/NotAZone}\n", env).ok());
  CHECK_FALSE(Load(base + "Europe/Paris}\n", env).ok());
  CHECK(Load(base + "Europe/Paris}\n").ok());
  CHECK(Load(base + "America/Argentina/Buenos_Aires}\n").ok());
}

TEST_CASE("a config that enforces nothing is an error") {
  CheckOneError(kServiceOnly, "1:1", "policies", "the config would enforce nothing");
  CheckOneError(std::string(kServiceOnly) + "watch: {}\npolicies: []\nbudgets:\n", "7:1",
                "policies", "the config would enforce nothing");
  CheckLoads(std::string(kMinimal) + "budgets: []\n");
}

// Found by fuzz/config_fuzz.cpp: yaml-cpp's LoadAll never returned on these
// (an empty document at the ',' forever, until memory ran out).
TEST_CASE("a comma at the top level is a syntax error, not an endless parse") {
  CheckOneError(",", "1:1", "", "YAML syntax error: unexpected \",\"");
  CheckOneError(", a\n", "1:1", "", "YAML syntax error: unexpected \",\"");
  CheckOneError("# comment\n  ,\n", "2:3", "", "YAML syntax error: unexpected \",\"");
}

TEST_CASE("document-level errors") {
  CheckOneError("", "1:1", "", "the file is empty");
  CheckOneError("# only a comment\n\n", "1:1", "", "the file is empty");
  CheckOneError("---\n", "1:1", "", "the file is empty");
  CheckOneError("- a\n- b\n", "1:1", "",
                "expected a mapping (api:, auth:, policies: ...) at the top, found a list");
  CheckOneError("just text\n", "1:1", "", "found \"just text\"");
  CheckOneError(std::string(kMinimal) + "---\nlog: {}\n", "11:1", "",
                "a second YAML document (after ---)");
  CheckOneError("api:\n  base_url: [x\nauth: {}\n", "3:5", "",
                "YAML syntax error: end of sequence flow not found");
  CheckOneError("api:\n\tbase_url: x\n", "2:10", "", "YAML syntax error: illegal map value");
  CheckOneError("api: {base_url: x\n", "2:1", "", "YAML syntax error: ");
  CheckOneError(std::string(kMinimal) + "watch:\n  page_size: 10\n  page_size: 20\n", "12:3",
                "watch.page_size", "duplicate key (first at line 11)");
}

TEST_CASE("a syntax error is one error, with its position") {
  LoadResult r = Load(std::string(kMinimal) + "  - name: [p\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line > 0);
  CHECK(r.errors[0].ToString().find("config.yaml:") == 0);
}

TEST_CASE("alias expansion is bounded") {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    yaml += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
  }
  LoadResult r = Load(yaml);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message.find("YAML nodes once aliases are expanded") != std::string::npos);
}

TEST_CASE("all errors of a file are reported together, in file order") {
  const std::string yaml =
      "api:\n"                                                   // 1
      "  base_url: https://api.bentley.com/realityconversion\n"  // 2
      "  timeout: 30\n"                                          // 3
      "auth:\n"                                                  // 4
      "  token_url: https://ims.bentley.com/connect/token\n"     // 5
      "  client_id: c\n"                                         // 6
      "watch:\n"                                                 // 7
      "  page_size: 5000\n"                                      // 8
      "  pol_interval: 10s\n"                                    // 9
      "policies:\n"                                              // 10
      "  - name: a\n"                                            // 11
      "    limits:\n"                                            // 12
      "      max_runtime: \"2 hours\"\n"                         // 13
      "  - name: a\n"                                            // 14
      "    limits: {max_queued: 1h}\n"                           // 15
      "    action: kill\n"                                       // 16
      "budgets:\n"                                               // 17
      "  - name: b\n"                                            // 18
      "    group_by: team\n"                                     // 19
      "    window: daily\n"                                      // 20
      "    limit: 0\n";                                          // 21
  LoadResult r = Load(yaml);
  CHECK_FALSE(r.config.has_value());
  std::vector<std::string> expected = {
      "config.yaml:2:13: api.base_url: this is the v1 Reality Conversion API",
      "config.yaml:3:12: api.timeout: \"30\" is not a duration",
      "config.yaml:8:14: watch.page_size: 5000 is out of range",
      "config.yaml:9:3: watch.pol_interval: unknown key; did you mean `poll_interval`?",
      "config.yaml:13:20: policies[0].limits.max_runtime: \"2 hours\" is not a duration (use 90s, "
      "30m, 2h, 1d)",
      "config.yaml:14:11: policies[1].name: duplicate name \"a\"",
      "config.yaml:16:13: policies[1].action: \"kill\" is not a valid value",
      "config.yaml:19:15: budgets[0].group_by: \"team\" is not a valid value",
      "config.yaml:21:12: budgets[0].limit: 0 is out of range",
  };
  INFO(AllErrors(r));
  REQUIRE(r.errors.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(r.errors[i].ToString().rfind(expected[i], 0) == 0);
  }
}

TEST_CASE("ConfigError::ToString leaves out what is unknown") {
  CHECK(ConfigError{"c.yaml", 14, 7, "policies[2].limits.max_runtime", "bad"}.ToString() ==
        "c.yaml:14:7: policies[2].limits.max_runtime: bad");
  CHECK(ConfigError{"c.yaml", 3, 1, "", "YAML syntax error: x"}.ToString() ==
        "c.yaml:3:1: YAML syntax error: x");
  CHECK(ConfigError{"c.yaml", 0, 0, "", "cannot read"}.ToString() == "c.yaml: cannot read");
}

TEST_CASE("an unreadable config file is one error without a position") {
  LoadResult r = LoadConfigFile("/nonexistent/rc-watchdog.yaml", SecretEnv());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].ToString() ==
        "/nonexistent/rc-watchdog.yaml: cannot read the config file: No such file or directory");
  LoadResult dir = LoadConfigFile("/tmp", SecretEnv());
  REQUIRE(dir.errors.size() == 1);
  CHECK(dir.errors[0].ToString() == "/tmp: cannot read the config file: it is a directory");
}
