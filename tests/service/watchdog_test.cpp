// The Watchdog's cycle and deadline re-check against a fake /jobs endpoint.
#include "service/watchdog.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/timefmt.h"
#include "fakes/fake_api.h"
#include "fakes/fake_audit.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"
#include "fakes/fake_job_server.h"
#include "fakes/temp_dir.h"
#include "telemetry/metrics.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kBase = "https://api.bentley.com/reality-conversion";
constexpr const char* kItwin = "ce54f773-67db-4b4f-a98b-368329107429";
constexpr const char* kJob = "5e315451-564e-4e8b-a952-45b14e6a9c90";

// One watched iTwin, policy "queued-30m", one job listed Queued 29m50s old.
struct Fixture {
  FakeClock clock;
  RequestGate gate{clock};
  FakeHttpClient http;
  FakeJobServer server{clock, kBase};
  FakeTokenSource tokens;
  RealityConversionClient api{http, tokens, gate, clock, nullptr, ClientOptions{kBase}};
  FakeAuditSink audit;
  TempDir dir;
  StateStore store{dir.path()};
  std::unique_ptr<Watchdog> watchdog;
  bool get_fails = false;
  // Pending rows in state.db when each DELETE went out.
  std::vector<std::size_t> pending_at_delete;

  Fixture() {
    REQUIRE(store.Prepare().ok());
    auto config = std::make_shared<Config>();
    config->watch.itwins = {kItwin};
    config->watch.poll_interval = 10min;
    PolicyConfig p;
    p.name = "queued-30m";
    p.limits.max_queued = 30min;
    config->policies = {p};
    std::string created = FormatTimestampMs(clock.Now() - 29min - 50s);
    server.pages[kItwin] = {{ApiJobJson(kJob, "Queued", kItwin, created)}};
    http.set_handler([this](const HttpRequest& r) -> Result<HttpResponse> {
      if (get_fails && r.method == "GET" && r.url.find("/jobs/") != std::string::npos) {
        HttpResponse busy;
        busy.status = 503;
        return busy;
      }
      if (r.method == "DELETE") {
        Result<PersistentState> saved = StateStore(dir.path()).LoadReadOnly();
        pending_at_delete.push_back(saved.ok() ? saved->pending.size() : 0);
        HttpResponse ok;
        ok.status = 200;
        ok.body = R"({"job":)" + ApiJobJson(kJob, "TerminatingOnCancel", kItwin) + "}";
        return ok;
      }
      return server(r);
    });
    watchdog = std::make_unique<Watchdog>(api, audit, store, clock, nullptr, nullptr,
                                          PersistentState{}, config, false);
  }

  std::size_t Deletes() const {
    std::size_t n = 0;
    for (const HttpRequest& r : http.requests()) n += r.method == "DELETE";
    return n;
  }
  std::size_t Gets() const {
    std::size_t n = 0;
    for (const HttpRequest& r : http.requests()) {
      n += r.method == "GET" && r.url.find("/jobs/") != std::string::npos;
    }
    return n;
  }
  // The poll, then the deadline re-check when the job crosses 30m.
  void PollThenDeadline() {
    CycleSummary s = watchdog->Cycle();
    REQUIRE(s.complete);
    REQUIRE(Deletes() == 0);
    std::optional<TimePoint> deadline = watchdog->NextDeadline();
    REQUIRE(deadline);
    clock.Set(*deadline);
    watchdog->CheckDeadline();
  }
};

}  // namespace

TEST_CASE("a deadline re-check that cannot re-read the job sends no DELETE on the poll's data") {
  // Listed Queued at 29m50s; it may have started since. The GET that would
  // tell is refused: judging the poll's record at the deadline would cancel
  // a job that may be running within its limits.
  Fixture fx;
  fx.get_fails = true;
  fx.PollThenDeadline();
  CHECK(fx.Gets() == 1);
  CHECK(fx.Deletes() == 0);
  CHECK(fx.audit.Of("cancel_requested").empty());
}

TEST_CASE("a deadline re-check that re-reads the job Active sends no DELETE") {
  Fixture fx;
  fx.server.single[kJob] =
      ApiJobJson(kJob, "Active", kItwin, FormatTimestampMs(fx.clock.Now() - 29min - 50s));
  fx.PollThenDeadline();
  CHECK(fx.Gets() == 1);
  CHECK(fx.Deletes() == 0);
}

