// Prometheus metrics of rc-watchdog (docs/metrics.md) and their HTTP endpoint.
//
// Every name, type and label here is a user-facing contract that dashboards
// and alert rules depend on: add, never rename. Label values are names from
// the config (policies, budgets), fixed vocabularies (below), job states and
// types, and iTwin ids; never job ids (unbounded cardinality; they go to the
// audit log).
//
// Known series start at zero (constructor and DeclarePolicies) so that
// rate()/increase() alert rules work from the first scrape.
//
// Threading: the daemon's single-threaded main loop calls the methods; the
// exposer serves scrapes on its own threads, which only read prometheus-cpp's
// (thread-safe) metric objects and /proc.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/status.h"

namespace rcw {

// Label vocabularies of §4. Other values are accepted (and exported) as given.
inline constexpr std::array<std::string_view, 4> kViolationLimits = {
    "max_runtime", "max_queued", "max_processing_units", "budget"};
inline constexpr std::array<std::string_view, 6> kCancelOutcomes = {
    "cancelled", "already_finished", "not_found", "not_cancellable", "failed", "dry_run"};
inline constexpr std::array<std::string_view, 4> kBlockReasons = {
    "max_per_cycle", "max_per_hour", "circuit_breaker", "incomplete_data"};
inline constexpr std::array<std::string_view, 4> kApiOperations = {"token", "list_jobs", "get_job",
                                                                   "cancel_job"};

// Jobs seen in the last poll, indexed [JobState][JobType].
using JobCounts = std::array<std::array<std::int64_t, kJobTypeCount>, kJobStateCount>;

class Metrics {
 public:
  // `listen`: "HOST:PORT" for the /metrics endpoint (e.g. "127.0.0.1:9877";
  // port 0 picks a free one, see port()); "" = no HTTP endpoint (tests,
  // one-shot commands). Errors: kInvalidConfig for a malformed address,
  // kUnavailable when it cannot be bound (port busy, address not local).
  // Starts the exposer's threads: block signals before calling it.
  static Result<std::unique_ptr<Metrics>> Create(const std::string& listen);
  // Stops the exposer in milliseconds (see ListenerWaker).
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The bound port; 0 without an HTTP endpoint.
  int port() const;
  // The text exposition of every metric, process metrics included: what a
  // scrape of /metrics returns (minus the exposer's own exposer_* metrics).
  std::string Render() const;

  // Creates the known series at zero: for each policy, violations per limit
  // (max_runtime, max_queued, max_processing_units), cancellations per
  // outcome, confirmed and warnings; for each budget the same with limit
  // "budget" (budgets report under their own name in the `policy` label).
  // Drops the budget_spent/limit series of budgets no longer listed. Counters
  // of removed policies stay until restart (harmless, and a counter must not
  // go backwards while it exists). Call at start and after every reload.
  void DeclarePolicies(const std::vector<std::string>& policies,
                       const std::vector<std::string>& budgets);

  // rc_watchdog_jobs{state,type}: every state x type is set, zeros included.
  void SetJobs(const JobCounts& counts);
  // polls_total{outcome=success|error}, poll_duration_seconds (buckets
  // 0.05 .. 60 s) and, on success, last_successful_poll_timestamp_seconds.
  void PollFinished(bool success, double seconds, TimePoint when);

  // violations_total{policy,limit}; limit is one of kViolationLimits.
  void Violation(std::string_view policy, std::string_view limit);
  // warnings_total{policy}.
  void Warning(std::string_view policy);
  // cancellations_total{policy,outcome}; outcome is one of kCancelOutcomes.
  void CancellationFinished(std::string_view policy, std::string_view outcome);
  // cancellations_confirmed_total{policy}.
  void CancellationConfirmed(std::string_view policy);
  void SetCancellationsPending(std::int64_t n);
  // cancellations_blocked_total{reason}; reason is one of kBlockReasons.
  void CancellationBlocked(std::string_view reason);
  void SetDryRun(bool dry_run);

  // api_requests_total{operation,code} (code = the HTTP status, "error" when
  // http_status is 0: a transport failure) and api_request_duration_seconds
  // {operation} (buckets 0.01 .. 30 s). A 429 also needs ApiRateLimited().
  void ApiRequest(std::string_view operation, long http_status, double seconds);
  // api_rate_limited_total{operation}.
  void ApiRateLimited(std::string_view operation);

  // processing_units_total{itwin,type} += pu (a finished job's PUs, >= 0).
  void ProcessingUnits(std::string_view itwin, std::string_view type, double pu);

  // budget_spent_processing_units{budget,group}. Bracket one full update with
  // Begin/EndBudgetUpdate: EndBudgetUpdate removes the series not set in
  // between, so groups of past windows do not linger. SetBudget outside a
  // bracket only sets.
  void BeginBudgetUpdate();
  void SetBudget(std::string_view budget, std::string_view group, double spent);
  void EndBudgetUpdate();
  // budget_limit_processing_units{budget}.
  void SetBudgetLimit(std::string_view budget, double limit);

  // budget_warn_ratio{budget}: the budget's warn_at; nullopt removes the
  // series (a budget without warn_at never warns).
  void SetBudgetWarnRatio(std::string_view budget, std::optional<double> ratio);
  // notifications_total{outcome=sent|failed|dropped} (all three from the
  // start, at 0) and notifications_queued. Thread-safe: the notifier's thread
  // calls them.
  void Notifications(std::string_view outcome, std::size_t count);
  void SetNotificationsQueued(std::size_t queued);

  // config_last_reload_successful (0/1) and, when ok,
  // config_last_reload_success_timestamp_seconds. Both start at 0: call it
  // with ok = true after the initial load too.
  void ConfigReloaded(bool ok, TimePoint when);
  // clock_skew_seconds: the API's Date header minus the local clock.
  void SetClockSkew(double seconds);
  // listings_total{kind=full|incremental, outcome=complete|incomplete}; all
  // four series exist from the start, at 0. `full`: some scope was listed
  // over the whole lookback.
  void ListingFinished(bool full, bool complete);

 private:
  struct Impl;
  explicit Metrics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rcw
