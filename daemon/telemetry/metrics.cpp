// The one translation unit that includes prometheus-cpp.
#include "telemetry/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <utility>

#include "base/version.h"
#include "telemetry/budget_series.h"
#include "telemetry/listen_address.h"
#include "telemetry/metric_names.h"
#include "telemetry/process_stats.h"

namespace rcw {
namespace {

namespace pm = prometheus;
using CounterFamily = pm::Family<pm::Counter>;
using GaugeFamily = pm::Family<pm::Gauge>;
using HistogramFamily = pm::Family<pm::Histogram>;

// Poll cycles list every page of up to 1000 jobs: tens of ms to a minute.
const pm::Histogram::BucketBoundaries kPollBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
// Single API requests: 10 ms to the default 30 s timeout.
const pm::Histogram::BucketBoundaries kApiBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,    2.5,   5,    10,  30};

CounterFamily& NewCounter(pm::Registry& r, const MetricInfo& m) {
  return pm::BuildCounter().Name(m.name).Help(m.help).Register(r);
}
GaugeFamily& NewGauge(pm::Registry& r, const MetricInfo& m) {
  return pm::BuildGauge().Name(m.name).Help(m.help).Register(r);
}
HistogramFamily& NewHistogram(pm::Registry& r, const MetricInfo& m) {
  return pm::BuildHistogram().Name(m.name).Help(m.help).Register(r);
}

pm::Labels L(std::string_view k, std::string_view v) { return {{std::string(k), std::string(v)}}; }
pm::Labels L(std::string_view k1, std::string_view v1, std::string_view k2, std::string_view v2) {
  return {{std::string(k1), std::string(v1)}, {std::string(k2), std::string(v2)}};
}

void RemoveSeries(GaugeFamily& family, const pm::Labels& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

void SetJobsTo(GaugeFamily& family, const JobCounts& counts) {
  for (int s = 0; s < kJobStateCount; ++s) {
    for (int t = 0; t < kJobTypeCount; ++t) {
      auto labels =
          L("state", ToString(static_cast<JobState>(s)), "type", ToString(static_cast<JobType>(t)));
      family.Add(labels).Set(static_cast<double>(counts[s][t]));
    }
  }
}

// process_* metrics, read from /proc at every scrape (prometheus-cpp has none).
class ProcessCollector final : public pm::Collectable {
 public:
  std::vector<pm::MetricFamily> Collect() const override {
    Result<ProcessStats> stats = ReadProcessStats();
    if (!stats.ok()) return {};
    std::vector<pm::MetricFamily> out;
    for (const ProcessSample& s : ToSamples(*stats)) {
      pm::ClientMetric metric;
      metric.counter.value = metric.gauge.value = s.value;
      auto type = s.counter ? pm::MetricType::Counter : pm::MetricType::Gauge;
      out.push_back(pm::MetricFamily{s.name, s.help, type, {metric}});
    }
    return out;
  }
};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<pm::Registry> registry = std::make_shared<pm::Registry>();
  std::shared_ptr<ProcessCollector> process = std::make_shared<ProcessCollector>();
  pm::Registry& r = *registry;

  GaugeFamily& build_info = NewGauge(r, kBuildInfoMetric);
  GaugeFamily& jobs = NewGauge(r, kJobsMetric);
  CounterFamily& polls = NewCounter(r, kPollsMetric);
  HistogramFamily& poll_duration = NewHistogram(r, kPollDurationMetric);
  GaugeFamily& last_poll = NewGauge(r, kLastPollMetric);
  CounterFamily& violations = NewCounter(r, kViolationsMetric);
  CounterFamily& cancellations = NewCounter(r, kCancellationsMetric);
  CounterFamily& confirmed = NewCounter(r, kConfirmedMetric);
  GaugeFamily& pending = NewGauge(r, kPendingMetric);
  CounterFamily& blocked = NewCounter(r, kBlockedMetric);
  CounterFamily& warnings = NewCounter(r, kWarningsMetric);
  GaugeFamily& dry_run = NewGauge(r, kDryRunMetric);
  CounterFamily& api_requests = NewCounter(r, kApiRequestsMetric);
  HistogramFamily& api_duration = NewHistogram(r, kApiDurationMetric);
  CounterFamily& rate_limited = NewCounter(r, kRateLimitedMetric);
  CounterFamily& pus = NewCounter(r, kPusMetric);
  GaugeFamily& budget_spent = NewGauge(r, kBudgetSpentMetric);
  GaugeFamily& budget_limit = NewGauge(r, kBudgetLimitMetric);
  GaugeFamily& reload_ok = NewGauge(r, kReloadOkMetric);
  GaugeFamily& reload_time = NewGauge(r, kReloadTimeMetric);
  GaugeFamily& clock_skew = NewGauge(r, kClockSkewMetric);
  CounterFamily& listings = NewCounter(r, kListingsMetric);
  GaugeFamily& budget_warn_ratio = NewGauge(r, kBudgetWarnRatioMetric);
  CounterFamily& notifications = NewCounter(r, kNotificationsMetric);
  GaugeFamily& notifications_queued = NewGauge(r, kNotificationsQueuedMetric);

  BudgetSeries budget_series;

  std::string host;
  int port = 0;
  std::unique_ptr<pm::Exposer> exposer;  // last: destroyed first

  Impl() { DeclareStatic(); }
  ~Impl() {
    if (!exposer) return;
    ListenerWaker waker(host, port);  // ~Exposer in ms, not 2 s
    exposer.reset();
  }
  void DeclareStatic();
  void DeclareName(const std::string& name, bool is_budget);
  void RemoveSpent(const std::vector<BudgetSeries::SpentKey>& stale);
  Status Listen(const std::string& listen);
};

void Metrics::Impl::DeclareStatic() {
  build_info.Add({{"version", kVersion}, {"revision", kGitRevision}}).Set(1);
  SetJobsTo(jobs, JobCounts{});
  for (auto outcome : {"success", "error"}) polls.Add(L("outcome", outcome));
  poll_duration.Add({}, kPollBuckets);
  last_poll.Add({});
  pending.Add({});
  for (auto outcome : {"sent", "failed", "dropped"}) notifications.Add(L("outcome", outcome));
  notifications_queued.Add({});
  for (auto reason : kBlockReasons) blocked.Add(L("reason", reason));
  dry_run.Add({});
  for (auto op : kApiOperations) {
    api_requests.Add(L("operation", op, "code", "200"));
    api_duration.Add(L("operation", op), kApiBuckets);
    rate_limited.Add(L("operation", op));
  }
  reload_ok.Add({});
  reload_time.Add({});
  clock_skew.Add({});
  for (auto kind : {"full", "incremental"}) {
    for (auto outcome : {"complete", "incomplete"}) {
      listings.Add(L("kind", kind, "outcome", outcome));
    }
  }
}

void Metrics::Impl::DeclareName(const std::string& name, bool is_budget) {
  if (is_budget) {
    violations.Add(L("policy", name, "limit", "budget"));
  } else {
    for (auto limit : kViolationLimits) {
      if (limit != "budget") violations.Add(L("policy", name, "limit", limit));
    }
  }
  for (auto outcome : kCancelOutcomes) cancellations.Add(L("policy", name, "outcome", outcome));
  confirmed.Add(L("policy", name));
  warnings.Add(L("policy", name));
}

void Metrics::Impl::RemoveSpent(const std::vector<BudgetSeries::SpentKey>& stale) {
  for (const auto& [budget, group] : stale) {
    RemoveSeries(budget_spent, L("budget", budget, "group", group));
  }
}

Status Metrics::Impl::Listen(const std::string& listen) {
  Result<ListenAddress> address = ParseListenAddress(listen);
  if (!address.ok()) return address.status();
  try {
    exposer = std::make_unique<pm::Exposer>(listen, 2);
  } catch (const std::exception& e) {  // CivetException: busy port, foreign address
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + listen + " for metrics: " + e.what());
  }
  exposer->RegisterCollectable(registry);
  exposer->RegisterCollectable(process);
  std::vector<int> ports = exposer->GetListeningPorts();
  host = address->host;
  port = ports.empty() ? address->port : ports.front();
  return Status::Ok();
}

