// Job history: one row per ended job, kept in state.db for `rc-watchdog
// backtest` (issue 13). The budget stage collects the rows (budget/history.h)
// and state/ writes them in the cycle's save transaction.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/job.h"

namespace rcw {

// Longest job name kept in the history, in bytes. Names are user input of any
// length; a longer one is stored cut to this many bytes (at a UTF-8 character
// boundary), so a backtest matches name regexes on the head of such a name.
inline constexpr std::size_t kHistoryNameMax = 1024;

// What one save adds to and prunes from the history table.
struct HistoryBatch {
  // Ended jobs seen for the first time, in the order seen: id, name, type,
  // iTwin, user, created/started/ended, final state, processing units.
  std::vector<Job> rows;
  // When set: delete the rows of jobs that ended before it.
  std::optional<TimePoint> prune_before;

  bool empty() const { return rows.empty() && !prune_before; }
};

}  // namespace rcw
