// FakeClock and FakeWaiter: time that moves only when a test says so.
#pragma once

#include <chrono>
#include <vector>

#include "base/clock.h"

namespace rcw::testing {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-04-05T14:04:56Z unless told otherwise.
  explicit FakeClock(TimePoint start = TimePoint{std::chrono::seconds{1775397896}}) : now_(start) {}

  TimePoint Now() const override { return now_; }
  void Set(TimePoint t) { now_ = t; }
  template <class Rep, class Period>
  void Advance(std::chrono::duration<Rep, Period> d) {
    now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  }

 private:
  TimePoint now_;
};

// WaitUntil moves `clock` to the deadline (never backwards) and records it.
// Set interrupt_next to simulate a signal: the next wait returns false at once
// without moving the clock.
class FakeWaiter final : public Waiter {
 public:
  explicit FakeWaiter(FakeClock& clock) : clock_(clock) {}

  bool WaitUntil(TimePoint deadline) override {
    deadlines_.push_back(deadline);
    if (interrupt_next) {
      interrupt_next = false;
      return false;
    }
    if (deadline > clock_.Now()) clock_.Set(deadline);
    return true;
  }

  const std::vector<TimePoint>& deadlines() const { return deadlines_; }
  bool interrupt_next = false;

 private:
  FakeClock& clock_;
  std::vector<TimePoint> deadlines_;
};

}  // namespace rcw::testing
