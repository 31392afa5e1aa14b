#include "service/poller.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fakes/fake_api.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"
#include "fakes/fake_job_server.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kBase = "https://api.bentley.com/reality-conversion";
constexpr const char* kItwin = "ce54f773-67db-4b4f-a98b-368329107429";
constexpr const char* kOther = "0b1b0e8c-2c36-4c1e-9f59-1d2e3f4a5b6c";

Job MakeJob(std::string id, JobState state, std::string name = "") {
  Job j;
  j.id = id;
  j.state = state;
  j.name = name;
  return j;
}

std::vector<std::string> Ids(const std::vector<Job>& jobs) {
  std::vector<std::string> ids;
  for (const Job& j : jobs) ids.push_back(j.id.str());
  return ids;
}

// The poller in front of a FakeJobServer, with a request gate of
// `max_per_minute` and a waiter that moves the clock.
struct PollFixture {
  explicit PollFixture(int max_per_minute = 250)
      : gate(clock, {.max_per_minute = max_per_minute, .max_per_hour = 4500, .reserve = 0.10}),
        server(clock, kBase),
        client(http, tokens, gate, clock, nullptr, ClientOptions{kBase}),
        waiter(clock) {
    http.set_handler([this](const HttpRequest& r) { return server(r); });
    http.set_on_send([this](const HttpRequest&) { clock.Advance(200ms); });
    client.SetWaiter(&waiter);
    config.watch.itwins = {kItwin};
    config.watch.page_size = 2;
    config.watch.poll_interval = 30s;
  }

  Listing Poll() { return PollJobs(client, config, state, clock.Now()); }

  FakeClock clock;
  RequestGate gate;
  FakeHttpClient http;
  FakeJobServer server;
  FakeTokenSource tokens;
  RealityConversionClient client;
  FakeWaiter waiter;
  Config config;
  PersistentState state;
};

}  // namespace

