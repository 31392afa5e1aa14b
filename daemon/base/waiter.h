// Waiting as an interface: the daemon waits for signals while it waits for
// time (service/signal_waiter.h); tests move a FakeClock instead of sleeping
// (tests/fakes/fake_clock.h).
#pragma once

#include "base/clock.h"

namespace rcw {

class Waiter {
 public:
  virtual ~Waiter() = default;
  // Blocks for `duration` (a duration, not a deadline: callers measure it on
  // their own clock, e.g. the RequestGate's, which need not be the caller's).
  // Returns true once it has passed; false when interrupted early (shutdown):
  // the caller should give up what it was waiting for, not wait again.
  virtual bool WaitFor(Millis duration) = 0;
};

}  // namespace rcw
