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
Status EncodeState(const PersistentState& state, const std::vector<LedgerEntry>& ledger,
                   const StateSink& sink);
// The whole document, with state.ledger (tests, fuzzing).
std::string EncodeState(const PersistentState& state);

class StateStore {
 public:
  explicit StateStore(std::string directory) : directory_(std::move(directory)) {}

  // Creates the directory (0750) if missing. kUnavailable when it cannot.
  Status Prepare() const;
  // A missing file is an empty state; a corrupt one is kBadResponse naming
  // the file (the daemon refuses to start rather than forget pending work).
  Result<PersistentState> Load() const;
  // Writes state.json with state.ledger, or with `ledger` instead.
  Status Save(const PersistentState& state) const;
  Status Save(const PersistentState& state, const std::vector<LedgerEntry>& ledger) const;

  std::string StatePath() const { return directory_ + "/state.json"; }
  std::string AuditPath() const { return directory_ + "/audit.jsonl"; }
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

}  // namespace rcw
