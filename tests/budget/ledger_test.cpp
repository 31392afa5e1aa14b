#include "budget/ledger.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "budget/window.h"
#include "budget_test_util.h"

namespace rcw {
namespace {

using test::At;
using test::EndedJob;
using test::JobSpec;
using test::MakeBudget;

WindowSpan UtcDay(std::string_view instant) {
  return WindowCalculator::Create(BudgetWindow::kDaily, "UTC")->Containing(At(instant));
}

TEST_CASE("ledger records an ended job once", "[budget][ledger]") {
  Ledger ledger;
  Job job = EndedJob({.id = "j1"}, "2026-11-29T10:00:00Z", 40);
  CHECK(ledger.Record(job));
  CHECK(ledger.Contains("j1"));
  CHECK_FALSE(ledger.Contains("j2"));
  REQUIRE(ledger.size() == 1);
  const LedgerEntry& e = ledger.entries().front();
  CHECK(e.job_id == "j1");
  CHECK(e.ended == At("2026-11-29T10:00:00Z"));
  CHECK(e.processing_units == 40);
  CHECK(e.itwin_id == "itwin-a");
  CHECK(e.user_id == "user-a");
  CHECK(e.type == JobType::kMeshSampling);
}

TEST_CASE("recording twice returns false and ignores different PUs", "[budget][ledger]") {
  Ledger ledger;
  REQUIRE(ledger.Record(EndedJob({.id = "j1"}, "2026-11-29T10:00:00Z", 40)));
  CHECK_FALSE(ledger.Record(EndedJob({.id = "j1"}, "2026-11-29T10:00:00Z", 40)));
  CHECK_FALSE(ledger.Record(EndedJob({.id = "j1"}, "2026-11-29T11:00:00Z", 999)));
  REQUIRE(ledger.size() == 1);
  CHECK(ledger.entries().front().processing_units == 40);
  CHECK(ledger.entries().front().ended == At("2026-11-29T10:00:00Z"));
}

TEST_CASE("jobs that have not ended are not recorded", "[budget][ledger]") {
  Ledger ledger;
  Job no_pu = EndedJob({.id = "a"}, "2026-11-29T10:00:00Z", 1);
  no_pu.processing_units.reset();
  Job no_end = EndedJob({.id = "b"}, "2026-11-29T10:00:00Z", 1);
  no_end.ended.reset();
  Job active = EndedJob({.id = "c", .state = JobState::kActive}, "2026-11-29T10:00:00Z", 1);
  Job queued = EndedJob({.id = "d", .state = JobState::kQueued}, "2026-11-29T10:00:00Z", 1);
  Job nan = EndedJob({.id = "e"}, "2026-11-29T10:00:00Z", std::nan(""));
  Job negative = EndedJob({.id = "f"}, "2026-11-29T10:00:00Z", -1);
  for (const Job& j : {no_pu, no_end, active, queued, nan, negative}) {
    CHECK_FALSE(ledger.Record(j));
    CHECK_FALSE(ledger.Contains(j.id));
  }
  CHECK(ledger.size() == 0);
  // Once it has ended properly it is recorded.
  no_pu.processing_units = 3;
  CHECK(ledger.Record(no_pu));
}

TEST_CASE("failed and cancelled jobs count too", "[budget][ledger]") {
  Ledger ledger;
  CHECK(
      ledger.Record(EndedJob({.id = "f", .state = JobState::kFailed}, "2026-11-29T10:00:00Z", 5)));
  CHECK(ledger.Record(
      EndedJob({.id = "c", .state = JobState::kCancelled}, "2026-11-29T10:00:00Z", 7)));
  CHECK(ledger.Record(EndedJob({.id = "z"}, "2026-11-29T10:00:00Z", 0)));
  BudgetConfig all = MakeBudget(GroupBy::kAll, 100);
  CHECK(ledger.Spent(all, "all", UtcDay("2026-11-29T12:00:00Z")) == 12);
}

TEST_CASE("prune drops entries ended before the horizon and forgets their ids",
          "[budget][ledger]") {
  Ledger ledger;
  REQUIRE(ledger.Record(EndedJob({.id = "old"}, "2026-11-01T00:00:00Z", 1)));
  REQUIRE(ledger.Record(EndedJob({.id = "edge"}, "2026-11-10T00:00:00Z", 2)));
  REQUIRE(ledger.Record(EndedJob({.id = "new"}, "2026-11-20T00:00:00Z", 3)));
  ledger.Prune(At("2026-11-10T00:00:00Z"));
  CHECK_FALSE(ledger.Contains("old"));
  CHECK(ledger.Contains("edge"));  // ended exactly at the horizon: kept
  CHECK(ledger.Contains("new"));
  CHECK(ledger.size() == 2);
  // A pruned job is not counted again when it is listed again (a raised
  // lookback): its PUs were counted once already.
  CHECK_FALSE(ledger.Record(EndedJob({.id = "old"}, "2026-11-01T00:00:00Z", 1)));
}

TEST_CASE("a job ended before a pruned horizon is never counted again (lookback raised)",
          "[budget][ledger]") {
  Ledger ledger;
  REQUIRE(ledger.Record(EndedJob({.id = "old"}, "2026-11-20T10:00:00Z", 40)));
  ledger.Prune(At("2026-11-22T00:00:00Z"));
  REQUIRE_FALSE(ledger.Contains("old"));
  // A raised lookback lists the job again: it was counted once already.
  CHECK_FALSE(ledger.Record(EndedJob({.id = "old"}, "2026-11-20T10:00:00Z", 40)));
  CHECK(ledger.size() == 0);
  // A pruned horizon never moves back, and survives a restart.
  ledger.Prune(At("2026-11-15T00:00:00Z"));
  CHECK(ledger.pruned_before() == At("2026-11-22T00:00:00Z"));
  Ledger restarted;
  restarted.set_pruned_before(ledger.pruned_before());
  CHECK_FALSE(restarted.Record(EndedJob({.id = "old"}, "2026-11-20T10:00:00Z", 40)));
  CHECK(restarted.Record(EndedJob({.id = "new"}, "2026-11-23T10:00:00Z", 40)));
}

TEST_CASE("the id index holds through growth and repeated pruning", "[budget][ledger]") {
  // 5,000 ids: the index table grows many times; pruning every other hour
  // moves the survivors, and every answer must stay right after each step.
  Ledger ledger;
  auto id = [](int n) { return "job-" + std::to_string(n); };
  auto hour = [](int n) { return At("2026-11-01T00:00:00Z") + std::chrono::hours{n % 200}; };
  for (int n = 0; n < 5000; ++n) {
    Job job = EndedJob({.id = id(n)}, "2026-11-01T00:00:00Z", 1);
    job.ended = hour(n);
    REQUIRE(ledger.Record(job));
    REQUIRE_FALSE(ledger.Record(job));
  }
  CHECK(ledger.size() == 5000);
  for (int cut = 50; cut <= 150; cut += 50) {
    ledger.Prune(At("2026-11-01T00:00:00Z") + std::chrono::hours{cut});
    int kept = 0;
    for (int n = 0; n < 5000; ++n) {
      bool should = n % 200 >= cut;
      kept += should;
      if (ledger.Contains(id(n)) != should) FAIL("id " << id(n) << " after prune at " << cut);
    }
    CHECK(ledger.size() == static_cast<std::size_t>(kept));
    for (std::size_t i = 0; i < ledger.size(); ++i) {
      REQUIRE(ledger.Contains(ledger.entries()[i].job_id));
    }
  }
  CHECK_FALSE(ledger.Contains(""));
  CHECK_FALSE(ledger.Contains("job-"));
  CHECK_FALSE(Ledger().Contains("job-1"));  // empty: no table yet
}

TEST_CASE("restore replaces the contents, dropping duplicates and bad PUs", "[budget][ledger]") {
  Ledger ledger;
  REQUIRE(ledger.Record(EndedJob({.id = "gone"}, "2026-11-29T10:00:00Z", 1)));
  LedgerEntries saved = {
      {.job_id = "a", .ended = At("2026-11-29T01:00:00Z"), .processing_units = 10},
      {.job_id = "b", .ended = At("2026-11-29T02:00:00Z"), .processing_units = 20},
      {.job_id = "a", .ended = At("2026-11-29T03:00:00Z"), .processing_units = 99},
      {.job_id = "c",
       .ended = At("2026-11-29T04:00:00Z"),
       .processing_units = std::numeric_limits<double>::infinity()},
  };
  ledger.Restore(saved);
  CHECK_FALSE(ledger.Contains("gone"));
  CHECK(ledger.Contains("a"));
  CHECK(ledger.Contains("b"));
  CHECK_FALSE(ledger.Contains("c"));
  REQUIRE(ledger.size() == 2);
  CHECK(ledger.entries()[0].processing_units == 10);
  CHECK_FALSE(ledger.Record(EndedJob({.id = "b"}, "2026-11-29T10:00:00Z", 1)));
}

TEST_CASE("record keeps the job's name for name_regex budgets", "[budget][ledger]") {
  Ledger ledger;
  REQUIRE(ledger.Record(EndedJob({.id = "n", .name = "nightly-1"}, "2026-11-29T10:00:00Z", 1)));
  CHECK(ledger.entries().front().name == "nightly-1");
}

// Two iTwins, two users, two types, all ended on 2026-11-29 UTC, plus one
// job the day before and one the day after.
Ledger SampleLedger() {
  Ledger ledger;
  auto add = [&](JobSpec s, std::string_view ended, double pu) {
    REQUIRE(ledger.Record(EndedJob(std::move(s), ended, pu)));
  };
  add({.id = "1", .type = JobType::kMeshSampling, .itwin = "A", .user = "u1", .name = "nightly-a"},
      "2026-11-29T01:00:00Z", 10);
  add({.id = "2", .type = JobType::kMeshSampling, .itwin = "B", .user = "u1"},
      "2026-11-29T02:00:00Z", 20);
  add({.id = "3",
       .type = JobType::kPointCloudConversion,
       .itwin = "A",
       .user = "u2",
       .name = "nightly-b"},
      "2026-11-29T03:00:00Z", 40);
  add({.id = "4", .type = JobType::kPointCloudConversion, .itwin = "B", .user = "u2"},
      "2026-11-29T23:59:59.999Z", 80);
  add({.id = "5", .itwin = "A"}, "2026-11-28T23:59:59.999Z", 1000);  // day before
  add({.id = "6", .itwin = "A"}, "2026-11-30T00:00:00Z", 2000);      // day after
  return ledger;
}

TEST_CASE("SpentByGroup groups by itwin, user, type and all in one window", "[budget][ledger]") {
  Ledger ledger = SampleLedger();
  WindowSpan day = UtcDay("2026-11-29T12:00:00Z");
  CHECK(ledger.SpentByGroup(MakeBudget(GroupBy::kItwin, 1), day) ==
        GroupSpend{{"A", 50}, {"B", 100}});
  CHECK(ledger.SpentByGroup(MakeBudget(GroupBy::kUser, 1), day) ==
        GroupSpend{{"u1", 30}, {"u2", 120}});
  CHECK(ledger.SpentByGroup(MakeBudget(GroupBy::kType, 1), day) ==
        GroupSpend{{"MeshSampling", 30}, {"PointCloudConversion", 120}});
  CHECK(ledger.SpentByGroup(MakeBudget(GroupBy::kAll, 1), day) == GroupSpend{{"all", 150}});
  CHECK(ledger.Spent(MakeBudget(GroupBy::kItwin, 1), "B", day) == 100);
  CHECK(ledger.Spent(MakeBudget(GroupBy::kItwin, 1), "C", day) == 0);
}

TEST_CASE("SpentByGroup applies the budget's match", "[budget][ledger]") {
  Ledger ledger = SampleLedger();
  WindowSpan day = UtcDay("2026-11-29T12:00:00Z");
  BudgetConfig b = MakeBudget(GroupBy::kItwin, 1);
  b.match.types = {JobType::kPointCloudConversion};
  CHECK(ledger.SpentByGroup(b, day) == GroupSpend{{"A", 40}, {"B", 80}});
  b.match.users = {"u2"};
  b.match.itwins = {"B"};
  CHECK(ledger.SpentByGroup(b, day) == GroupSpend{{"B", 80}});
  BudgetConfig by_name = MakeBudget(GroupBy::kAll, 1);
  by_name.match.name_regex = test::MakeRegex("^nightly-");
  CHECK(ledger.SpentByGroup(by_name, day) == GroupSpend{{"all", 50}});
  CHECK(ledger.Spent(by_name, "all", day) == 50);
  BudgetConfig none = MakeBudget(GroupBy::kAll, 1);
  none.match.itwins = {"nobody"};
  CHECK(ledger.SpentByGroup(none, day).empty());
}

TEST_CASE("SpentByGroup counts the window of endedDateTime only", "[budget][ledger]") {
  Ledger ledger = SampleLedger();
  BudgetConfig b = MakeBudget(GroupBy::kItwin, 1);
  CHECK(ledger.SpentByGroup(b, UtcDay("2026-11-28T12:00:00Z")) == GroupSpend{{"A", 1000}});
  CHECK(ledger.SpentByGroup(b, UtcDay("2026-11-30T00:00:00Z")) == GroupSpend{{"A", 2000}});
  CHECK(ledger.SpentByGroup(b, UtcDay("2026-12-05T00:00:00Z")).empty());
}

TEST_CASE("saved() tells the store which entries are not persisted yet", "[budget][ledger]") {
  Ledger ledger;
  CHECK(ledger.saved() == 0);
  REQUIRE(ledger.Record(EndedJob({.id = "a"}, "2026-11-01T00:00:00Z", 1)));
  REQUIRE(ledger.Record(EndedJob({.id = "b"}, "2026-11-20T00:00:00Z", 2)));
  CHECK(ledger.saved() == 0);
  ledger.MarkSaved();
  CHECK(ledger.saved() == 2);
  REQUIRE(ledger.Record(EndedJob({.id = "c"}, "2026-11-02T00:00:00Z", 3)));
  REQUIRE(ledger.Record(EndedJob({.id = "d"}, "2026-11-21T00:00:00Z", 4)));
  CHECK(ledger.saved() == 2);  // c and d are new
  // Pruning removes "a" (saved) and "c" (unsaved): one saved entry is left,
  // still the first, and "d" is the only unsaved one.
  ledger.Prune(At("2026-11-10T00:00:00Z"));
  REQUIRE(ledger.size() == 2);
  CHECK(ledger.saved() == 1);
  CHECK(ledger.entries()[0].job_id == "b");
  CHECK(ledger.entries()[1].job_id == "d");
  // Restored entries come from the store: all saved.
  Ledger restarted;
  restarted.Restore(ledger.entries());
  CHECK(restarted.saved() == 2);
}

TEST_CASE("older entries read later go first, count as saved, and never count an id twice",
          "[budget][ledger]") {
  Ledger ledger;
  // What a warm start read first: the recent entries; then one new job.
  LedgerEntries recent;
  Ledger source;
  REQUIRE(source.Record(EndedJob({.id = "old1"}, "2026-11-01T00:00:00Z", 1)));
  REQUIRE(source.Record(EndedJob({.id = "old2"}, "2026-11-02T00:00:00Z", 2)));
  REQUIRE(source.Record(EndedJob({.id = "r1"}, "2026-11-20T00:00:00Z", 3)));
  recent.push_back(source.entries()[2]);
  ledger.Restore(recent);
  REQUIRE(ledger.Record(EndedJob({.id = "new"}, "2026-11-21T00:00:00Z", 4)));
  REQUIRE(ledger.saved() == 1);
  // The older part, with a repeat of r1 and an entry with broken PUs.
  LedgerEntries older = {source.entries()[0], source.entries()[1], source.entries()[2]};
  LedgerEntry broken = source.entries()[0];
  broken.job_id = "broken";
  broken.processing_units = -1;
  older.push_back(broken);
  // r1 is in both: one entry is kept (the older part's, the first sighting).
  CHECK(ledger.Prepend(std::move(older)) == 3);
  REQUIRE(ledger.size() == 4);
  CHECK(ledger.entries()[0].job_id == "old1");
  CHECK(ledger.entries()[1].job_id == "old2");
  CHECK(ledger.entries()[2].job_id == "r1");
  CHECK(ledger.entries()[3].job_id == "new");
  CHECK(ledger.saved() == 3);  // "new" is still the only unsaved entry
  CHECK_FALSE(ledger.Contains("broken"));
  CHECK_FALSE(ledger.Record(EndedJob({.id = "old1"}, "2026-11-01T00:00:00Z", 1)));
  CHECK(ledger.Record(EndedJob({.id = "later"}, "2026-11-22T00:00:00Z", 5)));
  CHECK(ledger.size() == 5);
  CHECK(ledger.Prepend({}) == 0);
  CHECK(ledger.size() == 5);
}

TEST_CASE("each unsaved entry keeps its history fields, through prune and prepend",
          "[budget][ledger]") {
  Ledger ledger;
  // The created/started times and state of each unsaved entry, in order.
  auto fields = [&] {
    std::vector<std::string> out;
    REQUIRE(ledger.unsaved_history().size() == ledger.size() - ledger.saved());
    for (std::size_t k = 0; k < ledger.unsaved_history().size(); ++k) {
      const CountedHistory& h = ledger.unsaved_history()[k];
      const LedgerEntry& e = ledger.entries()[ledger.saved() + k];
      // EndedJob: created = started = ended - hours.
      CHECK(h.created == e.ended - std::chrono::hours(2));
      CHECK(h.has_started == (e.job_id.view() != "queued"));
      if (h.has_started) CHECK(h.started == h.created);
      out.push_back(e.job_id.str() + ":" + std::string(ToString(h.state)));
    }
    return out;
  };
  Job failed = EndedJob({.id = "b"}, "2026-11-20T00:00:00Z", 2, 2);
  failed.state = JobState::kFailed;
  Job queued = EndedJob({.id = "queued"}, "2026-11-21T00:00:00Z", 0, 2);
  queued.state = JobState::kCancelled;  // cancelled while queued: never started
  queued.started.reset();
  REQUIRE(ledger.Record(EndedJob({.id = "a"}, "2026-11-01T00:00:00Z", 1, 2)));
  REQUIRE(ledger.Record(failed));
  REQUIRE(ledger.Record(queued));
  CHECK_FALSE(ledger.Record(failed));  // counted once: no second fields either
  CHECK(fields() == std::vector<std::string>{"a:Success", "b:Failed", "queued:Cancelled"});
  // Pruned unsaved entries take their fields along.
  ledger.Prune(At("2026-11-10T00:00:00Z"));
  CHECK(fields() == std::vector<std::string>{"b:Failed", "queued:Cancelled"});
  ledger.MarkSaved();
  CHECK(fields().empty());
  REQUIRE(ledger.Record(EndedJob({.id = "c"}, "2026-11-22T00:00:00Z", 3, 2)));
  REQUIRE(ledger.Record(EndedJob({.id = "d"}, "2026-11-23T00:00:00Z", 4, 2)));
  // Older entries read from the store: one repeats "c" (that unsaved entry
  // goes, with its fields: the stored row is the first sighting).
  Ledger source;
  REQUIRE(source.Record(EndedJob({.id = "c"}, "2026-11-22T00:00:00Z", 3, 2)));
  REQUIRE(source.Record(EndedJob({.id = "old"}, "2026-11-15T00:00:00Z", 5, 2)));
  CHECK(ledger.Prepend({source.entries()[0], source.entries()[1]}) == 2);
  CHECK(fields() == std::vector<std::string>{"d:Success"});
  ledger.Restore({});
  CHECK(fields().empty());
}

}  // namespace
}  // namespace rcw