TEST_CASE("a deadline re-check that re-reads the job still Queued cancels it") {
  Fixture fx;
  fx.server.single[kJob] =
      ApiJobJson(kJob, "Queued", kItwin, FormatTimestampMs(fx.clock.Now() - 29min - 50s));
  fx.PollThenDeadline();
  CHECK(fx.Gets() == 1);
  CHECK(fx.Deletes() == 1);
  REQUIRE(fx.audit.Of("cancel_result").size() == 1);
  CHECK(fx.audit.Of("cancel_result")[0].outcome == "cancelled");
}

TEST_CASE("a DELETE goes out only after its pending row is committed, a failed save holds it") {
  Fixture fx;
  fx.server.single[kJob] =
      ApiJobJson(kJob, "Queued", kItwin, FormatTimestampMs(fx.clock.Now() - 29min - 50s));
  // state.db cannot be created: every save fails.
  std::filesystem::create_directory(fx.store.DbPath());
  fx.PollThenDeadline();
  CHECK(fx.Deletes() == 0);
  CHECK(fx.audit.Of("cancel_requested").empty());
  REQUIRE(fx.watchdog->pending() == 1);
  // Held for kSaveRetry, whatever is due.
  std::optional<TimePoint> due = fx.watchdog->NextDue();
  REQUIRE(due);
  CHECK(*due >= fx.clock.Now() + 5s);
  CHECK_FALSE(fx.watchdog->RunDue().ok());
  CHECK(fx.Deletes() == 0);
  // The disk recovers: the row is committed, then the DELETE is sent.
  std::filesystem::remove(fx.store.DbPath());
  fx.clock.Advance(5s);
  CHECK(fx.watchdog->RunDue().ok());
  REQUIRE(fx.Deletes() == 1);
  CHECK(fx.pending_at_delete == std::vector<std::size_t>{1});
}

TEST_CASE("a reload that turns a pending budget cancellation's budget into report withdraws it") {
  // Budgets are re-evaluated under the new config at the reload: the indexes
  // kept between polls belong to the config they were computed under.
  Fixture fx;
  auto config = std::make_shared<Config>(fx.watchdog->config());
  config->policies.clear();
  BudgetConfig spent;
  spent.name = "daily";
  spent.limit = 1;
  spent.action = BudgetAction::kCancelQueued;
  config->budgets = {spent};
  fx.watchdog->SetConfig(config);
  // A finished job of the iTwin has spent the budget; the DELETE meets a 503.
  std::string ended = FormatTimestampMs(fx.clock.Now() - 1min);
  fx.server.pages[kItwin][0].push_back(
      R"({"id":"0d5a7f7e-1111-4c1e-9f59-1d2e3f4a5b6c","state":"Success","iTwinId":")" +
      std::string(kItwin) + R"(","type":"MeshSampling","executionInfo":{"createdDateTime":")" +
      ended + R"(","startedDateTime":")" + ended + R"(","endedDateTime":")" + ended +
      R"(","processingUnits":5}})");
  bool first_delete = true;
  fx.http.set_handler([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "DELETE" && first_delete) {
      first_delete = false;
      HttpResponse busy;
      busy.status = 503;
      return busy;
    }
    return fx.server(r);
  });
  fx.watchdog->Cycle();
  REQUIRE(fx.Deletes() == 1);
  REQUIRE(fx.watchdog->pending() == 1);
  // Reload: two budgets now, the spent one second and report-only.
  auto reload = std::make_shared<Config>(*config);
  BudgetConfig other;
  other.name = "other";
  other.limit = 1000;
  spent.action = BudgetAction::kReport;
  reload->budgets = {other, spent};
  fx.watchdog->SetConfig(reload);
  CHECK(fx.watchdog->pending() == 0);
  auto results = fx.audit.Of("cancel_result");
  REQUIRE_FALSE(results.empty());
  CHECK(results.back().outcome == "withdrawn");
  fx.clock.Advance(10s);
  (void)fx.watchdog->RunDue();
  CHECK(fx.Deletes() == 1);
}

namespace {

// The createdDateTime bound of a list URL, as sent (":" percent-encoded).
std::string Bound(TimePoint t) {
  std::string text = FormatTimestamp(t);
  for (std::size_t at; (at = text.find(':')) != std::string::npos;) text.replace(at, 1, "%3A");
  return "createdDateTime%20gt%20" + text;
}

}  // namespace

