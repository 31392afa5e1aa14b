#include "base/job.h"

#include <catch2/catch.hpp>

using namespace rcw;

TEST_CASE("job states and types round-trip through the API's spelling") {
  for (int i = 0; i + 1 < kJobStateCount; ++i) {
    auto s = static_cast<JobState>(i);
    CHECK(ParseJobState(ToString(s)) == s);
  }
  for (int i = 0; i + 1 < kJobTypeCount; ++i) {
    auto t = static_cast<JobType>(i);
    CHECK(ParseJobType(ToString(t)) == t);
  }
  CHECK(ParseJobState("active") == JobState::kUnknown);
  CHECK(ParseJobState("Paused") == JobState::kUnknown);
  CHECK(ParseJobType("Conversion") == JobType::kUnknown);
}

TEST_CASE("terminal and running states") {
  CHECK(IsTerminal(JobState::kCancelled));
  CHECK(IsTerminal(JobState::kSuccess));
  CHECK(IsTerminal(JobState::kFailed));
  CHECK_FALSE(IsTerminal(JobState::kTerminatingOnCancel));
  CHECK_FALSE(IsTerminal(JobState::kUnknown));
  CHECK(IsRunning(JobState::kQueued));
  CHECK(IsRunning(JobState::kActive));
  CHECK_FALSE(IsRunning(JobState::kTerminatingOnFailure));
}

TEST_CASE("unknown states keep the API's text") {
  Job j;
  j.state = ParseJobState("Paused");
  j.raw_state = "Paused";
  CHECK(j.StateText() == "Paused");
  j.state = JobState::kActive;
  CHECK(j.StateText() == "Active");
}
