// SignalWaiter: the daemon's Waiter. Waits with sigtimedwait() on SIGTERM and
// SIGINT only, so a shutdown request cuts a wait short (a listing paced
// under the request gate ends incomplete instead of holding the daemon up),
// while SIGHUP stays pending for the main loop.
#pragma once

#include <functional>

#include "base/waiter.h"

namespace rcw {

class SignalWaiter final : public Waiter {
 public:
  // `before_wait` (optional) runs at the start of every wait, e.g. to tell
  // systemd's watchdog that the daemon is alive while a long listing paces
  // itself.
  explicit SignalWaiter(std::function<void()> before_wait = {})
      : before_wait_(std::move(before_wait)) {}

  // REQUIRES: SIGTERM and SIGINT are blocked in the calling thread (RunDaemon
  // blocks them before anything starts). Waits `duration` (negative: none)
  // unless one of them arrives. Returns false at once, without waiting, once
  // one has arrived. The signal is raised again after it is taken, so it stays
  // pending for the main loop (sigpending(), sigtimedwait()) as if this wait
  // had never happened.
  bool WaitFor(Millis duration) override;

  // True once SIGTERM or SIGINT arrived during a wait.
  bool stop_requested() const { return stop_requested_; }
  int signal() const { return signal_; }  // the signal that stopped it, or 0

 private:
  std::function<void()> before_wait_;
  bool stop_requested_ = false;
  int signal_ = 0;
};

}  // namespace rcw
