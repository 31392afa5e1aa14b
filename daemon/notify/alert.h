// Alert: one per-job alert for Prometheus Alertmanager (docs/alerts.md), as a
// plain value, and its JSON form for POST /api/v2/alerts.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "config/config.h"

namespace rcw {

inline constexpr std::string_view kNearLimit = "RcWatchdogJobNearLimit";
inline constexpr std::string_view kCancelled = "RcWatchdogJobCancelled";
inline constexpr std::string_view kOverLimit = "RcWatchdogJobOverLimit";

struct Alert {
  AlertLabels labels;       // sorted by name, each name once: the alert's identity
  AlertLabels annotations;  // summary, description, observed, threshold, cancel_at
  TimePoint starts_at{};
  // A fixed end (RcWatchdogJobCancelled: an hour after the cancellation).
  // Unset: the alert fires until it is resolved, and each send says it ends
  // a few resend intervals later (so it resolves by itself if we stop).
  std::optional<TimePoint> ends_at;

  // The labels as one text, "name=value" joined by '\x1f': equal labels,
  // equal alert (as Alertmanager's fingerprint).
  std::string Key() const;
  // The value of a label, "" when absent.
  std::string_view Label(std::string_view name) const;
};

// The body of POST /api/v2/alerts: a JSON array of alerts. An alert without
// ends_at gets endsAt = now + `hold`.
std::string EncodeAlerts(std::span<const Alert> alerts, TimePoint now, Seconds hold);

}  // namespace rcw
