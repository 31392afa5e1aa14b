#include "state/state_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "base/timefmt.h"
#include "budget/ledger.h"
#include "fakes/temp_dir.h"

using namespace rcw;
namespace fs = std::filesystem;

namespace {

TimePoint At(const char* text) { return *ParseTimestamp(text); }

LedgerEntry Entry(const std::string& id, const char* ended, double pu) {
  return {id, At(ended), pu, "itwin-1", "user-1", JobType::kMeshSampling, "name of " + id};
}

PersistentState Sample() {
  PersistentState s;
  s.first_seen_active["job-a"] = At("2026-11-29T10:00:00.250Z");
  s.first_seen_active["job-z"] = At("2026-11-29T11:00:00Z");
  s.warned.insert({"job-a", "pc-2h", "max_runtime", "itwin-1"});
  s.violated.insert({"job-b", "pc-2h", "max_runtime", "itwin-1"});
  s.violated.insert({"job-b", "pc-2h", "finished", ""});
  s.budget_warned.insert("daily|itwin-1|2026-11-29");
  s.budget_exceeded.insert("daily|itwin-2|2026-11-29");
  s.followed.insert("job-old");
  PendingCancel p;
  p.job_id = "job-b";
  p.policy = "pc-2h";
  p.limit = "max_runtime";
  p.itwin_id = "itwin-1";
  p.type = "MeshSampling";
  p.name = "nightly \"quoted\"\n";
  p.user_id = "user-1";
  p.observed = 7300.5;
  p.threshold = 7200;
  p.attempts = 2;
  p.next_attempt = At("2026-11-29T10:05:00.125Z");
  p.requested_at = At("2026-11-29T10:00:00Z");
  p.accepted = true;
  p.polls_since_accept = 1;
  s.pending.push_back(p);
  p.job_id = "job-a";  // after job-b: the order is kept
  p.accepted = false;
  s.pending.push_back(p);
  s.cancel_times.push_back(At("2026-11-29T09:30:00Z"));
  s.cancel_times.push_back(At("2026-11-29T09:30:00Z"));
  s.ledger.push_back(Entry("job-c", "2026-11-29T08:00:00Z", 12.5));
  s.ledger.push_back(Entry("job-d", "2026-11-23T08:00:00.5Z", 0));
  s.rates.push_back({JobType::kPointCloudConversion, 11.25, 4});
  s.ledger_pruned_before = At("2026-11-22T00:00:00Z");
  s.listings[""] = {"", At("2026-11-29T10:00:00Z"), At("2026-11-28T10:00:00Z"), Seconds(604800)};
  s.listings["itwin-1"] = {"itwin-1", std::nullopt, std::nullopt, Seconds(0)};
  return s;
}

void CheckSame(const PersistentState& a, const PersistentState& b) {
  // The legacy encoder covers every field but the listings.
  CHECK(EncodeState(a) == EncodeState(b));
  CHECK(a.listings == b.listings);
  REQUIRE(a.ledger.size() == b.ledger.size());
  for (std::size_t i = 0; i < a.ledger.size(); ++i) {
    CHECK(a.ledger[i].job_id == b.ledger[i].job_id);
    CHECK(a.ledger[i].ended == b.ledger[i].ended);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::uintmax_t SizeOr0(const std::string& path) {
  std::error_code ec;
  std::uintmax_t n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

// Writes the state files of 0.1.x.
void WriteLegacy(const StateStore& store, const PersistentState& s, const LedgerEntries& ledger) {
  std::string state, lines;
  REQUIRE(EncodeState(s, LedgerEntries{}, [&](std::string_view c) {
            state.append(c);
            return Status::Ok();
          }).ok());
  REQUIRE(EncodeLedger(ledger, [&](std::string_view c) {
            lines.append(c);
            return Status::Ok();
          }).ok());
  WriteFile(store.LegacyStatePath(), state);
  WriteFile(store.LegacyLedgerPath(), lines);
}

}  // namespace

TEST_CASE("every table round-trips through state.db") {
  testing::TempDir dir;
  PersistentState saved = Sample();
  {
    StateStore store(dir.path());
    REQUIRE(store.Prepare().ok());
    REQUIRE(store.Save(saved).ok());
  }
  CHECK(fs::exists(dir.File("state.db")));
  StateStore store(dir.path());
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  CheckSame(*loaded, saved);
  REQUIRE(loaded->pending.size() == 2);
  CHECK(loaded->pending[0].job_id == "job-b");
  CHECK(loaded->pending[0].name == "nightly \"quoted\"\n");
  CHECK(loaded->pending[0].next_attempt == At("2026-11-29T10:05:00.125Z"));
  CHECK(loaded->first_seen_active.at("job-a") == At("2026-11-29T10:00:00.250Z"));
  CHECK(loaded->ledger.at(0).name == "name of job-c");
  CHECK(loaded->ledger.at(0).type == JobType::kMeshSampling);
  CHECK(loaded->violated.size() == 2);
  CHECK(loaded->cancel_times.size() == 2);
  CHECK(loaded->listings.at("").lookback == Seconds(604800));
  CHECK_FALSE(loaded->listings.at("itwin-1").full_at);
  // Changes of every kind, then read back again.
  PersistentState next = *loaded;
  next.ledger.clear();
  next.first_seen_active.erase("job-z");
  next.first_seen_active["job-a"] = At("2026-11-29T10:00:01Z");
  next.warned.clear();
  next.violated.erase(next.violated.begin());
  next.budget_exceeded.insert("weekly|all|2026-W48");
  next.followed = {"job-new"};
  std::swap(next.pending[0], next.pending[1]);
  next.pending[1].attempts = 3;
  next.cancel_times.pop_back();
  next.rates[0].samples = 5;
  next.listings.erase("itwin-1");
  next.listings[""].horizon = At("2026-11-29T09:00:00Z");
  next.version = 1;
  REQUIRE(store.Save(next, loaded->ledger, loaded->ledger.size()).ok());
  next.ledger = loaded->ledger;
  Result<PersistentState> again = StateStore(dir.path()).Load();
  REQUIRE(again.ok());
  CheckSame(*again, next);
}

TEST_CASE("a missing state.db is an empty state") {
  testing::TempDir dir;
  StateStore store(dir.path());
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->pending.empty());
  CHECK(loaded->ledger.empty());
  CHECK_FALSE(loaded->ledger_pruned_before);
}

TEST_CASE("a save without change writes nothing, a new ledger entry writes one row") {
  testing::TempDir dir;
  StateStore store(dir.path());
  REQUIRE(store.Load().ok());
  PersistentState s = Sample();
  LedgerEntries ledger = s.ledger;
  for (int n = 0; n < 2000; ++n) {
    ledger.push_back(Entry("job-" + std::to_string(n), "2026-11-28T00:00:00Z", n));
  }
  REQUIRE(store.Save(s, ledger, 0).ok());
  long long after_first = store.changes();
  CHECK(after_first >= 2002);
  std::uintmax_t wal = SizeOr0(store.DbPath() + "-wal");
  std::uintmax_t db = SizeOr0(store.DbPath());
  auto mtime = fs::last_write_time(store.DbPath() + "-wal");
  REQUIRE(store.Save(s, ledger, ledger.size()).ok());
  CHECK(store.changes() == after_first);
  CHECK(SizeOr0(store.DbPath() + "-wal") == wal);
  CHECK(SizeOr0(store.DbPath()) == db);
  CHECK(fs::last_write_time(store.DbPath() + "-wal") == mtime);

  std::size_t saved = ledger.size();
  ledger.push_back(Entry("job-new", "2026-11-29T00:00:00Z", 3));
  REQUIRE(store.Save(s, ledger, saved).ok());
  CHECK(store.changes() == after_first + 1);

  // One changed marker: one row.
  s.followed.insert("job-x");
  REQUIRE(store.Save(s, ledger, ledger.size()).ok());
  CHECK(store.changes() == after_first + 2);

  // A newer prune horizon deletes the older rows (and sets the meta row).
  s.ledger_pruned_before = At("2026-11-28T12:00:00Z");
  REQUIRE(store.Save(s, ledger, ledger.size()).ok());
  CHECK(store.changes() == after_first + 2 + 2001 + 1);  // job-d and job-0..1999
  Result<PersistentState> loaded = StateStore(dir.path()).Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 2);
  CHECK(loaded->ledger[0].job_id == "job-c");
  CHECK(loaded->ledger[1].job_id == "job-new");
}

TEST_CASE("after a big first save the write-ahead log is cut back to 4 MiB, not kept at its peak") {
  testing::TempDir dir;
  StateStore store(dir.path());
  REQUIRE(store.Load().ok());
  PersistentState s;
  LedgerEntries ledger;
  for (int n = 0; n < 60000; ++n) {
    ledger.push_back(Entry("job-" + std::to_string(n), "2026-11-28T00:00:00Z", n));
  }
  REQUIRE(store.Save(s, ledger, 0).ok());
  std::uintmax_t peak = SizeOr0(store.DbPath() + "-wal");
  REQUIRE(peak > 4u << 20);  // the first save's transaction is bigger than the limit
  // The next write starts the log over after the checkpoint and truncates it.
  ledger.push_back(Entry("job-new", "2026-11-29T00:00:00Z", 3));
  REQUIRE(store.Save(s, ledger, ledger.size() - 1).ok());
  CHECK(SizeOr0(store.DbPath() + "-wal") <= 4u << 20);
  Result<PersistentState> loaded = StateStore(dir.path()).Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->ledger.size() == 60001);
}