TEST_CASE(
    "cycles list incrementally from the last horizon, and a reload that changes watch lists in "
    "full") {
  Fixture fx;
  const TimePoint created = fx.clock.Now() - 29min - 50s;  // the Queued job's creation
  fx.watchdog->Cycle();
  REQUIRE(fx.server.list_urls.size() == 1);
  CHECK_THAT(fx.server.list_urls[0], Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
  fx.clock.Advance(1min);
  fx.watchdog->Cycle();
  REQUIRE(fx.server.list_urls.size() == 2);
  // The job is still Queued (and pending cancellation by now): the horizon.
  CHECK_THAT(fx.server.list_urls[1],
             Catch::Contains(Bound(std::chrono::floor<std::chrono::seconds>(created) - 10min)));

  SECTION("a reload that changes watch") {
    auto changed = std::make_shared<Config>(fx.watchdog->config());
    changed->watch.page_size = 500;
    fx.watchdog->SetConfig(changed);
    fx.clock.Advance(1min);
    fx.watchdog->Cycle();
    REQUIRE(fx.server.list_urls.size() == 3);
    CHECK_THAT(fx.server.list_urls[2], Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
  }
  SECTION("a reload that leaves watch alone") {
    auto same = std::make_shared<Config>(fx.watchdog->config());
    same->enforcement.dry_run = true;
    fx.watchdog->SetConfig(same);
    fx.clock.Advance(1min);
    fx.watchdog->Cycle();
    REQUIRE(fx.server.list_urls.size() == 3);
    CHECK_THAT(fx.server.list_urls[2], Catch::Contains("createdDateTime"));
    CHECK_THAT(fx.server.list_urls[2], !Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
  }
  SECTION("an incomplete listing makes the next one full") {
    fx.http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse bad;
      bad.status = 200;
      bad.body = "{not json";
      return bad;
    });
    fx.clock.Advance(1min);
    CHECK_FALSE(fx.watchdog->Cycle().complete);
    fx.http.set_handler([&fx](const HttpRequest& r) { return fx.server(r); });
    fx.clock.Advance(1min);
    REQUIRE(fx.watchdog->Cycle().complete);
    CHECK_THAT(fx.server.list_urls.back(), Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
  }
}

namespace {

// Records what the watchdog publishes to Alertmanager's sink.
struct RecordingOutbox final : public AlertOutbox {
  struct Publication {
    std::vector<Alert> alerts;
    bool complete = false;
  };
  void Publish(std::vector<Alert> firing, bool complete) override {
    published.push_back({std::move(firing), complete});
  }
  // alertname of each alert of the last publication.
  std::vector<std::string> LastNames() const {
    std::vector<std::string> names;
    for (const Alert& a : published.back().alerts) names.emplace_back(a.Label("alertname"));
    return names;
  }
  std::vector<Publication> published;
};

std::shared_ptr<Config> WithNotify(const Config& base) {
  auto config = std::make_shared<Config>(base);
  config->policies[0].warn_at = 0.9;
  NotifyConfig n;
  n.urls = {"http://127.0.0.1:9093"};
  config->notify = n;
  return config;
}

}  // namespace

TEST_CASE("the owner is told: NearLimit with cancel_at, then Cancelled, kept across a restart") {
  Fixture fx;
  RecordingOutbox outbox;
  fx.watchdog->SetAlerts(&outbox);
  auto config = WithNotify(fx.watchdog->config());
  fx.watchdog->SetConfig(config);
  TimePoint created = fx.clock.Now() - 29min - 50s;
  fx.server.single[kJob] = ApiJobJson(kJob, "Queued", kItwin, FormatTimestampMs(created));
  fx.PollThenDeadline();
  // The poll: near the limit, cancel_at = created + 30m.
  REQUIRE(outbox.published.size() >= 2);
  const RecordingOutbox::Publication& poll = outbox.published[0];
  CHECK(poll.complete);
  REQUIRE(poll.alerts.size() == 1);
  CHECK(poll.alerts[0].Label("alertname") == "RcWatchdogJobNearLimit");
  CHECK(poll.alerts[0].Label("job_id") == kJob);
  bool has_cancel_at = false;
  for (const auto& [k, v] : poll.alerts[0].annotations) {
    if (k == "cancel_at") has_cancel_at = v == FormatTimestamp(created + 30min);
  }
  CHECK(has_cancel_at);
  // The re-check cancelled it: the notice goes out at once, alone.
  REQUIRE(fx.Deletes() == 1);
  CHECK_FALSE(outbox.published.back().complete);
  CHECK(outbox.LastNames() == std::vector<std::string>{"RcWatchdogJobCancelled"});
  const Alert& cancelled = outbox.published.back().alerts[0];
  REQUIRE(cancelled.ends_at.has_value());
  CHECK(*cancelled.ends_at == cancelled.starts_at + 1h);

  // The notice is durable: a restart (kill -9 after the save) publishes it again.
  Result<PersistentState> saved = StateStore(fx.dir.path()).LoadReadOnly();
  REQUIRE(saved.ok());
  REQUIRE(saved->notices.size() == 1);
  CHECK(saved->notices[0].job_id == kJob);
  CHECK(saved->notices[0].policy == "queued-30m");
  CHECK(saved->notices[0].limit == "max_queued");
  // The job is Cancelled now.
  fx.server.pages[kItwin] = {{ApiJobJson(kJob, "Cancelled", kItwin, FormatTimestampMs(created))}};
  RecordingOutbox after;
  Watchdog restarted(fx.api, fx.audit, fx.store, fx.clock, nullptr, nullptr, std::move(*saved),
                     config, false);
  restarted.SetAlerts(&after);
  restarted.Cycle();
  REQUIRE_FALSE(after.published.empty());
  CHECK(after.LastNames() == std::vector<std::string>{"RcWatchdogJobCancelled"});

  // An hour later it has expired, in memory and in state.db.
  fx.clock.Advance(1h);
  restarted.Cycle();
  CHECK(after.published.back().alerts.empty());
  Result<PersistentState> later = StateStore(fx.dir.path()).LoadReadOnly();
  REQUIRE(later.ok());
  CHECK(later->notices.empty());
}

TEST_CASE("without notify, nothing is published and no notice is kept") {
  Fixture fx;
  RecordingOutbox outbox;
  fx.watchdog->SetAlerts(&outbox);
  fx.server.single[kJob] =
      ApiJobJson(kJob, "Queued", kItwin, FormatTimestampMs(fx.clock.Now() - 29min - 50s));
  fx.PollThenDeadline();
  REQUIRE(fx.Deletes() == 1);
  CHECK(outbox.published.empty());
  Result<PersistentState> saved = StateStore(fx.dir.path()).LoadReadOnly();
  REQUIRE(saved.ok());
  CHECK(saved->notices.empty());
}

TEST_CASE("a reload's labels apply to the alerts of the next poll") {
  Fixture fx;
  RecordingOutbox outbox;
  fx.watchdog->SetAlerts(&outbox);
  auto config = WithNotify(fx.watchdog->config());
  config->notify->external_labels = {{"env", "staging"}};
  fx.watchdog->SetConfig(config);
  fx.watchdog->Cycle();
  REQUIRE(outbox.LastNames() == std::vector<std::string>{"RcWatchdogJobNearLimit"});
  CHECK(outbox.published.back().alerts[0].Label("env") == "staging");
  auto reload = std::make_shared<Config>(*config);
  reload->notify->external_labels = {{"env", "prod"}};
  fx.watchdog->SetConfig(reload);
  fx.watchdog->Cycle();
  REQUIRE(outbox.LastNames() == std::vector<std::string>{"RcWatchdogJobNearLimit"});
  CHECK(outbox.published.back().alerts[0].Label("env") == "prod");
}

namespace {

std::string EndedJobJson(const std::string& id, TimePoint created, TimePoint ended, double pu) {
  return R"({"id":")" + id + R"(","state":"Success","iTwinId":")" + std::string(kItwin) +
         R"(","type":"MeshSampling","executionInfo":{"createdDateTime":")" +
         FormatTimestampMs(created) + R"(","startedDateTime":")" + FormatTimestampMs(created) +
         R"(","endedDateTime":")" + FormatTimestampMs(ended) + R"(","processingUnits":)" +
         std::to_string(pu) + "}}";
}

// The ledger rows in state.db, by job id.
std::map<std::string, int> LedgerRows(const std::string& dir) {
  Result<PersistentState> s = StateStore(dir).LoadReadOnly();
  REQUIRE(s.ok());
  std::map<std::string, int> rows;
  for (const LedgerEntry& e : s->ledger) ++rows[std::string(e.job_id.view())];
  return rows;
}

// Job id -> rows in the history table.
std::map<std::string, int> HistoryRows(const std::string& dir) {
  Result<StateStore::HistoryRead> h =
      StateStore(dir).ReadHistoryReadOnly(TimePoint{}, TimePoint::max());
  REQUIRE(h.ok());
  std::map<std::string, int> rows;
  for (const Job& j : h->jobs) ++rows[j.id.str()];
  return rows;
}

}  // namespace

TEST_CASE("a restart reads the ledger piecemeal and still counts each job once, budgets whole") {
  // Run 1 counts two ended jobs: A (ended 5 h ago, before the incremental
  // horizon) and B (ended a minute ago); the Queued job holds the horizon.
  constexpr const char* kOld = "0a000000-0000-4000-8000-00000000000a";
  constexpr const char* kNew = "0b000000-0000-4000-8000-00000000000b";
  Fixture fx;
  const TimePoint now = fx.clock.Now();
  fx.server.pages[kItwin] = {{ApiJobJson(kJob, "Queued", kItwin, FormatTimestampMs(now - 5min)),
                              EndedJobJson(kOld, now - 6h, now - 5h, 5),
                              EndedJobJson(kNew, now - 2min, now - 1min, 5)}};
  REQUIRE(fx.watchdog->Cycle().complete);
  REQUIRE(fx.watchdog->Save().ok());
  REQUIRE(LedgerRows(fx.dir.path()) == (std::map<std::string, int>{{kOld, 1}, {kNew, 1}}));
  const Config first = fx.watchdog->config();
  fx.watchdog.reset();

  // Run 2 starts as the daemon does: without the ledger.
  StateStore store(fx.dir.path());
  Result<PersistentState> state = store.Load(/*ledger=*/false);
  REQUIRE(state.ok());
  REQUIRE_FALSE(state->ledger_complete);
  REQUIRE(state->ledger.empty());
  auto config = std::make_shared<Config>(first);
  const std::map<std::string, int> each_once{{kOld, 1}, {kNew, 1}};
  // Run 2's first poll, `later` after run 1's, and its save.
  auto restart_and_poll = [&](Seconds later) {
    fx.clock.Advance(later);
    Watchdog w(fx.api, fx.audit, store, fx.clock, nullptr, nullptr, std::move(*state), config,
               false);
    REQUIRE(w.Cycle().complete);
    REQUIRE(w.Save().ok());
  };

  SECTION("an incremental listing: B is not counted again") {
    restart_and_poll(1min);
    CHECK_THAT(fx.server.list_urls.back(), !Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
    CHECK(LedgerRows(fx.dir.path()) == each_once);
  }
  SECTION("an API that ignores the createdDateTime filter: A comes back and counts once") {
    // The incremental listing returns A, whose stored entry (ended 5 h ago)
    // is older than what was read before the listing: it is not counted as
    // its page arrives, but after the listing, once that entry is read.
    fx.server.ignore_created_filter = true;
    restart_and_poll(1min);
    CHECK_THAT(fx.server.list_urls.back(), !Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
    CHECK(LedgerRows(fx.dir.path()) == each_once);
    CHECK(HistoryRows(fx.dir.path()) == each_once);
  }
  SECTION("a full listing two hours later: A is listed again and not counted again") {
    restart_and_poll(2h);
    CHECK_THAT(fx.server.list_urls.back(), Catch::Contains(Bound(fx.clock.Now() - 7 * 24h)));
    CHECK(LedgerRows(fx.dir.path()) == each_once);
  }
  SECTION("a daily budget sums A, which the incremental listing does not show") {
    BudgetConfig daily;
    daily.name = "daily";
    daily.limit = 8;  // A + B = 10: exceeded; B alone would not be
    daily.action = BudgetAction::kCancelQueued;
    config->budgets = {daily};
    config->policies.clear();
    restart_and_poll(1min);
    CHECK(fx.Deletes() == 1);  // the Queued job, by the budget
    CHECK(LedgerRows(fx.dir.path()) == each_once);
  }
}

TEST_CASE("a cold poll counts ended jobs as their pages arrive: history, metrics, open jobs kept") {
  Fixture fx;
  const TimePoint now = fx.clock.Now();
  auto metrics = Metrics::Create("");
  REQUIRE(metrics.ok());
  // 30 ended jobs over 3 pages, with the Queued job (it stays) and an ended
  // job without processing units (the ledger cannot count it: it stays, and
  // its history row comes from the listing).
  std::vector<std::vector<std::string>> pages(3);
  std::map<std::string, int> ended;
  for (int i = 0; i < 30; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "0c000000-0000-4000-8000-%012d", i);
    pages[i % 3].push_back(EndedJobJson(id, now - 3h + i * 1min, now - 2h + i * 1min, 1.5));
    ended[id] = 1;
  }
  constexpr const char* kNoUnits = "0d000000-0000-4000-8000-00000000000d";
  pages[1].push_back(R"({"id":")" + std::string(kNoUnits) + R"(","state":"Failed","iTwinId":")" +
                     kItwin + R"(","type":"MeshSampling","executionInfo":{"createdDateTime":")" +
                     FormatTimestampMs(now - 1h) + R"(","endedDateTime":")" +
                     FormatTimestampMs(now - 30min) + R"("}})");
  pages[2].push_back(fx.server.pages[kItwin][0][0]);  // the Queued job
  fx.server.pages[kItwin] = pages;
  auto config = std::make_shared<Config>(fx.watchdog->config());
  Watchdog w(fx.api, fx.audit, fx.store, fx.clock, metrics->get(), nullptr, PersistentState{},
             config, false);
  CycleSummary s = w.Cycle();
  REQUIRE(s.complete);
  CHECK(s.jobs == 32);
  CHECK_THAT(w.status(), Catch::StartsWith("watching 32 jobs"));
  CHECK(w.kept() == 2);  // the Queued job and the job without units
  REQUIRE(w.Save().ok());
  CHECK(LedgerRows(fx.dir.path()) == ended);
  std::map<std::string, int> history = ended;
  history[kNoUnits] = 1;
  CHECK(HistoryRows(fx.dir.path()) == history);
  // The history rows of counted jobs carry the listing's fields.
  Result<StateStore::HistoryRead> h =
      StateStore(fx.dir.path()).ReadHistoryReadOnly(TimePoint{}, TimePoint::max());
  REQUIRE(h.ok());
  for (const Job& j : h->jobs) {
    if (j.id.view() == kNoUnits) {
      CHECK(j.state == JobState::kFailed);
      CHECK_FALSE(j.started);
      CHECK_FALSE(j.processing_units);
      continue;
    }
    CHECK(j.state == JobState::kSuccess);
    CHECK(j.type == JobType::kMeshSampling);
    CHECK(j.itwin_id.view() == kItwin);
    REQUIRE(j.started);
    CHECK(*j.started == j.created);
    REQUIRE(j.ended);
    CHECK(*j.ended - j.created == 1h);
    CHECK(j.processing_units == 1.5);
  }
  // The gauge counts every listed job, the counter every counted unit.
  std::string text = (*metrics)->Render();
  CHECK_THAT(text, Catch::Contains(R"(rc_watchdog_jobs{state="Success",type="MeshSampling"} 30)"));
  CHECK_THAT(text, Catch::Contains(R"(rc_watchdog_jobs{state="Failed",type="MeshSampling"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(rc_watchdog_jobs{state="Queued",type="MeshSampling"} 1)"));
  CHECK_THAT(text, Catch::Contains(std::string(R"(rc_watchdog_processing_units_total{itwin=")") +
                                   kItwin + R"(",type="MeshSampling"} 45)"));

  SECTION(
      "the next full listing shows one of them Active (a replica behind): dropped, not judged") {
    // A limit the stale record would break (it started 3 h ago).
    PolicyConfig runtime;
    runtime.name = "runtime-1h";
    runtime.limits.max_runtime = 1h;
    auto strict = std::make_shared<Config>(*config);
    strict->policies = {runtime};  // (the Queued job's 30m limit would pass meanwhile)
    strict->watch.full_listing_interval = strict->watch.poll_interval;  // every listing full
    w.SetConfig(strict);
    fx.server.pages[kItwin][0][0] = ApiJobJson("0c000000-0000-4000-8000-000000000000", "Active",
                                               kItwin, FormatTimestampMs(now - 3h));
    fx.clock.Advance(1min);
    REQUIRE(w.Cycle().complete);
    CHECK(w.kept() == 2);
    CHECK(fx.Deletes() == 0);
    REQUIRE(w.Save().ok());
    CHECK(LedgerRows(fx.dir.path()) == ended);
    CHECK(HistoryRows(fx.dir.path()) == history);
  }
}