Metrics::Metrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Metrics::~Metrics() = default;

Result<std::unique_ptr<Metrics>> Metrics::Create(const std::string& listen) {
  auto impl = std::make_unique<Impl>();
  if (!listen.empty()) {
    Status status = impl->Listen(listen);
    if (!status.ok()) return status;
  }
  return std::unique_ptr<Metrics>(new Metrics(std::move(impl)));
}

int Metrics::port() const { return impl_->port; }

std::string Metrics::Render() const {
  std::vector<pm::MetricFamily> families = impl_->registry->Collect();
  for (auto& family : impl_->process->Collect()) families.push_back(std::move(family));
  return pm::TextSerializer().Serialize(families);
}

void Metrics::DeclarePolicies(const std::vector<std::string>& policies,
                              const std::vector<std::string>& budgets) {
  for (const auto& policy : policies) impl_->DeclareName(policy, false);
  for (const auto& budget : budgets) impl_->DeclareName(budget, true);
  BudgetSeries::Dropped dropped = impl_->budget_series.Retain(budgets);
  impl_->RemoveSpent(dropped.spent);
  for (const auto& budget : dropped.limits) {
    RemoveSeries(impl_->budget_limit, L("budget", budget));
    RemoveSeries(impl_->budget_warn_ratio, L("budget", budget));
  }
}

