// The import of the state files of 0.1.x into state.db, on any bytes.
// As state.json (DecodeState, json/state_decode.h): no crash; what it
// accepts, EncodeState (state/legacy_state.h) writes in a form DecodeState
// reads back, a second round changes nothing, and a first start of the
// daemon (StateStore::Load with that state.json in the directory) imports it
// into state.db and reads back the same state: ledger ids and pending job
// ids once (the first kept), rates once per type, ledger entries that ended
// before ledger_pruned_before dropped.
// The same bytes as one line of ledger.jsonl (DecodeLedgerLine): no crash,
// and an accepted entry written by EncodeLedger reads back the same.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "json/state_decode.h"
#include "json_checks.h"
#include "state/state_store.h"

namespace {

void CheckLedgerLine(std::string_view line) {
  rcw::Result<rcw::LedgerEntry> entry = rcw::DecodeLedgerLine(line);
  if (!entry.ok()) {
    rcw::fuzz::CheckFailure(entry.status());
    return;
  }
  std::string written;
  RCW_FUZZ_CHECK(rcw::EncodeLedger(rcw::LedgerEntries{*entry}, [&](std::string_view chunk) {
                   written.append(chunk);
                   return rcw::Status::Ok();
                 }).ok());
  RCW_FUZZ_CHECK(!written.empty() && written.back() == '\n');
  written.pop_back();
  rcw::Result<rcw::LedgerEntry> again = rcw::DecodeLedgerLine(written);
  RCW_FUZZ_CHECK(again.ok());
  std::string rewritten;
  (void)rcw::EncodeLedger(rcw::LedgerEntries{*again}, [&](std::string_view chunk) {
    rewritten.append(chunk);
    return rcw::Status::Ok();
  });
  RCW_FUZZ_CHECK(rewritten == written + "\n");
}

// What an import keeps of `s` (see the top of this file), rates in type order.
rcw::PersistentState Imported(rcw::PersistentState s) {
  std::set<std::string> seen;
  rcw::LedgerEntries ledger;
  for (rcw::LedgerEntry& e : s.ledger) {
    if (s.ledger_pruned_before && e.ended < *s.ledger_pruned_before) continue;
    if (seen.insert(std::string(e.job_id.view())).second) ledger.push_back(std::move(e));
  }
  s.ledger = std::move(ledger);
  seen.clear();
  std::vector<rcw::PendingCancel> pending;
  for (rcw::PendingCancel& p : s.pending) {
    if (seen.insert(p.job_id).second) pending.push_back(std::move(p));
  }
  s.pending = std::move(pending);
  seen.clear();
  std::vector<rcw::LearnedRate> rates;
  for (const rcw::LearnedRate& r : s.rates) {
    if (seen.insert(std::string(rcw::ToString(r.type))).second) rates.push_back(r);
  }
  std::sort(rates.begin(), rates.end(), [](const rcw::LearnedRate& a, const rcw::LearnedRate& b) {
    return rcw::ToString(a.type) < rcw::ToString(b.type);
  });
  s.rates = std::move(rates);
  return s;
}

void CheckImport(const rcw::PersistentState& state, const std::string& text) {
  // One directory for the run, removed at exit.
  struct TempDir {
    std::string path = (std::filesystem::temp_directory_path() / "rcw-fuzz-state-XXXXXX").string();
    TempDir() { RCW_FUZZ_CHECK(::mkdtemp(path.data()) != nullptr); }
    ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const TempDir temp;
  const std::string& dir = temp.path;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::filesystem::remove(entry.path());
  }
  rcw::StateStore store(dir);
  std::ofstream(store.LegacyStatePath(), std::ios::binary) << text;
  rcw::Result<rcw::PersistentState> loaded = store.Load();
  RCW_FUZZ_CHECK(loaded.ok());
  RCW_FUZZ_CHECK(!std::filesystem::exists(store.LegacyStatePath()));
  rcw::PersistentState got = Imported(std::move(*loaded));
  RCW_FUZZ_CHECK(rcw::EncodeState(got) == rcw::EncodeState(Imported(state)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  CheckLedgerLine(body);
  rcw::Result<rcw::PersistentState> state = rcw::DecodeState(body);
  if (!state.ok()) {
    rcw::fuzz::CheckFailure(state.status());
    return 0;
  }
  std::string once = rcw::EncodeState(*state);
  rcw::Result<rcw::PersistentState> again = rcw::DecodeState(once);
  RCW_FUZZ_CHECK(again.ok());
  std::string twice = rcw::EncodeState(*again);
  RCW_FUZZ_CHECK(twice == once);
  CheckImport(*state, once);
  return 0;
}
