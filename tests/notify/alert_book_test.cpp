// FiringAlerts: which alert each finding calls for, with its labels and
// annotations (docs/alerts.md), and the cancellation notices.
#include "notify/alert_book.h"

#include <catch2/catch.hpp>

#include "base/timefmt.h"
#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

constexpr char kUser[] = "3a8670f9-b69f-4a60-b958-f103d580755f";
constexpr char kItwin[] = "ce54f773-67db-4b4f-a98b-368329107429";
const TimePoint kNow = TimePoint{std::chrono::seconds{1775397896}};

Config NotifyConfig_() {
  LoadResult r = Load(std::string(kServiceOnly) +
                      "policies:\n"
                      "  - name: runtime-2h\n"
                      "    limits: {max_runtime: 2h}\n"
                      "    grace: 5m\n"
                      "    warn_at: 0.5\n"
                      "  - name: report-1h\n"
                      "    limits: {max_runtime: 1h}\n"
                      "    action: report\n"
                      "notify:\n"
                      "  alertmanager: {urls: [http://127.0.0.1:9093]}\n"
                      "  external_labels: {env: prod, team: nobody}\n"
                      "  owners:\n"
                      "    - match: {users: [3a8670f9-b69f-4a60-b958-f103d580755f]}\n"
                      "      labels: {team: survey, owner_email: ana@example.com}\n"
                      "    - match: {types: [MeshSampling]}\n"
                      "      labels: {team: mesh}\n");
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  return *r.config;
}

Job ActiveJob(std::string id, std::string name = "survey-hall") {
  Job j;
  j.id = id;
  j.name = name;
  j.user_id = kUser;
  j.itwin_id = kItwin;
  j.type = JobType::kPointCloudConversion;
  j.state = JobState::kActive;
  j.created = kNow - 3h;
  j.started = kNow - 90min;
  return j;
}

Finding Warn(std::uint32_t job, std::uint32_t policy, TimePoint cancel_at) {
  Finding f;
  f.job_index = job;
  f.policy_index = policy;
  f.limit = LimitKind::kMaxRuntime;
  f.severity = Severity::kWarn;
  f.observed = 5400;
  f.threshold = 7200;
  f.cancel_at = cancel_at;
  return f;
}

Finding Violation(std::uint32_t job, std::uint32_t policy, bool cancel, bool exempt = false) {
  Finding f;
  f.job_index = job;
  f.policy_index = policy;
  f.limit = LimitKind::kMaxRuntime;
  f.severity = Severity::kViolation;
  f.observed = 9000;
  f.threshold = 7200;
  f.cancel = cancel;
  f.exempt = exempt;
  return f;
}

struct Book {
  Config config = NotifyConfig_();
  std::vector<Job> jobs;
  std::vector<Finding> findings;
  std::vector<PendingCancel> pending;
  std::vector<CancelNotice> notices;
  bool dry_run = false;

  std::vector<Alert> Fire() const {
    AlertInputs in{&config, &jobs, &findings, &pending, &notices, dry_run, kNow};
    return FiringAlerts(in);
  }
};

std::string_view Annotation(const Alert& a, std::string_view name) {
  for (const auto& [n, v] : a.annotations) {
    if (n == name) return v;
  }
  return {};
}

}  // namespace

TEST_CASE("a warning of a cancelling policy is RcWatchdogJobNearLimit with cancel_at") {
  Book b;
  b.jobs = {ActiveJob("job-1")};
  TimePoint cancel_at = kNow + 35min;
  b.findings = {Warn(0, 0, cancel_at)};
  std::vector<Alert> alerts = b.Fire();
  REQUIRE(alerts.size() == 1);
  const Alert& a = alerts[0];
  CHECK(a.Label("alertname") == "RcWatchdogJobNearLimit");
  CHECK(a.Label("severity") == "warning");
  CHECK(a.Label("job_id") == "job-1");
  CHECK(a.Label("job_name") == "survey-hall");
  CHECK(a.Label("itwin_id") == kItwin);
  CHECK(a.Label("user_id") == kUser);
  CHECK(a.Label("type") == "PointCloudConversion");
  CHECK(a.Label("policy") == "runtime-2h");
  CHECK(a.Label("limit") == "max_runtime");
  // external labels, then the matching owner's labels over them
  CHECK(a.Label("env") == "prod");
  CHECK(a.Label("team") == "survey");
  CHECK(a.Label("owner_email") == "ana@example.com");
  CHECK(std::is_sorted(a.labels.begin(), a.labels.end()));
  CHECK(Annotation(a, "cancel_at") == FormatTimestamp(cancel_at));
  CHECK(Annotation(a, "observed") == "5400");
  CHECK(Annotation(a, "threshold") == "7200");
  CHECK(Annotation(a, "summary").find(FormatTimestamp(cancel_at)) != std::string_view::npos);
  CHECK(Annotation(a, "description").find("runtime 1h30m nearing max_runtime 2h") !=
        std::string_view::npos);
  CHECK_FALSE(a.ends_at.has_value());
  CHECK(a.starts_at == kNow);
}

TEST_CASE("a processing-unit warning says its cancel_at is estimated") {
  Book b;
  b.jobs = {ActiveJob("job-1")};
  Finding f = Warn(0, 0, kNow + 2h);
  f.limit = LimitKind::kMaxProcessingUnits;
  f.estimated = true;
  b.findings = {f};
  std::vector<Alert> alerts = b.Fire();
  REQUIRE(alerts.size() == 1);
  CHECK(Annotation(alerts[0], "cancel_at_estimated") == "true");
  CHECK(Annotation(alerts[0], "summary").find("(estimated)") != std::string_view::npos);
}

