// The subcommands, each taking the arguments after its name.
#pragma once

#include <string>
#include <vector>

#include "config/loader.h"

namespace rcw {

int RunBacktest(const std::vector<std::string>& args);
int RunCancel(const std::vector<std::string>& args);
int RunPlan(const std::vector<std::string>& args);
void PrintConfigErrors(const std::vector<ConfigError>& errors);

}  // namespace rcw