// The table has no key on job_id (the daemon's Ledger saves each id once);
// a second row of an id, if one is ever written, is dropped on restore.
TEST_CASE("a job id saved twice counts its first row once restored") {
  testing::TempDir dir;
  StateStore store(dir.path());
  PersistentState s;
  s.ledger = {Entry("job-a", "2026-11-29T00:00:00Z", 5)};
  REQUIRE(store.Save(s).ok());
  s.ledger = {Entry("job-a", "2026-11-29T00:00:00Z", 500)};
  REQUIRE(store.Save(s).ok());
  Result<PersistentState> loaded = StateStore(dir.path()).Load();
  REQUIRE(loaded.ok());
  Ledger ledger;
  ledger.Restore(std::move(loaded->ledger));
  REQUIRE(ledger.size() == 1);
  CHECK(ledger.entries()[0].processing_units == 5);
}

TEST_CASE("a database written by a newer rc-watchdog is refused, untouched") {
  testing::TempDir dir;
  {
    StateStore first(dir.path());
    REQUIRE(first.Save(Sample()).ok());
  }  // closed: the WAL is checkpointed into the file
  StateStore store(dir.path());
  // PRAGMA user_version is the big-endian int at offset 60 of the header.
  {
    std::fstream f(store.DbPath(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    const char v[4] = {0, 0, 0, 99};
    f.write(v, 4);
  }
  std::string before = ReadFile(store.DbPath());
  for (int pass = 0; pass < 2; ++pass) {
    Result<PersistentState> loaded = pass == 0 ? store.Load() : store.LoadReadOnly();
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().code() == StatusCode::kInvalidConfig);
    CHECK(loaded.status().message().find("written by a newer rc-watchdog") != std::string::npos);
    CHECK(loaded.status().message().find(store.DbPath()) != std::string::npos);
  }
  CHECK_FALSE(store.Save(PersistentState{}).ok());
  CHECK(ReadFile(store.DbPath()) == before);
}

TEST_CASE("a corrupt database is refused with its path and SQLite's message, never re-created") {
  testing::TempDir dir;
  std::string path = dir.File("state.db");
  SECTION("random bytes") {
    std::mt19937 rng(7);
    std::string junk(8192, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    WriteFile(path, junk);
  }
  SECTION("a truncated database") {
    {
      StateStore store(dir.path());
      PersistentState s;
      for (int n = 0; n < 3000; ++n) {
        s.ledger.push_back(Entry("job-" + std::to_string(n), "2026-11-28T00:00:00Z", n));
      }
      REQUIRE(store.Save(s).ok());
    }
    std::string whole = ReadFile(path);
    REQUIRE(whole.size() > 64 * 1024);
    WriteFile(path, whole.substr(0, whole.size() / 2));
  }
  std::string before = ReadFile(path);
  StateStore store(dir.path());
  Result<PersistentState> loaded = store.Load();
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() != StatusCode::kInvalidConfig);
  CHECK(loaded.status().message().find(path) != std::string::npos);
  INFO(loaded.status().message());
  CHECK((loaded.status().message().find("not a database") != std::string::npos ||
         loaded.status().message().find("malformed") != std::string::npos));
  CHECK_FALSE(store.Save(PersistentState{}).ok());
  CHECK_FALSE(store.LoadReadOnly().ok());
  CHECK(ReadFile(path) == before);
}

TEST_CASE("state.json and ledger.jsonl are imported once, renamed aside, nothing counted twice") {
  testing::TempDir dir;
  PersistentState legacy = Sample();
  LedgerEntries ledger = legacy.ledger;
  ledger.push_back(Entry("job-c", "2026-11-29T08:00:00Z", 999));  // a duplicate: first kept
  ledger.push_back(Entry("job-e", "2026-11-29T09:00:00Z", 4));
  StateStore writer(dir.path());
  WriteLegacy(writer, legacy, ledger);
  std::string state_text = ReadFile(writer.LegacyStatePath());
  std::string ledger_text = ReadFile(writer.LegacyLedgerPath());

  Result<PersistentState> loaded = StateStore(dir.path()).Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 3);
  CHECK(loaded->ledger[0].job_id == "job-c");
  CHECK(loaded->ledger[0].processing_units == 12.5);
  CHECK(loaded->ledger[2].job_id == "job-e");
  CHECK(loaded->pending.size() == 2);
  CHECK(loaded->violated.size() == 2);
  CHECK(loaded->ledger_pruned_before == legacy.ledger_pruned_before);
  CHECK_FALSE(fs::exists(dir.File("state.json")));
  CHECK_FALSE(fs::exists(dir.File("ledger.jsonl")));
  CHECK(ReadFile(dir.File("state.json.imported")) == state_text);
  CHECK(ReadFile(dir.File("ledger.jsonl.imported")) == ledger_text);

  // Again: nothing more to import.
  Result<PersistentState> again = StateStore(dir.path()).Load();
  REQUIRE(again.ok());
  CHECK(again->ledger.size() == 3);

  // A crash after the import's commit, before the renames: the files are
  // found again, and only renamed (never overwriting the earlier copies).
  WriteFile(dir.File("state.json"), state_text);
  WriteFile(dir.File("ledger.jsonl"), ledger_text);
  Result<PersistentState> third = StateStore(dir.path()).Load();
  REQUIRE(third.ok());
  CHECK(third->ledger.size() == 3);
  CHECK(third->pending.size() == 2);
  CHECK_FALSE(fs::exists(dir.File("ledger.jsonl")));
  CHECK(fs::exists(dir.File("ledger.jsonl.imported.2")));
  CHECK(ReadFile(dir.File("ledger.jsonl.imported")) == ledger_text);
}

