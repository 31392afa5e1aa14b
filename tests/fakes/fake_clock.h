// FakeClock and FakeWaiter: time that moves only when a test says so.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "base/clock.h"
#include "base/waiter.h"

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

// WaitFor moves `clock` forward by the duration and records it. Set
// interrupt_next to simulate a signal: the next wait returns false at once
// without moving the clock; set `stopped` for a shutdown: every wait does. `on_wait` (optional)
// runs before each wait, e.g. to let other requests take the gate's slots meanwhile.
class FakeWaiter final : public Waiter {
 public:
  explicit FakeWaiter(FakeClock& clock) : clock_(clock) {}

  bool WaitFor(Millis duration) override {
    waits_.push_back(duration);
    if (on_wait) on_wait(duration);
    if (stopped) return false;
    if (interrupt_next) {
      interrupt_next = false;
      return false;
    }
    if (duration > Millis{0}) clock_.Advance(duration);
    return true;
  }

  const std::vector<Millis>& waits() const { return waits_; }
  Millis total() const {
    Millis sum{0};
    for (Millis w : waits_) sum += w;
    return sum;
  }
  bool interrupt_next = false;
  bool stopped = false;
  std::function<void(Millis)> on_wait;

 private:
  FakeClock& clock_;
  std::vector<Millis> waits_;
};

}  // namespace rcw::testing