void Metrics::SetJobs(const JobCounts& counts) { SetJobsTo(impl_->jobs, counts); }

void Metrics::PollFinished(bool success, double seconds, TimePoint when) {
  impl_->polls.Add(L("outcome", success ? "success" : "error")).Increment();
  impl_->poll_duration.Add({}, kPollBuckets).Observe(seconds);
  if (success) impl_->last_poll.Add({}).Set(ToUnixSeconds(when));
}

void Metrics::Violation(std::string_view policy, std::string_view limit) {
  impl_->violations.Add(L("policy", policy, "limit", limit)).Increment();
}

void Metrics::Warning(std::string_view policy) {
  impl_->warnings.Add(L("policy", policy)).Increment();
}

void Metrics::CancellationFinished(std::string_view policy, std::string_view outcome) {
  impl_->cancellations.Add(L("policy", policy, "outcome", outcome)).Increment();
}

void Metrics::CancellationConfirmed(std::string_view policy) {
  impl_->confirmed.Add(L("policy", policy)).Increment();
}

void Metrics::SetCancellationsPending(std::int64_t n) {
  impl_->pending.Add({}).Set(static_cast<double>(n));
}

void Metrics::CancellationBlocked(std::string_view reason) {
  impl_->blocked.Add(L("reason", reason)).Increment();
}

void Metrics::SetDryRun(bool dry_run) { impl_->dry_run.Add({}).Set(dry_run ? 1 : 0); }

void Metrics::ApiRequest(std::string_view operation, long http_status, double seconds) {
  std::string code = http_status == 0 ? "error" : std::to_string(http_status);
  impl_->api_requests.Add(L("operation", operation, "code", code)).Increment();
  impl_->api_duration.Add(L("operation", operation), kApiBuckets).Observe(seconds);
}

void Metrics::ApiRateLimited(std::string_view operation) {
  impl_->rate_limited.Add(L("operation", operation)).Increment();
}

void Metrics::ProcessingUnits(std::string_view itwin, std::string_view type, double pu) {
  if (!(pu >= 0)) return;  // NaN or negative would break a counter
  impl_->pus.Add(L("itwin", itwin, "type", type)).Increment(pu);
}

void Metrics::BeginBudgetUpdate() { impl_->budget_series.Begin(); }

void Metrics::SetBudget(std::string_view budget, std::string_view group, double spent) {
  impl_->budget_spent.Add(L("budget", budget, "group", group)).Set(spent);
  impl_->budget_series.Spent(budget, group);
}

void Metrics::EndBudgetUpdate() { impl_->RemoveSpent(impl_->budget_series.End()); }

void Metrics::SetBudgetLimit(std::string_view budget, double limit) {
  impl_->budget_limit.Add(L("budget", budget)).Set(limit);
  impl_->budget_series.Limit(budget);
}

void Metrics::SetBudgetWarnRatio(std::string_view budget, std::optional<double> ratio) {
  if (ratio) {
    impl_->budget_warn_ratio.Add(L("budget", budget)).Set(*ratio);
  } else {
    RemoveSeries(impl_->budget_warn_ratio, L("budget", budget));
  }
}

void Metrics::Notifications(std::string_view outcome, std::size_t count) {
  impl_->notifications.Add(L("outcome", outcome)).Increment(static_cast<double>(count));
}

void Metrics::SetNotificationsQueued(std::size_t queued) {
  impl_->notifications_queued.Add({}).Set(static_cast<double>(queued));
}

void Metrics::ConfigReloaded(bool ok, TimePoint when) {
  impl_->reload_ok.Add({}).Set(ok ? 1 : 0);
  if (ok) impl_->reload_time.Add({}).Set(ToUnixSeconds(when));
}

void Metrics::SetClockSkew(double seconds) { impl_->clock_skew.Add({}).Set(seconds); }

void Metrics::ListingFinished(bool full, bool complete) {
  impl_->listings
      .Add(
          L("kind", full ? "full" : "incremental", "outcome", complete ? "complete" : "incomplete"))
      .Increment();
}

}  // namespace rcw
