#include "state/legacy_state.h"

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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The files of a state directory of rc-watchdog 0.1.x.
struct LegacyDir {
  testing::TempDir dir;
  std::string state = dir.File("state.json");
  std::string ledger = dir.File("ledger.jsonl");
  Result<PersistentState> Load() const { return LoadLegacyState(state, ledger); }
  // What 0.1.x saved: the ledger in ledger.jsonl, state.json without it.
  void Write(const PersistentState& s) {
    std::string lines, text;
    REQUIRE(EncodeLedger(s.ledger, [&](std::string_view c) {
              lines.append(c);
              return Status::Ok();
            }).ok());
    REQUIRE(EncodeState(s, LedgerEntries{}, [&](std::string_view c) {
              text.append(c);
              return Status::Ok();
            }).ok());
    WriteFile(ledger, lines);
    WriteFile(state, text);
  }
};

}  // namespace

TEST_CASE("state round-trips through state.json + ledger.jsonl") {
  LegacyDir d;
  PersistentState saved = Sample();
  d.Write(saved);
  Result<PersistentState> loaded = d.Load();
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

TEST_CASE("missing legacy files are an empty state") {
  LegacyDir d;
  Result<PersistentState> loaded = d.Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->pending.empty());
  CHECK(loaded->ledger.empty());
}

TEST_CASE("a corrupt state.json is refused with the file's name") {
  LegacyDir d;
  for (const char* body : {"{", "[]", "{\"version\":2}", "{\"version\":1}",
                           "{\"version\":1,\"first_seen_active\":{\"a\":\"never\"}}"}) {
    WriteFile(d.state, body);
    Result<PersistentState> loaded = d.Load();
    INFO(body);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().message().find(d.state) != std::string::npos);
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

TEST_CASE("ledger.jsonl has a line per entry and is read back a block at a time") {
  LegacyDir d;
  PersistentState s = Sample();
  LedgerEntries& ledger = s.ledger;
  ledger.clear();
  for (int n = 0; n < 8000; ++n) {  // about 1.2 MB: more than one 1 MB block
    ledger.push_back({"job-" + std::to_string(n), At("2026-11-29T08:00:00Z"), n * 0.25,
                      "itwin-1", "user-1", JobType::kMeshSampling, "name \"" + std::to_string(n)});
  }
  d.Write(s);
  std::string lines = ReadFile(d.ledger);
  CHECK(lines.size() > (1u << 20));
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 8000);
  CHECK(ReadFile(d.state).find("\"ledger\":[]") != std::string::npos);
  Result<PersistentState> loaded = d.Load();
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

TEST_CASE("a state.json with the ledger inside (oldest versions) loads, ledger.jsonl's after") {
  LegacyDir d;
  WriteFile(d.state, EncodeState(Sample()));  // "ledger": [job-c]
  WriteFile(d.ledger,
            R"({"job_id":"job-c","ended":"2026-11-29T09:00:00.000Z","pu":99,"itwin_id":"i","user_id":"u","type":"MeshSampling","name":""})"
            "\n"
            R"({"job_id":"job-d","ended":"2026-11-29T09:00:00.000Z","pu":1,"itwin_id":"i","user_id":"u","type":"MeshSampling","name":""})"
            "\n");
  Result<PersistentState> loaded = d.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->ledger.size() == 3);  // duplicates are the restorer's to drop (first kept)
  CHECK(loaded->ledger[0].job_id == "job-c");
  CHECK(loaded->ledger[0].processing_units == 12.5);
  CHECK(loaded->ledger[1].job_id == "job-c");
  CHECK(loaded->ledger[2].job_id == "job-d");
}

TEST_CASE("a bad ledger.jsonl line is refused with the file and line, blank lines and a last line "
          "without newline are read") {
  LegacyDir d;
  std::string good =
      R"({"job_id":"a","ended":"2026-11-29T08:00:00.000Z","pu":1,"itwin_id":"i","user_id":"u","type":"MeshSampling","name":""})";
  std::string good_b = good;
  good_b.replace(good_b.find("\"a\""), 3, "\"b\"");
  WriteFile(d.ledger, good + "\n\n" + good_b);
  Result<PersistentState> ok = d.Load();
  REQUIRE(ok.ok());
  CHECK(ok->ledger.size() == 2);
  WriteFile(d.ledger, good + "\n" + R"({"job_id":"c","ended":"yesterday","type":"MeshSampling"})" + "\n");
  Result<PersistentState> bad = d.Load();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ledger.jsonl line 2: entry.ended") != std::string::npos);
  WriteFile(d.ledger, "{not json\n");
  CHECK(d.Load().status().message().find("line 1: not valid JSON") != std::string::npos);
}

TEST_CASE("markers of a 0.1.0 state (\"job|owner|what\" strings) still load") {
  LegacyDir d;
  PersistentState saved = Sample();
  std::string text = EncodeState(saved);
  std::string typed = R"({"job_id":"job-b","owner":"pc-2h","what":"max_runtime","itwin_id":"itwin-1"})";
  REQUIRE(text.find(typed) != std::string::npos);
  text.replace(text.find(typed), typed.size(), R"("job-b|pc-2h|max_runtime")");
  WriteFile(d.state, text);
  Result<PersistentState> loaded = d.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->violated.size() == 1);
  const JobMarker& m = *loaded->violated.begin();
  CHECK(m.job_id == "job-b");
  CHECK(m.owner == "pc-2h");
  CHECK(m.what == "max_runtime");
  CHECK(m.itwin_id.empty());
}