TEST_CASE("one record per job id: the most advanced state, then the one read last") {
  std::vector<Job> jobs = {
      MakeJob("a", JobState::kQueued),   MakeJob("b", JobState::kActive, "b-first"),
      MakeJob("a", JobState::kActive),   MakeJob("c", JobState::kSuccess),
      MakeJob("b", JobState::kQueued),   MakeJob("b", JobState::kActive, "b-last"),
      MakeJob("c", JobState::kActive),   MakeJob("d", JobState::kTerminatingOnCancel),
      MakeJob("d", JobState::kActive),   MakeJob("e", JobState::kActive),
      MakeJob("d", JobState::kCancelled)};
  CHECK(KeepOneRecordPerJob(jobs) == 6);
  REQUIRE(Ids(jobs) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(jobs[0].state == JobState::kActive);
  CHECK(jobs[1].name == "b-last");  // equal states: the later read
  CHECK(jobs[2].state == JobState::kSuccess);
  CHECK(jobs[3].state == JobState::kCancelled);
  CHECK(jobs[4].state == JobState::kActive);
}

TEST_CASE("the lifecycle order of states") {
  CHECK(LifecycleRank(JobState::kQueued) < LifecycleRank(JobState::kActive));
  CHECK(LifecycleRank(JobState::kActive) < LifecycleRank(JobState::kTerminatingOnCancel));
  CHECK(LifecycleRank(JobState::kTerminatingOnFailure) ==
        LifecycleRank(JobState::kTerminatingOnCancel));
  for (JobState end : {JobState::kCancelled, JobState::kFailed, JobState::kSuccess}) {
    CHECK(LifecycleRank(JobState::kTerminatingOnFailure) < LifecycleRank(end));
  }
}

TEST_CASE("duplicates with ids too long to be stored inline are kept apart correctly") {
  std::string x(100, 'x'), y(100, 'y');
  std::vector<Job> jobs = {MakeJob(x, JobState::kQueued), MakeJob(y, JobState::kQueued),
                           MakeJob(x, JobState::kActive), MakeJob(y, JobState::kQueued, "late"),
                           MakeJob(x, JobState::kQueued), MakeJob("z", JobState::kQueued)};
  CHECK(KeepOneRecordPerJob(jobs) == 3);
  REQUIRE(Ids(jobs) == std::vector<std::string>{x, y, "z"});
  CHECK(jobs[0].state == JobState::kActive);
  CHECK(jobs[1].name == "late");
}

TEST_CASE("100,000 distinct jobs stay as they are, and duplicates among them go") {
  std::vector<Job> jobs;
  jobs.reserve(100'100);
  for (int i = 0; i < 100'000; ++i) {
    jobs.push_back(MakeJob("job-" + std::to_string(i), JobState::kQueued));
  }
  CHECK(KeepOneRecordPerJob(jobs) == 0);
  CHECK(jobs.size() == 100'000);
  for (int i = 0; i < 100; ++i)
    jobs.push_back(MakeJob("job-" + std::to_string(i * 7), JobState::kActive));
  CHECK(KeepOneRecordPerJob(jobs) == 100);
  REQUIRE(jobs.size() == 100'000);
  CHECK(jobs[7].state == JobState::kActive);
  CHECK(jobs[8].state == JobState::kQueued);
  CHECK(jobs[99'999].id == "job-99999");
}

TEST_CASE("a job that moves to a later page while the listing is paged counts once") {
  PollFixture p;
  p.server.pages[kItwin] = {
      {ApiJobJson("j1", "Queued", kItwin), ApiJobJson("j2", "Active", kItwin)},
      {ApiJobJson("j3", "Active", kItwin), ApiJobJson("J1", "Active", kItwin)},
      {ApiJobJson("j2", "Queued", kItwin)}};
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.pages == 3);
  CHECK(l.duplicates == 2);
  REQUIRE(Ids(l.jobs) == std::vector<std::string>{"j1", "j2", "j3"});
  CHECK(l.jobs[0].state == JobState::kActive);  // j1 as read on page 2
  CHECK(l.jobs[1].state == JobState::kActive);  // j2: Queued on page 3 is not newer than Active
}

TEST_CASE("an iTwin listed twice in another case gives each job once") {
  PollFixture p;
  p.config.watch.itwins = {kItwin, "CE54F773-67DB-4B4F-A98B-368329107429"};
  p.server.pages[kItwin] = {{ApiJobJson("j1", "Active", kItwin)}};
  p.server.pages["CE54F773-67DB-4B4F-A98B-368329107429"] = {
      {ApiJobJson("j1", "Active", "CE54F773-67DB-4B4F-A98B-368329107429")}};
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.unwatched == 0);
  CHECK(Ids(l.jobs) == std::vector<std::string>{"j1"});
}

TEST_CASE("jobs of iTwins not watched are dropped from the listing") {
  PollFixture p;
  p.server.pages[kItwin] = {
      {ApiJobJson("j1", "Active", kItwin), ApiJobJson("j2", "Active", kOther)},
      {ApiJobJson("j3", "Queued", std::string(kItwin).substr(0, 8))}};
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.unwatched == 2);
  CHECK(Ids(l.jobs) == std::vector<std::string>{"j1"});

  SECTION("an upper-case watched iTwin still matches the lower-cased job") {
    PollFixture q;
    q.config.watch.itwins = {"CE54F773-67DB-4B4F-A98B-368329107429"};
    q.server.pages["CE54F773-67DB-4B4F-A98B-368329107429"] = {
        {ApiJobJson("j1", "Active", "CE54F773-67db-4b4f-A98B-368329107429")}};
    Listing m = q.Poll();
    CHECK(m.unwatched == 0);
    CHECK(Ids(m.jobs) == std::vector<std::string>{"j1"});
  }
  SECTION("without watched iTwins (the client's own jobs) nothing is dropped") {
    PollFixture q;
    q.config.watch.itwins.clear();
    q.server.pages[""] = {{ApiJobJson("j1", "Active", kItwin), ApiJobJson("j2", "Active", kOther)}};
    Listing m = q.Poll();
    CHECK(m.unwatched == 0);
    CHECK(Ids(m.jobs) == std::vector<std::string>{"j1", "j2"});
  }
}

TEST_CASE("a followed job is followed only while its iTwin is watched") {
  PollFixture p;
  p.server.pages[kItwin] = {
      {ApiJobJson("j1", "Active", kItwin), ApiJobJson("moved", "Active", kOther)}};
  p.server.single["old-watched"] = ApiJobJson("old-watched", "Active", kItwin);
  p.server.single["old-unwatched"] = ApiJobJson("old-unwatched", "Active", kOther);
  p.state.followed = {"old-watched", "old-unwatched", "moved"};
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.gets == 2);  // "moved" was listed (and dropped): no GET for it
  CHECK(l.unwatched == 2);
  CHECK(Ids(l.jobs) == std::vector<std::string>{"j1", "old-watched"});
  CHECK(p.state.followed == std::set<std::string>{"old-watched"});
}

TEST_CASE("following many jobs, some ended or gone, forgets exactly those (no dangling id)") {
  // Regression: ids erased from `followed` while it was walked left views
  // into freed strings in the lookup set (ASan: heap-use-after-free). Few
  // ids: libstdc++ looks up a set of 20 or fewer by comparing every key.
  PollFixture p;
  p.server.pages[kItwin] = {{ApiJobJson("listed", "Active", kItwin)}};
  std::set<std::string> running;
  for (int i = 0; i < 12; ++i) {
    std::string id = "followed-" + std::to_string(i);
    p.state.followed.insert(id);
    if (i % 3 == 0) continue;  // 404: gone
    bool ended = i % 3 == 1;
    p.server.single[id] = ApiJobJson(id, ended ? "Success" : "Active", kItwin);
    if (!ended) running.insert(id);
  }
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.gets == 12);
  CHECK(l.jobs.size() == 1 + 8);  // the listed job and every job read back
  CHECK(p.state.followed == running);
}

TEST_CASE("a followed id saved in upper case and listed too gives one record") {
  PollFixture p;
  p.server.pages[kItwin] = {{ApiJobJson("j1", "Queued", kItwin)}};
  p.server.single["J1"] = ApiJobJson("J1", "Active", kItwin);
  p.state.followed = {"J1"};
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.gets == 1);
  CHECK(l.duplicates == 1);
  REQUIRE(Ids(l.jobs) == std::vector<std::string>{"j1"});
  CHECK(l.jobs[0].state == JobState::kActive);
}

