// The one file that includes sqlite3.h (libsqlite3 enters here only).
#include "state/state_db.h"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>

namespace rcw {
namespace {

// Forward migrations: kMigrations[v] takes a database from user_version v to
// v + 1. Never edit one that shipped; append.
const std::vector<const char*> kMigrations = {
    // 0 -> 1: the first schema. Times are integer milliseconds since the
    // Unix epoch, NULL for an unset optional.
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE ledger (
  job_id TEXT NOT NULL, ended INTEGER NOT NULL, pu REAL NOT NULL,
  itwin_id TEXT NOT NULL, user_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX ledger_ended ON ledger (ended);
CREATE TABLE rates (type TEXT PRIMARY KEY, pu_per_hour REAL NOT NULL, samples INTEGER NOT NULL);
CREATE TABLE followed (job_id TEXT PRIMARY KEY);
CREATE TABLE first_seen_active (job_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE pending (
  job_id TEXT PRIMARY KEY, position INTEGER NOT NULL, policy TEXT NOT NULL,
  limit_name TEXT NOT NULL, itwin_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL,
  user_id TEXT NOT NULL, observed REAL NOT NULL, threshold REAL NOT NULL,
  attempts INTEGER NOT NULL, next_attempt INTEGER NOT NULL, requested_at INTEGER NOT NULL,
  accepted INTEGER NOT NULL, polls_since_accept INTEGER NOT NULL);
CREATE TABLE markers (
  kind TEXT NOT NULL CHECK (kind IN ('warned', 'violated')), job_id TEXT NOT NULL,
  owner TEXT NOT NULL, what TEXT NOT NULL, itwin_id TEXT NOT NULL,
  PRIMARY KEY (kind, job_id, owner, what));
CREATE TABLE budget_markers (
  kind TEXT NOT NULL CHECK (kind IN ('warned', 'exceeded')), key TEXT NOT NULL,
  PRIMARY KEY (kind, key));
CREATE TABLE cancel_times (at INTEGER NOT NULL);
CREATE TABLE listings (
  scope TEXT PRIMARY KEY, full_at INTEGER, horizon INTEGER, lookback_s INTEGER NOT NULL);
)sql",
    // 1 -> 2: job history for `backtest` (issue 13), owned by the budget
    // stage: one row per ended job. No index: backtest scans it and the
    // daily prune is one DELETE ... WHERE ended < ?, so an insert costs a
    // row append and nothing more.
    R"sql(
CREATE TABLE history (
  job_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, itwin_id TEXT NOT NULL,
  user_id TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL, started INTEGER,
  ended INTEGER NOT NULL, pu REAL);
)sql",
    // 2 -> 3: RcWatchdogJobCancelled notices for Alertmanager (issue 12),
    // owned by the notify stage: a handful of rows, each kept for an hour.
    R"sql(
CREATE TABLE notices (
  job_id TEXT NOT NULL, policy TEXT NOT NULL, limit_name TEXT NOT NULL,
  itwin_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, user_id TEXT NOT NULL,
  observed REAL NOT NULL, threshold REAL NOT NULL, at INTEGER NOT NULL);
)sql",
};

std::int64_t ToMs(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
TimePoint FromMs(std::int64_t ms) { return TimePoint(Millis(ms)); }

bool Corrupt(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// Column readers of a stepped statement.
std::string Text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}
// Valid until the statement steps again: for values copied at once.
std::string_view View(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string_view(reinterpret_cast<const char*>(p),
                              static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string_view();
}
std::int64_t Int(sqlite3_stmt* s, int i) { return sqlite3_column_int64(s, i); }
double Real(sqlite3_stmt* s, int i) { return sqlite3_column_double(s, i); }
std::optional<TimePoint> OptTime(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return FromMs(Int(s, i));
}

// Binders, 1-based like SQLite's.
void Bind(sqlite3_stmt* s, int i, std::string_view v) {
  // An empty view may carry a null pointer (an InternedString of "" holds
  // none), and SQLite binds a null pointer as NULL, not as ''.
  // SQLITE_STATIC: not copied. Every statement is stepped while the bound
  // values live, and its bindings are cleared before the caller's values go
  // (Tx::Write, StateDb::Meta); a cold start binds 1.2 million texts.
  sqlite3_bind_text(s, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
}
void Bind(sqlite3_stmt* s, int i, const std::string& v) { Bind(s, i, std::string_view(v)); }
void Bind(sqlite3_stmt* s, int i, const char* v) { Bind(s, i, std::string_view(v)); }
void Bind(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
void Bind(sqlite3_stmt* s, int i, int v) { sqlite3_bind_int64(s, i, v); }
void Bind(sqlite3_stmt* s, int i, bool v) { sqlite3_bind_int64(s, i, v ? 1 : 0); }
void Bind(sqlite3_stmt* s, int i, double v) { sqlite3_bind_double(s, i, v); }
void Bind(sqlite3_stmt* s, int i, TimePoint v) { sqlite3_bind_int64(s, i, ToMs(v)); }
void Bind(sqlite3_stmt* s, int i, std::optional<double> v) {
  if (v) {
    Bind(s, i, *v);
  } else {
    sqlite3_bind_null(s, i);
  }
}
void Bind(sqlite3_stmt* s, int i, std::optional<TimePoint> v) {
  if (v) {
    Bind(s, i, *v);
  } else {
    sqlite3_bind_null(s, i);
  }
}

template <class... A>
void BindAll([[maybe_unused]] sqlite3_stmt* s, const A&... args) {
  [[maybe_unused]] int i = 0;
  (Bind(s, ++i, args), ...);
}

// Walks two maps ordered by key: `put` for keys added or whose value changed,
// `drop` for keys gone. Stops at the first error.
template <class M, class Same, class Put, class Drop>
Status DiffMaps(const M& before, const M& now, Same same, Put put, Drop drop) {
  auto b = before.begin();
  auto n = now.begin();
  auto less = before.key_comp();
  while (b != before.end() || n != now.end()) {
    Status s;
    if (n == now.end() || (b != before.end() && less(b->first, n->first))) {
      s = drop(b->first);
      ++b;
    } else if (b == before.end() || less(n->first, b->first)) {
      s = put(n->first, n->second);
      ++n;
    } else {
      if (!same(b->second, n->second)) s = put(n->first, n->second);
      ++b;
      ++n;
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// The same for sets.
template <class S, class Put, class Drop>
Status DiffSets(const S& before, const S& now, Put put, Drop drop) {
  auto b = before.begin();
  auto n = now.begin();
  auto less = before.key_comp();
  while (b != before.end() || n != now.end()) {
    Status s;
    if (n == now.end() || (b != before.end() && less(*b, *n))) {
      s = drop(*b++);
    } else if (b == before.end() || less(*n, *b)) {
      s = put(*n++);
    } else {
      ++b;
      ++n;
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

bool SamePending(const PendingCancel& a, const PendingCancel& b) {
  return a.job_id == b.job_id && a.policy == b.policy && a.limit == b.limit &&
         a.itwin_id == b.itwin_id && a.type == b.type && a.name == b.name &&
         a.user_id == b.user_id && a.observed == b.observed && a.threshold == b.threshold &&
         a.attempts == b.attempts && a.next_attempt == b.next_attempt &&
         a.requested_at == b.requested_at && a.accepted == b.accepted &&
         a.polls_since_accept == b.polls_since_accept;
}

// Pending cancellations by job id, with their position (the vector's order
// is the order they are sent in). A repeated id keeps its first.
using PendingById = std::map<std::string, std::pair<int, const PendingCancel*>>;
PendingById ById(const std::vector<PendingCancel>& pending) {
  PendingById out;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    out.emplace(pending[i].job_id, std::make_pair(static_cast<int>(i), &pending[i]));
  }
  return out;
}

using RatesByType = std::map<std::string, const LearnedRate*>;
RatesByType ById(const std::vector<LearnedRate>& rates) {
  RatesByType out;
  for (const LearnedRate& r : rates) out.emplace(std::string(ToString(r.type)), &r);
  return out;
}

// A row of SELECT job_id, ended, pu, itwin_id, user_id, type, name FROM ledger.
LedgerEntry LedgerRow(sqlite3_stmt* r) {
  LedgerEntry e;
  e.job_id = View(r, 0);
  e.ended = FromMs(Int(r, 1));
  e.processing_units = Real(r, 2);
  e.itwin_id = View(r, 3);
  e.user_id = View(r, 4);
  e.type = ParseJobType(View(r, 5));
  e.name = View(r, 6);
  return e;
}

PersistentState WithoutLedger(const PersistentState& s) {
  PersistentState c;
  c.version = s.version;
  c.first_seen_active = s.first_seen_active;
  c.warned = s.warned;
  c.violated = s.violated;
  c.budget_warned = s.budget_warned;
  c.budget_exceeded = s.budget_exceeded;
  c.followed = s.followed;
  c.pending = s.pending;
  c.cancel_times = s.cancel_times;
  c.ledger_pruned_before = s.ledger_pruned_before;
  c.history_pruned_at = s.history_pruned_at;
  c.rates = s.rates;
  c.notices = s.notices;
  c.listings = s.listings;
  return c;
}

}  // namespace

// A transaction begun (BEGIN IMMEDIATE) on the first write only: a save
// that changes nothing writes nothing. Rolled back unless committed.
class StateDb::Tx {
 public:
  explicit Tx(StateDb& db) : db_(db) {}
  ~Tx() {
    if (begun_) sqlite3_exec(db_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  // Runs `sql` once with `args` bound.
  template <class... A>
  Status Write(const char* sql, const A&... args) {
    if (!begun_) {
      if (Status s = db_.Exec("BEGIN IMMEDIATE", "cannot begin a transaction"); !s.ok()) return s;
      begun_ = true;
    }
    Result<sqlite3_stmt*> st = db_.Statement(sql);
    if (!st.ok()) return st.status();
    BindAll(*st, args...);
    int rc = sqlite3_step(*st);
    sqlite3_reset(*st);
    Status out = rc == SQLITE_DONE ? Status::Ok() : db_.Error(rc, "cannot write");
    sqlite3_clear_bindings(*st);  // no pointer into the caller's values is kept
    return out;
  }
  bool begun() const { return begun_; }
  Status Commit() {
    if (!begun_) return Status::Ok();
    Status s = db_.Exec("COMMIT", "cannot commit");
    if (s.ok()) begun_ = false;
    return s;
  }

 private:
  StateDb& db_;
  bool begun_ = false;
};

int StateDb::SchemaVersion() { return static_cast<int>(kMigrations.size()); }

Status StateDb::Error(int rc, const std::string& what) const {
  std::string msg = path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  return Status(Corrupt(rc) ? StatusCode::kBadResponse : StatusCode::kUnavailable, msg);
}

Status StateDb::Exec(const char* sql, const std::string& what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : Error(rc, what);
}

Result<sqlite3_stmt*> StateDb::Statement(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare a statement");
  statements_.emplace(sql, st);
  return st;
}

StateDb::~StateDb() {
  for (auto& [sql, st] : statements_) sqlite3_finalize(st);
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& path, Mode mode) {
  int flags =
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  std::string name = path;
  if (mode == Mode::kReadOnly && ::access((path + "-wal").c_str(), F_OK) != 0) {
    // No write-ahead log: no daemon has the database open, and all of it is
    // in the file. A plain read-only open would still create state.db-wal
    // and state.db-shm (and leave them); "immutable" reads the file alone.
    // (A daemon starting meanwhile writes to its log, not to this file,
    // until its first checkpoint.)
    name = "file:";
    for (char c : path) {
      if (c == '%' || c == '?' || c == '#') {
        static const char kHex[] = "0123456789ABCDEF";
        name += '%';
        name += kHex[static_cast<unsigned char>(c) >> 4];
        name += kHex[static_cast<unsigned char>(c) & 15];
      } else {
        name += c;
      }
    }
    name += "?immutable=1";
    flags |= SQLITE_OPEN_URI;
  }
  // Before SQLite initialises (the first open): no memory statistics. They
  // take a global mutex on every allocation (200,000 row inserts in a first
  // save) and nothing here reads them.
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<StateDb> db(new StateDb(path, raw));
  if (rc != SQLITE_OK) return db->Error(rc, "cannot open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  // The first read: a file that is not a database fails here, untouched.
  Result<sqlite3_stmt*> version = db->Statement("PRAGMA user_version");
  if (!version.ok()) return version.status();
  rc = sqlite3_step(*version);
  if (rc != SQLITE_ROW) return db->Error(rc, "not a usable state database");
  int found = static_cast<int>(Int(*version, 0));
  sqlite3_reset(*version);
  if (found > SchemaVersion()) {
    return Status(StatusCode::kInvalidConfig,
                  path + ": written by a newer rc-watchdog (schema version " +
                      std::to_string(found) + ", this one knows up to " +
                      std::to_string(SchemaVersion()) +
                      "); run that version, or move the file aside to start over");
  }
  if (mode == Mode::kReadOnly) return db;
  if (Status s = db->Exec("PRAGMA journal_mode=WAL", "cannot set WAL mode"); !s.ok()) return s;
  if (Status s = db->Exec("PRAGMA synchronous=FULL", "cannot set synchronous"); !s.ok()) return s;
  // The log is reused from its start after each checkpoint but never shrunk:
  // a first save of 100,000 jobs would leave a 40 MB state.db-wal for good.
  // Past this size it is cut back when it is reset.
  if (Status s = db->Exec("PRAGMA journal_size_limit=4194304", "cannot set journal_size_limit");
      !s.ok()) {
    return s;
  }
  if (Status s = db->Migrate(); !s.ok()) return s;
  return db;
}

Status StateDb::Migrate() {
  Result<sqlite3_stmt*> version = Statement("PRAGMA user_version");
  if (!version.ok()) return version.status();
  int rc = sqlite3_step(*version);
  if (rc != SQLITE_ROW) return Error(rc, "cannot read the schema version");
  int at = static_cast<int>(Int(*version, 0));
  sqlite3_reset(*version);
  for (; at < SchemaVersion(); ++at) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[static_cast<std::size_t>(at)] +
                      "PRAGMA user_version=" + std::to_string(at + 1) + ";COMMIT;";
    if (Status s = Exec(sql.c_str(), "cannot migrate to schema version " + std::to_string(at + 1));
        !s.ok()) {
      (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
  }
  return Status::Ok();
}

long long StateDb::changes() const { return sqlite3_total_changes64(db_); }

Result<std::optional<std::string>> StateDb::Meta(const std::string& key) {
  Result<sqlite3_stmt*> st = Statement("SELECT value FROM meta WHERE key = ?");
  if (!st.ok()) return st.status();
  Bind(*st, 1, key);
  int rc = sqlite3_step(*st);
  std::optional<std::string> value;
  if (rc == SQLITE_ROW) value = Text(*st, 0);
  sqlite3_reset(*st);
  Status error =
      rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok() : Error(rc, "cannot read meta");
  sqlite3_clear_bindings(*st);  // `key` is bound without a copy
  if (!error.ok()) return error;
  return value;
}

Result<PersistentState> StateDb::Load(bool ledger) {
  PersistentState s;
  if (SchemaVersion() > 0) {
    // A read-only open of a database never written to (user_version 0): empty.
    Result<sqlite3_stmt*> v = Statement("PRAGMA user_version");
    if (!v.ok()) return v.status();
    int rc = sqlite3_step(*v);
    int at = rc == SQLITE_ROW ? static_cast<int>(Int(*v, 0)) : -1;
    sqlite3_reset(*v);
    if (rc != SQLITE_ROW) return Error(rc, "cannot read the schema version");
    if (at == 0) {
      last_ = PersistentState{};
      return s;
    }
  }
  // Runs `sql`, calling `row` for each row.
  auto each = [&](const char* sql, const std::function<void(sqlite3_stmt*)>& row) -> Status {
    Result<sqlite3_stmt*> st = Statement(sql);
    if (!st.ok()) return st.status();
    int rc;
    while ((rc = sqlite3_step(*st)) == SQLITE_ROW) row(*st);
    sqlite3_reset(*st);
    return rc == SQLITE_DONE ? Status::Ok() : Error(rc, "cannot read");
  };
  Status st = each("SELECT key, value FROM meta", [&](sqlite3_stmt* r) {
    std::string key = Text(r, 0);
    if (key == "version") s.version = static_cast<int>(Int(r, 1));
    if (key == "ledger_pruned_before") s.ledger_pruned_before = OptTime(r, 1);
    if (key == "history_pruned_at") s.history_pruned_at = OptTime(r, 1);
  });
  if (st.ok() && ledger) {
    st = each("SELECT job_id, ended, pu, itwin_id, user_id, type, name FROM ledger ORDER BY rowid",
              [&](sqlite3_stmt* r) { s.ledger.push_back(LedgerRow(r)); });
  }
  s.ledger_complete = ledger;
  if (st.ok()) {
    st = each("SELECT type, pu_per_hour, samples FROM rates ORDER BY rowid", [&](sqlite3_stmt* r) {
      s.rates.push_back({ParseJobType(Text(r, 0)), Real(r, 1), static_cast<int>(Int(r, 2))});
    });
  }
  if (st.ok()) {
    st = each("SELECT job_id FROM followed",
              [&](sqlite3_stmt* r) { s.followed.insert(Text(r, 0)); });
  }
  if (st.ok()) {
    st = each("SELECT job_id, at FROM first_seen_active",
              [&](sqlite3_stmt* r) { s.first_seen_active.emplace(Text(r, 0), FromMs(Int(r, 1))); });
  }
  if (st.ok()) {
    st = each(
        "SELECT job_id, policy, limit_name, itwin_id, type, name, user_id, observed, threshold, "
        "attempts, next_attempt, requested_at, accepted, polls_since_accept FROM pending "
        "ORDER BY position",
        [&](sqlite3_stmt* r) {
          PendingCancel p;
          p.job_id = Text(r, 0);
          p.policy = Text(r, 1);
          p.limit = Text(r, 2);
          p.itwin_id = Text(r, 3);
          p.type = Text(r, 4);
          p.name = Text(r, 5);
          p.user_id = Text(r, 6);
          p.observed = Real(r, 7);
          p.threshold = Real(r, 8);
          p.attempts = static_cast<int>(Int(r, 9));
          p.next_attempt = FromMs(Int(r, 10));
          p.requested_at = FromMs(Int(r, 11));
          p.accepted = Int(r, 12) != 0;
          p.polls_since_accept = static_cast<int>(Int(r, 13));
          s.pending.push_back(std::move(p));
        });
  }
  if (st.ok()) {
    st = each("SELECT kind, job_id, owner, what, itwin_id FROM markers", [&](sqlite3_stmt* r) {
      JobMarker m{Text(r, 1), Text(r, 2), Text(r, 3), Text(r, 4)};
      (Text(r, 0) == "warned" ? s.warned : s.violated).insert(std::move(m));
    });
  }
  if (st.ok()) {
    st = each("SELECT kind, key FROM budget_markers", [&](sqlite3_stmt* r) {
      (Text(r, 0) == "warned" ? s.budget_warned : s.budget_exceeded).insert(Text(r, 1));
    });
  }
  if (st.ok()) {
    st = each("SELECT at FROM cancel_times ORDER BY rowid",
              [&](sqlite3_stmt* r) { s.cancel_times.push_back(FromMs(Int(r, 0))); });
  }
  if (st.ok()) {
    st = each("SELECT scope, full_at, horizon, lookback_s FROM listings", [&](sqlite3_stmt* r) {
      ListingMark m;
      m.scope = Text(r, 0);
      m.full_at = OptTime(r, 1);
      m.horizon = OptTime(r, 2);
      m.lookback = Seconds(Int(r, 3));
      s.listings.emplace(m.scope, std::move(m));
    });
  }
  if (st.ok()) {
    st = each(
        "SELECT job_id, policy, limit_name, itwin_id, type, name, user_id, observed, threshold, "
        "at FROM notices ORDER BY rowid",
        [&](sqlite3_stmt* r) {
          CancelNotice n;
          n.job_id = Text(r, 0);
          n.policy = Text(r, 1);
          n.limit = Text(r, 2);
          n.itwin_id = Text(r, 3);
          n.type = Text(r, 4);
          n.name = Text(r, 5);
          n.user_id = Text(r, 6);
          n.observed = Real(r, 7);
          n.threshold = Real(r, 8);
          n.at = FromMs(Int(r, 9));
          s.notices.push_back(std::move(n));
        });
  }
  if (!st.ok()) return st;
  last_ = WithoutLedger(s);
  return s;
}

Result<LedgerEntries> StateDb::LoadLedger(std::optional<TimePoint> from, TimePoint before) {
  // By the `ended` index: a warm start asks for the rows of a few hours.
  Result<sqlite3_stmt*> st = Statement(
      "SELECT job_id, ended, pu, itwin_id, user_id, type, name FROM ledger "
      "WHERE ended >= ? AND ended < ? ORDER BY rowid");
  if (!st.ok()) return st.status();
  BindAll(*st, from ? ToMs(*from) : std::numeric_limits<std::int64_t>::min(), ToMs(before));
  LedgerEntries out;
  int rc;
  while ((rc = sqlite3_step(*st)) == SQLITE_ROW) out.push_back(LedgerRow(*st));
  sqlite3_reset(*st);
  if (rc != SQLITE_DONE) return Error(rc, "cannot read the ledger");
  return out;
}

Status StateDb::ReadHistory(TimePoint from, TimePoint to, const std::function<void(Job&&)>& row) {
  Result<sqlite3_stmt*> st = Statement(
      "SELECT job_id, name, type, itwin_id, user_id, state, created, started, ended, pu "
      "FROM history WHERE ended >= ? AND created <= ? ORDER BY rowid");
  if (!st.ok()) return st.status();
  BindAll(*st, from, to);
  int rc;
  while ((rc = sqlite3_step(*st)) == SQLITE_ROW) {
    Job j;
    j.id = View(*st, 0);
    j.name = View(*st, 1);
    j.type = ParseJobType(View(*st, 2));
    if (j.type == JobType::kUnknown) j.raw_type = View(*st, 2);
    j.itwin_id = View(*st, 3);
    j.user_id = View(*st, 4);
    j.state = ParseJobState(View(*st, 5));
    if (j.state == JobState::kUnknown) j.raw_state = View(*st, 5);
    j.created = FromMs(Int(*st, 6));
    j.started = OptTime(*st, 7);
    j.ended = FromMs(Int(*st, 8));
    if (sqlite3_column_type(*st, 9) != SQLITE_NULL) j.processing_units = Real(*st, 9);
    row(std::move(j));
  }
  sqlite3_reset(*st);
  return rc == SQLITE_DONE ? Status::Ok() : Error(rc, "cannot read the history");
}

Result<std::optional<TimePoint>> StateDb::OldestHistory() {
  Result<sqlite3_stmt*> st = Statement("SELECT min(ended) FROM history");
  if (!st.ok()) return st.status();
  int rc = sqlite3_step(*st);
  std::optional<TimePoint> t;
  if (rc == SQLITE_ROW) t = OptTime(*st, 0);
  sqlite3_reset(*st);
  if (rc != SQLITE_ROW) return Error(rc, "cannot read the history");
  return t;
}

Status StateDb::Save(const PersistentState& s, const LedgerEntries& ledger,
                     std::size_t ledger_saved,
                     const std::vector<std::pair<std::string, std::string>>& meta,
                     const HistoryBatch* history) {
  Tx tx(*this);
  const PersistentState& b = last_;
  Status st;
  auto ok = [&](Status next) {
    if (st.ok()) st = std::move(next);
    return st.ok();
  };
  // meta
  for (const auto& [key, value] : meta) {
    ok(tx.Write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value));
  }
  if (st.ok() && s.version != b.version) {
    ok(tx.Write("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", s.version));
  }
  // The ledger: pruned rows first, then the entries not saved yet.
  if (st.ok() && s.ledger_pruned_before != b.ledger_pruned_before) {
    ok(tx.Write("INSERT OR REPLACE INTO meta (key, value) VALUES ('ledger_pruned_before', ?)",
                s.ledger_pruned_before));
    if (s.ledger_pruned_before) {
      ok(tx.Write("DELETE FROM ledger WHERE ended < ?", *s.ledger_pruned_before));
    }
  }
  for (std::size_t i = ledger_saved; st.ok() && i < ledger.size(); ++i) {
    const LedgerEntry& e = ledger[i];
    ok(
        tx.Write("INSERT INTO ledger (job_id, ended, pu, itwin_id, user_id, type, name) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 e.job_id.view(), e.ended, e.processing_units, e.itwin_id.view(), e.user_id.view(),
                 ToString(e.type), e.name.view()));
  }
  // history (budget stage): the daily prune, then the jobs ended since the
  // last save.
  if (st.ok() && history && history->prune_before) {
    ok(tx.Write("DELETE FROM history WHERE ended < ?", *history->prune_before));
  }
  if (st.ok() && s.history_pruned_at != b.history_pruned_at) {
    ok(tx.Write("INSERT OR REPLACE INTO meta (key, value) VALUES ('history_pruned_at', ?)",
                s.history_pruned_at));
  }
  if (history && history->counted) {
    const std::deque<CountedHistory>& counted = *history->counted;
    for (std::size_t k = 0; st.ok() && k < counted.size() && ledger_saved + k < ledger.size();
         ++k) {
      const LedgerEntry& e = ledger[ledger_saved + k];
      const CountedHistory& h = counted[k];
      std::optional<TimePoint> started;
      if (h.has_started) started = h.started;
      ok(tx.Write(
          "INSERT INTO history (job_id, name, type, itwin_id, user_id, state, created, started, "
          "ended, pu) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          e.job_id.view(), HistoryName(e.name.view()), ToString(e.type), e.itwin_id.view(),
          e.user_id.view(), ToString(h.state), h.created, started, e.ended, e.processing_units));
    }
  }
  for (std::size_t i = 0; history && st.ok() && i < history->rows.size(); ++i) {
    const Job& j = *history->rows[i];
    ok(tx.Write(
        "INSERT INTO history (job_id, name, type, itwin_id, user_id, state, created, started, "
        "ended, pu) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        j.id.view(), HistoryName(j.name), j.TypeText(), j.itwin_id.view(), j.user_id.view(),
        j.StateText(), j.created, j.started, j.ended.value_or(j.created), j.processing_units));
  }
  // rates (by type name)
  if (st.ok()) {
    ok(DiffMaps(
        ById(b.rates), ById(s.rates),
        [](const LearnedRate* x, const LearnedRate* y) {
          return x->pu_per_hour == y->pu_per_hour && x->samples == y->samples;
        },
        [&](const std::string& type, const LearnedRate* r) {
          return tx.Write(
              "INSERT OR REPLACE INTO rates (type, pu_per_hour, samples) VALUES (?, ?, ?)", type,
              r->pu_per_hour, r->samples);
        },
        [&](const std::string& type) {
          return tx.Write("DELETE FROM rates WHERE type = ?", type);
        }));
  }
  if (st.ok()) {
    ok(DiffSets(
        b.followed, s.followed,
        [&](const std::string& id) {
          return tx.Write("INSERT OR REPLACE INTO followed (job_id) VALUES (?)", id);
        },
        [&](const std::string& id) {
          return tx.Write("DELETE FROM followed WHERE job_id = ?", id);
        }));
  }
  if (st.ok()) {
    ok(DiffMaps(
        b.first_seen_active, s.first_seen_active, std::equal_to<TimePoint>(),
        [&](const std::string& id, TimePoint at) {
          return tx.Write("INSERT OR REPLACE INTO first_seen_active (job_id, at) VALUES (?, ?)", id,
                          at);
        },
        [&](const std::string& id) {
          return tx.Write("DELETE FROM first_seen_active WHERE job_id = ?", id);
        }));
  }
  if (st.ok()) {
    ok(DiffMaps(
        ById(b.pending), ById(s.pending),
        [](const std::pair<int, const PendingCancel*>& x,
           const std::pair<int, const PendingCancel*>& y) {
          return x.first == y.first && SamePending(*x.second, *y.second);
        },
        [&](const std::string&, const std::pair<int, const PendingCancel*>& v) {
          const PendingCancel& p = *v.second;
          return tx.Write(
              "INSERT OR REPLACE INTO pending (job_id, position, policy, limit_name, itwin_id, "
              "type, "
              "name, user_id, observed, threshold, attempts, next_attempt, requested_at, accepted, "
              "polls_since_accept) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              p.job_id, v.first, p.policy, p.limit, p.itwin_id, p.type, p.name, p.user_id,
              p.observed, p.threshold, p.attempts, p.next_attempt, p.requested_at, p.accepted,
              p.polls_since_accept);
        },
        [&](const std::string& id) {
          return tx.Write("DELETE FROM pending WHERE job_id = ?", id);
        }));
  }
  // markers: the set's identity is (job, owner, what); the iTwin rides along.
  auto markers = [&](const char* kind, const MarkerSet& before, const MarkerSet& now) {
    auto put = [&](const JobMarker& m) {
      return tx.Write(
          "INSERT OR REPLACE INTO markers (kind, job_id, owner, what, itwin_id) "
          "VALUES (?, ?, ?, ?, ?)",
          kind, m.job_id, m.owner, m.what, m.itwin_id);
    };
    Status r = DiffSets(before, now, put, [&](const JobMarker& m) {
      return tx.Write(
          "DELETE FROM markers WHERE kind = ? AND job_id = ? AND owner = ? AND what = ?", kind,
          m.job_id, m.owner, m.what);
    });
    for (auto it = now.begin(); r.ok() && it != now.end(); ++it) {
      auto old = before.find(*it);
      if (old != before.end() && old->itwin_id != it->itwin_id) r = put(*it);
    }
    return r;
  };
  if (st.ok()) ok(markers("warned", b.warned, s.warned));
  if (st.ok()) ok(markers("violated", b.violated, s.violated));
  auto budget = [&](const char* kind, const std::set<std::string>& before,
                    const std::set<std::string>& now) {
    return DiffSets(
        before, now,
        [&](const std::string& key) {
          return tx.Write("INSERT OR REPLACE INTO budget_markers (kind, key) VALUES (?, ?)", kind,
                          key);
        },
        [&](const std::string& key) {
          return tx.Write("DELETE FROM budget_markers WHERE kind = ? AND key = ?", kind, key);
        });
  };
  if (st.ok()) ok(budget("warned", b.budget_warned, s.budget_warned));
  if (st.ok()) ok(budget("exceeded", b.budget_exceeded, s.budget_exceeded));
  // cancel_times: a handful (the last hour's first DELETEs), rewritten whole
  // when they changed.
  if (st.ok() && s.cancel_times != b.cancel_times) {
    ok(tx.Write("DELETE FROM cancel_times"));
    for (TimePoint t : s.cancel_times) {
      if (!ok(tx.Write("INSERT INTO cancel_times (at) VALUES (?)", t))) break;
    }
  }
  if (st.ok()) {
    ok(DiffMaps(
        b.listings, s.listings, std::equal_to<ListingMark>(),
        [&](const std::string& scope, const ListingMark& m) {
          return tx.Write(
              "INSERT OR REPLACE INTO listings (scope, full_at, horizon, lookback_s) "
              "VALUES (?, ?, ?, ?)",
              scope, m.full_at, m.horizon, static_cast<std::int64_t>(m.lookback.count()));
        },
        [&](const std::string& scope) {
          return tx.Write("DELETE FROM listings WHERE scope = ?", scope);
        }));
  }
  // notices: a handful, each kept for an hour: rewritten whole when changed.
  if (st.ok() && s.notices != b.notices) {
    ok(tx.Write("DELETE FROM notices"));
    for (const CancelNotice& n : s.notices) {
      if (!ok(tx.Write("INSERT INTO notices (job_id, policy, limit_name, itwin_id, type, name, "
                       "user_id, observed, threshold, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       n.job_id, n.policy, n.limit, n.itwin_id, n.type, n.name, n.user_id,
                       n.observed, n.threshold, n.at))) {
        break;
      }
    }
  }
  if (!st.ok()) return st;
  if (!tx.begun()) return Status::Ok();  // nothing changed: nothing written
  if (Status c = tx.Commit(); !c.ok()) return c;
  last_ = WithoutLedger(s);
  return Status::Ok();
}

}  // namespace rcw
