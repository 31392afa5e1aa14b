// The schema readers shared by loader.cpp (service sections) and rules.cpp
// (policies, budgets, estimates). Internal to config/.
#pragma once

#include <array>
#include <string_view>

#include "config/config.h"
#include "config/section.h"

namespace rcw {

// The six v2 job types, in JobType order (exact API spelling).
inline constexpr std::array<std::string_view, 6> kJobTypeNames = {
    "PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
    "VectorOptimization",   "MeshSampling",           "ContextSceneTiler"};

// Each reads its key of the root mapping into `config`, reporting to root.diag().
void ReadPolicies(const Section& root, Config& config);
void ReadBudgets(const Section& root, Config& config, const std::string& tzdir);
void ReadEstimates(const Section& root, Config& config);
void ReadNotify(const Section& root, Config& config);
// The `match` mapping of `parent` (policies, budgets, notify.owners).
void ReadMatch(const Section& parent, MatchSpec& m);
// Policy and budget names share one namespace (both label metrics).
void CheckUniqueNames(const Section& root);

}  // namespace rcw
