// Shared helpers for the budget tests: fixed instants and job/config builders.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "base/job.h"
#include "base/timefmt.h"
#include "config/config.h"

namespace rcw::test {

// An RFC 3339 instant; fails the test when it does not parse.
inline TimePoint At(std::string_view text) {
  Result<TimePoint> t = ParseTimestamp(text);
  REQUIRE(t.ok());
  return *t;
}

inline Regex MakeRegex(const std::string& pattern) {
  Result<Regex> re = Regex::Compile(pattern);
  REQUIRE(re.ok());
  return *re;
}

struct JobSpec {
  std::string id;
  JobState state = JobState::kSuccess;
  JobType type = JobType::kMeshSampling;
  std::string itwin = "itwin-a";
  std::string user = "user-a";
  std::string name;
};

inline Job MakeJob(const JobSpec& s) {
  Job job;
  job.id = s.id;
  job.state = s.state;
  job.type = s.type;
  job.itwin_id = s.itwin;
  job.user_id = s.user;
  job.name = s.name;
  return job;
}

// A Success job that ran `hours` and ended at `ended` with `pu` units.
inline Job EndedJob(JobSpec s, std::string_view ended, double pu, double hours = 1) {
  Job job = MakeJob(s);
  job.ended = At(ended);
  job.started = *job.ended - std::chrono::round<TimePoint::duration>(
                                 std::chrono::duration<double, std::ratio<3600>>(hours));
  job.created = *job.started;
  job.processing_units = pu;
  return job;
}

// An Active job started at `started` (Queued when `started` is empty).
inline Job RunningJob(JobSpec s, std::string_view started) {
  s.state = started.empty() ? JobState::kQueued : JobState::kActive;
  Job job = MakeJob(s);
  if (!started.empty()) job.started = At(started);
  return job;
}

inline BudgetConfig MakeBudget(GroupBy group_by, double limit,
                               BudgetWindow window = BudgetWindow::kDaily,
                               std::string timezone = "UTC") {
  BudgetConfig b;
  b.name = "budget";
  b.group_by = group_by;
  b.window = window;
  b.timezone = std::move(timezone);
  b.limit = limit;
  return b;
}

}  // namespace rcw::test
