// Incremental listing (issue 11): PlanScope's choice of full or incremental,
// CommitListing's marks, and PollJobs against a FakeJobServer that honours
// `createdDateTime gt`.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/timefmt.h"
#include "fakes/fake_api.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"
#include "fakes/fake_job_server.h"
#include "service/poller.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kBase = "https://api.bentley.com/reality-conversion";
constexpr const char* kItwin = "ce54f773-67db-4b4f-a98b-368329107429";
constexpr const char* kOther = "0b1b0e8c-2c36-4c1e-9f59-1d2e3f4a5b6c";

const TimePoint kNow = *ParseTimestamp("2026-04-05T14:00:00Z");

Config TestConfig() {
  Config c;
  c.watch.itwins = {kItwin};
  c.watch.poll_interval = 30s;
  c.watch.lookback = 7 * 24h;
  c.watch.full_listing_interval = 1h;
  return c;
}

// A mark of a full listing 20 minutes ago whose oldest open job was created
// 3 hours ago.
ListingMark RecentMark(const Config& c) {
  ListingMark m;
  m.scope = kItwin;
  m.full_at = kNow - 20min;
  m.horizon = kNow - 3h;
  m.lookback = c.watch.lookback;
  return m;
}

std::vector<std::string> Ids(const std::vector<Job>& jobs) {
  std::vector<std::string> ids;
  for (const Job& j : jobs) ids.push_back(j.id.str());
  return ids;
}

std::string At(TimePoint t) { return FormatTimestamp(t); }

}  // namespace

TEST_CASE("PlanScope: incremental from the horizon minus the margin while the mark is fresh") {
  Config c = TestConfig();
  ListingMark m = RecentMark(c);
  ScopePlan p = PlanScope(c, &m, kNow);
  CHECK(p.kind == ListingKind::kIncremental);
  CHECK(p.created_after == kNow - 3h - kIncrementalMargin);
  CHECK(kIncrementalMargin == 10min);
}

TEST_CASE("PlanScope: each reason for a full listing") {
  Config c = TestConfig();
  ListingMark m = RecentMark(c);
  // Full: the whole lookback window.
  auto full = [&](const ListingMark* mark, const Config& config) {
    ScopePlan p = PlanScope(config, mark, kNow);
    if (p.kind == ListingKind::kFull) CHECK(p.created_after == kNow - config.watch.lookback);
    return p.kind == ListingKind::kFull;
  };
  SECTION("no mark") { CHECK(full(nullptr, c)); }
  SECTION("no horizon") {
    m.horizon.reset();
    CHECK(full(&m, c));
  }
  SECTION("no full listing yet") {
    m.full_at.reset();
    CHECK(full(&m, c));
  }
  SECTION("the last full listing is full_listing_interval old") {
    m.full_at = kNow - 1h;
    CHECK(full(&m, c));
    m.full_at = kNow - 1h + 1s;
    CHECK_FALSE(full(&m, c));
  }
  SECTION("watch.lookback changed (a reload, or a restart with another config)") {
    m.lookback = c.watch.lookback - 1h;
    CHECK(full(&m, c));
  }
  SECTION("the clock went back behind the mark") {
    ListingMark ahead = m;
    ahead.full_at = kNow + 1s;
    CHECK(full(&ahead, c));
    ahead = m;
    ahead.horizon = kNow + 1s;
    CHECK(full(&ahead, c));
  }
  SECTION("full_listing_interval at or below poll_interval: always full") {
    c.watch.full_listing_interval = c.watch.poll_interval;
    CHECK(full(&m, c));
    c.watch.full_listing_interval = 1s;
    CHECK(full(&m, c));
    c.watch.full_listing_interval = 21min;  // the last full listing was 20 min ago
    CHECK_FALSE(full(&m, c));
  }
}