TEST_CASE("a read-only load creates and writes nothing") {
  testing::TempDir dir;
  StateStore store(dir.path());
  SECTION("nothing there: an empty state, no file") {
    Result<PersistentState> loaded = store.LoadReadOnly();
    REQUIRE(loaded.ok());
    CHECK(loaded->ledger.empty());
    CHECK(fs::is_empty(dir.path()));
  }
  SECTION("only the files of 0.1.x: read as they are, not imported") {
    WriteLegacy(store, Sample(), Sample().ledger);
    Result<PersistentState> loaded = store.LoadReadOnly();
    REQUIRE(loaded.ok());
    CHECK(loaded->ledger.size() == 2);
    CHECK(loaded->pending.size() == 2);
    CHECK_FALSE(fs::exists(store.DbPath()));
    CHECK(fs::exists(store.LegacyStatePath()));
    CHECK(fs::exists(store.LegacyLedgerPath()));
  }
  SECTION("a database: read, byte for byte unchanged") {
    {
      StateStore writer(dir.path());
      REQUIRE(writer.Save(Sample()).ok());
    }
    std::string before = ReadFile(store.DbPath());
    Result<PersistentState> loaded = store.LoadReadOnly();
    REQUIRE(loaded.ok());
    CheckSame(*loaded, Sample());
    CHECK(ReadFile(store.DbPath()) == before);
    CHECK(store.changes() == 0);
    // Not even SQLite's side files are created.
    CHECK_FALSE(fs::exists(store.DbPath() + "-wal"));
    CHECK_FALSE(fs::exists(store.DbPath() + "-shm"));
  }
}

TEST_CASE("a read-only load sees what a running daemon committed") {
  testing::TempDir dir;
  StateStore daemon(dir.path());
  PersistentState s = Sample();
  REQUIRE(daemon.Save(s).ok());
  REQUIRE(fs::exists(daemon.DbPath() + "-wal"));  // open: the log is in use
  s.followed.insert("job-later");
  REQUIRE(daemon.Save(s, s.ledger, s.ledger.size()).ok());
  Result<PersistentState> seen = StateStore(dir.path()).LoadReadOnly();
  REQUIRE(seen.ok());
  CHECK(seen->followed.count("job-later") == 1);
  CHECK(seen->ledger.size() == 2);
}

TEST_CASE("an unwritable state directory is an error, not a crash") {
  StateStore store("/proc/rc-watchdog-cannot-exist");
  CHECK_FALSE(store.Prepare().ok());
  CHECK_FALSE(store.Save(PersistentState{}).ok());
  CHECK_FALSE(store.Load().ok());
}
