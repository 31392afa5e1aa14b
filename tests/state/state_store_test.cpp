#include "state/state_store.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>

#include "base/timefmt.h"
#include "fakes/temp_dir.h"

using namespace rcw;

namespace {

TimePoint At(const char* text) { return *ParseTimestamp(text); }

PersistentState Sample() {
  PersistentState s;
  s.first_seen_active["job-a"] = At("2026-11-29T10:00:00.250Z");
  s.warned.insert({"job-a", "pc-2h", "max_runtime", "itwin-1"});
  s.violated.insert({"job-b", "pc-2h", "max_runtime", "itwin-1"});
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
  s.ledger_pruned_before = At("2026-11-22T00:00:00Z");
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
  CHECK(loaded->ledger_pruned_before == At("2026-11-22T00:00:00Z"));
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
  LedgerEntries ledger;
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
  LedgerEntries books = {
      {"job-x", At("2026-11-29T09:00:00Z"), 7, "itwin-2", "user-2", JobType::kMeshSampling, ""}};
  REQUIRE(store.Save(s, books).ok());
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 1);
  CHECK(loaded->ledger[0].job_id == "job-x");
  CHECK(loaded->ledger[0].processing_units == 7);
}

TEST_CASE("a sink error stops the encoding and is returned") {
  LedgerEntries ledger(2000, LedgerEntry{"job", At("2026-11-29T08:00:00Z"), 1,
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

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("the ledger is saved to ledger.jsonl, a line per entry, and read back a block at a time") {
  testing::TempDir dir;
  StateStore store(dir.path());
  PersistentState s = Sample();
  LedgerEntries ledger;
  for (int n = 0; n < 8000; ++n) {  // about 1.2 MB: more than one 1 MB block
    ledger.push_back({"job-" + std::to_string(n), At("2026-11-29T08:00:00Z"), n * 0.25,
                      "itwin-1", "user-1", JobType::kMeshSampling, "name \"" + std::to_string(n)});
  }
  REQUIRE(store.Save(s, ledger).ok());
  std::string lines = ReadFile(store.LedgerPath());
  CHECK(lines.size() > (1u << 20));
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 8000);
  CHECK(ReadFile(store.StatePath()).find("\"ledger\":[]") != std::string::npos);
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 8000);
  for (int n : {0, 1, 4999, 7999}) {
    const LedgerEntry& e = loaded->ledger[static_cast<std::size_t>(n)];
    CHECK(e.job_id == "job-" + std::to_string(n));
    CHECK(e.processing_units == n * 0.25);
    CHECK(e.name == "name \"" + std::to_string(n));
  }
  CHECK(loaded->pending.size() == 1);  // the rest of the state too
}

TEST_CASE("a state.json with the ledger inside (older versions) still loads, and moves out on save") {
  testing::TempDir dir;
  StateStore store(dir.path());
  WriteFile(store.StatePath(), EncodeState(Sample()));  // "ledger": [job-c], no ledger.jsonl
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 1);
  CHECK(loaded->ledger[0].job_id == "job-c");
  REQUIRE(store.Save(*loaded).ok());
  CHECK(ReadFile(store.LedgerPath()).find("\"job-c\"") != std::string::npos);
  CHECK(ReadFile(store.StatePath()).find("job-c") == std::string::npos);
  REQUIRE(store.Load()->ledger.size() == 1);
}

TEST_CASE("a bad ledger.jsonl line is refused with the file and line, blank lines and a last line "
          "without newline are read") {
  testing::TempDir dir;
  StateStore store(dir.path());
  std::string good =
      R"({"job_id":"a","ended":"2026-11-29T08:00:00.000Z","pu":1,"itwin_id":"i","user_id":"u","type":"MeshSampling","name":""})";
  std::string good_b = good;
  good_b.replace(good_b.find("\"a\""), 3, "\"b\"");
  WriteFile(store.LedgerPath(), good + "\n\n" + good_b);
  Result<PersistentState> ok = store.Load();
  REQUIRE(ok.ok());
  CHECK(ok->ledger.size() == 2);
  WriteFile(store.LedgerPath(), good + "\n" + R"({"job_id":"c","ended":"yesterday","type":"MeshSampling"})" + "\n");
  Result<PersistentState> bad = store.Load();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ledger.jsonl line 2: entry.ended") != std::string::npos);
  WriteFile(store.LedgerPath(), "{not json\n");
  CHECK(store.Load().status().message().find("line 1: not valid JSON") != std::string::npos);
}

TEST_CASE("markers of a 0.1.0 state (\"job|owner|what\" strings) still load") {
  testing::TempDir dir;
  StateStore store(dir.path());
  REQUIRE(store.Prepare().ok());
  PersistentState saved = Sample();
  std::string text = EncodeState(saved);
  std::string typed = R"({"job_id":"job-b","owner":"pc-2h","what":"max_runtime","itwin_id":"itwin-1"})";
  REQUIRE(text.find(typed) != std::string::npos);
  text.replace(text.find(typed), typed.size(), R"("job-b|pc-2h|max_runtime")");
  WriteFile(store.StatePath(), text);
  Result<PersistentState> loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->violated.size() == 1);
  const JobMarker& m = *loaded->violated.begin();
  CHECK(m.job_id == "job-b");
  CHECK(m.owner == "pc-2h");
  CHECK(m.what == "max_runtime");
  CHECK(m.itwin_id.empty());
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
