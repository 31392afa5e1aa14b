// Names and help texts of rc-watchdog's own metrics: docs/metrics.md in one
// place. Users' dashboards and alert rules depend on these names and on the
// labels noted here: add, never rename.
#pragma once

namespace rcw {

struct MetricInfo {
  const char* name;
  const char* help;
};

// gauge = 1 {version, revision}
inline constexpr MetricInfo kBuildInfoMetric = {"rc_watchdog_build_info",
                                                "rc-watchdog version and git revision; always 1."};
// gauge {state, type}
inline constexpr MetricInfo kJobsMetric = {"rc_watchdog_jobs", "Jobs seen in the last poll."};
// counter {outcome}
inline constexpr MetricInfo kPollsMetric = {"rc_watchdog_polls_total", "Poll cycles by outcome."};
// histogram
inline constexpr MetricInfo kPollDurationMetric = {"rc_watchdog_poll_duration_seconds",
                                                   "Duration of a poll of the job list."};
// gauge
inline constexpr MetricInfo kLastPollMetric = {"rc_watchdog_last_successful_poll_timestamp_seconds",
                                               "Unix time of the last successful poll."};
// counter {policy, limit}
inline constexpr MetricInfo kViolationsMetric = {"rc_watchdog_violations_total",
                                                 "Jobs found over a limit."};
// counter {policy, outcome}
inline constexpr MetricInfo kCancellationsMetric = {"rc_watchdog_cancellations_total",
                                                    "Finished cancellation attempts by outcome."};
// counter {policy}
inline constexpr MetricInfo kConfirmedMetric = {
    "rc_watchdog_cancellations_confirmed_total",
    "Cancelled jobs seen in state Cancelled afterwards."};
// gauge
inline constexpr MetricInfo kPendingMetric = {
    "rc_watchdog_cancellations_pending", "Cancellations waiting to be (re)tried or confirmed."};
// counter {reason}
inline constexpr MetricInfo kBlockedMetric = {"rc_watchdog_cancellations_blocked_total",
                                              "Cancellations held back by a safety limit."};
// counter {policy}
inline constexpr MetricInfo kWarningsMetric = {"rc_watchdog_warnings_total",
                                               "Jobs past warn_at of a limit."};
// gauge 0/1
inline constexpr MetricInfo kDryRunMetric = {"rc_watchdog_dry_run",
                                             "1 while the global dry-run is in force."};
// counter {operation, code}
inline constexpr MetricInfo kApiRequestsMetric = {"rc_watchdog_api_requests_total",
                                                  "API requests by operation and HTTP status."};
// histogram {operation}
inline constexpr MetricInfo kApiDurationMetric = {"rc_watchdog_api_request_duration_seconds",
                                                  "Duration of API requests."};
// counter {operation}
inline constexpr MetricInfo kRateLimitedMetric = {"rc_watchdog_api_rate_limited_total",
                                                  "429 answers of the API."};
// counter {itwin, type}
inline constexpr MetricInfo kPusMetric = {"rc_watchdog_processing_units_total",
                                          "Processing units of finished jobs."};
// gauge {budget, group}
inline constexpr MetricInfo kBudgetSpentMetric = {"rc_watchdog_budget_spent_processing_units",
                                                  "Processing units spent in the current window."};
// gauge {budget}
inline constexpr MetricInfo kBudgetLimitMetric = {"rc_watchdog_budget_limit_processing_units",
                                                  "Processing-unit limit of a budget per window."};
// gauge 0/1
inline constexpr MetricInfo kReloadOkMetric = {"rc_watchdog_config_last_reload_successful",
                                               "1 if the last configuration load succeeded."};
// gauge
inline constexpr MetricInfo kReloadTimeMetric = {
    "rc_watchdog_config_last_reload_success_timestamp_seconds",
    "Unix time of the last successful configuration load."};
// gauge
inline constexpr MetricInfo kClockSkewMetric = {"rc_watchdog_clock_skew_seconds",
                                                "The API's Date header minus the local clock."};
// counter {kind = full | incremental, outcome = complete | incomplete}
// gauge {budget}
inline constexpr MetricInfo kBudgetWarnRatioMetric = {
    "rc_watchdog_budget_warn_ratio",
    "The budget's warn_at: the fraction of its limit at which it warns (absent without warn_at)."};
// counter {outcome}
inline constexpr MetricInfo kNotificationsMetric = {
    "rc_watchdog_notifications_total", "Alerts pushed to Alertmanager, by outcome (sent, failed, dropped)."};
// gauge
inline constexpr MetricInfo kNotificationsQueuedMetric = {
    "rc_watchdog_notifications_queued",
    "Alerts waiting to be (re)sent to Alertmanager, summed over the Alertmanagers."};
inline constexpr MetricInfo kListingsMetric = {
    "rc_watchdog_listings_total",
    "Listings of all watched iTwins, by kind (full lookback or incremental) and outcome."};

}  // namespace rcw