TEST_CASE("PlanScope: an incremental listing never reaches back past the lookback") {
  Config c = TestConfig();
  c.watch.lookback = 2h;
  ListingMark m = RecentMark(c);  // horizon 3 h ago: past the window
  ScopePlan p = PlanScope(c, &m, kNow);
  CHECK(p.kind == ListingKind::kIncremental);
  CHECK(p.created_after == kNow - 2h);
  m.horizon = kNow - 2h + 5min;  // within the window, but the margin is not
  CHECK(PlanScope(c, &m, kNow).created_after == kNow - 2h);
  m.horizon = kNow - 1h;
  CHECK(PlanScope(c, &m, kNow).created_after == kNow - 1h - 10min);
}

namespace {

Listing OneScope(std::string scope, ListingKind kind, bool complete,
                 std::optional<TimePoint> oldest_open, TimePoint started = kNow) {
  Listing l;
  l.started = started;
  ScopeListing s;
  s.scope = std::move(scope);
  s.kind = kind;
  s.complete = complete;
  s.oldest_open = oldest_open;
  l.scopes.push_back(s);
  l.complete = complete;
  return l;
}

}  // namespace

TEST_CASE("CommitListing: horizon, full_at and lookback of a complete listing") {
  Config c = TestConfig();
  PersistentState state;
  CommitListing(c, OneScope(kItwin, ListingKind::kFull, true, kNow - 5h), state);
  REQUIRE(state.listings.count(kItwin));
  ListingMark m = state.listings.at(kItwin);
  CHECK(m.scope == kItwin);
  CHECK(m.horizon == kNow - 5h);
  CHECK(m.full_at == kNow);
  CHECK(m.lookback == c.watch.lookback);
  CHECK(PlanScope(c, &m, kNow + 30s).kind == ListingKind::kIncremental);

  SECTION("an incremental listing moves the horizon and keeps full_at") {
    CommitListing(c, OneScope(kItwin, ListingKind::kIncremental, true, kNow - 1h, kNow + 30s),
                  state);
    m = state.listings.at(kItwin);
    CHECK(m.horizon == kNow - 1h);
    CHECK(m.full_at == kNow);
    ScopePlan next = PlanScope(c, &m, kNow + 60s);
    CHECK(next.kind == ListingKind::kIncremental);
    CHECK(next.created_after == kNow - 1h - 10min);
    // An hour after the full listing the next one is full again.
    CHECK(PlanScope(c, &m, kNow + 1h).kind == ListingKind::kFull);
  }
  SECTION("with nothing open, the horizon is the listing's start") {
    CommitListing(c, OneScope(kItwin, ListingKind::kIncremental, true, std::nullopt, kNow + 30s),
                  state);
    CHECK(state.listings.at(kItwin).horizon == kNow + 30s);
  }
  SECTION("a job created after the listing started (API clock ahead) does not move it later") {
    CommitListing(c, OneScope(kItwin, ListingKind::kIncremental, true, kNow + 40s, kNow + 30s),
                  state);
    CHECK(state.listings.at(kItwin).horizon == kNow + 30s);
  }
  SECTION("an incomplete listing drops the mark: the next listing is full") {
    CommitListing(c, OneScope(kItwin, ListingKind::kIncremental, false, kNow - 1h, kNow + 30s),
                  state);
    CHECK_FALSE(state.listings.count(kItwin));
    ScopePlan next = PlanScope(c, nullptr, kNow + 60s);
    CHECK(next.kind == ListingKind::kFull);
  }
  SECTION("marks of iTwins no longer watched are dropped") {
    c.watch.itwins = {kOther};
    CommitListing(c, OneScope(kOther, ListingKind::kFull, true, std::nullopt), state);
    CHECK_FALSE(state.listings.count(kItwin));
    CHECK(state.listings.count(kOther));
  }
  SECTION("a reload that changes watch forgets every mark; one that does not keeps them") {
    Config same = c;
    ForgetListingsIfWatchChanged(c.watch, same.watch, state);
    CHECK(state.listings.count(kItwin));
    Config other = c;
    other.watch.page_size = 500;
    ForgetListingsIfWatchChanged(c.watch, other.watch, state);
    CHECK(state.listings.empty());
  }
}

