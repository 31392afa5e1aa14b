// Deterministic inputs for the micro benchmarks: list pages shaped exactly
// like the Reality Conversion v2 API's (and the simulator's: compact JSON,
// keys in the API's order, timestamps alternating "2026-04-05T14:04:56Z" and
// "2026-04-01T09:56:14.0000000+00:00"), and configs loaded through the real
// YAML loader. Everything derives from a fixed seed: two runs build the same
// bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "config/config.h"

namespace rcw::bench {

// "Now" of every benchmark: 2026-04-05T14:04:56Z.
TimePoint BenchNow();

struct CorpusOptions {
  std::size_t jobs = 1000;
  std::size_t page_size = 1000;      // jobs per list page (the API's maximum)
  int itwins = 10;                   // distinct iTwinId values
  int users = 50;                    // distinct userId values
  double running_fraction = 0.1;     // Queued + Active share; the rest ended
  double lookback_days = 7;          // createdDateTime spread (watch.lookback)
  std::uint64_t seed = 20260405;
};

// The deterministic GUIDs used for iTwinId / userId number `n`.
std::string ItwinId(int n);
std::string UserId(int n);

// List-page bodies, newest job first, each with a `_links.next.href` except
// the last. Every string has capacity >= size + kJsonPadding, so
// PaddedJson::Borrow() uses it without a copy, as with CurlHttpClient.
std::vector<std::string> MakeListPages(const CorpusOptions& options);
std::size_t TotalBytes(const std::vector<std::string>& pages);

// Decodes `pages` with DecodeJobPage into a vector, as the poller does.
// Aborts with a message on stderr if a page does not decode.
std::vector<Job> DecodeAll(const std::vector<std::string>& pages);

struct ConfigOptions {
  int policies = 8;        // cycles through 8 realistic policy templates
  bool regexes = true;     // false: templates without name_regex (match or exempt)
  bool budgets = true;     // 4 budgets: itwin daily, user weekly (Berlin), type monthly, all
  // Multiplies the budget limits. The defaults suit a 10,000-job listing
  // (no group over budget); scale with the fleet to keep it so.
  double budget_scale = 1.0;
  int itwins = 10;         // iTwins named in match specs come from ItwinId(0..)
  int users = 50;
};

// YAML text of the config (also useful to show in reports).
std::string ConfigYaml(const ConfigOptions& options);
// Loads ConfigYaml() with the real loader (offline: no secret). Aborts on error.
Config MakeConfig(const ConfigOptions& options);

}  // namespace rcw::bench
