// `rc-watchdog backtest`: what the policies and budgets of a config would
// have done over the job history (or exported listings), had they been in
// force (issue 13, interface.md §1). Reads state.db read-only; never sends a
// request, never takes the daemon's lock, never writes.
#pragma once

#include <string>
#include <vector>

#include "backtest/replay.h"
#include "base/job.h"
#include "config/config.h"

namespace rcw {

enum class BacktestFormat { kTable, kJson };

// What the report says about the period the history covers.
struct Coverage {
  std::optional<TimePoint> oldest;  // oldest ended job in the history; nullopt: none
  bool history = true;              // the history was read (false: --jobs only)
};

// The report as text or JSON (interface.md §1's shape, with additions).
// Pure: the same inputs give the same text.
std::string RenderBacktest(const Config& config, const std::vector<Job>& jobs,
                           const BacktestReport& report, const Coverage& coverage,
                           BacktestFormat format, bool with_safety_limits);
// One job's timeline under the replay; empty when `job_id` is not among `jobs`.
std::string RenderExplain(const Config& config, const std::vector<Job>& jobs,
                          const BacktestReport& report, std::string_view job_id);

int RunBacktest(const std::vector<std::string>& args);

}  // namespace rcw
