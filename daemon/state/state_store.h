// Durable state: one SQLite database, <state.directory>/state.db, in WAL mode
// with synchronous=FULL, so a committed save survives a kill -9 or a power
// loss and a save interrupted at any moment leaves the previous one. One
// table per piece of PersistentState (docs/state.md has the schema). A save
// writes only the rows that changed since the last one, in one transaction.
//
// The state files of earlier versions (state.json, ledger.jsonl) are
// imported once by the first read-write Load and renamed to *.imported.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <optional>
#include <vector>

#include "base/history.h"
#include "base/job.h"
#include "base/persisted_state.h"
#include "base/status.h"
#include "state/legacy_state.h"

namespace rcw {

class StateDb;  // state/state_db.cpp: the one user of libsqlite3

class StateStore {
 public:
  explicit StateStore(std::string directory);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Creates the directory (0750) if missing. kUnavailable when it cannot.
  Status Prepare() const;

  // Opens state.db read-write (creating it, and importing the files of
  // earlier versions, on first start) and reads the whole state. Errors name
  // the file: kInvalidConfig for a database written by a newer rc-watchdog
  // (the daemon exits 78), kBadResponse for a corrupt one, which is left as
  // it is (never re-created: that would forget spent budget).
  // With `ledger` false the ledger table is not read (state.ledger empty,
  // ledger_complete false): LoadLedger reads what is needed.
  Result<PersistentState> Load(bool ledger = true);
  // The ledger rows of jobs that ended at or after `from` (all when unset)
  // and before `before`. REQUIRES: Load() succeeded.
  Result<LedgerEntries> LoadLedger(std::optional<TimePoint> from, TimePoint before);
  // For readers (`plan`): creates and writes nothing. No state.db: the files
  // of an earlier version if any, as they are, else an empty state.
  Result<PersistentState> LoadReadOnly() const;

  // For `backtest`: the history rows of jobs that ended at or after `from` and
  // were created at or before `to`, opened read-only like LoadReadOnly (no
  // state.db, or one of a schema without history: an empty history).
  // `oldest` gets the oldest end time in the whole history.
  struct HistoryRead {
    std::vector<Job> jobs;
    std::optional<TimePoint> oldest;
  };
  Result<HistoryRead> ReadHistoryReadOnly(TimePoint from, TimePoint to) const;

  // Commits what differs from the last Load or Save in one transaction; no
  // transaction at all when nothing does. The ledger is append-only between
  // prunes: `ledger[0, ledger_saved)` are taken to be in the database, the
  // rest are inserted (an id already there keeps its first row), and entries
  // that ended before a newer state.ledger_pruned_before are deleted.
  // On error nothing of this save is committed and the next one retries all.
  // REQUIRES: Load() succeeded, or the database is new (Load is then implied).
  // `history` (may be null): the budget stage's history rows and prune, in
  // the same transaction.
  Status Save(const PersistentState& state, const LedgerEntries& ledger, std::size_t ledger_saved,
              const HistoryBatch* history = nullptr);
  // The same with state.ledger, none of it taken to be saved (tests).
  Status Save(const PersistentState& state) { return Save(state, state.ledger, 0); }

  // Rows inserted, updated or deleted by this store's connection so far
  // (sqlite3_total_changes); 0 before it is open.
  long long changes() const;

  std::string DbPath() const { return directory_ + "/state.db"; }
  std::string LegacyStatePath() const { return directory_ + "/state.json"; }
  std::string LegacyLedgerPath() const { return directory_ + "/ledger.jsonl"; }
  std::string AuditPath() const { return directory_ + "/audit.jsonl"; }
  const std::string& directory() const { return directory_; }

 private:
  Status OpenReadWrite();
  // Imports state.json / ledger.jsonl if present and not yet imported, then
  // renames them aside.
  Status ImportLegacy();

  std::string directory_;
  std::unique_ptr<StateDb> db_;
};

}  // namespace rcw
