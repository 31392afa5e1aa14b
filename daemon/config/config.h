// Config: the validated, immutable configuration (docs/configuration.md). Loaded by
// LoadConfigFile (loader.h); every default is documented where the key is
// parsed (loader.cpp, rules.cpp). Holds the client secret: never log or print
// a Config whole.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/log.h"
#include "config/regex.h"

namespace rcw {

// Which jobs a policy or budget applies to. Every list is "any of"; an empty
// list or absent regex matches everything; all given keys must match.
struct MatchSpec {
  std::vector<JobType> types;
  std::vector<std::string> itwins;
  std::vector<std::string> users;
  std::optional<Regex> name_regex;
};

// A job matching any of these is never cancelled by the policy.
struct ExemptSpec {
  std::optional<Regex> name_regex;
  std::vector<std::string> ids;
};

struct Limits {
  std::optional<Seconds> max_runtime;             // time Active
  std::optional<Seconds> max_queued;              // time Queued
  std::optional<double> max_processing_units;     // reported, else estimated
};

enum class PolicyAction { kCancel, kReport };

struct PolicyConfig {
  std::string name;
  MatchSpec match;
  ExemptSpec exempt;
  Limits limits;                      // at least one set
  Seconds grace{0};
  std::optional<double> warn_at;      // in (0, 1)
  PolicyAction action = PolicyAction::kCancel;
};

enum class GroupBy { kItwin, kUser, kType, kAll };
enum class BudgetWindow { kDaily, kWeekly, kMonthly };
enum class BudgetAction { kCancelQueued, kCancelAll, kReport };

struct BudgetConfig {
  std::string name;
  GroupBy group_by = GroupBy::kItwin;
  MatchSpec match;
  BudgetWindow window = BudgetWindow::kDaily;
  std::string timezone = "UTC";       // IANA name, validated at load
  double limit = 0;                   // > 0, processing units per window per group
  std::optional<double> warn_at;      // in (0, 1)
  BudgetAction action = BudgetAction::kCancelQueued;
  bool count_running = true;
};

struct ApiConfig {
  std::string base_url;               // v2, no trailing slash
  Seconds timeout{30};
  std::optional<std::string> ca_file;
  int max_requests_per_minute = 250;
  int max_requests_per_hour = 4500;   // extension: tiers above the smallest allow more
};

struct AuthConfig {
  std::string token_url;
  std::string client_id;
  std::string client_secret;          // SECRET: resolved at load, never logged
  std::string secret_source;          // where it came from, for check-config
  std::string scope = "itwin-platform";
};

struct WatchConfig {
  std::vector<std::string> itwins;    // empty: the client's own jobs
  Seconds poll_interval{30};
  int page_size = 1000;               // 1..1000
  Seconds lookback{7 * 86400};
  // A full-lookback listing at least this often; the polls between list only
  // the jobs created after the oldest one that can still change (issue 11).
  Seconds full_listing_interval{3600};
  bool operator==(const WatchConfig&) const = default;
};

struct RetryConfig {
  Millis initial{1000};
  Millis max{300000};
  int max_attempts = 8;
};

struct EnforcementConfig {
  bool dry_run = false;
  int max_cancels_per_cycle = 10;
  int max_cancels_per_hour = 100;
  double max_cancel_fraction = 0.5;
  int circuit_breaker_min_jobs = 3;   // the breaker trips only from this many would-cancel jobs
  RetryConfig retry;
};

// A label added to alerts: name [a-zA-Z_][a-zA-Z0-9_]*, value any text.
using AlertLabels = std::vector<std::pair<std::string, std::string>>;

// notify.owners[]: labels added to the alerts of the jobs `match` matches.
struct OwnerRoute {
  MatchSpec match;
  AlertLabels labels;
};

// notify: per-job alerts pushed to Prometheus Alertmanager (docs/alerts.md).
struct NotifyConfig {
  std::vector<std::string> urls;      // Alertmanager base URLs, no trailing slash
  Seconds timeout{10};                // per request
  Seconds resend_interval{60};        // firing alerts are re-sent this often
  AlertLabels external_labels;        // added to every alert
  std::vector<OwnerRoute> owners;     // every matching entry's labels are added
};

struct Config {
  std::string path;                   // the file it was loaded from
  ApiConfig api;
  AuthConfig auth;
  WatchConfig watch;
  EnforcementConfig enforcement;
  std::string metrics_listen = "127.0.0.1:9877";
  std::string state_directory = "/var/lib/rc-watchdog";
  Seconds history_retention{35 * 86400};  // state.history_retention: ended jobs kept for backtest
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  std::vector<PolicyConfig> policies;
  std::vector<BudgetConfig> budgets;
  std::optional<NotifyConfig> notify;  // absent: no alerts are sent
  bool learn_estimates = true;
  // Fixed PU-per-hour rates by JobType index; a fixed rate wins over a learned one.
  std::array<std::optional<double>, kJobTypeCount> pu_per_hour{};
};

}  // namespace rcw
