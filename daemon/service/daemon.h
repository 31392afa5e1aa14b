// `rc-watchdog run`: the service loop (README "Running as a service", rc-watchdog(8)).
#pragma once

#include <string>

#include "base/clock.h"

namespace rcw {

struct RunOptions {
  std::string config_path;
  bool dry_run = false;  // --dry-run: every policy report-only
  bool once = false;     // --once: one cycle, finished (see RunDaemon)
  Seconds max_wait{300};  // --max-wait: how long --once may take to finish, default 5m
};

// Blocks SIGTERM, SIGINT and SIGHUP first (before any thread starts), then
// runs until SIGTERM/SIGINT (exit 0) or, with --once, one cycle finished:
// it re-polls when a retry would otherwise go out on data older than one
// poll interval (at most once a poll interval), until every cancellation has
// a final outcome (a DELETE accepted counts) or max_wait has passed. Returns
// the exit code: 0, 1 runtime failure, 75 (--once) work left or the listing
// incomplete, 78 configuration error.
int RunDaemon(const RunOptions& options);

}  // namespace rcw