namespace {

// PollJobs and CommitListing in front of a FakeJobServer that filters by
// createdDateTime; pages of two jobs, newest first (as the API lists).
struct ListFixture {
  ListFixture()
      : gate(clock, {.max_per_minute = 250, .max_per_hour = 4500, .reserve = 0.10}),
        server(clock, kBase),
        client(http, tokens, gate, clock, nullptr, ClientOptions{kBase}) {
    http.set_handler([this](const HttpRequest& r) { return server(r); });
    config = TestConfig();
    config.watch.page_size = 2;
  }

  // `hours_old` hours before now, newest first.
  void AddJob(const std::string& id, const std::string& state, double hours_old) {
    TimePoint created = clock.Now() - std::chrono::duration_cast<Seconds>(
                                          std::chrono::duration<double>(hours_old * 3600));
    jobs.push_back(ApiJobJson(id, state, kItwin, At(created)));
    Repage();
  }
  void SetState(const std::string& id, const std::string& state) {
    for (std::string& j : jobs) {
      if (j.find("\"" + id + "\"") == std::string::npos) continue;
      std::string created = j.substr(j.find("createdDateTime") + 18, 20);
      j = ApiJobJson(id, state, kItwin, created);
    }
    Repage();
  }
  void Repage() {
    std::vector<std::string> sorted = jobs;
    std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
      auto created = [](const std::string& j) {
        return j.substr(j.find("createdDateTime") + 18, 20);
      };
      return created(a) > created(b);
    });
    std::vector<std::vector<std::string>>& pages = server.pages[kItwin];
    pages.clear();
    for (std::size_t i = 0; i < sorted.size(); i += 2) {
      pages.push_back(
          {sorted.begin() + static_cast<std::ptrdiff_t>(i),
           sorted.begin() + static_cast<std::ptrdiff_t>(std::min(i + 2, sorted.size()))});
    }
  }
  // One poll: list, then commit as the watchdog does after assessing.
  Listing Poll() {
    Listing l = PollJobs(client, config, state, clock.Now());
    CommitListing(config, l, state);
    clock.Advance(30s);
    return l;
  }

  FakeClock clock;
  RequestGate gate;
  FakeHttpClient http;
  FakeJobServer server;
  FakeTokenSource tokens;
  RealityConversionClient client;
  Config config;
  PersistentState state;
  std::vector<std::string> jobs;
};

}  // namespace

TEST_CASE("the fake server honours createdDateTime gt across its pages") {
  ListFixture f;
  for (int i = 0; i < 6; ++i) f.AddJob("done-" + std::to_string(i), "Success", 10 + i);
  f.AddJob("new", "Active", 1);
  ListQuery q;
  q.itwin_id = kItwin;
  q.page_size = 2;
  q.created_after = f.clock.Now() - 12h;  // new, done-0, done-1 (10 h, 11 h old)
  std::vector<Job> out;
  ApiResult<ListStats> r = f.client.ListJobs(q, out, Millis{0});
  REQUIRE(r.ok());
  CHECK(Ids(out) == std::vector<std::string>{"new", "done-0", "done-1"});
  CHECK(r.value().pages == 2);
}

