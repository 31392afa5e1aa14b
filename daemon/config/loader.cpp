// The schema of the service sections (api, auth, watch, enforcement, metrics,
// state, log) and the entry points. Policies, budgets and estimates are read
// in rules.cpp. Every key's default is stated where it is read; the values
// themselves are the member initializers of config.h.
#include "config/loader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "base/timefmt.h"
#include "config/checks.h"
#include "config/schema.h"
#include "config/secrets.h"
#include "config/section.h"
#include "config/yaml_reader.h"

namespace rcw {
namespace {

struct LoadContext {
  EnvLookup getenv;
  std::string base_dir;  // relative paths in the file are resolved against it
  bool resolve_secrets = true;
};

constexpr std::string_view kRootKeys[] = {"api",     "auth",    "watch",     "enforcement",
                                          "metrics", "state",   "log",       "policies",
                                          "budgets", "estimates", "notify"};
// Keys written one level too high.
// clang-format off
constexpr KeyHint kRootHints[] = {
    {"base_url", "api"}, {"timeout", "api"}, {"ca_file", "api"}, {"max_requests_per_minute", "api"},
    {"max_requests_per_hour", "api"},
    {"token_url", "auth"}, {"client_id", "auth"}, {"client_secret_file", "auth"}, {"scope", "auth"},
    {"itwins", "watch"}, {"poll_interval", "watch"}, {"page_size", "watch"}, {"lookback", "watch"},
    {"full_listing_interval", "watch"},
    {"dry_run", "enforcement"}, {"max_cancels_per_cycle", "enforcement"},
    {"max_cancels_per_hour", "enforcement"}, {"max_cancel_fraction", "enforcement"},
    {"circuit_breaker_min_jobs", "enforcement"},
    {"retry", "enforcement"}, {"listen", "metrics"}, {"directory", "state"}, {"history_retention", "state"}, {"level", "log"},
    {"format", "log"}, {"learn", "estimates"}, {"pu_per_hour", "estimates"},
    {"alertmanager", "notify"}, {"owners", "notify"}, {"external_labels", "notify"}};
// clang-format on
constexpr std::string_view kApiKeys[] = {"base_url", "timeout", "ca_file",
                                         "max_requests_per_minute", "max_requests_per_hour"};
constexpr std::string_view kAuthKeys[] = {"token_url", "client_id", "client_secret_file", "scope",
                                          "client_secret"};
constexpr std::string_view kWatchKeys[] = {"itwins", "poll_interval", "page_size", "lookback",
                                           "full_listing_interval"};
constexpr std::string_view kEnforcementKeys[] = {"dry_run",
                                                 "max_cancels_per_cycle",
                                                 "max_cancels_per_hour",
                                                 "max_cancel_fraction",
                                                 "circuit_breaker_min_jobs",
                                                 "retry"};
constexpr std::string_view kRetryKeys[] = {"initial", "max", "max_attempts"};
constexpr std::string_view kMetricsKeys[] = {"listen"};
constexpr std::string_view kStateKeys[] = {"directory", "history_retention"};
constexpr std::string_view kLogKeys[] = {"level", "format"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kLogFormats[] = {"text", "json"};
constexpr int kIntMax = std::numeric_limits<int>::max();

// Reads a string that `check` validates (and may normalize); stores it in `out`.
template <class Check>
bool CheckedString(Section& s, std::string_view key, bool required, Check check, std::string& out) {
  const YamlNode* n = required ? s.Require(key) : s.Get(key);
  if (n == nullptr) return false;
  std::optional<std::string> value = ReadString(*n, s.Path(key), s.diag());
  if (!value) return false;
  if (std::string error = check(*value); !error.empty()) {
    s.diag().Error(n->mark, s.Path(key), error);
    return false;
  }
  out = std::move(*value);
  return true;
}

std::string NoCheck(const std::string&) { return ""; }

void ReadApi(Section& root, const LoadContext& ctx, ApiConfig& api) {
  if (!root.Require("api", "a mapping with base_url")) return;
  Section s = SubSection(root, "api", kApiKeys);
  // base_url: required; the v2 API root, https (http only for a loopback
  // host); trailing slashes are stripped.
  CheckedString(
      s, "base_url", true, [](std::string& url) { return CheckBaseUrl(url); }, api.base_url);
  // timeout: per request, > 0; default 30s.
  s.Duration("timeout", api.timeout, DurationRange::kPositive);
  // ca_file: an extra CA bundle, relative to the config file; default none.
  std::string ca_file;
  auto readable = [&](std::string& path) {
    path = ResolvePath(ctx.base_dir, path);
    return CheckReadableFile(path);
  };
  if (CheckedString(s, "ca_file", false, readable, ca_file)) api.ca_file = ca_file;
  // max_requests_per_minute: 1..5000; default 250.
  s.Int("max_requests_per_minute", api.max_requests_per_minute, 1, 5000);
  // max_requests_per_hour: 1..300000; default 4500, under the smallest tier's
  // 5000/hour. A documented extension (docs/configuration.md) for larger tiers.
  s.Int("max_requests_per_hour", api.max_requests_per_hour, 1, 300000);
}

void ReadSecret(Section& s, const LoadContext& ctx, AuthConfig& auth) {
  if (const YamlNode* inline_secret = s.Get("client_secret")) {
    s.diag().Error(inline_secret->key_mark, s.Path("client_secret"),
                   "inline secrets are refused; use client_secret_file, a systemd credential "
                   "or RC_WATCHDOG_CLIENT_SECRET");
    return;
  }
  SecretSpec spec;
  spec.auth_mark = s.mark();
  // client_secret_file: relative to the config file; default: look further (secrets.h).
  if (const YamlNode* n = s.Get("client_secret_file")) {
    std::optional<std::string> file = ReadString(*n, s.Path("client_secret_file"), s.diag());
    if (!file) return;
    spec.file = ResolvePath(ctx.base_dir, *file);
    spec.file_mark = n->mark;
  }
  if (!ctx.resolve_secrets) {
    auth.secret_source = "not read: offline";
    return;
  }
  ResolveClientSecret(spec, ctx.getenv, auth, s.diag());
}

void ReadAuth(Section& root, const LoadContext& ctx, AuthConfig& auth) {
  const YamlNode* node = root.Require("auth", "a mapping with token_url and client_id");
  if (node == nullptr) return;
  Section s = SubSection(root, "auth", kAuthKeys);
  // token_url: required; https (http only for a loopback host). client_id: required.
  CheckedString(s, "token_url", true, CheckTokenUrl, auth.token_url);
  CheckedString(s, "client_id", true, NoCheck, auth.client_id);
  // scope: default itwin-platform.
  s.String("scope", auth.scope);
  if (node->IsMapping()) ReadSecret(s, ctx, auth);
}

void ReadWatch(Section& root, WatchConfig& watch) {
  Section s = SubSection(root, "watch", kWatchKeys);
  // itwins: iTwin GUIDs, each once in any case (one listed twice would have
  // its jobs counted twice); default empty: the jobs the client itself created.
  if (const YamlNode* n = s.Get("itwins")) {
    auto ids = ReadGuidList(*n, s.Path("itwins"), s.diag(), true);
    if (ids && CheckUniqueGuids(*n, s.Path("itwins"), *ids, s.diag())) watch.itwins = *ids;
  }
  // poll_interval: > 0; default 30s.
  bool poll = s.Duration("poll_interval", watch.poll_interval, DurationRange::kPositive);
  // page_size: $top, 1..1000; default 1000.
  s.Int("page_size", watch.page_size, 1, 1000);
  // lookback: > 0 and >= poll_interval; default 7d. Jobs older than that which
  // are still running are followed with GET, so a short window loses nothing.
  bool lookback = s.Duration("lookback", watch.lookback, DurationRange::kPositive);
  if ((poll || lookback) && watch.lookback < watch.poll_interval) {
    const YamlNode* n = s.Get(lookback ? "lookback" : "poll_interval");
    s.diag().Error(n->mark, s.Path(lookback ? "lookback" : "poll_interval"),
                   "lookback " + FormatDuration(watch.lookback) +
                       " is shorter than poll_interval " + FormatDuration(watch.poll_interval) +
                       " (use lookback >= poll_interval)");
  }
  // full_listing_interval: > 0; default 1h. Polls between full-lookback
  // listings list only what can have changed; at or below poll_interval
  // every listing is full.
  s.Duration("full_listing_interval", watch.full_listing_interval, DurationRange::kPositive);
}

void ReadRetry(Section& parent, RetryConfig& retry) {
  Section s = SubSection(parent, "retry", kRetryKeys);
  Seconds initial = std::chrono::duration_cast<Seconds>(retry.initial);
  Seconds max = std::chrono::duration_cast<Seconds>(retry.max);
  // initial: first backoff, > 0; default 1s. max: backoff ceiling, >= initial; default 5m.
  bool has_initial = s.Duration("initial", initial, DurationRange::kPositive);
  bool has_max = s.Duration("max", max, DurationRange::kPositive);
  if (has_initial) retry.initial = initial;
  if (has_max) retry.max = max;
  if ((has_initial || has_max) && retry.max < retry.initial) {
    const char* key = has_max ? "max" : "initial";
    s.diag().Error(s.Get(key)->mark, s.Path(key),
                   "retry.max " + FormatDuration(max) + " is less than retry.initial " +
                       FormatDuration(initial) + " (use max >= initial)");
  }
  // max_attempts: >= 1; default 8.
  s.Int("max_attempts", retry.max_attempts, 1, kIntMax);
}

void ReadEnforcement(Section& root, EnforcementConfig& e) {
  Section s = SubSection(root, "enforcement", kEnforcementKeys);
  // dry_run: report-only for every policy; default false.
  s.Bool("dry_run", e.dry_run);
  // max_cancels_per_cycle: >= 1; default 10. max_cancels_per_hour: >= 1; default 100.
  s.Int("max_cancels_per_cycle", e.max_cancels_per_cycle, 1, kIntMax);
  s.Int("max_cancels_per_hour", e.max_cancels_per_hour, 1, kIntMax);
  // max_cancel_fraction: circuit breaker, in (0, 1]; default 0.5.
  s.Number("max_cancel_fraction", e.max_cancel_fraction, NumberRange::kFraction);
  // circuit_breaker_min_jobs: >= 1; default 3. The breaker trips only when a
  // cycle would cancel at least this many jobs AND more than
  // max_cancel_fraction of the watched Queued+Active jobs: a lone runaway
  // (1 of 1, 2 of 3) is a runaway, not a bad policy or a bad clock.
  s.Int("circuit_breaker_min_jobs", e.circuit_breaker_min_jobs, 1, kIntMax);
  ReadRetry(s, e.retry);
}

void ReadOutputs(Section& root, Config& config) {
  // metrics.listen: host:port; default 127.0.0.1:9877.
  Section metrics = SubSection(root, "metrics", kMetricsKeys);
  CheckedString(metrics, "listen", false, CheckListen, config.metrics_listen);
  // state.directory: used as given (not resolved against the config file's
  // directory: state does not belong next to /etc); default /var/lib/rc-watchdog.
  Section state = SubSection(root, "state", kStateKeys);
  state.String("directory", config.state_directory);
  // state.history_retention: > 0; default 35d. Ended jobs kept in state.db
  // for `backtest` (pruned daily).
  state.Duration("history_retention", config.history_retention, DurationRange::kPositive);
  // log.level: trace..error; default info. log.format: text or json; default text.
  Section log = SubSection(root, "log", kLogKeys);
  if (auto level = log.Choice("level", kLogLevels))
    config.log_level = static_cast<LogLevel>(*level);
  if (auto format = log.Choice("format", kLogFormats)) {
    config.log_format = static_cast<LogFormat>(*format);
  }
}

// A config that would enforce nothing is a mistake, not a quiet daemon.
void CheckSomethingToEnforce(const Section& root, const Config& config) {
  if (!config.policies.empty() || !config.budgets.empty()) return;
  const YamlNode* policies = root.Get("policies");
  const YamlNode* budgets = root.Get("budgets");
  auto invalid = [](const YamlNode* n) { return n && !n->IsSequence() && !n->IsNull(); };
  if (invalid(policies) || invalid(budgets)) return;  // already reported
  auto count = [](const YamlNode* n) { return n ? n->children.size() : 0; };
  if (count(policies) + count(budgets) > 0) return;  // items were reported
  YamlMark mark = policies ? policies->key_mark : budgets ? budgets->key_mark : root.mark();
  root.diag().Error(mark, "policies",
                    "no policies and no budgets: the config would enforce nothing "
                    "(define at least one policy or budget)");
}

void ReadDocument(const YamlNode& doc, const LoadContext& ctx, Config& config, Diagnostics& diag) {
  if (doc.IsNull()) {
    diag.Error(doc.mark, "", "the file is empty (use a mapping with api:, auth: and policies:)");
    return;
  }
  if (!doc.IsMapping()) {
    diag.Error(
        doc.mark, "",
        "expected a mapping (api:, auth:, policies: ...) at the top, found " + DescribeNode(doc));
    return;
  }
  Section root(&doc, "", diag, doc.mark, kRootKeys, kRootHints);
  ReadApi(root, ctx, config.api);
  ReadAuth(root, ctx, config.auth);
  ReadWatch(root, config.watch);
  ReadEnforcement(root, config.enforcement);
  ReadOutputs(root, config);
  std::optional<std::string> tzdir = ctx.getenv("TZDIR");
  ReadPolicies(root, config);
  ReadBudgets(root, config, tzdir && !tzdir->empty() ? *tzdir : "/usr/share/zoneinfo");
  ReadEstimates(root, config);
  ReadNotify(root, config);
  CheckUniqueNames(root);
  CheckSomethingToEnforce(root, config);
}

std::optional<std::string> SystemGetenv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

LoadResult Load(std::string_view yaml, const std::string& display_name, const std::string& base_dir,
                const LoadOptions& options) {
  LoadContext ctx{options.getenv ? options.getenv : EnvLookup(SystemGetenv), base_dir,
                  options.resolve_secrets};
  Diagnostics diag(display_name);
  Config config;
  config.path = display_name;
  if (std::optional<YamlNode> doc = ParseYaml(yaml, diag)) ReadDocument(*doc, ctx, config, diag);
  LoadResult result;
  result.errors = diag.TakeSorted();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

}  // namespace

LoadResult LoadConfigText(std::string_view yaml, const std::string& display_name,
                          const LoadOptions& options) {
  return Load(yaml, display_name, std::filesystem::path(display_name).parent_path().string(),
              options);
}

LoadResult LoadConfigFile(const std::string& path, const LoadOptions& options) {
  std::string problem;
  std::error_code ec;
  std::ifstream in;
  if (std::filesystem::is_directory(path, ec)) {
    problem = "it is a directory";
  } else {
    errno = 0;
    in.open(path, std::ios::binary);
    if (!in) problem = errno != 0 ? std::strerror(errno) : "cannot open it";
  }
  if (!problem.empty()) {
    Diagnostics diag(path);
    diag.FileError("cannot read the config file: " + problem);
    return LoadResult{std::nullopt, diag.TakeSorted()};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadConfigText(text.str(), path, options);
}

}  // namespace rcw
