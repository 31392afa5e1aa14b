// Loading the YAML configuration (docs/configuration.md) into a validated Config.
//
// Every problem of a file is reported, not just the first, each as
// "FILE:LINE:COL: path.to.key: what is wrong; what is accepted" with 1-based
// positions of the offending node and FILE as the caller spelled it. Nothing
// here throws; yaml-cpp stays inside the module.
//
// Relative paths in the file (auth.client_secret_file, api.ca_file) are
// resolved against the directory of the config file (for LoadConfigText: the
// directory part of display_name, else the working directory).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace rcw {

struct ConfigError {
  std::string file;     // as given by the caller
  int line = 0;         // 1-based; 0 when the error concerns the whole file
  int column = 0;       // 1-based; 0 when unknown
  std::string path;     // "policies[2].limits.max_runtime"; empty for the document
  std::string message;  // "what is wrong; what is accepted"

  // "config.yaml:14:7: policies[2].limits.max_runtime: \"2 hours\" is not a
  // duration (use 90s, 30m, 2h, 1d)". Positions and path are left out when
  // unknown ("config.yaml: cannot read the config file: No such file or
  // directory").
  std::string ToString() const;
};

struct LoadOptions {
  // false for offline use (`plan --jobs`): the client secret is not looked
  // up (nor client_secret_file checked), auth.client_secret stays empty and
  // secret_source is "not read: offline". Everything else is validated.
  bool resolve_secrets = true;
  // Environment lookup (CREDENTIALS_DIRECTORY, RC_WATCHDOG_CLIENT_SECRET,
  // TZDIR). Tests inject one; empty means std::getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

struct LoadResult {
  std::optional<Config> config;     // set iff errors is empty
  std::vector<ConfigError> errors;  // sorted by position

  bool ok() const { return config.has_value() && errors.empty(); }
};

// Reads and validates the file at `path`. An unreadable file is one error
// with line 0.
LoadResult LoadConfigFile(const std::string& path, const LoadOptions& options = {});

// Validates `yaml`; errors and Config::path carry `display_name`.
LoadResult LoadConfigText(std::string_view yaml, const std::string& display_name,
                          const LoadOptions& options = {});

// check-config output: a header line (api, auth, watch, enforcement, estimates)
// then one line per policy and one per budget. Never contains the secret,
// only where it came from.
std::vector<std::string> DescribeConfig(const Config& config);

}  // namespace rcw
