// RequestGate: the client-side ceiling on requests to the iTwin platform,
// shared by every call (token, list, get, cancel).
//
// Three limits: at most max_per_minute requests in any sliding 60 s window,
// at most max_per_hour in any sliding hour (the smallest iTwin tier allows
// 500/min and 5000/hour), and nothing at all before a time set from a 429's
// retry-after. A share `reserve` of each window is kept for Priority::kHigh
// (cancellations), so listing cannot starve them when the budget is tight.
// The gate only answers and records; it never waits.
#pragma once

#include <deque>
#include <optional>

#include "base/clock.h"

namespace rcw {

enum class Priority {
  kNormal,  // listing, polling: may not use the reserved slots
  kHigh,    // cancellations (and token requests, which everything needs)
};

struct GateOptions {
  int max_per_minute = 250;  // api.max_requests_per_minute; at least 1
  int max_per_hour = 4500;   // below the smallest tier's 5000/hour; at least 1
  double reserve = 0.10;     // fraction of each window kept for kHigh, in [0, 1)
};

class RequestGate {
 public:
  // `clock` must outlive the gate. Out-of-range options are clamped.
  explicit RequestGate(const Clock& clock, GateOptions options = {});

  // nullopt when a request of priority `p` may be sent at `now`; otherwise the
  // earliest time it may, if nothing else is sent meanwhile.
  std::optional<TimePoint> BlockedUntil(TimePoint now, Priority p = Priority::kNormal) const;
  bool MaySend(TimePoint now, Priority p) const { return !BlockedUntil(now, p); }
  // BlockedUntil(clock.Now(), p): when the daemon should next try.
  std::optional<TimePoint> NotBefore(Priority p = Priority::kNormal) const;

  // Records a request sent at `t` (whether or not it was answered).
  void OnSent(TimePoint t);
  // Nothing may be sent before `t`; an earlier `t` than the current block is
  // ignored.
  void BlockUntil(TimePoint t);

  // Requests recorded in the 60 s before `now`.
  int SentInLastMinute(TimePoint now) const;
  const GateOptions& options() const { return options_; }

 private:
  // When the window of `length` ending at `now` has room for one more
  // request under `limit`; nullopt when it has room now.
  std::optional<TimePoint> WindowOpensAt(TimePoint now, Seconds length, int limit) const;
  int Limit(int max, Priority p) const;

  const Clock& clock_;
  GateOptions options_;
  std::deque<TimePoint> sent_;  // ascending; pruned to the last hour
  TimePoint blocked_until_{};
};

}  // namespace rcw