TEST_CASE("the pacing allowance is min(120 s, 4 poll intervals)") {
  Config c;
  c.watch.poll_interval = 10s;
  CHECK(MaxPacingWait(c) == 40s);
  c.watch.poll_interval = 30s;
  CHECK(MaxPacingWait(c) == 120s);
  c.watch.poll_interval = 300s;
  CHECK(MaxPacingWait(c) == 120s);
}

TEST_CASE("at 20 requests a minute a 20-page iTwin is listed whole, runaway on the last page") {
  PollFixture p(20);
  p.server.max_per_minute = 20;
  std::vector<std::vector<std::string>>& pages = p.server.pages[kItwin];
  for (int k = 0; k < 19; ++k) {
    pages.push_back({ApiJobJson("done-" + std::to_string(2 * k), "Success", kItwin),
                     ApiJobJson("done-" + std::to_string(2 * k + 1), "Success", kItwin)});
  }
  pages.push_back({ApiJobJson("runaway", "Active", kItwin, "2026-04-05T10:00:00Z")});
  Listing l = p.Poll();
  REQUIRE(l.complete);
  CHECK(l.error.empty());
  CHECK(l.pages == 20);
  REQUIRE(l.jobs.size() == 39);
  CHECK(l.jobs.back().id == "runaway");
  CHECK(p.server.refused == 0);           // the API refused nothing
  CHECK(p.http.requests().size() == 20);  // each page once
  CHECK_FALSE(p.waiter.waits().empty());
  for (Millis w : p.waiter.waits()) CHECK(w <= MaxPacingWait(p.config));

  SECTION("the next poll, in the same minute's shadow, completes too") {
    Listing again = p.Poll();
    CHECK(again.complete);
    CHECK(again.jobs.size() == 39);
    CHECK(p.server.refused == 0);
  }
}

