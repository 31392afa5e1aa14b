// notify: the Alertmanager section (docs/configuration.md#notify).
#include <catch2/catch.hpp>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

struct Case {
  const char* yaml;      // appended to kMinimal (nine lines)
  const char* position;  // LINE:COL of the single error
  const char* path;
  const char* message;  // a substring of the error
};

void CheckCases(const std::string& base, std::initializer_list<Case> cases) {
  for (const Case& c : cases) CheckOneError(base + c.yaml, c.position, c.path, c.message);
}

}  // namespace

TEST_CASE("notify: absent, no alerts, given, every key and default") {
  LoadResult none = Load(kMinimal);
  REQUIRE(none.ok());
  CHECK_FALSE(none.config->notify.has_value());

  LoadResult r = Load(std::string(kMinimal) +
                      "notify:\n"
                      "  alertmanager:\n"
                      "    urls: [http://127.0.0.1:9093/, https://am.example.com/prefix]\n"
                      "  external_labels: {env: prod}\n"
                      "  owners:\n"
                      "    - match: {users: [3A8670F9-B69F-4A60-B958-F103D580755F]}\n"
                      "      labels: {team: survey, owner_email: ana@example.com}\n"
                      "    - labels: {catch_all: \"yes\"}\n");
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  REQUIRE(r.config->notify.has_value());
  const NotifyConfig& n = *r.config->notify;
  CHECK(n.urls ==
        std::vector<std::string>{"http://127.0.0.1:9093", "https://am.example.com/prefix"});
  CHECK(n.timeout == 10s);
  CHECK(n.resend_interval == 1min);
  CHECK(n.external_labels == AlertLabels{{"env", "prod"}});
  REQUIRE(n.owners.size() == 2);
  CHECK(n.owners[0].match.users ==
        std::vector<std::string>{"3a8670f9-b69f-4a60-b958-f103d580755f"});
  CHECK(n.owners[0].labels == AlertLabels{{"team", "survey"}, {"owner_email", "ana@example.com"}});
  CHECK(n.owners[1].match.users.empty());
  CHECK(n.owners[1].labels == AlertLabels{{"catch_all", "yes"}});

  LoadResult timed = Load(std::string(kMinimal) +
                          "notify:\n  alertmanager:\n    urls: [http://am:9093]\n"
                          "    timeout: 3s\n    resend_interval: 2s\n");
  INFO(AllErrors(timed));
  REQUIRE(timed.ok());
  CHECK(timed.config->notify->timeout == 3s);
  CHECK(timed.config->notify->resend_interval == 2s);
}

TEST_CASE("notify: wrong values are reported at file:line:col") {
  // kMinimal has nine lines; these start at line 10.
  CheckCases(
      kMinimal,
      {
          {"notify:\n  owners: []\n", "10:1", "notify.alertmanager", "required key is missing"},
          {"notify:\n  alertmanager: {}\n", "11:3", "notify.alertmanager.urls",
           "required key is missing"},
          {"notify:\n  alertmanager:\n    urls: []\n", "12:11", "notify.alertmanager.urls",
           "list at least one Alertmanager"},
          {"notify:\n  alertmanager:\n    urls: [ftp://am:9093]\n", "12:12",
           "notify.alertmanager.urls[0]", "is not an http or https URL"},
          {"notify:\n  alertmanager:\n    urls: [\"http://user:pw@am:9093\"]\n", "12:12",
           "notify.alertmanager.urls[0]", "user info in the URL is refused"},
          {"notify:\n  alertmanager:\n    urls: [\"http://am:9093/?x=1\"]\n", "12:12",
           "notify.alertmanager.urls[0]", "has a query or fragment"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093/api/v2/alerts]\n", "12:12",
           "notify.alertmanager.urls[0]", "give the Alertmanager's base URL"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093, http://am:9093/]\n", "12:28",
           "notify.alertmanager.urls[1]", "listed twice"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n    timeout: 0s\n", "13:14",
           "notify.alertmanager.timeout", "is zero"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n    resend_interval: soon\n",
           "13:22", "notify.alertmanager.resend_interval", "is not a duration"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  external_labels: {2team: x}\n",
           "13:21", "notify.external_labels.2team", "is not a label name"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  external_labels: {te-am: x}\n",
           "13:21", "notify.external_labels.te-am", "is not a label name"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  external_labels: {job_id: x}\n",
           "13:21", "notify.external_labels.job_id", "is a label of the alert itself"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  external_labels: [env]\n",
           "13:20", "notify.external_labels", "expected a mapping of label names"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  owners:\n"
           "    - labels: {severity: page}\n",
           "14:16", "notify.owners[0].labels.severity", "is a label of the alert itself"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  owners:\n"
           "    - match: {users: [nobody]}\n      labels: {team: a}\n",
           "14:23", "notify.owners[0].match.users[0]", "nobody"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  owners:\n"
           "    - match: {types: [MeshSampling]}\n",
           "14:7", "notify.owners[0].labels", "required key is missing"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  owners:\n"
           "    - labels: {team: a}\n      lables: {}\n",
           "15:7", "notify.owners[0].lables", "unknown key; did you mean `labels`?"},
          {"notify:\n  alertmanager:\n    urls: [http://am:9093]\n  timeout: 3s\n", "13:3",
           "notify.timeout", "it belongs under `alertmanager:`"},
      });
}
