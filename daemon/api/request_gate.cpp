#include "api/request_gate.h"

#include <algorithm>
#include <cmath>

namespace rcw {
namespace {
constexpr Seconds kMinute{60};
constexpr Seconds kHour{3600};
}  // namespace

RequestGate::RequestGate(const Clock& clock, GateOptions options)
    : clock_(clock), options_(options) {
  options_.max_per_minute = std::max(1, options_.max_per_minute);
  options_.max_per_hour = std::max(1, options_.max_per_hour);
  if (!(options_.reserve >= 0)) options_.reserve = 0;  // also catches NaN
  options_.reserve = std::min(options_.reserve, 0.9);
}

int RequestGate::Limit(int max, Priority p) const {
  if (p == Priority::kHigh) return max;
  // Round the reserve up so even a small ceiling keeps a slot for
  // cancellations, but never take the last slot from listing.
  int reserved = static_cast<int>(std::ceil(max * options_.reserve));
  return std::max(1, max - reserved);
}

std::optional<TimePoint> RequestGate::WindowOpensAt(TimePoint now, Seconds length,
                                                    int limit) const {
  // Requests at t count while now - length < t <= now. Records after `now`
  // mean the wall clock stepped back; they are ignored until the next OnSent()
  // re-anchors them, so a step back lets at most one request through early
  // instead of stalling the gate for as long as the step.
  auto first = std::upper_bound(sent_.begin(), sent_.end(), now - length);
  auto last = std::upper_bound(first, sent_.end(), now);
  auto in_window = static_cast<int>(last - first);
  if (in_window < limit) return std::nullopt;
  // One more fits once the (in_window - limit + 1) oldest have left.
  return *(first + (in_window - limit)) + length;
}

std::optional<TimePoint> RequestGate::BlockedUntil(TimePoint now, Priority p) const {
  std::optional<TimePoint> until;
  if (now < blocked_until_) until = blocked_until_;
  // Each bound only moves earlier as time passes without sends, so the latest
  // of them is when all are satisfied.
  for (auto bound : {WindowOpensAt(now, kMinute, Limit(options_.max_per_minute, p)),
                     WindowOpensAt(now, kHour, Limit(options_.max_per_hour, p))}) {
    if (bound && (!until || *bound > *until)) until = bound;
  }
  return until;
}

std::optional<TimePoint> RequestGate::NotBefore(Priority p) const {
  return BlockedUntil(clock_.Now(), p);
}

void RequestGate::OnSent(TimePoint t) {
  // If the wall clock stepped back, re-anchor the later records to `t`: they
  // count again, for a window of the new clock.
  for (auto it = sent_.rbegin(); it != sent_.rend() && *it > t; ++it) *it = t;
  sent_.push_back(t);
  TimePoint horizon = t - kHour;
  while (!sent_.empty() && sent_.front() <= horizon) sent_.pop_front();
}

void RequestGate::BlockUntil(TimePoint t) { blocked_until_ = std::max(blocked_until_, t); }

int RequestGate::SentInLastMinute(TimePoint now) const {
  auto first = std::upper_bound(sent_.begin(), sent_.end(), now - kMinute);
  return static_cast<int>(std::upper_bound(first, sent_.end(), now) - first);
}

}  // namespace rcw
