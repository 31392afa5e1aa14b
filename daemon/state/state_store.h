// Durable state: <dir>/state.json written atomically (temp file, fsync,
// rename, fsync of the directory), so a kill -9 at any moment leaves either
// the old or the new file, never a torn one.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/persisted_state.h"
#include "base/status.h"

namespace rcw {

// Receives state.json in pieces, in order; an error stops the encoding.
using StateSink = std::function<Status(std::string_view chunk)>;

// Encodes `state` with `ledger` as its ledger (the daemon's lives in its
// Books, not in the state), handing the text to `sink` in chunks of about
// 64 KB: the whole document is never in memory. Returns the sink's error.
Status EncodeState(const PersistentState& state, const LedgerEntries& ledger,
                   const StateSink& sink);
// The whole document, with state.ledger (tests, fuzzing).
std::string EncodeState(const PersistentState& state);
// <state.directory>/ledger.jsonl: one ledger entry object per line.
Status EncodeLedger(const LedgerEntries& ledger, const StateSink& sink);

class StateStore {
 public:
  explicit StateStore(std::string directory) : directory_(std::move(directory)) {}

  // Creates the directory (0750) if missing. kUnavailable when it cannot.
  Status Prepare() const;
  // A missing file is an empty state; a corrupt one is kBadResponse naming
  // the file (the daemon refuses to start rather than forget pending work).
  // The ledger is state.json's "ledger" array (written by versions before
  // ledger.jsonl) followed by ledger.jsonl's lines, read a block at a time.
  Result<PersistentState> Load() const;
  // Writes ledger.jsonl with state.ledger (or `ledger` instead), then
  // state.json with an empty "ledger": each to a temporary file, fsynced and
  // renamed, then the directory fsynced.
  Status Save(const PersistentState& state) const;
  Status Save(const PersistentState& state, const LedgerEntries& ledger) const;

  std::string StatePath() const { return directory_ + "/state.json"; }
  std::string LedgerPath() const { return directory_ + "/ledger.jsonl"; }
  std::string AuditPath() const { return directory_ + "/audit.jsonl"; }
  const std::string& directory() const { return directory_; }

 private:
  using StateProducer = std::function<Status(const StateSink& sink)>;
  // Writes `path` through `path`.tmp (fsync, rename).
  Status WriteAtomically(const std::string& path, const StateProducer& produce) const;
  // Appends ledger.jsonl's entries to `out`; a missing file adds none.
  Status LoadLedger(LedgerEntries& out) const;

  std::string directory_;
};

}  // namespace rcw
