#include "service/signal_waiter.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>

namespace rcw {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

timespec ToTimespec(std::chrono::steady_clock::duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d - s);
  return timespec{static_cast<time_t>(s.count()), static_cast<long>(ns.count())};
}

}  // namespace

bool SignalWaiter::WaitFor(Millis duration) {
  if (stop_requested_) return false;
  if (before_wait_) before_wait_();
  const sigset_t set = StopSignals();
  // Measured on the monotonic clock: EINTR (a signal outside the set, e.g.
  // SIGCHLD with a handler) resumes the wait for what is left of it.
  auto end = std::chrono::steady_clock::now() + std::max(duration, Millis{0});
  while (true) {
    auto left = std::max(end - std::chrono::steady_clock::now(),
                         std::chrono::steady_clock::duration::zero());
    timespec ts = ToTimespec(left);
    int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      stop_requested_ = true;
      signal_ = sig;
      ::raise(sig);  // blocked: stays pending for the main loop
      return false;
    }
    if (sig < 0 && errno == EINTR) continue;
    return true;  // EAGAIN: the time has passed
  }
}

}  // namespace rcw
