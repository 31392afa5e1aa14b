// StateDb: PersistentState in one SQLite database (see state_store.h and
// docs/state.md). The only code that speaks SQL; state_db.cpp is the one
// file that includes sqlite3.h.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <functional>

#include "base/history.h"
#include "base/job.h"
#include "base/persisted_state.h"
#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace rcw {

class StateDb {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // The schema version this build writes (PRAGMA user_version).
  static int SchemaVersion();

  // Read-write: creates the file if missing, sets WAL and synchronous=FULL
  // and migrates an older schema forward. Read-only: REQUIRES the file
  // exists; writes nothing. Both refuse a newer schema (kInvalidConfig,
  // "written by a newer rc-watchdog") and a file that is not a database or
  // is corrupt (kBadResponse with the path and SQLite's message).
  static Result<std::unique_ptr<StateDb>> Open(const std::string& path, Mode mode);
  ~StateDb();
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  // Every table (the ledger only when `ledger`; otherwise state.ledger is
  // empty and ledger_complete false); remembered as what was last committed.
  Result<PersistentState> Load(bool ledger = true);
  // The ledger rows of jobs that ended at or after `from` (every row when
  // unset) and before `before`, in the order written.
  Result<LedgerEntries> LoadLedger(std::optional<TimePoint> from, TimePoint before);
  // See StateStore::Save. `meta` adds key/value pairs to the meta table in
  // the same transaction (and forces one).
  // `history` (may be null): rows to add and the prune to run.
  Status Save(const PersistentState& state, const LedgerEntries& ledger, std::size_t ledger_saved,
              const std::vector<std::pair<std::string, std::string>>& meta = {},
              const HistoryBatch* history = nullptr);
  // Calls `row` for every history row of a job that ended at or after `from`
  // and was created at or before `to`, in the order written (a full scan).
  Status ReadHistory(TimePoint from, TimePoint to, const std::function<void(Job&&)>& row);
  // The oldest end time in the history; nullopt when it is empty.
  Result<std::optional<TimePoint>> OldestHistory();
  // A key of the meta table; nullopt when absent.
  Result<std::optional<std::string>> Meta(const std::string& key);
  long long changes() const;

 private:
  class Tx;
  StateDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Error(int rc, const std::string& what) const;
  Status Exec(const char* sql, const std::string& what);
  Status Migrate();
  // A cached prepared statement, reset and with its bindings cleared.
  Result<sqlite3_stmt*> Statement(const char* sql);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> statements_;
  // The small tables as last committed (its ledger stays empty).
  PersistentState last_;
};

}  // namespace rcw
