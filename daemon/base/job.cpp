#include "base/job.h"

#include <array>

namespace rcw {
namespace {

constexpr std::array<std::string_view, kJobStateCount> kStateNames = {
    "Queued",    "Active", "TerminatingOnCancel", "TerminatingOnFailure",
    "Cancelled", "Failed", "Success",             "Unknown"};
constexpr std::array<std::string_view, kJobTypeCount> kTypeNames = {
    "PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
    "VectorOptimization",   "MeshSampling",           "ContextSceneTiler",
    "Unknown"};

}  // namespace

std::string_view ToString(JobState state) { return kStateNames[static_cast<int>(state)]; }
std::string_view ToString(JobType type) { return kTypeNames[static_cast<int>(type)]; }

JobState ParseJobState(std::string_view text) {
  for (int i = 0; i + 1 < kJobStateCount; ++i) {
    if (kStateNames[i] == text) return static_cast<JobState>(i);
  }
  return JobState::kUnknown;
}

JobType ParseJobType(std::string_view text) {
  for (int i = 0; i + 1 < kJobTypeCount; ++i) {
    if (kTypeNames[i] == text) return static_cast<JobType>(i);
  }
  return JobType::kUnknown;
}

}  // namespace rcw
