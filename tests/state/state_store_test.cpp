#include "state/state_store.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "base/timefmt.h"
#include "fakes/temp_dir.h"

using namespace rcw;

namespace {

TimePoint At(const char* text) { return *ParseTimestamp(text); }

PersistentState Sample() {
  PersistentState s;
  s.first_seen_active["job-a"] = At("2026-11-29T10:00:00.250Z");
  s.warned.insert("job-a|pc-2h|max_runtime");
  s.violated.insert("job-b|pc-2h|max_runtime");
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
  p.observed = 7300;
  p.threshold = 7200;
  p.attempts = 2;
  p.next_attempt = At("2026-11-29T10:05:00Z");
  p.requested_at = At("2026-11-29T10:00:00Z");
  p.accepted = true;
  p.polls_since_accept = 1;
  s.pending.push_back(p);
  s.cancel_times.push_back(At("2026-11-29T09:30:00Z"));
  s.ledger.push_back({"job-c", At("2026-11-29T08:00:00Z"), 12.5, "itwin-1", "user-1",
                      JobType::kMeshSampling, "nightly-mesh"});
  s.rates.push_back({JobType::kPointCloudConversion, 11.25, 4});
  return s;
}

}  // namespace

TEST_CASE("state round-trips through state.json") {
  testing::TempDir dir;
  StateStore store(dir.path());
  REQUIRE(store.Prepare().ok());
  PersistentState saved = Sample();
  REQUIRE(store.Save(saved).ok());
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  CHECK(EncodeState(*loaded) == EncodeState(saved));
  CHECK(loaded->pending.at(0).name == "nightly \"quoted\"\n");
  CHECK(loaded->pending.at(0).accepted);
  CHECK(loaded->first_seen_active.at("job-a") == At("2026-11-29T10:00:00.250Z"));
  CHECK(loaded->ledger.at(0).type == JobType::kMeshSampling);
  CHECK(loaded->ledger.at(0).name == "nightly-mesh");
  CHECK(loaded->rates.at(0).pu_per_hour == 11.25);
  CHECK(loaded->followed.count("job-old") == 1);
}

TEST_CASE("a missing state file is an empty state") {
  testing::TempDir dir;
  Result<PersistentState> loaded = StateStore(dir.path()).Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->pending.empty());
  CHECK(loaded->ledger.empty());
}

TEST_CASE("a corrupt state file is refused with the file's name") {
  testing::TempDir dir;
  StateStore store(dir.path());
  for (const char* body : {"{", "[]", "{\"version\":2}", "{\"version\":1}",
                           "{\"version\":1,\"first_seen_active\":{\"a\":\"never\"}}"}) {
    std::ofstream(store.StatePath()) << body;
    Result<PersistentState> loaded = store.Load();
    INFO(body);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().message().find(store.StatePath()) != std::string::npos);
  }
}

TEST_CASE("a big ledger is written in chunks that add up to the whole document") {
  PersistentState s = Sample();
  std::vector<LedgerEntry> ledger;
  for (int n = 0; n < 3000; ++n) {
    ledger.push_back({"job-" + std::to_string(n), At("2026-11-29T08:00:00Z"), n * 0.5,
                      "itwin-1", "user-1", JobType::kMeshSampling, "name"});
  }
  std::vector<std::size_t> sizes;
  std::string streamed;
  REQUIRE(EncodeState(s, ledger, [&](std::string_view chunk) {
            sizes.push_back(chunk.size());
            streamed.append(chunk);
            return Status::Ok();
          }).ok());
  CHECK(sizes.size() > 3);  // about 200 bytes an entry, 64 KB chunks
  for (std::size_t n = 0; n + 1 < sizes.size(); ++n) CHECK(sizes[n] < 70 * 1024);
  PersistentState whole = s;
  whole.ledger = ledger;
  CHECK(streamed == EncodeState(whole));
}

TEST_CASE("saving with the daemon's ledger writes that ledger, not the state's") {
  testing::TempDir dir;
  StateStore store(dir.path());
  PersistentState s = Sample();  // its own ledger has job-c
  std::vector<LedgerEntry> books = {
      {"job-x", At("2026-11-29T09:00:00Z"), 7, "itwin-2", "user-2", JobType::kMeshSampling, ""}};
  REQUIRE(store.Save(s, books).ok());
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 1);
  CHECK(loaded->ledger[0].job_id == "job-x");
  CHECK(loaded->ledger[0].processing_units == 7);
}

TEST_CASE("a sink error stops the encoding and is returned") {
  std::vector<LedgerEntry> ledger(2000, LedgerEntry{"job", At("2026-11-29T08:00:00Z"), 1,
                                                    "itwin-1", "user-1", JobType::kMeshSampling,
                                                    ""});
  int calls = 0;
  Status st = EncodeState(Sample(), ledger, [&](std::string_view) {
    ++calls;
    return Status(StatusCode::kUnavailable, "disk full");
  });
  CHECK(st.message() == "disk full");
  CHECK(calls == 1);
}

TEST_CASE("saving replaces the file atomically and leaves no temp file") {
  testing::TempDir dir;
  StateStore store(dir.path());
  PersistentState s = Sample();
  REQUIRE(store.Save(s).ok());
  s.pending.clear();
  REQUIRE(store.Save(s).ok());
  CHECK(store.Load()->pending.empty());
  CHECK_FALSE(std::filesystem::exists(store.StatePath() + ".tmp"));
}

TEST_CASE("an unwritable state directory is an error, not a crash") {
  StateStore store("/proc/rc-watchdog-cannot-exist");
  CHECK_FALSE(store.Prepare().ok());
  CHECK_FALSE(store.Save(PersistentState{}).ok());
}
