// Job history: one row per ended job, kept in state.db for `rc-watchdog
// backtest` (issue 13). The budget stage collects the rows (budget/history.h)
// and state/ writes them in the cycle's save transaction.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/ledger_entry.h"

namespace rcw {

// Longest job name kept in the history, in bytes. Names are user input of any
// length; a longer one is stored cut to this many bytes (at a UTF-8 character
// boundary), so a backtest matches name regexes on the head of such a name.
inline constexpr std::size_t kHistoryNameMax = 1024;

// `name` as the history stores it: cut to kHistoryNameMax bytes.
inline std::string_view HistoryName(std::string_view name) {
  if (name.size() <= kHistoryNameMax) return name;
  std::size_t n = kHistoryNameMax;
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;
  return name.substr(0, n);
}

// What one save adds to and prunes from the history table.
struct HistoryBatch {
  // Ended jobs without processing units seen for the first time, in the
  // order seen (id, name, type, iTwin, user, created/started/ended, final
  // state). Borrowed: valid until the batch's History changes.
  std::vector<const Job*> rows;
  // The jobs the ledger counted since the last save: a row each, made of
  // the ledger entry ledger[ledger_saved + k] of the same save and counted[k]
  // (Ledger::unsaved_history()). Null: none.
  const std::deque<CountedHistory>* counted = nullptr;
  // When set: delete the rows of jobs that ended before it.
  std::optional<TimePoint> prune_before;

  bool empty() const { return rows.empty() && (!counted || counted->empty()) && !prune_before; }
};

}  // namespace rcw