TEST_CASE("no NearLimit for a report policy, an exempt job or under dry run") {
  Book b;
  b.jobs = {ActiveJob("job-1")};
  b.findings = {Warn(0, 1, kNow + 1h)};  // report-1h
  CHECK(b.Fire().empty());
  Finding exempt = Warn(0, 0, kNow + 1h);
  exempt.exempt = true;
  b.findings = {exempt};
  CHECK(b.Fire().empty());
  b.findings = {Warn(0, 0, kNow + 1h)};
  b.dry_run = true;
  CHECK(b.Fire().empty());
}

TEST_CASE("a violation not cancelled is RcWatchdogJobOverLimit and says why") {
  Book b;
  b.jobs = {ActiveJob("exempt"), ActiveJob("report"), ActiveJob("held"), ActiveJob("pending")};
  b.findings = {Violation(0, 0, false, true), Violation(1, 1, false), Violation(2, 0, true),
                Violation(3, 0, true)};
  PendingCancel p;
  p.job_id = "pending";
  b.pending = {p};
  std::vector<Alert> alerts = b.Fire();
  REQUIRE(alerts.size() == 4);
  CHECK(alerts[0].Label("alertname") == "RcWatchdogJobOverLimit");
  CHECK(Annotation(alerts[0], "summary").find("exempt") != std::string_view::npos);
  CHECK(alerts[1].Label("alertname") == "RcWatchdogJobOverLimit");
  CHECK(alerts[1].Label("policy") == "report-1h");
  CHECK(Annotation(alerts[1], "summary").find("the action is report") != std::string_view::npos);
  CHECK(alerts[2].Label("alertname") == "RcWatchdogJobOverLimit");
  CHECK(Annotation(alerts[2], "summary").find("held back") != std::string_view::npos);
  // being cancelled: still NearLimit until the DELETE is accepted
  CHECK(alerts[3].Label("alertname") == "RcWatchdogJobNearLimit");
  CHECK(Annotation(alerts[3], "cancel_at").empty());

  b.dry_run = true;
  alerts = b.Fire();
  REQUIRE(alerts.size() == 4);
  CHECK(alerts[3].Label("alertname") == "RcWatchdogJobOverLimit");
  CHECK(Annotation(alerts[3], "summary").find("dry run") != std::string_view::npos);
}

TEST_CASE("a notice is RcWatchdogJobCancelled for an hour and silences the job's other alerts") {
  Book b;
  b.jobs = {ActiveJob("job-1")};
  b.findings = {Violation(0, 0, true)};
  PendingCancel p;
  p.job_id = "job-1";
  p.policy = "runtime-2h";
  p.limit = "max_runtime";
  p.itwin_id = kItwin;
  p.type = "MeshSampling";
  p.name = "mesh-job";
  p.user_id = "0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11";  // not ana's
  p.observed = 9000;
  p.threshold = 7200;
  AddNotice(b.notices, NoticeOf(p, kNow - 10s));
  AddNotice(b.notices, NoticeOf(p, kNow));  // one per job
  REQUIRE(b.notices.size() == 1);
  std::vector<Alert> alerts = b.Fire();
  REQUIRE(alerts.size() == 1);
  const Alert& a = alerts[0];
  CHECK(a.Label("alertname") == "RcWatchdogJobCancelled");
  CHECK(a.Label("job_name") == "mesh-job");
  CHECK(a.Label("type") == "MeshSampling");
  CHECK(a.Label("team") == "mesh");  // owners match the notice's job
  CHECK(a.starts_at == kNow - 10s);
  REQUIRE(a.ends_at.has_value());
  CHECK(*a.ends_at == kNow - 10s + 1h);

  PruneNotices(b.notices, kNow - 10s + 1h - 1ms);
  CHECK(b.notices.size() == 1);
  PruneNotices(b.notices, kNow - 10s + 1h);
  CHECK(b.notices.empty());
}

TEST_CASE("a long job name is cut in the label, whole characters only") {
  Book b;
  std::string name(300, 'a');
  name.replace(255, 2, "\xc3\xa9");  // é across the cut
  b.jobs = {ActiveJob("job-1", name)};
  b.findings = {Warn(0, 0, kNow + 1h)};
  std::vector<Alert> alerts = b.Fire();
  REQUIRE(alerts.size() == 1);
  std::string_view label = alerts[0].Label("job_name");
  CHECK(label.size() == 255 + 3);
  CHECK(label.substr(0, 255) == std::string(255, 'a'));
  CHECK(label.ends_with("..."));
}

TEST_CASE("alerts encode as Alertmanager's API v2 body") {
  Alert a;
  a.labels = {{"alertname", "RcWatchdogJobNearLimit"}, {"job_name", "say \"hi\"\n"}};
  a.annotations = {{"summary", "s"}};
  a.starts_at = kNow;
  Alert fixed = a;
  fixed.ends_at = kNow + 1h;
  std::vector<Alert> both{a, fixed};
  std::string body = EncodeAlerts(both, kNow + 10s, 3min);
  CHECK(body ==
        "[{\"labels\":{\"alertname\":\"RcWatchdogJobNearLimit\",\"job_name\":\"say "
        "\\\"hi\\\"\\n\"},\"annotations\":{\"summary\":\"s\"},\"startsAt\":\"" +
            FormatTimestampMs(kNow) + "\",\"endsAt\":\"" + FormatTimestampMs(kNow + 190s) +
            "\"},{\"labels\":{\"alertname\":\"RcWatchdogJobNearLimit\",\"job_name\":\"say "
            "\\\"hi\\\"\\n\"},\"annotations\":{\"summary\":\"s\"},\"startsAt\":\"" +
            FormatTimestampMs(kNow) + "\",\"endsAt\":\"" + FormatTimestampMs(kNow + 1h) + "\"}]");
}
