// Job: the compact, plain value a Reality Conversion v2 job is decoded into.
// No JSON survives decoding; unknown states and types are kept as kUnknown
// (with their text) so one odd job never fails a page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/compact_string.h"
#include "base/rare_string.h"

namespace rcw {

enum class JobState : std::uint8_t {
  kQueued,
  kActive,
  kTerminatingOnCancel,
  kTerminatingOnFailure,
  kCancelled,
  kFailed,
  kSuccess,
  kUnknown,
};
inline constexpr int kJobStateCount = 8;

enum class JobType : std::uint8_t {
  kPointCloudConversion,
  kPointCloudOptimization,
  kTileMapOptimization,
  kVectorOptimization,
  kMeshSampling,
  kContextSceneTiler,
  kUnknown,
};
inline constexpr int kJobTypeCount = 7;

// The API's spelling ("Queued", "PointCloudConversion"); "Unknown" for kUnknown.
std::string_view ToString(JobState state);
std::string_view ToString(JobType type);
// Exact, case-sensitive match of the API's spelling; kUnknown otherwise.
JobState ParseJobState(std::string_view text);
JobType ParseJobType(std::string_view text);

// Cancelled, Failed, Success: nothing will change any more.
inline bool IsTerminal(JobState s) {
  return s == JobState::kCancelled || s == JobState::kFailed || s == JobState::kSuccess;
}
// Queued or Active: what the watchdog polices.
inline bool IsRunning(JobState s) { return s == JobState::kQueued || s == JobState::kActive; }

// 288 bytes and no heap allocation for a job whose ids and name fit
// CompactString::kInline (GUIDs do): 100,000 jobs take under 30 MB.
struct Job {
  CompactString id;
  CompactString name;     // empty when the API sent null or nothing
  CompactString user_id;
  CompactString itwin_id;
  RareString raw_type;   // only set when type == kUnknown: the API's text
  RareString raw_state;  // only set when state == kUnknown
  JobType type = JobType::kUnknown;
  JobState state = JobState::kUnknown;
  TimePoint created{};                       // executionInfo.createdDateTime
  std::optional<TimePoint> started;          // executionInfo.startedDateTime
  std::optional<TimePoint> ended;            // executionInfo.endedDateTime
  std::optional<double> processing_units;    // executionInfo.processingUnits

  // The state's text as the API sent it (raw_state for unknown ones).
  std::string_view StateText() const {
    return state == JobState::kUnknown && !raw_state.empty() ? std::string_view(raw_state)
                                                             : ToString(state);
  }
  std::string_view TypeText() const {
    return type == JobType::kUnknown && !raw_type.empty() ? std::string_view(raw_type)
                                                          : ToString(type);
  }
};

}  // namespace rcw
