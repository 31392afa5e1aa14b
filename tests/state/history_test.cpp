// state.db's history table (backtest, issue 13).
#include "budget/history.h"

#include <catch2/catch.hpp>

#include "base/timefmt.h"
#include "fakes/temp_dir.h"
#include "state/state_store.h"

using namespace rcw;
using namespace std::chrono_literals;

namespace {

TimePoint At(const char* text) { return *ParseTimestamp(text); }

Job Ended(const std::string& id, const char* ended, std::optional<double> pu) {
  Job j;
  j.id = id;
  j.name = "name of " + id;
  j.itwin_id = "itwin-1";
  j.user_id = "user-1";
  j.type = JobType::kMeshSampling;
  j.state = JobState::kSuccess;
  j.ended = At(ended);
  j.started = *j.ended - 1h;
  j.created = *j.started - 10min;
  j.processing_units = pu;
  return j;
}

}  // namespace

TEST_CASE("history rows are saved with the state and read back by period") {
  testing::TempDir dir;
  StateStore store(dir.path());
  History history;
  Job odd = Ended("c", "2026-11-29T10:00:00Z", 3.0);
  odd.type = JobType::kUnknown;
  odd.raw_type = "FutureType";
  odd.name = std::string(5000, 'x');
  std::vector<Job> first = {Ended("a", "2026-11-01T10:00:00Z", 12.5)};
  history.Add(first, 0);
  history.Detach();  // copied: `first` may go
  first.clear();
  std::vector<Job> second = {Ended("b", "2026-11-20T10:00:00Z", std::nullopt), odd};
  history.AddUncounted(second, 0);
  history.AddUncounted(second, 0);  // seen again
  history.Add(second, 1);
  REQUIRE(history.Batch().rows.size() == 3);
  PersistentState state;
  HistoryBatch batch = history.Batch();
  REQUIRE(store.Save(state, state.ledger, 0, &batch).ok());
  history.MarkSaved();
  CHECK(history.Batch().empty());

  Result<StateStore::HistoryRead> all =
      store.ReadHistoryReadOnly(At("2026-10-01T00:00:00Z"), At("2026-12-01T00:00:00Z"));
  REQUIRE(all.ok());
  REQUIRE(all->jobs.size() == 3);
  CHECK(all->oldest == At("2026-11-01T10:00:00Z"));
  CHECK(all->jobs[0].id == "a");
  CHECK(all->jobs[0].processing_units == 12.5);
  CHECK(all->jobs[0].state == JobState::kSuccess);
  CHECK(all->jobs[0].started == At("2026-11-01T09:00:00Z"));
  CHECK(all->jobs[0].created == At("2026-11-01T08:50:00Z"));
  CHECK_FALSE(all->jobs[1].processing_units);
  CHECK(all->jobs[2].TypeText() == "FutureType");
  CHECK(all->jobs[2].name.size() == kHistoryNameMax);

  Result<StateStore::HistoryRead> late =
      store.ReadHistoryReadOnly(At("2026-11-15T00:00:00Z"), At("2026-12-01T00:00:00Z"));
  REQUIRE(late.ok());
  CHECK(late->jobs.size() == 2);
}

TEST_CASE("the history is pruned by retention, once a day") {
  testing::TempDir dir;
  StateStore store(dir.path());
  History history;
  std::vector<Job> listing = {Ended("old", "2026-10-01T10:00:00Z", 1.0),
                              Ended("new", "2026-11-28T10:00:00Z", 1.0)};
  history.Add(listing, 0);
  history.Add(listing, 1);
  PersistentState state;
  HistoryBatch batch = history.Batch();
  REQUIRE(store.Save(state, state.ledger, 0, &batch).ok());
  history.MarkSaved();
  TimePoint now = At("2026-11-30T00:00:00Z");
  history.PlanPrune(now, Seconds(35 * 86400));
  batch = history.Batch();
  REQUIRE(batch.prune_before == now - Seconds(35 * 86400));
  REQUIRE(store.Save(state, state.ledger, 0, &batch).ok());
  history.MarkSaved();
  history.PlanPrune(now + 1h, Seconds(35 * 86400));
  CHECK_FALSE(history.Batch().prune_before);  // not again within the day
  history.PlanPrune(now + 24h, Seconds(35 * 86400));
  CHECK(history.Batch().prune_before);
  Result<StateStore::HistoryRead> all = store.ReadHistoryReadOnly(TimePoint{}, now);
  REQUIRE(all.ok());
  REQUIRE(all->jobs.size() == 1);
  CHECK(all->jobs[0].id == "new");
}

TEST_CASE("the day of the last history prune survives a restart, and a clock set back prunes") {
  testing::TempDir dir;
  TimePoint now = At("2026-11-30T00:00:00Z");
  {
    StateStore store(dir.path());
    REQUIRE(store.Load().ok());
    History history;
    history.PlanPrune(now, Seconds(35 * 86400));
    PersistentState state;
    state.history_pruned_at = history.last_prune();
    HistoryBatch batch = history.Batch();
    REQUIRE(batch.prune_before);
    REQUIRE(store.Save(state, state.ledger, 0, &batch).ok());
  }
  StateStore store(dir.path());
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->history_pruned_at == now);
  History restarted;
  restarted.set_last_prune(loaded->history_pruned_at);
  restarted.PlanPrune(now + 2h, Seconds(35 * 86400));
  CHECK_FALSE(restarted.Batch().prune_before);  // a run --once two hours later: no scan
  restarted.PlanPrune(now - 1h, Seconds(35 * 86400));
  CHECK(restarted.Batch().prune_before == now - 1h - Seconds(35 * 86400));
  CHECK(restarted.last_prune() == now - 1h);
}

TEST_CASE("borrowed history rows of a lost listing are dropped, copied ones kept") {
  History history;
  std::vector<Job> a = {Ended("a", "2026-11-01T10:00:00Z", 1.0)};
  history.Add(a, 0);
  std::vector<Job> b = {Ended("b", "2026-11-02T10:00:00Z", 1.0)};
  history.Add(b, 0);  // another listing: the rows of `a` are copied first
  CHECK(history.source() == &b);
  CHECK(history.DropBorrowed() == 1);
  HistoryBatch batch = history.Batch();
  REQUIRE(batch.rows.size() == 1);
  CHECK(batch.rows[0]->id == "a");
  CHECK(batch.rows[0] != &a[0]);
}

TEST_CASE("no state.db: an empty history, nothing created") {
  testing::TempDir dir;
  StateStore store(dir.path());
  Result<StateStore::HistoryRead> r = store.ReadHistoryReadOnly(TimePoint{}, TimePoint::max());
  REQUIRE(r.ok());
  CHECK(r->jobs.empty());
  CHECK_FALSE(r->oldest);
}
