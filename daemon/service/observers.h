// Bridges from the modules' observer interfaces to the Prometheus metrics
// and the corrected clock. The only place that knows both sides.
#pragma once

#include "api/rc_client.h"
#include "enforce/enforcer.h"
#include "notify/alert_sink.h"
#include "service/corrected_clock.h"
#include "telemetry/metrics.h"

namespace rcw {

class MetricsBridge final : public ApiObserver, public EnforceObserver, public NotifyObserver {
 public:
  MetricsBridge(Metrics* metrics, CorrectedClock& clock) : metrics_(metrics), clock_(clock) {}

  void OnResponse(ApiOperation op, long http_status, double seconds) override {
    if (metrics_) metrics_->ApiRequest(ToString(op), http_status, seconds);
  }
  void OnRateLimited(ApiOperation op) override {
    if (metrics_) metrics_->ApiRateLimited(ToString(op));
  }
  void OnServerDate(TimePoint server_date, TimePoint local_now) override {
    clock_.OnServerDate(server_date, local_now);
    if (metrics_) metrics_->SetClockSkew(clock_.skew_seconds());
  }

  void OnViolation(const std::string& policy, std::string_view limit) override {
    if (metrics_) metrics_->Violation(policy, limit);
  }
  void OnWarning(const std::string& policy) override {
    if (metrics_) metrics_->Warning(policy);
  }
  void OnCancellationFinished(const std::string& policy, std::string_view outcome) override {
    if (metrics_) metrics_->CancellationFinished(policy, outcome);
  }
  void OnConfirmed(const std::string& policy) override {
    if (metrics_) metrics_->CancellationConfirmed(policy);
  }
  void OnBlocked(std::string_view reason, std::size_t count) override {
    for (std::size_t i = 0; metrics_ && i < count; ++i) metrics_->CancellationBlocked(reason);
  }

  // From the notifier's thread: Metrics is thread-safe.
  void OnNotifications(std::string_view outcome, std::size_t count) override {
    if (metrics_) metrics_->Notifications(outcome, count);
  }
  void OnNotificationsQueued(std::size_t queued) override {
    if (metrics_) metrics_->SetNotificationsQueued(queued);
  }

 private:
  Metrics* metrics_;
  CorrectedClock& clock_;
};

}  // namespace rcw