TEST_CASE("a shutdown during a paced listing leaves it incomplete, each later wait ends at once") {
  PollFixture p(20);
  p.config.watch.itwins = {kItwin, kOther};
  for (int k = 0; k < 20; ++k) {
    p.server.pages[kItwin].push_back({ApiJobJson("a" + std::to_string(k), "Active", kItwin)});
  }
  p.server.pages[kOther] = {{ApiJobJson("b", "Active", kOther)}};
  p.waiter.stopped = true;
  TimePoint start = p.clock.Now();
  Listing l = p.Poll();
  CHECK_FALSE(l.complete);
  CHECK_THAT(l.error, Catch::Contains("interrupted"));
  CHECK(l.first_failed == 0u);
  CHECK(p.http.requests().size() == 18);
  CHECK(p.waiter.waits().size() == 2);  // one per iTwin, neither waited
  CHECK(p.clock.Now() - start < 5s);
}

TEST_CASE("absorbed jobs are dropped as their page arrives, pending, followed and open ones stay") {
  PollFixture p;
  // "old*" were counted by an earlier poll; "new*" are counted as offered
  // (ended); everything else is refused.
  std::set<std::string> counted = {"old1", "old2", "pend", "foll", "late", "term"};
  std::vector<std::pair<std::string, std::size_t>> offered;  // id, requests sent by then
  AbsorbFn absorb = [&](const Job& j) {
    offered.emplace_back(j.id.str(), p.http.requests().size());
    if (counted.count(j.id.str())) return true;
    if (IsRunning(j.state) || j.id.view().substr(0, 3) != "new") return false;
    counted.insert(j.id.str());
    return true;
  };
  p.state.pending.push_back(PendingCancel{.job_id = "pend"});
  p.state.followed.insert("foll");
  p.server.pages[kItwin] = {
      {ApiJobJson("old1", "Success", kItwin), ApiJobJson("run1", "Active", kItwin)},
      {ApiJobJson("pend", "Cancelled", kItwin), ApiJobJson("foll", "Failed", kItwin),
       // Counted (it reported an end and units) but still terminating: it
       // can change and holds the next listing's horizon, so it stays.
       ApiJobJson("term", "TerminatingOnCancel", kItwin)},
      {ApiJobJson("new1", "Success", kItwin), ApiJobJson("kept", "Failed", kItwin)},
      // "late" shows Active here; its ended record came before (counted):
      // a replica behind. "new2" is Active here and Success on the next page.
      {ApiJobJson("late", "Active", kItwin), ApiJobJson("new2", "Active", kItwin)},
      {ApiJobJson("new2", "Success", kItwin), ApiJobJson("old2", "Failed", kItwin)}};
  Listing l = PollJobs(p.client, p.config, p.state, p.clock.Now(), {}, 0, absorb);
  REQUIRE(l.complete);
  CHECK(l.pages == 5);
  // Kept: the running job, the pending and the followed ones (never offered),
  // the ended job the ledger refused. "new2" ended while the listing ran: its
  // Active record goes after the last page, as KeepOneRecordPerJob would.
  CHECK(Ids(l.jobs) == std::vector<std::string>{"run1", "pend", "foll", "term", "kept"});
  CHECK(l.folded == 4);  // old1, new1, new2 (Success), old2
  CHECK(l.stale == 2);   // late, new2 (Active)
  CHECK(l.folded_counts[static_cast<int>(JobState::kSuccess)]
                       [static_cast<int>(JobType::kMeshSampling)] == 3);
  CHECK(l.folded_counts[static_cast<int>(JobState::kFailed)]
                       [static_cast<int>(JobType::kMeshSampling)] == 1);
  // Each job was offered while its own page was the last one read: the
  // listing never held more than a page of absorbed jobs.
  auto sent_by = [&](const std::string& id) {
    for (const auto& [o, n] : offered) {
      if (o == id) return n;
    }
    return std::size_t{0};
  };
  REQUIRE(sent_by("old1") >= 1);
  CHECK(sent_by("new1") == sent_by("old1") + 2);  // page 3
  CHECK(sent_by("old2") == sent_by("old1") + 4);  // page 5
  for (const auto& [id, n] : offered) CHECK(id != "pend");
  for (const auto& [id, n] : offered) CHECK(id != "foll");
  for (const auto& [id, n] : offered) CHECK(id != "term");

  SECTION("without absorb nothing is folded") {
    PollFixture q;
    q.server.pages[kItwin] = p.server.pages[kItwin];
    Listing m = q.Poll();
    CHECK(m.folded == 0);
    CHECK(m.stale == 0);
    CHECK(m.jobs.size() == 10);  // new2 once
    CHECK(m.duplicates == 1);
  }
}
