// `rc-watchdog plan`: what the watchdog would do now, without doing it.
#pragma once

#include <string>
#include <vector>

#include "base/job.h"
#include "cli/plan_economy.h"
#include "config/config.h"
#include "service/assess.h"
#include "service/poller.h"

namespace rcw {

enum class PlanFormat { kTable, kJson };

// Renders the verdict of every policy and budget for every non-terminal job,
// and, for a plan that polled the API (`listing` not null), which kind of
// listing ran: "listing: full|incremental, jobs created after TIME" (one line
// per scope when several were listed differently) and JSON "listing"; with
// `economy`, what the poll cost in requests (EconomyLines, JSON "requests").
// Pure: the same inputs give the same text (plan tests rely on it).
std::string RenderPlan(const Config& config, const std::vector<Job>& jobs,
                       const PersistentState& state, const Assessment& a, TimePoint now,
                       PlanFormat format, const Listing* listing = nullptr,
                       const RequestEconomy* economy = nullptr);

int RunPlan(const std::vector<std::string>& args);

}  // namespace rcw
