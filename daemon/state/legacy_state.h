// The state files of rc-watchdog before state.db (0.1.x): <dir>/state.json
// (everything but the ledger, and the ledger too in the oldest versions) and
// <dir>/ledger.jsonl (one ledger entry object per line). StateStore imports
// them once into state.db and renames them to *.imported; `plan` reads them
// as they are when there is no state.db yet. The encoders remain for tests,
// fuzzing and benchmarks that produce such files.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/persisted_state.h"
#include "base/status.h"

namespace rcw {

// Receives encoded text in pieces, in order; an error stops the encoding.
using StateSink = std::function<Status(std::string_view chunk)>;

// Encodes `state` with `ledger` as its ledger, handing the text to `sink` in
// chunks of about 64 KB. Returns the sink's error.
Status EncodeState(const PersistentState& state, const LedgerEntries& ledger,
                   const StateSink& sink);
// The whole document, with state.ledger.
std::string EncodeState(const PersistentState& state);
// ledger.jsonl: one ledger entry object per line.
Status EncodeLedger(const LedgerEntries& ledger, const StateSink& sink);

// Reads `state_path` and `ledger_path`; a missing file adds nothing. The
// ledger is state.json's "ledger" array followed by ledger.jsonl's lines, in
// that order, duplicates included (whoever restores them keeps the first).
// A corrupt file is kBadResponse naming it (and the line).
Result<PersistentState> LoadLegacyState(const std::string& state_path,
                                        const std::string& ledger_path);

}  // namespace rcw
