// `rc-watchdog run`: the service loop (interface.md §6).
#pragma once

#include <string>

namespace rcw {

struct RunOptions {
  std::string config_path;
  bool dry_run = false;  // --dry-run: every policy report-only
  bool once = false;     // --once: one cycle, wait for its DELETEs, exit
};

// Blocks SIGTERM, SIGINT and SIGHUP first (before any thread starts), then
// runs until SIGTERM/SIGINT (exit 0) or, with --once, one cycle. Returns the
// exit code: 0, 1 runtime failure, 78 configuration error.
int RunDaemon(const RunOptions& options);

}  // namespace rcw
