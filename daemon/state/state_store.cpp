#include "state/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_set>

#include "state/state_db.h"

namespace rcw {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status(StatusCode::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open state directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot sync state directory", dir);
  return Status::Ok();
}

// Renames `path` to `path`.imported, or .imported.2, .3, ... when that is
// taken: an imported file is never overwritten, never deleted.
Status RenameAside(const std::string& path) {
  if (!Exists(path)) return Status::Ok();
  std::string to = path + ".imported";
  for (int n = 2; Exists(to); ++n) to = path + ".imported." + std::to_string(n);
  if (::rename(path.c_str(), to.c_str()) != 0) return Errno("cannot rename aside", path);
  return Status::Ok();
}

}  // namespace

StateStore::StateStore(std::string directory) : directory_(std::move(directory)) {}
StateStore::~StateStore() = default;

Status StateStore::Prepare() const {
  if (::mkdir(directory_.c_str(), 0750) != 0 && errno != EEXIST) {
    return Errno("cannot create state directory", directory_);
  }
  if (::access(directory_.c_str(), W_OK) != 0) {
    return Errno("state directory not writable:", directory_);
  }
  return Status::Ok();
}

Status StateStore::OpenReadWrite() {
  if (db_) return Status::Ok();
  Result<std::unique_ptr<StateDb>> db = StateDb::Open(DbPath(), StateDb::Mode::kReadWrite);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  Status s = ImportLegacy();
  if (!s.ok()) db_.reset();
  return s;
}

Status StateStore::ImportLegacy() {
  const std::string state_path = LegacyStatePath(), ledger_path = LegacyLedgerPath();
  if (!Exists(state_path) && !Exists(ledger_path)) return Status::Ok();
  // The import commits a marker with its rows: files found again after a
  // crash before the renames are only renamed, never counted twice.
  Result<std::optional<std::string>> done = db_->Meta("legacy_imported");
  if (!done.ok()) return done.status();
  if (!*done) {
    Result<PersistentState> legacy = LoadLegacyState(state_path, ledger_path);
    if (!legacy.ok()) return legacy.status();
    if (Result<PersistentState> current = db_->Load(); !current.ok()) return current.status();
    // Duplicate ledger ids keep their first entry, as Ledger::Restore does
    // (the ledger table has no key on job_id: the Ledger saves each id once).
    // (Copies of the ids: erase_if moves entries, a view would dangle.)
    std::unordered_set<std::string> seen;
    // Entries that ended before ledger_pruned_before were pruned: not imported.
    const std::optional<TimePoint> pruned = legacy->ledger_pruned_before;
    std::erase_if(legacy->ledger, [&](const LedgerEntry& e) {
      if (pruned && e.ended < *pruned) return true;
      return !seen.insert(std::string(e.job_id.view())).second;
    });
    Status s = db_->Save(*legacy, legacy->ledger, 0, {{"legacy_imported", "1"}});
    if (!s.ok()) return s;
  }
  if (Status s = RenameAside(state_path); !s.ok()) return s;
  if (Status s = RenameAside(ledger_path); !s.ok()) return s;
  return SyncDirectory(directory_);
}

Result<LedgerEntries> StateStore::LoadLedger(std::optional<TimePoint> from, TimePoint before) {
  if (!db_) return Status(StatusCode::kUnavailable, DbPath() + ": not open");
  return db_->LoadLedger(from, before);
}

Result<PersistentState> StateStore::Load(bool ledger) {
  if (Status s = OpenReadWrite(); !s.ok()) return s;
  Result<PersistentState> state = db_->Load(ledger);
  if (!state.ok()) db_.reset();
  return state;
}

Result<PersistentState> StateStore::LoadReadOnly() const {
  if (!Exists(DbPath())) return LoadLegacyState(LegacyStatePath(), LegacyLedgerPath());
  Result<std::unique_ptr<StateDb>> db = StateDb::Open(DbPath(), StateDb::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  return (*db)->Load();
}

Status StateStore::Save(const PersistentState& state, const LedgerEntries& ledger,
                        std::size_t ledger_saved, const HistoryBatch* history) {
  if (!db_) {
    if (Result<PersistentState> loaded = Load(); !loaded.ok()) return loaded.status();
  }
  return db_->Save(state, ledger, ledger_saved, {}, history);
}

Result<StateStore::HistoryRead> StateStore::ReadHistoryReadOnly(TimePoint from,
                                                                TimePoint to) const {
  HistoryRead out;
  if (!Exists(DbPath())) return out;
  Result<std::unique_ptr<StateDb>> db = StateDb::Open(DbPath(), StateDb::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  Result<std::optional<TimePoint>> oldest = (*db)->OldestHistory();
  if (!oldest.ok()) {
    // A database of an older schema (or never written): no history yet.
    Result<PersistentState> readable = (*db)->Load();
    if (!readable.ok()) return readable.status();
    return out;
  }
  out.oldest = *oldest;
  Status s = (*db)->ReadHistory(from, to, [&](Job&& j) { out.jobs.push_back(std::move(j)); });
  if (!s.ok()) return s;
  return out;
}

long long StateStore::changes() const { return db_ ? db_->changes() : 0; }

}  // namespace rcw