TEST_CASE("after a full listing the next polls list only what can change") {
  ListFixture f;
  // 20 ended jobs 2 to 40 hours old, one running 5 hours old.
  for (int i = 0; i < 20; ++i) f.AddJob("done-" + std::to_string(i), "Success", 2 + 2 * i);
  f.AddJob("running", "Active", 5);

  Listing first = f.Poll();
  REQUIRE(first.complete);
  REQUIRE(first.scopes.size() == 1);
  CHECK(first.kind() == ListingKind::kFull);
  CHECK(first.jobs.size() == 21);
  CHECK(first.pages == 11);
  REQUIRE(f.state.listings.count(kItwin));
  CHECK(f.state.listings.at(kItwin).horizon == first.started - 5h);

  Listing second = f.Poll();
  REQUIRE(second.complete);
  CHECK(second.kind() == ListingKind::kIncremental);
  CHECK(second.scopes[0].created_after == first.started - 5h - 10min);
  // running (5 h), done-0 (2 h), done-1 (4 h): two pages, not eleven.
  CHECK(Ids(second.jobs) == std::vector<std::string>{"done-0", "done-1", "running"});
  CHECK(second.pages == 2);
  REQUIRE(f.server.list_urls.size() == 11 + 2);
  std::string bound = At(first.started - 5h - 10min);
  for (std::size_t at; (at = bound.find(':')) != std::string::npos;) bound.replace(at, 1, "%3A");
  CHECK_THAT(f.server.list_urls[11], Catch::Contains("createdDateTime%20gt%20" + bound));

  SECTION("a job created later is listed; once the running one ends the horizon moves up") {
    f.AddJob("late", "Queued", 0.01);
    f.SetState("running", "Success");
    Listing third = f.Poll();
    CHECK(third.kind() == ListingKind::kIncremental);
    CHECK(Ids(third.jobs) == std::vector<std::string>{"late", "done-0", "done-1", "running"});
    // The horizon is now the Queued job's creation: the ended ones are not listed again.
    Listing fourth = f.Poll();
    CHECK(Ids(fourth.jobs) == std::vector<std::string>{"late"});
    CHECK(fourth.pages == 1);
  }
  SECTION("a job with a cancellation pending holds the horizon even once terminal") {
    PendingCancel p;
    p.job_id = "running";
    p.accepted = true;
    f.state.pending.push_back(p);
    f.SetState("running", "Cancelled");
    Listing third = f.Poll();
    CHECK(Ids(third.jobs) == std::vector<std::string>{"done-0", "done-1", "running"});
    Listing fourth = f.Poll();  // still pending: still listed, so Confirm sees it Cancelled
    CHECK(Ids(fourth.jobs) == std::vector<std::string>{"done-0", "done-1", "running"});
    f.state.pending.clear();   // confirmed
    Listing fifth = f.Poll();  // planned from the mark of the fourth
    CHECK(Ids(fifth.jobs) == std::vector<std::string>{"done-0", "done-1", "running"});
    Listing sixth = f.Poll();
    CHECK(sixth.jobs.empty());
    CHECK(sixth.pages <= 1);
  }
  SECTION("an incomplete listing makes the next one full") {
    f.http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse busy;
      busy.status = 503;
      return busy;
    });
    Listing failed = f.Poll();
    CHECK_FALSE(failed.complete);
    CHECK(failed.kind() == ListingKind::kIncremental);
    CHECK_FALSE(f.state.listings.count(kItwin));
    f.http.set_handler([&f](const HttpRequest& r) { return f.server(r); });
    Listing next = f.Poll();
    CHECK(next.kind() == ListingKind::kFull);
    CHECK(next.jobs.size() == 21);
  }
  SECTION("full_listing_interval after the full listing, the listing is full again") {
    f.clock.Advance(1h);
    Listing later = f.Poll();
    CHECK(later.kind() == ListingKind::kFull);
    CHECK(later.jobs.size() == 21);
    CHECK(f.state.listings.at(kItwin).full_at == later.started);
  }
}

TEST_CASE(
    "a running job followed past the lookback is still read with GET while listing incrementally") {
  ListFixture f;
  f.config.watch.lookback = 24h;
  const std::string created = At(f.clock.Now() - 23h - 30min);
  f.AddJob("old-running", "Active", 23.5);  // within the window, near its edge: followed
  f.AddJob("recent", "Success", 1);
  Listing first = f.Poll();
  REQUIRE(first.complete);
  CHECK(f.state.followed.count("old-running"));
  f.server.single["old-running"] = ApiJobJson("old-running", "Active", kItwin, created);
  f.clock.Advance(1h);  // out of the window: the (full) listing no longer returns it
  Listing second = f.Poll();
  CHECK(second.kind() == ListingKind::kFull);
  CHECK(second.gets == 1);
  CHECK(Ids(second.jobs) == std::vector<std::string>{"recent", "old-running"});
  // Read with GET, not listed: it does not hold the horizon, and is read
  // again by the next, incremental, poll.
  Listing third = f.Poll();
  CHECK(third.kind() == ListingKind::kIncremental);
  CHECK(third.gets == 1);
  CHECK(Ids(third.jobs) == std::vector<std::string>{"old-running"});
  CHECK(f.state.followed.count("old-running"));
}
